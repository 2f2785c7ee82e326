// Command grpcload is a small load generator for unary gRPC calls, and for
// REST calls with -http, that costs the machine as little as it can: the
// request is marshalled once (a binary protobuf file), the responses are
// checked and counted, not decoded, and by default (-client lean) the calls
// go through its own HTTP/2 gRPC client (h2.go) and HTTP/1.1 client (h1.go),
// which spend a fraction of the CPU per call that google.golang.org/grpc's
// and net/http's clients spend (-client std). On a machine shared with the
// server, most of the CPU then goes to the server.
//
//	grpcload -addr 127.0.0.1:50051 -method /coverage.v1.CoverageService/Audit \
//	    -payload audit.bin -rate 10000 -duration 30s -json out.json
//
// With -rate it is open loop: call i is due at start + i/rate whatever the
// calls before it are doing, and its latency is measured from that due time,
// so a server that falls behind shows it in the latencies (no coordinated
// omission); the latency from the actual send is reported beside it. With
// -rate 0 it is closed loop: -c callers, each sending its next call when the
// last one returns. A -warmup at the same load comes first and is not
// counted. Latencies go into a log-linear histogram (1.6% resolution).
//
// With -http URL it POSTs the payload to URL over HTTP/1.1 keep-alive
// instead (a REST call), reads each response body to its end without
// decoding it, and counts a 200 as success: the same loops, timing and
// report, so that REST and gRPC are driven alike.
//
//	grpcload -http http://127.0.0.1:8080/v1/audit -payload audit.json -rate 0 -c 64 -conns 64
package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"runtime/pprof"
	"sort"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/status"
)

// rawCodec sends a request already in wire format and reads a response only
// for its size. Its name is "proto", so the server decodes as usual.
type rawCodec struct{}

func (rawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}

func (rawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*int) = data.Len()
	return nil
}

func (rawCodec) Name() string { return "proto" }

type config struct {
	addr, method, payload string
	rate                  float64
	concurrency, conns    int
	duration, warmup      time.Duration
	timeout               time.Duration
	maxInflight           int64
	jsonOut, name         string
	cpuProfile            string
	httpURL, contentType  string
	client                string
}

// report is the JSON output.
type report struct {
	Generator   string  `json:"generator"`
	Name        string  `json:"name,omitempty"`
	Method      string  `json:"method"`
	Mode        string  `json:"mode"`
	OfferedRate float64 `json:"offered_rate"`
	Concurrency int     `json:"concurrency,omitempty"`
	Connections int     `json:"connections"`
	WarmupS     float64 `json:"warmup_s"`
	DurationS   float64 `json:"duration_s"`
	RequestB    int     `json:"request_bytes"`
	ResponseB   int     `json:"response_bytes"`
	// Sent and Completed count the calls due (open loop) or started (closed
	// loop) in the measured window; OK those that succeeded.
	Sent      int64            `json:"sent"`
	OK        int64            `json:"ok"`
	Errors    int64            `json:"errors"`
	ErrorKind map[string]int64 `json:"error_kinds,omitempty"`
	// ElapsedS runs from the start of the measured window to the last
	// completion of a call of the window.
	ElapsedS   float64 `json:"elapsed_s"`
	Throughput float64 `json:"throughput"`
	// Latency is from the due time (open loop) or the send (closed loop);
	// ServiceTime always from the send.
	Latency     summary       `json:"latency_ms"`
	ServiceTime summary       `json:"service_time_ms"`
	Histogram   []bucketCount `json:"histogram"`
	// Timeline counts completions per second of the measured window.
	Timeline      []second `json:"timeline"`
	MaxInflight   int64    `json:"max_inflight"`
	GeneratorCPUS float64  `json:"generator_cpu_s"`
}

type second struct {
	T      int   `json:"t"`
	OK     int64 `json:"ok"`
	Errors int64 `json:"errors"`
	// MaxMS is the longest latency of the calls that succeeded in the
	// second, and Over20MS how many took 20 ms or more: where in a run its
	// tail was made.
	MaxMS    float64 `json:"max_ms"`
	Over20MS int64   `json:"over_20ms"`
}

