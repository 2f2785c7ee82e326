// Command coverage-server serves the coverage.v1 API over gRPC and REST/JSON.
//
//	coverage-server [--grpc-addr :50051] [--http-addr :8080] [--rulesets DIR]
//
// With no flags it serves the embedded jilin-2014 ruleset.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

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

func realMain(ctx context.Context, args []string) error {
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
	if err := fs.Parse(args); err != nil {
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected arguments: %v", fs.Args())
	}

	var level slog.Level
	if err := level.UnmarshalText([]byte(*logLevel)); err != nil {
		return fmt.Errorf("--log-level: %w", err)
	}
	opts := &slog.HandlerOptions{Level: level}
	var logger *slog.Logger
	switch *logFormat {
	case "json":
		logger = slog.New(slog.NewJSONHandler(os.Stderr, opts))
	case "text":
		logger = slog.New(slog.NewTextHandler(os.Stderr, opts))
	default:
		return fmt.Errorf("--log-format: want json or text, got %q", *logFormat)
	}

	catalog, replaced, err := coverage.LoadCatalog(*defaultRuleset, *rulesetDir)
	if err != nil {
		return err
	}
	for _, id := range replaced {
		logger.Warn("ruleset file replaces the embedded ruleset", "ruleset", id, "dir", *rulesetDir)
	}

	srv, err := server.New(server.Config{
		GRPCAddr: *grpcAddr, HTTPAddr: *httpAddr, Catalog: catalog,
		Logger: logger, ShutdownTimeout: *shutdown, MaxMessageBytes: *maxMessage, MaxBatch: *maxBatch,
	})
	if err != nil {
		return err
	}
	return srv.Serve(ctx)
}
