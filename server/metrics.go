package server

// Prometheus metrics. The names and labels below are a contract with the
// dashboards and alerts built on them: rename nothing without updating those.
//
// gRPC, from the go-grpc-middleware Prometheus provider; labels
// grpc_type ("unary", "client_stream", "server_stream", "bidi_stream"),
// grpc_service (for example "coverage.v1.CoverageService"), grpc_method (for
// example "Audit"), and grpc_code (the code's name, "OK", "InvalidArgument")
// on the handled counter and the handling-time histogram. Every registered
// method is present with zero from startup (initialize), before its first
// call: its handled counter under every code, its histogram under OK (a
// histogram per code and method would be thousands of lines in every
// scrape; the others appear with their first call).
//
// The handling-time histogram has grpc_code, which the provider's does not,
// so that the latency of answers can be told from that of refusals (an
// INVALID_ARGUMENT answer is fast; a DEADLINE_EXCEEDED one is as slow as
// the deadline). Queries that sum over the provider's labels keep working.
//
//	grpc_server_started_total{grpc_type,grpc_service,grpc_method}                counter
//	grpc_server_handled_total{grpc_type,grpc_service,grpc_method,grpc_code}      counter
//	grpc_server_handling_seconds{grpc_type,grpc_service,grpc_method,grpc_code}   histogram, 0.5 ms to 30 s
//	grpc_server_msg_received_total{grpc_type,grpc_service,grpc_method}           counter
//	grpc_server_msg_sent_total{grpc_type,grpc_service,grpc_method}               counter
//	coverage_grpc_streams_in_flight{grpc_service,grpc_method}                    gauge
//
// HTTP (the REST gateway and the endpoints beside it); method is the request
// method ("GET", "POST", ..., or "other" for a non-standard one), route the
// REST template the path matches ("/v1/rulesets/{id}", "/v1/audit:batch",
// "/openapi.json", "/healthz", "/metrics", ...; "other" for any other path),
// code the response status as a number ("200", "404").
//
//	coverage_http_requests_total{method,route,code}                 counter
//	coverage_http_request_duration_seconds{method,route,code}       histogram, 0.5 ms to 30 s
//	coverage_http_requests_in_flight                                gauge
//
// Bus-stop coverage computations; stops_class and vertices_class are the size
// class of the input's stops and central-area vertices: "<=100", "<=1k",
// "<=10k", "<=100k" or ">100k".
//
//	coverage_stop_coverage_seconds{stops_class,vertices_class}      histogram, 10 µs to 10 s
//	coverage_stop_coverage_stops                                    histogram of stop counts
//	coverage_stop_coverage_vertices                                 histogram of vertex counts
//
// Process and runtime: the standard go_* and process_* collectors, and
// two series from the runtime's own metrics that tell a leak from the
// collector's sawtooth:
//
//	go_gc_heap_live_bytes    heap bytes the last collection found reachable
//	go_gc_heap_goal_bytes    heap size at which the next collection ends

