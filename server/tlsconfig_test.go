package server

import (
	"context"
	"crypto/ecdsa"
	"crypto/tls"
	"crypto/x509"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/health"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/peer"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"

	"github.com/civic-standards/coverage/internal/testpki"
)

// tlsTestCA is a certificate authority made for one test, with the short
// names these tests use.
type tlsTestCA struct {
	*testpki.CA
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
	pem  []byte
}

func newTLSTestCA(t testing.TB, name string) *tlsTestCA {
	t.Helper()
	ca := testpki.NewCA(t, name)
	return &tlsTestCA{CA: ca, cert: ca.Cert, key: ca.Key, pem: ca.PEM()}
}

// issue makes a leaf certificate: for the server (127.0.0.1 and localhost)
// or, with client set, for a client named cn.
func (ca *tlsTestCA) issue(t testing.TB, serial int64, cn string, client bool) (certPEM, keyPEM []byte) {
	t.Helper()
	return ca.Issue(t, serial, cn, client)
}

func (ca *tlsTestCA) pool() *x509.CertPool { return ca.Pool() }

// clientCert is a client's certificate and key as tls.Config wants them.
func (ca *tlsTestCA) clientCert(t testing.TB, cn string) tls.Certificate {
	t.Helper()
	certPEM, keyPEM := ca.issue(t, 100, cn, true)
	cert, err := tls.X509KeyPair(certPEM, keyPEM)
	if err != nil {
		t.Fatal(err)
	}
	return cert
}

func writeTLSTestFile(t testing.TB, dir, name string, data []byte) string {
	t.Helper()
	return testpki.WriteFile(t, dir, name, data)
}

// serveTLSTest serves the health service over TLS with cfg until the test
// ends, with interceptors if any, and returns the address.
func serveTLSTest(t *testing.T, cfg *tls.Config, opts ...grpc.ServerOption) string {
	t.Helper()
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(append([]grpc.ServerOption{grpc.Creds(credentials.NewTLS(cfg))}, opts...)...)
	healthpb.RegisterHealthServer(s, health.NewServer())
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(lis) }()
	t.Cleanup(func() { s.Stop(); <-done })
	return lis.Addr().String()
}

// tlsTestCall makes a health check over a new connection and returns the
// serial number of the certificate the server presented.
func tlsTestCall(t *testing.T, addr string, cfg *tls.Config) (*big.Int, error) {
	t.Helper()
	conn, err := grpc.NewClient(addr, grpc.WithTransportCredentials(credentials.NewTLS(cfg)))
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var p peer.Peer
	if _, err := healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{}, grpc.Peer(&p)); err != nil {
		return nil, err
	}
	info, ok := p.AuthInfo.(credentials.TLSInfo)
	if !ok || len(info.State.PeerCertificates) == 0 {
		t.Fatalf("peer auth info %T has no certificate", p.AuthInfo)
	}
	return info.State.PeerCertificates[0].SerialNumber, nil
}

func TestTLSFilesEnabled(t *testing.T) {
	for _, f := range []TLSFiles{{CertFile: "c"}, {KeyFile: "k"}, {ClientCAFile: "ca"}, {CertFile: "c", KeyFile: "k"}} {
		if !f.Enabled() {
			t.Errorf("%+v.Enabled() = false, want true (Config must get to refuse or accept it)", f)
		}
	}
	if (TLSFiles{}).Enabled() {
		t.Error("TLSFiles{}.Enabled() = true")
	}
}

