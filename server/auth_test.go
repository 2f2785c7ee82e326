package server

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// The tokens of these tests. Each error message is checked for them, and
// for their hashes.
const (
	authTestGood    = "good-token-3f9a1c"
	authTestUnnamed = "unnamed-token-77b2"
	authTestWrong   = "wrong-token-e41d0b"
)

func writeTokenFile(t testing.TB, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

func authTestTokens(t testing.TB) *Tokens {
	t.Helper()
	unnamed := "sha256:" + strings.ToUpper(HashToken(authTestUnnamed)[len("sha256:"):])
	tokens, err := LoadTokens(writeTokenFile(t, "# callers of the coverage service\n\n"+
		HashToken(authTestGood)+"   planning-bureau\n"+
		"\t"+unnamed+"\n"))
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

// assertNoSecret fails if s shows any test token or its hash.
func assertNoSecret(t testing.TB, what, s string) {
	t.Helper()
	for _, tok := range []string{authTestGood, authTestUnnamed, authTestWrong} {
		hash := HashToken(tok)
		for _, secret := range []string{tok, hash, hash[len("sha256:"):], strings.ToUpper(hash[len("sha256:"):])} {
			if strings.Contains(s, secret) {
				t.Errorf("%s shows a token or its hash: %q", what, s)
			}
		}
	}
}

func incoming(values ...string) context.Context {
	md := metadata.MD{}
	for _, v := range values {
		md.Append("authorization", v)
	}
	return metadata.NewIncomingContext(context.Background(), md)
}

func TestHashToken(t *testing.T) {
	// The SHA-256 of "test", as `printf %s test | sha256sum` prints it.
	const want = "sha256:9f86d081884c7d659a2feaa0c55ad015a3bf4f1b2b0b822cd15d6c15b0f00a08"
	if got := HashToken("test"); got != want {
		t.Errorf("HashToken(test) = %s, want %s", got, want)
	}
}

func TestAuthorize(t *testing.T) {
	tokens := authTestTokens(t)
	const method = "/coverage.v1.CoverageService/ListRulesets"
	for _, tc := range []struct {
		name     string
		values   []string
		wantMsg  string // "" for accepted
		wantName string
	}{
		{"none", nil, "missing bearer token", ""},
		{"Basic", []string{"Basic " + authTestGood}, "malformed authorization header", ""},
		{"scheme only", []string{"Bearer"}, "malformed authorization header", ""},
		{"empty token", []string{"Bearer "}, "malformed authorization header", ""},
		{"token only", []string{authTestGood}, "malformed authorization header", ""},
		{"wrong token", []string{"Bearer " + authTestWrong}, "invalid token", ""},
		{"hash as token", []string{"Bearer " + HashToken(authTestGood)}, "invalid token", ""},
		{"token with a suffix", []string{"Bearer " + authTestGood + "x"}, "invalid token", ""},
		{"two values", []string{"Bearer " + authTestGood, "Bearer " + authTestGood}, "malformed authorization header", ""},
		{"a right and a wrong value", []string{"Bearer " + authTestGood, "Bearer " + authTestWrong}, "malformed authorization header", ""},
		{"right token", []string{"Bearer " + authTestGood}, "", "planning-bureau"},
		{"lower-case scheme", []string{"bearer " + authTestGood}, "", "planning-bureau"},
		{"upper-case scheme", []string{"BEARER " + authTestGood}, "", "planning-bureau"},
		{"two spaces", []string{"Bearer  " + authTestGood}, "", "planning-bureau"},
		{"unnamed token", []string{"Bearer " + authTestUnnamed}, "", "line 4"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx, err := tokens.Authorize(incoming(tc.values...), method)
			if tc.wantMsg == "" {
				if err != nil {
					t.Fatalf("refused: %v", err)
				}
				if got := TokenName(ctx); got != tc.wantName {
					t.Errorf("TokenName = %q, want %q", got, tc.wantName)
				}
				return
			}
			st, ok := status.FromError(err)
			if !ok || st.Code() != codes.Unauthenticated || st.Message() != tc.wantMsg {
				t.Fatalf("err = %v, want Unauthenticated %q", err, tc.wantMsg)
			}
			if TokenName(ctx) != "" {
				t.Errorf("refused call has token name %q", TokenName(ctx))
			}
			assertNoSecret(t, "error", err.Error())
		})
	}
}

func TestAuthorizeOpenMethods(t *testing.T) {
	tokens := authTestTokens(t)
	for _, m := range []string{
		"/grpc.health.v1.Health/Check",
		"/grpc.health.v1.Health/Watch",
		"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
		"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
	} {
		if _, err := tokens.Authorize(context.Background(), m); err != nil {
			t.Errorf("%s without a token: %v", m, err)
		}
		// A bad token on an open method is not looked at either.
		if _, err := tokens.Authorize(incoming("Bearer "+authTestWrong), m); err != nil {
			t.Errorf("%s with a wrong token: %v", m, err)
		}
	}
	for _, m := range []string{
		"/coverage.v1.CoverageService/Audit",
		"/coverage.v1.CoverageService/AuditStream",
		"/grpc.health.v1.HealthX/Check",
		"/grpc.health.v2.Health/Check",
		"",
	} {
		if _, err := tokens.Authorize(context.Background(), m); status.Code(err) != codes.Unauthenticated {
			t.Errorf("%q without a token: err = %v, want Unauthenticated", m, err)
		}
	}
}

func TestNilTokensPassEverything(t *testing.T) {
	var tokens *Tokens
	ctx, err := tokens.Authorize(incoming("Basic nonsense"), "/coverage.v1.CoverageService/Audit")
	if err != nil || TokenName(ctx) != "" {
		t.Errorf("Authorize = %q, %v; want no name, no error", TokenName(ctx), err)
	}
	called := false
	_, err = tokens.UnaryServerInterceptor()(context.Background(), nil, &grpc.UnaryServerInfo{FullMethod: "/coverage.v1.CoverageService/Audit"},
		func(context.Context, any) (any, error) { called = true; return nil, nil })
	if err != nil || !called {
		t.Errorf("unary interceptor: called = %v, err = %v", called, err)
	}
	called = false
	err = tokens.StreamServerInterceptor()(nil, fakeServerStream{ctx: context.Background()}, &grpc.StreamServerInfo{FullMethod: "/coverage.v1.CoverageService/AuditStream"},
		func(any, grpc.ServerStream) error { called = true; return nil })
	if err != nil || !called {
		t.Errorf("stream interceptor: called = %v, err = %v", called, err)
	}
}

type fakeServerStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s fakeServerStream) Context() context.Context { return s.ctx }

