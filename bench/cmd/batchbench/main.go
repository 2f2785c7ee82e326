// Command batchbench measures `coverage audit` end to end: it builds the
// server and the CLI, writes synthetic batches, and for each scenario starts
// a fresh server, runs the CLI against it, and reports the wall time, the
// rate, and the peak resident memory of both processes (from the kernel's
// rusage of each child, so nothing is sampled or guessed).
//
//	go run ./bench/cmd/batchbench                     # every scenario
//	go run ./bench/cmd/batchbench -scenarios towns-10k -repeat 5
//
// Results are printed as a Markdown table and appended as JSON lines to -out.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"sort"
	"strings"
	"syscall"
	"time"
)

type scenario struct {
	name  string
	about string
	n     int // settlements
	stops int // stops per settlement (0: no geometry)
	// target is the bound on the wall time; zero when the scenario
	// measures memory only.
	target time.Duration
}

var scenarios = []scenario{
	{"towns-10k", "10,000 towns without geometry", 10_000, 0, 5 * time.Second},
	{"towns-500-stops-1k", "1,000 towns, each a 500-stop central area", 1_000, 500, 10 * time.Second},
	{"towns-100k", "100,000 towns without geometry (memory)", 100_000, 0, 0},
}

type result struct {
	Scenario     string  `json:"scenario"`
	Settlements  int     `json:"settlements"`
	Run          int     `json:"run"`
	WallSeconds  float64 `json:"wall_seconds"`
	PerSecond    float64 `json:"per_second"`
	ClientMaxRSS int64   `json:"client_max_rss_kib"`
	ServerMaxRSS int64   `json:"server_max_rss_kib"`
	ClientCPU    float64 `json:"client_cpu_seconds"`
	ServerCPU    float64 `json:"server_cpu_seconds"`
	Exit         int     `json:"exit"`
	Time         string  `json:"time"`
	GoVersion    string  `json:"go"`
	CPUs         int     `json:"cpus"`
}

func main() {
	if err := realMain(); err != nil {
		fmt.Fprintln(os.Stderr, "batchbench:", err)
		os.Exit(1)
	}
}

func realMain() error {
	only := flag.String("scenarios", "", "comma-separated scenario names (default all)")
	repeat := flag.Int("repeat", 3, "runs per scenario; the table shows the median")
	out := flag.String("out", "bench/results/batch.jsonl", "JSON lines file to append the results to ('' for none)")
	work := flag.String("work", "", "folder for binaries and inputs (default a temporary one)")
	streams := flag.Int("streams", 4, "--streams of the CLI")
	flag.Parse()

	dir := *work
	if dir == "" {
		var err error
		if dir, err = os.MkdirTemp("", "batchbench"); err != nil {
			return err
		}
		defer os.RemoveAll(dir)
	}
	server, cli := filepath.Join(dir, "coverage-server"), filepath.Join(dir, "coverage")
	for bin, pkg := range map[string]string{server: "./server/cmd/coverage-server", cli: "./clients/cmd/coverage"} {
		if out, err := exec.Command("go", "build", "-o", bin, pkg).CombinedOutput(); err != nil {
			return fmt.Errorf("go build %s: %v\n%s", pkg, err, out)
		}
	}

	var rows []string
	for _, sc := range scenarios {
		if *only != "" && !slices.Contains(strings.Split(*only, ","), sc.name) {
			continue
		}
		input := filepath.Join(dir, sc.name+".jsonl")
		if err := writeInput(input, sc); err != nil {
			return err
		}
		var runs []result
		for i := range *repeat {
			r, err := runOnce(server, cli, input, filepath.Join(dir, fmt.Sprintf("%s-%d.jsonl", sc.name, i)), sc, *streams)
			if err != nil {
				return fmt.Errorf("%s: %w", sc.name, err)
			}
			r.Run = i
			runs = append(runs, r)
			fmt.Fprintf(os.Stderr, "%s run %d: %.2f s, %.0f/s, client %d MiB %.2f s CPU, server %d MiB %.2f s CPU\n",
				sc.name, i, r.WallSeconds, r.PerSecond, r.ClientMaxRSS>>10, r.ClientCPU, r.ServerMaxRSS>>10, r.ServerCPU)
			if *out != "" {
				if err := appendJSON(*out, r); err != nil {
					return err
				}
			}
		}
		sort.Slice(runs, func(a, b int) bool { return runs[a].WallSeconds < runs[b].WallSeconds })
		m := runs[len(runs)/2]
		maxClient, maxServer := int64(0), int64(0)
		for _, r := range runs {
			maxClient, maxServer = max(maxClient, r.ClientMaxRSS), max(maxServer, r.ServerMaxRSS)
		}
		target := "—"
		if sc.target > 0 {
			target = "< " + sc.target.String()
		}
		rows = append(rows, fmt.Sprintf("| %s | %d | %.2f s | %s | %.0f/s | %d MiB | %d MiB |",
			sc.about, sc.n, m.WallSeconds, target, m.PerSecond, maxClient>>10, maxServer>>10))
	}
	fmt.Printf("\n%s, %d CPUs, median of %d runs, --streams %d\n\n", runtime.Version(), runtime.NumCPU(), *repeat, *streams)
	fmt.Println("| scenario | settlements | wall time | target | rate | client peak RSS | server peak RSS |")
	fmt.Println("|---|---|---|---|---|---|---|")
	for _, r := range rows {
		fmt.Println(r)
	}
	return nil
}