import (
	"context"
	"fmt"
	"net/http"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"google.golang.org/genproto/googleapis/api/annotations"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/descriptorpb"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// latencyBuckets spans a ruleset lookup (well under a millisecond) to a
// stream or batch of thousands of settlements, which the server lets run for
// tens of seconds.
var latencyBuckets = []float64{0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30}

// coverageBuckets spans a handful of stops on a square (microseconds) to a
// city's hundred thousand stops on a detailed boundary (seconds).
var coverageBuckets = []float64{
	0.00001, 0.000025, 0.00005, 0.0001, 0.00025, 0.0005, 0.001, 0.0025, 0.005,
	0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10,
}

// sizeBuckets matches the size-class boundaries, so the count histograms and
// the class labels of the timing histogram tell the same story.
var sizeBuckets = []float64{10, 100, 1_000, 10_000, 100_000, 1_000_000}

type metrics struct {
	reg *prometheus.Registry

	grpcStarted, grpcHandled     *prometheus.CounterVec
	grpcMsgReceived, grpcMsgSent *prometheus.CounterVec
	grpcHandling                 *prometheus.HistogramVec
	streamsInFlight              *prometheus.GaugeVec
	// methods holds each registered method's series (initialize), found
	// once rather than by their label values on every call.
	methods atomic.Pointer[map[string]*methodSeries]

	httpRequests *prometheus.CounterVec
	httpDuration *prometheus.HistogramVec
	httpInFlight prometheus.Gauge

	coverageSeconds  *prometheus.HistogramVec
	coverageStops    prometheus.Histogram
	coverageVertices prometheus.Histogram

	scrape http.Handler
}

// newMetrics registers everything on a registry of its own rather than the
// global one, so tests and several servers in one process do not collide.
func newMetrics() *metrics {
	m := &metrics{
		reg: prometheus.NewRegistry(),
		// The gRPC series are those of go-grpc-middleware's Prometheus
		// provider (its ServerMetrics with the handling-time histogram):
		// the same names, help and labels.
		grpcStarted: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grpc_server_started_total",
			Help: "Total number of RPCs started on the server.",
		}, grpcLabels),
		grpcHandled: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grpc_server_handled_total",
			Help: "Total number of RPCs completed on the server, regardless of success or failure.",
		}, append(grpcLabels[:len(grpcLabels):len(grpcLabels)], "grpc_code")),
		grpcMsgReceived: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grpc_server_msg_received_total",
			Help: "Total number of RPC stream messages received on the server.",
		}, grpcLabels),
		grpcMsgSent: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "grpc_server_msg_sent_total",
			Help: "Total number of gRPC stream messages sent by the server.",
		}, grpcLabels),
		grpcHandling: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "grpc_server_handling_seconds",
			Help:    "Histogram of response latency (seconds) of gRPC that had been application-level handled by the server, by code.",
			Buckets: latencyBuckets,
		}, append(grpcLabels[:len(grpcLabels):len(grpcLabels)], "grpc_code")),
		streamsInFlight: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "coverage_grpc_streams_in_flight",
			Help: "gRPC streams currently open on the server.",
		}, []string{"grpc_service", "grpc_method"}),
		httpRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "coverage_http_requests_total",
			Help: "HTTP requests answered, by method, route template and status code.",
		}, []string{"method", "route", "code"}),
		httpDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "coverage_http_request_duration_seconds",
			Help:    "Time to answer an HTTP request, by method, route template and status code.",
			Buckets: latencyBuckets,
		}, []string{"method", "route", "code"}),
		httpInFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "coverage_http_requests_in_flight",
			Help: "HTTP requests currently being answered.",
		}),
		coverageSeconds: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "coverage_stop_coverage_seconds",
			Help:    "Time to measure a central area's bus-stop coverage, by size class of the stops and of the area's vertices.",
			Buckets: coverageBuckets,
		}, []string{"stops_class", "vertices_class"}),
		coverageStops: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "coverage_stop_coverage_stops",
			Help:    "Bus stops given to a coverage measurement.",
			Buckets: sizeBuckets,
		}),
		coverageVertices: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "coverage_stop_coverage_vertices",
			Help:    "Vertices of the central area of a coverage measurement.",
			Buckets: sizeBuckets,
		}),
	}
	m.reg.MustRegister(
		collectors.NewGoCollector(collectors.WithGoCollectorRuntimeMetrics(
			collectors.GoRuntimeMetricsRule{Matcher: regexp.MustCompile(`^/gc/heap/(live|goal):bytes$`)})),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}),
		m.grpcStarted, m.grpcHandled, m.grpcMsgReceived, m.grpcMsgSent, m.grpcHandling, m.streamsInFlight,
		m.httpRequests, m.httpDuration, m.httpInFlight,
		m.coverageSeconds, m.coverageStops, m.coverageVertices,
	)
	// A collector that fails must not hide the others from the scrape.
	m.scrape = promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorHandling: promhttp.ContinueOnError})
	return m
}

