package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/csv"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"os/signal"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"
)

// sampleCmd samples the server every -every until it exits, the sampler is
// signalled, or -duration passes, and writes one CSV row per sample:
//
//	elapsed_s, rss_kib, threads, goroutines, goroutines_source, heap_inuse_bytes,
//	heap_idle_bytes, heap_released_bytes, next_gc_bytes, stack_inuse_bytes,
//	rss_anon_kib, rss_file_kib, sys_bytes, gc_sys_bytes, other_sys_bytes,
//	mspan_sys_bytes, heap_live_bytes, heap_goal_bytes
//
// The *_bytes columns come from the server's metrics too (go_memstats_*):
// with them, resident memory that the runtime keeps for its heap goal (idle,
// not yet released) can be told from memory in use, and the runtime's own
// bookkeeping from the heap. RSS is split as the kernel counts it: anonymous
// memory (the heap, stacks, the runtime's structures) and pages of the
// binary and other mapped files, which a process touching code for the
// first time adds once and which cannot grow past the files' size. The
// heap's live bytes (go_gc_heap_live_bytes: what the last collection found
// reachable) are what a leak would grow; the goal is what the collector
// lets the heap reach before its next collection, GOGC above the live bytes.
// RSS and threads come from /proc/PID/status (VmRSS, Threads, RssAnon, RssFile). Goroutines
// come from the server's GET /metrics (go_goroutines) when it answers;
// otherwise from the runtime's scheduler trace (GODEBUG=schedtrace=…,
// scheddetail=1 on the server, which lists every goroutine on stderr) when
// -schedtrace names the server's stderr file; otherwise the column is empty.
func sampleCmd(args []string) error {
	fs := flag.NewFlagSet("sample", flag.ContinueOnError)
	pid := fs.Int("pid", 0, "server process")
	metrics := fs.String("metrics", "", "URL of the server's Prometheus metrics, tried at every sample")
	schedtrace := fs.String("schedtrace", "", "the server's stderr file, holding GODEBUG=schedtrace,scheddetail dumps")
	every := fs.Duration("every", 10*time.Second, "sampling interval")
	duration := fs.Duration("duration", 0, "stop after this long (0: when the server exits or on SIGTERM)")
	out := fs.String("out", "", "CSV file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	if *duration > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, *duration)
		defer cancel()
	}
	f, err := os.Create(*out)
	if err != nil {
		return err
	}
	defer f.Close()
	w := csv.NewWriter(f)
	memstats := []string{"heap_inuse_bytes", "heap_idle_bytes", "heap_released_bytes", "next_gc_bytes", "stack_inuse_bytes"}
	sysstats := []string{"go_memstats_sys_bytes", "go_memstats_gc_sys_bytes", "go_memstats_other_sys_bytes",
		"go_memstats_mspan_sys_bytes", "go_gc_heap_live_bytes", "go_gc_heap_goal_bytes"}
	header := append([]string{"elapsed_s", "rss_kib", "threads", "goroutines", "goroutines_source"}, memstats...)
	header = append(header, "rss_anon_kib", "rss_file_kib")
	for _, name := range sysstats {
		header = append(header, strings.TrimPrefix(strings.TrimPrefix(name, "go_memstats_"), "go_gc_"))
	}
	w.Write(header)
	w.Flush()
	client := &http.Client{Timeout: 2 * time.Second}
	start := time.Now()
	tick := time.NewTicker(*every)
	defer tick.Stop()
	for {
		st, err := procStatus(*pid)
		if err != nil {
			return nil // the server has exited
		}
		g, src := "", ""
		mem, sys := make([]string, len(memstats)), make([]string, len(sysstats))
		if *metrics != "" {
			if m, err := scrape(client, *metrics); err == nil {
				if v, ok := m["go_goroutines"]; ok {
					g, src = strconv.FormatFloat(v, 'f', -1, 64), "metrics"
				}
				for i, name := range memstats {
					if v, ok := m["go_memstats_"+name]; ok {
						mem[i] = strconv.FormatFloat(v, 'f', -1, 64)
					}
				}
				for i, name := range sysstats {
					if v, ok := m[name]; ok {
						sys[i] = strconv.FormatFloat(v, 'f', -1, 64)
					}
				}
			}
		}
		if g == "" && *schedtrace != "" {
			if n, err := liveGoroutines(*schedtrace); err == nil {
				g, src = strconv.Itoa(n), "schedtrace"
			}
		}
		row := append([]string{fmt.Sprintf("%.0f", time.Since(start).Seconds()), st["VmRSS"], st["Threads"], g, src}, mem...)
		row = append(row, st["RssAnon"], st["RssFile"])
		w.Write(append(row, sys...))
		w.Flush()
		if err := w.Error(); err != nil {
			return err
		}
		select {
		case <-ctx.Done():
			return nil
		case <-tick.C:
		}
	}
}

