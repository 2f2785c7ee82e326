package server

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// TestSecureServer: the real server with TLS on both ports, client
// certificates required, and bearer tokens: the API needs all three over
// gRPC and REST; health, /healthz, /openapi.json and the ops port stay open
// to what can reach them; the log names the token, never shows it.
func TestSecureServer(t *testing.T) {
	dir := t.TempDir()
	ca := newTLSTestCA(t, "coverage test CA")
	certPEM, keyPEM := ca.issue(t, 2, "coverage-server", false)
	logs := &syncBuffer{}
	srv, err := New(Config{
		GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", OpsAddr: "127.0.0.1:0",
		Catalog: testCatalog(t), Logger: slog.New(slog.NewJSONHandler(logs, nil)), ShutdownTimeout: 2 * time.Second,
		TLS: TLSFiles{
			CertFile:     writeTLSTestFile(t, dir, "server.pem", certPEM),
			KeyFile:      writeTLSTestFile(t, dir, "server-key.pem", keyPEM),
			ClientCAFile: writeTLSTestFile(t, dir, "ca.pem", ca.pem),
		},
		Tokens: authTestTokens(t),
	})
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

	clientTLS := &tls.Config{RootCAs: ca.pool(), Certificates: []tls.Certificate{ca.clientCert(t, "planning-system")}, ServerName: "localhost"}
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(credentials.NewTLS(clientTLS)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	api := coveragev1.NewCoverageServiceClient(conn)
	call := rpcContext(t)
	if _, err := api.ListRulesets(withBearer(call, authTestGood), &coveragev1.ListRulesetsRequest{}); err != nil {
		t.Fatalf("gRPC with certificate and token: %v", err)
	}
	if _, err := api.ListRulesets(call, &coveragev1.ListRulesetsRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("gRPC without a token: %v, want UNAUTHENTICATED", err)
	}
	if _, err := healthpb.NewHealthClient(conn).Check(call, &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("health without a token: %v", err)
	}
	// Without a client certificate the handshake itself fails.
	noCert, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(credentials.NewTLS(&tls.Config{RootCAs: ca.pool(), ServerName: "localhost"})))
	if err != nil {
		t.Fatal(err)
	}
	defer noCert.Close()
	if _, err := healthpb.NewHealthClient(noCert).Check(call, &healthpb.HealthCheckRequest{}); status.Code(err) != codes.Unavailable {
		t.Errorf("gRPC without a client certificate: %v, want the handshake to fail", err)
	}

	https := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: clientTLS}}
	defer https.CloseIdleConnections()
	get := func(client *http.Client, url, token string) (int, string) {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, url, nil)
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := client.Do(req)
		if err != nil {
			return 0, err.Error()
		}
		defer resp.Body.Close()
		body, _ := io.ReadAll(resp.Body)
		return resp.StatusCode, string(body)
	}
	base := "https://" + srv.HTTPAddr()
	for _, c := range []struct {
		path, token string
		want        int
	}{
		{"/v1/rulesets", authTestGood, http.StatusOK},
		{"/v1/rulesets", "", http.StatusUnauthorized},
		{"/v1/rulesets", "wrong-token", http.StatusUnauthorized},
		{"/healthz", "", http.StatusOK},
		{"/openapi.json", "", http.StatusOK},
		{"/metrics", "", http.StatusOK},
	} {
		if code, body := get(https, base+c.path, c.token); code != c.want {
			t.Errorf("GET %s (token %v): %d, want %d\n%.200s", c.path, c.token != "", code, c.want, body)
		}
	}
	if code, _ := get(&http.Client{Timeout: 5 * time.Second}, "http://"+srv.HTTPAddr()+"/v1/rulesets", authTestGood); code == http.StatusOK {
		t.Error("the REST port answered plain HTTP")
	}
	noCertHTTPS := &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: ca.pool(), ServerName: "localhost"}}}
	if code, _ := get(noCertHTTPS, base+"/healthz", ""); code != 0 {
		t.Errorf("HTTPS without a client certificate: %d, want the handshake to fail", code)
	}
	ops := &http.Client{Timeout: 5 * time.Second}
	for _, path := range []string{"/healthz", "/metrics"} {
		if code, body := get(ops, "http://"+srv.OpsAddr()+path, ""); code != http.StatusOK {
			t.Errorf("ops %s: %d %.200s", path, code, body)
		}
	}
	if code, _ := get(ops, "http://"+srv.OpsAddr()+"/v1/rulesets", ""); code != http.StatusNotFound {
		t.Errorf("the ops port serves the API: %d", code)
	}

	var named bool
	for deadline := time.Now().Add(2 * time.Second); !named && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		named = strings.Contains(logs.String(), `"auth.token":"planning-bureau"`)
	}
	if !named {
		t.Errorf("the log does not name the token:\n%s", logs.String())
	}
	assertNoSecret(t, "the log", logs.String())
}