// handler serves the registry in the Prometheus text format.
func (m *metrics) handler() http.Handler { return m.scrape }

// grpcLabels label every gRPC series but the in-flight gauge.
var grpcLabels = []string{"grpc_type", "grpc_service", "grpc_method"}

// grpcCodes are the codes whose handled series exist from the start, and
// which methodSeries holds by code.
var grpcCodes = []codes.Code{
	codes.OK, codes.Canceled, codes.Unknown, codes.InvalidArgument, codes.DeadlineExceeded, codes.NotFound,
	codes.AlreadyExists, codes.PermissionDenied, codes.ResourceExhausted, codes.FailedPrecondition,
	codes.Aborted, codes.OutOfRange, codes.Unimplemented, codes.Internal, codes.Unavailable, codes.DataLoss,
	codes.Unauthenticated,
}

// methodSeries are the series of one method.
type methodSeries struct {
	labels                  []string // grpc_type, grpc_service, grpc_method
	started, received, sent prometheus.Counter
	handlingOK              prometheus.Observer // the handling time of calls that end OK
	handled                 [codes.Unauthenticated + 1]prometheus.Counter
	inFlight                prometheus.Gauge // streams only
}

// newMethodSeries makes the series of a method; with allCodes, its handled
// series for every code too, as the provider's InitializeMetrics did.
func (m *metrics) newMethodSeries(typ, service, method string, stream, allCodes bool) *methodSeries {
	ms := &methodSeries{labels: []string{typ, service, method}}
	ms.started = m.grpcStarted.WithLabelValues(ms.labels...)
	ms.received = m.grpcMsgReceived.WithLabelValues(ms.labels...)
	ms.sent = m.grpcMsgSent.WithLabelValues(ms.labels...)
	ms.handlingOK = m.grpcHandling.WithLabelValues(typ, service, method, codes.OK.String())
	if allCodes {
		for _, c := range grpcCodes {
			ms.handled[c] = m.grpcHandled.WithLabelValues(typ, service, method, c.String())
		}
	}
	if stream {
		ms.inFlight = m.streamsInFlight.WithLabelValues(service, method)
	}
	return ms
}

// series are the series of a call. Every method of a registered service has
// them from initialize; any other gets them made on the spot.
func (m *metrics) series(fullMethod string, typ string, stream bool) *methodSeries {
	if all := m.methods.Load(); all != nil {
		if ms := (*all)[fullMethod]; ms != nil {
			return ms
		}
	}
	service, method := splitFullMethod(fullMethod)
	return m.newMethodSeries(typ, service, method, stream, false)
}

// callCode is the code a call is counted under, taken as the go-grpc-middleware
// provider takes it: a context error counts as its own code, not as Unknown.
func callCode(err error) codes.Code {
	if err == nil {
		return codes.OK
	}
	s, ok := status.FromError(err)
	if !ok {
		s = status.FromContextError(err)
	}
	return s.Code()
}

// finish counts the call as handled, under its code, and times it.
func (m *metrics) finish(ms *methodSeries, err error, start time.Time) {
	code := callCode(err)
	if code < codes.Code(len(ms.handled)) && ms.handled[code] != nil {
		ms.handled[code].Inc()
	} else {
		m.grpcHandled.WithLabelValues(ms.labels[0], ms.labels[1], ms.labels[2], code.String()).Inc()
	}
	seconds := time.Since(start).Seconds()
	if code == codes.OK {
		ms.handlingOK.Observe(seconds)
		return
	}
	// Failed calls are found by their labels: fewer, and not worth a
	// series made ahead for every code.
	m.grpcHandling.WithLabelValues(ms.labels[0], ms.labels[1], ms.labels[2], code.String()).Observe(seconds)
}

