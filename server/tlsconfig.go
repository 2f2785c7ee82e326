package server

import (
	"bytes"
	"crypto/tls"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"net"
	"os"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
)

// TLSFiles names the PEM files of a TLS listener.
type TLSFiles struct {
	CertFile, KeyFile string // the server's certificate chain and key
	ClientCAFile      string // when set, clients must present a certificate signed by one of these CAs (mutual TLS)
}

// Enabled reports whether a certificate is configured. Any file set counts,
// so that a half-done configuration (a key without its certificate) reaches
// Config and is refused there, instead of the server quietly serving
// plaintext.
func (f TLSFiles) Enabled() bool {
	return f.CertFile != "" || f.KeyFile != "" || f.ClientCAFile != ""
}

// certReloadInterval bounds how often a handshake looks at the certificate
// files: often enough that a rotated certificate is served within seconds,
// rarely enough that a busy listener does not stat the files on every
// connection. Tests shorten it.
var certReloadInterval = 5 * time.Second

// Config builds the server's tls.Config: TLS 1.2 at least; the certificate
// and key are re-read when their files change (looked at no more than every
// few seconds, at a handshake), so that a rotated certificate is served
// without a restart, and a pair that fails to load (caught mid-rotation, say)
// leaves the previous one in service. Errors come only from the first load;
// they name the file and the flag that sets it. With ClientCAFile, clients
// must present a certificate signed by one of its CAs; the CA file is read
// once.
func (f TLSFiles) Config() (*tls.Config, error) {
	switch {
	case f.CertFile == "" && f.KeyFile == "" && f.ClientCAFile != "":
		return nil, errors.New("--tls-client-ca needs --tls-cert and --tls-key: mutual TLS needs the server's own certificate too")
	case f.CertFile != "" && f.KeyFile == "":
		return nil, errors.New("--tls-cert needs --tls-key: the certificate's private key is missing")
	case f.CertFile == "" && f.KeyFile != "":
		return nil, errors.New("--tls-key needs --tls-cert: the key's certificate is missing")
	case f.CertFile == "":
		return nil, errors.New("no TLS certificate configured (--tls-cert and --tls-key)")
	}
	r := &certReloader{certFile: f.CertFile, keyFile: f.KeyFile, interval: certReloadInterval}
	cert, stamp, err := r.load()
	if err != nil {
		return nil, err
	}
	r.cert, r.stamp, r.checked = cert, stamp, time.Now()

	cfg := &tls.Config{
		MinVersion:     tls.VersionTLS12,
		GetCertificate: r.getCertificate,
	}
	if f.ClientCAFile != "" {
		data, err := readTLSFile("--tls-client-ca", f.ClientCAFile)
		if err != nil {
			return nil, err
		}
		pool := x509.NewCertPool()
		if !pool.AppendCertsFromPEM(data) {
			return nil, fmt.Errorf("--tls-client-ca %s: no PEM certificate in the file", f.ClientCAFile)
		}
		cfg.ClientCAs = pool
		cfg.ClientAuth = tls.RequireAndVerifyClientCert
	}
	return cfg, nil
}

// fileStamp identifies a version of the certificate and key files. Size is
// part of it because some file systems keep modification times in whole
// seconds, and a rotation can land within the second of the last one.
type fileStamp struct {
	certMod, keyMod   time.Time
	certSize, keySize int64
}

type certReloader struct {
	certFile, keyFile string
	interval          time.Duration

	mu      sync.Mutex
	cert    *tls.Certificate
	stamp   fileStamp
	checked time.Time
}

func (r *certReloader) getCertificate(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if now := time.Now(); now.Sub(r.checked) >= r.interval {
		r.checked = now
		// A failure here (files half written, or being replaced) keeps the
		// certificate in service; the next check tries again.
		if stamp, err := r.statFiles(); err == nil && stamp != r.stamp {
			if cert, stamp, err := r.load(); err == nil {
				r.cert, r.stamp = cert, stamp
			}
		}
	}
	return r.cert, nil
}

