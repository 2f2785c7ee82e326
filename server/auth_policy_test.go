package server

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// The tokens of the policy tests, besides those of auth_test.go.
const (
	authTestReporting = "reporting-token-5c20e7"
	authTestWildcard  = "wildcard-token-0b9d44"
	authTestRulesets  = "rulesets-token-a6f13e"
)

// assertNoPolicySecret is assertNoSecret for these tokens too.
func assertNoPolicySecret(t testing.TB, what, s string) {
	t.Helper()
	assertNoSecret(t, what, s)
	for _, tok := range []string{authTestReporting, authTestWildcard, authTestRulesets} {
		hash := HashToken(tok)
		for _, secret := range []string{tok, hash, hash[len("sha256:"):]} {
			if strings.Contains(s, secret) {
				t.Errorf("%s shows a token or its hash: %q", what, s)
			}
		}
	}
}

// policyTestTokens: a token without a policy, one limited to the audits
// (short names), one with the service-wide wildcard, one limited to the
// rulesets (full and service-qualified names), and one unnamed.
func policyTestTokens(t testing.TB) *Tokens {
	t.Helper()
	tokens, err := LoadTokens(writeTokenFile(t, "# callers\n"+
		HashToken(authTestGood)+" planning-bureau\n"+
		HashToken(authTestReporting)+" reporting system methods=Audit,AuditBatch,AuditStream\n"+
		HashToken(authTestWildcard)+" everything\tmethods=coverage.v1.CoverageService/*\n"+
		HashToken(authTestRulesets)+" rulesets methods=/coverage.v1.CoverageService/ListRulesets,coverage.v1.CoverageService/GetRuleset\n"+
		HashToken(authTestUnnamed)+" methods=ListSamples\n"))
	if err != nil {
		t.Fatal(err)
	}
	return tokens
}

// allCoverageMethods are the full names of every method of the service,
// unary and streaming, from its generated description.
func allCoverageMethods() []string {
	d := &coveragev1.CoverageService_ServiceDesc
	var all []string
	for _, m := range d.Methods {
		all = append(all, "/"+d.ServiceName+"/"+m.MethodName)
	}
	for _, s := range d.Streams {
		all = append(all, "/"+d.ServiceName+"/"+s.StreamName)
	}
	return all
}

func fullNames(short ...string) []string {
	var full []string
	for _, s := range short {
		full = append(full, "/coverage.v1.CoverageService/"+s)
	}
	return full
}