// unaryInterceptor counts and times unary calls: started, a message received,
// a message sent when the call succeeds, handled by code, and the handling
// time.
func (m *metrics) unaryInterceptor() grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		ms := m.series(info.FullMethod, "unary", false)
		start := time.Now()
		ms.started.Inc()
		ms.received.Inc()
		resp, err := handler(ctx, req)
		if err == nil {
			ms.sent.Inc()
		}
		m.finish(ms, err, start)
		return resp, err
	}
}

// streamInterceptor counts and times streams like unaryInterceptor, counts
// every message received and sent, and keeps the streams in flight.
func (m *metrics) streamInterceptor() grpc.StreamServerInterceptor {
	return func(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
		// Only registered methods reach interceptors (the server sets no
		// unknown-service handler), so the labels stay bounded.
		ms := m.series(info.FullMethod, string(streamType(info)), true)
		ms.inFlight.Inc()
		defer ms.inFlight.Dec()
		start := time.Now()
		ms.started.Inc()
		err := handler(srv, &countedStream{ServerStream: ss, ms: ms})
		m.finish(ms, err, start)
		return err
	}
}

// countedStream counts the messages of a stream that go through.
type countedStream struct {
	grpc.ServerStream
	ms *methodSeries
}

func (s *countedStream) SendMsg(msg any) error {
	err := s.ServerStream.SendMsg(msg)
	if err == nil {
		s.ms.sent.Inc()
	}
	return err
}

func (s *countedStream) RecvMsg(msg any) error {
	err := s.ServerStream.RecvMsg(msg)
	if err == nil {
		s.ms.received.Inc()
	}
	return err
}

// initialize makes every registered method's series exist with zero, so that
// dashboards and rate() see them before the first call. Call it after every
// service is registered and before serving.
func (m *metrics) initialize(s *grpc.Server) {
	all := map[string]*methodSeries{}
	for service, info := range s.GetServiceInfo() {
		for _, method := range info.Methods {
			typ := "unary"
			switch {
			case method.IsClientStream && method.IsServerStream:
				typ = "bidi_stream"
			case method.IsClientStream:
				typ = "client_stream"
			case method.IsServerStream:
				typ = "server_stream"
			}
			all["/"+service+"/"+method.Name] = m.newMethodSeries(typ, service, method.Name, method.IsClientStream || method.IsServerStream, true)
		}
	}
	m.methods.Store(&all)
}

// splitFullMethod splits "/coverage.v1.CoverageService/Audit" into its
// service and method.
func splitFullMethod(full string) (service, method string) {
	full = strings.TrimPrefix(full, "/")
	if i := strings.LastIndexByte(full, '/'); i >= 0 {
		return full[:i], full[i+1:]
	}
	return "unknown", full
}

// observeCoverage records one bus-stop coverage measurement. A nil receiver
// records nothing, so a Service built without metrics (as in tests) can call
// it unconditionally.
func (m *metrics) observeCoverage(stops, vertices int, d time.Duration) {
	if m == nil {
		return
	}
	m.coverageSeconds.WithLabelValues(sizeClass(stops), sizeClass(vertices)).Observe(d.Seconds())
	m.coverageStops.Observe(float64(stops))
	m.coverageVertices.Observe(float64(vertices))
}

// sizeClass buckets an input size by orders of magnitude: fine enough to tell
// a village from a city, coarse enough to keep the label set small.
func sizeClass(n int) string {
	switch {
	case n <= 100:
		return "<=100"
	case n <= 1_000:
		return "<=1k"
	case n <= 10_000:
		return "<=10k"
	case n <= 100_000:
		return "<=100k"
	}
	return ">100k"
}