func (r *certReloader) statFiles() (fileStamp, error) {
	ci, err := os.Stat(r.certFile)
	if err != nil {
		return fileStamp{}, err
	}
	ki, err := os.Stat(r.keyFile)
	if err != nil {
		return fileStamp{}, err
	}
	return fileStamp{certMod: ci.ModTime(), keyMod: ki.ModTime(), certSize: ci.Size(), keySize: ki.Size()}, nil
}

// load reads the pair. The stamp is taken before the files are read, so a
// write that lands during the read changes the files' stamp again and is
// loaded at the next check.
func (r *certReloader) load() (*tls.Certificate, fileStamp, error) {
	stamp, _ := r.statFiles()
	certPEM, err := readTLSFile("--tls-cert", r.certFile)
	if err != nil {
		return nil, stamp, err
	}
	keyPEM, err := readTLSFile("--tls-key", r.keyFile)
	if err != nil {
		return nil, stamp, err
	}
	if !hasPEMBlock(certPEM, func(t string) bool { return t == "CERTIFICATE" }) {
		return nil, stamp, fmt.Errorf("--tls-cert %s: no PEM certificate in the file", r.certFile)
	}
	if !hasPEMBlock(keyPEM, func(t string) bool { return strings.HasSuffix(t, "PRIVATE KEY") }) {
		return nil, stamp, fmt.Errorf("--tls-key %s: no PEM private key in the file", r.keyFile)
	}
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		if strings.Contains(err.Error(), "does not match") {
			return nil, stamp, fmt.Errorf("--tls-key %s does not match the certificate in --tls-cert %s", r.keyFile, r.certFile)
		}
		return nil, stamp, fmt.Errorf("--tls-cert %s, --tls-key %s: %v", r.certFile, r.keyFile, strings.TrimPrefix(err.Error(), "tls: "))
	}
	return &cert, stamp, nil
}

// readTLSFile reads a PEM file; its errors name the flag and the file once,
// where os.ReadFile's would repeat the path after an "open".
func readTLSFile(flag, path string) ([]byte, error) {
	data, err := os.ReadFile(path)
	if err == nil {
		return data, nil
	}
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("%s %s: no such file", flag, path)
	}
	var pe *fs.PathError
	if errors.As(err, &pe) {
		err = pe.Err
	}
	return nil, fmt.Errorf("%s %s: %v", flag, path, err)
}

func hasPEMBlock(data []byte, typeOK func(string) bool) bool {
	for len(bytes.TrimSpace(data)) > 0 {
		var b *pem.Block
		b, data = pem.Decode(data)
		if b == nil {
			return false
		}
		if typeOK(b.Type) {
			return true
		}
	}
	return false
}

// A grpc.Server applies its transport credentials to every listener it
// serves, the in-memory one the gateway calls through included; the gateway
// has no certificate of its own to offer a server that requires mutual TLS,
// and TLS over memory protects nothing. So the in-memory listener marks its
// connections, and the server's credentials let exactly those through
// without a handshake. A connection from the network cannot carry the mark:
// it is a type, set only by inMemoryListener.
type inMemoryConn struct{ net.Conn }

type inMemoryMarker struct{ net.Listener }

func (l inMemoryMarker) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return inMemoryConn{c}, nil
}

// inMemoryListener marks the connections of l, the gateway's in-memory
// listener, as ones tlsExceptInMemory serves without TLS.
func inMemoryListener(l net.Listener) net.Listener { return inMemoryMarker{l} }

// tlsExceptInMemory is the server's transport credentials: TLS with cfg for
// every connection but those of inMemoryListener.
func tlsExceptInMemory(cfg *tls.Config) credentials.TransportCredentials {
	return exceptInMemory{credentials.NewTLS(cfg)}
}

type exceptInMemory struct {
	credentials.TransportCredentials
}

func (c exceptInMemory) ServerHandshake(conn net.Conn) (net.Conn, credentials.AuthInfo, error) {
	if _, ok := conn.(inMemoryConn); ok {
		return insecure.NewCredentials().ServerHandshake(conn)
	}
	return c.TransportCredentials.ServerHandshake(conn)
}

func (c exceptInMemory) Clone() credentials.TransportCredentials {
	return exceptInMemory{c.TransportCredentials.Clone()}
}
