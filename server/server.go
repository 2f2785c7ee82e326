package server

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	goruntime "runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/recovery"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"github.com/rs/cors"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/reflection"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/encoding/protojson"

	"github.com/civic-standards/coverage/coverage"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
	"github.com/civic-standards/coverage/proto/openapi"
)

// Config configures a Server.
type Config struct {
	// GRPCAddr is the gRPC listen address, for example ":50051".
	GRPCAddr string
	// HTTPAddr is the REST gateway's listen address, for example ":8080".
	HTTPAddr string
	// Catalog holds the rulesets the server answers from.
	Catalog *coverage.Catalog
	// Logger receives structured request logs; nil discards them.
	Logger *slog.Logger
	// ShutdownTimeout bounds the graceful drain of in-flight requests.
	ShutdownTimeout time.Duration
	// MaxMessageBytes bounds a request or response, over gRPC and as an HTTP
	// body (default DefaultMaxMessageBytes): a city with a million stops is
	// about 20 MB of protobuf and 40 MB of GeoJSON.
	MaxMessageBytes int
	// MaxBatch bounds the settlements of one AuditBatch request (default
	// DefaultMaxBatch); streams have no such bound.
	MaxBatch int
	// MaxStops and MaxVertices bound the geometry of one settlement
	// (defaults DefaultMaxStops, DefaultMaxVertices); population points count
	// against MaxStops.
	MaxStops, MaxVertices int
	// DefaultDeadline is given to calls that come without a deadline and to
	// each settlement of a stream; MaxDeadline caps what a caller may ask
	// (defaults DefaultDeadline, DefaultMaxDeadline).
	DefaultDeadline, MaxDeadline time.Duration
	// MaxConcurrentStreams bounds the calls in flight on one connection
	// (default DefaultMaxConcurrentStreams).
	MaxConcurrentStreams uint32
	// HTTP server timeouts (defaults: 10 s to read headers, 60 s to read a
	// request, 120 s to write a response, 120 s idle): they cut off clients
	// that trickle their requests to hold connections open.
	HTTPReadHeaderTimeout, HTTPReadTimeout, HTTPWriteTimeout, HTTPIdleTimeout time.Duration
	// CORSOrigins are the origins whose browser pages may call the REST API;
	// empty, the default, sends no CORS headers at all.
	CORSOrigins []string
	// TLS serves both ports over TLS from these files; with a client CA, the
	// callers of both must present a certificate it signed (mutual TLS).
	TLS TLSFiles
	// Tokens, when set, are the bearer tokens callers must present; health
	// checking and reflection stay open, and so do /healthz, /openapi.json
	// and /metrics.
	Tokens *Tokens
	// OpsAddr, when set, serves /healthz and /metrics in plain HTTP on a
	// separate address, for probes and scrapers that cannot present a
	// client certificate to a port that requires one.
	OpsAddr string
	// Profiling, with OpsAddr, also serves Go's runtime profiles
	// (net/http/pprof) under /debug/pprof/ on the ops address, and only
	// there: a profile shows the code's hot paths, not the callers' data,
	// but it costs CPU while it runs and is for operators alone.
	Profiling bool
	// MaxPlanStops caps the stops one PlanBusStops call may add (default
	// coverage.DefaultPlanMaxStops).
	MaxPlanStops int
	// Web, when set, is served at "/" on the REST port beside the API (the
	// API keeps /v1/, /openapi.json, /metrics and /healthz): the web client.
	Web http.Handler

	// service replaces the CoverageService implementation in tests (a
	// panicking handler, for one).
	service coveragev1.CoverageServiceServer
}

// DefaultMaxMessageBytes is the default bound on a request or response.
const DefaultMaxMessageBytes = 128 << 20

