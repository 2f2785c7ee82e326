package client_test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"math/big"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials"

	"github.com/civic-standards/coverage/clients/client"
	"github.com/civic-standards/coverage/coverage"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
	"github.com/civic-standards/coverage/server"
)

// pkiCA is a certificate authority made for one test.
type pkiCA struct {
	cert *x509.Certificate
	key  *ecdsa.PrivateKey
}

func newPKICA(t *testing.T, name string) *pkiCA {
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
	return &pkiCA{cert: cert, key: key}
}

func (ca *pkiCA) certPEM() []byte {
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: ca.cert.Raw})
}

// issue makes a server certificate for 127.0.0.1 and coverage.test, or a
// client certificate.
func (ca *pkiCA) issue(t *testing.T, clientCert bool) (certPEM, keyPEM []byte) {
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
	return pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}),
		pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})
}

func writeTestFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// startTLSServer serves the real coverage service over TLS with the
// server's own TLS configuration (server.TLSFiles) and token check, and
// returns its address.
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

func wantCode(t *testing.T, err error, want codes.Code) {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != want {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

func TestTLSFiles(t *testing.T) {
	dir := t.TempDir()
	ca, clientCA := newPKICA(t, "server CA"), newPKICA(t, "client CA")
	certPEM, keyPEM := ca.issue(t, false)
	clientCertPEM, clientKeyPEM := clientCA.issue(t, true)
	caFile := writeTestFile(t, dir, "ca.pem", ca.certPEM())
	clientCert := writeTestFile(t, dir, "client.pem", clientCertPEM)
	clientKey := writeTestFile(t, dir, "client-key.pem", clientKeyPEM)
	files := server.TLSFiles{CertFile: writeTestFile(t, dir, "server.pem", certPEM), KeyFile: writeTestFile(t, dir, "server-key.pem", keyPEM)}
	addr := startTLSServer(t, files, nil)

	list := func(t *testing.T, addr string, cfg *tls.Config) error {
		t.Helper()
		c := dial(t, addr, client.WithTLS(cfg))
		_, err := c.ListRulesets(callCtx(t), &coveragev1.ListRulesetsRequest{})
		return err
	}
	tlsFiles := func(t *testing.T, ca, cert, key, name string) *tls.Config {
		t.Helper()
		cfg, err := client.TLSFiles(ca, cert, key, name)
		if err != nil {
			t.Fatal(err)
		}
		return cfg
	}

	t.Run("CA file", func(t *testing.T) {
		cfg := tlsFiles(t, caFile, "", "", "")
		if cfg.MinVersion != tls.VersionTLS12 {
			t.Errorf("MinVersion = %x, want TLS 1.2", cfg.MinVersion)
		}
		if err := list(t, addr, cfg); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("system roots", func(t *testing.T) {
		// The test CA is in no system store.
		wantCode(t, list(t, addr, tlsFiles(t, "", "", "", "")), codes.Unavailable)
	})
	t.Run("server name", func(t *testing.T) {
		if err := list(t, addr, tlsFiles(t, caFile, "", "", "coverage.test")); err != nil {
			t.Errorf("the certificate's name: %v", err)
		}
		wantCode(t, list(t, addr, tlsFiles(t, caFile, "", "", "other.test")), codes.Unavailable)
	})

	t.Run("mutual TLS", func(t *testing.T) {
		mutual := files
		mutual.ClientCAFile = writeTestFile(t, t.TempDir(), "clients.pem", clientCA.certPEM())
		addr := startTLSServer(t, mutual, nil)
		if err := list(t, addr, tlsFiles(t, caFile, clientCert, clientKey, "")); err != nil {
			t.Errorf("with the client certificate: %v", err)
		}
		wantCode(t, list(t, addr, tlsFiles(t, caFile, "", "", "")), codes.Unavailable)
	})

	t.Run("token", func(t *testing.T) {
		const token = "tls-test-token-5d1e"
		tokens, err := server.LoadTokens(writeTestFile(t, t.TempDir(), "tokens", []byte(server.HashToken(token)+" client-test\n")))
		if err != nil {
			t.Fatal(err)
		}
		addr := startTLSServer(t, files, tokens)
		tok, err := client.TokenFromFile(writeTestFile(t, t.TempDir(), "token", []byte(token+"\n")))
		if err != nil {
			t.Fatal(err)
		}
		cfg := tlsFiles(t, caFile, "", "", "")
		c := dial(t, addr, client.WithTLS(cfg), client.WithToken(tok))
		if _, err := c.ListRulesets(callCtx(t), &coveragev1.ListRulesetsRequest{}); err != nil {
			t.Errorf("right token: %v", err)
		}
		c = dial(t, addr, client.WithTLS(cfg), client.WithToken("not-"+token))
		_, err = c.ListRulesets(callCtx(t), &coveragev1.ListRulesetsRequest{})
		wantCode(t, err, codes.Unauthenticated)
		if strings.Contains(err.Error(), token) {
			t.Errorf("error %q shows the token", err)
		}
		wantCode(t, list(t, addr, cfg), codes.Unauthenticated)
	})
}

func TestTLSFilesErrors(t *testing.T) {
	dir := t.TempDir()
	ca := newPKICA(t, "CA")
	certPEM, keyPEM := ca.issue(t, true)
	_, otherKeyPEM := ca.issue(t, true)
	caFile := writeTestFile(t, dir, "ca.pem", ca.certPEM())
	cert := writeTestFile(t, dir, "cert.pem", certPEM)
	key := writeTestFile(t, dir, "key.pem", keyPEM)
	otherKey := writeTestFile(t, dir, "other-key.pem", otherKeyPEM)
	garbage := writeTestFile(t, dir, "garbage.pem", []byte("not PEM\n"))
	missing := filepath.Join(dir, "missing.pem")

	for _, tc := range []struct {
		name                string
		ca, cert, key, want string // want: a phrase of the error, besides the file
		file                string // the file the error must name
	}{
		{"missing CA file", missing, "", "", "no such file", missing},
		{"CA file without certificates", garbage, "", "", "no PEM certificate", garbage},
		{"CA file holding a key", key, "", "", "no PEM certificate", key},
		{"certificate without key", caFile, cert, "", "both are needed", cert},
		{"key without certificate", caFile, "", key, "both are needed", key},
		{"missing certificate", "", missing, key, "no such file", missing},
		{"missing key", "", cert, missing, "no such file", missing},
		{"certificate not PEM", "", garbage, key, "no PEM certificate", garbage},
		{"key not PEM", "", cert, garbage, "no PEM private key", garbage},
		{"key in the certificate file", "", key, key, "no PEM certificate", key},
		{"certificate in the key file", "", cert, cert, "no PEM private key", cert},
		{"key of another certificate", "", cert, otherKey, "does not match", otherKey},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg, err := client.TLSFiles(tc.ca, tc.cert, tc.key, "")
			if err == nil {
				t.Fatalf("TLSFiles = %v, want an error", cfg)
			}
			for _, w := range []string{tc.file, tc.want} {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
}

func TestTokenFromFile(t *testing.T) {
	dir := t.TempDir()
	const token = "abc.DEF-123_~+/="
	for _, content := range []string{token, token + "\n", "  " + token + "\r\n\n", "\t" + token + " "} {
		got, err := client.TokenFromFile(writeTestFile(t, dir, "token", []byte(content)))
		if err != nil || got != token {
			t.Errorf("TokenFromFile(%q) = %q, %v; want %q", content, got, err, token)
		}
	}
	for _, tc := range []struct{ name, content, want string }{
		{"empty", "", "is empty"},
		{"blank", " \n\t\n", "is empty"},
		{"two lines", token + "\n" + token + "-2\n", "one token"},
		{"two words", token + " second", "one token"},
		{"not ASCII", token + "é", "one token"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := writeTestFile(t, dir, "token", []byte(tc.content))
			got, err := client.TokenFromFile(path)
			if err == nil {
				t.Fatalf("TokenFromFile = %q, want an error", got)
			}
			if !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not name %s and say %q", err, path, tc.want)
			}
			if strings.Contains(err.Error(), token) {
				t.Errorf("error %q shows the file's content", err)
			}
		})
	}
	missing := filepath.Join(dir, "missing")
	if _, err := client.TokenFromFile(missing); err == nil || !strings.Contains(err.Error(), missing) {
		t.Errorf("missing file: err = %v, want one naming %s", err, missing)
	}
}
