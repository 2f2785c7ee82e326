package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"errors"
	"fmt"
	"net"
	"strconv"
	"sync"
	"sync/atomic"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
	"google.golang.org/grpc/codes"
)

// h2Client makes unary gRPC calls of one method over one HTTP/2 connection,
// written against the protocol (gRPC over HTTP/2: a HEADERS frame, the
// length-prefixed message in DATA frames, the answer's headers, DATA and
// trailers) instead of through google.golang.org/grpc. grpc-go's client
// spends some 70 µs of CPU per call (a goroutine handoff per frame, retry
// bookkeeping, a stream object, a codec, a context); on a machine whose two
// cores the generator shares with the server, that is the server's CPU. This
// client spends a fraction of it, and still does everything a gRPC client
// must for a unary call: HPACK with the dynamic table, flow control in both
// directions, the server's concurrent-stream limit, deadlines (sent as
// grpc-timeout and enforced), PING and SETTINGS acknowledgements, and every
// answer checked: HTTP status 200, grpc-status 0, and one uncompressed
// message whose length prefix matches the bytes received.
type h2Client struct {
	conn net.Conn
	fr   *http2.Framer
	bw   *bufio.Writer

	// Writes: frames go out under wmu; the last writer in line flushes, so
	// calls that arrive together share one write system call.
	wmu     sync.Mutex
	writers atomic.Int32
	henc    *hpack.Encoder
	hbuf    bytes.Buffer
	headers []hpack.HeaderField
	nextID  uint32
	body    []byte // the request with its 5-byte gRPC prefix
	timeout time.Duration

	mu        sync.Mutex
	calls     map[uint32]*h2Call // sent, not yet answered
	queue     []*h2Call          // not yet sent: over the stream limit or the window
	active    int                // streams open
	maxActive int                // the server's MAX_CONCURRENT_STREAMS
	sendWin   int64              // the server's connection-level window for our DATA
	streamWin int64              // the server's initial stream window
	maxFrame  uint32             // the server's largest frame
	err       error

	ready     chan struct{} // closed once the server's first SETTINGS are applied
	readyOnce sync.Once
	unacked   uint32 // reader only: DATA bytes not yet given back to the server's window
}

type h2Call struct {
	onDone     func(n int, err error)
	deadline   time.Time
	n          int // message bytes received, prefix included
	prefix     [5]byte
	httpStatus string
	grpcStatus int
	grpcMsg    string
	err        error
}

// h2RecvWindow is the window this client grants the server, per stream and
// for the connection: large, so that the server never waits for it.
const h2RecvWindow = 1 << 30

func dialH2(addr, method string, payload []byte, timeout time.Duration) (*h2Client, error) {
	conn, err := net.Dial("tcp", addr)
	if err != nil {
		return nil, err
	}
	c := &h2Client{
		conn:      conn,
		bw:        bufio.NewWriterSize(conn, 64<<10),
		calls:     map[uint32]*h2Call{},
		nextID:    1,
		sendWin:   65535,
		streamWin: 65535,
		maxFrame:  16384,
		maxActive: 100, // RFC 9113 recommends at least 100 when the server sets none
		ready:     make(chan struct{}),
		timeout:   timeout,
	}
	c.fr = http2.NewFramer(c.bw, bufio.NewReaderSize(conn, 64<<10))
	c.fr.ReadMetaHeaders = hpack.NewDecoder(4096, nil)
	c.fr.MaxHeaderListSize = 1 << 20
	c.fr.SetReuseFrames()
	c.henc = hpack.NewEncoder(&c.hbuf)
	c.body = make([]byte, 5+len(payload))
	binary.BigEndian.PutUint32(c.body[1:5], uint32(len(payload)))
	copy(c.body[5:], payload)
	c.headers = []hpack.HeaderField{
		{Name: ":method", Value: "POST"},
		{Name: ":scheme", Value: "http"},
		{Name: ":path", Value: method},
		{Name: ":authority", Value: addr},
		{Name: "content-type", Value: "application/grpc"},
		{Name: "user-agent", Value: "grpcload-h2"},
		{Name: "te", Value: "trailers"},
		{Name: "grpc-timeout", Value: grpcTimeout(timeout)},
	}

	if _, err := c.bw.WriteString(http2.ClientPreface); err != nil {
		conn.Close()
		return nil, err
	}
	c.fr.WriteSettings(http2.Setting{ID: http2.SettingEnablePush, Val: 0},
		http2.Setting{ID: http2.SettingInitialWindowSize, Val: h2RecvWindow})
	c.fr.WriteWindowUpdate(0, h2RecvWindow-65535)
	if err := c.bw.Flush(); err != nil {
		conn.Close()
		return nil, err
	}
	go c.readLoop()
	go c.expire()
	select {
	case <-c.ready:
	case <-time.After(10 * time.Second):
		c.close(errors.New("no SETTINGS from the server within 10 s"))
		return nil, errors.New("h2: no SETTINGS from the server within 10 s")
	}
	c.mu.Lock()
	err = c.err
	c.mu.Unlock()
	return c, err
}