// Server is the gRPC server and the REST gateway in front of it.
type Server struct {
	cfg     Config
	log     *slog.Logger
	grpc    *grpc.Server
	health  *health.Server
	metrics *metrics
	// svc is the CoverageService implementation the gRPC server serves.
	svc coveragev1.CoverageServiceServer

	// codec writes the gRPC server's responses, and checks the gateway's.
	codec *responseCodec

	grpcLis, httpLis, opsLis net.Listener
	tls                      *tls.Config
}

func setDefault[T int | uint32 | time.Duration](v *T, def T) {
	if *v <= 0 {
		*v = def
	}
}

// New builds a server and binds its ports, so that the addresses are known
// (and port 0 resolved) before Serve is called.
func New(cfg Config) (*Server, error) {
	if cfg.Catalog == nil {
		return nil, errors.New("server: a ruleset catalog is required")
	}
	if cfg.Profiling && cfg.OpsAddr == "" {
		return nil, errors.New("server: profiling is served on the ops address only; set one")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 15 * time.Second
	}
	if cfg.MaxMessageBytes <= 0 {
		cfg.MaxMessageBytes = DefaultMaxMessageBytes
	}
	setDefault(&cfg.MaxStops, DefaultMaxStops)
	setDefault(&cfg.MaxPlanStops, coverage.DefaultPlanMaxStops)
	setDefault(&cfg.MaxVertices, DefaultMaxVertices)
	setDefault(&cfg.DefaultDeadline, DefaultDeadline)
	setDefault(&cfg.MaxDeadline, DefaultMaxDeadline)
	setDefault(&cfg.MaxConcurrentStreams, DefaultMaxConcurrentStreams)
	setDefault(&cfg.HTTPReadHeaderTimeout, 10*time.Second)
	setDefault(&cfg.HTTPReadTimeout, 60*time.Second)
	setDefault(&cfg.HTTPWriteTimeout, 120*time.Second)
	setDefault(&cfg.HTTPIdleTimeout, 120*time.Second)
	if cfg.DefaultDeadline > cfg.MaxDeadline {
		return nil, fmt.Errorf("the default deadline %s exceeds the maximum %s", cfg.DefaultDeadline, cfg.MaxDeadline)
	}
	s := &Server{cfg: cfg, log: cfg.Logger, metrics: newMetrics(), codec: &responseCodec{}}
	// The server keeps no sent message once it is encoded (no stats
	// handler), except in the traces of grpc.EnableTracing.
	if !grpc.EnableTracing {
		s.codec.recycler = new(responseRecycler)
	}

	var err error
	var creds []grpc.ServerOption
	if cfg.TLS.Enabled() {
		if s.tls, err = cfg.TLS.Config(); err != nil {
			return nil, err
		}
		// The gateway's in-memory connection is the one exception: it never
		// leaves the process, and has no client certificate to show.
		creds = append(creds, grpc.Creds(tlsExceptInMemory(s.tls)))
	}
	if s.grpcLis, err = net.Listen("tcp", cfg.GRPCAddr); err != nil {
		return nil, fmt.Errorf("listen on gRPC address %q: %w", cfg.GRPCAddr, err)
	}
	if s.httpLis, err = net.Listen("tcp", cfg.HTTPAddr); err != nil {
		s.grpcLis.Close()
		return nil, fmt.Errorf("listen on HTTP address %q: %w", cfg.HTTPAddr, err)
	}
	if cfg.OpsAddr != "" {
		if s.opsLis, err = net.Listen("tcp", cfg.OpsAddr); err != nil {
			s.grpcLis.Close()
			s.httpLis.Close()
			return nil, fmt.Errorf("listen on ops address %q: %w", cfg.OpsAddr, err)
		}
	}

	s.grpc = grpc.NewServer(append(creds,
		grpc.MaxRecvMsgSize(cfg.MaxMessageBytes),
		grpc.MaxSendMsgSize(cfg.MaxMessageBytes),
		grpc.MaxConcurrentStreams(cfg.MaxConcurrentStreams),
		// Audits are written with their rules' text encoded once (wirecodec.go).
		grpc.ForceServerCodecV2(s.codec),
		// Calls run on long-lived workers whose stacks have already grown to
		// what an audit needs; a new goroutine per call spent a tenth of the
		// server's time growing its stack. A call finds no idle worker when
		// more are in flight than there are workers, which under load is
		// most of the time with one per core: 32 per core cut the stack
		// growth from 9% of the CPU to 4% (docs/benchmarks.md, Load), and an
		// idle worker costs only its stack.
		grpc.NumStreamWorkers(uint32(32*goruntime.NumCPU())),
		// Batch clients ping to notice a server that vanished without closing
		// its connections (a lost node); the default policy would answer their
		// pings with GOAWAY.
		grpc.KeepaliveEnforcementPolicy(keepalive.EnforcementPolicy{MinTime: 10 * time.Second, PermitWithoutStream: true}),
		grpc.ChainUnaryInterceptor(s.grpcUnaryChain()...),
		grpc.ChainStreamInterceptor(s.streamChain()...),
	)...)
	svc := cfg.service
	if svc == nil {
		service := NewService(cfg.Catalog)
		if cfg.MaxBatch > 0 {
			service.maxBatch = cfg.MaxBatch
		}
		service.maxStops, service.maxVertices, service.itemTimeout = cfg.MaxStops, cfg.MaxVertices, cfg.DefaultDeadline
		service.maxPlanStops = cfg.MaxPlanStops
		service.observeCoverage = s.metrics.observeCoverage
		svc = service
	}
	coveragev1.RegisterCoverageServiceServer(s.grpc, svc)
	s.svc = svc
	s.health = health.NewServer()
	healthpb.RegisterHealthServer(s.grpc, s.health)
	reflection.Register(s.grpc)
	s.metrics.initialize(s.grpc)
	return s, nil
}

