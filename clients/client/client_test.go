package client_test

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"errors"
	"math/big"
	"net"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"

	"github.com/civic-standards/coverage/clients/client"
	"github.com/civic-standards/coverage/coverage"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
	"github.com/civic-standards/coverage/server"
	"github.com/civic-standards/coverage/server/servertest"
)

// startServer runs the real coverage server on loopback until the test ends
// and returns its gRPC address.
func startServer(t *testing.T) string {
	t.Helper()
	return servertest.Start(t, server.Config{}).GRPCAddr()
}

// startFake runs a bare gRPC server that answers every method with h and
// returns its address; creds may be nil for plaintext.
func startFake(t *testing.T, creds credentials.TransportCredentials, h grpc.StreamHandler) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts := []grpc.ServerOption{grpc.UnknownServiceHandler(h)}
	if creds != nil {
		opts = append(opts, grpc.Creds(creds))
	}
	s := grpc.NewServer(opts...)
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(lis) }()
	t.Cleanup(func() { s.Stop(); <-done })
	return lis.Addr().String()
}

// answer reads the request and replies with an empty ListRulesetsResponse
// naming id as the default ruleset.
func answer(stream grpc.ServerStream, id string) error {
	if err := stream.RecvMsg(&coveragev1.ListRulesetsRequest{}); err != nil {
		return err
	}
	return stream.SendMsg(&coveragev1.ListRulesetsResponse{DefaultRulesetId: id})
}

