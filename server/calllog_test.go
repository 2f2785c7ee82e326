package server

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/logging"
	"github.com/grpc-ecosystem/go-grpc-middleware/v2/interceptors/selector"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/emptypb"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// The reference: how the server logged its calls through go-grpc-middleware's
// logging interceptor, which callLogger replaces.

var refLogOptions = []logging.Option{
	logging.WithLogOnEvents(logging.FinishCall),
	logging.WithFieldsFromContext(func(ctx context.Context) logging.Fields {
		if n := TokenName(ctx); n != "" {
			return logging.Fields{"auth.token", n}
		}
		return nil
	}),
}

func refNotHealthCheck(_ context.Context, c interceptors.CallMeta) bool {
	return c.Service != healthpb.Health_ServiceDesc.ServiceName
}

// refRequestIDUnary and refRequestIDStream also put the ID in the logging
// interceptor's fields, which is where it found it.
func refRequestIDUnary(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	return requestIDUnary(ctx, req, info, func(ctx context.Context, req any) (any, error) {
		return handler(logging.InjectFields(ctx, logging.Fields{"request_id", RequestID(ctx)}), req)
	})
}

func refRequestIDStream(srv any, ss grpc.ServerStream, info *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	return requestIDStream(srv, ss, info, func(srv any, ss grpc.ServerStream) error {
		ctx := logging.InjectFields(ss.Context(), logging.Fields{"request_id", RequestID(ss.Context())})
		return handler(srv, &contextStream{ServerStream: ss, ctx: ctx})
	})
}

// callLogTestDesc is a service with one method of each kind, whose outcome
// the caller picks with the "outcome" metadata.
var callLogTestDesc = grpc.ServiceDesc{
	ServiceName: "calllog.test.Echo",
	HandlerType: (*any)(nil),
	Methods: []grpc.MethodDesc{{
		MethodName: "Unary",
		Handler: func(_ any, ctx context.Context, dec func(any) error, interceptor grpc.UnaryServerInterceptor) (any, error) {
			in := new(emptypb.Empty)
			if err := dec(in); err != nil {
				return nil, err
			}
			h := func(ctx context.Context, _ any) (any, error) { return &emptypb.Empty{}, outcome(ctx) }
			return interceptor(ctx, in, &grpc.UnaryServerInfo{FullMethod: "/calllog.test.Echo/Unary"}, h)
		},
	}},
	Streams: []grpc.StreamDesc{
		{StreamName: "ServerStream", ServerStreams: true, Handler: echoStream},
		{StreamName: "ClientStream", ClientStreams: true, Handler: echoStream},
		{StreamName: "Bidi", ServerStreams: true, ClientStreams: true, Handler: echoStream},
	},
}

func echoStream(_ any, ss grpc.ServerStream) error {
	if err := outcome(ss.Context()); err != nil {
		return err
	}
	in := new(emptypb.Empty)
	if err := ss.RecvMsg(in); err != nil {
		return err
	}
	return ss.SendMsg(in)
}

func outcome(ctx context.Context) error {
	v := metadata.ValueFromIncomingContext(ctx, "outcome")
	if len(v) == 0 {
		return nil
	}
	switch v[0] {
	case "eof":
		return io.EOF
	case "plain":
		return errors.New("a plain error, with \"quotes\"")
	case "canceled":
		return context.Canceled
	}
	n, _ := strconv.Atoi(v[0])
	return status.Error(codes.Code(n), "failed on purpose")
}