// httpMiddleware counts and times every HTTP request, including those the
// gateway answers itself (unknown routes, wrong methods, oversized bodies),
// so it must wrap the whole handler chain rather than sit inside the gateway.
func (m *metrics) httpMiddleware(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Labels come from the request as it arrived: the gateway rewrites
		// r.Method for an X-HTTP-Method-Override request.
		method, route := methodLabel(r.Method), routeLabel(r)
		start := time.Now()
		m.httpInFlight.Inc()
		// The deferred decrement keeps the gauge honest when a handler
		// panics (net/http recovers it and drops the connection).
		defer m.httpInFlight.Dec()
		rec := &codeRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		code := rec.code
		if code == 0 {
			// net/http sends 200 for a handler that wrote nothing.
			code = http.StatusOK
		}
		codeLabel := strconv.Itoa(code)
		m.httpRequests.WithLabelValues(method, route, codeLabel).Inc()
		m.httpDuration.WithLabelValues(method, route, codeLabel).Observe(time.Since(start).Seconds())
	})
}

// codeRecorder notes the status code sent. It is separate from the access
// log's statusRecorder so that either can change without the other.
type codeRecorder struct {
	http.ResponseWriter
	code int // 0 until the final header is sent
}

func (r *codeRecorder) WriteHeader(code int) {
	// Informational (1xx) headers may precede the final one; 101 is final.
	if r.code == 0 && (code >= 200 || code == http.StatusSwitchingProtocols) {
		r.code = code
	}
	r.ResponseWriter.WriteHeader(code)
}

func (r *codeRecorder) Write(b []byte) (int, error) {
	if r.code == 0 {
		r.code = http.StatusOK
	}
	return r.ResponseWriter.Write(b)
}