func TestLoadTokensPolicy(t *testing.T) {
	hash := HashToken(authTestReporting)
	all := allCoverageMethods()
	for _, tc := range []struct {
		name, rest string // rest follows the hash on the line
		wantName   string
		want       []string // full method names; nil: every method, no policy
	}{
		{"no policy", " reporting", "reporting", nil},
		{"no name, no policy", "", "line 2", nil},
		{"name with spaces, no policy", " roads desk, north", "roads desk, north", nil},
		{"name with another key=value", " team=roads", "team=roads", nil},
		{"short names", " reporting methods=Audit,AuditBatch", "reporting", fullNames("Audit", "AuditBatch")},
		{"streaming method", " reporting methods=AuditStream", "reporting", fullNames("AuditStream")},
		{"service-qualified name", " r methods=coverage.v1.CoverageService/GetRuleset", "r", fullNames("GetRuleset")},
		{"full name", " r methods=/coverage.v1.CoverageService/GetRuleset", "r", fullNames("GetRuleset")},
		{"mixed", " r methods=Audit,coverage.v1.CoverageService/ListSamples,/coverage.v1.CoverageService/AuditStream", "r", fullNames("Audit", "ListSamples", "AuditStream")},
		{"wildcard", " r methods=coverage.v1.CoverageService/*", "r", all},
		{"full wildcard", " r methods=/coverage.v1.CoverageService/*", "r", all},
		{"bare wildcard", " r methods=*", "r", all},
		{"wildcard and a name", " r methods=Audit,coverage.v1.CoverageService/*", "r", all},
		{"duplicates", " r methods=Audit,Audit,/coverage.v1.CoverageService/Audit,coverage.v1.CoverageService/Audit", "r", fullNames("Audit")},
		{"no name", " methods=Audit", "line 2", fullNames("Audit")},
		{"name with spaces", " reporting system, north methods=Audit", "reporting system, north", fullNames("Audit")},
		{"tab before the policy", " reporting\tmethods=Audit", "reporting", fullNames("Audit")},
		{"trailing spaces", " reporting methods=Audit  \t", "reporting", fullNames("Audit")},
		{"key in capitals", " reporting METHODS=Audit", "reporting", fullNames("Audit")},
		{"key in mixed case", " reporting Methods=Audit", "reporting", fullNames("Audit")},
	} {
		t.Run(tc.name, func(t *testing.T) {
			tokens, err := LoadTokens(writeTokenFile(t, "# one token\n"+hash+tc.rest+"\n"))
			if err != nil {
				t.Fatal(err)
			}
			if len(tokens.entries) != 1 {
				t.Fatalf("%d entries, want 1", len(tokens.entries))
			}
			e := tokens.entries[0]
			if e.name != tc.wantName {
				t.Errorf("name = %q, want %q", e.name, tc.wantName)
			}
			if tc.want == nil {
				if e.methods != nil {
					t.Errorf("methods = %v, want every method (nil)", e.methods)
				}
				return
			}
			var got []string
			for m := range e.methods {
				got = append(got, m)
			}
			slices.Sort(got)
			want := slices.Sorted(slices.Values(tc.want))
			if !slices.Equal(got, want) {
				t.Errorf("methods = %v, want %v", got, want)
			}
		})
	}

	for _, tc := range []struct {
		name, rest string
		want       []string // substrings of the error, besides the path and "line 3"
	}{
		{"unknown method", " secret-name methods=Audit,Audits", []string{`unknown method "Audits"`}},
		{"wrong case", " secret-name methods=audit", []string{`unknown method "audit"`}},
		{"unknown full name", " secret-name methods=/coverage.v1.CoverageService/Nope", []string{`unknown method "/coverage.v1.CoverageService/Nope"`}},
		{"unknown service", " secret-name methods=coverage.v2.CoverageService/Audit", []string{`unknown method "coverage.v2.CoverageService/Audit"`}},
		{"unknown service wildcard", " secret-name methods=other.Service/*", []string{`unknown method "other.Service/*"`}},
		{"service without a method", " secret-name methods=coverage.v1.CoverageService/", []string{`unknown method "coverage.v1.CoverageService/"`}},
		{"service name alone", " secret-name methods=coverage.v1.CoverageService", []string{`unknown method "coverage.v1.CoverageService"`}},
		{"open method", " secret-name methods=/grpc.health.v1.Health/Check", []string{`unknown method "/grpc.health.v1.Health/Check"`}},
		{"empty list", " secret-name methods=", []string{"lists no methods"}},
		{"empty list, no name", " methods=", []string{"lists no methods"}},
		{"empty item", " secret-name methods=Audit,,AuditBatch", []string{"empty item"}},
		{"trailing comma", " secret-name methods=Audit,", []string{"empty item"}},
		{"leading comma", " secret-name methods=,Audit", []string{"empty item"}},
		{"space in the list", " secret-name methods=Audit, AuditBatch", []string{"must be the last field"}},
		{"two policies", " secret-name methods=Audit methods=AuditBatch", []string{"must be the last field"}},
		{"policy before the name", " methods=Audit secret-name", []string{"must be the last field"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTokenFile(t, "# tokens\n"+HashToken(authTestGood)+" planning-bureau\n"+hash+tc.rest+"\n")
			tokens, err := LoadTokens(path)
			if err == nil {
				t.Fatalf("LoadTokens = %v, want an error", tokens)
			}
			for _, w := range append([]string{"token file " + path + ": line 3: "}, tc.want...) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			// The error names the unknown method, nothing else of the line.
			if strings.Contains(err.Error(), "secret-name") {
				t.Errorf("error %q shows the line's name", err)
			}
			assertNoPolicySecret(t, "error", err.Error())
		})
	}
}