// unaryChain and streamChain are the interceptors of every call. The order
// matters. The request ID and the slot for the caller's token name come
// first, so the log line of every call has both; the logs and the metrics
// come before the token check, so refused calls are logged and counted;
// recovery comes after them, so a panic is logged and counted as the
// INTERNAL it becomes. Without a token file there is no token to check or to
// name, and the two token interceptors are left out.
func (s *Server) unaryChain() []grpc.UnaryServerInterceptor {
	tokens := s.cfg.Tokens
	chain := []grpc.UnaryServerInterceptor{requestIDUnary}
	if tokens != nil {
		chain = append(chain, tokenNameSlotUnaryInterceptor)
	}
	chain = append(chain,
		callLogger{s.log}.unary,
		s.metrics.unaryInterceptor(),
		recovery.UnaryServerInterceptor(recovery.WithRecoveryHandlerContext(s.recovered)))
	if tokens != nil {
		chain = append(chain, tokens.UnaryServerInterceptor())
	}
	return append(chain, deadlines(s.cfg.DefaultDeadline, s.cfg.MaxDeadline))
}

// grpcUnaryChain is unaryChain on the gRPC server. With a recycler, its
// first interceptor lets unary audits reuse their response's arrays
// (recycle.go): first, so that it sees the response that is sent; on the
// gRPC server alone, because the gateway's in-process calls read the
// response after it is encoded.
func (s *Server) grpcUnaryChain() []grpc.UnaryServerInterceptor {
	if s.codec.recycler == nil {
		return s.unaryChain()
	}
	return append([]grpc.UnaryServerInterceptor{s.codec.recycler.unaryInterceptor}, s.unaryChain()...)
}

func (s *Server) streamChain() []grpc.StreamServerInterceptor {
	tokens := s.cfg.Tokens
	chain := []grpc.StreamServerInterceptor{requestIDStream}
	if tokens != nil {
		chain = append(chain, tokenNameSlotStreamInterceptor)
	}
	chain = append(chain,
		callLogger{s.log}.stream,
		s.metrics.streamInterceptor(),
		recovery.StreamServerInterceptor(recovery.WithRecoveryHandlerContext(s.recovered)))
	if tokens != nil {
		chain = append(chain, tokens.StreamServerInterceptor())
	}
	return chain
}