func TestTLSConfigServes(t *testing.T) {
	ca := newTLSTestCA(t, "test CA")
	dir := t.TempDir()
	certPEM, keyPEM := ca.issue(t, 7, "coverage-server", false)
	files := TLSFiles{CertFile: writeTLSTestFile(t, dir, "cert.pem", certPEM), KeyFile: writeTLSTestFile(t, dir, "key.pem", keyPEM)}
	cfg, err := files.Config()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.MinVersion != tls.VersionTLS12 {
		t.Errorf("MinVersion = %x, want TLS 1.2", cfg.MinVersion)
	}
	if cfg.ClientAuth != tls.NoClientCert {
		t.Errorf("ClientAuth = %v without a client CA file, want NoClientCert", cfg.ClientAuth)
	}
	addr := serveTLSTest(t, cfg)

	for _, name := range []string{"", "localhost"} {
		serial, err := tlsTestCall(t, addr, &tls.Config{RootCAs: ca.pool(), ServerName: name})
		if err != nil {
			t.Fatalf("server name %q: %v", name, err)
		}
		if serial.Int64() != 7 {
			t.Errorf("serial = %v, want 7", serial)
		}
	}

	t.Run("unknown CA", func(t *testing.T) {
		_, err := tlsTestCall(t, addr, &tls.Config{RootCAs: newTLSTestCA(t, "other CA").pool()})
		if status.Code(err) != codes.Unavailable {
			t.Errorf("a client trusting another CA: err = %v, want Unavailable", err)
		}
	})
	t.Run("TLS 1.1", func(t *testing.T) {
		_, err := tlsTestCall(t, addr, &tls.Config{RootCAs: ca.pool(), MinVersion: tls.VersionTLS10, MaxVersion: tls.VersionTLS11})
		if err == nil {
			t.Error("a TLS 1.1 client was served")
		}
	})
}

func TestTLSConfigMutual(t *testing.T) {
	ca := newTLSTestCA(t, "server CA")
	clientCA := newTLSTestCA(t, "client CA")
	otherCA := newTLSTestCA(t, "other CA")
	dir := t.TempDir()
	certPEM, keyPEM := ca.issue(t, 7, "coverage-server", false)
	files := TLSFiles{
		CertFile:     writeTLSTestFile(t, dir, "cert.pem", certPEM),
		KeyFile:      writeTLSTestFile(t, dir, "key.pem", keyPEM),
		ClientCAFile: writeTLSTestFile(t, dir, "clients.pem", clientCA.pem),
	}
	cfg, err := files.Config()
	if err != nil {
		t.Fatal(err)
	}
	if cfg.ClientAuth != tls.RequireAndVerifyClientCert {
		t.Errorf("ClientAuth = %v, want RequireAndVerifyClientCert", cfg.ClientAuth)
	}
	addr := serveTLSTest(t, cfg)

	t.Run("no certificate", func(t *testing.T) {
		if _, err := tlsTestCall(t, addr, &tls.Config{RootCAs: ca.pool()}); status.Code(err) != codes.Unavailable {
			t.Errorf("err = %v, want Unavailable", err)
		}
	})
	t.Run("certificate of another CA", func(t *testing.T) {
		cfg := &tls.Config{RootCAs: ca.pool(), Certificates: []tls.Certificate{otherCA.clientCert(t, "intruder")}}
		if _, err := tlsTestCall(t, addr, cfg); status.Code(err) != codes.Unavailable {
			t.Errorf("err = %v, want Unavailable", err)
		}
	})
	t.Run("certificate of the server's CA", func(t *testing.T) {
		// Trusting the server's CA for server certificates says nothing about
		// clients: only the client CA file counts.
		cfg := &tls.Config{RootCAs: ca.pool(), Certificates: []tls.Certificate{ca.clientCert(t, "intruder")}}
		if _, err := tlsTestCall(t, addr, cfg); status.Code(err) != codes.Unavailable {
			t.Errorf("err = %v, want Unavailable", err)
		}
	})
	t.Run("good certificate", func(t *testing.T) {
		cfg := &tls.Config{RootCAs: ca.pool(), Certificates: []tls.Certificate{clientCA.clientCert(t, "planning-bureau")}}
		if _, err := tlsTestCall(t, addr, cfg); err != nil {
			t.Errorf("err = %v, want the call served", err)
		}
	})
}

