package cli

import (
	"bytes"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/civic-standards/coverage/server"
	"github.com/civic-standards/coverage/server/servertest"
)

// startServer runs the real coverage server on loopback until the test ends
// and returns its gRPC address.
func startServer(t *testing.T) string {
	t.Helper()
	return servertest.Start(t, server.Config{}).GRPCAddr()
}

type result struct {
	code           int
	stdout, stderr string
}

// run runs the CLI with args, feeding it stdin.
func run(t *testing.T, stdin string, args ...string) result {
	t.Helper()
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	defer cancel()
	var out, errOut bytes.Buffer
	code := Run(ctx, args, strings.NewReader(stdin), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

func (r result) want(t *testing.T, code int) {
	t.Helper()
	if r.code != code {
		t.Fatalf("exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", r.code, code, r.stdout, r.stderr)
	}
}

const townSettlement = `{"id":"t1","kind":"SETTLEMENT_KIND_TOWN","elderlyPopulation":12000,"elderlyCareBeds":300}`

func writeFile(t *testing.T, name, data string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(data), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// auditSettlement is the "settlement" member of examples/city-audit.json:
// the CLI takes the settlement object, not the whole request body.
func auditSettlement(t *testing.T) string {
	t.Helper()
	data, err := os.ReadFile("../../examples/city-audit.json")
	if err != nil {
		t.Fatal(err)
	}
	var body struct {
		Settlement json.RawMessage `json:"settlement"`
	}
	if err := json.Unmarshal(data, &body); err != nil {
		t.Fatal(err)
	}
	if len(body.Settlement) == 0 {
		t.Fatal("examples/city-audit.json has no settlement member")
	}
	return string(body.Settlement)
}

// tableRow returns the first line of a table that starts with the given
// first column, split into its columns.
func tableRow(table, first string) []string {
	for line := range strings.Lines(table) {
		if f := strings.Fields(line); len(f) > 0 && f[0] == first {
			return f
		}
	}
	return nil
}

func TestAgainstServer(t *testing.T) {
	addr := startServer(t)
	srv := []string{"--server", addr}
	args := func(a ...string) []string { return append(append([]string{}, srv...), a...) }

	t.Run("rulesets", func(t *testing.T) {
		r := run(t, "", args("rulesets")...)
		r.want(t, ExitOK)
		if !strings.HasPrefix(r.stdout, "ID ") {
			t.Errorf("table has no header:\n%s", r.stdout)
		}
		row := tableRow(r.stdout, "jilin-2014")
		if row == nil {
			t.Fatalf("table has no jilin-2014 row:\n%s", r.stdout)
		}
		if !strings.Contains(strings.Join(row, " "), " 21 yes ") {
			t.Errorf("jilin-2014 row = %q, want 21 rules and marked default", row)
		}
	})

	t.Run("rulesets ID", func(t *testing.T) {
		r := run(t, "", args("rulesets", "jilin-2014")...)
		r.want(t, ExitOK)
		if !strings.HasPrefix(r.stdout, "jilin-2014 ") {
			t.Errorf("output does not start with the ruleset ID:\n%s", r.stdout)
		}
		for _, id := range []string{"T19-ELDERLY-BEDS", "T19-COUNTY-GENERAL-HOSPITAL"} {
			if tableRow(r.stdout, id) == nil {
				t.Errorf("rule %s not listed:\n%s", id, r.stdout)
			}
		}
	})

	t.Run("rulesets unknown ID", func(t *testing.T) {
		r := run(t, "", args("rulesets", "no-such-ruleset")...)
		r.want(t, ExitFailure)
		if !strings.Contains(r.stderr, "NotFound") {
			t.Errorf("stderr = %q, want the NotFound code", r.stderr)
		}
	})

	t.Run("rulesets -o json", func(t *testing.T) {
		r := run(t, "", append([]string{"-o", "json"}, args("rulesets")...)...)
		r.want(t, ExitOK)
		var got struct {
			Rulesets []struct {
				ID    string `json:"id"`
				Rules []any  `json:"rules"`
			} `json:"rulesets"`
			DefaultRulesetID string `json:"defaultRulesetId"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, r.stdout)
		}
		if got.DefaultRulesetID != "jilin-2014" || len(got.Rulesets) == 0 {
			t.Errorf("JSON = %+v, want rulesets with default jilin-2014", got)
		}
	})

	t.Run("rulesets ID -o json", func(t *testing.T) {
		r := run(t, "", args("rulesets", "jilin-2014", "--output=json")...)
		r.want(t, ExitOK)
		var got struct {
			Ruleset struct {
				ID    string `json:"id"`
				Rules []any  `json:"rules"`
			} `json:"ruleset"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, r.stdout)
		}
		if got.Ruleset.ID != "jilin-2014" || len(got.Ruleset.Rules) != 21 {
			t.Errorf("ruleset %q with %d rules, want jilin-2014 with 21", got.Ruleset.ID, len(got.Ruleset.Rules))
		}
	})

	checkElderly := func(t *testing.T, r result) {
		t.Helper()
		r.want(t, ExitOK)
		if !strings.HasPrefix(r.stdout, "RULE ") {
			t.Errorf("table has no header:\n%s", r.stdout)
		}
		row := tableRow(r.stdout, "T19-ELDERLY-BEDS")
		if len(row) < 6 {
			t.Fatalf("no T19-ELDERLY-BEDS row:\n%s", r.stdout)
		}
		// RULE STATUS VALUE THRESHOLD SHORTFALL(unit) ...
		if row[1] != "NON_COMPLIANT" || row[2] != "25" || row[4] != "132" || row[5] != "beds" {
			t.Errorf("row = %q, want NON_COMPLIANT, value 25, shortfall 132 beds", row)
		}
	}

	t.Run("check file", func(t *testing.T) {
		file := writeFile(t, "town.json", townSettlement)
		checkElderly(t, run(t, "", args("check", "elderly-care", "--settlement", file)...))
	})

	t.Run("check stdin", func(t *testing.T) {
		checkElderly(t, run(t, townSettlement, args("check", "elderly-care", "--settlement", "-")...))
	})

	t.Run("check stdin by default", func(t *testing.T) {
		checkElderly(t, run(t, townSettlement, args("check", "elderly-care")...))
	})

	t.Run("check all -o json", func(t *testing.T) {
		file := writeFile(t, "city.json", auditSettlement(t))
		r := run(t, "", args("check", "all", "-o", "json", "--settlement", file)...)
		r.want(t, ExitOK)
		var got struct {
			RulesetID    string `json:"rulesetId"`
			SettlementID string `json:"settlementId"`
			Results      []struct {
				RuleID string `json:"ruleId"`
				Status string `json:"status"`
			} `json:"results"`
		}
		if err := json.Unmarshal([]byte(r.stdout), &got); err != nil {
			t.Fatalf("output is not JSON: %v\n%s", err, r.stdout)
		}
		if len(got.Results) != 21 {
			t.Errorf("%d results, want 21", len(got.Results))
		}
		if got.RulesetID != "jilin-2014" || got.SettlementID != "220300" {
			t.Errorf("ruleset %q, settlement %q; want jilin-2014, 220300", got.RulesetID, got.SettlementID)
		}
		for _, res := range got.Results {
			if res.RuleID == "" || !strings.HasPrefix(res.Status, "STATUS_") {
				t.Errorf("result %+v lacks a rule ID or status", res)
			}
		}
	})

	t.Run("check every standard", func(t *testing.T) {
		settlement := auditSettlement(t)
		for _, name := range standardNames() {
			if name == "bus-stop-coverage" {
				continue // needs a central area and stops, which the audit example lacks
			}
			r := run(t, settlement, args("check", name)...)
			if r.code != ExitOK || !strings.HasPrefix(r.stdout, "RULE ") || strings.Count(r.stdout, "\n") < 2 {
				t.Errorf("check %s: exit %d\nstdout:\n%s\nstderr:\n%s", name, r.code, r.stdout, r.stderr)
			}
		}
	})

	t.Run("check bus-stop-coverage", func(t *testing.T) {
		data, err := os.ReadFile("../../examples/muroran-bus-stop-coverage.json")
		if err != nil {
			t.Fatal(err)
		}
		var body struct {
			Settlement json.RawMessage `json:"settlement"`
		}
		if err := json.Unmarshal(data, &body); err != nil {
			t.Fatal(err)
		}
		r := run(t, string(body.Settlement), args("check", "bus-stop-coverage")...)
		r.want(t, ExitOK)
		if !strings.HasPrefix(r.stdout, "RULE ") || strings.Count(r.stdout, "\n") != 2 {
			t.Errorf("want a header and one result row:\n%s", r.stdout)
		}
	})

	t.Run("invalid settlement", func(t *testing.T) {
		bad := `{"id":"t1","kind":"SETTLEMENT_KIND_TOWN","elderlyPopulation":-5,"elderlyCareBeds":300}`
		r := run(t, bad, args("check", "elderly-care")...)
		r.want(t, ExitInvalidData)
		if !strings.Contains(r.stderr, "settlement.elderlyPopulation") {
			t.Errorf("stderr does not name the bad field:\n%s", r.stderr)
		}
		if r.stdout != "" {
			t.Errorf("stdout = %q, want nothing", r.stdout)
		}
	})

	t.Run("malformed settlement", func(t *testing.T) {
		for name, data := range map[string]string{
			"not JSON":                             `{"id":`,
			"unknown field":                        `{"id":"t1","elderlyPopulaton":12000}`,
			"unknown field in a request":           `{"settlement":{"id":"t1","elderlyPopulaton":12000}}`,
			"a request's settlement not an object": `{"settlement":[1]}`,
		} {
			r := run(t, data, args("check", "elderly-care")...)
			if r.code != ExitUsage || !strings.Contains(r.stderr, "settlement") {
				t.Errorf("%s: exit %d, stderr %q; want %d and a message about the settlement", name, r.code, r.stderr, ExitUsage)
			}
		}
	})

	t.Run("a request body as the settlement", func(t *testing.T) {
		whole := run(t, `{"rulesetId":"jilin-2014","settlement":`+townSettlement+`}`, args("check", "elderly-care")...)
		whole.want(t, ExitOK)
		bare := run(t, townSettlement, args("check", "elderly-care")...)
		if whole.stdout != bare.stdout {
			t.Errorf("a request body and its bare settlement answer differently:\n%s\n%s", whole.stdout, bare.stdout)
		}
		// The file's rulesetId is used: an unknown one is the server's refusal.
		run(t, `{"rulesetId":"nowhere","settlement":`+townSettlement+`}`, args("check", "elderly-care")...).want(t, ExitInvalidData)
	})

	t.Run("missing settlement file", func(t *testing.T) {
		r := run(t, "", args("check", "elderly-care", "--settlement", filepath.Join(t.TempDir(), "none.json"))...)
		if r.code != ExitUsage || !strings.Contains(r.stderr, "read settlement") {
			t.Errorf("exit %d, stderr %q; want a failure naming the file", r.code, r.stderr)
		}
	})
}

func TestUsageErrors(t *testing.T) {
	// None of these reach a server: the address is never dialled.
	for _, tc := range []struct {
		name string
		args []string
		want string // in stderr
	}{
		{"unknown standard", []string{"check", "nope"}, `unknown standard "nope"`},
		{"no standard", []string{"check"}, "accepts 1 arg"},
		{"two standards", []string{"check", "parking", "transit"}, "accepts 1 arg"},
		{"two ruleset IDs", []string{"rulesets", "a", "b"}, "accepts at most 1 arg"},
		{"unknown flag", []string{"rulesets", "--bogus"}, "unknown flag"},
		{"unknown command", []string{"frobnicate"}, "unknown command"},
		{"bad output format", []string{"-o", "yaml", "rulesets"}, "--output must be table or json"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, townSettlement, append([]string{"--server", "127.0.0.1:1"}, tc.args...)...)
			r.want(t, ExitUsage)
			if !strings.Contains(r.stderr, tc.want) {
				t.Errorf("stderr = %q, want it to contain %q", r.stderr, tc.want)
			}
		})
	}
}

