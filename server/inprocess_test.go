package server

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// probeService is the real service, with methods that fail in the ways a
// handler can, and a record of what each call saw of the transport.
type probeService struct {
	*Service
	mu   sync.Mutex
	seen []string
	// block holds the calls of ruleset "block" until it is closed;
	// entered receives one value as each starts.
	block   chan struct{}
	entered chan struct{}
}

func (p *probeService) note(ctx context.Context) {
	md, _ := metadata.FromIncomingContext(ctx)
	if id := md.Get(requestIDKey); len(id) == 1 && len(id[0]) == 24 {
		md.Set(requestIDKey, "generated")
	}
	var keys []string
	for k, v := range md {
		keys = append(keys, fmt.Sprintf("%s=%q", k, v))
	}
	slices.Sort(keys)
	pr, _ := peer.FromContext(ctx)
	method, _ := grpc.Method(ctx)
	_, deadline := ctx.Deadline()
	line := fmt.Sprintf("%s md{%s} peer %v/%v/%T deadline %v", method, strings.Join(keys, " "), pr.Addr, pr.LocalAddr, pr.AuthInfo, deadline)
	p.mu.Lock()
	p.seen = append(p.seen, line)
	p.mu.Unlock()
}

func (p *probeService) Audit(ctx context.Context, req *coveragev1.AuditRequest) (*coveragev1.AuditResponse, error) {
	p.note(ctx)
	switch req.GetRulesetId() {
	case "panic":
		panic("audit exploded")
	case "plain":
		return nil, errors.New("a plain error")
	case "canceled":
		return nil, context.Canceled
	case "block":
		p.entered <- struct{}{}
		<-p.block
		return nil, status.Error(codes.Aborted, "released")
	case "headers":
		_ = grpc.SetHeader(ctx, metadata.Pairs("x-one", "1", "x-bin", "\x00\xff"))
		_ = grpc.SendHeader(ctx, metadata.Pairs("x-two", "2"))
		if err := grpc.SetHeader(ctx, metadata.Pairs("x-late", "3")); err != nil {
			_ = grpc.SetTrailer(ctx, metadata.Pairs("x-set-header-error", err.Error()))
		}
		_ = grpc.SetTrailer(ctx, metadata.Pairs("x-trailer", "t"))
		req.RulesetId = ""
	case "details":
		st, _ := status.New(codes.FailedPrecondition, "with details").WithDetails(req.GetSettlement())
		_ = grpc.SetTrailer(ctx, metadata.Pairs("x-trailer", "t"))
		return nil, st.Err()
	}
	return p.Service.Audit(ctx, req)
}

// gatewayPair is one server, twice: its REST front over the in-memory gRPC
// connection (the reference) and in process.
type gatewayPair struct {
	ref, fast       http.Handler
	refLog, fastLog *lockedBuffer
	refReg, fastReg prometheus.Gatherer
	refSvc, fastSvc *probeService
}

func newGatewayPair(t *testing.T, cfg Config) *gatewayPair {
	t.Helper()
	p := &gatewayPair{refLog: &lockedBuffer{}, fastLog: &lockedBuffer{}}
	build := func(log *lockedBuffer, inProcess bool) (http.Handler, prometheus.Gatherer, *probeService) {
		c := cfg
		c.GRPCAddr, c.HTTPAddr, c.Catalog = "127.0.0.1:0", "127.0.0.1:0", testCatalog(t)
		c.Logger = slog.New(slog.NewJSONHandler(log, &slog.HandlerOptions{Level: slog.LevelDebug}))
		svc := &probeService{Service: NewService(c.Catalog)}
		c.service = svc
		srv, err := New(c)
		if err != nil {
			t.Fatal(err)
		}
		lis := bufconn.Listen(1 << 20)
		served := make(chan error, 1)
		go func() { served <- srv.grpc.Serve(inMemoryListener(lis)) }()
		conn, err := srv.dialInMemory(lis)
		if err != nil {
			t.Fatal(err)
		}
		ctx, cancel := context.WithCancel(context.Background())
		var h http.Handler
		if inProcess {
			h, err = srv.gateway(ctx, conn)
		} else {
			h, err = srv.gatewayTo(ctx, conn, coveragev1.NewCoverageServiceClient(conn))
		}
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			cancel()
			conn.Close()
			srv.grpc.Stop()
			<-served
			srv.Close()
		})
		return h, srv.metrics.reg, svc
	}
	p.ref, p.refReg, p.refSvc = build(p.refLog, false)
	p.fast, p.fastReg, p.fastSvc = build(p.fastLog, true)
	return p
}