func TestTLSConfigRotation(t *testing.T) {
	defer func(d time.Duration) { certReloadInterval = d }(certReloadInterval)
	certReloadInterval = 20 * time.Millisecond

	ca := newTLSTestCA(t, "test CA")
	dir := t.TempDir()
	certPEM, keyPEM := ca.issue(t, 1, "coverage-server", false)
	files := TLSFiles{CertFile: writeTLSTestFile(t, dir, "cert.pem", certPEM), KeyFile: writeTLSTestFile(t, dir, "key.pem", keyPEM)}
	cfg, err := files.Config()
	if err != nil {
		t.Fatal(err)
	}
	addr := serveTLSTest(t, cfg)
	client := &tls.Config{RootCAs: ca.pool()}

	// Each rotation moves the files' times forward, so that it shows even on
	// a file system that keeps modification times in whole seconds.
	stamp := time.Now()
	rotate := func(certPEM, keyPEM []byte) {
		t.Helper()
		stamp = stamp.Add(time.Minute)
		for path, data := range map[string][]byte{files.CertFile: certPEM, files.KeyFile: keyPEM} {
			if data == nil {
				continue
			}
			writeTLSTestFile(t, dir, filepath.Base(path), data)
			if err := os.Chtimes(path, stamp, stamp); err != nil {
				t.Fatal(err)
			}
		}
	}
	wantSerial := func(want int64) {
		t.Helper()
		// Waiting past the interval alone is not enough on a loaded machine
		// under the race detector; retry for a while, on a fresh connection
		// each time.
		var got *big.Int
		var err error
		for deadline := time.Now().Add(15 * time.Second); ; {
			time.Sleep(3 * certReloadInterval)
			got, err = tlsTestCall(t, addr, client)
			if (err == nil && got.Int64() == want) || time.Now().After(deadline) {
				break
			}
		}
		if err != nil {
			t.Fatalf("call after rotation: %v", err)
		}
		if got.Int64() != want {
			t.Fatalf("serial = %v, want %d", got, want)
		}
	}
	wantSerial(1)

	certPEM, keyPEM = ca.issue(t, 2, "coverage-server", false)
	rotate(certPEM, keyPEM)
	wantSerial(2)

	// A certificate whose key has not arrived yet is not served: the
	// previous pair stays until the files match again.
	certPEM, keyPEM = ca.issue(t, 3, "coverage-server", false)
	rotate(certPEM, nil)
	time.Sleep(5 * certReloadInterval)
	wantSerial(2)
	rotate(nil, keyPEM)
	wantSerial(3)

	// Nor is a pair that went missing.
	if err := os.Remove(files.KeyFile); err != nil {
		t.Fatal(err)
	}
	time.Sleep(5 * certReloadInterval)
	wantSerial(3)
	certPEM, keyPEM = ca.issue(t, 4, "coverage-server", false)
	rotate(certPEM, keyPEM)
	wantSerial(4)
}

func TestTLSConfigErrors(t *testing.T) {
	ca := newTLSTestCA(t, "test CA")
	dir := t.TempDir()
	certPEM, keyPEM := ca.issue(t, 1, "coverage-server", false)
	_, otherKeyPEM := ca.issue(t, 2, "coverage-server", false)
	cert := writeTLSTestFile(t, dir, "cert.pem", certPEM)
	key := writeTLSTestFile(t, dir, "key.pem", keyPEM)
	otherKey := writeTLSTestFile(t, dir, "other-key.pem", otherKeyPEM)
	garbage := writeTLSTestFile(t, dir, "garbage.pem", []byte("not PEM at all\n"))
	empty := writeTLSTestFile(t, dir, "empty.pem", nil)
	missing := filepath.Join(dir, "missing.pem")
	caFile := writeTLSTestFile(t, dir, "ca.pem", ca.pem)

	for _, tc := range []struct {
		name  string
		files TLSFiles
		want  []string // substrings of the error
	}{
		{"cert without key", TLSFiles{CertFile: cert}, []string{"--tls-cert", "--tls-key"}},
		{"key without cert", TLSFiles{KeyFile: key}, []string{"--tls-key", "--tls-cert"}},
		{"client CA without cert", TLSFiles{ClientCAFile: caFile}, []string{"--tls-client-ca", "--tls-cert", "--tls-key"}},
		{"nothing", TLSFiles{}, []string{"--tls-cert"}},
		{"missing cert", TLSFiles{CertFile: missing, KeyFile: key}, []string{"--tls-cert", missing, "no such file"}},
		{"missing key", TLSFiles{CertFile: cert, KeyFile: missing}, []string{"--tls-key", missing, "no such file"}},
		{"cert not PEM", TLSFiles{CertFile: garbage, KeyFile: key}, []string{"--tls-cert", garbage, "no PEM certificate"}},
		{"cert empty", TLSFiles{CertFile: empty, KeyFile: key}, []string{"--tls-cert", empty, "no PEM certificate"}},
		{"key in the cert file", TLSFiles{CertFile: key, KeyFile: key}, []string{"--tls-cert", key, "no PEM certificate"}},
		{"key not PEM", TLSFiles{CertFile: cert, KeyFile: garbage}, []string{"--tls-key", garbage, "no PEM private key"}},
		{"cert in the key file", TLSFiles{CertFile: cert, KeyFile: cert}, []string{"--tls-key", cert, "no PEM private key"}},
		{"key of another cert", TLSFiles{CertFile: cert, KeyFile: otherKey}, []string{otherKey, cert, "does not match"}},
		{"client CA missing", TLSFiles{CertFile: cert, KeyFile: key, ClientCAFile: missing}, []string{"--tls-client-ca", missing, "no such file"}},
		{"client CA not PEM", TLSFiles{CertFile: cert, KeyFile: key, ClientCAFile: garbage}, []string{"--tls-client-ca", garbage, "no PEM certificate"}},
		{"client CA holds a key", TLSFiles{CertFile: cert, KeyFile: key, ClientCAFile: key}, []string{"--tls-client-ca", key, "no PEM certificate"}},
		{"cert is a directory", TLSFiles{CertFile: dir, KeyFile: key}, []string{"--tls-cert", dir}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := tc.files.Config()
			if err == nil {
				t.Fatalf("Config() = %v, want an error", cfg)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
			// The path once, not again after an "open".
			if strings.Contains(err.Error(), "open ") {
				t.Errorf("error %q repeats the path", err)
			}
		})
	}
}