// TestAuthorizePolicy: every method of the service, unary and streaming,
// for tokens with and without policies, through the interceptors as the
// server installs them.
func TestAuthorizePolicy(t *testing.T) {
	tokens := policyTestTokens(t)
	for _, tok := range []struct {
		token, name string
		allowed     []string // short names; nil: all
	}{
		{authTestGood, "planning-bureau", nil},
		{authTestReporting, "reporting system", []string{"Audit", "AuditBatch", "AuditStream"}},
		{authTestWildcard, "everything", nil},
		{authTestRulesets, "rulesets", []string{"ListRulesets", "GetRuleset"}},
		{authTestUnnamed, "line 6", []string{"ListSamples"}},
	} {
		for _, method := range allCoverageMethods() {
			short := method[strings.LastIndex(method, "/")+1:]
			allowed := tok.allowed == nil || slices.Contains(tok.allowed, short)
			t.Run(tok.name+"/"+short, func(t *testing.T) {
				// The slot in the context is what the server's chain puts
				// there ahead of the logger.
				ctx := withTokenNameSlot(incoming("Bearer " + tok.token))
				called, handlerName := false, ""
				var err error
				if short == "AuditStream" {
					err = tokens.StreamServerInterceptor()(nil, fakeServerStream{ctx: ctx},
						&grpc.StreamServerInfo{FullMethod: method, IsClientStream: true, IsServerStream: true},
						func(_ any, ss grpc.ServerStream) error {
							called, handlerName = true, TokenName(ss.Context())
							return nil
						})
				} else {
					_, err = tokens.UnaryServerInterceptor()(ctx, nil, &grpc.UnaryServerInfo{FullMethod: method},
						func(ctx context.Context, _ any) (any, error) {
							called, handlerName = true, TokenName(ctx)
							return nil, nil
						})
				}
				if allowed {
					if err != nil || !called {
						t.Fatalf("err = %v, handler called = %v; want it called", err, called)
					}
					if handlerName != tok.name {
						t.Errorf("TokenName in the handler = %q, want %q", handlerName, tok.name)
					}
					return
				}
				if called {
					t.Error("the handler was called")
				}
				st, _ := status.FromError(err)
				if want := fmt.Sprintf("token %q may not call %s", tok.name, method); err == nil || st.Code() != codes.PermissionDenied || st.Message() != want {
					t.Fatalf("err = %v, want PermissionDenied %q", err, want)
				}
				// The log names who was refused.
				if got := TokenName(ctx); got != tok.name {
					t.Errorf("TokenName after refusal = %q, want %q", got, tok.name)
				}
				assertNoPolicySecret(t, "error", err.Error())
			})
		}
	}

	t.Run("wrong token on a method outside every policy", func(t *testing.T) {
		_, err := tokens.Authorize(incoming("Bearer "+authTestWrong), "/coverage.v1.CoverageService/PlanBusStops")
		if st, _ := status.FromError(err); st.Code() != codes.Unauthenticated || st.Message() != "invalid token" {
			t.Errorf("err = %v, want Unauthenticated invalid token", err)
		}
	})
	t.Run("no token", func(t *testing.T) {
		if _, err := tokens.Authorize(context.Background(), "/coverage.v1.CoverageService/Audit"); status.Code(err) != codes.Unauthenticated {
			t.Errorf("err = %v, want Unauthenticated", err)
		}
	})
	// Open methods need no token, and a token's policy does not close them.
	for _, m := range []string{
		"/grpc.health.v1.Health/Check",
		"/grpc.health.v1.Health/Watch",
		"/grpc.reflection.v1.ServerReflection/ServerReflectionInfo",
		"/grpc.reflection.v1alpha.ServerReflection/ServerReflectionInfo",
	} {
		t.Run("open "+m, func(t *testing.T) {
			for _, values := range [][]string{nil, {"Bearer " + authTestReporting}, {"Bearer " + authTestRulesets}, {"Bearer " + authTestWrong}} {
				if _, err := tokens.Authorize(incoming(values...), m); err != nil {
					t.Errorf("with %d authorization values: %v", len(values), err)
				}
			}
		})
	}
}