type restCase struct {
	name, method, path, body string
	header                   map[string]string
}

// exchange is what a REST caller sees of one request.
type exchange struct {
	status  int
	header  http.Header
	body    []byte
	trailer http.Header
}

func serve(h http.Handler, c restCase) exchange {
	req := httptest.NewRequest(c.method, c.path, strings.NewReader(c.body))
	if c.body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range c.header {
		req.Header.Set(k, v)
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	res := w.Result()
	body, _ := io.ReadAll(res.Body)
	return exchange{status: res.StatusCode, header: res.Header, body: body, trailer: res.Trailer}
}

func (p *gatewayPair) check(t *testing.T, cases []restCase) {
	t.Helper()
	for _, c := range cases {
		want, got := serve(p.ref, c), serve(p.fast, c)
		if got.status != want.status {
			t.Errorf("%s: status %d, want %d (%s)", c.name, got.status, want.status, want.body)
		}
		if !bytes.Equal(got.body, want.body) {
			t.Errorf("%s: body\n got %s\nwant %s", c.name, got.body, want.body)
		}
		for _, hs := range [][2]http.Header{{got.header, want.header}, {got.trailer, want.trailer}} {
			g, w := hs[0].Clone(), hs[1].Clone()
			// A generated request ID differs; its presence does not.
			if c.header["X-Request-Id"] == "" && g.Get(requestIDHeader) != "" && w.Get(requestIDHeader) != "" {
				g.Del(requestIDHeader)
				w.Del(requestIDHeader)
			}
			// The gateway lists the trailers in the order of a map.
			for _, h := range []http.Header{g, w} {
				slices.Sort(h["Trailer"])
			}
			if fmt.Sprint(g) != fmt.Sprint(w) {
				t.Errorf("%s: headers or trailers\n got %v\nwant %v", c.name, g, w)
			}
		}
	}
	if !slices.Equal(p.fastSvc.seen, p.refSvc.seen) {
		t.Errorf("the handlers saw\n%s\nwant\n%s", strings.Join(p.fastSvc.seen, "\n"), strings.Join(p.refSvc.seen, "\n"))
	}
	// The logs: the same lines, key for key, but for times and generated IDs.
	want, got := parseLogLines(t, p.refLog.String()), parseLogLines(t, p.fastLog.String())
	if len(got) != len(want) || len(want) == 0 {
		t.Fatalf("%d log lines, want %d:\n%s\nwant\n%s", len(got), len(want), p.fastLog.String(), p.refLog.String())
	}
	for i := range want {
		for _, e := range []*logEntry{&got[i], &want[i]} {
			// A panic's stack is the stack it was recovered on.
			for _, k := range []string{"http.time_ms", "stack"} {
				if _, ok := e.values[k]; ok {
					e.values[k] = "masked"
				}
			}
		}
		compareLogEntries(t, got[i], want[i])
	}
	// The metrics: the same series and counts.
	if g, w := seriesCounts(t, p.fastReg), seriesCounts(t, p.refReg); !slices.Equal(g, w) {
		t.Errorf("metrics\n got %s\nwant %s", strings.Join(g, "\n     "), strings.Join(w, "\n     "))
	}
}

// seriesCounts renders the gRPC and HTTP series of g with their counts.
func seriesCounts(t *testing.T, g prometheus.Gatherer) []string {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range fams {
		if !strings.HasPrefix(f.GetName(), "grpc_") && !strings.HasPrefix(f.GetName(), "coverage_") {
			continue
		}
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			v := 0.0
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				v = m.GetCounter().GetValue()
			case dto.MetricType_GAUGE:
				v = m.GetGauge().GetValue()
			case dto.MetricType_HISTOGRAM:
				v = float64(m.GetHistogram().GetSampleCount())
			}
			out = append(out, fmt.Sprintf("%s{%s} %g", f.GetName(), strings.Join(labels, ","), v))
		}
	}
	slices.Sort(out)
	return out
}