func dial(t *testing.T, addr string, opts ...client.Option) *client.Client {
	t.Helper()
	c, err := client.Dial(addr, opts...)
	if err != nil {
		t.Fatalf("Dial(%q): %v", addr, err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

func callCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

func TestRealServer(t *testing.T) {
	c := dial(t, startServer(t))
	ctx := callCtx(t)

	t.Run("ListRulesets", func(t *testing.T) {
		resp, err := c.ListRulesets(ctx, &coveragev1.ListRulesetsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		if resp.GetDefaultRulesetId() != coverage.DefaultRulesetID {
			t.Errorf("default ruleset = %q, want %q", resp.GetDefaultRulesetId(), coverage.DefaultRulesetID)
		}
		if !slices.ContainsFunc(resp.GetRulesets(), func(rs *coveragev1.Ruleset) bool { return rs.GetId() == "jilin-2014" }) {
			t.Errorf("rulesets = %v, want jilin-2014 among them", resp.GetRulesets())
		}
	})

	t.Run("CheckElderlyCare", func(t *testing.T) {
		resp, err := c.CheckElderlyCare(ctx, &coveragev1.CheckElderlyCareRequest{Settlement: &coveragev1.Settlement{
			Id:                "t1",
			Kind:              coveragev1.SettlementKind_SETTLEMENT_KIND_TOWN,
			ElderlyPopulation: proto.Int64(12000),
			ElderlyCareBeds:   proto.Int64(300),
		}})
		if err != nil {
			t.Fatal(err)
		}
		r := resp.GetResult()
		if r.GetRuleId() != "T19-ELDERLY-BEDS" || r.GetStatus() != coveragev1.Status_STATUS_NON_COMPLIANT {
			t.Errorf("result = %s %v, want T19-ELDERLY-BEDS NON_COMPLIANT", r.GetRuleId(), r.GetStatus())
		}
		if r.Value == nil || *r.Value != 25 {
			t.Errorf("value = %v, want 25 (beds per 1,000 elderly)", r.Value)
		}
		if r.Shortfall == nil || *r.Shortfall != 132 {
			t.Errorf("shortfall = %v, want 132", r.Shortfall)
		}
		if r.GetRulesetId() != "jilin-2014" {
			t.Errorf("ruleset id = %q, want jilin-2014 (the default)", r.GetRulesetId())
		}
	})

	t.Run("InvalidArgument", func(t *testing.T) {
		_, err := c.CheckElderlyCare(ctx, &coveragev1.CheckElderlyCareRequest{Settlement: &coveragev1.Settlement{
			Id:                "t1",
			Kind:              coveragev1.SettlementKind_SETTLEMENT_KIND_TOWN,
			ElderlyPopulation: proto.Int64(-1),
			ElderlyCareBeds:   proto.Int64(300),
		}})
		if err == nil {
			t.Fatal("negative elderly population accepted")
		}
		var ce *client.Error
		if !errors.As(err, &ce) {
			t.Fatalf("error %T %v is not a *client.Error", err, err)
		}
		if ce.Code != codes.InvalidArgument || !ce.IsInvalid() {
			t.Errorf("Code = %v, IsInvalid = %v; want InvalidArgument, true", ce.Code, ce.IsInvalid())
		}
		if !slices.ContainsFunc(ce.Violations, func(v client.FieldViolation) bool {
			return v.Field == "settlement.elderlyPopulation" && v.Reason != ""
		}) {
			t.Errorf("Violations = %+v, want one for settlement.elderlyPopulation with a reason", ce.Violations)
		}
		if ce.Message == "" || ce.Error() == "" {
			t.Errorf("empty message: Message %q, Error() %q", ce.Message, ce.Error())
		}
		// The grpc/status package sees through the wrapper.
		if got := status.Code(err); got != codes.InvalidArgument {
			t.Errorf("status.Code = %v, want InvalidArgument", got)
		}
		st, ok := status.FromError(err)
		if !ok || st.Code() != codes.InvalidArgument || len(st.Details()) == 0 {
			t.Errorf("status.FromError = %v, %v; want InvalidArgument with details", st, ok)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		_, err := c.GetRuleset(ctx, &coveragev1.GetRulesetRequest{Id: "no-such-ruleset"})
		var ce *client.Error
		if !errors.As(err, &ce) {
			t.Fatalf("error %T %v is not a *client.Error", err, err)
		}
		if ce.Code != codes.NotFound || ce.IsInvalid() || len(ce.Violations) != 0 {
			t.Errorf("error = %+v; want NotFound, not invalid, no violations", ce)
		}
	})
}

func TestTokenNeedsTLS(t *testing.T) {
	c, err := client.Dial("127.0.0.1:1", client.WithToken("secret"))
	if err == nil {
		c.Close()
		t.Fatal("Dial with a token and no TLS succeeded")
	}
}

func TestTokenOverTLS(t *testing.T) {
	serverTLS, clientTLS := selfSignedTLS(t)
	got := make(chan []string, 1)
	addr := startFake(t, credentials.NewTLS(serverTLS), func(_ any, stream grpc.ServerStream) error {
		md, _ := metadata.FromIncomingContext(stream.Context())
		got <- md.Get("authorization")
		return answer(stream, "ok")
	})
	c := dial(t, addr, client.WithTLS(clientTLS), client.WithToken("secret"))
	resp, err := c.ListRulesets(callCtx(t), &coveragev1.ListRulesetsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if resp.GetDefaultRulesetId() != "ok" {
		t.Errorf("response = %v", resp)
	}
	if auth := <-got; !slices.Equal(auth, []string{"Bearer secret"}) {
		t.Errorf("authorization = %q, want [Bearer secret]", auth)
	}
}

// selfSignedTLS returns a server configuration with a certificate for
// 127.0.0.1 and a client configuration that trusts it.
func selfSignedTLS(t *testing.T) (*tls.Config, *tls.Config) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(1),
		Subject:      pkix.Name{CommonName: "coverage test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return &tls.Config{Certificates: []tls.Certificate{{Certificate: [][]byte{der}, PrivateKey: key}}},
		&tls.Config{RootCAs: pool}
}

func TestDefaultDeadline(t *testing.T) {
	type seen struct {
		deadline time.Time
		ok       bool
	}
	got := make(chan seen, 1)
	addr := startFake(t, nil, func(_ any, stream grpc.ServerStream) error {
		d, ok := stream.Context().Deadline()
		got <- seen{d, ok}
		return answer(stream, "ok")
	})

	t.Run("WithTimeout", func(t *testing.T) {
		c := dial(t, addr, client.WithTimeout(2*time.Second))
		start := time.Now()
		if _, err := c.ListRulesets(context.Background(), &coveragev1.ListRulesetsRequest{}); err != nil {
			t.Fatal(err)
		}
		s := <-got
		if !s.ok {
			t.Fatal("call without a deadline reached the server without one; want the 2 s default")
		}
		if left := s.deadline.Sub(start); left <= time.Second || left > 2*time.Second+100*time.Millisecond {
			t.Errorf("deadline %v after the call started, want about 2 s", left)
		}
	})

	t.Run("CallerDeadlineKept", func(t *testing.T) {
		c := dial(t, addr, client.WithTimeout(2*time.Second))
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		start := time.Now()
		if _, err := c.ListRulesets(ctx, &coveragev1.ListRulesetsRequest{}); err != nil {
			t.Fatal(err)
		}
		s := <-got
		if left := s.deadline.Sub(start); !s.ok || left <= 8*time.Second {
			t.Errorf("deadline = %v (set %v); want the caller's 10 s kept", left, s.ok)
		}
	})

	t.Run("DefaultTimeout", func(t *testing.T) {
		c := dial(t, addr)
		start := time.Now()
		if _, err := c.ListRulesets(context.Background(), &coveragev1.ListRulesetsRequest{}); err != nil {
			t.Fatal(err)
		}
		s := <-got
		if left := s.deadline.Sub(start); !s.ok || left <= client.DefaultTimeout-5*time.Second || left > client.DefaultTimeout+time.Second {
			t.Errorf("deadline = %v (set %v); want about %v", left, s.ok, client.DefaultTimeout)
		}
	})

	t.Run("WithTimeoutZero", func(t *testing.T) {
		c := dial(t, addr, client.WithTimeout(0))
		if _, err := c.ListRulesets(context.Background(), &coveragev1.ListRulesetsRequest{}); err != nil {
			t.Fatal(err)
		}
		if s := <-got; s.ok {
			t.Errorf("WithTimeout(0) sent a deadline %v away; want none", time.Until(s.deadline))
		}
	})
}

func TestRetryOnUnavailable(t *testing.T) {
	var calls atomic.Int32
	addr := startFake(t, nil, func(_ any, stream grpc.ServerStream) error {
		if calls.Add(1) == 1 {
			return status.Error(codes.Unavailable, "warming up")
		}
		return answer(stream, "second")
	})
	c := dial(t, addr)
	resp, err := c.ListRulesets(callCtx(t), &coveragev1.ListRulesetsRequest{})
	if err != nil {
		t.Fatalf("call failed despite the retry policy: %v", err)
	}
	if resp.GetDefaultRulesetId() != "second" {
		t.Errorf("response = %v, want the second attempt's", resp)
	}
	if n := calls.Load(); n != 2 {
		t.Errorf("server saw %d attempts, want 2", n)
	}
}

func TestRetryGivesUp(t *testing.T) {
	var calls atomic.Int32
	addr := startFake(t, nil, func(_ any, stream grpc.ServerStream) error {
		calls.Add(1)
		// Read the request first, as a real handler does. Failing before it
		// arrives races the client's send: when the last attempt loses that
		// race, grpc-go v1.85 returns "max retries exhausted: failed after 4
		// attempts: EOF", which carries no status (see the report).
		if err := stream.RecvMsg(&coveragev1.ListRulesetsRequest{}); err != nil {
			return err
		}
		return status.Error(codes.Unavailable, "down")
	})
	c := dial(t, addr)
	_, err := c.ListRulesets(callCtx(t), &coveragev1.ListRulesetsRequest{})
	var ce *client.Error
	// gRPC prefixes the last attempt's message ("max retries exhausted: ...").
	if !errors.As(err, &ce) || ce.Code != codes.Unavailable || !strings.Contains(ce.Message, "down") {
		t.Fatalf("error = %v, want a *client.Error Unavailable with the server's message", err)
	}
	if n := calls.Load(); n != 4 {
		t.Errorf("server saw %d attempts, want maxAttempts 4", n)
	}
}

func TestNoRetryOnOtherCodes(t *testing.T) {
	var calls atomic.Int32
	addr := startFake(t, nil, func(any, grpc.ServerStream) error {
		calls.Add(1)
		return status.Error(codes.Internal, "boom")
	})
	c := dial(t, addr)
	_, err := c.ListRulesets(callCtx(t), &coveragev1.ListRulesetsRequest{})
	if status.Code(err) != codes.Internal {
		t.Fatalf("error = %v, want Internal", err)
	}
	if n := calls.Load(); n != 1 {
		t.Errorf("server saw %d attempts of an INTERNAL failure, want 1", n)
	}
}

func TestWithDialOptions(t *testing.T) {
	addr := startFake(t, nil, func(_ any, stream grpc.ServerStream) error { return answer(stream, "ok") })
	var seen atomic.Value
	c := dial(t, addr, client.WithDialOptions(grpc.WithChainUnaryInterceptor(
		func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
			seen.Store(method)
			return invoker(ctx, method, req, reply, cc, opts...)
		})))
	if _, err := c.ListRulesets(callCtx(t), &coveragev1.ListRulesetsRequest{}); err != nil {
		t.Fatal(err)
	}
	if m, _ := seen.Load().(string); m != "/coverage.v1.CoverageService/ListRulesets" {
		t.Errorf("interceptor passed with WithDialOptions saw method %q", m)
	}
}

func TestClose(t *testing.T) {
	addr := startFake(t, nil, func(_ any, stream grpc.ServerStream) error { return answer(stream, "ok") })
	c, err := client.Dial(addr)
	if err != nil {
		t.Fatal(err)
	}
	if c.Conn() == nil {
		t.Fatal("Conn() = nil")
	}
	if _, err := c.ListRulesets(callCtx(t), &coveragev1.ListRulesetsRequest{}); err != nil {
		t.Fatal(err)
	}
	if err := c.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	_, err = c.ListRulesets(callCtx(t), &coveragev1.ListRulesetsRequest{})
	if status.Code(err) != codes.Canceled {
		t.Errorf("call after Close = %v, want Canceled", err)
	}
}

// TestAddressListRoundRobin: a comma-separated target spreads calls over
// every server, and calls go on when one of them stops.
func TestAddressListRoundRobin(t *testing.T) {
	var counts [3]atomic.Int64
	var addrs []string
	stops := make([]func(), 3)
	for i := range counts {
		lis, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		s := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
			counts[i].Add(1)
			return answer(stream, "jilin-2014")
		}))
		done := make(chan struct{})
		go func() { defer close(done); _ = s.Serve(lis) }()
		stops[i] = sync.OnceFunc(func() { s.Stop(); <-done })
		t.Cleanup(stops[i])
		addrs = append(addrs, lis.Addr().String())
	}
	c := dial(t, strings.Join(addrs, ", "))
	for range 60 {
		if _, err := c.ListRulesets(callCtx(t), &coveragev1.ListRulesetsRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	for i := range counts {
		if n := counts[i].Load(); n == 0 {
			t.Errorf("server %d got no call of 60 (counts %d %d %d)", i, counts[0].Load(), counts[1].Load(), counts[2].Load())
		}
	}
	stops[1]()
	before := counts[0].Load() + counts[2].Load()
	for range 20 {
		if _, err := c.ListRulesets(callCtx(t), &coveragev1.ListRulesetsRequest{}); err != nil {
			t.Fatalf("a call after one server of three stopped: %v", err)
		}
	}
	if got := counts[0].Load() + counts[2].Load() - before; got < 20 {
		t.Errorf("the two live servers answered %d of 20 calls", got)
	}
}

// TestStreamErrorsTyped: a stream's failure is a *client.Error like a unary one.
func TestStreamErrorsTyped(t *testing.T) {
	addr := startFake(t, nil, func(_ any, stream grpc.ServerStream) error {
		return status.Error(codes.PermissionDenied, "not for you")
	})
	c := dial(t, addr)
	stream, err := c.AuditStream(callCtx(t))
	if err != nil {
		t.Fatal(err)
	}
	_, err = stream.Recv()
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != codes.PermissionDenied || status.Code(err) != codes.PermissionDenied {
		t.Fatalf("Recv error %T %v, want a *client.Error with PERMISSION_DENIED", err, err)
	}
}
