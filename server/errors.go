package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"unicode/utf8"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/civic-standards/coverage/coverage"
)

// codeOf is the one place where domain error codes become gRPC codes; the
// REST gateway turns gRPC codes into HTTP statuses (InvalidArgument → 400,
// NotFound → 404, Unimplemented → 501, Internal → 500).
var codeOf = map[coverage.ErrorCode]codes.Code{
	coverage.CodeInvalid:       codes.InvalidArgument,
	coverage.CodeNotFound:      codes.NotFound,
	coverage.CodeUnimplemented: codes.Unimplemented,
	coverage.CodeInternal:      codes.Internal,
}

// toStatus converts an error into a gRPC status error. Field violations
// travel as google.rpc.BadRequest details, which the gateway renders in the
// JSON error body.
func toStatus(err error) error {
	if err == nil {
		return nil
	}
	if _, ok := status.FromError(err); ok {
		return err
	}
	if errors.Is(err, context.Canceled) {
		return status.Error(codes.Canceled, err.Error())
	}
	if errors.Is(err, context.DeadlineExceeded) {
		return status.Error(codes.DeadlineExceeded, err.Error())
	}
	e := coverage.AsError(err)
	code, ok := codeOf[e.Code]
	if !ok {
		code = codes.Internal
	}
	st := status.New(code, e.Error())
	if len(e.Violations) == 0 {
		return st.Err()
	}
	br := &errdetails.BadRequest{}
	for _, v := range e.Violations {
		br.FieldViolations = append(br.FieldViolations, &errdetails.BadRequest_FieldViolation{Field: v.Field, Description: v.Reason})
	}
	if withDetails, err := st.WithDetails(br); err == nil {
		st = withDetails
	}
	return st.Err()
}

// The gateway reports a body it cannot decode as InvalidArgument with the
// protojson message alone; these patterns recover the field it names so that
// REST callers get the same BadRequest details as for any other bad input.
var (
	unknownFieldPattern = regexp.MustCompile(`unknown field "([^"]+)"`)
	badValuePattern     = regexp.MustCompile(`invalid value for [a-z0-9 ]*field ([A-Za-z0-9_]+)`)
)

// httpErrorHandler renders errors for REST callers: the gateway's default
// rendering (HTTP status from the gRPC code, google.rpc.Status as JSON), with
// field details added to body-decoding errors.
func httpErrorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, err error) {
	st := status.Convert(err)
	var tooLarge *http.MaxBytesError
	if errors.As(err, &tooLarge) || strings.Contains(st.Message(), "http: request body too large") {
		msg := fmt.Sprintf("the request body is larger than the server's limit of %d bytes (--max-message-bytes)", maxBodyBytes(r))
		runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, &runtime.HTTPStatusError{
			HTTPStatus: http.StatusRequestEntityTooLarge, Err: status.Error(codes.ResourceExhausted, msg)})
		return
	}
	if st.Code() == codes.InvalidArgument && len(st.Details()) == 0 {
		// protojson varies the space after "proto:" on purpose, so that
		// nobody matches its messages; give callers a stable one.
		msg := strings.TrimSpace(strings.TrimPrefix(strings.ReplaceAll(st.Message(), "\u00a0", " "), "proto:"))
		field := "body"
		if sub := unknownFieldPattern.FindStringSubmatch(msg); sub != nil {
			field = sub[1]
		} else if sub := badValuePattern.FindStringSubmatch(msg); sub != nil {
			field = sub[1]
		}
		reason := "invalid JSON body: " + clip(msg, maxEchoedBytes)
		br := &errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: field, Description: reason}}}
		if withDetails, derr := status.New(codes.InvalidArgument, reason).WithDetails(br); derr == nil {
			err = withDetails.Err()
		}
	}
	runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
}

// maxEchoedBytes bounds how much of a decoder's message, which quotes the
// offending value, goes back to the caller: a 10 MB string must not come
// back as a 10 MB error.
const maxEchoedBytes = 512

// clip cuts s to at most n bytes, on a rune boundary, marking the cut.
func clip(s string, n int) string {
	if len(s) <= n {
		return s
	}
	for n > 0 && !utf8.RuneStart(s[n]) {
		n--
	}
	return s[:n] + "… (cut)"
}

// maxBodyBytesKey carries the body limit to the error handler, for its message.
type maxBodyBytesKey struct{}

func maxBodyBytes(r *http.Request) int64 {
	n, _ := r.Context().Value(maxBodyBytesKey{}).(int64)
	return n
}

// routingErrorHandler answers requests that match no route: 404 for an
// unknown path, 405 (with Allow-less JSON) for a known path with the wrong
// method, where the gateway's default would say 501.
func routingErrorHandler(ctx context.Context, mux *runtime.ServeMux, m runtime.Marshaler, w http.ResponseWriter, r *http.Request, httpStatus int) {
	if httpStatus == http.StatusMethodNotAllowed {
		err := &runtime.HTTPStatusError{HTTPStatus: httpStatus,
			Err: status.Errorf(codes.Unimplemented, "method %s is not allowed on %s", r.Method, r.URL.Path)}
		runtime.DefaultHTTPErrorHandler(ctx, mux, m, w, r, err)
		return
	}
	runtime.DefaultRoutingErrorHandler(ctx, mux, m, w, r, httpStatus)
}
