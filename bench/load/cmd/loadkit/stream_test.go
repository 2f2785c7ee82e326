package main

import (
	"path/filepath"
	"strings"
	"testing"
)

// cliStdout is the start of what `coverage audit` prints (clients/cli/audit.go).
const cliStdout = "Audited 10000 settlements against jilin-2014 2014.1.0 in 2.133s: 10000 audited, 0 rejected.\n" +
	"Settlement latency, send to result (10000 answered): p50 21.4 ms, p95 38.0 ms, p99 52.7 ms, max 104 ms.\n" +
	"Results: /tmp/out.jsonl   Summary: /tmp/out.jsonl.summary.json\n\nRULE   COMPLIANT\n"

// TestParseLatency reads the CLI's latency line, with or without its note of
// re-sent settlements, and nothing from output without one.
func TestParseLatency(t *testing.T) {
	want := streamLatency{Answered: 10000, P50: 21.4, P95: 38, P99: 52.7, Max: 104}
	resent := strings.Replace(cliStdout, "104 ms.", "104 ms; 34 re-sent after a lost server, each timed by its answered attempt.", 1)
	small := "Audited 3 settlements against x 1 in 5ms: 3 audited, 0 rejected.\n" +
		"Settlement latency, send to result (3 answered): p50 0.412 ms, p95 0.605 ms, p99 0.605 ms, max 0.605 ms.\n"
	for name, tc := range map[string]struct {
		stdout string
		want   streamLatency
	}{
		"plain":  {cliStdout, want},
		"resent": {resent, want},
		"sub-ms": {small, streamLatency{Answered: 3, P50: 0.412, P95: 0.605, P99: 0.605, Max: 0.605}},
	} {
		got := parseLatency(tc.stdout)
		if got == nil || *got != tc.want {
			t.Errorf("%s: got %+v, want %+v", name, got, tc.want)
		}
	}
	for _, stdout := range []string{"", "Audited 0 settlements against x 1 in 1ms: 0 audited, 0 rejected.\nResults: o   Summary: s\n",
		strings.Replace(cliStdout, "p95 38.0 ms", "p95 — ms", 1)} {
		if got := parseLatency(stdout); got != nil {
			t.Errorf("latency %+v from %q", got, stdout)
		}
	}
}

// TestStreamLatencyRow: the row of the stream scenario gets p50/p95/p99 from
// the median pass by settlements/s and max from every pass; a pass without
// a latency line is left out, and a report with none keeps "—".
func TestStreamLatencyRow(t *testing.T) {
	lat := func(p50, p99, maxMS float64) *streamLatency {
		return &streamLatency{Answered: 100, P50: p50, P95: (p50 + p99) / 2, P99: p99, Max: maxMS}
	}
	rep := streamReport{Settlements: 100, Passes: []streamPass{
		{Pass: 0, PerSecond: 4000, Latency: lat(30, 90, 120)},
		{Pass: 1, PerSecond: 6000, Latency: lat(10, 20, 25)},
		{Pass: 2, PerSecond: 5000, Latency: lat(20, 40, 300)},
		{Pass: 3, PerSecond: 5500},
		{Pass: 4, PerSecond: 4500, Latency: lat(25, 60, 70)},
		{Pass: 5, PerSecond: 5800, Latency: lat(12, 30, 35)},
	}}
	rep.MedianRate = 5000
	rep.summariseLatency()
	if rep.LatencyPass != 2 || *rep.P50 != 20 || *rep.P95 != 30 || *rep.P99 != 40 || *rep.Max != 300 || *rep.P99Min != 20 || *rep.P99Max != 90 {
		t.Fatalf("pass %d: p50 %v p95 %v p99 %v max %v, p99 from %v to %v; want pass 2: 20 30 40 300, 20 to 90",
			rep.LatencyPass, *rep.P50, *rep.P95, *rep.P99, *rep.Max, *rep.P99Min, *rep.P99Max)
	}

	dir := t.TempDir()
	rows := filepath.Join(dir, "rows.jsonl")
	record := func(rep streamReport) row {
		t.Helper()
		path := filepath.Join(dir, "stream.json")
		if err := writeJSON(path, rep); err != nil {
			t.Fatal(err)
		}
		if err := recordCmd([]string{"-rows", rows, "-scenario", "stream-audit", "-stream", path}); err != nil {
			t.Fatal(err)
		}
		got, err := readRows(rows)
		if err != nil {
			t.Fatal(err)
		}
		return got[len(got)-1]
	}
	r := record(rep)
	if r.P50 != 20 || r.P95 != 30 || r.P99 != 40 || r.Max != 300 || !strings.Contains(r.Note, "p50/p95/p99 of pass 2") {
		t.Errorf("row: p50 %v p95 %v p99 %v max %v, note %q", r.P50, r.P95, r.P99, r.Max, r.Note)
	}

	none := streamReport{Settlements: 100, Passes: []streamPass{{Pass: 0, PerSecond: 4000, Exit: 1}}}
	none.summariseLatency()
	if none.LatencyPass != -1 || none.P50 != nil {
		t.Fatalf("without latency lines: pass %d, p50 %v", none.LatencyPass, none.P50)
	}
	if r := record(none); r.P50 != -1 || r.P99 != -1 || r.Max != -1 || num(r.P99) != "—" {
		t.Errorf("without latencies the row has p50 %v p99 %v max %v", r.P50, r.P99, r.Max)
	}
}