// TestTokenPolicyServer: the real server (New, Serve) with a token file
// holding policies: gRPC answers PERMISSION_DENIED and REST 403 with the
// gateway's JSON error body for a method outside a token's policy, the
// methods inside it and health stay reachable, and the log names the
// refused token, never shows it.
func TestTokenPolicyServer(t *testing.T) {
	logs := &syncBuffer{}
	ts := startServer(t, Config{Tokens: policyTestTokens(t), Logger: slog.New(slog.NewJSONHandler(logs, nil))})
	ctx := rpcContext(t)

	t.Run("gRPC", func(t *testing.T) {
		if _, err := ts.client.ListRulesets(withBearer(ctx, authTestRulesets), &coveragev1.ListRulesetsRequest{}); err != nil {
			t.Errorf("ListRulesets within the policy: %v", err)
		}
		_, err := ts.client.ListSamples(withBearer(ctx, authTestRulesets), &coveragev1.ListSamplesRequest{})
		st := wantCode(t, err, codes.PermissionDenied)
		if want := `token "rulesets" may not call /coverage.v1.CoverageService/ListSamples`; st.Message() != want {
			t.Errorf("message %q, want %q", st.Message(), want)
		}
		assertNoPolicySecret(t, "error", err.Error())
		if _, err := ts.client.ListSamples(withBearer(ctx, authTestGood), &coveragev1.ListSamplesRequest{}); err != nil {
			t.Errorf("ListSamples with a token without a policy: %v", err)
		}
		_, err = ts.client.ListSamples(withBearer(ctx, authTestWrong), &coveragev1.ListSamplesRequest{})
		wantCode(t, err, codes.Unauthenticated)
		if _, err := healthpb.NewHealthClient(ts.conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
			t.Errorf("health without a token: %v", err)
		}

		// A stream outside the policy is refused when it opens.
		stream, err := ts.client.AuditStream(withBearer(ctx, authTestRulesets))
		if err == nil {
			_, err = stream.Recv()
		}
		wantCode(t, err, codes.PermissionDenied)
		// And one inside it runs.
		stream, err = ts.client.AuditStream(withBearer(ctx, authTestReporting))
		if err != nil {
			t.Fatal(err)
		}
		if err := stream.CloseSend(); err != nil {
			t.Fatal(err)
		}
		for {
			if _, err = stream.Recv(); err != nil {
				break
			}
		}
		if err != io.EOF {
			t.Errorf("stream within the policy: Recv = %v, want EOF", err)
		}
	})

	t.Run("REST", func(t *testing.T) {
		for _, tc := range []struct {
			name, method, path, body, token string
			want                            int
			wantMsg                         string
		}{
			{"within the policy", http.MethodGet, "/v1/rulesets", "", authTestRulesets, http.StatusOK, ""},
			{"within the policy, full name", http.MethodGet, "/v1/rulesets/jilin-2014", "", authTestRulesets, http.StatusOK, ""},
			{"outside the policy", http.MethodGet, "/v1/samples", "", authTestRulesets, http.StatusForbidden,
				`token "rulesets" may not call /coverage.v1.CoverageService/ListSamples`},
			{"outside the policy, POST", http.MethodPost, "/v1/check/elderly-care", elderlyAcceptanceBody, authTestReporting, http.StatusForbidden,
				`token "reporting system" may not call /coverage.v1.CoverageService/CheckElderlyCare`},
			{"no policy", http.MethodPost, "/v1/check/elderly-care", elderlyAcceptanceBody, authTestGood, http.StatusOK, ""},
			{"wildcard", http.MethodGet, "/v1/samples", "", authTestWildcard, http.StatusOK, ""},
			{"wrong token", http.MethodGet, "/v1/samples", "", authTestWrong, http.StatusUnauthorized, "invalid token"},
			{"no token", http.MethodGet, "/v1/rulesets", "", "", http.StatusUnauthorized, "missing bearer token"},
			{"healthz", http.MethodGet, "/healthz", "", "", http.StatusOK, ""},
		} {
			t.Run(tc.name, func(t *testing.T) {
				req, err := http.NewRequestWithContext(ctx, tc.method, ts.base+tc.path, strings.NewReader(tc.body))
				if err != nil {
					t.Fatal(err)
				}
				if tc.body != "" {
					req.Header.Set("Content-Type", "application/json")
				}
				if tc.token != "" {
					req.Header.Set("Authorization", "Bearer "+tc.token)
				}
				resp, err := ts.http.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, _ := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.StatusCode != tc.want {
					t.Fatalf("status %d, want %d; body %s", resp.StatusCode, tc.want, body)
				}
				assertNoPolicySecret(t, "response body", string(body))
				if tc.wantMsg == "" {
					return
				}
				// The gateway's JSON error: google.rpc.Status.
				e := decodeHTTPError(t, body)
				wantCode := codes.Unauthenticated
				if tc.want == http.StatusForbidden {
					wantCode = codes.PermissionDenied
				}
				if e.Code != int(wantCode) || e.Message != tc.wantMsg || len(e.Details) != 0 {
					t.Errorf("body %s, want code %d (%v), message %q, no details", body, wantCode, wantCode, tc.wantMsg)
				}
			})
		}
	})

	// The gRPC log line of a refused call names the token, as for an
	// accepted one.
	var found bool
	for deadline := time.Now().Add(2 * time.Second); !found && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for line := range strings.Lines(logs.String()) {
			var m map[string]any
			if json.Unmarshal([]byte(line), &m) != nil {
				continue
			}
			if m["grpc.method"] == "CheckElderlyCare" && m["grpc.code"] == "PermissionDenied" && m["auth.token"] == "reporting system" {
				found = true
			}
		}
	}
	if !found {
		t.Errorf("no log line of the refused CheckElderlyCare with auth.token \"reporting system\":\n%s", logs.String())
	}
	assertNoPolicySecret(t, "the log", logs.String())
}

// BenchmarkAuthorize is the token check of one call, as the server's chain
// runs it (the context holds the token name's slot). The policy lookup adds
// no allocation; the one there is is metadata's copy of the header's values.
func BenchmarkAuthorize(b *testing.B) {
	tokens := policyTestTokens(b)
	for _, bc := range []struct{ name, token, method string }{
		{"no policy", authTestGood, "/coverage.v1.CoverageService/Audit"},
		{"policy", authTestReporting, "/coverage.v1.CoverageService/Audit"},
		{"wildcard", authTestWildcard, "/coverage.v1.CoverageService/Audit"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ctx := withTokenNameSlot(incoming("Bearer " + bc.token))
			b.ReportAllocs()
			for b.Loop() {
				if _, err := tokens.Authorize(ctx, bc.method); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
