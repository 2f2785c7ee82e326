package cli

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// cliArgsEnv makes the test binary run the CLI (see TestMain), so that tests
// can interrupt or kill a real process mid-run.
const cliArgsEnv = "COVERAGE_CLI_TEST_ARGS"

func TestMain(m *testing.M) {
	if args := os.Getenv(cliArgsEnv); args != "" {
		var list []string
		if err := json.Unmarshal([]byte(args), &list); err != nil {
			panic(err)
		}
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
		code := Run(ctx, list, os.Stdin, os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	os.Exit(m.Run())
}

const sampleDir = "../../samples/jilin"

// runLong is run without the 10-second deadline, for whole batches.
func runLong(t *testing.T, args ...string) result {
	t.Helper()
	var out, errOut bytes.Buffer
	code := Run(t.Context(), args, strings.NewReader(""), &out, &errOut)
	return result{code, out.String(), errOut.String()}
}

func readSummary(t *testing.T, path string) *coveragev1.BatchSummary {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	s := &coveragev1.BatchSummary{}
	if err := protojson.Unmarshal(data, s); err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return s
}

func lines(t *testing.T, path string) []string {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if len(data) == 0 {
		return nil
	}
	return strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
}

// TestAuditSamples: the embedded Jilin sample audits out of the box, and its
// CSV form with geometry side files gives the same summary as its JSONL form.
func TestAuditSamples(t *testing.T) {
	addr := startServer(t)
	dir := t.TempDir()
	jsonlOut := filepath.Join(dir, "jilin.jsonl")
	r := runLong(t, "--server", addr, "audit", "--in", sampleDir+"/settlements.jsonl", "--out", jsonlOut, "--progress", "lines")
	r.want(t, ExitOK)
	settlements := lines(t, sampleDir+"/settlements.jsonl")
	if got := lines(t, jsonlOut); len(got) != len(settlements) {
		t.Fatalf("%d results for %d settlements", len(got), len(settlements))
	}
	for _, want := range []string{"Audited 154 settlements against jilin-2014", "T19-KINDERGARTEN", "Rules over the whole batch", "T18-STOP-COVERAGE-300M"} {
		if !strings.Contains(r.stdout, want) {
			t.Errorf("stdout lacks %q:\n%s", want, r.stdout)
		}
	}
	// The settlements' latency on the streams, in the shape loadkit reads.
	latency := regexp.MustCompile(`(?m)^Settlement latency, send to result \(154 answered\): p50 ([0-9.]+) ms, p95 ([0-9.]+) ms, p99 ([0-9.]+) ms, max ([0-9.]+) ms\.$`)
	if m := latency.FindStringSubmatch(r.stdout); m == nil {
		t.Errorf("stdout lacks the latency line:\n%s", r.stdout)
	} else {
		var q [4]float64
		for i := range q {
			q[i], _ = strconv.ParseFloat(m[i+1], 64)
		}
		if !(0 < q[0] && q[0] <= q[1] && q[1] <= q[2] && q[2] <= q[3]) {
			t.Errorf("latencies out of order: %q", m[0])
		}
	}
	if !strings.Contains(r.stderr, "audited 154 of 154 (100.0%)") {
		t.Errorf("no progress line on stderr:\n%s", r.stderr)
	}
	if rejects := lines(t, jsonlOut+".rejects.txt"); len(rejects) != 0 {
		t.Errorf("rejects: %q", rejects)
	}
	fromJSONL := readSummary(t, jsonlOut+".summary.json")
	if fromJSONL.GetAudited() != int64(len(settlements)) || len(fromJSONL.GetAggregates()) != 2 {
		t.Errorf("summary: %d audited, %d aggregates", fromJSONL.GetAudited(), len(fromJSONL.GetAggregates()))
	}

	csvOut := filepath.Join(dir, "jilin.csv")
	r = runLong(t, "--server", addr, "audit", "--in", sampleDir+"/settlements.csv",
		"--areas", sampleDir+"/central-areas.geojson", "--stops", sampleDir+"/bus-stops.csv", "--out", csvOut, "--progress", "none")
	r.want(t, ExitOK)
	fromCSV := readSummary(t, csvOut+".summary.json")
	if !proto.Equal(fromJSONL, fromCSV) {
		t.Errorf("the CSV input's summary differs from the JSONL input's:\n%s\n%s", protojson.Format(fromJSONL), protojson.Format(fromCSV))
	}
	rows := lines(t, csvOut)
	if len(rows) != len(settlements)+1 || !strings.HasPrefix(rows[0], "index,settlementId,settlementName,source,") {
		t.Fatalf("CSV output: %d rows, header %.80q", len(rows), rows[0])
	}
	var changchun string
	for _, row := range rows {
		if strings.HasPrefix(row, "0,changchun,") {
			changchun = row
		}
	}
	if !strings.Contains(changchun, "NON_COMPLIANT,0.79") {
		t.Errorf("Changchun's row lacks its measured stop coverage: %.300s", changchun)
	}
}

// TestAuditRejects: bad records are listed with file, line and reason, the
// good ones are audited, and the exit status says some were rejected.
func TestAuditRejects(t *testing.T) {
	addr := startServer(t)
	in := writeFile(t, "towns.jsonl", strings.Join([]string{
		`{"id":"a","kind":"SETTLEMENT_KIND_TOWN","residentPopulation":20000,"elderlyPopulation":3000,"elderlyCareBeds":50}`,
		`{"id":"b","kind":"SETTLEMENT_KIND_TOWN","residentPopulation":20000,"elderlyPopulation":30000}`,
		`{"id":"c","kind":"SETTLEMENT_KIND_TOWN",`,
		``,
		`{"kind":"SETTLEMENT_KIND_TOWN"}`,
		`{"id":"a","kind":"SETTLEMENT_KIND_TOWN"}`,
		`{"id":"d","kind":"SETTLEMENT_KIND_TOWN","residentPopulation":9000}`,
	}, "\n")+"\n")
	out := filepath.Join(t.TempDir(), "out.jsonl")
	r := runLong(t, "--server", addr, "audit", "--in", in, "--out", out, "--progress", "none")
	r.want(t, ExitInvalidData)
	rejects := lines(t, out+".rejects.txt")
	want := []string{
		in + ":2: b: invalid argument: settlement.elderlyPopulation",
		in + ":3: ",
		in + ":5: id: required",
		in + ":6: a: id: duplicate settlement ID (first at " + in + ":1)",
	}
	if len(rejects) != len(want) {
		t.Fatalf("rejects:\n%s", strings.Join(rejects, "\n"))
	}
	for i, w := range want {
		if !strings.HasPrefix(rejects[i], w) {
			t.Errorf("reject %d: %q, want it to start %q", i, rejects[i], w)
		}
	}
	results := lines(t, out)
	if len(results) != 3 {
		t.Fatalf("%d results, want a, b (its error) and d", len(results))
	}
	if !strings.Contains(r.stderr, "4 records could not be audited") {
		t.Errorf("stderr: %s", r.stderr)
	}
	s := readSummary(t, out+".summary.json")
	if s.GetSettlements() != 6 || s.GetAudited() != 2 || s.GetRejected() != 4 {
		t.Errorf("summary totals %d/%d/%d, want 6 read, 2 audited, 4 rejected", s.GetSettlements(), s.GetAudited(), s.GetRejected())
	}
}

func TestAuditUsage(t *testing.T) {
	addr := startServer(t)
	in := writeFile(t, "t.jsonl", townSettlement+"\n")
	existing := writeFile(t, "done.jsonl", "")
	dir := t.TempDir()
	cases := []struct {
		name string
		args []string
		code int
		want string
	}{
		{"no input", []string{"audit", "--out", filepath.Join(dir, "a")}, ExitUsage, "--in is required"},
		{"no output", []string{"audit", "--in", in}, ExitUsage, "--out is required"},
		{"missing input", []string{"audit", "--in", filepath.Join(dir, "nope.jsonl"), "--out", filepath.Join(dir, "b")}, ExitUsage, "no such file"},
		{"unknown extension", []string{"audit", "--in", writeFile(t, "t.txt", "x"), "--out", filepath.Join(dir, "c")}, ExitUsage, "cannot tell the input format"},
		{"output exists", []string{"audit", "--in", in, "--out", existing}, ExitUsage, "--resume"},
		{"resume and overwrite", []string{"audit", "--in", in, "--out", filepath.Join(dir, "d"), "--resume", "--overwrite"}, ExitUsage, "exclude each other"},
		{"bad crs", []string{"audit", "--in", in, "--out", filepath.Join(dir, "e"), "--stops", in, "--stops-crs", "MARS"}, ExitUsage, "unknown coordinate system"},
		{"bad progress", []string{"audit", "--in", in, "--out", filepath.Join(dir, "f"), "--progress", "loud"}, ExitUsage, "--progress"},
		{"bad format", []string{"audit", "--in", in, "--out", filepath.Join(dir, "g"), "--format", "xml"}, ExitUsage, "want jsonl or csv"},
		{"unknown ruleset", []string{"audit", "--in", in, "--out", filepath.Join(dir, "h"), "--ruleset", "nowhere-2099"}, ExitFailure, "nowhere-2099"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := run(t, "", append([]string{"--server", addr}, c.args...)...)
			r.want(t, c.code)
			if !strings.Contains(r.stderr, c.want) {
				t.Errorf("stderr %q lacks %q", r.stderr, c.want)
			}
		})
	}
}

func TestAuditUnreachable(t *testing.T) {
	in := writeFile(t, "t.jsonl", townSettlement+"\n")
	r := run(t, "", "--server", "127.0.0.1:1", "--timeout", "2s", "audit", "--in", in, "--out", filepath.Join(t.TempDir(), "o.jsonl"))
	r.want(t, ExitFailure)
	if !strings.Contains(r.stderr, "Unavailable") {
		t.Errorf("stderr: %s", r.stderr)
	}
}

// writeTowns writes n towns as JSONL.
func writeTowns(t *testing.T, n int) string {
	t.Helper()
	var b strings.Builder
	for i := range n {
		fmt.Fprintf(&b, `{"id":"town-%05d","kind":"SETTLEMENT_KIND_TOWN","residentPopulation":%d,"elderlyPopulation":%d,"elderlyCareBeds":%d,"facilities":{"standardKindergartens":%d}}`+"\n",
			i, 8000+i%40000, 1500+i%5000, i%300, i%3)
	}
	return writeFile(t, "towns.jsonl", b.String())
}

// startCLI runs the CLI in a child process.
func startCLI(t *testing.T, args ...string) (*exec.Cmd, *bytes.Buffer) {
	t.Helper()
	list, err := json.Marshal(args)
	if err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^$")
	cmd.Env = append(os.Environ(), cliArgsEnv+"="+string(list))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	return cmd, &stderr
}

// waitForLines waits until path holds at least n lines.
func waitForLines(t *testing.T, path string, n int) {
	t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); time.Sleep(5 * time.Millisecond) {
		f, err := os.Open(path)
		if err != nil {
			continue
		}
		count := 0
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			count++
		}
		f.Close()
		if count >= n {
			return
		}
	}
	t.Fatalf("%s did not reach %d lines", path, n)
}

