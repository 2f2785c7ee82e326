package server

import (
	"bufio"
	"context"
	"errors"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	gwruntime "github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"

	"github.com/civic-standards/coverage/coverage"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

const metricsService = "coverage.v1.CoverageService"

// metricsScrape fetches the metrics page as Prometheus would and parses it.
func metricsScrape(t *testing.T, m *metrics) map[string]*dto.MetricFamily {
	t.Helper()
	rec := httptest.NewRecorder()
	m.handler().ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/metrics", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("scrape: HTTP %d: %s", rec.Code, rec.Body)
	}
	if ct := rec.Header().Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
		t.Fatalf("scrape Content-Type %q, want the text format", ct)
	}
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(rec.Body)
	if err != nil {
		t.Fatalf("parse scrape: %v", err)
	}
	return fams
}

// metricsSeries finds the one series of the family with exactly these labels.
func metricsSeries(fams map[string]*dto.MetricFamily, name string, labels map[string]string) *dto.Metric {
	fam := fams[name]
	if fam == nil {
		return nil
	}
next:
	for _, s := range fam.GetMetric() {
		got := map[string]string{}
		for _, lp := range s.GetLabel() {
			got[lp.GetName()] = lp.GetValue()
		}
		if len(got) != len(labels) {
			continue
		}
		for k, v := range labels {
			if got[k] != v {
				continue next
			}
		}
		return s
	}
	return nil
}

// wantMetric checks a series' value: a counter's or gauge's value, or a
// histogram's sample count.
func wantMetric(t *testing.T, fams map[string]*dto.MetricFamily, name string, labels map[string]string, want float64) {
	t.Helper()
	s := metricsSeries(fams, name, labels)
	if s == nil {
		t.Errorf("no series %s%v", name, labels)
		return
	}
	var got float64
	switch {
	case s.Counter != nil:
		got = s.GetCounter().GetValue()
	case s.Gauge != nil:
		got = s.GetGauge().GetValue()
	case s.Histogram != nil:
		got = float64(s.GetHistogram().GetSampleCount())
	default:
		got = s.GetUntyped().GetValue()
	}
	if got != want {
		t.Errorf("%s%v = %v, want %v", name, labels, got, want)
	}
}

// finiteBounds are a histogram's bucket bounds without the +Inf one that the
// text format adds.
func finiteBounds(s *dto.Metric) []float64 {
	var out []float64
	for _, b := range s.GetHistogram().GetBucket() {
		if !math.IsInf(b.GetUpperBound(), 1) {
			out = append(out, b.GetUpperBound())
		}
	}
	return out
}

func metricsCatalog(t *testing.T) *coverage.Catalog {
	t.Helper()
	c, err := coverage.DefaultCatalog()
	if err != nil {
		t.Fatalf("coverage.DefaultCatalog: %v", err)
	}
	return c
}

// metricsGRPCClient serves the real service with the metrics interceptors on
// an in-memory listener.
func metricsGRPCClient(t *testing.T, m *metrics) coveragev1.CoverageServiceClient {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer(
		grpc.ChainUnaryInterceptor(m.unaryInterceptor()),
		grpc.ChainStreamInterceptor(m.streamInterceptor()),
	)
	coveragev1.RegisterCoverageServiceServer(srv, NewService(metricsCatalog(t)))
	m.initialize(srv)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()
	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	)
	if err != nil {
		t.Fatalf("grpc.NewClient: %v", err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.Stop()
		if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			t.Errorf("grpc Serve: %v", err)
		}
	})
	return coveragev1.NewCoverageServiceClient(conn)
}

