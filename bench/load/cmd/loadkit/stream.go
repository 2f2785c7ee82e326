package main

import (
	"bufio"
	"bytes"
	"cmp"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
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
	// Latency is the pass's settlement latency as the CLI's summary gives
	// it; nil when the pass printed none (it failed, or the CLI is older).
	Latency *streamLatency `json:"latency,omitempty"`
}

// streamLatency is the CLI's "Settlement latency" line: how long the
// settlements waited on their streams, from just before each was sent to the
// receipt of its result, in milliseconds.
type streamLatency struct {
	Answered int64   `json:"answered"`
	P50      float64 `json:"p50_ms"`
	P95      float64 `json:"p95_ms"`
	P99      float64 `json:"p99_ms"`
	Max      float64 `json:"max_ms"`
}

// streamReport is what `loadkit stream` writes.
type streamReport struct {
	Command     []string     `json:"command"`
	Settlements int          `json:"settlements_per_pass"`
	Passes      []streamPass `json:"passes"`
	TotalWallS  float64      `json:"total_wall_s"`
	MedianRate  float64      `json:"median_per_second"`
	MinRate     float64      `json:"min_per_second"`
	MaxRate     float64      `json:"max_per_second"`
	Errors      int          `json:"errors"`
	ClientCPUS  float64      `json:"client_cpu_s"`
	// The row's latencies: p50/p95/p99 of the median pass by settlements/s
	// among the passes that printed them (LatencyPass; with every pass
	// printing them, the pass whose rate is MedianRate), and the longest
	// wait of any pass. Nil (and LatencyPass -1) when no pass printed them.
	LatencyPass int      `json:"latency_pass"`
	P50         *float64 `json:"p50_ms"`
	P95         *float64 `json:"p95_ms"`
	P99         *float64 `json:"p99_ms"`
	Max         *float64 `json:"max_ms"`
	// P99Min and P99Max are the least and the most of the passes' p99s.
	P99Min       *float64 `json:"p99_min_ms"`
	P99Max       *float64 `json:"p99_max_ms"`
	FirstSummary string   `json:"first_pass_stdout"`
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
		p.Latency = parseLatency(stdout.String())
		p.Results, _ = countLines(out)
		p.Rejects, _ = countLines(out + ".rejects.txt")
		if i == 0 {
			rep.FirstSummary = stdout.String()
		}
		for _, suffix := range []string{"", ".summary.json", ".rejects.txt"} {
			os.Remove(out + suffix)
		}
		lat := "no latency line"
		if l := p.Latency; l != nil {
			lat = fmt.Sprintf("latency p50 %s p95 %s p99 %s max %s ms", num(l.P50), num(l.P95), num(l.P99), num(l.Max))
		}
		fmt.Fprintf(os.Stderr, "stream pass %d: %d settlements in %.2f s = %.0f/s (client %.2f s CPU), %s, %d results, %d rejects, exit %d\n",
			i, n, p.WallS, p.PerSecond, p.ClientCPUS, lat, p.Results, p.Rejects, p.Exit)
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
	rep.summariseLatency()
	if *report != "" {
		return writeJSON(*report, rep)
	}
	return nil
}

// latencyLine is the CLI's line (clients/cli/audit.go, writeLatency).
var latencyLine = regexp.MustCompile(`(?m)^Settlement latency, send to result \((\d+) answered\): p50 ([0-9.]+) ms, p95 ([0-9.]+) ms, p99 ([0-9.]+) ms, max ([0-9.]+) ms[.;]`)

// parseLatency reads the latency line of the CLI's standard output; nil when
// there is none.
func parseLatency(stdout string) *streamLatency {
	m := latencyLine.FindStringSubmatch(stdout)
	if m == nil {
		return nil
	}
	var l streamLatency
	var err error
	if l.Answered, err = strconv.ParseInt(m[1], 10, 64); err != nil {
		return nil
	}
	for i, p := range []*float64{&l.P50, &l.P95, &l.P99, &l.Max} {
		if *p, err = strconv.ParseFloat(m[i+2], 64); err != nil {
			return nil
		}
	}
	return &l
}

// summariseLatency sets the report's latencies from its passes': p50, p95
// and p99 of the median pass by settlements/s (the pass whose rate the row
// gives, when every pass has latencies), max over every pass. A median of
// each quantile over the passes would mix passes, and the passes' histograms
// are not at hand to merge.
func (rep *streamReport) summariseLatency() {
	rep.LatencyPass = -1
	var with []streamPass
	for _, p := range rep.Passes {
		if p.Latency != nil {
			with = append(with, p)
		}
	}
	if len(with) == 0 {
		return
	}
	// Sorted as the rates are, so that the middle is the same pass.
	slices.SortStableFunc(with, func(a, b streamPass) int { return cmp.Compare(a.PerSecond, b.PerSecond) })
	mid := with[len(with)/2]
	l := *mid.Latency
	rep.LatencyPass = mid.Pass
	rep.P50, rep.P95, rep.P99 = &l.P50, &l.P95, &l.P99
	maxMS, p99Min, p99Max := l.Max, l.P99, l.P99
	for _, p := range with {
		maxMS = max(maxMS, p.Latency.Max)
		p99Min, p99Max = min(p99Min, p.Latency.P99), max(p99Max, p.Latency.P99)
	}
	rep.Max, rep.P99Min, rep.P99Max = &maxMS, &p99Min, &p99Max
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
