package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// The limits of Config, tested through New and the public gRPC port (and
// the REST port where the limit applies there): what the flags of
// coverage-server set is what callers meet.

type auditStream = grpc.BidiStreamingClient[coveragev1.AuditStreamRequest, coveragev1.AuditStreamResponse]

// paddedGetRuleset is a GetRuleset request for the unknown ruleset "nope"
// that is exactly size bytes of protobuf: the padding is an unknown field,
// which the server keeps and ignores, so a request that gets in reaches the
// handler and is answered NOT_FOUND.
func paddedGetRuleset(t *testing.T, size int) *coveragev1.GetRulesetRequest {
	t.Helper()
	for pad := size; pad >= 0; pad-- {
		req := &coveragev1.GetRulesetRequest{Id: "nope"}
		req.ProtoReflect().SetUnknown(protowire.AppendBytes(protowire.AppendTag(nil, 999, protowire.BytesType), make([]byte, pad)))
		if proto.Size(req) == size {
			return req
		}
	}
	t.Fatalf("no padding makes a %d-byte request", size)
	return nil
}

// TestMaxMessageBytesOnGRPCPort: Config.MaxMessageBytes (--max-message-bytes)
// bounds what the gRPC port receives and sends. A request of exactly the
// limit is taken, one byte more is RESOURCE_EXHAUSTED before any handler
// runs; a response over the limit is RESOURCE_EXHAUSTED too, not a dropped
// connection; and the connection goes on serving after each.
func TestMaxMessageBytesOnGRPCPort(t *testing.T) {
	const limit = 4096
	catalog := testCatalog(t)
	ts := startServer(t, Config{Catalog: catalog, MaxMessageBytes: limit})
	ctx := rpcContext(t)

	// Sizes the cases rely on.
	bigRequest := &coveragev1.AuditRequest{Settlement: squareCity(11, 500)}
	smallRequest := &coveragev1.AuditRequest{Settlement: batchTown("town", 1)}
	answer, err := NewService(catalog).Audit(ctx, smallRequest)
	if err != nil {
		t.Fatal(err)
	}
	if n := proto.Size(bigRequest); n <= limit {
		t.Fatalf("premise: the big request is %d bytes, not over %d", n, limit)
	}
	if n, m := proto.Size(smallRequest), proto.Size(answer); n >= limit || m <= limit {
		t.Fatalf("premise: the town's request is %d bytes and its audit %d, want under and over %d", n, m, limit)
	}

	gotIn := func(name string, err error) {
		t.Helper()
		if status.Code(err) != codes.NotFound {
			t.Fatalf("%s: %v, want the handler's NOT_FOUND", name, err)
		}
	}
	tooBig := func(name string, err error, want string) {
		t.Helper()
		st := wantCode(t, err, codes.ResourceExhausted)
		if !strings.Contains(st.Message(), want) {
			t.Errorf("%s: message %q, want it to contain %q", name, st.Message(), want)
		}
	}

	// The request limit, to the byte.
	_, err = ts.client.GetRuleset(ctx, paddedGetRuleset(t, limit))
	gotIn("a request of exactly the limit", err)
	_, err = ts.client.GetRuleset(ctx, paddedGetRuleset(t, limit+1))
	tooBig("a request one byte over the limit", err, fmt.Sprintf("received message larger than max (%d vs. %d)", limit+1, limit))
	_, err = ts.client.GetRuleset(ctx, paddedGetRuleset(t, limit))
	gotIn("the next request on the same connection", err)
	_, err = ts.client.Audit(ctx, bigRequest)
	tooBig("an audit of 500 stops", err, "received message larger than max")

	// streamOne sends s on a new stream and returns what ends its first
	// answer.
	streamOne := func(s *coveragev1.Settlement) error {
		t.Helper()
		stream, err := ts.client.AuditStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.Send(&coveragev1.AuditStreamRequest{Settlement: s}); err != nil {
			t.Fatal(err)
		}
		_, err = stream.Recv()
		return err
	}

	// On a stream, an oversized message ends that stream.
	tooBig("a stream message over the limit", streamOne(bigRequest.GetSettlement()), "received message larger than max")

	// The response limit: the town's audit is larger than the limit.
	_, err = ts.client.Audit(ctx, smallRequest)
	tooBig("an audit whose answer is over the limit", err, fmt.Sprintf("trying to send message larger than max (%d vs. %d)", proto.Size(answer), limit))
	tooBig("a stream item over the limit", streamOne(smallRequest.GetSettlement()), "trying to send message larger than max")

	// The connection serves on: a small answer, and a request at the limit.
	if resp, err := healthpb.NewHealthClient(ts.conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health Check after the refusals: %v, %v", resp, err)
	}
	_, err = ts.client.GetRuleset(ctx, paddedGetRuleset(t, limit))
	gotIn("a request at the limit after the refusals", err)
}

