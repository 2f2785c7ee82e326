package server

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"net/http"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
)

// requestIDKey is the gRPC metadata key and, canonicalised, the HTTP header
// that carry a request's ID: the caller's own when it sends one, so that its
// logs and ours can be joined, otherwise one made here.
const (
	requestIDKey    = "x-request-id"
	requestIDHeader = "X-Request-Id"
)

type requestIDCtxKey struct{}

// RequestID is the ID of the request ctx belongs to, or "".
func RequestID(ctx context.Context) string {
	id, _ := ctx.Value(requestIDCtxKey{}).(string)
	return id
}

func newRequestID() string {
	var b [12]byte
	_, _ = rand.Read(b[:]) // crypto/rand does not fail on supported platforms
	return hex.EncodeToString(b[:])
}

// validRequestID accepts what a caller may reasonably send (a UUID, a hex or
// base64 token) and refuses what could forge log lines or bloat them.
func validRequestID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

// withRequestID puts the incoming ID (or a new one) in the context, where
// the call's log line finds it.
func withRequestID(ctx context.Context) (context.Context, string) {
	id := ""
	// Only the one key: copying all the metadata, as FromIncomingContext
	// does, would cost more than the rest of this interceptor.
	if v := metadata.ValueFromIncomingContext(ctx, requestIDKey); len(v) == 1 && validRequestID(v[0]) {
		id = v[0]
	}
	if id == "" {
		id = newRequestID()
	}
	return context.WithValue(ctx, requestIDCtxKey{}, id), id
}

// requestIDUnary gives every call an ID, returned to the caller in the
// response header.
func requestIDUnary(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
	ctx, id := withRequestID(ctx)
	_ = grpc.SetHeader(ctx, metadata.Pairs(requestIDKey, id))
	return handler(ctx, req)
}

func requestIDStream(srv any, ss grpc.ServerStream, _ *grpc.StreamServerInfo, handler grpc.StreamHandler) error {
	ctx, id := withRequestID(ss.Context())
	_ = ss.SetHeader(metadata.Pairs(requestIDKey, id))
	return handler(srv, &contextStream{ServerStream: ss, ctx: ctx})
}

// contextStream is a server stream with a replaced context.
type contextStream struct {
	grpc.ServerStream
	ctx context.Context
}

func (s *contextStream) Context() context.Context { return s.ctx }

// httpRequestID gives every HTTP request an ID before anything else sees it,
// so the access log, the gateway's call to gRPC (which forwards the header
// as metadata) and the response all carry the same one.
func httpRequestID(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(requestIDHeader)
		if !validRequestID(id) || len(r.Header.Values(requestIDHeader)) != 1 {
			id = newRequestID()
			r.Header.Set(requestIDHeader, id)
		}
		w.Header().Set(requestIDHeader, id)
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), requestIDCtxKey{}, id)))
	})
}