// grpcTimeout writes d as a grpc-timeout value: at most 8 digits and a unit.
func grpcTimeout(d time.Duration) string {
	for _, u := range []struct {
		unit string
		d    time.Duration
	}{{"n", time.Nanosecond}, {"u", time.Microsecond}, {"m", time.Millisecond}, {"S", time.Second}, {"M", time.Minute}} {
		if v := d / u.d; v < 1e8 {
			return strconv.FormatInt(int64(v), 10) + u.unit
		}
	}
	return strconv.FormatInt(int64(d/time.Hour), 10) + "H"
}

// call makes one call and returns the size of the response message.
func (c *h2Client) call() (int, error) {
	done := make(chan struct{})
	var n int
	var err error
	c.start(func(got int, e error) {
		n, err = got, e
		close(done)
	})
	<-done
	return n, err
}

// start makes one call without waiting for it: done runs when the call
// ends, on the connection's reader (or on whatever ended the call), and must
// be quick. A call beyond the server's stream limit or its flow-control
// window waits in line, and goes out when a stream ends or the window
// grows; its latency includes the wait.
func (c *h2Client) start(done func(n int, err error)) {
	c.enqueue(done)
	c.pump()
}

// enqueue puts a call in line without sending it: the next pump sends it,
// with the others in line, in one write.
func (c *h2Client) enqueue(done func(n int, err error)) {
	call := &h2Call{onDone: done, grpcStatus: -1, deadline: time.Now().Add(c.timeout)}
	c.mu.Lock()
	if c.err != nil {
		err := c.err
		c.mu.Unlock()
		done(0, err)
		return
	}
	if int64(len(c.body)) > c.streamWin {
		win := c.streamWin
		c.mu.Unlock()
		done(0, fmt.Errorf("h2: a request of %d bytes exceeds the server's stream window of %d", len(c.body), win))
		return
	}
	c.queue = append(c.queue, call)
	c.mu.Unlock()
}

// pump sends the calls in line that the stream limit and the window allow,
// with one flush for all of them.
func (c *h2Client) pump() {
	need := int64(len(c.body))
	c.mu.Lock()
	var send []*h2Call
	for len(c.queue) > 0 && c.err == nil && c.active < c.maxActive && c.sendWin >= need {
		send = append(send, c.queue[0])
		c.queue[0] = nil
		c.queue = c.queue[1:]
		c.active++
		c.sendWin -= need
	}
	maxFrame := int(c.maxFrame)
	c.mu.Unlock()
	if len(send) == 0 {
		return
	}
	// The last writer in line flushes: calls that go out together share one
	// write system call.
	c.writers.Add(1)
	c.wmu.Lock()
	// Stream IDs are given under the write lock, so that they go out in
	// increasing order, as HTTP/2 requires.
	ids := make([]uint32, len(send))
	c.mu.Lock()
	failed := c.err
	if failed == nil {
		for i, call := range send {
			ids[i] = c.nextID
			c.nextID += 2
			c.calls[ids[i]] = call
		}
	}
	c.mu.Unlock()
	if failed != nil {
		c.writers.Add(-1)
		c.wmu.Unlock()
		for _, call := range send {
			call.onDone(0, failed)
		}
		return
	}
	var err error
	for i := range send {
		c.hbuf.Reset()
		for _, h := range c.headers {
			c.henc.WriteField(h)
		}
		if err = c.fr.WriteHeaders(http2.HeadersFrameParam{StreamID: ids[i], BlockFragment: c.hbuf.Bytes(), EndHeaders: true}); err != nil {
			break
		}
		for rest := c.body; err == nil && len(rest) > 0; {
			chunk := rest[:min(len(rest), maxFrame)]
			rest = rest[len(chunk):]
			err = c.fr.WriteData(ids[i], len(rest) == 0, chunk)
		}
		if err != nil {
			break
		}
	}
	if c.writers.Add(-1) == 0 && err == nil {
		err = c.bw.Flush()
	}
	c.wmu.Unlock()
	if err != nil {
		c.close(err) // fails the calls just registered, with the others
	}
}

