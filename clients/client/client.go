package client

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"strings"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/keepalive"
	"google.golang.org/grpc/resolver"
	"google.golang.org/grpc/resolver/manual"
	"google.golang.org/grpc/status"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// DefaultTimeout is the deadline given to calls whose context has none.
const DefaultTimeout = 30 * time.Second

// MaxMessageBytes bounds a request or response, as the server does by default.
const MaxMessageBytes = 128 << 20

// Option configures Dial.
type Option func(*options)

type options struct {
	tls      *tls.Config
	token    string
	timeout  time.Duration
	dialOpts []grpc.DialOption
}

// WithTLS connects over TLS with the given configuration (for mutual TLS,
// set its Certificates).
func WithTLS(cfg *tls.Config) Option { return func(o *options) { o.tls = cfg } }

// WithToken sends the token as "authorization: Bearer <token>" on every call.
// It requires TLS, so the token never crosses the network in clear text.
func WithToken(token string) Option { return func(o *options) { o.token = token } }

// TLSFiles builds a client TLS configuration from PEM files: caFile holds
// the CAs that may sign the server's certificate (empty: the system's roots);
// certFile and keyFile, both or neither, are the client's own certificate
// for servers that require mutual TLS; serverName, when set, is the name
// checked in the server's certificate instead of the target's host (for a
// server reached by IP address, or through a tunnel). Errors name the file.
func TLSFiles(caFile, certFile, keyFile, serverName string) (*tls.Config, error) {
	cfg := &tls.Config{MinVersion: tls.VersionTLS12, ServerName: serverName}
	if caFile != "" {
		data, err := readFile("CA file", caFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("client: CA file %s: no PEM certificate in the file", caFile)
		}
		cfg.RootCAs = pool
	}
	switch {
	case certFile != "" && keyFile == "":
		return nil, fmt.Errorf("client: certificate file %s has no key file: both are needed for mutual TLS", certFile)
	case certFile == "" && keyFile != "":
		return nil, fmt.Errorf("client: key file %s has no certificate file: both are needed for mutual TLS", keyFile)
	case certFile != "":
		certPEM, err := readFile("certificate file", certFile)
		if err != nil {
			return nil, err
		}
		keyPEM, err := readFile("key file", keyFile)
		if err != nil {
			return nil, err
		}
		cert, err := tls.X509KeyPair(certPEM, keyPEM)
		if err != nil {
			return nil, keyPairError(certFile, keyFile, err)
		}
		cfg.Certificates = []tls.Certificate{cert}
	}
	return cfg, nil
}

// keyPairError says which of the two files is at fault, where
// tls.X509KeyPair names neither.
func keyPairError(certFile, keyFile string, err error) error {
	msg := err.Error()
	switch {
	case strings.Contains(msg, "does not match"):
		return fmt.Errorf("client: key file %s does not match certificate file %s", keyFile, certFile)
	case strings.Contains(msg, "in certificate input"):
		return fmt.Errorf("client: certificate file %s: no PEM certificate in the file", certFile)
	case strings.Contains(msg, "in key input") || strings.Contains(msg, "for the private key"):
		return fmt.Errorf("client: key file %s: no PEM private key in the file", keyFile)
	}
	return fmt.Errorf("client: certificate file %s, key file %s: %s", certFile, keyFile, strings.TrimPrefix(msg, "tls: "))
}

// TokenFromFile reads a bearer token from a file, trimmed of surrounding
// white space, so that the token stays out of shell history and process
// lists. Errors name the file and never show its content.
func TokenFromFile(path string) (string, error) {
	data, err := readFile("token file", path)
	if err != nil {
		return "", err
	}
	token := strings.TrimSpace(string(data))
	if token == "" {
		return "", fmt.Errorf("client: token file %s is empty", path)
	}
	// A header value cannot hold a line break, and a token with spaces
	// inside is a file of something else (two tokens, a note).
	for i := 0; i < len(token); i++ {
		if c := token[i]; c <= ' ' || c > '~' {
			return "", fmt.Errorf("client: token file %s: want one token of printable ASCII without spaces, found a space, line break or other character at byte %d", path, i+1)
		}
	}
	return token, nil
}