type run struct {
	cfg     config
	conns   []*grpc.ClientConn
	h2      []*h2Client
	h1      *h1Client
	http    *http.Client
	payload []byte
	lat     hist
	svc     hist

	measureStart time.Time
	sent, ok     atomic.Int64
	inflight     atomic.Int64
	maxInflight  atomic.Int64
	lastDone     atomic.Int64 // ns since measureStart
	mu           sync.Mutex
	errs         map[string]int64
	tlOK, tlErr  []atomic.Int64
	tlMaxUS      []atomic.Int64
	tlSlow       []atomic.Int64
}

func main() {
	var c config
	flag.StringVar(&c.addr, "addr", "127.0.0.1:50051", "server address")
	flag.StringVar(&c.method, "method", "/coverage.v1.CoverageService/Audit", "full method name")
	flag.StringVar(&c.payload, "payload", "", "request, a binary protobuf file")
	flag.Float64Var(&c.rate, "rate", 0, "calls per second, open loop (0: closed loop with -c callers)")
	flag.IntVar(&c.concurrency, "c", 32, "callers, closed loop")
	flag.IntVar(&c.conns, "conns", 2, "gRPC connections (calls are spread over them in turn); with -http, the most HTTP connections open at once")
	flag.DurationVar(&c.duration, "duration", 30*time.Second, "measured time")
	flag.DurationVar(&c.warmup, "warmup", 2*time.Second, "time at the same load before the measured time, not counted")
	flag.DurationVar(&c.timeout, "timeout", 20*time.Second, "deadline of each call")
	flag.Int64Var(&c.maxInflight, "max-inflight", 100_000, "open loop: calls due beyond this many in flight are counted as errors, not sent")
	flag.StringVar(&c.jsonOut, "json", "", "write the JSON report here")
	flag.StringVar(&c.name, "name", "", "a name for the report")
	flag.StringVar(&c.httpURL, "http", "", "POST the payload to this URL over HTTP/1.1 instead of calling -addr over gRPC")
	flag.StringVar(&c.contentType, "content-type", "application/json", "with -http, the Content-Type of the payload")
	flag.StringVar(&c.client, "client", "lean", `"lean": this command's own HTTP/2 gRPC client (or, with -http, HTTP/1.1 client), which costs a fraction of the CPU; "std": google.golang.org/grpc's client (or net/http's)`)
	flag.StringVar(&c.cpuProfile, "cpuprofile", "", "write the generator's own CPU profile here (warm-up and measured time)")
	flag.Parse()
	if err := realMain(c); err != nil {
		fmt.Fprintln(os.Stderr, "grpcload:", err)
		os.Exit(1)
	}
}

