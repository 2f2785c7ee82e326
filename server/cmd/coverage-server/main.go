// Command coverage-server serves the coverage.v1 API over gRPC and REST/JSON.
//
//	coverage-server [--grpc-addr :50051] [--http-addr :8080] [--rulesets DIR] [flags]
//	coverage-server hash-token < token-file
//
// With no flags it serves the embedded jilin-2014 ruleset; --help lists the
// flags (limits, TLS and mutual TLS, tokens, CORS, logs).
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math"
	"os"
	"os/signal"
	"runtime/debug"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/civic-standards/coverage/clients/web"
	"github.com/civic-standards/coverage/coverage"
	"github.com/civic-standards/coverage/server"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := realMain(ctx, os.Args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return
		}
		fmt.Fprintln(os.Stderr, "coverage-server:", err)
		os.Exit(1)
	}
}

// hashToken reads a token on r and writes the line that puts it in a
// --tokens-file: the server stores hashes, so the file reveals no token.
func hashToken(r io.Reader, w io.Writer) error {
	data, err := io.ReadAll(io.LimitReader(r, 4096))
	if err != nil {
		return err
	}
	token := strings.TrimSpace(string(data))
	if token == "" || strings.ContainsAny(token, " \t\r\n") {
		return errors.New("hash-token: give one token, without spaces, on standard input")
	}
	_, err = fmt.Fprintln(w, server.HashToken(token))
	return err
}

// defaultGOGC is the garbage collector's target (the heap may grow to this
// percentage above the live heap before a collection) when neither --gogc
// nor $GOGC sets one. A unary audit allocates about 10 KB on the server
// (21 KB before its response's messages were reused) and the live heap is
// 3-4 MB, so at Go's default of 100 the server would collect about thirty
// times a second at 10,000 audits/s; each collection also shrank the stacks
// of the idle stream workers, which the next calls grew again, and its
// pauses and assists were the calls' worst latencies. At 400 the server
// uses as little CPU per call as at 800 (111 against 111 µs at 10,000
// audits/s, alternating) and 5-7% less than at 200, and its resident memory
// stays steady under load: 52-94 MiB in two 10-minute soaks at 9,900
// audits/s, where at 800 it swung between 77 and 216 MiB (docs/benchmarks.md,
// Load).
// --memory-limit bounds what a large request can make the heap grow to.
const defaultGOGC = 400

// memoryLimitDefault is $GOMEMLIMIT when it is set ("off" is none), and
// 1 GiB otherwise: the heap size past which the collector runs more often,
// whatever GOGC says. It is a soft limit: a live heap larger than it is not
// refused, only collected harder.
func memoryLimitDefault() string {
	switch v := os.Getenv("GOMEMLIMIT"); v {
	case "":
		return "1GiB"
	case "off":
		return "0"
	default:
		return v
	}
}