// GRPCAddr is the bound gRPC address.
func (s *Server) GRPCAddr() string { return s.grpcLis.Addr().String() }

// HTTPAddr is the bound REST gateway address.
func (s *Server) HTTPAddr() string { return s.httpLis.Addr().String() }

// OpsAddr is the bound address of the plain-HTTP health and metrics port,
// or "" when there is none.
func (s *Server) OpsAddr() string {
	if s.opsLis == nil {
		return ""
	}
	return s.opsLis.Addr().String()
}

// healthz answers 200 while the server is serving and 503 otherwise (at
// start-up and from the moment it begins to shut down).
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) {
	resp, err := s.health.Check(r.Context(), &healthpb.HealthCheckRequest{})
	w.Header().Set("Content-Type", "application/json")
	if err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		w.WriteHeader(http.StatusServiceUnavailable)
		_, _ = w.Write([]byte(`{"status":"NOT_SERVING"}` + "\n"))
		return
	}
	_, _ = w.Write([]byte(`{"status":"SERVING"}` + "\n"))
}

// recovered turns a handler panic into INTERNAL, logging the stack; the
// server goes on serving.
func (s *Server) recovered(ctx context.Context, p any) error {
	s.log.ErrorContext(ctx, "handler panic", "panic", fmt.Sprint(p), "stack", string(debug.Stack()))
	return status.Error(codes.Internal, "internal error")
}

func slogAdapter(l *slog.Logger) logging.Logger {
	return logging.LoggerFunc(func(ctx context.Context, lvl logging.Level, msg string, fields ...any) {
		l.Log(ctx, slog.Level(lvl), msg, fields...)
	})
}

// Serve runs both servers until ctx is done, then drains them: health turns
// NOT_SERVING first, the gateway stops taking requests, and in-flight gRPC
// calls finish within the shutdown timeout.
func (s *Server) Serve(ctx context.Context) error {
	// The gateway calls the same grpc.Server through an in-memory listener:
	// REST traffic passes every interceptor (logs, limits, tokens) and can
	// stream, needs no client identity of its own when the public port
	// requires mutual TLS, and nothing on the network can reach the server
	// around the public port's TLS.
	mem := bufconn.Listen(1 << 20)
	conn, err := s.dialInMemory(mem)
	if err != nil {
		return fmt.Errorf("gateway: dial gRPC: %w", err)
	}
	defer conn.Close()

	gw, err := s.gateway(ctx, conn)
	if err != nil {
		return err
	}
	httpSrv := &http.Server{
		Handler:           gw,
		ReadHeaderTimeout: s.cfg.HTTPReadHeaderTimeout,
		ReadTimeout:       s.cfg.HTTPReadTimeout,
		WriteTimeout:      s.cfg.HTTPWriteTimeout,
		IdleTimeout:       s.cfg.HTTPIdleTimeout,
		ErrorLog:          slog.NewLogLogger(s.log.Handler(), slog.LevelWarn),
	}

	s.health.SetServingStatus("", healthpb.HealthCheckResponse_SERVING)
	s.health.SetServingStatus(coveragev1.CoverageService_ServiceDesc.ServiceName, healthpb.HealthCheckResponse_SERVING)

	errc := make(chan error, 3)
	go func() { errc <- s.grpc.Serve(s.grpcLis) }()
	go func() { errc <- s.grpc.Serve(inMemoryListener(mem)) }()
	go func() {
		var err error
		if s.tls != nil {
			httpSrv.TLSConfig = s.tls.Clone()
			err = httpSrv.ServeTLS(s.httpLis, "", "")
		} else {
			err = httpSrv.Serve(s.httpLis)
		}
		if !errors.Is(err, http.ErrServerClosed) {
			errc <- err
			return
		}
		errc <- nil
	}()
	var opsSrv *http.Server
	if s.opsLis != nil {
		ops := http.NewServeMux()
		ops.Handle("GET /metrics", s.metrics.handler())
		ops.HandleFunc("GET /healthz", s.healthz)
		if s.cfg.Profiling {
			ops.HandleFunc("GET /debug/pprof/", pprof.Index)
			ops.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
			ops.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
			ops.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
			ops.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
		}
		opsSrv = &http.Server{Handler: ops, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: 10 * time.Second, WriteTimeout: 30 * time.Second}
		go func() {
			if err := opsSrv.Serve(s.opsLis); !errors.Is(err, http.ErrServerClosed) {
				s.log.Error("ops server", "err", err)
			}
		}()
	}
	s.log.Info("serving", "grpc", s.GRPCAddr(), "http", s.HTTPAddr(), "ops", s.OpsAddr(), "tls", s.tls != nil,
		"mutual_tls", s.cfg.TLS.ClientCAFile != "", "tokens", s.cfg.Tokens != nil,
		"rulesets", len(s.cfg.Catalog.Rulesets()), "default_ruleset", s.cfg.Catalog.DefaultID())

	var serveErr error
	select {
	case <-ctx.Done():
	case serveErr = <-errc:
	}
	s.log.Info("shutting down")
	s.health.Shutdown()

	drain, cancel := context.WithTimeout(context.Background(), s.cfg.ShutdownTimeout)
	defer cancel()
	if err := httpSrv.Shutdown(drain); err != nil {
		s.log.Warn("HTTP drain incomplete", "err", err)
	}
	if opsSrv != nil {
		// Last to go, so the probes see NOT_SERVING while the rest drains.
		defer opsSrv.Close()
	}
	stopped := make(chan struct{})
	go func() { s.grpc.GracefulStop(); close(stopped) }()
	select {
	case <-stopped:
	case <-drain.Done():
		s.log.Warn("gRPC drain timed out; closing connections")
		s.grpc.Stop()
	}
	return serveErr
}