// streamCounter is the real service, counting the AuditStream handlers
// running at once per client connection (by the caller's address).
type streamCounter struct {
	*Service
	mu           sync.Mutex
	active, peak map[string]int
}

func (s *streamCounter) AuditStream(stream grpc.BidiStreamingServer[coveragev1.AuditStreamRequest, coveragev1.AuditStreamResponse]) error {
	p, _ := peer.FromContext(stream.Context())
	addr := p.Addr.String()
	s.mu.Lock()
	s.active[addr]++
	s.peak[addr] = max(s.peak[addr], s.active[addr])
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.active[addr]--
		s.mu.Unlock()
	}()
	return s.Service.AuditStream(stream)
}

// counts are the handlers running now and the most that ever ran at once,
// on the connections of the server, highest first.
func (s *streamCounter) counts() (active, peak int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, n := range s.active {
		active = max(active, n)
	}
	for _, n := range s.peak {
		peak = max(peak, n)
	}
	return active, peak
}

// TestMaxConcurrentStreamsPerConnection: with Config.MaxConcurrentStreams
// (--max-concurrent-streams) at 2, a third stream on the same connection is
// not served while two are open (grpc-go's client holds it back on the
// server's SETTINGS_MAX_CONCURRENT_STREAMS); it gets its first answer only
// after one of the two has closed. Another connection is not held back.
func TestMaxConcurrentStreamsPerConnection(t *testing.T) {
	const limit = 2
	catalog := testCatalog(t)
	svc := &streamCounter{Service: NewService(catalog), active: map[string]int{}, peak: map[string]int{}}
	ts := startServer(t, Config{Catalog: catalog, service: svc, MaxConcurrentStreams: limit})
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	// Connected, and the server's SETTINGS read, before any stream opens.
	if _, err := ts.client.ListRulesets(ctx, &coveragev1.ListRulesetsRequest{}); err != nil {
		t.Fatal(err)
	}

	// openServed opens a stream on client and waits for the answer to its
	// first settlement: its handler is then running, waiting for the next.
	openServed := func(client coveragev1.CoverageServiceClient, id string) auditStream {
		t.Helper()
		s, err := client.AuditStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if err := s.Send(&coveragev1.AuditStreamRequest{Settlement: batchTown(id, 1)}); err != nil {
			t.Fatal(err)
		}
		if r, err := s.Recv(); err != nil || r.GetResult().GetSettlementId() != id {
			t.Fatalf("stream %s: first answer %v, %v", id, r, err)
		}
		return s
	}
	// finish ends a stream as a client does: the summary, then the end.
	finish := func(s auditStream, name string) {
		t.Helper()
		if err := s.CloseSend(); err != nil {
			t.Fatal(err)
		}
		if r, err := s.Recv(); err != nil || r.GetSummary() == nil {
			t.Fatalf("stream %s: %v, %v, want its summary", name, r, err)
		}
		if _, err := s.Recv(); !errors.Is(err, io.EOF) {
			t.Fatalf("stream %s after its summary: %v, want io.EOF", name, err)
		}
	}

	a := openServed(ts.client, "a")
	b := openServed(ts.client, "b")
	if active, _ := svc.counts(); active != limit {
		t.Fatalf("%d stream handlers running, want %d", active, limit)
	}

	// The third stream, on the same connection.
	type answer struct {
		stream      auditStream
		err         error
		afterClosed bool // whether stream a had begun to close when it came
	}
	aClosing := make(chan struct{})
	third := make(chan answer, 1)
	go func() {
		s, err := ts.client.AuditStream(ctx)
		if err == nil {
			err = s.Send(&coveragev1.AuditStreamRequest{Settlement: batchTown("c", 1)})
		}
		if err == nil {
			var r *coveragev1.AuditStreamResponse
			if r, err = s.Recv(); err == nil && r.GetResult().GetSettlementId() != "c" {
				err = fmt.Errorf("first answer %v", r)
			}
		}
		closed := false
		select {
		case <-aClosing:
			closed = true
		default:
		}
		third <- answer{s, err, closed}
	}()

	// While two are open, it waits, whatever the time given: a second is
	// many times what the first two streams took to be answered.
	select {
	case r := <-third:
		t.Fatalf("a third stream on the connection was answered (err %v) while %d were open", r.err, limit)
	case <-time.After(time.Second):
	}
	// Another connection is not held back by this one's streams.
	other := coveragev1.NewCoverageServiceClient(dialServer(t, ts.srv))
	finish(openServed(other, "elsewhere"), "elsewhere")

	close(aClosing)
	finish(a, "a")
	var c answer
	select {
	case c = <-third:
	case <-time.After(30 * time.Second):
		t.Fatal("the third stream was not answered within 30 s of another closing")
	}
	if c.err != nil {
		t.Fatalf("the third stream: %v", c.err)
	}
	if !c.afterClosed {
		t.Error("the third stream was answered before another had closed")
	}
	finish(b, "b")
	finish(c.stream, "c")
	if _, peak := svc.counts(); peak != limit {
		t.Errorf("at most %d stream handlers ran at once on one connection, want %d", peak, limit)
	}
}