// probeCmd exits 0 when the URL serves Prometheus metrics with go_goroutines.
func probeCmd(args []string) error {
	if len(args) != 1 {
		return fmt.Errorf("usage: loadkit probe-metrics URL")
	}
	m, err := scrape(&http.Client{Timeout: 2 * time.Second}, args[0])
	if err != nil {
		return err
	}
	if _, ok := m["go_goroutines"]; !ok {
		return fmt.Errorf("%s has no go_goroutines", args[0])
	}
	return nil
}

// procStatus returns the numeric fields of /proc/PID/status (kB units dropped).
func procStatus(pid int) (map[string]string, error) {
	data, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return nil, err
	}
	m := map[string]string{}
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(line, ":")
		if !ok {
			continue
		}
		if f := strings.Fields(v); len(f) > 0 {
			m[k] = f[0]
		}
	}
	if m["State"] == "Z" {
		return nil, fmt.Errorf("zombie")
	}
	return m, nil
}

// scrape reads the unlabelled samples of a Prometheus text exposition.
func scrape(c *http.Client, url string) (map[string]float64, error) {
	resp, err := c.Get(url)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		io.Copy(io.Discard, resp.Body)
		return nil, fmt.Errorf("%s", resp.Status)
	}
	m := map[string]float64{}
	sc := bufio.NewScanner(resp.Body)
	sc.Buffer(nil, 1<<20)
	for sc.Scan() {
		line := sc.Text()
		if line == "" || line[0] == '#' {
			continue
		}
		f := strings.Fields(line)
		if len(f) < 2 || strings.ContainsRune(f[0], '{') {
			continue
		}
		if v, err := strconv.ParseFloat(f[1], 64); err == nil {
			m[f[0]] = v
		}
	}
	return m, sc.Err()
}

// liveGoroutines counts the goroutines of the last complete scheduler-trace
// dump in the file: the "  G<id>: status=<n>(…)" lines whose status is not
// _Gdead (6; the runtime keeps dead goroutines for reuse and lists them too).
func liveGoroutines(path string) (int, error) {
	for attempt := 0; ; attempt++ {
		fi, err := os.Stat(path)
		if err != nil {
			return 0, err
		}
		// A dump is written in a few milliseconds; do not read one mid-write.
		if time.Since(fi.ModTime()) < 200*time.Millisecond && attempt < 5 {
			time.Sleep(200 * time.Millisecond)
			continue
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return 0, err
		}
		i := bytes.LastIndex(data, []byte("SCHED "))
		if i < 0 {
			return 0, fmt.Errorf("no scheduler trace in %s", path)
		}
		n, gs := 0, 0
		for _, line := range strings.Split(string(data[i:]), "\n") {
			rest, ok := strings.CutPrefix(line, "  G")
			if !ok {
				continue
			}
			_, st, ok := strings.Cut(rest, ": status=")
			if !ok {
				continue
			}
			if j := strings.IndexByte(st, '('); j > 0 {
				st = st[:j]
			}
			s, err := strconv.Atoi(st)
			if err != nil {
				continue
			}
			gs++
			if s&^0x1000 != 6 { // _Gscan bit off; 6 is _Gdead
				n++
			}
		}
		if gs == 0 {
			return 0, fmt.Errorf("the last scheduler trace lists no goroutines (is scheddetail=1 set?)")
		}
		return n, nil
	}
}

