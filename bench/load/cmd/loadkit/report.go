package main

import (
	"bufio"
	"encoding/json"
	"flag"
	"fmt"
	"math"
	"os"
	"sort"
	"strconv"
	"strings"
)

// row is one measured run, whatever produced it.
type row struct {
	Scenario    string         `json:"scenario"`
	Label       string         `json:"label"`
	Offered     string         `json:"offered"`
	OfferedRate float64        `json:"offered_rate"` // 0: closed loop
	Requests    int64          `json:"requests"`
	Seconds     float64        `json:"seconds"`
	Throughput  float64        `json:"throughput"` // successful calls (or settlements) per second
	P50         float64        `json:"p50_ms"`
	P95         float64        `json:"p95_ms"`
	P99         float64        `json:"p99_ms"`
	Max         float64        `json:"max_ms"`
	Errors      int64          `json:"errors"`
	ErrorKinds  map[string]int `json:"error_kinds,omitempty"`
	// ErrorMessages are ghz's error messages with their counts.
	ErrorMessages map[string]int `json:"error_messages,omitempty"`
	ServerCPU     float64        `json:"server_cpu_s"`
	GenCPU        float64        `json:"generator_cpu_s"`
	// OtherCPU is the CPU the rest of the machine used during the run (the
	// machine's busy time less the server's and the generator's).
	OtherCPU float64 `json:"other_cpu_s"`
	// WallS is the time the CPU figures were taken over: the generator's
	// whole run, warm-up and tail included (the measured window, Seconds,
	// is shorter).
	WallS float64 `json:"wall_s"`
	Raw   string  `json:"raw"`
	Note  string  `json:"note,omitempty"`
	// From grpcload's timeline: how many calls took 20 ms or more, and in
	// how many of the window's seconds (of TimelineSeconds) they ended, so
	// that a tail made by a few bursts can be told from a slow run.
	SlowCalls       int64 `json:"calls_over_20ms"`
	SlowSeconds     int   `json:"seconds_with_calls_over_20ms"`
	TimelineSeconds int   `json:"timeline_seconds"`
}

// ghzReport is the part of ghz's JSON report that is read here (durations
// are nanoseconds).
type ghzReport struct {
	Count               int64          `json:"count"`
	Total               int64          `json:"total"`
	Slowest             int64          `json:"slowest"`
	Rps                 float64        `json:"rps"`
	ErrorDist           map[string]int `json:"errorDistribution"`
	StatusCodeDist      map[string]int `json:"statusCodeDistribution"`
	LatencyDistribution []struct {
		Percentage int   `json:"percentage"`
		Latency    int64 `json:"latency"`
	} `json:"latencyDistribution"`
}

// vegetaReport is the part of `vegeta report -type=json` read here.
type vegetaReport struct {
	Latencies struct {
		P50 int64 `json:"50th"`
		P95 int64 `json:"95th"`
		P99 int64 `json:"99th"`
		Max int64 `json:"max"`
	} `json:"latencies"`
	Duration    int64          `json:"duration"`
	Wait        int64          `json:"wait"`
	Requests    int64          `json:"requests"`
	Throughput  float64        `json:"throughput"`
	StatusCodes map[string]int `json:"status_codes"`
	Errors      []string       `json:"errors"`
}

// grpcloadReport is the part of grpcload's JSON report read here.
type grpcloadReport struct {
	Sent       int64            `json:"sent"`
	Errors     int64            `json:"errors"`
	ErrorKind  map[string]int64 `json:"error_kinds"`
	ElapsedS   float64          `json:"elapsed_s"`
	Throughput float64          `json:"throughput"`
	Latency    struct {
		P50 float64 `json:"p50"`
		P95 float64 `json:"p95"`
		P99 float64 `json:"p99"`
		Max float64 `json:"max"`
	} `json:"latency_ms"`
	Timeline []struct {
		Over20MS int64 `json:"over_20ms"`
	} `json:"timeline"`
}

// trimGhzCmd copies a ghz JSON report without its per-request details
// (one entry per call: tens of megabytes for a 30 s run).
func trimGhzCmd(args []string) error {
	if len(args) != 2 {
		return fmt.Errorf("usage: loadkit trim-ghz IN OUT")
	}
	var m map[string]json.RawMessage
	if err := readJSON(args[0], &m); err != nil {
		return err
	}
	delete(m, "details")
	return writeJSON(args[1], m)
}