// inMemoryAuthority names the gRPC server on the gateway's in-memory
// connection.
const inMemoryAuthority = "in-memory"

// dialInMemory is the gateway's connection to the gRPC server on mem.
func (s *Server) dialInMemory(mem *bufconn.Listener) (*grpc.ClientConn, error) {
	return grpc.NewClient("passthrough:///"+inMemoryAuthority,
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return mem.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(
			grpc.MaxCallSendMsgSize(s.cfg.MaxMessageBytes),
			grpc.MaxCallRecvMsgSize(s.cfg.MaxMessageBytes),
		))
}

// gateway is the REST/JSON front: it calls the service through the gRPC
// server's interceptors, so REST traffic passes the same interceptors as
// gRPC traffic; unary calls in process (inProcessConn), streams over conn.
func (s *Server) gateway(ctx context.Context, conn *grpc.ClientConn) (http.Handler, error) {
	inProcess := newInProcessConn(conn, inMemoryAuthority, &coveragev1.CoverageService_ServiceDesc, s.svc, s.unaryChain(),
		inProcessOptions{codec: s.codec, maxMessageBytes: s.cfg.MaxMessageBytes, maxConcurrentStreams: s.cfg.MaxConcurrentStreams, withCreds: s.tls != nil})
	return s.gatewayTo(ctx, conn, coveragev1.NewCoverageServiceClient(inProcess))
}