// Flush keeps streaming responses streaming through the recorder.
func (r *codeRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		if r.code == 0 {
			r.code = http.StatusOK
		}
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *codeRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// methodLabel bounds the method label: a client can send any token as the
// method, and each would otherwise become a series.
func methodLabel(m string) string {
	switch m {
	case http.MethodGet, http.MethodHead, http.MethodPost, http.MethodPut, http.MethodPatch,
		http.MethodDelete, http.MethodOptions, http.MethodConnect, http.MethodTrace:
		return m
	}
	return "other"
}

// routeLabel is the REST template the request's path matches, or "other":
// raw paths would make a series per ruleset id, and per scanner probe.
func routeLabel(r *http.Request) string {
	// The gateway matches the escaped path when there is one, so that
	// "/v1/rulesets/a%2Fb" is one {id}; match the same way.
	path := r.URL.RawPath
	if path == "" {
		path = r.URL.Path
	}
	for _, rt := range httpRoutes() {
		if rt.match(path) {
			return rt.template
		}
	}
	return "other"
}

// extraRoutes are served beside the gateway's generated routes: the OpenAPI
// document, the gateway's health endpoint and the metrics themselves.
var extraRoutes = []string{"/openapi.json", "/healthz", "/metrics"}

// httpRoutes are the REST templates, taken from the google.api.http options
// of the service descriptor so that a route added to the proto is labelled
// without anyone remembering to list it here.
var httpRoutes = sync.OnceValue(func() []httpRoute {
	var templates []string
	services := coveragev1.File_coverage_v1_coverage_service_proto.Services()
	for i := range services.Len() {
		methods := services.Get(i).Methods()
		for j := range methods.Len() {
			opts, _ := methods.Get(j).Options().(*descriptorpb.MethodOptions)
			if opts == nil {
				continue
			}
			rule, _ := proto.GetExtension(opts, annotations.E_Http).(*annotations.HttpRule)
			templates = appendHTTPRule(templates, rule)
		}
	}
	for _, t := range extraRoutes {
		if !slices.Contains(templates, t) {
			templates = append(templates, t)
		}
	}
	routes := make([]httpRoute, 0, len(templates))
	for _, t := range templates {
		rt, err := compileRoute(t)
		if err != nil {
			// The generated gateway panics on the same templates when its
			// package initialises, so this is never reached in a build that
			// starts.
			panic(err)
		}
		routes = append(routes, rt)
	}
	return routes
})

func appendHTTPRule(templates []string, rule *annotations.HttpRule) []string {
	if rule == nil {
		return templates
	}
	var t string
	switch p := rule.GetPattern().(type) {
	case *annotations.HttpRule_Get:
		t = p.Get
	case *annotations.HttpRule_Put:
		t = p.Put
	case *annotations.HttpRule_Post:
		t = p.Post
	case *annotations.HttpRule_Delete:
		t = p.Delete
	case *annotations.HttpRule_Patch:
		t = p.Patch
	case *annotations.HttpRule_Custom:
		t = p.Custom.GetPath()
	}
	if t != "" && !slices.Contains(templates, t) {
		templates = append(templates, t)
	}
	for _, b := range rule.GetAdditionalBindings() {
		templates = appendHTTPRule(templates, b)
	}
	return templates
}

// httpRoute is a compiled google.api.http path template.
type httpRoute struct {
	template string
	// segs holds one entry per path segment: a literal, "*" for any one
	// segment, or "**" (last only) for any number of remaining segments.
	segs []string
	verb string
}

// compileRoute parses a path template: "/" segments of literals, "*", "**",
// "{var}" or "{var=segments}", and an optional ":verb" at the end.
func compileRoute(template string) (httpRoute, error) {
	rt := httpRoute{template: template}
	if !strings.HasPrefix(template, "/") {
		return rt, fmt.Errorf("route template %q does not start with /", template)
	}
	var tokens []string
	depth, start := 0, 1
	for i := 1; i < len(template); i++ {
		switch c := template[i]; {
		case c == '{':
			depth++
		case c == '}':
			depth--
		case c == '/' && depth == 0:
			tokens = append(tokens, template[start:i])
			start = i + 1
		case c == ':' && depth == 0:
			if strings.ContainsRune(template[i+1:], '/') {
				return rt, fmt.Errorf("route template %q has a verb before its last segment", template)
			}
			rt.verb = template[i+1:]
			tokens = append(tokens, template[start:i])
			start = -1
		}
		if depth < 0 || depth > 1 {
			return rt, fmt.Errorf("route template %q has unbalanced braces", template)
		}
		if start < 0 {
			break
		}
	}
	if depth != 0 {
		return rt, fmt.Errorf("route template %q has unbalanced braces", template)
	}
	if start >= 0 {
		tokens = append(tokens, template[start:])
	}
	for _, tok := range tokens {
		if v, ok := strings.CutPrefix(tok, "{"); ok {
			v = strings.TrimSuffix(v, "}")
			if _, inner, ok := strings.Cut(v, "="); ok {
				rt.segs = append(rt.segs, strings.Split(inner, "/")...)
			} else {
				rt.segs = append(rt.segs, "*")
			}
			continue
		}
		rt.segs = append(rt.segs, tok)
	}
	for i, s := range rt.segs {
		if s == "" {
			return rt, fmt.Errorf("route template %q has an empty segment", template)
		}
		if s == "**" && i != len(rt.segs)-1 {
			return rt, fmt.Errorf("route template %q has ** before its last segment", template)
		}
	}
	return rt, nil
}

// match reports whether the path matches, the way the gateway matches it:
// a template with a verb needs ":verb" at the end of a non-empty last
// segment, and one without matches the last segment whole, colon and all.
func (rt *httpRoute) match(path string) bool {
	rest, ok := strings.CutPrefix(path, "/")
	if !ok {
		return false
	}
	if rt.verb != "" {
		if rest, ok = strings.CutSuffix(rest, ":"+rt.verb); !ok || rest == "" || strings.HasSuffix(rest, "/") {
			return false
		}
	}
	for i, seg := range rt.segs {
		if seg == "**" {
			return true
		}
		comp, tail, more := strings.Cut(rest, "/")
		if seg != "*" && seg != comp {
			return false
		}
		if i == len(rt.segs)-1 {
			return !more
		}
		if !more {
			return i+2 == len(rt.segs) && rt.segs[i+1] == "**"
		}
		rest = tail
	}
	return false
}