func recordCmd(args []string) error {
	fs := flag.NewFlagSet("record", flag.ContinueOnError)
	rows := fs.String("rows", "", "JSON lines file to append the row to")
	var r row
	fs.StringVar(&r.Scenario, "scenario", "", "scenario key")
	fs.StringVar(&r.Label, "label", "", "what was sent")
	fs.StringVar(&r.Offered, "offered", "", "the load offered, in words")
	fs.Float64Var(&r.OfferedRate, "rate", 0, "offered rate per second (0: closed loop)")
	fs.Float64Var(&r.ServerCPU, "server-cpu", 0, "server CPU seconds during the run")
	genUsage := fs.String("gen-rusage", "", "the generator's rusage file (loadkit exec)")
	systemCPU := fs.Float64("system-cpu", -1, "busy CPU seconds of the whole machine during the run")
	fs.StringVar(&r.Raw, "raw", "", "raw output file, for reference")
	fs.StringVar(&r.Note, "note", "", "a note")
	ghz := fs.String("ghz", "", "ghz JSON report")
	grpcload := fs.String("grpcload", "", "grpcload JSON report")
	vegeta := fs.String("vegeta", "", "vegeta JSON report")
	stream := fs.String("stream", "", "loadkit stream report")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ms := func(ns int64) float64 { return float64(ns) / 1e6 }
	switch {
	case *ghz != "":
		var g ghzReport
		if err := readJSON(*ghz, &g); err != nil {
			return err
		}
		r.Requests, r.Seconds = g.Count, float64(g.Total)/1e9
		r.ErrorKinds = map[string]int{}
		for code, n := range g.StatusCodeDist {
			if code != "OK" {
				r.Errors += int64(n)
				r.ErrorKinds[code] += n
			}
		}
		for msg, n := range g.ErrorDist {
			if r.ErrorMessages == nil {
				r.ErrorMessages = map[string]int{}
			}
			r.ErrorMessages[shorten(msg)] += n
		}
		if len(r.ErrorKinds) == 0 {
			r.ErrorKinds = nil
		}
		if r.Seconds > 0 {
			r.Throughput = float64(r.Requests-r.Errors) / r.Seconds
		}
		for _, l := range g.LatencyDistribution {
			switch l.Percentage {
			case 50:
				r.P50 = ms(l.Latency)
			case 95:
				r.P95 = ms(l.Latency)
			case 99:
				r.P99 = ms(l.Latency)
			}
		}
		r.Max = ms(g.Slowest)
	case *grpcload != "":
		var g grpcloadReport
		if err := readJSON(*grpcload, &g); err != nil {
			return err
		}
		r.Requests, r.Seconds, r.Throughput, r.Errors = g.Sent, g.ElapsedS, g.Throughput, g.Errors
		r.P50, r.P95, r.P99, r.Max = g.Latency.P50, g.Latency.P95, g.Latency.P99, g.Latency.Max
		r.TimelineSeconds = len(g.Timeline)
		for _, sec := range g.Timeline {
			if sec.Over20MS > 0 {
				r.SlowCalls += sec.Over20MS
				r.SlowSeconds++
			}
		}
		for k, n := range g.ErrorKind {
			if r.ErrorKinds == nil {
				r.ErrorKinds = map[string]int{}
			}
			r.ErrorKinds[k] = int(n)
		}
	case *vegeta != "":
		var v vegetaReport
		if err := readJSON(*vegeta, &v); err != nil {
			return err
		}
		r.Requests, r.Seconds, r.Throughput = v.Requests, float64(v.Duration+v.Wait)/1e9, v.Throughput
		r.P50, r.P95, r.P99, r.Max = ms(v.Latencies.P50), ms(v.Latencies.P95), ms(v.Latencies.P99), ms(v.Latencies.Max)
		for code, n := range v.StatusCodes {
			if code != "200" {
				r.Errors += int64(n)
				if r.ErrorKinds == nil {
					r.ErrorKinds = map[string]int{}
				}
				r.ErrorKinds["HTTP "+code] += n
			}
		}
	case *stream != "":
		var s streamReport
		if err := readJSON(*stream, &s); err != nil {
			return err
		}
		r.Requests = int64(s.Settlements * len(s.Passes))
		r.Seconds, r.Throughput, r.Errors = s.TotalWallS, s.MedianRate, int64(s.Errors)
		orNaN := func(p *float64) float64 {
			if p == nil {
				return math.NaN()
			}
			return *p
		}
		r.P50, r.P95, r.P99, r.Max = orNaN(s.P50), orNaN(s.P95), orNaN(s.P99), orNaN(s.Max)
		r.GenCPU = s.ClientCPUS
		if r.Note == "" {
			r.Note = fmt.Sprintf("%d passes of %d settlements; settlements/s per pass: median %.0f, min %.0f, max %.0f",
				len(s.Passes), s.Settlements, s.MedianRate, s.MinRate, s.MaxRate)
			if s.P50 != nil {
				r.Note += fmt.Sprintf("; settlement latency (send to result, as the CLI reports it): p50/p95/p99 of pass %d, the median by settlements/s, max over every pass; p99 per pass from %s to %s ms",
					s.LatencyPass, num(orNaN(s.P99Min)), num(orNaN(s.P99Max)))
			} else {
				r.Note += "; no pass reported its settlement latency"
			}
		}
	default:
		return fmt.Errorf("one of -grpcload, -ghz, -vegeta, -stream is required")
	}
	if *genUsage != "" {
		var u usage
		if err := readJSON(*genUsage, &u); err != nil {
			return err
		}
		r.GenCPU = u.CPUS
		r.WallS = u.WallS
	}
	if r.WallS == 0 {
		r.WallS = r.Seconds
	}
	if *systemCPU >= 0 {
		r.OtherCPU = max(*systemCPU-r.ServerCPU-r.GenCPU, 0)
	}
	if *rows != "" {
		f, err := os.OpenFile(*rows, os.O_APPEND|os.O_CREATE|os.O_WRONLY, 0o644)
		if err != nil {
			return err
		}
		data, err := json.Marshal(nanToNull(r))
		if err != nil {
			return err
		}
		f.Write(append(data, '\n'))
		if err := f.Close(); err != nil {
			return err
		}
	}
	fmt.Fprintf(os.Stderr, "%s: %s, %d calls in %.1f s = %.0f/s, p50 %s p95 %s p99 %s ms, %d errors; CPU server %.1f s, generator %.1f s, other processes %.1f s\n",
		r.Scenario, r.Offered, r.Requests, r.Seconds, r.Throughput, num(r.P50), num(r.P95), num(r.P99), r.Errors, r.ServerCPU, r.GenCPU, r.OtherCPU)
	return nil
}