// soakSummary is the first, last and largest of each sampled series.
type soakSummary struct {
	Samples          int     `json:"samples"`
	Seconds          float64 `json:"seconds"`
	GoroutinesSource string  `json:"goroutines_source"`
	RSS              series  `json:"rss_kib"`
	Threads          series  `json:"threads"`
	Goroutines       series  `json:"goroutines"`
	// RSSAfterWarmup is the median RSS of the minute after the first, the
	// baseline of the flatness test (the first minute fills the pools), and
	// RSSEnd the median of the last minute. -1 in the JSON stands for a
	// value not measured.
	RSSAfterWarmup float64 `json:"rss_after_warmup_kib"`
	RSSEnd         float64 `json:"rss_end_kib"`
	// RSSSlopeKiBPerMin is the Theil–Sen slope of RSS over the second half
	// of the soak: the median of the slopes between every two samples.
	RSSSlopeKiBPerMin     float64 `json:"rss_slope_second_half_kib_per_min"`
	GoroutinesAfterWarmup float64 `json:"goroutines_after_warmup"`
	GoroutinesEnd         float64 `json:"goroutines_end"`
	// HeapLiveAfterWarmup and HeapLiveEnd are the medians of the heap's
	// live bytes (what the last collection found reachable) over the same
	// two minutes, in KiB: what a leak grows, without the collector's
	// sawtooth. -1: not sampled (soaks recorded before the column).
	HeapLiveAfterWarmup float64 `json:"heap_live_after_warmup_kib"`
	HeapLiveEnd         float64 `json:"heap_live_end_kib"`
	Flat                bool    `json:"flat"`
	Why                 string  `json:"why"`
}

// jsonSafe replaces NaN (not measured) with -1: JSON has no NaN.
func (s soakSummary) jsonSafe() soakSummary {
	for _, p := range []*float64{&s.RSS.First, &s.RSS.Last, &s.RSS.Max, &s.RSS.Min, &s.Threads.First, &s.Threads.Last,
		&s.Threads.Max, &s.Threads.Min, &s.Goroutines.First, &s.Goroutines.Last, &s.Goroutines.Max, &s.Goroutines.Min,
		&s.RSSAfterWarmup, &s.RSSEnd, &s.GoroutinesAfterWarmup, &s.GoroutinesEnd, &s.RSSSlopeKiBPerMin,
		&s.HeapLiveAfterWarmup, &s.HeapLiveEnd} {
		if math.IsNaN(*p) {
			*p = -1
		}
	}
	return s
}

type series struct {
	First float64 `json:"first"`
	Last  float64 `json:"last"`
	Max   float64 `json:"max"`
	Min   float64 `json:"min"`
}

