package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials"

	"github.com/civic-standards/coverage/coverage"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
	"github.com/civic-standards/coverage/server"
)

// tlsTestCA is a certificate authority made for one test.
type tlsTestCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newTLSTestCA(t *testing.T, name string) *tlsTestCA {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: name},
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(time.Hour),
		IsCA:                  true,
		BasicConstraintsValid: true,
		KeyUsage:              x509.KeyUsageCertSign,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	return &tlsTestCA{cert: cert, key: key}
}

// writeCA writes the CA's certificate to dir and returns the path.
func (ca *tlsTestCA) writeCA(t *testing.T, dir, name string) string {
	t.Helper()
	return writeTLSTestFile(t, dir, name, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw}))
}

// issue writes a certificate and key to dir: a server certificate for
// 127.0.0.1 and coverage.test, or a client certificate.
func (ca *tlsTestCA) issue(t *testing.T, dir, name string, clientCert bool) (certFile, keyFile string) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: big.NewInt(2),
		Subject:      pkix.Name{CommonName: "coverage.test"},
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().Add(time.Hour),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		IPAddresses:  []net.IP{net.IPv4(127, 0, 0, 1)},
		DNSNames:     []string{"coverage.test"},
	}
	if clientCert {
		tmpl.Subject.CommonName = "planning-bureau"
		tmpl.ExtKeyUsage = []x509.ExtKeyUsage{x509.ExtKeyUsageClientAuth}
		tmpl.IPAddresses, tmpl.DNSNames = nil, nil
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, ca.cert, &key.PublicKey, ca.key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return writeTLSTestFile(t, dir, name+".pem", pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})),
		writeTLSTestFile(t, dir, name+"-key.pem", pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}))
}

func writeTLSTestFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startTLSServer serves the real coverage service over TLS configured by
// files, checking tokens (nil: none), and returns its address.
func startTLSServer(t *testing.T, files server.TLSFiles, tokens *server.Tokens) string {
	t.Helper()
	cfg, err := files.Config()
	if err != nil {
		t.Fatal(err)
	}
	catalog, err := coverage.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	s := grpc.NewServer(grpc.Creds(credentials.NewTLS(cfg)),
		grpc.ChainUnaryInterceptor(tokens.UnaryServerInterceptor()),
		grpc.ChainStreamInterceptor(tokens.StreamServerInterceptor()))
	coveragev1.RegisterCoverageServiceServer(s, server.NewService(catalog))
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(lis) }()
	t.Cleanup(func() { s.Stop(); <-done })
	return lis.Addr().String()
}

func (r result) wantStderr(t *testing.T, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(r.stderr, p) {
			t.Errorf("stderr does not contain %q:\n%s", p, r.stderr)
		}
	}
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	ca := newTLSTestCA(t, "server CA")
	caFile := ca.writeCA(t, dir, "ca.pem")
	certFile, keyFile := ca.issue(t, dir, "server", false)
	files := server.TLSFiles{CertFile: certFile, KeyFile: keyFile}
	addr := startTLSServer(t, files, nil)

	t.Run("CA file", func(t *testing.T) {
		r := run(t, "", "--server", addr, "--ca-file", caFile, "rulesets")
		r.want(t, ExitOK)
		if tableRow(r.stdout, "jilin-2014") == nil {
			t.Errorf("no jilin-2014 row:\n%s", r.stdout)
		}
	})
	t.Run("server name", func(t *testing.T) {
		run(t, "", "--server", addr, "--ca-file", caFile, "--server-name", "coverage.test", "rulesets").want(t, ExitOK)
		r := run(t, "", "--server", addr, "--ca-file", caFile, "--server-name", "other.test", "rulesets")
		r.want(t, ExitFailure)
		r.wantStderr(t, "Unavailable", "other.test")
	})
	t.Run("system roots", func(t *testing.T) {
		r := run(t, "", "--server", addr, "--tls", "rulesets")
		r.want(t, ExitFailure)
		r.wantStderr(t, "Unavailable", "certificate")
	})
	t.Run("plaintext", func(t *testing.T) {
		run(t, "", "--server", addr, "rulesets").want(t, ExitFailure)
	})

	t.Run("mutual TLS", func(t *testing.T) {
		dir := t.TempDir()
		clientCA := newTLSTestCA(t, "client CA")
		mutual := files
		mutual.ClientCAFile = clientCA.writeCA(t, dir, "clients.pem")
		addr := startTLSServer(t, mutual, nil)
		clientCert, clientKey := clientCA.issue(t, dir, "client", true)
		otherCert, otherKey := newTLSTestCA(t, "other CA").issue(t, dir, "other", true)

		run(t, "", "--server", addr, "--ca-file", caFile, "--cert-file", clientCert, "--key-file", clientKey, "rulesets").want(t, ExitOK)
		run(t, "", "--server", addr, "--ca-file", caFile, "rulesets").want(t, ExitFailure)
		run(t, "", "--server", addr, "--ca-file", caFile, "--cert-file", otherCert, "--key-file", otherKey, "rulesets").want(t, ExitFailure)
	})

	t.Run("token", func(t *testing.T) {
		dir := t.TempDir()
		const token = "cli-test-token-0c8f3a"
		const wrong = "cli-wrong-token-19be"
		tokens, err := server.LoadTokens(writeTLSTestFile(t, dir, "tokens", []byte(server.HashToken(token)+" cli-test\n")))
		if err != nil {
			t.Fatal(err)
		}
		addr := startTLSServer(t, files, tokens)
		good := writeTLSTestFile(t, dir, "token", []byte(token+"\n"))
		bad := writeTLSTestFile(t, dir, "wrong", []byte(wrong+"\n"))
		noSecrets := func(t *testing.T, r result) {
			t.Helper()
			for _, s := range []string{token, wrong, server.HashToken(token), server.HashToken(wrong)} {
				if strings.Contains(r.stdout, s) || strings.Contains(r.stderr, s) {
					t.Errorf("output shows a token or its hash:\nstdout:\n%s\nstderr:\n%s", r.stdout, r.stderr)
				}
			}
		}

		r := run(t, "", "--server", addr, "--ca-file", caFile, "--token-file", good, "rulesets")
		r.want(t, ExitOK)
		noSecrets(t, r)
		r = run(t, "", "--server", addr, "--ca-file", caFile, "--token-file", good, "check", "elderly-care", "-s", "-")
		r.want(t, ExitUsage) // no settlement on stdin: the token is not the problem
		r = run(t, townSettlement, "--server", addr, "--ca-file", caFile, "--token-file", good, "check", "elderly-care")
		r.want(t, ExitOK)
		noSecrets(t, r)

		r = run(t, "", "--server", addr, "--ca-file", caFile, "--token-file", bad, "rulesets")
		r.want(t, ExitFailure)
		r.wantStderr(t, "Unauthenticated")
		noSecrets(t, r)

		r = run(t, "", "--server", addr, "--ca-file", caFile, "rulesets")
		r.want(t, ExitFailure)
		r.wantStderr(t, "Unauthenticated")

		t.Run("from the environment", func(t *testing.T) {
			t.Setenv(tokenFileEnv, good)
			r := run(t, "", "--server", addr, "--ca-file", caFile, "rulesets")
			r.want(t, ExitOK)
			noSecrets(t, r)
			// The flag wins over the environment.
			r = run(t, "", "--server", addr, "--ca-file", caFile, "--token-file", bad, "rulesets")
			r.want(t, ExitFailure)
			r.wantStderr(t, "Unauthenticated")
		})
	})
}