// gatewayTo is the REST/JSON front calling client (and conn for health).
func (s *Server) gatewayTo(ctx context.Context, conn *grpc.ClientConn, client coveragev1.CoverageServiceClient) (http.Handler, error) {
	mux := runtime.NewServeMux(
		runtime.WithMarshalerOption(runtime.MIMEWildcard, newStrictJSON(&runtime.JSONPb{
			MarshalOptions: protojson.MarshalOptions{EmitUnpopulated: true},
			// A misspelt field would otherwise vanish and come back as
			// INSUFFICIENT_DATA; reject it and name it instead.
			UnmarshalOptions: protojson.UnmarshalOptions{DiscardUnknown: false},
		})),
		runtime.WithHealthzEndpoint(healthpb.NewHealthClient(conn)),
		// A unary answer is written whole, so its length is known: clients
		// can size their buffer, and a 27 KB audit leaves in one write
		// fewer than when chunked.
		runtime.WithWriteContentLength(),
		runtime.WithErrorHandler(httpErrorHandler),
		runtime.WithRoutingErrorHandler(routingErrorHandler),
		// The request ID goes to gRPC as metadata; the response header is set
		// by httpRequestID, so the gRPC header is not copied back a second time.
		runtime.WithIncomingHeaderMatcher(func(key string) (string, bool) {
			if strings.EqualFold(key, requestIDHeader) {
				return requestIDKey, true
			}
			return runtime.DefaultHeaderMatcher(key)
		}),
		runtime.WithOutgoingHeaderMatcher(func(key string) (string, bool) {
			if key == requestIDKey {
				return "", false
			}
			return runtime.MetadataHeaderPrefix + key, true
		}),
	)
	if err := coveragev1.RegisterCoverageServiceHandlerClient(ctx, mux, client); err != nil {
		return nil, fmt.Errorf("gateway: register: %w", err)
	}
	root := http.NewServeMux()
	root.Handle("GET /metrics", s.metrics.handler())
	root.HandleFunc("GET /openapi.json", func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(openapi.Spec)
	})
	limit := int64(s.cfg.MaxMessageBytes)
	api := http.MaxBytesHandler(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mux.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), maxBodyBytesKey{}, limit)))
	}), limit)
	if s.cfg.Web != nil {
		root.Handle("/v1/", api)
		root.Handle("/healthz", api)
		root.Handle("/", s.cfg.Web)
	} else {
		root.Handle("/", api)
	}
	var h http.Handler = root
	if len(s.cfg.CORSOrigins) > 0 {
		h = cors.New(cors.Options{
			AllowedOrigins: s.cfg.CORSOrigins,
			AllowedMethods: []string{http.MethodGet, http.MethodPost},
			AllowedHeaders: []string{"Content-Type", "Authorization", requestIDHeader},
			ExposedHeaders: []string{requestIDHeader},
			MaxAge:         600,
		}).Handler(h)
	}
	return httpRequestID(s.accessLog(s.metrics.httpMiddleware(h))), nil
}

// accessLog logs every HTTP request with its outcome, including those the
// gateway answers itself (bad JSON, unknown routes, oversized bodies) and so
// never reach the gRPC interceptors, and the caller's own address, which the
// gRPC logs see only as the gateway's. Health probes are left out, as over
// gRPC: orchestrators send one every few seconds.
func (s *Server) accessLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "/healthz" {
			next.ServeHTTP(w, r)
			return
		}
		start := time.Now()
		rec := &statusRecorder{ResponseWriter: w, status: http.StatusOK}
		next.ServeHTTP(rec, r)
		s.log.LogAttrs(r.Context(), slog.LevelInfo, "finished HTTP request",
			slog.String("protocol", "http"), slog.String("http.method", r.Method), slog.String("http.path", r.URL.Path),
			slog.Int("http.status", rec.status), slog.Int64("http.response_bytes", rec.bytes),
			slog.String("peer.address", r.RemoteAddr), slog.Float64("http.time_ms", float64(time.Since(start).Microseconds())/1000),
			slog.String("request_id", RequestID(r.Context())))
	})
}

type statusRecorder struct {
	http.ResponseWriter
	status int
	bytes  int64
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

func (r *statusRecorder) Write(b []byte) (int, error) {
	n, err := r.ResponseWriter.Write(b)
	r.bytes += int64(n)
	return n, err
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (r *statusRecorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// Flush keeps streaming responses streaming through the recorder.
func (r *statusRecorder) Flush() {
	if f, ok := r.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Close releases the listeners of a server that was never served.
func (s *Server) Close() {
	s.grpcLis.Close()
	s.httpLis.Close()
	if s.opsLis != nil {
		s.opsLis.Close()
	}
}
