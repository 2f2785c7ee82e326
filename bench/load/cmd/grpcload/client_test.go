package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/wrapperspb"
)

// echoServer is a grpc-go server with the health service and, for every
// other method, a handler that answers with a message of the request's
// size, or fails or stalls as the method name says.
func echoServer(t *testing.T, opts ...grpc.ServerOption) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	opts = append(opts, grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		method, _ := grpc.MethodFromServerStream(stream)
		var in wrapperspb.BytesValue
		if err := stream.RecvMsg(&in); err != nil {
			return err
		}
		switch {
		case strings.HasSuffix(method, "/Fail"):
			return status.Error(codes.FailedPrecondition, "told to fail")
		case strings.HasSuffix(method, "/Stall"):
			<-stream.Context().Done()
			return stream.Context().Err()
		}
		return stream.SendMsg(wrapperspb.Bytes(bytes.Repeat([]byte("x"), len(in.GetValue()))))
	}))
	srv := grpc.NewServer(opts...)
	healthpb.RegisterHealthServer(srv, health.NewServer())
	go srv.Serve(lis)
	t.Cleanup(srv.Stop)
	return lis.Addr().String()
}

func bytesRequest(t *testing.T, n int) []byte {
	t.Helper()
	data, err := proto.Marshal(wrapperspb.Bytes(bytes.Repeat([]byte("y"), n)))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// The lean client's answers are the ones grpc-go's client gets: the size of
// the response message, whatever the request's size (up to several DATA
// frames), and the status code of a failure.
func TestH2ClientAgreesWithGRPCGo(t *testing.T) {
	addr := echoServer(t)
	for _, tc := range []struct {
		method string
		size   int
		code   codes.Code
	}{
		{"/grpc.health.v1.Health/Check", -1, codes.OK},
		{"/test.Echo/Call", 0, codes.OK},
		{"/test.Echo/Call", 100, codes.OK},
		{"/test.Echo/Call", 40_000, codes.OK}, // three DATA frames each way
		{"/test.Echo/Fail", 10, codes.FailedPrecondition},
	} {
		t.Run(fmt.Sprintf("%s/%d", tc.method, tc.size), func(t *testing.T) {
			payload := []byte{}
			if tc.size >= 0 {
				payload = bytesRequest(t, tc.size)
			}
			lean, err := dialH2(addr, tc.method, payload, 5*time.Second)
			if err != nil {
				t.Fatal(err)
			}
			defer lean.close(errors.New("done"))
			std := &run{cfg: config{addr: addr, method: tc.method, conns: 1, timeout: 5 * time.Second}, payload: payload}
			conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(insecure.NewCredentials()),
				grpc.WithDefaultCallOptions(grpc.ForceCodecV2(rawCodec{})))
			if err != nil {
				t.Fatal(err)
			}
			defer conn.Close()
			std.conns = []*grpc.ClientConn{conn}
			wantN, wantErr := std.invoke(t.Context(), 0)
			for range 3 { // the HPACK dynamic table is used from the second call on
				n, err := lean.call()
				var ge *grpcError
				code := codes.OK
				if errors.As(err, &ge) {
					code = ge.code
				} else if err != nil {
					t.Fatalf("call: %v", err)
				}
				if code != tc.code || code != status.Code(wantErr) {
					t.Fatalf("code %v, grpc-go %v, want %v", code, status.Code(wantErr), tc.code)
				}
				if n != wantN {
					t.Fatalf("response of %d bytes, grpc-go got %d", n, wantN)
				}
			}
		})
	}
}