func TestTLSUsageErrors(t *testing.T) {
	dir := t.TempDir()
	ca := newTLSTestCA(t, "CA")
	caFile := ca.writeCA(t, dir, "ca.pem")
	cert, key := ca.issue(t, dir, "client", true)
	_, otherKey := ca.issue(t, dir, "other", true)
	garbage := writeTLSTestFile(t, dir, "garbage.pem", []byte("not PEM\n"))
	token := writeTLSTestFile(t, dir, "token", []byte("usage-test-token-77\n"))
	empty := writeTLSTestFile(t, dir, "empty", nil)
	missing := filepath.Join(dir, "missing.pem")
	// No server listens here: every case must fail before dialling.
	const addr = "127.0.0.1:1"

	for _, tc := range []struct {
		name string
		args []string
		want []string
	}{
		{"token without TLS", []string{"--token-file", token}, []string{"--token-file", "needs TLS", "--tls"}},
		{"missing CA file", []string{"--ca-file", missing}, []string{"--ca-file", missing, "no such file"}},
		{"CA file not PEM", []string{"--ca-file", garbage}, []string{"--ca-file", garbage, "no PEM certificate"}},
		{"certificate without key", []string{"--cert-file", cert}, []string{"--cert-file", "--key-file"}},
		{"key without certificate", []string{"--key-file", key}, []string{"--cert-file", "--key-file"}},
		{"missing certificate", []string{"--cert-file", missing, "--key-file", key}, []string{"--cert-file", missing, "no such file"}},
		{"key not PEM", []string{"--cert-file", cert, "--key-file", garbage}, []string{"--key-file", garbage, "no PEM private key"}},
		{"key of another certificate", []string{"--cert-file", cert, "--key-file", otherKey}, []string{"--key-file", otherKey, cert, "does not match"}},
		{"missing token file", []string{"--tls", "--token-file", missing}, []string{"--token-file", missing, "no such file"}},
		{"empty token file", []string{"--ca-file", caFile, "--token-file", empty}, []string{"--token-file", empty, "empty"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, "", append(append([]string{"--server", addr}, tc.args...), "rulesets")...)
			r.want(t, ExitUsage)
			r.wantStderr(t, tc.want...)
			if strings.Contains(r.stderr, "usage-test-token-77") {
				t.Errorf("stderr shows the token:\n%s", r.stderr)
			}
		})
	}

	t.Run("token from the environment without TLS", func(t *testing.T) {
		t.Setenv(tokenFileEnv, token)
		r := run(t, "", "--server", addr, "rulesets")
		r.want(t, ExitUsage)
		r.wantStderr(t, tokenFileEnv, "needs TLS")
	})
	t.Run("samples need no connection", func(t *testing.T) {
		t.Setenv(tokenFileEnv, token)
		run(t, "", "samples").want(t, ExitOK)
	})
}