// readFile names the file once, where os.ReadFile's error would add an
// "open" and the path again.
func readFile(what, path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		return data, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("client: %s %s: no such file", what, path)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return nil, fmt.Errorf("client: %s %s: %v", what, path, err)
}

// WithTimeout sets the deadline for calls whose context has none (default
// DefaultTimeout); zero or less leaves such calls without a deadline.
func WithTimeout(d time.Duration) Option { return func(o *options) { o.timeout = d } }

// WithDialOptions passes extra options to grpc.NewClient.
func WithDialOptions(opts ...grpc.DialOption) Option {
	return func(o *options) { o.dialOpts = append(o.dialOpts, opts...) }
}

// serviceConfig spreads calls over every address the target resolves to
// (round_robin: each new call or stream goes to the next ready server), and
// retries every method of the service on UNAVAILABLE: all of them are
// read-only evaluations, so a repeat cannot change anything.
const serviceConfig = `{
  "loadBalancingConfig": [{"round_robin": {}}],
  "methodConfig": [{
    "name": [{"service": "coverage.v1.CoverageService"}],
    "retryPolicy": {
      "maxAttempts": 4,
      "initialBackoff": "0.2s",
      "maxBackoff": "2s",
      "backoffMultiplier": 2,
      "retryableStatusCodes": ["UNAVAILABLE"]
    }
  }]
}`

// Client is a connection to a coverage server. It is safe for concurrent use.
type Client struct {
	coveragev1.CoverageServiceClient
	conn *grpc.ClientConn
}

// Dial connects to target: "host:port"; a comma-separated list of them
// ("10.0.0.1:50051,10.0.0.2:50051"); or any gRPC target such as
// "dns:///coverage-grpc.planning.svc.cluster.local:50051", whose every
// address is used. Calls and streams are spread over the servers round-robin,
// and a server that fails is left out until it is back. The connection is
// made lazily, on the first call.
func Dial(target string, opts ...Option) (*Client, error) {
	o := options{timeout: DefaultTimeout}
	for _, opt := range opts {
		opt(&o)
	}
	creds := insecure.NewCredentials()
	if o.tls != nil {
		creds = credentials.NewTLS(o.tls)
	}
	dial := []grpc.DialOption{
		grpc.WithTransportCredentials(creds),
		grpc.WithDefaultServiceConfig(serviceConfig),
		// A server that vanishes without closing its connections (a lost
		// node) is noticed within about 40 s rather than never.
		grpc.WithKeepaliveParams(keepalive.ClientParameters{Time: 30 * time.Second, Timeout: 10 * time.Second}),
		// Large cities (a million stops) exceed gRPC's default 4 MiB.
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(MaxMessageBytes), grpc.MaxCallRecvMsgSize(MaxMessageBytes)),
	}
	if o.token != "" {
		if o.tls == nil {
			return nil, errors.New("client: a bearer token needs TLS (WithTLS)")
		}
		dial = append(dial, grpc.WithPerRPCCredentials(bearer(o.token)))
	}
	if o.timeout > 0 {
		dial = append(dial, grpc.WithChainUnaryInterceptor(defaultDeadline(o.timeout)))
	}
	dial = append(dial, grpc.WithChainUnaryInterceptor(typedErrors), grpc.WithChainStreamInterceptor(typedStreamErrors))
	if addrs := addressList(target); addrs != nil {
		r := manual.NewBuilderWithScheme("coverage-list")
		state := resolver.State{}
		for _, a := range addrs {
			state.Addresses = append(state.Addresses, resolver.Address{Addr: a})
		}
		r.InitialState(state)
		dial = append(dial, grpc.WithResolvers(r))
		target = r.Scheme() + ":///" + strings.Join(addrs, ",")
	}
	conn, err := grpc.NewClient(target, append(dial, o.dialOpts...)...)
	if err != nil {
		return nil, fmt.Errorf("client: %w", err)
	}
	return &Client{CoverageServiceClient: coveragev1.NewCoverageServiceClient(conn), conn: conn}, nil
}