// TestMaxBatchFromConfig: Config.MaxBatch (--max-batch) reaches the
// service New builds: over gRPC and REST, a batch of MaxBatch settlements is
// audited, one more is INVALID_ARGUMENT (400) with one google.rpc.BadRequest
// field violation on "settlements".
func TestMaxBatchFromConfig(t *testing.T) {
	const limit = 3
	ts := startServer(t, Config{MaxBatch: limit})
	ctx := rpcContext(t)
	towns := func(n int) []*coveragev1.Settlement {
		var out []*coveragev1.Settlement
		for i := range n {
			out = append(out, batchTown(fmt.Sprint("t", i), 1))
		}
		return out
	}
	const wantReason = "4 settlements exceed the batch limit of 3; send more requests, or use the AuditStream RPC"
	const wantMessage = "invalid argument: settlements: " + wantReason

	resp, err := ts.client.AuditBatch(ctx, &coveragev1.AuditBatchRequest{Settlements: towns(limit)})
	if err != nil {
		t.Fatalf("a batch at the limit: %v", err)
	}
	if len(resp.GetResults()) != limit || resp.GetSummary().GetAudited() != limit {
		t.Errorf("a batch at the limit: %d results, %d audited", len(resp.GetResults()), resp.GetSummary().GetAudited())
	}

	_, err = ts.client.AuditBatch(ctx, &coveragev1.AuditBatchRequest{Settlements: towns(limit + 1)})
	st := wantCode(t, err, codes.InvalidArgument)
	if st.Message() != wantMessage {
		t.Errorf("message %q, want %q", st.Message(), wantMessage)
	}
	details := st.Details()
	var br *errdetails.BadRequest
	if len(details) == 1 {
		br, _ = details[0].(*errdetails.BadRequest)
	}
	if len(br.GetFieldViolations()) != 1 {
		t.Fatalf("details %v, want one google.rpc.BadRequest with one field violation", details)
	}
	if v := br.GetFieldViolations()[0]; v.GetField() != "settlements" || v.GetDescription() != wantReason {
		t.Errorf("field violation %q: %q, want settlements: %q", v.GetField(), v.GetDescription(), wantReason)
	}

	// The same limit over REST.
	body := func(n int) string {
		var parts []string
		for i := range n {
			parts = append(parts, fmt.Sprintf(`{"id":"t%d","kind":"SETTLEMENT_KIND_TOWN","elderlyPopulation":12000,"elderlyCareBeds":300}`, i))
		}
		return `{"settlements":[` + strings.Join(parts, ",") + `]}`
	}
	if code, data := ts.do(t, http.MethodPost, "/v1/audit:batch", body(limit)); code != http.StatusOK {
		t.Errorf("REST batch at the limit: %d %s", code, data)
	}
	code, data := ts.do(t, http.MethodPost, "/v1/audit:batch", body(limit+1))
	if code != http.StatusBadRequest {
		t.Fatalf("REST batch over the limit: %d %s, want 400", code, data)
	}
	e := decodeHTTPError(t, data)
	if e.Code != int(codes.InvalidArgument) || e.Message != wantMessage || len(e.Details) != 1 || len(e.Details[0].FieldViolations) != 1 {
		t.Fatalf("REST error body %s", data)
	}
	if f := firstViolationField(t, data); f != "settlements" || e.Details[0].FieldViolations[0].Description != wantReason {
		t.Errorf("REST field violation %q: %q", f, e.Details[0].FieldViolations[0].Description)
	}
}

