package server

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestProfilingOnOpsPortOnly: --pprof serves Go's runtime profiles on the
// ops address and nowhere else, and not at all without the flag.
func TestProfilingOnOpsPortOnly(t *testing.T) {
	if _, err := New(Config{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Catalog: testCatalog(t), Profiling: true}); err == nil ||
		!strings.Contains(err.Error(), "ops address") {
		t.Fatalf("profiling without an ops address: err %v, want a refusal naming the ops address", err)
	}
	get := func(url string) (int, string) {
		t.Helper()
		resp, err := (&http.Client{Timeout: 10 * time.Second}).Get(url)
		if err != nil {
			t.Fatalf("GET %s: %v", url, err)
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	for _, profiling := range []bool{true, false} {
		srv, err := New(Config{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", OpsAddr: "127.0.0.1:0",
			Catalog: testCatalog(t), Profiling: profiling, ShutdownTimeout: 2 * time.Second})
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan error, 1)
		go func() { done <- srv.Serve(ctx) }()

		code, body := get("http://" + srv.OpsAddr() + "/debug/pprof/")
		if profiling && (code != http.StatusOK || !strings.Contains(body, "goroutine")) {
			t.Errorf("--pprof: ops /debug/pprof/: %d %.200s", code, body)
		}
		if !profiling && code != http.StatusNotFound {
			t.Errorf("without --pprof: ops /debug/pprof/: %d, want 404", code)
		}
		if profiling {
			if code, body := get("http://" + srv.OpsAddr() + "/debug/pprof/profile?seconds=1"); code != http.StatusOK || len(body) == 0 {
				t.Errorf("--pprof: a CPU profile: %d, %d bytes", code, len(body))
			}
		}
		if code, _ := get("http://" + srv.HTTPAddr() + "/debug/pprof/"); code == http.StatusOK {
			t.Errorf("profiling %v: the REST port serves /debug/pprof/", profiling)
		}
		if code, _ := get("http://" + srv.OpsAddr() + "/healthz"); code != http.StatusOK {
			t.Errorf("profiling %v: ops /healthz: %d", profiling, code)
		}
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	}
}