// TestAuditResume: a run interrupted with SIGINT, and another killed with
// SIGKILL, each resumed with --resume, end with the output, rejects and
// summary of a run that was never stopped.
func TestAuditResume(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the CLI in child processes")
	}
	addr := startServer(t)
	in := writeTowns(t, 4000)
	dir := t.TempDir()
	whole := filepath.Join(dir, "whole.jsonl")
	runLong(t, "--server", addr, "audit", "--in", in, "--out", whole, "--progress", "none").want(t, ExitOK)

	for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGKILL} {
		t.Run(sig.String(), func(t *testing.T) {
			out := filepath.Join(dir, fmt.Sprintf("parts-%d.jsonl", sig))
			// One stream with one settlement in flight keeps the run slow
			// enough to be caught in the middle.
			cmd, stderr := startCLI(t, "--server", addr, "audit", "--in", in, "--out", out, "--streams", "1", "--window", "1", "--progress", "none")
			waitForLines(t, out, 300)
			if err := cmd.Process.Signal(sig); err != nil {
				t.Fatal(err)
			}
			err := cmd.Wait()
			code := cmd.ProcessState.ExitCode()
			if sig == syscall.SIGINT && code != ExitInterrupted {
				t.Fatalf("interrupted run: exit %d (%v), want %d\n%s", code, err, ExitInterrupted, stderr)
			}
			if sig == syscall.SIGINT && !strings.Contains(stderr.String(), "--resume") {
				t.Errorf("the interrupted run does not say how to continue:\n%s", stderr)
			}
			done := len(lines(t, out))
			if done >= 4000 {
				t.Fatalf("the run finished before it could be stopped (%d lines)", done)
			}
			r := runLong(t, "--server", addr, "audit", "--in", in, "--out", out, "--resume", "--progress", "none")
			r.want(t, ExitOK)
			if !strings.Contains(r.stdout, "by an earlier, interrupted run") {
				t.Errorf("the resumed run does not say it resumed:\n%s", r.stdout)
			}
			for _, suffix := range []string{"", ".rejects.txt"} {
				a, _ := os.ReadFile(whole + suffix)
				b, _ := os.ReadFile(out + suffix)
				if !bytes.Equal(a, b) {
					t.Errorf("%s%s differs from the uninterrupted run's (%d and %d bytes)", out, suffix, len(b), len(a))
				}
			}
			if a, b := readSummary(t, whole+".summary.json"), readSummary(t, out+".summary.json"); !proto.Equal(a, b) {
				t.Errorf("the resumed summary differs:\n%s\n%s", protojson.Format(a), protojson.Format(b))
			}
			t.Logf("%s after %d of 4000 results; resumed to the same output", sig, done)
		})
	}
}