func TestStreamInterceptor(t *testing.T) {
	tokens := authTestTokens(t)
	intercept := tokens.StreamServerInterceptor()
	info := &grpc.StreamServerInfo{FullMethod: "/coverage.v1.CoverageService/AuditStream", IsClientStream: true, IsServerStream: true}

	var seen string
	handler := func(_ any, ss grpc.ServerStream) error { seen = TokenName(ss.Context()); return nil }
	if err := intercept(nil, fakeServerStream{ctx: incoming("Bearer " + authTestGood)}, info, handler); err != nil {
		t.Fatal(err)
	}
	if seen != "planning-bureau" {
		t.Errorf("stream context token name = %q, want planning-bureau", seen)
	}

	called := false
	err := intercept(nil, fakeServerStream{ctx: incoming("Bearer " + authTestWrong)}, info, func(any, grpc.ServerStream) error { called = true; return nil })
	if status.Code(err) != codes.Unauthenticated || called {
		t.Errorf("wrong token: err = %v, handler called = %v; want Unauthenticated, not called", err, called)
	}
}

// authTestServer serves the real coverage service and health checking with
// the token interceptors, in plaintext (the interceptors do not look at the
// transport), and returns a connection to it.
func authTestServer(t *testing.T, tokens *Tokens, opts ...grpc.ServerOption) *grpc.ClientConn {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	if len(opts) == 0 {
		opts = []grpc.ServerOption{
			grpc.ChainUnaryInterceptor(tokens.UnaryServerInterceptor()),
			grpc.ChainStreamInterceptor(tokens.StreamServerInterceptor()),
		}
	}
	s := grpc.NewServer(opts...)
	coveragev1.RegisterCoverageServiceServer(s, NewService(testCatalog(t)))
	hs := health.NewServer()
	healthpb.RegisterHealthServer(s, hs)
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(lis) }()
	t.Cleanup(func() { s.Stop(); <-done })
	conn, err := grpc.NewClient(lis.Addr().String(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

func withBearer(ctx context.Context, token string) context.Context {
	return metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+token)
}

func TestTokensOverGRPC(t *testing.T) {
	conn := authTestServer(t, authTestTokens(t))
	c := coveragev1.NewCoverageServiceClient(conn)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()

	if _, err := c.ListRulesets(ctx, &coveragev1.ListRulesetsRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("without a token: err = %v, want Unauthenticated", err)
	}
	if _, err := c.ListRulesets(withBearer(ctx, authTestWrong), &coveragev1.ListRulesetsRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Errorf("wrong token: err = %v, want Unauthenticated", err)
	} else {
		assertNoSecret(t, "error", err.Error())
	}
	if _, err := c.ListRulesets(withBearer(ctx, authTestGood), &coveragev1.ListRulesetsRequest{}); err != nil {
		t.Errorf("right token: %v", err)
	}
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
		t.Errorf("health check without a token: %v", err)
	}

	// A stream is refused when it opens, before any message.
	stream, err := c.AuditStream(withBearer(ctx, authTestWrong))
	if err == nil {
		_, err = stream.Recv()
	}
	if status.Code(err) != codes.Unauthenticated {
		t.Errorf("stream with a wrong token: err = %v, want Unauthenticated", err)
	}
	stream, err = c.AuditStream(withBearer(ctx, authTestGood))
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	if _, err := stream.Recv(); err != nil && status.Code(err) == codes.Unauthenticated {
		t.Errorf("stream with the right token: %v", err)
	}
}

