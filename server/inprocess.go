package server

import (
	"context"
	"strings"
	"sync"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/encoding"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
)

// inProcessConn is how the REST gateway calls the unary methods of the
// service: through the server's own interceptor chain and handler, in the
// gateway's goroutine, as the gRPC server would run them for a call on the
// in-memory connection, but without carrying the call through HTTP/2 and
// protobuf and back. That trip cost a REST audit a quarter of its CPU: the
// 19 KB response was marshalled, framed, read back and unmarshalled, only to
// be written as JSON.
//
// What the handler and the interceptors see is what the gRPC server gives a
// call on the in-memory connection: its metadata (the gateway's, and the
// transport's content-type, user agent and authority), its peer, its
// deadline, a stream for headers and trailers. What the gateway gets back is
// what the gRPC client would give it: the response, the status (a plain
// error becomes UNKNOWN, a context error its own code), the headers (with the
// transport's content-type) and trailers, and the same limits on message
// sizes. inprocess_test.go holds the REST answers, logs and metrics of the
// two side by side. Streams, and any method it does not know, go through the
// in-memory connection.
type inProcessConn struct {
	conn    *grpc.ClientConn
	srv     any
	methods map[string]*grpc.MethodDesc
	chain   grpc.UnaryServerInterceptor
	codec   encoding.CodecV2
	max     int
	// incoming is the metadata the transport adds to every call's own.
	incoming metadata.MD
	peer     *peer.Peer
	// slots bound the calls in flight as the server bounds the streams of
	// one connection (--max-concurrent-streams): a call beyond them waits.
	slots chan struct{}
}

// inProcessOptions are the server's settings that apply to the gateway's
// calls.
type inProcessOptions struct {
	// codec is the server's codec, which writes responses (grpc's proto
	// codec when nil).
	codec encoding.CodecV2
	// maxMessageBytes bounds a request and a response, at both ends.
	maxMessageBytes int
	// maxConcurrentStreams bounds the calls in flight on the connection.
	maxConcurrentStreams uint32
	// withCreds tells whether the server has transport credentials: it then
	// gives in-memory calls the insecure ones' AuthInfo, and none otherwise.
	withCreds bool
}

// newInProcessConn is conn, with the unary methods of desc, implemented by
// srv, called in process through the interceptors. authority is conn's
// target without its scheme.
func newInProcessConn(conn *grpc.ClientConn, authority string, desc *grpc.ServiceDesc, srv any, interceptors []grpc.UnaryServerInterceptor, opts inProcessOptions) *inProcessConn {
	c := &inProcessConn{
		conn: conn, srv: srv, methods: map[string]*grpc.MethodDesc{}, chain: chainUnary(interceptors),
		codec: opts.codec, max: opts.maxMessageBytes, slots: make(chan struct{}, max(opts.maxConcurrentStreams, 1)),
		incoming: metadata.MD{
			":authority":   {authority},
			"content-type": {"application/grpc"},
			"user-agent":   {"grpc-go/" + grpc.Version},
		},
		peer: &peer.Peer{Addr: inMemoryAddr{}, LocalAddr: inMemoryAddr{}},
	}
	if c.codec == nil {
		c.codec = protoCodec
	}
	if opts.withCreds {
		c.peer.AuthInfo = insecureAuthInfo()
	}
	// The client offers the compressors the program has registered.
	if encoding.GetCompressor("gzip") != nil {
		c.incoming["grpc-accept-encoding"] = []string{"gzip"}
	}
	for i := range desc.Methods {
		c.methods["/"+desc.ServiceName+"/"+desc.Methods[i].MethodName] = &desc.Methods[i]
	}
	return c
}

// inMemoryAddr is the address of both ends of a bufconn connection.
type inMemoryAddr struct{}

func (inMemoryAddr) Network() string { return "bufconn" }
func (inMemoryAddr) String() string  { return "bufconn" }

// insecureAuthInfo is what the transport credentials give a connection of
// the in-memory listener (see tlsExceptInMemory).
func insecureAuthInfo() credentials.AuthInfo {
	_, info, _ := insecure.NewCredentials().ServerHandshake(nil)
	return info
}

// chainUnary runs interceptors in order around a handler, as
// grpc.ChainUnaryInterceptor does.
func chainUnary(interceptors []grpc.UnaryServerInterceptor) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		return chainFrom(interceptors, 0, info, handler)(ctx, req)
	}
}