// More calls in flight than the server allows streams, and more bytes
// than either side's initial windows: every call completes, none is
// refused.
func TestH2ClientStreamLimitAndFlowControl(t *testing.T) {
	addr := echoServer(t, grpc.MaxConcurrentStreams(4), grpc.InitialConnWindowSize(64<<10), grpc.InitialWindowSize(64<<10))
	c, err := dialH2(addr, "/test.Echo/Call", bytesRequest(t, 30_000), 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close(errors.New("done"))
	var wg sync.WaitGroup
	var failed atomic.Int64
	for range 64 {
		wg.Go(func() {
			for range 20 {
				if n, err := c.call(); err != nil || n != 30_004 {
					t.Errorf("n %d, err %v", n, err)
					failed.Add(1)
					return
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() > 0 {
		t.Fatalf("%d callers failed", failed.Load())
	}
}

// A call past its deadline fails with DeadlineExceeded, and the server
// hears of it (the stream is reset, so its handler's context ends).
func TestH2ClientDeadline(t *testing.T) {
	addr := echoServer(t)
	c, err := dialH2(addr, "/test.Echo/Stall", bytesRequest(t, 1), 300*time.Millisecond)
	if err != nil {
		t.Fatal(err)
	}
	defer c.close(errors.New("done"))
	start := time.Now()
	_, err = c.call()
	var ge *grpcError
	if !errors.As(err, &ge) || ge.code != codes.DeadlineExceeded {
		t.Fatalf("err %v, want DeadlineExceeded", err)
	}
	if d := time.Since(start); d > 2*time.Second {
		t.Fatalf("took %v", d)
	}
	if got := grpcTimeout(300 * time.Millisecond); got != "300000u" {
		t.Fatalf("grpc-timeout %q", got)
	}
}

// A connection that fails fails its calls; it does not hang them.
func TestH2ClientServerGone(t *testing.T) {
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := grpc.NewServer(grpc.UnknownServiceHandler(func(_ any, stream grpc.ServerStream) error {
		<-stream.Context().Done()
		return nil
	}))
	go srv.Serve(lis)
	c, err := dialH2(lis.Addr().String(), "/test.Echo/Stall", nil, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	errc := make(chan error, 1)
	go func() { _, err := c.call(); errc <- err }()
	time.Sleep(100 * time.Millisecond)
	srv.Stop()
	select {
	case err := <-errc:
		if err == nil {
			t.Fatal("a call on a closed connection succeeded")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the call did not return after the server went away")
	}
	if _, err := c.call(); err == nil {
		t.Fatal("a later call succeeded")
	}
}

// The lean HTTP/1.1 client reads bodies of either framing, reuses its
// connections, and reports a status other than 200 as an error.
func TestH1Client(t *testing.T) {
	var conns atomic.Int64
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" || string(body) != `{"a":1}` {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		switch r.URL.Path {
		case "/length":
			w.Header().Set("Content-Length", "5")
			io.WriteString(w, "hello")
		case "/chunked":
			for range 10 {
				io.WriteString(w, strings.Repeat("z", 1000))
				w.(http.Flusher).Flush()
			}
		default:
			http.Error(w, "no", http.StatusNotFound)
		}
	}))
	srv.Config.ConnState = func(_ net.Conn, s http.ConnState) {
		if s == http.StateNew {
			conns.Add(1)
		}
	}
	srv.Start()
	defer srv.Close()
	for _, tc := range []struct {
		path string
		n    int
		err  string
	}{{"/length", 5, ""}, {"/chunked", 10_000, ""}, {"/missing", -1, "HTTP 404"}} {
		c, err := newH1Client(srv.URL+tc.path, "application/json", []byte(`{"a":1}`), 2, 5*time.Second)
		if err != nil {
			t.Fatal(err)
		}
		for range 10 {
			n, err := c.call()
			switch {
			case tc.err != "" && (err == nil || err.Error() != tc.err):
				t.Fatalf("%s: err %v, want %s", tc.path, err, tc.err)
			case tc.err == "" && (err != nil || n != tc.n):
				t.Fatalf("%s: %d bytes, err %v; want %d", tc.path, n, err, tc.n)
			}
		}
	}
	if n := conns.Load(); n > 3 {
		t.Fatalf("%d connections for 30 sequential calls on 3 clients", n)
	}
}
