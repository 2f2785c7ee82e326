package cli

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/civic-standards/coverage/internal/testpki"
	"github.com/civic-standards/coverage/server"
	"github.com/civic-standards/coverage/server/servertest"
)

// issueFiles writes a certificate of ca and its key to dir as name.pem and
// name-key.pem: a server certificate, or a client one.
func issueFiles(t *testing.T, ca *testpki.CA, dir, name string, client bool) (certFile, keyFile string) {
	t.Helper()
	cn := "coverage.test"
	if client {
		cn = "planning-bureau"
	}
	certPEM, keyPEM := ca.Issue(t, 2, cn, client)
	return testpki.WriteFile(t, dir, name+".pem", certPEM), testpki.WriteFile(t, dir, name+"-key.pem", keyPEM)
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
	ca := testpki.NewCA(t, "server CA")
	caFile := testpki.WriteFile(t, dir, "ca.pem", ca.PEM())
	certFile, keyFile := issueFiles(t, ca, dir, "server", false)
	files := server.TLSFiles{CertFile: certFile, KeyFile: keyFile}
	addr := servertest.StartTLS(t, files, nil)

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
		clientCA := testpki.NewCA(t, "client CA")
		mutual := files
		mutual.ClientCAFile = testpki.WriteFile(t, dir, "clients.pem", clientCA.PEM())
		addr := servertest.StartTLS(t, mutual, nil)
		clientCert, clientKey := issueFiles(t, clientCA, dir, "client", true)
		otherCert, otherKey := issueFiles(t, testpki.NewCA(t, "other CA"), dir, "other", true)

		run(t, "", "--server", addr, "--ca-file", caFile, "--cert-file", clientCert, "--key-file", clientKey, "rulesets").want(t, ExitOK)
		run(t, "", "--server", addr, "--ca-file", caFile, "rulesets").want(t, ExitFailure)
		run(t, "", "--server", addr, "--ca-file", caFile, "--cert-file", otherCert, "--key-file", otherKey, "rulesets").want(t, ExitFailure)
	})

	t.Run("token", func(t *testing.T) {
		dir := t.TempDir()
		const token = "cli-test-token-0c8f3a"
		const wrong = "cli-wrong-token-19be"
		tokens, err := server.LoadTokens(testpki.WriteFile(t, dir, "tokens", []byte(server.HashToken(token)+" cli-test\n")))
		if err != nil {
			t.Fatal(err)
		}
		addr := servertest.StartTLS(t, files, tokens)
		good := testpki.WriteFile(t, dir, "token", []byte(token+"\n"))
		bad := testpki.WriteFile(t, dir, "wrong", []byte(wrong+"\n"))
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
	ca := testpki.NewCA(t, "CA")
	caFile := testpki.WriteFile(t, dir, "ca.pem", ca.PEM())
	cert, key := issueFiles(t, ca, dir, "client", true)
	_, otherKey := issueFiles(t, ca, dir, "other", true)
	garbage := testpki.WriteFile(t, dir, "garbage.pem", []byte("not PEM\n"))
	token := testpki.WriteFile(t, dir, "token", []byte("usage-test-token-77\n"))
	empty := testpki.WriteFile(t, dir, "empty", nil)
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