func metricsTimeout(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func unaryLabels(method string) map[string]string {
	return map[string]string{"grpc_type": "unary", "grpc_service": metricsService, "grpc_method": method}
}

func withCode(labels map[string]string, code string) map[string]string {
	out := map[string]string{"grpc_code": code}
	for k, v := range labels {
		out[k] = v
	}
	return out
}

// TestMetricsGRPC: every method is present with zero before traffic; calls
// that succeed and fail are counted under their codes and timed; a stream is
// in flight while open and not after; the runtime collectors are there.
func TestMetricsGRPC(t *testing.T) {
	m := newMetrics()
	client := metricsGRPCClient(t, m)
	ctx := metricsTimeout(t)

	fams := metricsScrape(t, m)
	wantMetric(t, fams, "grpc_server_handled_total", withCode(unaryLabels("Audit"), "OK"), 0)
	wantMetric(t, fams, "grpc_server_handled_total", withCode(unaryLabels("CheckBusStopCoverage"), "InvalidArgument"), 0)
	wantMetric(t, fams, "grpc_server_started_total", map[string]string{"grpc_type": "bidi_stream", "grpc_service": metricsService, "grpc_method": "AuditStream"}, 0)
	wantMetric(t, fams, "coverage_grpc_streams_in_flight", map[string]string{"grpc_service": metricsService, "grpc_method": "AuditStream"}, 0)

	if _, err := client.ListRulesets(ctx, &coveragev1.ListRulesetsRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := client.GetRuleset(ctx, &coveragev1.GetRulesetRequest{Id: "jilin-2014"}); err != nil {
		t.Fatal(err)
	}
	_, err := client.GetRuleset(ctx, &coveragev1.GetRulesetRequest{})
	if status.Code(err) != codes.InvalidArgument {
		t.Fatalf("GetRuleset without an id: %v, want INVALID_ARGUMENT", err)
	}

	stream, err := client.AuditStream(ctx)
	if err != nil {
		t.Fatal(err)
	}
	town := &coveragev1.Settlement{
		Id: "a", Name: "town a", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_TOWN,
		ElderlyPopulation: proto.Int64(12_000), ElderlyCareBeds: proto.Int64(300),
	}
	if err := stream.Send(&coveragev1.AuditStreamRequest{RulesetId: "jilin-2014", Settlement: town}); err != nil {
		t.Fatal(err)
	}
	// A result back means the handler is running.
	if _, err := stream.Recv(); err != nil {
		t.Fatal(err)
	}
	inFlight := map[string]string{"grpc_service": metricsService, "grpc_method": "AuditStream"}
	wantMetric(t, metricsScrape(t, m), "coverage_grpc_streams_in_flight", inFlight, 1)
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	for {
		if _, err := stream.Recv(); errors.Is(err, io.EOF) {
			break
		} else if err != nil {
			t.Fatal(err)
		}
	}

	fams = metricsScrape(t, m)
	wantMetric(t, fams, "coverage_grpc_streams_in_flight", inFlight, 0)
	wantMetric(t, fams, "grpc_server_started_total", unaryLabels("ListRulesets"), 1)
	wantMetric(t, fams, "grpc_server_handled_total", withCode(unaryLabels("ListRulesets"), "OK"), 1)
	wantMetric(t, fams, "grpc_server_started_total", unaryLabels("GetRuleset"), 2)
	wantMetric(t, fams, "grpc_server_handled_total", withCode(unaryLabels("GetRuleset"), "OK"), 1)
	wantMetric(t, fams, "grpc_server_handled_total", withCode(unaryLabels("GetRuleset"), "InvalidArgument"), 1)
	wantMetric(t, fams, "grpc_server_handled_total", withCode(unaryLabels("GetRuleset"), "NotFound"), 0)
	// Timed by code: the refusal apart from the answer. OK exists from the
	// start; a failing code appears with its first call.
	wantMetric(t, fams, "grpc_server_handling_seconds", withCode(unaryLabels("GetRuleset"), "OK"), 1)
	wantMetric(t, fams, "grpc_server_handling_seconds", withCode(unaryLabels("GetRuleset"), "InvalidArgument"), 1)
	wantMetric(t, fams, "grpc_server_handling_seconds", withCode(unaryLabels("Audit"), "OK"), 0)
	if s := metricsSeries(fams, "grpc_server_handling_seconds", withCode(unaryLabels("Audit"), "InvalidArgument")); s != nil {
		t.Errorf("a histogram series for a code no call ended with: %v", s.GetLabel())
	}
	bidi := map[string]string{"grpc_type": "bidi_stream", "grpc_service": metricsService, "grpc_method": "AuditStream"}
	wantMetric(t, fams, "grpc_server_handled_total", withCode(bidi, "OK"), 1)
	wantMetric(t, fams, "grpc_server_handling_seconds", withCode(bidi, "OK"), 1)
	wantMetric(t, fams, "grpc_server_msg_received_total", bidi, 1)
	wantMetric(t, fams, "grpc_server_msg_sent_total", bidi, 2) // the result and the summary

	if b := finiteBounds(metricsSeries(fams, "grpc_server_handling_seconds", withCode(unaryLabels("GetRuleset"), "InvalidArgument"))); len(b) == 0 || b[0] != 0.0005 || b[len(b)-1] != 30 {
		t.Errorf("grpc_server_handling_seconds buckets %v, want 0.5 ms to 30 s", b)
	}
	for _, name := range []string{"go_goroutines", "go_memstats_heap_alloc_bytes", "go_gc_heap_live_bytes", "go_gc_heap_goal_bytes"} {
		if fams[name] == nil {
			t.Errorf("no %s: the Go collector is missing or lacks the runtime metric", name)
		}
	}
	if g := fams["go_gc_heap_goal_bytes"]; g != nil && g.GetMetric()[0].GetGauge().GetValue() <= 0 {
		t.Errorf("go_gc_heap_goal_bytes %v, want a positive goal", g.GetMetric()[0].GetGauge().GetValue())
	}
	if runtime.GOOS == "linux" && fams["process_start_time_seconds"] == nil {
		t.Error("no process_start_time_seconds: the process collector is missing")
	}
}

// metricsGateway is the REST front as the server builds it (gateway, error
// handlers, body limit, OpenAPI document, metrics page), behind the
// middleware.
func metricsGateway(t *testing.T, m *metrics, limit int64) *httptest.Server {
	t.Helper()
	gw := gwruntime.NewServeMux(
		gwruntime.WithErrorHandler(httpErrorHandler),
		gwruntime.WithRoutingErrorHandler(routingErrorHandler),
	)
	if err := coveragev1.RegisterCoverageServiceHandlerServer(context.Background(), gw, NewService(metricsCatalog(t))); err != nil {
		t.Fatal(err)
	}
	root := http.NewServeMux()
	root.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = io.WriteString(w, "{}")
	})
	root.Handle("GET /metrics", m.handler())
	root.Handle("/", http.MaxBytesHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		gw.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), maxBodyBytesKey{}, limit)))
	}), limit))
	ts := httptest.NewServer(m.httpMiddleware(root))
	t.Cleanup(ts.Close)
	return ts
}

