package client_test

import (
	"crypto/tls"
	"errors"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"

	"github.com/civic-standards/coverage/clients/client"
	"github.com/civic-standards/coverage/internal/testpki"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
	"github.com/civic-standards/coverage/server"
	"github.com/civic-standards/coverage/server/servertest"
)

func wantCode(t *testing.T, err error, want codes.Code) {
	t.Helper()
	var ce *client.Error
	if !errors.As(err, &ce) || ce.Code != want {
		t.Fatalf("err = %v, want %v", err, want)
	}
}

func TestTLSFiles(t *testing.T) {
	dir := t.TempDir()
	ca, clientCA := testpki.NewCA(t, "server CA"), testpki.NewCA(t, "client CA")
	certPEM, keyPEM := ca.Issue(t, 2, "coverage.test", false)
	clientCertPEM, clientKeyPEM := clientCA.Issue(t, 2, "planning-bureau", true)
	caFile := testpki.WriteFile(t, dir, "ca.pem", ca.PEM())
	clientCert := testpki.WriteFile(t, dir, "client.pem", clientCertPEM)
	clientKey := testpki.WriteFile(t, dir, "client-key.pem", clientKeyPEM)
	files := server.TLSFiles{CertFile: testpki.WriteFile(t, dir, "server.pem", certPEM), KeyFile: testpki.WriteFile(t, dir, "server-key.pem", keyPEM)}
	addr := servertest.StartTLS(t, files, nil)

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
		mutual.ClientCAFile = testpki.WriteFile(t, t.TempDir(), "clients.pem", clientCA.PEM())
		addr := servertest.StartTLS(t, mutual, nil)
		if err := list(t, addr, tlsFiles(t, caFile, clientCert, clientKey, "")); err != nil {
			t.Errorf("with the client certificate: %v", err)
		}
		wantCode(t, list(t, addr, tlsFiles(t, caFile, "", "", "")), codes.Unavailable)
	})

	t.Run("token", func(t *testing.T) {
		const token = "tls-test-token-5d1e"
		tokens, err := server.LoadTokens(testpki.WriteFile(t, t.TempDir(), "tokens", []byte(server.HashToken(token)+" client-test\n")))
		if err != nil {
			t.Fatal(err)
		}
		addr := servertest.StartTLS(t, files, tokens)
		tok, err := client.TokenFromFile(testpki.WriteFile(t, t.TempDir(), "token", []byte(token+"\n")))
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
	ca := testpki.NewCA(t, "CA")
	certPEM, keyPEM := ca.Issue(t, 2, "planning-bureau", true)
	_, otherKeyPEM := ca.Issue(t, 2, "planning-bureau", true)
	caFile := testpki.WriteFile(t, dir, "ca.pem", ca.PEM())
	cert := testpki.WriteFile(t, dir, "cert.pem", certPEM)
	key := testpki.WriteFile(t, dir, "key.pem", keyPEM)
	otherKey := testpki.WriteFile(t, dir, "other-key.pem", otherKeyPEM)
	garbage := testpki.WriteFile(t, dir, "garbage.pem", []byte("not PEM\n"))
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
		got, err := client.TokenFromFile(testpki.WriteFile(t, dir, "token", []byte(content)))
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
			path := testpki.WriteFile(t, dir, "token", []byte(tc.content))
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