func chainFrom(interceptors []grpc.UnaryServerInterceptor, i int, info *grpc.UnaryServerInfo, handler grpc.UnaryHandler) grpc.UnaryHandler {
	if i == len(interceptors) {
		return handler
	}
	return func(ctx context.Context, req any) (any, error) {
		return interceptors[i](ctx, req, info, chainFrom(interceptors, i+1, info, handler))
	}
}

// wireBuffers hold messages while they are checked as the wire would check
// them.
var wireBuffers = sync.Pool{New: func() any { return new([]byte) }}

// marshalChecked marshals m into a pooled buffer, which put gives back, as
// the sending end does before a message leaves: an error for what cannot be
// marshalled (invalid UTF-8), and for a message over the limit.
func (c *inProcessConn) marshalChecked(m proto.Message) (b []byte, put func(), err error) {
	buf := wireBuffers.Get().(*[]byte)
	put = func() {
		if cap(*buf) <= 1<<20 {
			wireBuffers.Put(buf)
		}
	}
	*buf, err = proto.MarshalOptions{}.MarshalAppend((*buf)[:0], m)
	if err != nil {
		return nil, put, status.Errorf(codes.Internal, "grpc: error while marshaling: %v", err.Error())
	}
	if len(*buf) > c.max {
		return nil, put, status.Errorf(codes.ResourceExhausted, "trying to send message larger than max (%d vs. %d)", len(*buf), c.max)
	}
	return *buf, put, nil
}

// sendable is the server's verdict on a response before it leaves: encoded
// by the server's codec, an error for what cannot be (invalid UTF-8), and
// for a message over the limit.
func (c *inProcessConn) sendable(m proto.Message) error {
	b, err := c.codec.Marshal(m)
	defer b.Free()
	if err != nil {
		return status.Errorf(codes.Internal, "grpc: error while marshaling: %v", err.Error())
	}
	if n := b.Len(); n > c.max {
		return status.Errorf(codes.ResourceExhausted, "trying to send message larger than max (%d vs. %d)", n, c.max)
	}
	return nil
}

// handOver gives the response the handler returned to the caller's
// message, as the client would receive it, but sharing its fields rather
// than copying them: nothing changes a response once its handler has
// returned it (the gRPC server only encodes it, the gateway only writes it
// as JSON), and some share parts that the service keeps (a sample
// settlement) with every answer.
func handOver(dst, src proto.Message) {
	d, s := dst.ProtoReflect(), src.ProtoReflect()
	if d.Descriptor() != s.Descriptor() {
		proto.Merge(dst, src) // reports the mismatch as the client's decoding would
		return
	}
	proto.Reset(dst)
	s.Range(func(fd protoreflect.FieldDescriptor, v protoreflect.Value) bool {
		d.Set(fd, v)
		return true
	})
	d.SetUnknown(s.GetUnknown())
}

// checkOutgoing refuses metadata the client would not send. (The client
// also refuses keys with capitals, which the metadata package's functions,
// and so the gateway, never make, and which md no longer shows.)
func checkOutgoing(md metadata.MD) error {
	for k, vs := range md {
		if k == "" {
			return status.Error(codes.Internal, "there is an empty key in the header")
		}
		for i := 0; i < len(k) && k[0] != ':'; i++ {
			if r := k[i]; !(r >= 'a' && r <= 'z') && !(r >= '0' && r <= '9') && r != '.' && r != '-' && r != '_' {
				return status.Errorf(codes.Internal, "header key %q contains illegal characters not in [0-9a-z-_.]", k)
			}
		}
		if strings.HasSuffix(k, "-bin") {
			continue
		}
		for _, v := range vs {
			for i := 0; i < len(v); i++ {
				if v[i] < 0x20 || v[i] > 0x7e {
					return status.Errorf(codes.Internal, "header key %q contains value with non-printable ASCII characters", k)
				}
			}
		}
	}
	return nil
}