func metricsDo(t *testing.T, method, url, body string) int {
	t.Helper()
	req, err := http.NewRequestWithContext(metricsTimeout(t), method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

func httpLabels(method, route, code string) map[string]string {
	return map[string]string{"method": method, "route": route, "code": code}
}

// TestMetricsHTTP: requests are counted under their route template, whatever
// the id, including the ones the gateway answers itself.
func TestMetricsHTTP(t *testing.T) {
	m := newMetrics()
	ts := metricsGateway(t, m, 4096)

	requests := []struct {
		method, path, body string
		status             int
	}{
		{http.MethodGet, "/v1/rulesets/jilin-2014", "", http.StatusOK},
		{http.MethodGet, "/v1/rulesets/jilin-2014", "", http.StatusOK},
		{http.MethodGet, "/v1/rulesets/no-such-ruleset", "", http.StatusNotFound},
		{http.MethodGet, "/v1/rulesets", "", http.StatusOK},
		{http.MethodGet, "/v1/nothing/here", "", http.StatusNotFound},
		{http.MethodGet, "/v1/audit", "", http.StatusMethodNotAllowed},
		{"BREW", "/v1/audit", "", http.StatusMethodNotAllowed},
		{http.MethodPost, "/v1/audit", `{"settlement":{"id":"` + strings.Repeat("x", 5000) + `"}}`, http.StatusRequestEntityTooLarge},
		{http.MethodPost, "/v1/audit:batch", `{"settlements":[]}`, http.StatusOK},
		{http.MethodGet, "/openapi.json", "", http.StatusOK},
		{http.MethodGet, "/metrics", "", http.StatusOK},
	}
	for _, r := range requests {
		if got := metricsDo(t, r.method, ts.URL+r.path, r.body); got != r.status {
			t.Fatalf("%s %s: HTTP %d, want %d", r.method, r.path, got, r.status)
		}
	}

	fams := metricsScrape(t, m)
	const total, duration = "coverage_http_requests_total", "coverage_http_request_duration_seconds"
	wantMetric(t, fams, total, httpLabels("GET", "/v1/rulesets/{id}", "200"), 2)
	wantMetric(t, fams, total, httpLabels("GET", "/v1/rulesets/{id}", "404"), 1)
	wantMetric(t, fams, total, httpLabels("GET", "/v1/rulesets", "200"), 1)
	wantMetric(t, fams, total, httpLabels("GET", "other", "404"), 1)
	wantMetric(t, fams, total, httpLabels("GET", "/v1/audit", "405"), 1)
	wantMetric(t, fams, total, httpLabels("other", "/v1/audit", "405"), 1)
	wantMetric(t, fams, total, httpLabels("POST", "/v1/audit", "413"), 1)
	wantMetric(t, fams, total, httpLabels("POST", "/v1/audit:batch", "200"), 1)
	wantMetric(t, fams, total, httpLabels("GET", "/openapi.json", "200"), 1)
	wantMetric(t, fams, total, httpLabels("GET", "/metrics", "200"), 1)
	wantMetric(t, fams, duration, httpLabels("GET", "/v1/rulesets/{id}", "200"), 2)
	wantMetric(t, fams, duration, httpLabels("GET", "/v1/rulesets/{id}", "404"), 1)
	wantMetric(t, fams, duration, httpLabels("GET", "other", "404"), 1)
	wantMetric(t, fams, duration, httpLabels("POST", "/v1/audit", "413"), 1)
	wantMetric(t, fams, "coverage_http_requests_in_flight", map[string]string{}, 0)

	var n int
	for _, s := range fams[total].GetMetric() {
		n += int(s.GetCounter().GetValue())
		for _, lp := range s.GetLabel() {
			if lp.GetName() == "route" && strings.Contains(lp.GetValue(), "jilin") {
				t.Errorf("a raw path leaked into the route label: %v", s.GetLabel())
			}
		}
	}
	if n != len(requests) {
		t.Errorf("%d requests counted, want %d", n, len(requests))
	}
}

// TestMetricsHTTPStreaming: a streamed response reaches the client chunk by
// chunk through the middleware, http.ResponseController reaches the
// connection, and the request is in flight until the handler returns.
func TestMetricsHTTPStreaming(t *testing.T) {
	m := newMetrics()
	release := make(chan struct{})
	ts := httptest.NewServer(m.httpMiddleware(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		rc := http.NewResponseController(w)
		if err := rc.SetWriteDeadline(time.Now().Add(time.Minute)); err != nil {
			t.Errorf("SetWriteDeadline through the middleware: %v", err)
		}
		w.Header().Set("Content-Type", "application/x-ndjson")
		_, _ = io.WriteString(w, "first\n")
		if err := rc.Flush(); err != nil {
			t.Errorf("Flush through the middleware: %v", err)
		}
		<-release
		_, _ = io.WriteString(w, "second\n")
		w.(http.Flusher).Flush()
	})))
	defer ts.Close()

	req, err := http.NewRequestWithContext(metricsTimeout(t), http.MethodPost, ts.URL+"/v1/audit:batch", strings.NewReader("{}"))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		close(release)
		t.Fatal(err)
	}
	defer resp.Body.Close()
	br := bufio.NewReader(resp.Body)
	// Without the flush passing through, this would wait for the release.
	line, err := br.ReadString('\n')
	if err != nil || line != "first\n" {
		close(release)
		t.Fatalf("first chunk %q, %v", line, err)
	}
	wantMetric(t, metricsScrape(t, m), "coverage_http_requests_in_flight", map[string]string{}, 1)
	close(release)
	rest, err := io.ReadAll(br)
	if err != nil || string(rest) != "second\n" {
		t.Fatalf("rest %q, %v", rest, err)
	}
	fams := metricsScrape(t, m)
	wantMetric(t, fams, "coverage_http_requests_in_flight", map[string]string{}, 0)
	wantMetric(t, fams, "coverage_http_requests_total", httpLabels("POST", "/v1/audit:batch", "200"), 1)
}