// nanToNull: encoding/json refuses NaN; a row without latencies stores -1.
func nanToNull(r row) row {
	for _, p := range []*float64{&r.P50, &r.P95, &r.P99, &r.Max} {
		if math.IsNaN(*p) {
			*p = -1
		}
	}
	return r
}

func shorten(s string) string {
	if len(s) > 120 {
		return s[:120] + "…"
	}
	return s
}

// readRows reads rows as JSON lines (what record appends) or as one JSON
// array (what table -json writes).
func readRows(path string) ([]row, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	var rows []row
	if t := strings.TrimSpace(string(data)); strings.HasPrefix(t, "[") {
		err := json.Unmarshal(data, &rows)
		return rows, err
	}
	sc := bufio.NewScanner(strings.NewReader(string(data)))
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		var r row
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			return nil, err
		}
		rows = append(rows, r)
	}
	return rows, sc.Err()
}

// peak is the largest throughput of the rows whose scenario starts with
// prefix, among the runs without errors (among all, if every run had some).
func peak(rows []row, prefix string) (row, bool) {
	var best row
	found := false
	for _, clean := range []bool{true, false} {
		for _, r := range rows {
			if !strings.HasPrefix(r.Scenario, prefix) || (clean && r.Errors > 0) {
				continue
			}
			if !found || r.Throughput > best.Throughput {
				best, found = r, true
			}
		}
		if found {
			return best, true
		}
	}
	return best, false
}