// Close closes the connection.
func (c *Client) Close() error { return c.conn.Close() }

// Conn is the underlying connection, for other services on the same server
// (health checking, for one).
func (c *Client) Conn() *grpc.ClientConn { return c.conn }

type bearer string

func (b bearer) GetRequestMetadata(context.Context, ...string) (map[string]string, error) {
	return map[string]string{"authorization": "Bearer " + string(b)}, nil
}

func (bearer) RequireTransportSecurity() bool { return true }

func defaultDeadline(d time.Duration) grpc.UnaryClientInterceptor {
	return func(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
		if _, ok := ctx.Deadline(); !ok {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, d)
			defer cancel()
		}
		return invoker(ctx, method, req, reply, cc, opts...)
	}
}

// addressList splits a comma-separated list of addresses, or returns nil for
// any other target.
func addressList(target string) []string {
	if !strings.Contains(target, ",") || strings.Contains(target, "://") {
		return nil
	}
	var addrs []string
	for _, a := range strings.Split(target, ",") {
		if a = strings.TrimSpace(a); a != "" {
			addrs = append(addrs, a)
		}
	}
	return addrs
}

func typedErrors(ctx context.Context, method string, req, reply any, cc *grpc.ClientConn, invoker grpc.UnaryInvoker, opts ...grpc.CallOption) error {
	return fromStatus(invoker(ctx, method, req, reply, cc, opts...))
}

func typedStreamErrors(ctx context.Context, desc *grpc.StreamDesc, cc *grpc.ClientConn, method string, streamer grpc.Streamer, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	s, err := streamer(ctx, desc, cc, method, opts...)
	if err != nil {
		return nil, fromStatus(err)
	}
	return typedStream{s}, nil
}

// typedStream gives stream errors the same type as unary ones, leaving io.EOF
// (the end of a stream, not a failure) as it is.
type typedStream struct{ grpc.ClientStream }

func (s typedStream) RecvMsg(m any) error {
	err := s.ClientStream.RecvMsg(m)
	if err == nil || errors.Is(err, io.EOF) {
		return err
	}
	return fromStatus(err)
}

// FieldViolation is one bad field of a request, as the server named it.
type FieldViolation struct {
	Field  string
	Reason string
}

// Error is an error returned by the server. It keeps the gRPC status, so
// status.FromError and status.Code still work on it.
type Error struct {
	Code       codes.Code
	Message    string
	Violations []FieldViolation
	st         *status.Status
}

func (e *Error) Error() string { return fmt.Sprintf("%s: %s", e.Code, e.Message) }

// GRPCStatus lets the grpc/status package see through the wrapper.
func (e *Error) GRPCStatus() *status.Status { return e.st }

// IsInvalid reports whether the server rejected the request as bad input.
func (e *Error) IsInvalid() bool { return e.Code == codes.InvalidArgument }

func fromStatus(err error) error {
	if err == nil {
		return nil
	}
	st, ok := status.FromError(err)
	if !ok {
		// A transport failure on the last retry can surface without a status
		// (grpc-go reports the stream's io.EOF); it is still the server being
		// unreachable, and callers should see it as such.
		if errors.Is(err, io.EOF) {
			st = status.New(codes.Unavailable, err.Error())
		} else {
			return err
		}
	}
	e := &Error{Code: st.Code(), Message: st.Message(), st: st}
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				e.Violations = append(e.Violations, FieldViolation{Field: v.GetField(), Reason: v.GetDescription()})
			}
		}
	}
	return e
}
