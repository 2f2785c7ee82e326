package main

import (
	"bufio"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"time"
)

// h1Client POSTs one request over HTTP/1.1 keep-alive connections that it
// holds itself: a connection per call in flight, up to a limit. net/http's
// Client does the same through a Transport whose pool, per-connection read
// and write goroutines and request bookkeeping cost some 120 µs of CPU per
// call on this machine; here a call writes the request, which is built once,
// and reads the response with http.ReadResponse (status line, headers,
// Content-Length or chunked body) on its own goroutine.
type h1Client struct {
	addr    string
	request []byte
	timeout time.Duration
	idle    chan *h1Conn
	slots   chan struct{} // at most this many connections open at once
}

type h1Conn struct {
	conn net.Conn
	br   *bufio.Reader
}

func newH1Client(rawURL, contentType string, payload []byte, conns int, timeout time.Duration) (*h1Client, error) {
	u, err := url.Parse(rawURL)
	if err != nil {
		return nil, err
	}
	if u.Scheme != "http" {
		return nil, fmt.Errorf("h1: %s: only http:// URLs", rawURL)
	}
	host := u.Host
	if u.Port() == "" {
		host = net.JoinHostPort(u.Hostname(), "80")
	}
	head := "POST " + u.RequestURI() + " HTTP/1.1\r\nHost: " + u.Host + "\r\nUser-Agent: grpcload-h1\r\nContent-Type: " +
		contentType + "\r\nContent-Length: " + strconv.Itoa(len(payload)) + "\r\n\r\n"
	return &h1Client{
		addr:    host,
		request: append([]byte(head), payload...),
		timeout: timeout,
		idle:    make(chan *h1Conn, conns),
		slots:   make(chan struct{}, conns),
	}, nil
}

// call makes one call and returns the size of the response body.
func (c *h1Client) call() (int, error) {
	c.slots <- struct{}{}
	defer func() { <-c.slots }()
	var hc *h1Conn
	select {
	case hc = <-c.idle:
	default:
		conn, err := net.DialTimeout("tcp", c.addr, c.timeout)
		if err != nil {
			return 0, err
		}
		hc = &h1Conn{conn: conn, br: bufio.NewReaderSize(conn, 64<<10)}
	}
	n, reuse, err := hc.roundTrip(c.request, c.timeout)
	if reuse {
		c.idle <- hc
	} else {
		hc.conn.Close()
	}
	return n, err
}

func (hc *h1Conn) roundTrip(request []byte, timeout time.Duration) (n int, reuse bool, err error) {
	if err := hc.conn.SetDeadline(time.Now().Add(timeout)); err != nil {
		return 0, false, err
	}
	if _, err := hc.conn.Write(request); err != nil {
		return 0, false, err
	}
	resp, err := http.ReadResponse(hc.br, nil)
	if err != nil {
		return 0, false, err
	}
	read, err := io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if err != nil {
		return 0, false, err
	}
	if resp.StatusCode != http.StatusOK {
		return int(read), !resp.Close, httpStatusError(resp.StatusCode)
	}
	return int(read), !resp.Close, nil
}