// callLogServer serves the coverage service, health and the echo service over
// bufconn (so both servers' callers have the same address) with the chain
// the server uses, its logger given by ref (the reference) or callLogger.
func callLogServer(t *testing.T, ref bool, level slog.Level, w io.Writer, tokens *Tokens) *grpc.ClientConn {
	t.Helper()
	logger := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
	var unary []grpc.UnaryServerInterceptor
	var stream []grpc.StreamServerInterceptor
	if ref {
		unary = append(unary, refRequestIDUnary, tokenNameSlotUnaryInterceptor,
			selector.UnaryServerInterceptor(logging.UnaryServerInterceptor(slogAdapter(logger), refLogOptions...),
				selector.MatchFunc(refNotHealthCheck)))
		stream = append(stream, refRequestIDStream, tokenNameSlotStreamInterceptor,
			selector.StreamServerInterceptor(logging.StreamServerInterceptor(slogAdapter(logger), refLogOptions...),
				selector.MatchFunc(refNotHealthCheck)))
	} else {
		unary = append(unary, requestIDUnary, tokenNameSlotUnaryInterceptor, callLogger{logger}.unary)
		stream = append(stream, requestIDStream, tokenNameSlotStreamInterceptor, callLogger{logger}.stream)
	}
	unary = append(unary, tokens.UnaryServerInterceptor())
	stream = append(stream, tokens.StreamServerInterceptor())
	s := grpc.NewServer(grpc.ChainUnaryInterceptor(unary...), grpc.ChainStreamInterceptor(stream...))
	coveragev1.RegisterCoverageServiceServer(s, NewService(testCatalog(t)))
	healthpb.RegisterHealthServer(s, health.NewServer())
	s.RegisterService(&callLogTestDesc, struct{}{})
	lis := bufconn.Listen(1 << 20)
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(lis) }()
	t.Cleanup(func() { s.Stop(); <-done })
	conn, err := grpc.NewClient("passthrough:///calllog",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// callLogCalls makes the same calls on conn, one after the other.
func callLogCalls(t *testing.T, conn *grpc.ClientConn) {
	t.Helper()
	c := coveragev1.NewCoverageServiceClient(conn)
	// Without a deadline, with one, and with the caller's request ID.
	bg := context.Background()
	deadline, cancel := context.WithDeadline(bg, time.Date(2031, 5, 6, 7, 8, 9, 0, time.UTC))
	defer cancel()
	withID := metadata.AppendToOutgoingContext(deadline, requestIDKey, "caller-id-1")
	for _, ctx := range []context.Context{bg, deadline, withID} {
		_, err := c.ListRulesets(withBearer(ctx, authTestGood), &coveragev1.ListRulesetsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		_, _ = c.ListRulesets(withBearer(ctx, authTestWrong), &coveragev1.ListRulesetsRequest{})
		_, _ = c.ListRulesets(ctx, &coveragev1.ListRulesetsRequest{})
		_, _ = c.GetRuleset(withBearer(ctx, authTestGood), &coveragev1.GetRulesetRequest{Id: "no-such-ruleset"})
	}
	if _, err := healthpb.NewHealthClient(conn).Check(withID, &healthpb.HealthCheckRequest{}); err != nil {
		t.Fatal(err)
	}
	// Every code, a plain error, a context error and io.EOF, on every kind of
	// method.
	outcomes := []string{"eof", "plain", "canceled"}
	for code := range 18 {
		outcomes = append(outcomes, strconv.Itoa(code))
	}
	for _, o := range outcomes {
		ctx := withBearer(metadata.AppendToOutgoingContext(withID, "outcome", o), authTestGood)
		_ = conn.Invoke(ctx, "/calllog.test.Echo/Unary", &emptypb.Empty{}, &emptypb.Empty{})
		for _, sd := range callLogTestDesc.Streams {
			func() {
				ctx, cancel := context.WithCancel(ctx)
				defer cancel()
				cs, err := conn.NewStream(ctx, &sd, "/calllog.test.Echo/"+sd.StreamName)
				if err != nil {
					t.Fatal(err)
				}
				_ = cs.SendMsg(&emptypb.Empty{})
				_ = cs.CloseSend()
				for cs.RecvMsg(&emptypb.Empty{}) == nil {
				}
			}()
		}
	}
}

// logEntry is one JSON log line: its keys in order, and their values.
type logEntry struct {
	keys   []string
	values map[string]any
}

func parseLogLines(t *testing.T, s string) []logEntry {
	t.Helper()
	var out []logEntry
	sc := bufio.NewScanner(strings.NewReader(s))
	for sc.Scan() {
		dec := json.NewDecoder(strings.NewReader(sc.Text()))
		if _, err := dec.Token(); err != nil {
			t.Fatalf("%s: %v", sc.Text(), err)
		}
		e := logEntry{values: map[string]any{}}
		for dec.More() {
			k, err := dec.Token()
			if err != nil {
				t.Fatal(err)
			}
			var v any
			if err := dec.Decode(&v); err != nil {
				t.Fatal(err)
			}
			e.keys = append(e.keys, k.(string))
			e.values[k.(string)] = v
		}
		out = append(out, e)
	}
	return out
}

// TestCallLoggerMatchesMiddleware: callLogger writes the lines the
// go-grpc-middleware logging interceptor wrote, key for key and in the same
// order, at level info and at level warn (where only the failures of level
// warn and error are written), for every code and every kind of method.
func TestCallLoggerMatchesMiddleware(t *testing.T) {
	tokens := authTestTokens(t)
	for _, level := range []slog.Level{slog.LevelDebug, slog.LevelInfo, slog.LevelWarn, slog.LevelError} {
		t.Run(level.String(), func(t *testing.T) {
			var refLog, newLog lockedBuffer
			refConn := callLogServer(t, true, level, &refLog, tokens)
			newConn := callLogServer(t, false, level, &newLog, tokens)
			callLogCalls(t, refConn)
			callLogCalls(t, newConn)
			// Each line is written before the call's status is sent, so the
			// calls, made one after the other, log in order.
			want, got := parseLogLines(t, refLog.String()), parseLogLines(t, newLog.String())
			if len(want) == 0 {
				t.Fatal("the reference logged nothing")
			}
			if len(got) != len(want) {
				t.Fatalf("%d lines, want %d:\n%s\nwant\n%s", len(got), len(want), newLog.String(), refLog.String())
			}
			for i := range want {
				compareLogEntries(t, got[i], want[i])
			}
		})
	}
}

func compareLogEntries(t *testing.T, got, want logEntry) {
	t.Helper()
	if strings.Join(got.keys, ",") != strings.Join(want.keys, ",") {
		t.Errorf("keys\n got %v\nwant %v", got.keys, want.keys)
		return
	}
	for _, k := range want.keys {
		g, w := got.values[k], want.values[k]
		switch k {
		case "time", "grpc.start_time", "grpc.request.deadline":
			// The deadline travels as a timeout, and each server adds it to
			// its own clock.
			gt, err1 := time.Parse(time.RFC3339, g.(string))
			wt, err2 := time.Parse(time.RFC3339, w.(string))
			if err1 != nil || err2 != nil || gt.Sub(wt).Abs() > time.Minute {
				t.Errorf("%s: got %v, want about %v", k, g, w)
			}
		case "grpc.time_ms":
			if _, err := strconv.ParseFloat(g.(string), 32); err != nil {
				t.Errorf("%s: got %q, want a number of milliseconds", k, g)
			}
		case "request_id":
			if w == "caller-id-1" || g == "caller-id-1" {
				if g != w {
					t.Errorf("request_id: got %v, want %v", g, w)
				}
			} else if len(g.(string)) != len(w.(string)) {
				t.Errorf("request_id: got %v, want one like %v", g, w)
			}
		default:
			if g != w {
				t.Errorf("%s: got %#v, want %#v", k, g, w)
			}
		}
	}
}