// The gateway's in-memory connections skip TLS, and only they do: the
// network port keeps requiring TLS and a client certificate.
func TestTLSExceptInMemory(t *testing.T) {
	ca, clientCA := newTLSTestCA(t, "server CA"), newTLSTestCA(t, "client CA")
	dir := t.TempDir()
	certPEM, keyPEM := ca.issue(t, 7, "coverage-server", false)
	cfg, err := TLSFiles{
		CertFile:     writeTLSTestFile(t, dir, "cert.pem", certPEM),
		KeyFile:      writeTLSTestFile(t, dir, "key.pem", keyPEM),
		ClientCAFile: writeTLSTestFile(t, dir, "clients.pem", clientCA.pem),
	}.Config()
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(grpc.Creds(tlsExceptInMemory(cfg)))
	healthpb.RegisterHealthServer(s, health.NewServer())
	tcp, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	marked, unmarked := bufconn.Listen(1<<20), bufconn.Listen(1<<20)
	var wg sync.WaitGroup
	for _, l := range []net.Listener{tcp, inMemoryListener(marked), unmarked} {
		wg.Add(1)
		go func() { defer wg.Done(); _ = s.Serve(l) }()
	}
	t.Cleanup(func() { s.Stop(); wg.Wait() })

	check := func(t *testing.T, target string, opts ...grpc.DialOption) error {
		t.Helper()
		conn, err := grpc.NewClient(target, opts...)
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		_, err = healthpb.NewHealthClient(conn).Check(ctx, &healthpb.HealthCheckRequest{})
		return err
	}
	viaMemory := func(l *bufconn.Listener) grpc.DialOption {
		return grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return l.DialContext(ctx) })
	}
	plaintext := grpc.WithTransportCredentials(insecure.NewCredentials())

	if err := check(t, "passthrough:///in-memory", viaMemory(marked), plaintext); err != nil {
		t.Errorf("in memory without TLS: %v", err)
	}
	if err := check(t, "passthrough:///in-memory", viaMemory(unmarked), plaintext); status.Code(err) != codes.Unavailable {
		t.Errorf("unmarked in-memory listener without TLS: err = %v, want Unavailable", err)
	}
	if err := check(t, tcp.Addr().String(), plaintext); status.Code(err) != codes.Unavailable {
		t.Errorf("network without TLS: err = %v, want Unavailable", err)
	}
	noCert := credentials.NewTLS(&tls.Config{RootCAs: ca.pool()})
	if err := check(t, tcp.Addr().String(), grpc.WithTransportCredentials(noCert)); status.Code(err) != codes.Unavailable {
		t.Errorf("network without a client certificate: err = %v, want Unavailable", err)
	}
	withCert := credentials.NewTLS(&tls.Config{RootCAs: ca.pool(), Certificates: []tls.Certificate{clientCA.clientCert(t, "planning-bureau")}})
	if err := check(t, tcp.Addr().String(), grpc.WithTransportCredentials(withCert)); err != nil {
		t.Errorf("network with a client certificate: %v", err)
	}
}
