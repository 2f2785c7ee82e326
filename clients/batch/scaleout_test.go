package batch_test

import (
	"bufio"
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc/connectivity"
	"google.golang.org/protobuf/proto"

	"github.com/civic-standards/coverage/clients/batch"
	"github.com/civic-standards/coverage/coverage"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
	"github.com/civic-standards/coverage/server"
	"github.com/civic-standards/coverage/server/servertest"
)

// serveEnv makes the test binary a coverage server (see TestMain), so the
// scale-out test can kill a real process, connections and all.
const serveEnv = "BATCH_TEST_SERVE"

func TestMain(m *testing.M) {
	if os.Getenv(serveEnv) == "1" {
		serve()
		return
	}
	os.Exit(m.Run())
}

func serve() {
	catalog, err := coverage.DefaultCatalog()
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	addr := os.Getenv(serveEnv + "_ADDR")
	if addr == "" {
		addr = "127.0.0.1:0"
	}
	srv, err := server.New(server.Config{GRPCAddr: addr, HTTPAddr: "127.0.0.1:0", Catalog: catalog})
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	fmt.Println(srv.GRPCAddr())
	if err := srv.Serve(context.Background()); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// startProcess runs a server in a child process, on addr if given, and
// returns its address and the process.
func startProcess(t *testing.T, addr ...string) (string, *os.Process) {
	t.Helper()
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), serveEnv+"=1")
	if len(addr) > 0 {
		cmd.Env = append(cmd.Env, serveEnv+"_ADDR="+addr[0])
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
	})
	line, err := bufio.NewReader(stdout).ReadString('\n')
	if err != nil {
		t.Fatalf("server process: %v", err)
	}
	return strings.TrimSpace(line), cmd.Process
}

// TestScaleOutSurvivesAKilledServer: a few thousand settlements, spread over
// three server processes, one of which is killed mid-batch. Every input comes
// back exactly once, with the audit a healthy server gives it.
func TestScaleOutSurvivesAKilledServer(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three server processes")
	}
	var addrs []string
	var victim *os.Process
	for i := range 3 {
		addr, p := startProcess(t)
		addrs = append(addrs, addr)
		if i == 1 {
			victim = p
		}
	}
	dir := t.TempDir()
	const n = 3000
	var settlements []*coveragev1.Settlement
	for i := range n {
		settlements = append(settlements, town(i))
	}
	settlements[1234].ElderlyPopulation = proto.Int64(-1)
	path := filepath.Join(dir, "towns.jsonl")
	writeJSONL(t, path, settlements, nil)
	inputs := []batch.Input{{Path: path, Format: batch.FormatJSONL}}

	// The reference: one healthy in-process server, one stream.
	ref := audit(t, dial(t, servertest.Start(t, server.Config{}).GRPCAddr()), inputs, dir, "ref.jsonl", batch.OutputJSONL, batch.CreateNew, 0)
	if ref.err != nil {
		t.Fatal(ref.err)
	}

	c := dial(t, strings.Join(addrs, ","))
	// Streams go to the servers that are ready when they open: let all three
	// finish their handshakes so that the victim surely carries some.
	c.Conn().Connect()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	for st := c.Conn().GetState(); st != connectivity.Ready; st = c.Conn().GetState() {
		if !c.Conn().WaitForStateChange(ctx, st) {
			t.Fatal("the servers did not become ready")
		}
	}
	time.Sleep(200 * time.Millisecond)
	out, err := batch.OpenOutput(filepath.Join(dir, "out.jsonl"), batch.OutputJSONL, batch.CreateNew)
	if err != nil {
		t.Fatal(err)
	}
	var kill sync.Once
	var warnings []string
	var mu sync.Mutex
	report, err := batch.Run(t.Context(), batch.Config{
		Client: c, Streams: 6, Window: 16, GiveUpAfter: 20 * time.Second,
		Progress: func(p batch.Progress) {
			if p.Done >= n/3 {
				kill.Do(func() {
					if err := victim.Signal(syscall.SIGKILL); err != nil {
						t.Errorf("kill: %v", err)
					}
				})
			}
		},
		Warn: func(s string) { mu.Lock(); warnings = append(warnings, s); mu.Unlock() },
	}, inputs, nil, out, &strings.Builder{})
	if err != nil {
		t.Fatal(err)
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	got, want := readItems(t, filepath.Join(dir, "out.jsonl")), readItems(t, ref.out)
	if len(got) != n || len(want) != n {
		t.Fatalf("%d results, reference %d, inputs %d", len(got), len(want), n)
	}
	seen := map[string]bool{}
	for i := range got {
		id := got[i].GetSettlementId()
		if seen[id] {
			t.Fatalf("%s appears twice", id)
		}
		seen[id] = true
		if !proto.Equal(got[i], want[i]) {
			t.Fatalf("result %d differs from the reference:\n%s", i, diffProto(want[i], got[i]))
		}
	}
	if len(seen) != n {
		t.Errorf("%d distinct settlements, want %d", len(seen), n)
	}
	if diff := diffProto(ref.report.Summary, report.Summary); diff != "" {
		t.Errorf("summary differs from the reference:\n%s", diff)
	}
	if report.Resent == 0 || len(warnings) == 0 {
		t.Errorf("resent %d settlements after %d warnings; the kill was not noticed mid-batch", report.Resent, len(warnings))
	}
	// A re-sent settlement's latency is its answered attempt's, counted once.
	if report.Latency.Count != n {
		t.Errorf("%d latencies measured for %d settlements answered", report.Latency.Count, n)
	}
	t.Logf("%d settlements over 3 servers, one killed: %d resent, %s; latency p50 %s, p99 %s, max %s",
		n, report.Resent, report.Elapsed, report.Latency.P50, report.Latency.P99, report.Latency.Max)
}

