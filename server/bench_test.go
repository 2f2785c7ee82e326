package server

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	rtmetrics "runtime/metrics"
	"syscall"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/mem"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// The benchmarks below put the whole server path of a unary Audit (every
// interceptor, the metrics, the logger, protobuf and HTTP/2) in one process,
// over an in-memory connection, so that its CPU and allocations per call can
// be compared between changes without a load generator sharing the machine.
// The request is the one bench/load sends: the town of
// examples/town-health-facilities.json, full view.
//
//	go test -run '^$' -bench Audit -benchmem ./server/

// benchRawCodec sends a request already in wire format and reads a response
// only for its size, as bench/load's generator does, so that the client's
// share of each iteration stays small.
type benchRawCodec struct{}

func (benchRawCodec) Marshal(v any) (mem.BufferSlice, error) {
	return mem.BufferSlice{mem.SliceBuffer(*v.(*[]byte))}, nil
}

func (benchRawCodec) Unmarshal(data mem.BufferSlice, v any) error {
	*v.(*int) = data.Len()
	return nil
}

func (benchRawCodec) Name() string { return "proto" }

// benchServer is a Server built by New, serving gRPC over bufconn, and its
// REST gateway as a handler.
type benchServer struct {
	srv     *Server
	conn    *grpc.ClientConn
	gateway http.Handler
}

func benchAuditBody(tb testing.TB) []byte {
	tb.Helper()
	data, err := os.ReadFile("../examples/town-health-facilities.json")
	if err != nil {
		tb.Fatal(err)
	}
	return data
}

// benchAuditResponse is the service's answer to bench/load's audit request
// (full view).
func benchAuditResponse(tb testing.TB) *coveragev1.AuditResponse {
	tb.Helper()
	req := &coveragev1.AuditRequest{}
	if err := protojson.Unmarshal(benchAuditBody(tb), req); err != nil {
		tb.Fatal(err)
	}
	resp, err := NewService(testCatalog(tb)).Audit(context.Background(), req)
	if err != nil {
		tb.Fatal(err)
	}
	return resp
}

func newBenchServer(tb testing.TB, level slog.Level) *benchServer {
	tb.Helper()
	logger := slog.New(slog.NewJSONHandler(io.Discard, &slog.HandlerOptions{Level: level}))
	srv, err := New(Config{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Catalog: testCatalog(tb), Logger: logger})
	if err != nil {
		tb.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	served := make(chan error, 1)
	go func() { served <- srv.grpc.Serve(inMemoryListener(lis)) }()
	conn, err := srv.dialInMemory(lis)
	if err != nil {
		tb.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	gw, err := srv.gateway(ctx, conn)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() {
		cancel()
		conn.Close()
		srv.grpc.Stop()
		if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			tb.Errorf("Serve: %v", err)
		}
		srv.Close()
	})
	return &benchServer{srv: srv, conn: conn, gateway: gw}
}

// processCPU is the CPU time, user and system, the process has used.
func processCPU() time.Duration {
	var ru syscall.Rusage
	_ = syscall.Getrusage(syscall.RUSAGE_SELF, &ru)
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// gcCPU is the CPU time the garbage collector has used, as the runtime
// estimates it.
func gcCPU() float64 {
	s := []rtmetrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	rtmetrics.Read(s)
	return s[0].Value.Float64()
}

// runParallel runs call b.N times, several in flight as under load (the
// server's workers, its writer and the client interleave), and reports the
// process's CPU per call beside the wall time: on a shared machine the CPU
// is the steadier figure.
func runParallel(b *testing.B, call func() int) {
	b.SetBytes(int64(call()))
	b.ReportAllocs()
	b.SetParallelism(4)
	b.ResetTimer()
	cpu0, gc0 := processCPU(), gcCPU()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			call()
		}
	})
	b.ReportMetric(float64((processCPU()-cpu0).Microseconds())/float64(b.N), "cpu-µs/op")
	b.ReportMetric((gcCPU()-gc0)*1e6/float64(b.N), "gc-cpu-µs/op")
}

func benchAuditGRPC(b *testing.B, level slog.Level) {
	bs := newBenchServer(b, level)
	req := &coveragev1.AuditRequest{}
	if err := protojson.Unmarshal(benchAuditBody(b), req); err != nil {
		b.Fatal(err)
	}
	payload, err := proto.Marshal(req)
	if err != nil {
		b.Fatal(err)
	}
	call := func() int {
		var n int
		if err := bs.conn.Invoke(context.Background(), "/coverage.v1.CoverageService/Audit", &payload, &n,
			grpc.ForceCodecV2(benchRawCodec{})); err != nil {
			b.Fatal(err)
		}
		return n
	}
	runParallel(b, call)
}

// BenchmarkAuditGRPC is the unary Audit as bench/load runs the server: logs
// at level warn.
func BenchmarkAuditGRPC(b *testing.B) { benchAuditGRPC(b, slog.LevelWarn) }

// BenchmarkAuditGRPCLogInfo is the same with a log line for every call.
func BenchmarkAuditGRPCLogInfo(b *testing.B) { benchAuditGRPC(b, slog.LevelInfo) }

// BenchmarkAuditREST is POST /v1/audit through the gateway's handler (the
// HTTP server itself is left out), logs at level warn.
func BenchmarkAuditREST(b *testing.B) {
	bs := newBenchServer(b, slog.LevelWarn)
	body := benchAuditBody(b)
	call := func() int {
		req := httptest.NewRequest(http.MethodPost, "/v1/audit", bytes.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		w := &discardResponse{header: http.Header{}}
		bs.gateway.ServeHTTP(w, req)
		if w.code != 0 && w.code != http.StatusOK {
			b.Fatalf("status %d", w.code)
		}
		return w.n
	}
	runParallel(b, call)
}

// discardResponse is an http.ResponseWriter that keeps the status and the
// size, not the body.
type discardResponse struct {
	header http.Header
	code   int
	n      int
}

func (w *discardResponse) Header() http.Header { return w.header }
func (w *discardResponse) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
}

func (w *discardResponse) Write(p []byte) (int, error) {
	w.n += len(p)
	return len(p), nil
}