// TestMetricsRoutes: the route table comes from the proto and matches paths
// the way the gateway does.
func TestMetricsRoutes(t *testing.T) {
	have := map[string]bool{}
	for _, rt := range httpRoutes() {
		have[rt.template] = true
	}
	for _, want := range []string{
		"/v1/rulesets", "/v1/rulesets/{id}", "/v1/audit", "/v1/audit:batch",
		"/v1/check/elderly-care", "/v1/check/health-facilities", "/v1/check/parking",
		"/v1/check/transit", "/v1/check/bus-stop-coverage", "/openapi.json", "/healthz", "/metrics",
	} {
		if !have[want] {
			t.Errorf("no route %s in %v", want, have)
		}
	}

	cases := map[string]string{
		"/v1/rulesets":                "/v1/rulesets",
		"/v1/rulesets/jilin-2014":     "/v1/rulesets/{id}",
		"/v1/rulesets/a%2Fb":          "/v1/rulesets/{id}",
		"/v1/rulesets/x:y":            "/v1/rulesets/{id}",
		"/v1/rulesets/a/b":            "other",
		"/v1/audit":                   "/v1/audit",
		"/v1/audit:batch":             "/v1/audit:batch",
		"/v1/audit:stream":            "other",
		"/v1/audit/":                  "other",
		"/v1/check/parking":           "/v1/check/parking",
		"/v1/check/bus-stop-coverage": "/v1/check/bus-stop-coverage",
		"/v1/check":                   "other",
		"/v1/check/parking/x":         "other",
		"/openapi.json":               "/openapi.json",
		"/healthz":                    "/healthz",
		"/metrics":                    "/metrics",
		"/":                           "other",
		"/wp-login.php":               "other",
	}
	for path, want := range cases {
		if got := routeLabel(httptest.NewRequest(http.MethodGet, path, nil)); got != want {
			t.Errorf("route of %s = %q, want %q", path, got, want)
		}
	}

	// Template forms the proto does not use yet.
	general := []struct {
		template, path string
		match          bool
	}{
		{"/v1/{name=projects/*}/items:list", "/v1/projects/p1/items:list", true},
		{"/v1/{name=projects/*}/items:list", "/v1/projects/p1/items", false},
		{"/v1/{name=projects/*}/items:list", "/v1/folders/p1/items:list", false},
		{"/v1/files/**", "/v1/files/a/b/c", true},
		{"/v1/files/{path=**}", "/v1/files/a", true},
		{"/v1/*/x", "/v1/anything/x", true},
		{"/v1/*/x", "/v1/anything/y", false},
	}
	for _, g := range general {
		rt, err := compileRoute(g.template)
		if err != nil {
			t.Errorf("compile %s: %v", g.template, err)
			continue
		}
		if got := rt.match(g.path); got != g.match {
			t.Errorf("%s matches %s: %v, want %v", g.template, g.path, got, g.match)
		}
	}
	for _, bad := range []string{"v1/x", "/v1/{id", "/v1/id}", "/v1//x", "/v1/**/x"} {
		if _, err := compileRoute(bad); err == nil {
			t.Errorf("compile %q: no error", bad)
		}
	}

	for method, want := range map[string]string{"GET": "GET", "POST": "POST", "PATCH": "PATCH", "BREW": "other", "get": "other"} {
		if got := methodLabel(method); got != want {
			t.Errorf("method label of %s = %q, want %q", method, got, want)
		}
	}
}