func exampleBody(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../examples/town-health-facilities.json")
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestInProcessGatewayMatchesGRPC: REST callers get the same answers (status,
// headers, trailers, bodies) from the in-process gateway as from the gateway
// calling the gRPC server over the in-memory connection, and the server logs
// and counts the same, for successes, every kind of failure, headers and
// trailers set by the handler, deadlines and request IDs.
func TestInProcessGatewayMatchesGRPC(t *testing.T) {
	town := exampleBody(t)
	id := func(s string) map[string]string { return map[string]string{"X-Request-Id": s} }
	with := func(h map[string]string, k, v string) map[string]string {
		out := map[string]string{k: v}
		for a, b := range h {
			out[a] = b
		}
		return out
	}
	withRuleset := func(rs string) string {
		return strings.Replace(town, `"settlement"`, `"rulesetId": "`+rs+`", "settlement"`, 1)
	}
	cases := []restCase{
		{"audit", "POST", "/v1/audit", town, id("r1")},
		{"audit, generated ID", "POST", "/v1/audit", town, nil},
		{"audit, basic view", "POST", "/v1/audit", strings.Replace(town, `"settlement"`, `"view": "RESULT_VIEW_BASIC", "settlement"`, 1), id("r2")},
		{"audit, trailers", "POST", "/v1/audit", town, with(id("r3"), "TE", "trailers")},
		{"audit, deadline", "POST", "/v1/audit", town, with(id("r4"), "Grpc-Timeout", "30S")},
		{"audit, metadata", "POST", "/v1/audit", town, with(id("r5"), "Grpc-Metadata-X-Custom", "v")},
		{"audit, bad metadata key", "POST", "/v1/audit", town, with(id("r6"), "Grpc-Metadata-Bad!key", "v")},
		{"audit, bad metadata value", "POST", "/v1/audit", town, with(id("r7"), "Grpc-Metadata-X-Custom", "caf\xc3\xa9")},
		{"audit, no settlement", "POST", "/v1/audit", `{}`, id("r8")},
		{"audit, invalid settlement", "POST", "/v1/audit", `{"settlement": {"kind": "SETTLEMENT_KIND_TOWN", "residentPopulation": -5}}`, id("r9")},
		{"audit, unknown field", "POST", "/v1/audit", `{"settlment": {}}`, id("r10")},
		{"audit, unknown ruleset", "POST", "/v1/audit", withRuleset("no-such-ruleset"), id("r11")},
		{"audit, panic", "POST", "/v1/audit", withRuleset("panic"), id("r12")},
		{"audit, plain error", "POST", "/v1/audit", withRuleset("plain"), id("r13")},
		{"audit, context error", "POST", "/v1/audit", withRuleset("canceled"), id("r14")},
		{"audit, headers and trailers", "POST", "/v1/audit", withRuleset("headers"), id("r15")},
		{"audit, headers and trailers, TE", "POST", "/v1/audit", withRuleset("headers"), with(id("r16"), "TE", "trailers")},
		{"audit, details", "POST", "/v1/audit", withRuleset("details"), id("r17")},
		{"audit, details, TE", "POST", "/v1/audit", withRuleset("details"), with(id("r18"), "TE", "trailers")},
		{"rulesets", "GET", "/v1/rulesets", "", id("r19")},
		{"ruleset", "GET", "/v1/rulesets/jilin-2014", "", id("r20")},
		{"no ruleset", "GET", "/v1/rulesets/nope", "", id("r21")},
		{"ruleset, invalid UTF-8", "GET", "/v1/rulesets/%FF%FE", "", id("r22")},
		{"batch", "POST", "/v1/audit:batch", `{"settlements": [{"id": "a", "kind": "SETTLEMENT_KIND_TOWN", "residentPopulation": 20000}, {}]}`, id("r23")},
		{"samples", "GET", "/v1/samples", "", id("r24")},
		{"transit", "POST", "/v1/check/transit", town, id("r25")},
		{"unknown route", "GET", "/v1/nothing-here", "", id("r26")},
		{"health", "GET", "/healthz", "", id("r27")},
	}
	t.Run("defaults", func(t *testing.T) {
		newGatewayPair(t, Config{}).check(t, cases)
	})
	t.Run("tokens", func(t *testing.T) {
		tokens := authTestTokens(t)
		var withTokens []restCase
		for _, c := range cases[:4] {
			withTokens = append(withTokens, c)
			good, bad, odd := c, c, c
			good.name, good.header = c.name+", good token", with(c.header, "Authorization", "Bearer "+authTestGood)
			bad.name, bad.header = c.name+", wrong token", with(c.header, "Authorization", "Bearer "+authTestWrong)
			odd.name, odd.header = c.name+", token not ASCII", with(c.header, "Authorization", "Bearer caf\xc3\xa9")
			withTokens = append(withTokens, good, bad, odd)
		}
		newGatewayPair(t, Config{Tokens: tokens}).check(t, withTokens)
	})
	t.Run("TLS", func(t *testing.T) {
		// The server has transport credentials, which give in-memory calls
		// an AuthInfo of their own.
		dir := t.TempDir()
		ca := newTLSTestCA(t, "coverage test CA")
		certPEM, keyPEM := ca.issue(t, 2, "coverage-server", false)
		newGatewayPair(t, Config{TLS: TLSFiles{
			CertFile: writeTLSTestFile(t, dir, "server.pem", certPEM),
			KeyFile:  writeTLSTestFile(t, dir, "server-key.pem", keyPEM),
		}}).check(t, cases[:3])
	})
	t.Run("message limit", func(t *testing.T) {
		// A request whose protobuf is over the limit while its JSON is
		// under it, and a response over the limit.
		var pos []string
		for range 440 {
			pos = append(pos, `{"lon":1,"lat":1}`)
		}
		big := `{"settlement":{"id":"x","busStopPositions":{"positions":[` + strings.Join(pos, ",") + `]}}}`
		if len(big) > 8192 {
			t.Fatalf("the JSON body is %d bytes, over the limit", len(big))
		}
		newGatewayPair(t, Config{MaxMessageBytes: 8192}).check(t, []restCase{
			{"request over the limit as protobuf", "POST", "/v1/audit", big, id("m1")},
			{"response over the limit", "POST", "/v1/audit", town, id("m2")},
			{"small", "GET", "/v1/rulesets/nope", "", id("m3")},
		})
	})
}

// TestInProcessClientChecks: what the gRPC client refuses before a call
// leaves (metadata it cannot send, a done context, a message it cannot
// marshal or that is over the limit), the in-process connection refuses with
// the same status, and without reaching the server.
func TestInProcessClientChecks(t *testing.T) {
	srv, err := New(Config{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Catalog: testCatalog(t), MaxMessageBytes: 4096})
	if err != nil {
		t.Fatal(err)
	}
	lis := bufconn.Listen(1 << 20)
	served := make(chan error, 1)
	go func() { served <- srv.grpc.Serve(inMemoryListener(lis)) }()
	conn, err := srv.dialInMemory(lis)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.grpc.Stop()
		<-served
		srv.Close()
	})
	inProcess := newInProcessConn(conn, inMemoryAuthority, &coveragev1.CoverageService_ServiceDesc, srv.svc, srv.unaryChain(),
		inProcessOptions{maxMessageBytes: srv.cfg.MaxMessageBytes, maxConcurrentStreams: 1})
	canceled, cancel := context.WithCancel(context.Background())
	cancel()
	// The ruleset is not found: an answer small enough for the limit.
	ok := &coveragev1.GetRulesetRequest{Id: "no-such-ruleset"}
	cases := []struct {
		name string
		ctx  context.Context
		req  *coveragev1.GetRulesetRequest
	}{
		{"key with a bang", metadata.AppendToOutgoingContext(context.Background(), "bad!key", "v"), ok},
		{"empty key", metadata.NewOutgoingContext(context.Background(), metadata.MD{"": {"v"}}), ok},
		{"value not ASCII", metadata.AppendToOutgoingContext(context.Background(), "x-v", "caf\xc3\xa9"), ok},
		{"value with a control character", metadata.AppendToOutgoingContext(context.Background(), "x-v", "a\x01"), ok},
		{"binary value", metadata.AppendToOutgoingContext(context.Background(), "x-bin", "\x00\xff"), ok},
		{"pseudo-header", metadata.AppendToOutgoingContext(context.Background(), ":odd", "\x01"), ok},
		{"canceled", canceled, ok},
		{"invalid UTF-8", context.Background(), &coveragev1.GetRulesetRequest{Id: "\xff"}},
		{"over the limit", context.Background(), &coveragev1.GetRulesetRequest{Id: strings.Repeat("x", 5000)}},
	}
	for _, c := range cases {
		var wantHdr, gotHdr metadata.MD
		want := conn.Invoke(c.ctx, "/coverage.v1.CoverageService/GetRuleset", c.req, &coveragev1.GetRulesetResponse{}, grpc.Header(&wantHdr))
		got := inProcess.Invoke(c.ctx, "/coverage.v1.CoverageService/GetRuleset", c.req, &coveragev1.GetRulesetResponse{}, grpc.Header(&gotHdr))
		if status.Code(got) != status.Code(want) || fmt.Sprint(got) != fmt.Sprint(want) {
			t.Errorf("%s: %v, want %v", c.name, got, want)
		}
		if fmt.Sprint(gotHdr) != fmt.Sprint(wantHdr) {
			t.Errorf("%s: headers %v, want %v", c.name, gotHdr, wantHdr)
		}
	}
	fams := seriesCounts(t, srv.metrics.reg)
	for _, f := range fams {
		if strings.HasPrefix(f, "grpc_server_started_total") && strings.Contains(f, "GetRuleset") && !strings.HasSuffix(f, " 2") {
			// Two calls reach the server: the one with the binary value,
			// each way.
			t.Errorf("calls that reached the server: %s", f)
		}
	}
}