// result is the outcome of an answered call.
func (call *h2Call) result() (int, error) {
	switch {
	case call.err != nil:
		return 0, call.err
	case call.httpStatus != "200":
		return 0, fmt.Errorf("h2: HTTP status %q", call.httpStatus)
	case call.grpcStatus != 0:
		return 0, &grpcError{code: codes.Code(call.grpcStatus), msg: call.grpcMsg}
	case call.n < 5 || call.prefix[0] != 0 || int(binary.BigEndian.Uint32(call.prefix[1:])) != call.n-5:
		return 0, fmt.Errorf("h2: malformed response: %d bytes, prefix % x", call.n, call.prefix)
	}
	return call.n - 5, nil
}

// grpcError is a call answered with a grpc-status other than OK.
type grpcError struct {
	code codes.Code
	msg  string
}

func (e *grpcError) Error() string {
	return fmt.Sprintf("rpc error: code = %s desc = %s", e.code, e.msg)
}

// finish completes the call of stream id, if it is still pending.
// The reader, the deadline sweeper and a failing connection all complete
// calls; a call's fields are written under mu, and read once it is out of
// the map, by the one that took it out.
func (c *h2Client) finish(id uint32, err error) {
	c.mu.Lock()
	call := c.calls[id]
	if call != nil {
		delete(c.calls, id)
		c.active--
		if err != nil && call.err == nil {
			call.err = err
		}
	}
	c.mu.Unlock()
	if call != nil {
		call.onDone(call.result())
		c.pump()
	}
}

func (c *h2Client) readLoop() {
	for {
		f, err := c.fr.ReadFrame()
		if err != nil {
			c.close(fmt.Errorf("h2: reading: %w", err))
			return
		}
		switch f := f.(type) {
		case *http2.MetaHeadersFrame:
			ended := f.StreamEnded()
			c.mu.Lock()
			if call := c.calls[f.StreamID]; call != nil {
				for _, h := range f.Fields {
					switch h.Name {
					case ":status":
						call.httpStatus = h.Value
					case "grpc-status":
						if n, err := strconv.Atoi(h.Value); err == nil {
							call.grpcStatus = n
						}
					case "grpc-message":
						call.grpcMsg = h.Value
					}
				}
			}
			c.mu.Unlock()
			if ended {
				c.finish(f.StreamID, nil)
			}
		case *http2.DataFrame:
			c.unacked += f.Length
			data := f.Data()
			c.mu.Lock()
			if call := c.calls[f.StreamID]; call != nil {
				if call.n < 5 {
					copy(call.prefix[call.n:], data)
				}
				call.n += len(data)
			}
			c.mu.Unlock()
			if f.StreamEnded() {
				c.finish(f.StreamID, errors.New("h2: the server ended the stream without trailers"))
			}
			if c.unacked >= h2RecvWindow/4 {
				n := c.unacked
				c.unacked = 0
				c.control(func() error { return c.fr.WriteWindowUpdate(0, n) })
			}
		case *http2.SettingsFrame:
			if f.IsAck() {
				continue
			}
			c.mu.Lock()
			f.ForeachSetting(func(s http2.Setting) error {
				switch s.ID {
				case http2.SettingMaxConcurrentStreams:
					c.maxActive = int(min(s.Val, 1<<20))
				case http2.SettingInitialWindowSize:
					c.streamWin = int64(s.Val)
				case http2.SettingMaxFrameSize:
					c.maxFrame = s.Val
				}
				return nil
			})
			c.mu.Unlock()
			c.control(c.fr.WriteSettingsAck)
			c.readyOnce.Do(func() { close(c.ready) })
			c.pump()
		case *http2.WindowUpdateFrame:
			if f.StreamID == 0 {
				c.mu.Lock()
				c.sendWin += int64(f.Increment)
				c.mu.Unlock()
				c.pump()
			}
		case *http2.PingFrame:
			if !f.IsAck() {
				data := f.Data
				c.control(func() error { return c.fr.WritePing(true, data) })
			}
		case *http2.RSTStreamFrame:
			c.finish(f.StreamID, c.resetError(f.StreamID, f.ErrCode))
		case *http2.GoAwayFrame:
			c.close(fmt.Errorf("h2: GOAWAY from the server: %v", f.ErrCode))
			return
		}
	}
}

