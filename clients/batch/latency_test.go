package batch_test

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/proto"

	"github.com/civic-standards/coverage/clients/batch"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
	"github.com/civic-standards/coverage/server/servertest"
)

// startDelayed serves the coverage service on a loopback port until the test
// ends, holding back every message a stream sends by delay.
func startDelayed(t *testing.T, delay time.Duration) string {
	t.Helper()
	return servertest.StartService(t, grpc.ChainStreamInterceptor(func(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		return handler(srv, delayedStream{ss, delay})
	}))
}

type delayedStream struct {
	grpc.ServerStream
	delay time.Duration
}

func (s delayedStream) SendMsg(m any) error {
	time.Sleep(s.delay)
	return s.ServerStream.SendMsg(m)
}

// TestLatency: every settlement answered on a stream is measured once (one
// the server rejects too; one that cannot be read, never sent, is not), and
// against a server that holds every answer back by a known delay, with one
// settlement in flight per stream, the quantiles are ordered, none is below
// the delay, and the median is the delay and a round trip, not the wait for
// the stream's previous answer as well.
func TestLatency(t *testing.T) {
	const delay = 25 * time.Millisecond
	c := dial(t, startDelayed(t, delay))
	dir := t.TempDir()
	var settlements []*coveragev1.Settlement
	for i := range 60 {
		settlements = append(settlements, town(i))
	}
	settlements[10].ElderlyPopulation = proto.Int64(-1) // the server rejects it
	path := filepath.Join(dir, "towns.jsonl")
	writeJSONL(t, path, settlements, map[int]string{20: "not json"})
	out, err := batch.OpenOutput(filepath.Join(dir, "out.jsonl"), batch.OutputJSONL, batch.CreateNew)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	rejects, err := os.Create(filepath.Join(dir, "rejects.txt"))
	if err != nil {
		t.Fatal(err)
	}
	defer rejects.Close()
	report, err := batch.Run(t.Context(), batch.Config{Client: c, Streams: 2, Window: 1},
		[]batch.Input{{Path: path, Format: batch.FormatJSONL}}, nil, out, rejects)
	if err != nil {
		t.Fatal(err)
	}
	l := report.Latency
	const answered = 59
	if report.Written != answered || l.Count != answered {
		t.Fatalf("%d latencies for %d written results; want %d of each", l.Count, report.Written, answered)
	}
	if !(0 < l.P50 && l.P50 <= l.P95 && l.P95 <= l.P99 && l.P99 <= l.Max) {
		t.Errorf("quantiles out of order: p50 %s, p95 %s, p99 %s, max %s", l.P50, l.P95, l.P99, l.Max)
	}
	if l.Quantile(0.5) != l.P50 || l.Quantile(0.99) != l.P99 || l.Quantile(1) != l.Max {
		t.Errorf("Quantile disagrees with the fields: %s %s %s, want %s %s %s", l.Quantile(0.5), l.Quantile(0.99), l.Quantile(1), l.P50, l.P99, l.Max)
	}
	if lowest := l.Quantile(1.0 / answered); lowest < delay {
		t.Errorf("the shortest latency is %s, below the server's delay of %s", lowest, delay)
	}
	if l.P50 > delay*9/5 {
		t.Errorf("median %s; with one settlement in flight per stream, want the delay (%s) and a round trip", l.P50, delay)
	}
	t.Logf("%d answered: p50 %s, p95 %s, p99 %s, max %s", l.Count, l.P50, l.P95, l.P99, l.Max)
}