func summariseSamples(path string) (soakSummary, error) {
	f, err := os.Open(path)
	if err != nil {
		return soakSummary{}, err
	}
	defer f.Close()
	recs, err := csv.NewReader(f).ReadAll()
	if err != nil {
		return soakSummary{}, err
	}
	if len(recs) < 3 {
		return soakSummary{}, fmt.Errorf("%s: too few samples", path)
	}
	// Columns by name: the sampler has added columns over time, and older
	// files lack the later ones.
	col := map[string]int{}
	for i, name := range recs[0] {
		col[name] = i
	}
	var t, rss, thr, gor, live []float64
	var s soakSummary
	for _, r := range recs[1:] {
		num := func(name string) float64 {
			i, ok := col[name]
			if !ok || i >= len(r) {
				return math.NaN()
			}
			v, err := strconv.ParseFloat(r[i], 64)
			if err != nil {
				return math.NaN()
			}
			return v
		}
		t, rss, thr, gor = append(t, num("elapsed_s")), append(rss, num("rss_kib")), append(thr, num("threads")), append(gor, num("goroutines"))
		live = append(live, num("heap_live_bytes")/1024)
		if i, ok := col["goroutines_source"]; ok && i < len(r) && r[i] != "" {
			s.GoroutinesSource = r[i]
		}
	}
	mk := func(x []float64) series {
		var v []float64
		for _, a := range x {
			if !math.IsNaN(a) {
				v = append(v, a)
			}
		}
		if len(v) == 0 {
			return series{math.NaN(), math.NaN(), math.NaN(), math.NaN()}
		}
		se := series{First: v[0], Last: v[len(v)-1], Max: v[0], Min: v[0]}
		for _, a := range v {
			se.Max, se.Min = math.Max(se.Max, a), math.Min(se.Min, a)
		}
		return se
	}
	s.Samples, s.Seconds = len(t), t[len(t)-1]
	s.RSS, s.Threads, s.Goroutines = mk(rss), mk(thr), mk(gor)
	s.RSSAfterWarmup, s.GoroutinesAfterWarmup = math.NaN(), math.NaN()
	// A collected heap's RSS is a sawtooth: between two samples 10 s apart
	// it moves by 5 MiB on average and by 20 or more at times, so one sample
	// says little about the level. The test reads levels as medians over a
	// minute, and the trend as the median of the pairwise slopes
	// (Theil–Sen), which one spike cannot tilt.
	warm := math.Min(60, s.Seconds/2) // a short (trial) soak takes its middle
	window := math.Min(60, s.Seconds/4)
	var base, end, baseG, endG, baseL, endL []float64
	for i := range t {
		if t[i] >= warm && t[i] < warm+window {
			base, baseG, baseL = appendNum(base, rss[i]), appendNum(baseG, gor[i]), appendNum(baseL, live[i])
		}
		if t[i] > s.Seconds-window {
			end, endG, endL = appendNum(end, rss[i]), appendNum(endG, gor[i]), appendNum(endL, live[i])
		}
	}
	s.RSSAfterWarmup, s.GoroutinesAfterWarmup, s.HeapLiveAfterWarmup = median(base), median(baseG), median(baseL)
	s.RSSEnd, s.GoroutinesEnd, s.HeapLiveEnd = median(end), median(endG), median(endL)
	var half [][2]float64
	for i := range t {
		if t[i] >= s.Seconds/2 && !math.IsNaN(rss[i]) {
			half = append(half, [2]float64{t[i] / 60, rss[i]})
		}
	}
	var slopes []float64
	for i := range half {
		for j := i + 1; j < len(half); j++ {
			if dx := half[j][0] - half[i][0]; dx > 0 {
				slopes = append(slopes, (half[j][1]-half[i][1])/dx)
			}
		}
	}
	s.RSSSlopeKiBPerMin = median(slopes)
	if math.IsNaN(s.RSSSlopeKiBPerMin) {
		s.RSSSlopeKiBPerMin = 0
	}
	// Flat: the last minute's median RSS is within 10% (or 4 MiB) of the
	// median of the minute after the first, the second half does not trend
	// up by more than 1 MiB a minute, the heap's live bytes (when sampled)
	// end within 10% (or 1 MiB) of where they were, and the goroutines (or,
	// without them, the threads) end where they were after the first
	// minute, give or take the load's own in-flight calls.
	var why []string
	growth := s.RSSEnd - s.RSSAfterWarmup
	s.Flat = true
	if growth > math.Max(0.10*s.RSSAfterWarmup, 4096) {
		s.Flat = false
		why = append(why, fmt.Sprintf("RSS grew %.1f MiB after the first minute (medians over a minute)", growth/1024))
	}
	if s.RSSSlopeKiBPerMin > 1024 {
		s.Flat = false
		why = append(why, fmt.Sprintf("RSS trends up %.1f MiB/min in the second half", s.RSSSlopeKiBPerMin/1024))
	}
	if liveGrowth := s.HeapLiveEnd - s.HeapLiveAfterWarmup; liveGrowth > math.Max(0.10*s.HeapLiveAfterWarmup, 1024) {
		s.Flat = false
		why = append(why, fmt.Sprintf("the live heap grew %.1f MiB after the first minute (medians over a minute)", liveGrowth/1024))
	}
	if !math.IsNaN(s.GoroutinesEnd) && !math.IsNaN(s.GoroutinesAfterWarmup) {
		if s.GoroutinesEnd > 2*s.GoroutinesAfterWarmup+50 {
			s.Flat = false
			why = append(why, fmt.Sprintf("goroutines went from %.0f to %.0f", s.GoroutinesAfterWarmup, s.GoroutinesEnd))
		}
	} else if s.Threads.Last > 2*s.Threads.First+10 {
		s.Flat = false
		why = append(why, fmt.Sprintf("threads went from %.0f to %.0f", s.Threads.First, s.Threads.Last))
	}
	if s.Flat {
		why = append(why, fmt.Sprintf("RSS %+.1f MiB after the first minute (medians over a minute), second-half slope %+.2f MiB/min", growth/1024, s.RSSSlopeKiBPerMin/1024))
		if !math.IsNaN(s.HeapLiveEnd) && !math.IsNaN(s.HeapLiveAfterWarmup) {
			why = append(why, fmt.Sprintf("live heap %.1f → %.1f MiB", s.HeapLiveAfterWarmup/1024, s.HeapLiveEnd/1024))
		}
	}
	s.Why = strings.Join(why, "; ")
	return s, nil
}

// appendNum appends v unless it was not measured.
func appendNum(xs []float64, v float64) []float64 {
	if math.IsNaN(v) {
		return xs
	}
	return append(xs, v)
}

// median is the middle of xs (the mean of the two middles for an even
// count); NaN for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return math.NaN()
	}
	v := slices.Clone(xs)
	slices.Sort(v)
	n := len(v)
	if n%2 == 1 {
		return v[n/2]
	}
	return (v[n/2-1] + v[n/2]) / 2
}
