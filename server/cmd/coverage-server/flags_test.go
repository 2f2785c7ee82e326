package main

import (
	"flag"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/civic-standards/coverage/server"
)

// TestFlagsReachConfig: every flag lands in the field of the server's
// configuration (or the process setting) it names, so that a limit an
// operator sets is the limit the server enforces.
func TestFlagsReachConfig(t *testing.T) {
	tokens := filepath.Join(t.TempDir(), "tokens.txt")
	if err := os.WriteFile(tokens, []byte(server.HashToken("s3cret")+" bureau\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	set, err := parseArgs([]string{
		"--grpc-addr", "127.0.0.1:1", "--http-addr", "127.0.0.1:2", "--ops-addr", "127.0.0.1:3", "--pprof",
		"--default-ruleset", "jilin-2014", "--log-format", "text", "--log-level", "warn",
		"--shutdown-timeout", "7s", "--max-message-bytes", "4096", "--max-batch", "3",
		"--max-stops", "11", "--max-vertices", "12", "--max-plan-stops", "13",
		"--default-deadline", "2s", "--max-deadline", "9s", "--max-concurrent-streams", "5",
		"--http-read-header-timeout", "1s", "--http-read-timeout", "3s", "--http-write-timeout", "4s", "--http-idle-timeout", "6s",
		"--cors-origins", "https://a.example, https://b.example,", "--web=false",
		"--tls-cert", "c.pem", "--tls-key", "k.pem", "--tls-client-ca", "ca.pem", "--tokens-file", tokens,
		"--gogc", "250", "--memory-limit", "512MiB",
	})
	if err != nil {
		t.Fatal(err)
	}
	c := set.cfg
	checks := []struct {
		flag      string
		got, want any
	}{
		{"--grpc-addr", c.GRPCAddr, "127.0.0.1:1"},
		{"--http-addr", c.HTTPAddr, "127.0.0.1:2"},
		{"--ops-addr", c.OpsAddr, "127.0.0.1:3"},
		{"--pprof", c.Profiling, true},
		{"--default-ruleset", c.Catalog.DefaultID(), "jilin-2014"},
		{"--shutdown-timeout", c.ShutdownTimeout, 7 * time.Second},
		{"--max-message-bytes", c.MaxMessageBytes, 4096},
		{"--max-batch", c.MaxBatch, 3},
		{"--max-stops", c.MaxStops, 11},
		{"--max-vertices", c.MaxVertices, 12},
		{"--max-plan-stops", c.MaxPlanStops, 13},
		{"--default-deadline", c.DefaultDeadline, 2 * time.Second},
		{"--max-deadline", c.MaxDeadline, 9 * time.Second},
		{"--max-concurrent-streams", c.MaxConcurrentStreams, uint32(5)},
		{"--http-read-header-timeout", c.HTTPReadHeaderTimeout, time.Second},
		{"--http-read-timeout", c.HTTPReadTimeout, 3 * time.Second},
		{"--http-write-timeout", c.HTTPWriteTimeout, 4 * time.Second},
		{"--http-idle-timeout", c.HTTPIdleTimeout, 6 * time.Second},
		{"--cors-origins", strings.Join(c.CORSOrigins, " "), "https://a.example https://b.example"},
		{"--web=false", c.Web == nil, true},
		{"--tls-cert", c.TLS.CertFile, "c.pem"},
		{"--tls-key", c.TLS.KeyFile, "k.pem"},
		{"--tls-client-ca", c.TLS.ClientCAFile, "ca.pem"},
		{"--tokens-file", c.Tokens != nil, true},
		{"--log-level", c.Logger.Enabled(t.Context(), -4), false}, // debug off at warn
		{"--gogc", set.gogc, 250},
		{"--memory-limit", set.memoryLimit, int64(512 << 20)},
	}
	for _, ch := range checks {
		if ch.got != ch.want {
			t.Errorf("%s: got %v, want %v", ch.flag, ch.got, ch.want)
		}
	}

	def, err := parseArgs(nil)
	if err != nil {
		t.Fatal(err)
	}
	if def.cfg.Web == nil {
		t.Error("the web client is off by default")
	}
}

// TestREADMEListsEveryFlag: the README's table of flags names every flag the
// server defines, with its default, and no flag it does not define.
func TestREADMEListsEveryFlag(t *testing.T) {
	t.Setenv("GOGC", "")
	t.Setenv("GOMEMLIMIT", "")
	data, err := os.ReadFile("../../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	_, after, ok := strings.Cut(string(data), "\n## Operating\n")
	if !ok {
		t.Fatal("no Operating section in the README")
	}
	section, _, _ := strings.Cut(after, "\n## ")
	code := regexp.MustCompile("`([^`]*)`")
	documented := map[string]string{} // flag → its default as the README gives it
	for line := range strings.SplitSeq(section, "\n") {
		cells := strings.Split(line, "|")
		if len(cells) < 4 || !strings.HasPrefix(strings.TrimSpace(cells[1]), "`--") {
			continue
		}
		var names []string
		for _, m := range code.FindAllStringSubmatch(cells[1], -1) {
			names = append(names, strings.Fields(strings.TrimPrefix(m[1], "--"))[0])
		}
		var defaults []string
		for _, m := range code.FindAllStringSubmatch(cells[2], -1) {
			if !strings.HasPrefix(m[1], "$") {
				defaults = append(defaults, m[1])
			}
		}
		for i, name := range names {
			switch {
			case len(defaults) == 0:
				documented[name] = "" // "off", or nothing
			case len(defaults) == 1:
				documented[name] = defaults[0] // "`1000000` each"
			case len(defaults) == len(names):
				documented[name] = defaults[i]
			default:
				t.Fatalf("README row %q: %d flags, %d defaults", line, len(names), len(defaults))
			}
		}
	}

	fs, _ := defineFlags()
	var defined []string
	fs.VisitAll(func(f *flag.Flag) {
		defined = append(defined, f.Name)
		want, ok := documented[f.Name]
		if !ok {
			t.Errorf("--%s is not in the README's table of flags", f.Name)
			return
		}
		if !sameDefault(f.DefValue, want) {
			t.Errorf("--%s: the README gives the default %q, the server %q", f.Name, want, f.DefValue)
		}
	})
	for name := range documented {
		if !slices.Contains(defined, name) {
			t.Errorf("the README lists --%s, which the server does not define", name)
		}
	}
}

// sameDefault compares a flag's default with the README's way of writing it:
// durations in their shortest form ("1m" for 1m0s), "off" for an empty or
// false default.
func sameDefault(def, readme string) bool {
	if def == readme || (readme == "" && (def == "" || def == "false")) {
		return true
	}
	d1, err1 := time.ParseDuration(def)
	d2, err2 := time.ParseDuration(readme)
	return err1 == nil && err2 == nil && d1 == d2
}