func realMain(c config) error {
	payload, err := os.ReadFile(c.payload)
	if err != nil {
		return err
	}
	r := &run{cfg: c, payload: payload, errs: map[string]int64{}}
	switch {
	case c.client != "lean" && c.client != "std":
		return fmt.Errorf("-client %q: want lean or std", c.client)
	case c.client == "lean" && c.httpURL != "":
		if r.h1, err = newH1Client(c.httpURL, c.contentType, payload, c.conns, c.timeout); err != nil {
			return err
		}
	case c.client == "lean":
		for range c.conns {
			h2, err := dialH2(c.addr, c.method, payload, c.timeout)
			if err != nil {
				return err
			}
			defer h2.close(errors.New("closed"))
			r.h2 = append(r.h2, h2)
		}
	}
	if c.httpURL != "" && r.h1 == nil {
		r.http = &http.Client{Transport: &http.Transport{
			MaxConnsPerHost:     c.conns,
			MaxIdleConns:        c.conns,
			MaxIdleConnsPerHost: c.conns,
			DisableCompression:  true,
			// A 27 KB answer read 4 KB at a time (the default) took a
			// read system call per 4 KB: a third of the generator's CPU.
			ReadBufferSize: 64 << 10,
		}}
		defer r.http.CloseIdleConnections()
	}
	for range c.conns {
		if c.httpURL != "" || r.h2 != nil {
			break // one client, whose transport keeps the connections
		}
		conn, err := grpc.NewClient(c.addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
			grpc.WithDefaultCallOptions(grpc.ForceCodecV2(rawCodec{}), grpc.MaxCallRecvMsgSize(math.MaxInt32)))
		if err != nil {
			return err
		}
		defer conn.Close()
		r.conns = append(r.conns, conn)
	}
	// One call on each connection first: it must succeed (a wrong payload or
	// method fails here, not as a run of errors), and it connects.
	var respLen int
	for i := range max(len(r.conns), len(r.h2), 1) {
		ctx, cancel := context.WithTimeout(context.Background(), c.timeout)
		n, err := r.invoke(ctx, int64(i))
		cancel()
		if err != nil {
			return fmt.Errorf("first call: %w", err)
		}
		respLen = n
	}
	seconds := int(c.duration.Seconds()) + int(c.timeout.Seconds()) + 2
	r.tlOK, r.tlErr = make([]atomic.Int64, seconds), make([]atomic.Int64, seconds)
	r.tlMaxUS, r.tlSlow = make([]atomic.Int64, seconds), make([]atomic.Int64, seconds)

	if c.cpuProfile != "" {
		f, err := os.Create(c.cpuProfile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	var ru0 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru0)
	mode := "closed loop"
	if c.rate > 0 {
		mode = "open loop"
		r.openLoop()
	} else {
		r.closedLoop()
	}
	var ru1 syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru1)
	cpu := time.Duration(ru1.Utime.Nano() - ru0.Utime.Nano() + ru1.Stime.Nano() - ru0.Stime.Nano()).Seconds()

	method := c.method
	if c.httpURL != "" {
		method = "POST " + c.httpURL
	}
	rep := report{
		Generator: "grpcload", Name: c.name, Method: method, Mode: mode, OfferedRate: c.rate,
		Connections: c.conns, WarmupS: c.warmup.Seconds(), DurationS: c.duration.Seconds(),
		RequestB: len(payload), ResponseB: respLen, Sent: r.sent.Load(), OK: r.ok.Load(),
		ErrorKind: r.errs, ElapsedS: time.Duration(r.lastDone.Load()).Seconds(),
		Latency: r.lat.summary(), ServiceTime: r.svc.summary(),
		Histogram:   r.lat.coarse([]float64{0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000, 10000}),
		MaxInflight: r.maxInflight.Load(), GeneratorCPUS: cpu,
	}
	if c.rate == 0 {
		rep.Concurrency = c.concurrency
	}
	for _, n := range r.errs {
		rep.Errors += n
	}
	if rep.ElapsedS > 0 {
		rep.Throughput = float64(rep.OK) / rep.ElapsedS
	}
	last := int(rep.ElapsedS)
	for i := 0; i <= last && i < len(r.tlOK); i++ {
		rep.Timeline = append(rep.Timeline, second{
			T: i, OK: r.tlOK[i].Load(), Errors: r.tlErr[i].Load(),
			MaxMS: float64(r.tlMaxUS[i].Load()) / 1000, Over20MS: r.tlSlow[i].Load(),
		})
	}
	writeText(os.Stdout, rep)
	if c.jsonOut != "" {
		data, err := json.MarshalIndent(nanFree(rep), "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(c.jsonOut, append(data, '\n'), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// httpStatusError is a REST call answered with a status other than 200.
type httpStatusError int

func (e httpStatusError) Error() string { return fmt.Sprintf("HTTP %d", int(e)) }

// invoke makes call i and returns the size of its response.
func (r *run) invoke(ctx context.Context, i int64) (int, error) {
	switch {
	case r.h2 != nil:
		return r.h2[i%int64(len(r.h2))].call()
	case r.h1 != nil:
		return r.h1.call()
	}
	if r.http == nil {
		var n int
		err := r.conns[i%int64(len(r.conns))].Invoke(ctx, r.cfg.method, &r.payload, &n)
		return n, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, r.cfg.httpURL, bytes.NewReader(r.payload))
	if err != nil {
		return 0, err
	}
	req.Header.Set("Content-Type", r.cfg.contentType)
	resp, err := r.http.Do(req)
	if err != nil {
		return 0, err
	}
	n, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err == nil && resp.StatusCode != http.StatusOK {
		err = httpStatusError(resp.StatusCode)
	}
	return int(n), err
}

// errorKind names the kind of a failed call for the report: its gRPC code,
// its HTTP status, or, for a REST call that got no answer, its cause.
func (r *run) errorKind(err error) string {
	var ge *grpcError
	var hs httpStatusError
	switch {
	case errors.As(err, &ge):
		return ge.code.String()
	case errors.As(err, &hs):
		return hs.Error()
	case r.conns != nil:
		return status.Code(err).String()
	case errors.Is(err, context.DeadlineExceeded) || os.IsTimeout(err):
		return "DeadlineExceeded"
	}
	return "transport: " + err.Error()
}

// call makes call i. due is when it was due (open loop) or sent (closed).
func (r *run) call(i int64, due time.Time, record bool) {
	ctx, cancel := context.Background(), context.CancelFunc(func() {})
	if r.conns != nil || r.http != nil {
		// The lean clients keep the deadline themselves, without a timer per call.
		ctx, cancel = context.WithTimeout(ctx, r.cfg.timeout)
	}
	sent := time.Now()
	_, err := r.invoke(ctx, i)
	cancel()
	r.record(due, sent, record, err)
}

// record counts a call that was due at due, sent at sent and has just ended.
func (r *run) record(due, sent time.Time, record bool, err error) {
	done := time.Now()
	if !record {
		return
	}
	sec := int(done.Sub(r.measureStart) / time.Second)
	sec = min(max(sec, 0), len(r.tlOK)-1)
	if err != nil {
		r.fail(r.errorKind(err))
		r.tlErr[sec].Add(1)
	} else {
		r.ok.Add(1)
		lat := done.Sub(due)
		r.lat.add(lat)
		r.svc.add(done.Sub(sent))
		r.tlOK[sec].Add(1)
		if lat >= 20*time.Millisecond {
			r.tlSlow[sec].Add(1)
		}
		us := int64(lat / time.Microsecond)
		for {
			m := r.tlMaxUS[sec].Load()
			if us <= m || r.tlMaxUS[sec].CompareAndSwap(m, us) {
				break
			}
		}
	}
	d := int64(done.Sub(r.measureStart))
	for {
		l := r.lastDone.Load()
		if d <= l || r.lastDone.CompareAndSwap(l, d) {
			break
		}
	}
}

func (r *run) fail(kind string) {
	r.mu.Lock()
	r.errs[kind]++
	r.mu.Unlock()
}

// openLoop sends call i at start + i/rate. The dispatcher wakes up, starts
// every call that is due, and sleeps until the next one; no call waits for
// another (each runs on a caller of its own, or, with the lean gRPC client,
// is sent by the dispatcher and counted by the connection's reader).
func (r *run) openLoop() {
	rate := r.cfg.rate
	start := time.Now()
	r.measureStart = start.Add(r.cfg.warmup)
	total := int64(rate * (r.cfg.warmup + r.cfg.duration).Seconds())
	firstMeasured := int64(math.Ceil(rate * r.cfg.warmup.Seconds()))
	var wg sync.WaitGroup
	calls, stop := make(chan openCall), make(chan struct{})
	var i int64
	for i < total {
		due := min(int64(time.Since(start).Seconds()*rate)+1, total)
		for ; i < due; i++ {
			at := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
			record := i >= firstMeasured
			if record {
				r.sent.Add(1)
			}
			n := r.inflight.Add(1)
			if n > r.cfg.maxInflight {
				r.inflight.Add(-1)
				if record {
					r.fail("NotSent (generator in-flight cap)")
				}
				continue
			}
			if m := r.maxInflight.Load(); n > m {
				r.maxInflight.CompareAndSwap(m, n)
			}
			if r.h2 != nil {
				// The lean gRPC client sends the call at once, from here, and
				// counts it from its connection's reader when it ends: no
				// goroutine waits for it.
				wg.Add(1)
				sent := time.Now()
				r.h2[i%int64(len(r.h2))].enqueue(func(_ int, err error) {
					r.record(at, sent, record, err)
					r.inflight.Add(-1)
					wg.Done()
				})
				continue
			}
			// An idle caller takes the call; with none idle, a new one
			// starts. Callers stay for later calls, so that the generator
			// does not pay for a goroutine and the growth of its stack on
			// every call.
			j := openCall{i, at, record}
			select {
			case calls <- j:
			default:
				wg.Add(1)
				go func() {
					defer wg.Done()
					for {
						r.call(j.i, j.at, j.record)
						r.inflight.Add(-1)
						select {
						case j = <-calls:
						case <-stop:
							return
						}
					}
				}()
			}
		}
		for _, c := range r.h2 {
			c.pump() // the calls due now, in one write per connection
		}
		next := start.Add(time.Duration(float64(i) / rate * float64(time.Second)))
		if d := time.Until(next); d > 0 {
			time.Sleep(d)
		}
	}
	close(stop)
	wg.Wait()
}

type openCall struct {
	i      int64
	at     time.Time
	record bool
}

// closedLoop runs -c callers until the warm-up and the measured time have
// passed; calls sent in the measured time are counted.
func (r *run) closedLoop() {
	start := time.Now()
	r.measureStart = start.Add(r.cfg.warmup)
	end := r.measureStart.Add(r.cfg.duration)
	var wg sync.WaitGroup
	var seq atomic.Int64
	for range r.cfg.concurrency {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for {
				now := time.Now()
				if !now.Before(end) {
					return
				}
				record := !now.Before(r.measureStart)
				if record {
					r.sent.Add(1)
				}
				r.call(seq.Add(1), now, record)
			}
		}()
	}
	r.maxInflight.Store(int64(r.cfg.concurrency))
	wg.Wait()
}

func writeText(w io.Writer, r report) {
	fmt.Fprintf(w, "%s %s, %s", r.Generator, r.Method, r.Mode)
	if r.OfferedRate > 0 {
		fmt.Fprintf(w, " at %.0f/s", r.OfferedRate)
	} else {
		fmt.Fprintf(w, ", %d callers", r.Concurrency)
	}
	fmt.Fprintf(w, ", %d connections, %.0f s measured after %.0f s of warm-up\n", r.Connections, r.DurationS, r.WarmupS)
	fmt.Fprintf(w, "request %d bytes, response %d bytes\n", r.RequestB, r.ResponseB)
	fmt.Fprintf(w, "calls:      %d sent, %d OK, %d errors in %.2f s: %.0f OK/s\n", r.Sent, r.OK, r.Errors, r.ElapsedS, r.Throughput)
	if len(r.ErrorKind) > 0 {
		var ks []string
		for k := range r.ErrorKind {
			ks = append(ks, k)
		}
		sort.Strings(ks)
		for _, k := range ks {
			fmt.Fprintf(w, "  %-40s %d\n", k, r.ErrorKind[k])
		}
	}
	line := func(name string, s summary) {
		fmt.Fprintf(w, "%-11s mean %.2f  p50 %.2f  p90 %.2f  p95 %.2f  p99 %.2f  p99.9 %.2f  max %.2f ms\n",
			name, s.MeanMS, s.P50, s.P90, s.P95, s.P99, s.P999, s.MaxMS)
	}
	if r.OfferedRate > 0 {
		line("latency:", r.Latency)
		line("service:", r.ServiceTime)
	} else {
		line("latency:", r.Latency)
	}
	fmt.Fprintf(w, "histogram (latency, ms):\n")
	var total uint64
	for _, b := range r.Histogram {
		total += b.Count
	}
	var cum uint64
	for _, b := range r.Histogram {
		if b.Count == 0 {
			continue
		}
		cum += b.Count
		fmt.Fprintf(w, "  < %-6s %9d  %6.2f%%  (cumulative %6.2f%%)\n", b.Lt, b.Count,
			100*float64(b.Count)/float64(total), 100*float64(cum)/float64(total))
	}
	fmt.Fprintf(w, "most in flight: %d; generator CPU %.2f s\n", r.MaxInflight, r.GeneratorCPUS)
}

// nanFree replaces the NaNs of empty summaries (JSON has no NaN) with -1.
func nanFree(r report) report {
	for _, s := range []*summary{&r.Latency, &r.ServiceTime} {
		for _, p := range []*float64{&s.MeanMS, &s.P50, &s.P90, &s.P95, &s.P99, &s.P999, &s.MaxMS} {
			if math.IsNaN(*p) {
				*p = -1
			}
		}
	}
	return r
}