// panickingStreamService is the real service whose AuditStream panics on
// receiving the settlement "boom", in the middle of the real handler.
type panickingStreamService struct{ *Service }

func (s panickingStreamService) AuditStream(stream grpc.BidiStreamingServer[coveragev1.AuditStreamRequest, coveragev1.AuditStreamResponse]) error {
	return s.Service.AuditStream(explodingStream{stream})
}

type explodingStream struct {
	grpc.BidiStreamingServer[coveragev1.AuditStreamRequest, coveragev1.AuditStreamResponse]
}

func (e explodingStream) Recv() (*coveragev1.AuditStreamRequest, error) {
	req, err := e.BidiStreamingServer.Recv()
	if req.GetSettlement().GetId() == "boom" {
		panic("stream exploded")
	}
	return req, err
}

// TestStreamPanicRecovery: a panic in a streaming handler ends that stream
// with INTERNAL, after the answers sent before it and without the panic's
// text; it is logged with its stack, and the server goes on serving streams
// and unary calls on the same connection.
func TestStreamPanicRecovery(t *testing.T) {
	logs := &syncBuffer{}
	catalog := testCatalog(t)
	ts := startServer(t, Config{
		Catalog: catalog,
		Logger:  slog.New(slog.NewTextHandler(logs, nil)),
		service: panickingStreamService{NewService(catalog)},
	})
	ctx := rpcContext(t)

	stream, err := ts.client.AuditStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"before", "boom"} {
		if err := stream.Send(&coveragev1.AuditStreamRequest{Settlement: batchTown(id, 1)}); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := stream.Recv(); err != nil || r.GetResult().GetSettlementId() != "before" {
		t.Fatalf("the answer before the panic: %v, %v", r, err)
	}
	_, err = stream.Recv()
	st := wantCode(t, err, codes.Internal)
	if st.Message() != "internal error" {
		t.Errorf("INTERNAL message %q, want %q", st.Message(), "internal error")
	}
	if !waitFor(5*time.Second, func() bool {
		l := logs.String()
		return strings.Contains(l, "handler panic") && strings.Contains(l, "stream exploded") && strings.Contains(l, "AuditStream")
	}) {
		t.Errorf("the panic was not logged with its stack; logs:\n%s", logs.String())
	}

	// A new stream on the same connection is served to its end.
	stream, err = ts.client.AuditStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&coveragev1.AuditStreamRequest{Settlement: batchTown("after", 1)}); err != nil {
		t.Fatal(err)
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if r, err := stream.Recv(); err != nil || r.GetResult().GetAudit() == nil {
		t.Fatalf("a stream after the panic: %v, %v", r, err)
	}
	if r, err := stream.Recv(); err != nil || r.GetSummary().GetAudited() != 1 {
		t.Fatalf("the summary of a stream after the panic: %v, %v", r, err)
	}
	if _, err := stream.Recv(); !errors.Is(err, io.EOF) {
		t.Fatalf("after the summary: %v, want io.EOF", err)
	}
	if _, err := ts.client.Audit(ctx, &coveragev1.AuditRequest{Settlement: batchTown("unary", 1)}); err != nil {
		t.Fatalf("Audit after a stream panic: %v", err)
	}
	// And a fresh connection too.
	if _, err := coveragev1.NewCoverageServiceClient(dialServer(t, ts.srv)).ListRulesets(ctx, &coveragev1.ListRulesetsRequest{}); err != nil {
		t.Fatalf("ListRulesets on a new connection after a stream panic: %v", err)
	}
}