// TestInProcessConcurrencyBound: in-process calls are bounded as the streams
// of the in-memory connection were (--max-concurrent-streams): a call beyond
// the bound waits for one to finish, or for its own context.
func TestInProcessConcurrencyBound(t *testing.T) {
	svc := &probeService{Service: NewService(testCatalog(t)), block: make(chan struct{}), entered: make(chan struct{}, 10)}
	conn := newInProcessConn(nil, inMemoryAuthority, &coveragev1.CoverageService_ServiceDesc, svc, nil,
		inProcessOptions{maxMessageBytes: 1 << 20, maxConcurrentStreams: 2})
	call := func(ctx context.Context) error {
		return conn.Invoke(ctx, "/coverage.v1.CoverageService/Audit", &coveragev1.AuditRequest{RulesetId: "block"}, &coveragev1.AuditResponse{})
	}
	errs := make(chan error, 3)
	for range 3 {
		go func() { errs <- call(context.Background()) }()
	}
	<-svc.entered
	<-svc.entered
	select {
	case <-svc.entered:
		t.Fatal("a third call ran beside two, with a bound of two")
	case <-time.After(100 * time.Millisecond):
	}
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	if err := call(ctx); status.Code(err) != codes.DeadlineExceeded {
		t.Errorf("a waiting call whose deadline passed: %v, want DEADLINE_EXCEEDED", err)
	}
	close(svc.block)
	for range 3 {
		if err := <-errs; status.Code(err) != codes.Aborted {
			t.Errorf("%v, want the handler's ABORTED", err)
		}
	}
}

// TestInProcessHandOver: the caller's message becomes the handler's
// response, whatever it held before, unknown fields included.
func TestInProcessHandOver(t *testing.T) {
	orig, _ := auditWithNotes(t)
	orig.ProtoReflect().SetUnknown(unknownField(99, "later"))
	src := proto.Clone(orig).(*coveragev1.AuditResponse)
	dst := &coveragev1.AuditResponse{SettlementName: "stale", Results: []*coveragev1.RuleResult{{RuleId: "stale"}}}
	dst.ProtoReflect().SetUnknown(unknownField(98, "stale"))
	handOver(dst, src)
	if !proto.Equal(dst, orig) {
		t.Fatalf("handed over:\n%v\nwant\n%v", brief(dst), brief(orig))
	}
	empty := &coveragev1.AuditResponse{}
	handOver(dst, empty)
	if !proto.Equal(dst, empty) {
		t.Fatalf("an empty response handed over: %v", brief(dst))
	}
}
