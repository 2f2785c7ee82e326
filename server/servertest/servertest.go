// Package servertest runs the real coverage server on loopback ports for the
// tests of the programs that call it (the Go client, the CLI): built with
// server.New from the embedded rulesets, serving until the test ends.
package servertest

import (
	"context"
	"net"
	"net/http"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/civic-standards/coverage/coverage"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
	"github.com/civic-standards/coverage/server"
)

// Start serves a server on 127.0.0.1 ports chosen by the system, waits until
// its gateway answers /healthz, and stops it when the test ends. Fields of
// cfg left empty get the defaults (the addresses are always loopback).
func Start(t testing.TB, cfg server.Config) *server.Server {
	t.Helper()
	cfg.GRPCAddr, cfg.HTTPAddr = "127.0.0.1:0", "127.0.0.1:0"
	if cfg.Catalog == nil {
		catalog, err := coverage.DefaultCatalog()
		if err != nil {
			t.Fatal(err)
		}
		cfg.Catalog = catalog
	}
	srv, err := server.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Serve: %v", err)
		}
	})
	probe := &http.Client{Timeout: time.Second}
	for deadline := time.Now().Add(5 * time.Second); ; {
		resp, err := probe.Get("http://" + srv.HTTPAddr() + "/healthz")
		if err == nil {
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return srv
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("the server's /healthz did not answer 200 within 5 s (last error %v)", err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// StartTLS serves the coverage service alone, over TLS configured by files
// and checking tokens (nil: none), on a loopback port until the test ends,
// and returns its address: for the tests of clients' TLS and token options.
func StartTLS(t testing.TB, files server.TLSFiles, tokens *server.Tokens) string {
	t.Helper()
	cfg, err := files.Config()
	if err != nil {
		t.Fatal(err)
	}
	return StartService(t, grpc.Creds(credentials.NewTLS(cfg)),
		grpc.ChainUnaryInterceptor(tokens.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(tokens.StreamServerInterceptor()))
}

// StartService serves the coverage service alone on a plain gRPC server with
// opts, on a loopback port until the test ends, and returns its address: for
// clients' tests that need a server the full assembly does not make (one
// with its own interceptors, say).
func StartService(t testing.TB, opts ...grpc.ServerOption) string {
	t.Helper()
	catalog, err := coverage.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(opts...)
	coveragev1.RegisterCoverageServiceServer(s, server.NewService(catalog))
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(lis) }()
	t.Cleanup(func() { s.Stop(); <-done })
	return lis.Addr().String()
}