// TestFlagParseErrors covers flag errors that cobra words differently from
// "unknown flag"; Run classifies errors by their text.
func TestFlagParseErrors(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
	}{
		{"unknown shorthand flag", []string{"rulesets", "-x"}},
		{"bad duration", []string{"--timeout", "soon", "rulesets"}},
		{"flag without value", []string{"rulesets", "--server"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := run(t, "", tc.args...)
			r.want(t, ExitUsage)
		})
	}
}

func TestUnreachableServer(t *testing.T) {
	start := time.Now()
	r := run(t, townSettlement, "--server", "127.0.0.1:1", "--timeout", "2s", "check", "elderly-care")
	r.want(t, ExitFailure)
	if elapsed := time.Since(start); elapsed > 4*time.Second {
		t.Errorf("took %v with --timeout 2s", elapsed)
	}
	if !strings.HasPrefix(r.stderr, "coverage: ") || r.stdout != "" {
		t.Errorf("stdout %q, stderr %q; want only an error on stderr", r.stdout, r.stderr)
	}

	r = run(t, "", "--server", "127.0.0.1:1", "--timeout", "2s", "rulesets")
	r.want(t, ExitFailure)
}

func TestHelp(t *testing.T) {
	// The standard names are in check's short description, which the root
	// help lists (check --help shows the long description, without them).
	r := run(t, "", "--help")
	r.want(t, ExitOK)
	for _, name := range []string{"all", "elderly-care", "health-facilities", "parking", "transit", "bus-stop-coverage"} {
		if !strings.Contains(r.stdout, name) {
			t.Errorf("--help does not mention %s:\n%s", name, r.stdout)
		}
	}
	r = run(t, "", "check", "--help")
	r.want(t, ExitOK)
	if !strings.Contains(r.stdout, "--settlement") {
		t.Errorf("check --help does not document --settlement:\n%s", r.stdout)
	}
}
