package batch_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/civic-standards/coverage/clients/batch"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

var twoRules = &coveragev1.Ruleset{Id: "r", Rules: []*coveragev1.Rule{{Id: "A"}, {Id: "B"}}}

func item(i int64, id string) *coveragev1.AuditItem {
	short := 2.5
	return &coveragev1.AuditItem{Index: i, SettlementId: id, ClientRef: "in.csv:" + id, Audit: &coveragev1.AuditResponse{
		RulesetId: "r", SettlementId: id, SettlementName: "Name, with a comma\nand a line break",
		Results: []*coveragev1.RuleResult{{RuleId: "A", Status: coveragev1.Status_STATUS_NON_COMPLIANT, Shortfall: &short, ShortfallUnit: "beds"}},
	}}
}

func writeOutput(t *testing.T, path string, format batch.OutputFormat, mode batch.OpenMode, items ...*coveragev1.AuditItem) []*coveragev1.AuditItem {
	t.Helper()
	out, err := batch.OpenOutput(path, format, mode)
	if err != nil {
		t.Fatal(err)
	}
	var existing []*coveragev1.AuditItem
	if err := out.Begin(twoRules, func(it *coveragev1.AuditItem) error { existing = append(existing, it); return nil }); err != nil {
		t.Fatal(err)
	}
	for _, it := range items {
		rec, err := out.Encode(it)
		if err != nil {
			t.Fatal(err)
		}
		if err := out.Append(rec); err != nil {
			t.Fatal(err)
		}
	}
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	return existing
}

// TestOutputModes: a new output refuses an existing file, overwrite starts
// again, and resume reads back what a run wrote, in both formats.
func TestOutputModes(t *testing.T) {
	for _, format := range []batch.OutputFormat{batch.OutputJSONL, batch.OutputCSV} {
		t.Run(string(format), func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "out."+string(format))
			writeOutput(t, path, format, batch.CreateNew, item(0, "a"), item(1, "b"))
			if _, err := batch.OpenOutput(path, format, batch.CreateNew); !errors.Is(err, batch.ErrOutputExists) {
				t.Fatalf("CreateNew on an existing file: %v", err)
			}
			back := writeOutput(t, path, format, batch.Resume, item(2, "c"))
			if len(back) != 2 || back[0].GetSettlementId() != "a" || back[1].GetSettlementId() != "b" {
				t.Fatalf("resume read back %v", back)
			}
			// What a summary needs survives either format.
			r := back[1].GetAudit().GetResults()
			if len(r) != 1 || r[0].GetStatus() != coveragev1.Status_STATUS_NON_COMPLIANT || r[0].GetShortfall() != 2.5 || r[0].GetShortfallUnit() != "beds" {
				t.Errorf("read back %v", r)
			}
			if format == batch.OutputJSONL && !proto.Equal(back[0], item(0, "a")) {
				t.Errorf("JSONL read back %v", back[0])
			}
			if again := writeOutput(t, path, format, batch.Resume); len(again) != 3 {
				t.Errorf("after resuming, %d records", len(again))
			}
			if fresh := writeOutput(t, path, format, batch.Overwrite); len(fresh) != 0 {
				t.Errorf("overwrite kept %d records", len(fresh))
			}
			data, _ := os.ReadFile(path)
			if n := strings.Count(string(data), "\n"); (format == batch.OutputCSV && n != 1) || (format == batch.OutputJSONL && n != 0) {
				t.Errorf("after overwrite the file holds %d lines:\n%s", n, data)
			}
		})
	}
}

// TestOutputResumeRefusals: a file that is not a results file of this run's
// kind is never appended to.
func TestOutputResumeRefusals(t *testing.T) {
	dir := t.TempDir()
	cases := []struct {
		name, content string
		format        batch.OutputFormat
		want          string
	}{
		{"a line that is not a result", `{"index":"0","settlementId":"a"}` + "\n" + "hello\n", batch.OutputJSONL, "line 2 is not a result"},
		{"another ruleset's columns", "index,settlementId\n", batch.OutputCSV, "the columns differ"},
		{"a CSV row cut short", "", batch.OutputCSV, "columns, want"},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			path := filepath.Join(dir, c.name)
			content := c.content
			if i == 2 {
				writeOutput(t, path, batch.OutputCSV, batch.CreateNew, item(0, "a"))
				data, _ := os.ReadFile(path)
				lines := strings.SplitAfter(string(data), "\n")
				content = lines[0] + "0,a,x\n"
			}
			if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
				t.Fatal(err)
			}
			out, err := batch.OpenOutput(path, c.format, batch.Resume)
			if err != nil {
				t.Fatal(err)
			}
			defer out.Close()
			err = out.Begin(twoRules, func(*coveragev1.AuditItem) error { return nil })
			if err == nil || !strings.Contains(err.Error(), c.want) {
				t.Errorf("Begin: %v, want an error with %q", err, c.want)
			}
			after, _ := os.ReadFile(path)
			if string(after) != content {
				t.Error("the refused file was changed")
			}
		})
	}
}

func TestOutputFormatFor(t *testing.T) {
	for _, c := range []struct{ path, explicit, want string }{
		{"r.jsonl", "", "jsonl"}, {"r.CSV", "", "csv"}, {"r.txt", "", "jsonl"}, {"r.jsonl", "csv", "csv"}, {"r.csv", "ndjson", "jsonl"},
	} {
		got, err := batch.OutputFormatFor(c.path, c.explicit)
		if err != nil || string(got) != c.want {
			t.Errorf("OutputFormatFor(%q, %q) = %q, %v; want %q", c.path, c.explicit, got, err, c.want)
		}
	}
	if _, err := batch.OutputFormatFor("r.csv", "xml"); err == nil {
		t.Error("format xml accepted")
	}
}