// The gateway forwards the HTTP Authorization header as the "authorization"
// metadata of its gRPC call, so REST callers authenticate exactly as gRPC
// callers do.
func TestTokensThroughGateway(t *testing.T) {
	conn := authTestServer(t, authTestTokens(t))
	mux := runtime.NewServeMux()
	if err := coveragev1.RegisterCoverageServiceHandler(t.Context(), mux, conn); err != nil {
		t.Fatal(err)
	}
	gw := httptest.NewServer(mux)
	defer gw.Close()

	for _, tc := range []struct {
		name    string
		headers map[string][]string
		want    int
	}{
		{"no header", nil, http.StatusUnauthorized},
		{"wrong token", map[string][]string{"Authorization": {"Bearer " + authTestWrong}}, http.StatusUnauthorized},
		{"right token", map[string][]string{"Authorization": {"Bearer " + authTestGood}}, http.StatusOK},
		{"lower-case scheme", map[string][]string{"Authorization": {"bearer " + authTestGood}}, http.StatusOK},
		{"two headers", map[string][]string{"Authorization": {"Bearer " + authTestGood, "Bearer " + authTestWrong}}, http.StatusUnauthorized},
		// The gateway's default header matcher does not forward
		// Grpc-Metadata-* headers: they are no way in.
		{"Grpc-Metadata-Authorization", map[string][]string{"Grpc-Metadata-Authorization": {"Bearer " + authTestGood}}, http.StatusUnauthorized},
	} {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequestWithContext(t.Context(), http.MethodGet, gw.URL+"/v1/rulesets", nil)
			if err != nil {
				t.Fatal(err)
			}
			for k, vs := range tc.headers {
				for _, v := range vs {
					req.Header.Add(k, v)
				}
			}
			resp, err := gw.Client().Do(req)
			if err != nil {
				t.Fatal(err)
			}
			var body bytes.Buffer
			_, _ = body.ReadFrom(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Errorf("status %d, want %d; body %s", resp.StatusCode, tc.want, body.String())
			}
			assertNoSecret(t, "response body", body.String())
		})
	}
}

