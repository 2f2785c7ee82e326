package batch_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/proto"

	"github.com/civic-standards/coverage/clients/batch"
	"github.com/civic-standards/coverage/coverage"
	"github.com/civic-standards/coverage/internal/race"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
	"github.com/civic-standards/coverage/server"
	"github.com/civic-standards/coverage/server/servertest"
)

// drainEnv, beside serveEnv, makes the server process shut down on SIGTERM
// the way coverage-server does (graceful drain, bounded by the duration it
// holds). The server of TestMain serves until it is killed, so SIGTERM would
// end it as abruptly as SIGKILL.
const drainEnv = serveEnv + "_DRAIN"

// init runs before TestMain, so the draining server needs no change to it.
func init() {
	if os.Getenv(serveEnv) == "1" && os.Getenv(drainEnv) != "" {
		os.Exit(serveDraining(os.Getenv(drainEnv)))
	}
}

func serveDraining(drain string) int {
	timeout, err := time.ParseDuration(drain)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	catalog, err := coverage.DefaultCatalog()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	addr := os.Getenv(serveEnv + "_ADDR")
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	srv, err := server.New(server.Config{GRPCAddr: addr, HTTPAddr: "127.0.0.1:0", Catalog: catalog, ShutdownTimeout: timeout})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	fmt.Println(srv.GRPCAddr())
	if err := srv.Serve(ctx); err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	return 0
}

// faultBatch is the input of the fault tests, with two settlements the
// server rejects (one before the interruption, one after), and the output of
// an uninterrupted run on a healthy server.
type faultBatch struct {
	dir    string
	inputs []batch.Input
	ref    run
	items  []*coveragev1.AuditItem
}

func newFaultBatch(t *testing.T, n int) *faultBatch {
	t.Helper()
	dir := t.TempDir()
	var settlements []*coveragev1.Settlement
	for i := range n {
		settlements = append(settlements, town(i))
	}
	settlements[n/10].ElderlyPopulation = proto.Int64(-1)
	settlements[n*9/10].ElderlyPopulation = proto.Int64(-1)
	path := filepath.Join(dir, "towns.jsonl")
	writeJSONL(t, path, settlements, nil)
	b := &faultBatch{dir: dir, inputs: []batch.Input{{Path: path, Format: batch.FormatJSONL}}}
	b.ref = audit(t, dial(t, servertest.Start(t, server.Config{}).GRPCAddr()), b.inputs, dir, "ref.jsonl", batch.OutputJSONL, batch.CreateNew, 0)
	if b.ref.err != nil {
		t.Fatal(b.ref.err)
	}
	b.items = readItems(t, b.ref.out)
	if len(b.items) != n {
		t.Fatalf("the reference run wrote %d results for %d settlements", len(b.items), n)
	}
	return b
}

// checkWhole fails unless the file at path ends with a whole record (or is
// empty) and its records are the first ones of the reference, in order.
// It returns how many there are.
func (b *faultBatch) checkWhole(t *testing.T, path string) int {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) > 0 && data[len(data)-1] != '\n' {
		t.Fatalf("%s ends in the middle of a record: %.100q", path, data[max(0, len(data)-100):])
	}
	items := readItems(t, path)
	if len(items) > len(b.items) {
		t.Fatalf("%s holds %d records, the batch has %d", path, len(items), len(b.items))
	}
	for i, item := range items {
		if !proto.Equal(item, b.items[i]) {
			t.Fatalf("%s: record %d differs from the reference:\n%s", path, i, diffProto(b.items[i], item))
		}
	}
	return len(items)
}

// checkComplete fails unless the output (and its rejects file, when given)
// is the reference's: every settlement once, in input order.
func (b *faultBatch) checkComplete(t *testing.T, out, rejects string, report *batch.Report) {
	t.Helper()
	if n := b.checkWhole(t, out); n != len(b.items) {
		t.Fatalf("%s holds %d records, want %d", out, n, len(b.items))
	}
	seen := map[string]bool{}
	for _, item := range readItems(t, out) {
		if seen[item.GetSettlementId()] {
			t.Fatalf("%s appears twice", item.GetSettlementId())
		}
		seen[item.GetSettlementId()] = true
	}
	if rejects != "" {
		got, _ := os.ReadFile(rejects)
		want, _ := os.ReadFile(b.ref.rejects)
		if !bytes.Equal(got, want) {
			t.Errorf("rejects:\n%s\nwant the reference's:\n%s", got, want)
		}
	}
	if diff := diffProto(b.ref.report.Summary, report.Summary); diff != "" {
		t.Errorf("summary differs from the reference:\n%s", diff)
	}
}