// TestServerRestart: the only server dies mid-batch and comes back on the
// same address a second later; the run waits for it and finishes, with every
// settlement once.
func TestServerRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts server processes")
	}
	addr, first := startProcess(t)
	dir := t.TempDir()
	const n = 2000
	var settlements []*coveragev1.Settlement
	for i := range n {
		settlements = append(settlements, town(i))
	}
	path := filepath.Join(dir, "towns.jsonl")
	writeJSONL(t, path, settlements, nil)
	out, err := batch.OpenOutput(filepath.Join(dir, "out.jsonl"), batch.OutputJSONL, batch.CreateNew)
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	restarted := make(chan struct{})
	report, err := batch.Run(t.Context(), batch.Config{
		Client: dial(t, addr), Streams: 2, Window: 8, GiveUpAfter: 30 * time.Second,
		Progress: func(p batch.Progress) {
			if p.Done >= n/2 {
				once.Do(func() {
					_ = first.Signal(syscall.SIGKILL)
					go func() {
						defer close(restarted)
						time.Sleep(time.Second)
						startProcess(t, addr)
					}()
				})
			}
		},
	}, []batch.Input{{Path: path, Format: batch.FormatJSONL}}, nil, out, &strings.Builder{})
	<-restarted
	if err != nil {
		t.Fatal(err)
	}
	out.Close()
	items := readItems(t, filepath.Join(dir, "out.jsonl"))
	if len(items) != n {
		t.Fatalf("%d results for %d settlements", len(items), n)
	}
	for i, item := range items {
		if item.GetSettlementId() != settlements[i].GetId() || (item.GetAudit() == nil) == (item.GetError() == nil) {
			t.Fatalf("result %d: %s, audit %v, error %v", i, item.GetSettlementId(), item.GetAudit() != nil, item.GetError())
		}
	}
	if report.Resent == 0 {
		t.Error("nothing was re-sent; the server was not restarted mid-batch")
	}
}
