package main

import (
	"bufio"
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"syscall"
	"time"
)

// streamPass is one run of `coverage audit` over the whole input.
type streamPass struct {
	Pass        int     `json:"pass"`
	Settlements int     `json:"settlements"`
	Results     int     `json:"results"`
	Rejects     int     `json:"rejects"`
	WallS       float64 `json:"wall_s"`
	PerSecond   float64 `json:"per_second"`
	ClientCPUS  float64 `json:"client_cpu_s"`
	ClientRSS   int64   `json:"client_maxrss_kib"`
	Exit        int     `json:"exit"`
}

// streamReport is what `loadkit stream` writes.
type streamReport struct {
	Command      []string     `json:"command"`
	Settlements  int          `json:"settlements_per_pass"`
	Passes       []streamPass `json:"passes"`
	TotalWallS   float64      `json:"total_wall_s"`
	MedianRate   float64      `json:"median_per_second"`
	MinRate      float64      `json:"min_per_second"`
	MaxRate      float64      `json:"max_per_second"`
	Errors       int          `json:"errors"`
	ClientCPUS   float64      `json:"client_cpu_s"`
	FirstSummary string       `json:"first_pass_stdout"`
}

// streamCmd audits the same JSONL file through `coverage audit` (the
// AuditStream client) again and again until -duration has passed (at least
// -min-passes times), each pass from scratch, and reports settlements per
// second per pass.
func streamCmd(args []string) error {
	fs := flag.NewFlagSet("stream", flag.ContinueOnError)
	cli := fs.String("cli", "", "the coverage CLI binary")
	server := fs.String("server", "", "gRPC address of the server")
	in := fs.String("in", "", "JSONL input")
	work := fs.String("work", os.TempDir(), "folder for the results files")
	duration := fs.Duration("duration", 30*time.Second, "keep making passes until this much time has passed")
	minPasses := fs.Int("min-passes", 3, "passes at least")
	streams := fs.Int("streams", 4, "--streams of the CLI")
	report := fs.String("report", "", "JSON report file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	n, err := countLines(*in)
	if err != nil {
		return err
	}
	rep := streamReport{Settlements: n}
	start := time.Now()
	for i := 0; i < *minPasses || time.Since(start) < *duration; i++ {
		out := filepath.Join(*work, fmt.Sprintf("stream-out-%d.jsonl", i))
		argv := []string{"--server", *server, "audit", "--in", *in, "--out", out, "--progress", "none",
			"--streams", fmt.Sprint(*streams), "--overwrite"}
		if i == 0 {
			rep.Command = append([]string{filepath.Base(*cli)}, argv...)
		}
		var stdout bytes.Buffer
		cmd := exec.Command(*cli, argv...)
		cmd.Stdout, cmd.Stderr = &stdout, os.Stderr
		t0 := time.Now()
		runErr := cmd.Run()
		p := streamPass{Pass: i, Settlements: n, WallS: time.Since(t0).Seconds()}
		p.PerSecond = float64(n) / p.WallS
		if cmd.ProcessState != nil {
			p.Exit = cmd.ProcessState.ExitCode()
			if ru, ok := cmd.ProcessState.SysUsage().(*syscall.Rusage); ok {
				p.ClientCPUS = time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
				p.ClientRSS = ru.Maxrss
			}
		} else if runErr != nil {
			return runErr
		}
		p.Results, _ = countLines(out)
		p.Rejects, _ = countLines(out + ".rejects.txt")
		if i == 0 {
			rep.FirstSummary = stdout.String()
		}
		for _, suffix := range []string{"", ".summary.json", ".rejects.txt"} {
			os.Remove(out + suffix)
		}
		fmt.Fprintf(os.Stderr, "stream pass %d: %d settlements in %.2f s = %.0f/s (client %.2f s CPU), %d results, %d rejects, exit %d\n",
			i, n, p.WallS, p.PerSecond, p.ClientCPUS, p.Results, p.Rejects, p.Exit)
		rep.Passes = append(rep.Passes, p)
		rep.TotalWallS += p.WallS
		rep.ClientCPUS += p.ClientCPUS
		// A settlement the server could not audit is a reject (and may or may
		// not have a line in the output); a failed run may leave lines missing.
		e := max(n-p.Results, p.Rejects)
		if e == 0 && p.Exit != 0 {
			e = 1
		}
		rep.Errors += e
		if p.Exit == 1 || p.Exit == 2 {
			break // the server is gone or the flags are wrong: more passes would say the same
		}
	}
	var rates []float64
	for _, p := range rep.Passes {
		rates = append(rates, p.PerSecond)
	}
	slices.Sort(rates)
	rep.MedianRate, rep.MinRate, rep.MaxRate = rates[len(rates)/2], rates[0], rates[len(rates)-1]
	if *report != "" {
		return writeJSON(*report, rep)
	}
	return nil
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