// TestSIGTERMDuringBatch: the only server is told to stop (SIGTERM, as an
// orchestrator does on a rolling update or a scale-down) a third of the way
// through a batch. It drains for its shutdown timeout and exits; the
// streams it still holds then end. The batch either goes on with a server
// that comes back on the same address, or fails, and resuming it against a
// fresh server completes it. Either way the output is exactly the
// uninterrupted run's.
func TestSIGTERMDuringBatch(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	// 3,000 settlements; under the race detector, where they take about
	// 10 s a run, 1,000.
	n := 3000
	if race.Enabled {
		n = 1000
	}
	b := newFaultBatch(t, n)
	const drain = 300 * time.Millisecond

	// sigterm runs a batch against a draining server process, sends it
	// SIGTERM once a third of the batch is written, and hands the process
	// to after (on the test goroutine). Until release is called, each
	// record written after the signal takes a millisecond more: the streams
	// must outlive the drain, or the batch would simply finish on the
	// draining server and nothing would be tested.
	type outcome struct {
		report   *batch.Report
		err      error
		warnings []string
	}
	sigterm := func(t *testing.T, name string, giveUpAfter time.Duration, after func(addr string, first *os.Process, release func())) outcome {
		t.Setenv(drainEnv, drain.String())
		// The race detector's pause at exit would be counted in the drain.
		t.Setenv("GORACE", strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
		addr, first := startProcess(t)
		out, err := batch.OpenOutput(filepath.Join(b.dir, name), batch.OutputJSONL, batch.CreateNew)
		if err != nil {
			t.Fatal(err)
		}
		c := dial(t, addr)
		signalled := make(chan struct{})
		var once sync.Once
		var slow atomic.Bool
		var mu sync.Mutex
		var o outcome
		done := make(chan struct{})
		go func() {
			defer close(done)
			o.report, o.err = batch.Run(t.Context(), batch.Config{
				Client: c, Streams: 3, Window: 8, GiveUpAfter: giveUpAfter,
				Progress: func(p batch.Progress) {
					if p.Done >= int64(n/3) {
						once.Do(func() {
							slow.Store(true)
							if err := first.Signal(syscall.SIGTERM); err != nil {
								t.Errorf("SIGTERM: %v", err)
							}
							close(signalled)
						})
					}
					if slow.Load() {
						time.Sleep(time.Millisecond)
					}
				},
				Warn: func(s string) { mu.Lock(); o.warnings = append(o.warnings, s); mu.Unlock() },
			}, b.inputs, nil, out, &strings.Builder{})
		}()
		// Should after fail the test, the run ends with t.Context() before
		// the servers and the client go.
		t.Cleanup(func() { <-done })
		select {
		case <-signalled:
			after(addr, first, func() { slow.Store(false) })
		case <-done:
			slow.Store(false)
		}
		<-done
		if err := out.Close(); err != nil {
			t.Fatal(err)
		}
		mu.Lock()
		defer mu.Unlock()
		return o
	}

	// waitExit waits for the signalled server to exit, which it must do,
	// successfully, within its drain and a margin for the process to end.
	waitExit := func(t *testing.T, p *os.Process) {
		t.Helper()
		start := time.Now()
		exited := make(chan error, 1)
		go func() {
			st, err := p.Wait()
			if err == nil && !st.Success() {
				err = fmt.Errorf("exit status: %v", st)
			}
			exited <- err
		}()
		select {
		case err := <-exited:
			if err != nil {
				t.Errorf("the server after SIGTERM: %v", err)
			}
			t.Logf("the server exited %v after SIGTERM (drain %v)", time.Since(start).Round(time.Millisecond), drain)
		case <-time.After(drain + 5*time.Second):
			t.Fatalf("the server has not exited %v after SIGTERM, with a drain of %v", drain+5*time.Second, drain)
		}
	}

	t.Run("a server comes back on the same address", func(t *testing.T) {
		o := sigterm(t, "restarted.jsonl", 30*time.Second, func(addr string, first *os.Process, release func()) {
			waitExit(t, first)
			startProcess(t, addr)
			release()
		})
		if o.err != nil {
			t.Fatalf("the batch failed across the restart: %v", o.err)
		}
		if len(o.warnings) == 0 {
			t.Errorf("no stream was lost: the batch finished on the draining server, so the restart was not tested")
		}
		b.checkComplete(t, filepath.Join(b.dir, "restarted.jsonl"), "", o.report)
		t.Logf("%d resent, %d warnings, %s", o.report.Resent, len(o.warnings), o.report.Elapsed.Round(time.Millisecond))
	})

	t.Run("the batch fails and is resumed", func(t *testing.T) {
		const giveUp = time.Second
		o := sigterm(t, "resumed.jsonl", giveUp, func(_ string, first *os.Process, release func()) {
			waitExit(t, first)
			release()
		})
		t.Logf("the run ended: %v", o.err)
		var unreachable *batch.UnreachableError
		if !errors.As(o.err, &unreachable) {
			t.Fatalf("the batch with its server gone: %v, want it to fail as unreachable", o.err)
		}
		path := filepath.Join(b.dir, "resumed.jsonl")
		written := b.checkWhole(t, path)
		if written < n/3 || written >= n {
			t.Fatalf("the failed run wrote %d records; it was stopped after %d of %d", written, n/3, n)
		}
		r := audit(t, dial(t, servertest.Start(t, server.Config{}).GRPCAddr()), b.inputs, b.dir, "resumed.jsonl", batch.OutputJSONL, batch.Resume, 0)
		if r.err != nil {
			t.Fatalf("the resumed run: %v", r.err)
		}
		if r.report.Resumed != int64(written) || r.report.Resumed+r.report.Written != int64(n) {
			t.Errorf("resumed %d (the file held %d), wrote %d, of %d", r.report.Resumed, written, r.report.Written, n)
		}
		b.checkComplete(t, path, r.rejects, r.report)
		ref, _ := os.ReadFile(b.ref.out)
		got, _ := os.ReadFile(path)
		if !bytes.Equal(ref, got) {
			t.Errorf("the resumed output is not byte for byte the reference")
		}
	})
}

// TestCancelWhileServersDown: the user gives up (Ctrl-C) while the only
// server is down and the streams wait out their backoff before trying
// again. The run stops at once rather than after the backoff or the
// give-up time, leaves whole records only, and a resumed run against a
// fresh server completes it to exactly the uninterrupted output.
func TestCancelWhileServersDown(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server process")
	}
	n := 1000
	if race.Enabled {
		n = 500
	}
	b := newFaultBatch(t, n)
	addr, proc := startProcess(t)
	c := dial(t, addr)
	path := filepath.Join(b.dir, "cancelled.jsonl")
	out, err := batch.OpenOutput(path, batch.OutputJSONL, batch.CreateNew)
	if err != nil {
		t.Fatal(err)
	}

	// By 1.2 s after the first lost stream, the streams have failed a few
	// times and sleep in backoffs of 0.8 s and more.
	const inBackoff = 1200 * time.Millisecond
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	var kill, warned sync.Once
	cancelledAt := make(chan time.Time, 1)
	report, err := batch.Run(ctx, batch.Config{
		Client: c, Streams: 3, Window: 8, GiveUpAfter: 30 * time.Second,
		Progress: func(p batch.Progress) {
			if p.Done >= int64(n/3) {
				kill.Do(func() {
					if err := proc.Signal(syscall.SIGKILL); err != nil {
						t.Errorf("kill: %v", err)
					}
				})
			}
		},
		Warn: func(string) {
			warned.Do(func() {
				time.AfterFunc(inBackoff, func() { cancelledAt <- time.Now(); cancel() })
			})
		},
	}, b.inputs, nil, out, &strings.Builder{})
	returned := time.Now()
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	var at time.Time
	select {
	case at = <-cancelledAt:
	default:
		t.Fatalf("the run ended (%v) before it was cancelled; the server was killed after %d of %d", err, n/3, n)
	}
	if !errors.Is(err, context.Canceled) || report == nil {
		t.Fatalf("the cancelled run: %v, want context.Canceled", err)
	}
	lag := returned.Sub(at)
	t.Logf("the run returned %v after it was cancelled, %d records written", lag.Round(time.Millisecond), report.Written)
	if lag > 500*time.Millisecond {
		t.Errorf("the run returned %v after it was cancelled, want under 0.5 s", lag.Round(time.Millisecond))
	}

	written := b.checkWhole(t, path)
	if written < n/3 || written >= n {
		t.Fatalf("the cancelled run wrote %d records; the server was killed after %d of %d", written, n/3, n)
	}
	r := audit(t, dial(t, servertest.Start(t, server.Config{}).GRPCAddr()), b.inputs, b.dir, "cancelled.jsonl", batch.OutputJSONL, batch.Resume, 0)
	if r.err != nil {
		t.Fatalf("the resumed run: %v", r.err)
	}
	if r.report.Resumed != int64(written) {
		t.Errorf("the resumed run found %d records done, the file held %d", r.report.Resumed, written)
	}
	b.checkComplete(t, path, r.rejects, r.report)
	ref, _ := os.ReadFile(b.ref.out)
	got, _ := os.ReadFile(path)
	if !bytes.Equal(ref, got) {
		t.Errorf("the resumed output is not byte for byte the reference")
	}
}