// TestSamplesCommand: the embedded set is listed, written out, and what is
// written out is the repository's sample, ready to audit.
func TestSamplesCommand(t *testing.T) {
	r := run(t, "", "samples")
	r.want(t, ExitOK)
	if !strings.Contains(r.stdout, "jilin\n") || !strings.Contains(r.stdout, "settlements.jsonl") {
		t.Errorf("listing:\n%s", r.stdout)
	}
	dir := filepath.Join(t.TempDir(), "jilin")
	run(t, "", "samples", "jilin", "--dir", dir).want(t, ExitOK)
	for _, name := range []string{"settlements.jsonl", "settlements.csv", "central-areas.geojson", "bus-stops.csv", "README.md"} {
		a, err := os.ReadFile(filepath.Join(sampleDir, name))
		if err != nil {
			t.Fatal(err)
		}
		b, err := os.ReadFile(filepath.Join(dir, name))
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(a, b) {
			t.Errorf("%s differs from the repository's", name)
		}
	}
	run(t, "", "samples", "atlantis", "--dir", dir).want(t, ExitUsage)
	run(t, "", "samples", "jilin").want(t, ExitUsage)
	run(t, "", "samples", "..", "--dir", dir).want(t, ExitUsage)
}

// TestREADMEAuditTable: the table the README shows for the sample is what
// `coverage audit` prints for it, line for line.
func TestREADMEAuditTable(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	const open = "```\nAudited 154 settlements"
	i := strings.Index(string(readme), open)
	if i < 0 {
		t.Fatal("the README shows no audit of the sample")
	}
	block := string(readme)[i+4:]
	block = block[:strings.Index(block, "```")]
	addr := startServer(t)
	out := filepath.Join(t.TempDir(), "results.jsonl")
	r := runLong(t, "--server", addr, "audit", "--in", sampleDir+"/settlements.jsonl", "--out", out, "--progress", "none")
	r.want(t, ExitOK)
	// The first two lines hold the run's time and paths.
	tail := func(s string) string { return s[strings.Index(s, "\n\n"):] }
	if got, want := tail(r.stdout), tail(block); got != want {
		t.Errorf("the README's table differs from the command's output:\n--- README\n%s\n--- output\n%s", want, got)
	}
}