// The request logger runs outside the token check so that refused calls are
// logged; the token name slot lets it log the caller of accepted ones.
func TestTokenNameInRequestLog(t *testing.T) {
	var mu sync.Mutex
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(lockedWriter{&mu, &buf}, nil))
	tokens := authTestTokens(t)
	tokenField := logging.WithFieldsFromContext(func(ctx context.Context) logging.Fields {
		if name := TokenName(ctx); name != "" {
			return logging.Fields{"auth.token", name}
		}
		return nil
	})
	conn := authTestServer(t, tokens,
		grpc.ChainUnaryInterceptor(
			tokenNameSlotUnaryInterceptor,
			logging.UnaryServerInterceptor(slogAdapter(logger), logging.WithLogOnEvents(logging.FinishCall), tokenField),
			tokens.UnaryServerInterceptor(),
		),
		grpc.ChainStreamInterceptor(
			tokenNameSlotStreamInterceptor,
			logging.StreamServerInterceptor(slogAdapter(logger), logging.WithLogOnEvents(logging.FinishCall), tokenField),
			tokens.StreamServerInterceptor(),
		),
	)
	c := coveragev1.NewCoverageServiceClient(conn)
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	defer cancel()
	if _, err := c.ListRulesets(withBearer(ctx, authTestGood), &coveragev1.ListRulesetsRequest{}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.ListRulesets(withBearer(ctx, authTestWrong), &coveragev1.ListRulesetsRequest{}); status.Code(err) != codes.Unauthenticated {
		t.Fatalf("wrong token: %v", err)
	}
	stream, err := c.AuditStream(withBearer(ctx, authTestGood))
	if err != nil {
		t.Fatal(err)
	}
	_ = stream.CloseSend()
	for {
		if _, err := stream.Recv(); err != nil {
			break
		}
	}
	// The stream's log line is written after its last message reaches the
	// client; wait for it.
	var lines []map[string]any
	for deadline := time.Now().Add(5 * time.Second); ; {
		mu.Lock()
		text := buf.String()
		mu.Unlock()
		lines = lines[:0]
		for line := range strings.Lines(text) {
			var m map[string]any
			if err := json.Unmarshal([]byte(line), &m); err != nil {
				t.Fatalf("log line %q: %v", line, err)
			}
			lines = append(lines, m)
		}
		if len(lines) >= 3 || time.Now().After(deadline) {
			assertNoSecret(t, "log", text)
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	if len(lines) != 3 {
		t.Fatalf("%d log lines, want 3: %v", len(lines), lines)
	}
	for i, want := range []struct{ method, code, token string }{
		{"ListRulesets", "OK", "planning-bureau"},
		{"ListRulesets", "Unauthenticated", ""},
		{"AuditStream", "OK", "planning-bureau"},
	} {
		l := lines[i]
		if l["grpc.method"] != want.method || l["grpc.code"] != want.code {
			t.Errorf("log line %d: method %v code %v, want %s %s", i, l["grpc.method"], l["grpc.code"], want.method, want.code)
		}
		if token, _ := l["auth.token"].(string); token != want.token {
			t.Errorf("log line %d: auth.token %q, want %q", i, token, want.token)
		}
	}
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (w lockedWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.w.Write(p)
}

func TestLoadTokens(t *testing.T) {
	good := HashToken(authTestGood)
	t.Run("names", func(t *testing.T) {
		path := writeTokenFile(t, "# comment\n"+good+" planning bureau, roads desk \n\n  # indented comment\n"+HashToken(authTestUnnamed)+"\r\n")
		tokens, err := LoadTokens(path)
		if err != nil {
			t.Fatal(err)
		}
		for tok, want := range map[string]string{authTestGood: "planning bureau, roads desk", authTestUnnamed: "line 5"} {
			ctx, err := tokens.Authorize(incoming("Bearer "+tok), "/coverage.v1.CoverageService/Audit")
			if err != nil {
				t.Fatal(err)
			}
			if got := TokenName(ctx); got != want {
				t.Errorf("name = %q, want %q", got, want)
			}
		}
	})

	for _, tc := range []struct {
		name, content string
		want          []string // substrings of the error
	}{
		{"plain token", "# ok\n" + good + "\n" + authTestWrong + " someone\n", []string{"line 3", "hashes of tokens, not the tokens"}},
		{"plain token alone", authTestWrong + "\n", []string{"line 1", "not the tokens"}},
		{"bad hex", "sha256:" + strings.Repeat("zz", 32) + "\n", []string{"line 1", "not hexadecimal"}},
		{"short hash", "sha256:" + good[len("sha256:"):60] + "\n", []string{"line 1", "53 characters, want 64"}},
		{"long hash", good + "00 name\n", []string{"line 1", "66 characters, want 64"}},
		{"other algorithm", "sha512:" + good[len("sha256:"):] + "\n", []string{"line 1", "not a sha256:"}},
		{"duplicate", good + " a\n\n# x\n" + good + " b\n", []string{"lines 1 and 4", "same hash"}},
		{"duplicate in another case", good + "\n" + "sha256:" + strings.ToUpper(good[len("sha256:"):]) + "\n", []string{"lines 1 and 2"}},
		{"empty", "", []string{"no tokens"}},
		{"comments only", "# nobody yet\n\n", []string{"no tokens"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTokenFile(t, tc.content)
			tokens, err := LoadTokens(path)
			if err == nil {
				t.Fatalf("LoadTokens = %v, want an error", tokens)
			}
			for _, w := range append([]string{path}, tc.want...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			assertNoSecret(t, "error", err.Error())
		})
	}

	t.Run("missing file", func(t *testing.T) {
		path := filepath.Join(t.TempDir(), "missing")
		if _, err := LoadTokens(path); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("err = %v, want one naming %s", err, path)
		}
	})
}