// parseByteSize reads a size as GOMEMLIMIT writes it: a number of bytes,
// or a number with one of the suffixes B, KiB, MiB, GiB and TiB.
func parseByteSize(s string) (int64, error) {
	units := []struct {
		suffix string
		scale  int64
	}{{"TiB", 1 << 40}, {"GiB", 1 << 30}, {"MiB", 1 << 20}, {"KiB", 1 << 10}, {"B", 1}}
	scale := int64(1)
	num := s
	for _, u := range units {
		if strings.HasSuffix(s, u.suffix) {
			num, scale = strings.TrimSuffix(s, u.suffix), u.scale
			break
		}
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n < 0 || n > math.MaxInt64/scale {
		return 0, fmt.Errorf("%q is not a size such as 512MiB, 2GiB or 0", s)
	}
	return n * scale, nil
}

// gogcDefault is $GOGC when it is set ("off" is -1), and defaultGOGC
// otherwise, so that the runtime's own variable keeps its meaning.
func gogcDefault() int {
	v := os.Getenv("GOGC")
	if v == "off" {
		return -1
	}
	if n, err := strconv.Atoi(v); err == nil {
		return n
	}
	return defaultGOGC
}

// splitList splits a comma-separated flag value, dropping empty items.
func splitList(v string) []string {
	var out []string
	for _, item := range strings.Split(v, ",") {
		if item = strings.TrimSpace(item); item != "" {
			out = append(out, item)
		}
	}
	return out
}

func realMain(ctx context.Context, args []string) error {
	if len(args) > 0 && args[0] == "hash-token" {
		return hashToken(os.Stdin, os.Stdout)
	}
	set, err := parseArgs(args)
	if err != nil {
		return err
	}
	debug.SetGCPercent(set.gogc)
	debug.SetMemoryLimit(set.memoryLimit)
	srv, err := server.New(set.cfg)
	if err != nil {
		return err
	}
	return srv.Serve(ctx)
}

// settings are what the command line decides: the server's configuration and
// the process's garbage collector.
type settings struct {
	cfg         server.Config
	gogc        int
	memoryLimit int64 // math.MaxInt64: none
}

// parseArgs reads the command line into settings, loading what the flags
// name (rulesets, the token file) so that a mistake in them stops start-up
// with its file and line.
func parseArgs(args []string) (*settings, error) {
	fs, build := defineFlags()
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() > 0 {
		return nil, fmt.Errorf("unexpected arguments: %v", fs.Args())
	}
	return build()
}

// defineFlags defines every flag (the README's Operating section lists the
// same; main_test.go holds the two together) and returns, with the flag set,
// what turns the parsed flags into settings.
func defineFlags() (*flag.FlagSet, func() (*settings, error)) {
	fs := flag.NewFlagSet("coverage-server", flag.ContinueOnError)
	grpcAddr := fs.String("grpc-addr", ":50051", "gRPC listen address")
	httpAddr := fs.String("http-addr", ":8080", "REST/JSON gateway listen address")
	rulesetDir := fs.String("rulesets", "", "directory of extra *.json ruleset files (a file replaces the embedded ruleset of the same ID)")
	defaultRuleset := fs.String("default-ruleset", coverage.DefaultRulesetID, "ruleset used when a request names none")
	logFormat := fs.String("log-format", "json", "log format: json or text")
	logLevel := fs.String("log-level", "info", "log level: debug, info, warn or error")
	shutdown := fs.Duration("shutdown-timeout", 15*time.Second, "how long in-flight requests may take to finish at shutdown")
	maxMessage := fs.Int("max-message-bytes", server.DefaultMaxMessageBytes, "largest request or response, over gRPC and as an HTTP body")
	maxBatch := fs.Int("max-batch", server.DefaultMaxBatch, "most settlements in one AuditBatch request (POST /v1/audit:batch)")
	maxStops := fs.Int("max-stops", server.DefaultMaxStops, "most bus stops (and population points) of one settlement")
	maxVertices := fs.Int("max-vertices", server.DefaultMaxVertices, "most vertices of one central area")
	serveWeb := fs.Bool("web", true, "serve the web client at / on the REST port (the API keeps /v1/)")
	maxPlanStops := fs.Int("max-plan-stops", coverage.DefaultPlanMaxStops, "most stops one bus-stop plan (POST /v1/plan/bus-stops) may add")
	defaultDeadline := fs.Duration("default-deadline", server.DefaultDeadline, "deadline of a call that comes without one, and of each settlement on a stream")
	maxDeadline := fs.Duration("max-deadline", server.DefaultMaxDeadline, "longest deadline a caller may ask for")
	maxStreams := fs.Uint("max-concurrent-streams", server.DefaultMaxConcurrentStreams, "most calls and streams in flight on one connection")
	readHeader := fs.Duration("http-read-header-timeout", 10*time.Second, "time a REST client has to send its request headers")
	readBody := fs.Duration("http-read-timeout", 60*time.Second, "time a REST client has to send its whole request")
	write := fs.Duration("http-write-timeout", 120*time.Second, "time the gateway has to write a response")
	idle := fs.Duration("http-idle-timeout", 120*time.Second, "how long an idle REST connection is kept open")
	corsOrigins := fs.String("cors-origins", "", "comma-separated origins whose web pages may call the REST API (default: none, CORS off)")
	tlsCert := fs.String("tls-cert", "", "PEM certificate chain: serve both ports over TLS (with --tls-key; re-read when the files change)")
	tlsKey := fs.String("tls-key", "", "PEM private key of --tls-cert")
	tlsClientCA := fs.String("tls-client-ca", "", "PEM CA certificates: require callers of both ports to present a certificate they signed (mutual TLS)")
	tokensFile := fs.String("tokens-file", "", "file of bearer-token hashes, one per line (made by: coverage-server hash-token < token); callers must present one of the tokens; a line ending in methods=Audit,AuditBatch limits its token to those methods")
	profiling := fs.Bool("pprof", false, "with --ops-addr, also serve Go's runtime profiles (net/http/pprof) at /debug/pprof/ on the ops address")
	opsAddr := fs.String("ops-addr", "", "plain-HTTP address for /healthz and /metrics only, for probes and scrapers when the main ports require client certificates")
	gogc := fs.Int("gogc", gogcDefault(), "garbage-collection target: the heap may grow this many percent above the live heap before a collection (-1: never collect; default $GOGC when set)")
	memoryLimit := fs.String("memory-limit", memoryLimitDefault(), "soft limit of the Go heap, e.g. 512MiB or 2GiB: near it the collector runs more often whatever --gogc says (0: none; default $GOMEMLIMIT when set)")
	return fs, func() (*settings, error) {
		limit, err := parseByteSize(*memoryLimit)
		if err != nil {
			return nil, fmt.Errorf("--memory-limit: %w", err)
		}
		if limit == 0 {
			limit = math.MaxInt64 // the runtime's "no limit"
		}

		var level slog.Level
		if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
			return nil, fmt.Errorf("--log-level: %w", err)
		}
		opts := &slog.HandlerOptions{Level: level}
		var logger *slog.Logger
		switch *logFormat {
		case "json":
			logger = slog.New(slog.NewJSONHandler(os.Stderr, opts))
		case "text":
			logger = slog.New(slog.NewTextHandler(os.Stderr, opts))
		default:
			return nil, fmt.Errorf("--log-format: want json or text, got %q", *logFormat)
		}

		catalog, replaced, err := coverage.LoadCatalog(*defaultRuleset, *rulesetDir)
		if err != nil {
			return nil, err
		}
		for _, id := range replaced {
			logger.Warn("ruleset file replaces the embedded ruleset", "ruleset", id, "dir", *rulesetDir)
		}

		var tokens *server.Tokens
		if *tokensFile != "" {
			if tokens, err = server.LoadTokens(*tokensFile); err != nil {
				return nil, fmt.Errorf("--tokens-file: %w", err)
			}
		}
		cfg := server.Config{
			GRPCAddr: *grpcAddr, HTTPAddr: *httpAddr, Catalog: catalog,
			Logger: logger, ShutdownTimeout: *shutdown, MaxMessageBytes: *maxMessage, MaxBatch: *maxBatch,
			MaxStops: *maxStops, MaxVertices: *maxVertices, DefaultDeadline: *defaultDeadline, MaxDeadline: *maxDeadline,
			MaxConcurrentStreams:  uint32(min(*maxStreams, 1<<31)),
			HTTPReadHeaderTimeout: *readHeader, HTTPReadTimeout: *readBody, HTTPWriteTimeout: *write, HTTPIdleTimeout: *idle,
			CORSOrigins: splitList(*corsOrigins),
			TLS:         server.TLSFiles{CertFile: *tlsCert, KeyFile: *tlsKey, ClientCAFile: *tlsClientCA},
			Tokens:      tokens, OpsAddr: *opsAddr, Profiling: *profiling,
			MaxPlanStops: *maxPlanStops,
		}
		if *serveWeb {
			cfg.Web = web.Handler()
		}
		return &settings{cfg: cfg, gogc: *gogc, memoryLimit: limit}, nil
	}
}