// TestAuditFullView: --view full keeps each rule's citation in the results.
func TestAuditFullView(t *testing.T) {
	addr := startServer(t)
	in := writeFile(t, "t.jsonl", townSettlement+"\n")
	dir := t.TempDir()
	for view, wantCitation := range map[string]bool{"basic": false, "full": true} {
		out := filepath.Join(dir, view+".jsonl")
		run(t, "", "--server", addr, "audit", "--in", in, "--out", out, "--view", view, "--progress", "none").want(t, ExitOK)
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		if got := strings.Contains(string(data), `"citation"`); got != wantCitation {
			t.Errorf("--view %s: citation in the results %v, want %v", view, got, wantCitation)
		}
	}
	run(t, "", "--server", addr, "audit", "--in", in, "--out", filepath.Join(dir, "x.jsonl"), "--view", "most").want(t, ExitUsage)
}

// TestAuditProgressBar: the bar (chosen on a terminal, or with --progress
// bar) shows done/total and the rate.
func TestAuditProgressBar(t *testing.T) {
	addr := startServer(t)
	out := filepath.Join(t.TempDir(), "o.jsonl")
	r := runLong(t, "--server", addr, "audit", "--in", writeTowns(t, 300), "--out", out, "--progress", "bar")
	r.want(t, ExitOK)
	for _, want := range []string{"auditing", "100%", "300/300", "settlements/s"} {
		if !strings.Contains(r.stderr, want) {
			t.Errorf("the progress bar lacks %q:\n%q", want, r.stderr)
		}
	}
}
