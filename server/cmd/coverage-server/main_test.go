package main

import (
	"context"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// TestBrokenRulesetStopsStartUp: a broken ruleset file stops the server at
// start-up with the file, the rule and the field named.
func TestBrokenRulesetStopsStartUp(t *testing.T) {
	data, err := os.ReadFile("../../../coverage/rulesets/jilin-2014.json")
	if err != nil {
		t.Fatal(err)
	}
	broken := strings.Replace(string(data), `"value": 36`, `"value": -36`, 1)
	if broken == string(data) {
		t.Fatal("premise: the elderly-beds threshold is not written as \"value\": 36")
	}
	dir := t.TempDir()
	file := filepath.Join(dir, "jilin-2014.json")
	if err := os.WriteFile(file, []byte(broken), 0o644); err != nil {
		t.Fatal(err)
	}
	err = realMain(context.Background(), []string{"--rulesets", dir, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"})
	if err == nil {
		t.Fatal("the server started with a broken ruleset")
	}
	for _, want := range []string{file, "rule T19-ELDERLY-BEDS", "thresholds[0].value", "negative"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not name %q", err, want)
		}
	}
}

func TestFlags(t *testing.T) {
	if err := realMain(context.Background(), []string{"--help"}); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("--help: %v, want flag.ErrHelp", err)
	}
	for _, args := range [][]string{{"--log-format", "xml"}, {"--log-level", "loud"}, {"extra"}, {"--no-such-flag"}} {
		if err := realMain(context.Background(), args); err == nil {
			t.Errorf("%v accepted", args)
		}
	}
}

// TestServesUntilCancelled starts the real server on loopback ports and
// stops it as SIGTERM would, by cancelling its context.
func TestServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- realMain(ctx, []string{"--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--log-level", "error"})
	}()
	time.Sleep(200 * time.Millisecond)
	cancel()
	select {
	case err := <-done:
		if err != nil {
			t.Fatalf("realMain: %v", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("the server did not stop within 10 s of cancellation")
	}
}

// TestHashToken: the line hash-token prints is what a --tokens-file holds,
// and the file it makes lets the server start.
func TestHashToken(t *testing.T) {
	var out strings.Builder
	if err := hashToken(strings.NewReader("s3cret-token\n"), &out); err != nil {
		t.Fatal(err)
	}
	// sha256("s3cret-token")
	if !strings.HasPrefix(out.String(), "sha256:") || len(strings.TrimSpace(out.String())) != len("sha256:")+64 || strings.Contains(out.String(), "s3cret") {
		t.Fatalf("hash-token printed %q", out.String())
	}
	for _, bad := range []string{"", "  \n", "two words"} {
		if err := hashToken(strings.NewReader(bad), &strings.Builder{}); err == nil {
			t.Errorf("hash-token accepted %q", bad)
		}
	}
	file := filepath.Join(t.TempDir(), "tokens")
	if err := os.WriteFile(file, []byte(out.String()), 0o600); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() {
		done <- realMain(ctx, []string{"--tokens-file", file, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0", "--log-level", "error"})
	}()
	time.Sleep(200 * time.Millisecond)
	cancel()
	if err := <-done; err != nil {
		t.Fatalf("with the token file: %v", err)
	}
}

// TestSecurityFlagErrors: unusable TLS or token files stop the start-up,
// naming the flag.
func TestSecurityFlagErrors(t *testing.T) {
	dir := t.TempDir()
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, []byte("not-a-hash\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		args []string
		want string
	}{
		{[]string{"--tokens-file", plain}, "--tokens-file"},
		{[]string{"--tokens-file", filepath.Join(dir, "missing")}, "--tokens-file"},
		{[]string{"--tls-cert", filepath.Join(dir, "missing.pem")}, "--tls-"},
		{[]string{"--tls-client-ca", plain}, "--tls-"},
	} {
		err := realMain(context.Background(), append(c.args, "--grpc-addr", "127.0.0.1:0", "--http-addr", "127.0.0.1:0"))
		if err == nil || !strings.Contains(err.Error(), c.want) {
			t.Errorf("%v: %v, want an error naming %s", c.args, err, c.want)
		}
		if err != nil && strings.Contains(err.Error(), "not-a-hash") {
			t.Errorf("%v: the error shows the file's content: %v", c.args, err)
		}
	}
}