// TestMetricsCoverage: measurements land in the size classes of their stops
// and vertices, with the class boundaries inclusive.
func TestMetricsCoverage(t *testing.T) {
	for n, want := range map[int]string{
		0: "<=100", 100: "<=100", 101: "<=1k", 1_000: "<=1k", 1_001: "<=10k", 10_000: "<=10k",
		10_001: "<=100k", 100_000: "<=100k", 100_001: ">100k", 5_000_000: ">100k",
	} {
		if got := sizeClass(n); got != want {
			t.Errorf("sizeClass(%d) = %q, want %q", n, got, want)
		}
	}

	var none *metrics
	none.observeCoverage(1, 1, time.Second) // no metrics, no panic

	m := newMetrics()
	m.observeCoverage(40, 100, 800*time.Microsecond)
	m.observeCoverage(60, 80, 3*time.Millisecond)
	m.observeCoverage(2_500, 1_000, 40*time.Millisecond)
	m.observeCoverage(250_000, 10_001, 4*time.Second)

	fams := metricsScrape(t, m)
	class := func(stops, vertices string) map[string]string {
		return map[string]string{"stops_class": stops, "vertices_class": vertices}
	}
	wantMetric(t, fams, "coverage_stop_coverage_seconds", class("<=100", "<=100"), 2)
	wantMetric(t, fams, "coverage_stop_coverage_seconds", class("<=10k", "<=1k"), 1)
	wantMetric(t, fams, "coverage_stop_coverage_seconds", class(">100k", "<=100k"), 1)
	if s := metricsSeries(fams, "coverage_stop_coverage_seconds", class("<=1k", "<=1k")); s != nil {
		t.Errorf("a series for a class that saw nothing: %v", s)
	}
	small := metricsSeries(fams, "coverage_stop_coverage_seconds", class("<=100", "<=100")).GetHistogram()
	for _, b := range small.GetBucket() {
		if b.GetUpperBound() == 0.001 && b.GetCumulativeCount() != 1 {
			t.Errorf("bucket le=0.001 holds %d, want 1 (the 0.8 ms run)", b.GetCumulativeCount())
		}
	}
	if b := finiteBounds(metricsSeries(fams, "coverage_stop_coverage_seconds", class("<=100", "<=100"))); len(b) == 0 || b[0] != 0.00001 || b[len(b)-1] != 10 {
		t.Errorf("coverage_stop_coverage_seconds buckets %v, want 10 µs to 10 s", b)
	}

	stops := metricsSeries(fams, "coverage_stop_coverage_stops", map[string]string{}).GetHistogram()
	if stops.GetSampleCount() != 4 || stops.GetSampleSum() != 40+60+2_500+250_000 {
		t.Errorf("coverage_stop_coverage_stops count %d sum %v", stops.GetSampleCount(), stops.GetSampleSum())
	}
	vertices := metricsSeries(fams, "coverage_stop_coverage_vertices", map[string]string{}).GetHistogram()
	if vertices.GetSampleCount() != 4 || vertices.GetSampleSum() != 100+80+1_000+10_001 {
		t.Errorf("coverage_stop_coverage_vertices count %d sum %v", vertices.GetSampleCount(), vertices.GetSampleSum())
	}
	for _, b := range vertices.GetBucket() {
		if b.GetUpperBound() == 100 && b.GetCumulativeCount() != 2 {
			t.Errorf("vertices bucket le=100 holds %d, want 2", b.GetCumulativeCount())
		}
	}
}