func tableCmd(args []string) error {
	fs := flag.NewFlagSet("table", flag.ContinueOnError)
	rowsPath := fs.String("rows", "", "rows file (loadkit record)")
	soakCSV := fs.String("soak", "", "soak samples CSV (loadkit sample); summarised into -soak-json")
	soakJSON := fs.String("soak-json", "", "where to write the soak summary")
	peakOnly := fs.String("peak", "", "print only the peak throughput of the scenarios with this prefix, as an integer")
	get := fs.String("get", "", "print only the throughput, errors and p99 (ms) of this scenario's last row")
	jsonOut := fs.String("json", "", "also write the rows to this file as a JSON array")
	target := fs.Float64("target", 10_000, "the non-spatial gRPC target, per second")
	p99Target := fs.Float64("p99", 20, "the p99 target, ms")
	if err := fs.Parse(args); err != nil {
		return err
	}
	rows, err := readRows(*rowsPath)
	if err != nil {
		return err
	}
	if *peakOnly != "" {
		p, ok := peak(rows, *peakOnly)
		if !ok {
			return fmt.Errorf("no rows for %q", *peakOnly)
		}
		fmt.Println(int(p.Throughput))
		return nil
	}
	if *get != "" {
		r, ok := find(rows, *get)
		if !ok {
			return fmt.Errorf("no row for %q", *get)
		}
		fmt.Printf("%.0f %d %.3f\n", r.Throughput, r.Errors, r.P99)
		return nil
	}
	if *jsonOut != "" {
		for i := range rows {
			rows[i] = nanToNull(rows[i])
		}
		if err := writeJSON(*jsonOut, rows); err != nil {
			return err
		}
	}

	fmt.Println("| scenario | sent | offered | calls | achieved/s | p50 ms | p95 ms | p99 ms | max ms | errors | server CPU | generator CPU | other CPU |")
	fmt.Println("|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|")
	for _, r := range rows {
		cores := func(s float64) string {
			wall := r.WallS
			if wall <= 0 {
				wall = r.Seconds
			}
			if s < 0 || wall <= 0 {
				return "—"
			}
			return fmt.Sprintf("%.2f cores", s/wall)
		}
		errs := strconv.FormatInt(r.Errors, 10)
		if len(r.ErrorKinds) > 0 {
			var ks []string
			for k, n := range r.ErrorKinds {
				if n > 0 {
					ks = append(ks, fmt.Sprintf("%s %d", k, n))
				}
			}
			sort.Strings(ks)
			errs += " (" + strings.Join(ks, ", ") + ")"
		}
		fmt.Printf("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |\n", r.Scenario, r.Label, r.Offered,
			commas(float64(r.Requests)), commas(r.Throughput), num(r.P50), num(r.P95), num(r.P99), num(r.Max), errs,
			cores(r.ServerCPU), cores(r.GenCPU), cores(r.OtherCPU))
	}
	for _, r := range rows {
		if r.Note != "" {
			fmt.Printf("\n%s: %s", r.Scenario, r.Note)
		}
	}
	fmt.Println()

	fmt.Println()
	fmt.Println("| target | measured | verdict |")
	fmt.Println("|---|---|---|")
	// The target run and its repetitions (grpc-audit-fixed, -run2, -run3, …):
	// the target is met when every one of them meets it.
	var runs []string
	metRuns := 0
	for _, r := range rows {
		if r.Scenario != "grpc-audit-fixed" && !strings.HasPrefix(r.Scenario, "grpc-audit-fixed-run") {
			continue
		}
		met := r.Throughput >= 0.99**target && r.P99 < *p99Target && r.Errors == 0
		if met {
			metRuns++
		}
		run := fmt.Sprintf("%s/s achieved, p99 %s ms, %d errors", commas(r.Throughput), num(r.P99), r.Errors)
		if r.TimelineSeconds > 0 {
			run += fmt.Sprintf(" (%s calls of 20 ms or more, in %d of %d s)", commas(float64(r.SlowCalls)), r.SlowSeconds, r.TimelineSeconds)
		}
		runs = append(runs, run)
	}
	if len(runs) > 0 {
		v := verdict(metRuns == len(runs))
		if len(runs) > 1 {
			v = fmt.Sprintf("%s (%d of %d runs)", v, metRuns, len(runs))
		}
		fmt.Printf("| ≥ %s non-spatial audits/s over gRPC, p99 < %g ms, zero errors | %s/s offered, %d run(s): %s | %s |\n",
			commas(*target), *p99Target, commas(*target), len(runs), strings.Join(runs, "; "), v)
	}
	if r, ok := find(rows, "grpc-audit-fixed-std"); ok {
		met := r.Throughput >= 0.99**target && r.P99 < *p99Target && r.Errors == 0
		fmt.Printf("| (cross-check) the same load from grpc-go's client (grpcload -client std) | %s/s offered: %s/s achieved, p99 %s ms, %d errors | %s |\n",
			commas(r.OfferedRate), commas(r.Throughput), num(r.P99), r.Errors, verdict(met))
	}
	// The highest fixed rate the server carried within the latency target.
	var best *row
	for i, r := range rows {
		if strings.HasPrefix(r.Scenario, "grpc-audit-") && r.OfferedRate > 0 && r.Errors == 0 &&
			r.Throughput >= 0.99*r.OfferedRate && r.P99 < *p99Target && (best == nil || r.OfferedRate > best.OfferedRate) {
			best = &rows[i]
		}
	}
	if best != nil {
		fmt.Printf("| (for reference) the highest fixed rate carried with p99 < %g ms and zero errors | %s/s (%s): p99 %s ms | — |\n",
			*p99Target, commas(best.OfferedRate), best.Scenario, num(best.P99))
	}
	gp, okG := peak(rows, "grpc-audit")
	rp, okR := peak(rows, "rest-audit")
	if okG && okR {
		ratio := gp.Throughput / rp.Throughput
		closed := ""
		gm, okGM := find(rows, "grpc-audit-max")
		rm, okRM := find(rows, "rest-audit-max")
		if okGM && okRM && rm.Throughput > 0 {
			closed = fmt.Sprintf("; closed loop against closed loop: %s/s against %s/s = %.2f×",
				commas(gm.Throughput), commas(rm.Throughput), gm.Throughput/rm.Throughput)
		}
		fmt.Printf("| REST throughput within 3× of gRPC's | gRPC peak %s/s (%s), REST peak %s/s (%s): gRPC/REST = %.2f×%s | %s |\n",
			commas(gp.Throughput), gp.Scenario, commas(rp.Throughput), rp.Scenario, ratio, closed, verdict(ratio <= 3))
	}
	if r, ok := find(rows, "grpc-basic-audit-fixed"); ok {
		fmt.Printf("| (for reference) the same with RESULT_VIEW_BASIC | %s/s offered: %s/s achieved, p99 %s ms, %d errors | %s |\n",
			commas(r.OfferedRate), commas(r.Throughput), num(r.P99), r.Errors,
			verdict(r.Throughput >= 0.99**target && r.P99 < *p99Target && r.Errors == 0))
	}
	gb, okGB := find(rows, "grpc-basic-audit-max")
	rb, okRB := find(rows, "rest-basic-audit-max")
	if okGB && okRB && rb.Throughput > 0 {
		ratio := gb.Throughput / rb.Throughput
		fmt.Printf("| (for reference) REST within 3× of gRPC, both with RESULT_VIEW_BASIC, closed loop | %s/s against %s/s = %.2f× | %s |\n",
			commas(gb.Throughput), commas(rb.Throughput), ratio, verdict(ratio <= 3))
	}
	if *soakCSV != "" {
		s, err := summariseSamples(*soakCSV)
		if err != nil {
			return err
		}
		if *soakJSON != "" {
			if err := writeJSON(*soakJSON, s.jsonSafe()); err != nil {
				return err
			}
		}
		g := "goroutines not measured (threads as a stand-in)"
		if s.GoroutinesSource != "" {
			g = fmt.Sprintf("goroutines (%s) first %.0f, second minute %.0f, last minute %.0f, max %.0f (medians over the minutes)", s.GoroutinesSource,
				s.Goroutines.First, s.GoroutinesAfterWarmup, s.GoroutinesEnd, s.Goroutines.Max)
		}
		if !math.IsNaN(s.HeapLiveAfterWarmup) {
			g += fmt.Sprintf("; live heap second minute %.1f, last minute %.1f MiB (medians)", s.HeapLiveAfterWarmup/1024, s.HeapLiveEnd/1024)
		}
		fmt.Printf("| soak: memory and goroutines flat | %.0f min, %d samples: RSS first %.1f, second minute %.1f, last minute %.1f (medians), last %.1f, max %.1f MiB; threads first %.0f, last %.0f, max %.0f; %s; %s | %s |\n",
			s.Seconds/60, s.Samples, s.RSS.First/1024, s.RSSAfterWarmup/1024, s.RSSEnd/1024, s.RSS.Last/1024, s.RSS.Max/1024,
			s.Threads.First, s.Threads.Last, s.Threads.Max, g, s.Why, verdict(s.Flat))
		if r, ok := find(rows, "soak"); ok {
			fmt.Printf("| soak: the load held | %s/s offered: %s/s achieved, p99 %s ms, %d errors | %s |\n",
				commas(r.OfferedRate), commas(r.Throughput), num(r.P99), r.Errors,
				verdict(r.Errors == 0 && r.Throughput >= 0.99*r.OfferedRate))
		}
	}
	return nil
}

func find(rows []row, scenario string) (row, bool) {
	for i := len(rows) - 1; i >= 0; i-- {
		if rows[i].Scenario == scenario {
			return rows[i], true
		}
	}
	return row{}, false
}

func verdict(ok bool) string {
	if ok {
		return "**met**"
	}
	return "**not met**"
}

func num(v float64) string {
	switch {
	case math.IsNaN(v) || v < 0:
		return "—"
	case v >= 100:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.2f", v)
	}
}

// commas formats a count with thousands separators.
func commas(v float64) string {
	s := strconv.FormatInt(int64(math.Round(v)), 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