func (c *inProcessConn) Invoke(ctx context.Context, method string, args, reply any, opts ...grpc.CallOption) error {
	desc := c.methods[method]
	req, ok1 := args.(proto.Message)
	out, ok2 := reply.(proto.Message)
	if desc == nil || !ok1 || !ok2 {
		return c.conn.Invoke(ctx, method, args, reply, opts...)
	}

	// The client's side, before the call reaches the server.
	md, _ := metadata.FromOutgoingContext(ctx)
	if err := checkOutgoing(md); err != nil {
		return err
	}
	select {
	case c.slots <- struct{}{}:
		defer func() { <-c.slots }()
	case <-ctx.Done():
		return status.FromContextError(ctx.Err()).Err()
	}
	if err := ctx.Err(); err != nil {
		return status.FromContextError(err).Err()
	}
	reqBytes, putReq, err := c.marshalChecked(req)
	defer putReq()
	if err != nil {
		return err
	}

	// The server's side: the call as the transport delivers it.
	in := make(metadata.MD, len(md)+len(c.incoming))
	for k, v := range md {
		in[k] = v
	}
	for k, v := range c.incoming {
		in[k] = v
	}
	stream := &inProcessStream{method: method}
	sctx := metadata.NewIncomingContext(ctx, in)
	sctx = peer.NewContext(sctx, c.peer)
	sctx = grpc.NewContextWithServerTransportStream(sctx, stream)
	resp, err := desc.Handler(c.srv, sctx, func(m any) error {
		return proto.Unmarshal(reqBytes, m.(proto.Message))
	}, c.chain)
	if err == nil {
		// The response leaves as the server sends it, and arrives unless
		// the client has stopped waiting.
		if r, ok := resp.(proto.Message); !ok {
			err = status.Errorf(codes.Internal, "grpc: error while marshaling: unexpected type %T", resp)
		} else if err = c.sendable(r); err == nil {
			if cerr := ctx.Err(); cerr != nil {
				err = status.FromContextError(cerr).Err()
			} else {
				handOver(out, r)
			}
		}
	}
	var st *status.Status
	if err != nil {
		var ok bool
		if st, ok = status.FromError(err); !ok {
			st = status.FromContextError(err)
		}
		err = st.Err()
	}
	header, trailer := stream.finish(st)
	for _, o := range opts {
		switch o := o.(type) {
		case grpc.HeaderCallOption:
			*o.HeaderAddr = header
		case grpc.TrailerCallOption:
			*o.TrailerAddr = trailer
		case grpc.PeerCallOption:
			*o.PeerAddr = *c.peer
		}
	}
	return err
}

func (c *inProcessConn) NewStream(ctx context.Context, desc *grpc.StreamDesc, method string, opts ...grpc.CallOption) (grpc.ClientStream, error) {
	return c.conn.NewStream(ctx, desc, method, opts...)
}

// inProcessStream keeps a call's headers and trailers, with the gRPC
// server's rules for when they may be set.
type inProcessStream struct {
	method     string
	mu         sync.Mutex
	header     metadata.MD
	trailer    metadata.MD
	headerSent bool
	done       bool
}

// errIllegalHeaderWrite is the transport's answer to headers set or sent
// once they have been sent.
var errIllegalHeaderWrite = status.Error(codes.Internal, "transport: SendHeader called multiple times")

func (s *inProcessStream) Method() string { return s.method }

func (s *inProcessStream) SetHeader(md metadata.MD) error {
	if md.Len() == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.headerSent || s.done {
		return errIllegalHeaderWrite
	}
	s.header = metadata.Join(s.header, md)
	return nil
}

func (s *inProcessStream) SendHeader(md metadata.MD) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.headerSent || s.done {
		return errIllegalHeaderWrite
	}
	s.headerSent = true
	if md.Len() > 0 {
		s.header = metadata.Join(s.header, md)
	}
	return nil
}

func (s *inProcessStream) SetTrailer(md metadata.MD) error {
	if md.Len() == 0 {
		return nil
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.done {
		return status.Error(codes.Internal, "transport: the stream is done")
	}
	s.trailer = metadata.Join(s.trailer, md)
	return nil
}

// finish ends the call with st (nil for OK) and returns the headers and
// trailers as the client sees them: the headers with the content-type the
// transport sends, the trailers with the status's details when it has any.
func (s *inProcessStream) finish(st *status.Status) (header, trailer metadata.MD) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.done = true
	header = metadata.MD{"content-type": {"application/grpc"}}
	for k, v := range s.header {
		header[k] = append(header[k], v...)
	}
	trailer = metadata.MD{}
	for k, v := range s.trailer {
		trailer[k] = append(trailer[k], v...)
	}
	if p := st.Proto(); p != nil && len(p.GetDetails()) > 0 {
		if b, err := proto.Marshal(p); err == nil {
			trailer["grpc-status-details-bin"] = []string{string(b)}
		}
	}
	return header, trailer
}