// resetError is the status of a stream the server reset, as grpc-go's
// client reports it: past the call's deadline, the server gave up on it.
func (c *h2Client) resetError(id uint32, code http2.ErrCode) error {
	c.mu.Lock()
	call := c.calls[id]
	c.mu.Unlock()
	msg := fmt.Sprintf("stream reset by the server: %v", code)
	if call != nil && !time.Now().Before(call.deadline.Add(-c.timeout/100)) {
		return &grpcError{code: codes.DeadlineExceeded, msg: msg}
	}
	switch code {
	case http2.ErrCodeCancel:
		return &grpcError{code: codes.Canceled, msg: msg}
	case http2.ErrCodeRefusedStream:
		return &grpcError{code: codes.Unavailable, msg: msg}
	case http2.ErrCodeEnhanceYourCalm:
		return &grpcError{code: codes.ResourceExhausted, msg: msg}
	case http2.ErrCodeInadequateSecurity:
		return &grpcError{code: codes.PermissionDenied, msg: msg}
	}
	return &grpcError{code: codes.Internal, msg: msg}
}

// control writes a connection-control frame and flushes it at once.
func (c *h2Client) control(write func() error) {
	c.wmu.Lock()
	err := write()
	if err == nil {
		err = c.bw.Flush()
	}
	c.wmu.Unlock()
	if err != nil {
		c.close(err)
	}
}

// expire fails the calls whose deadline has passed, sent or still in line,
// and resets the streams of the sent ones, so that the server stops working
// on them.
func (c *h2Client) expire() {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for range t.C {
		now := time.Now()
		var late []uint32
		var lateQueued []*h2Call
		c.mu.Lock()
		if c.err != nil {
			c.mu.Unlock()
			return
		}
		for id, call := range c.calls {
			if now.After(call.deadline) {
				late = append(late, id)
			}
		}
		kept := c.queue[:0]
		for _, call := range c.queue {
			if now.After(call.deadline) {
				lateQueued = append(lateQueued, call)
			} else {
				kept = append(kept, call)
			}
		}
		c.queue = kept
		c.mu.Unlock()
		for _, call := range lateQueued {
			call.onDone(0, &grpcError{code: codes.DeadlineExceeded, msg: "deadline exceeded (client) before the call could be sent"})
		}
		for _, id := range late {
			c.finish(id, &grpcError{code: codes.DeadlineExceeded, msg: "deadline exceeded (client)"})
			c.control(func() error { return c.fr.WriteRSTStream(id, http2.ErrCodeCancel) })
		}
	}
}

// close fails every pending call and every later one with err.
func (c *h2Client) close(err error) {
	c.mu.Lock()
	if c.err == nil {
		c.err = err
	}
	calls := make([]*h2Call, 0, len(c.calls)+len(c.queue))
	for _, call := range c.calls {
		call.err = c.err
		calls = append(calls, call)
	}
	for _, call := range c.queue {
		call.err = c.err
		calls = append(calls, call)
	}
	c.calls, c.queue, c.active = map[uint32]*h2Call{}, nil, 0
	c.mu.Unlock()
	c.readyOnce.Do(func() { close(c.ready) })
	for _, call := range calls {
		call.onDone(0, call.err)
	}
	c.conn.Close()
}