// runOnce starts a fresh server (so its peak memory is this run's), audits
// input through the CLI, and stops the server.
func runOnce(server, cli, input, output string, sc scenario, streams int) (result, error) {
	srv := exec.Command(server, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--log-format", "text")
	stderr, err := srv.StderrPipe()
	if err != nil {
		return result{}, err
	}
	srv.Stdout = os.Stderr
	if err := srv.Start(); err != nil {
		return result{}, err
	}
	addr, err := grpcAddress(stderr)
	if err != nil {
		_ = srv.Process.Kill()
		_ = srv.Wait()
		return result{}, err
	}
	go func() { _, _ = bufio.NewReader(stderr).WriteTo(os.Stderr) }()

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	for _, suffix := range []string{"", ".summary.json", ".rejects.txt"} {
		_ = os.Remove(output + suffix)
	}
	cmd := exec.CommandContext(ctx, cli, "--server", addr, "audit", "--in", input, "--out", output,
		"--progress", "none", "--streams", fmt.Sprint(streams))
	cmd.Stdout = nil
	cmd.Stderr = os.Stderr
	start := time.Now()
	runErr := cmd.Run()
	wall := time.Since(start)

	_ = srv.Process.Signal(syscall.SIGTERM)
	_ = srv.Wait()
	r := result{
		Scenario: sc.name, Settlements: sc.n, WallSeconds: wall.Seconds(), PerSecond: float64(sc.n) / wall.Seconds(),
		Time: time.Now().UTC().Format(time.RFC3339), GoVersion: runtime.Version(), CPUs: runtime.NumCPU(),
	}
	if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.ClientMaxRSS = ru.Maxrss
		r.ClientCPU = cpuSeconds(ru)
	}
	if ru, ok := srv.ProcessState.SysUsage().(*syscall.Rusage); ok {
		r.ServerMaxRSS = ru.Maxrss
		r.ServerCPU = cpuSeconds(ru)
	}
	r.Exit = cmd.ProcessState.ExitCode()
	if runErr != nil {
		return r, fmt.Errorf("coverage audit: %v", runErr)
	}
	lines, err := countLines(output)
	if err != nil {
		return r, err
	}
	if lines != sc.n {
		return r, fmt.Errorf("%d results for %d settlements", lines, sc.n)
	}
	return r, nil
}

// grpcAddress reads the server's start-up log line for the gRPC address it bound.
func grpcAddress(stderr interface{ Read([]byte) (int, error) }) (string, error) {
	sc := bufio.NewScanner(stderr)
	for sc.Scan() {
		line := sc.Text()
		fmt.Fprintln(os.Stderr, line)
		if i := strings.Index(line, "grpc="); i >= 0 {
			return strings.Fields(line[i+len("grpc="):])[0], nil
		}
	}
	return "", errors.New("the server exited before logging its address")
}

func cpuSeconds(ru *syscall.Rusage) float64 {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

func countLines(path string) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(nil, 64<<20)
	n := 0
	for sc.Scan() {
		n++
	}
	return n, sc.Err()
}

func appendJSON(path string, r result) error {
	f, err := os.OpenFile(path, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
	if err != nil {
		return err
	}
	data, err := json.Marshal(r)
	if err != nil {
		return err
	}
	_, err = f.Write(append(data, '\n'))
	return errors.Join(err, f.Close())
}

// writeInput writes the scenario's settlements as JSONL: towns of varied
// size and provision, and, for the geometry scenario, county-level cities
// (the kind the coverage rule rates) with a central area of about 6 km² and
// its stops spread at random inside it. Seeded: every run audits the same batch.
func writeInput(path string, sc scenario) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(2014, 2020))
	for i := range sc.n {
		resident := 5000 + rng.IntN(60000)
		elderly := resident * (12 + rng.IntN(14)) / 100
		// With geometry, a county-level city: the kind the coverage rule rates.
		kind := "SETTLEMENT_KIND_TOWN"
		if sc.stops > 0 {
			kind = "SETTLEMENT_KIND_COUNTY_LEVEL_CITY"
		}
		fmt.Fprintf(w, `{"id":"town-%06d","name":"Town %d","kind":%q,"urbanPopulation":%d,"residentPopulation":%d,"elderlyPopulation":%d,"elderlyCareBeds":%d,"facilities":{"standardKindergartens":%d,"communityHealthCentres":%d,"communityHealthStations":%d,"townshipHealthCentres":1}`,
			i, i, kind, resident*8/10, resident, elderly, elderly*rng.IntN(50)/1000, rng.IntN(3), rng.IntN(2), rng.IntN(2))
		if sc.stops > 0 {
			lon, lat := 120+rng.Float64()*10, 40+rng.Float64()*6
			w.WriteString(`,"centralAreaPolygons":{"polygons":[{"rings":[{"positions":[`)
			const vertices = 40
			dLat := 1.4 / 111.32 // about 1.4 km
			dLon := dLat / math.Cos(lat*math.Pi/180)
			for v := 0; v <= vertices; v++ {
				a := 2 * math.Pi * float64(v%vertices) / vertices
				r := 1 + 0.15*math.Sin(3*a)
				if v > 0 {
					w.WriteString(",")
				}
				fmt.Fprintf(w, `{"lon":%.7f,"lat":%.7f}`, lon+dLon*r*math.Cos(a), lat+dLat*r*math.Sin(a))
			}
			w.WriteString(`]}]}]},"busStopPositions":{"positions":[`)
			for s := range sc.stops {
				a, r := 2*math.Pi*rng.Float64(), math.Sqrt(rng.Float64())*1.1
				if s > 0 {
					w.WriteString(",")
				}
				fmt.Fprintf(w, `{"lon":%.7f,"lat":%.7f}`, lon+dLon*r*math.Cos(a), lat+dLat*r*math.Sin(a))
			}
			w.WriteString(`]}`)
		}
		w.WriteString("}\n")
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}
