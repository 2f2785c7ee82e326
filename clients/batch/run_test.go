package batch_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/civic-standards/coverage/clients/batch"
	"github.com/civic-standards/coverage/clients/client"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
	"github.com/civic-standards/coverage/server"
	"github.com/civic-standards/coverage/server/servertest"
)

// town is a town whose verdicts vary with i: beds, kindergartens and clinics
// differ from one to the next, and some lack data.
func town(i int) *coveragev1.Settlement {
	s := &coveragev1.Settlement{
		Id:                 fmt.Sprintf("town-%05d", i),
		Name:               fmt.Sprintf("Town %d", i),
		Kind:               coveragev1.SettlementKind_SETTLEMENT_KIND_TOWN,
		ResidentPopulation: proto.Int64(int64(5000 + 37*i%60000)),
		ElderlyPopulation:  proto.Int64(int64(900 + 11*i%9000)),
		ElderlyCareBeds:    proto.Int64(int64(13 * i % 400)),
		Facilities: &coveragev1.FacilityCounts{
			TownshipHealthCentres:   proto.Int64(1),
			CommunityHealthStations: proto.Int64(int64(i % 2)),
			CommunityHealthCentres:  proto.Int64(int64(i % 3)),
			StandardKindergartens:   proto.Int64(int64(i % 5 / 2)),
		},
	}
	if i%7 == 3 {
		s.ElderlyCareBeds = nil
	}
	return s
}

func county(i int, balanced bool) *coveragev1.Settlement {
	return &coveragev1.Settlement{
		Id:                          fmt.Sprintf("county-%03d", i),
		Name:                        fmt.Sprintf("County %d", i),
		Kind:                        coveragev1.SettlementKind_SETTLEMENT_KIND_COUNTY,
		UrbanPopulation:             proto.Int64(120000),
		ResidentPopulation:          proto.Int64(300000),
		CompulsoryEducationBalanced: proto.Bool(balanced),
	}
}

// writeJSONL writes settlements as a JSONL input file; a nil settlement
// becomes the raw line given in bad.
func writeJSONL(t *testing.T, path string, settlements []*coveragev1.Settlement, bad map[int]string) {
	t.Helper()
	var b bytes.Buffer
	for i, s := range settlements {
		if line, ok := bad[i]; ok {
			b.WriteString(line + "\n")
			continue
		}
		data, err := protojson.Marshal(s)
		if err != nil {
			t.Fatal(err)
		}
		b.Write(data)
		b.WriteByte('\n')
	}
	if err := os.WriteFile(path, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
}

func dial(t *testing.T, target string) *client.Client {
	t.Helper()
	c, err := client.Dial(target)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.Close() })
	return c
}

type run struct {
	out, rejects string
	report       *batch.Report
	err          error
}

// audit runs a batch into dir/name, stopping (as Ctrl-C would) once stopAt
// records are done, when stopAt > 0.
func audit(t *testing.T, c *client.Client, inputs []batch.Input, dir, name string, format batch.OutputFormat, mode batch.OpenMode, stopAt int64) run {
	t.Helper()
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	r := run{out: filepath.Join(dir, name), rejects: filepath.Join(dir, name+".rejects.txt")}
	out, err := batch.OpenOutput(r.out, format, mode)
	if err != nil {
		t.Fatal(err)
	}
	rejects, err := os.Create(r.rejects)
	if err != nil {
		t.Fatal(err)
	}
	cfg := batch.Config{Client: c, Streams: 3, Window: 8}
	if stopAt > 0 {
		cfg.Progress = func(p batch.Progress) {
			if p.Done >= stopAt {
				cancel()
			}
		}
	}
	r.report, r.err = batch.Run(ctx, cfg, inputs, nil, out, rejects)
	if err := out.Close(); err != nil {
		t.Fatal(err)
	}
	if err := rejects.Close(); err != nil {
		t.Fatal(err)
	}
	return r
}

func readItems(t *testing.T, path string) []*coveragev1.AuditItem {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var items []*coveragev1.AuditItem
	for line := range strings.SplitSeq(strings.TrimSuffix(string(data), "\n"), "\n") {
		if line == "" {
			continue
		}
		item := &coveragev1.AuditItem{}
		if err := protojson.Unmarshal([]byte(line), item); err != nil {
			t.Fatalf("%s: %v", path, err)
		}
		items = append(items, item)
	}
	return items
}

// TestRunMatchesServer: every settlement comes back once, in input order,
// with the audit the server gives it alone; bad records are listed with
// file, line and reason; and the run's summary equals the server's own
// summary of the same settlements.
func TestRunMatchesServer(t *testing.T) {
	c := dial(t, servertest.Start(t, server.Config{}).GRPCAddr())
	dir := t.TempDir()
	var settlements []*coveragev1.Settlement
	for i := range 300 {
		settlements = append(settlements, town(i))
	}
	for i := range 12 {
		settlements = append(settlements, county(i, i != 5))
	}
	settlements[40].ElderlyPopulation = proto.Int64(-3)  // the server rejects it
	settlements[41].ResidentPopulation = proto.Int64(10) // smaller than its elderly
	bad := map[int]string{7: `{"id": "town-broken", "kind": 7`, 8: `{"id":"town-x","residentPopulaton":5}`, 9: protoLine(t, settlements[3])}
	path := filepath.Join(dir, "towns.jsonl")
	writeJSONL(t, path, settlements, bad)

	r := audit(t, c, []batch.Input{{Path: path, Format: batch.FormatJSONL}}, dir, "out.jsonl", batch.OutputJSONL, batch.CreateNew, 0)
	if r.err != nil {
		t.Fatal(r.err)
	}
	items := readItems(t, r.out)
	var want []*coveragev1.Settlement
	for i, s := range settlements {
		if _, isBad := bad[i]; !isBad {
			want = append(want, s)
		}
	}
	if len(items) != len(want) {
		t.Fatalf("%d results for %d good settlements", len(items), len(want))
	}
	resp, err := c.AuditBatch(t.Context(), &coveragev1.AuditBatchRequest{Settlements: want, View: coveragev1.ResultView_RESULT_VIEW_BASIC})
	if err != nil {
		t.Fatal(err)
	}
	for i, item := range items {
		ref := resp.GetResults()[i]
		if item.GetSettlementId() != want[i].GetId() {
			t.Fatalf("result %d is %q, want %q (input order)", i, item.GetSettlementId(), want[i].GetId())
		}
		if !proto.Equal(item.GetAudit(), ref.GetAudit()) || !proto.Equal(item.GetError(), ref.GetError()) {
			t.Errorf("%s: the batch result differs from the server's:\n%v", item.GetSettlementId(), diffProto(ref, item))
		}
		if !strings.HasPrefix(item.GetClientRef(), path+":") {
			t.Errorf("%s: client ref %q", item.GetSettlementId(), item.GetClientRef())
		}
	}
	rejects, err := os.ReadFile(r.rejects)
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSuffix(string(rejects), "\n"), "\n")
	wantPrefixes := []string{path + ":8: ", path + ":9: ", path + ":10: town-00003: id: duplicate settlement ID (first at " + path + ":4)",
		path + ":41: town-00040: invalid argument: settlement.elderlyPopulation", path + ":42: town-00041: "}
	if len(lines) != len(wantPrefixes) {
		t.Fatalf("rejects:\n%s\nwant %d lines", rejects, len(wantPrefixes))
	}
	for i, p := range wantPrefixes {
		if !strings.HasPrefix(lines[i], p) {
			t.Errorf("reject %d: %q, want it to start %q", i, lines[i], p)
		}
	}
	if !strings.Contains(lines[1], "residentPopulaton") {
		t.Errorf("the reject of a misspelt field does not name it: %q", lines[1])
	}
	// The server's summary counts only what it was sent; the run's also
	// counts the records it could not read.
	sum, ref := r.report.Summary, resp.GetSummary()
	if sum.GetSettlements() != ref.GetSettlements()+3 || sum.GetRejected() != ref.GetRejected()+3 || sum.GetAudited() != ref.GetAudited() {
		t.Errorf("totals %d/%d/%d, server's %d/%d/%d plus 3 unreadable", sum.GetSettlements(), sum.GetAudited(), sum.GetRejected(),
			ref.GetSettlements(), ref.GetAudited(), ref.GetRejected())
	}
	if diff := diffProto(&coveragev1.BatchSummary{Rules: ref.GetRules()}, &coveragev1.BatchSummary{Rules: sum.GetRules()}); diff != "" {
		t.Errorf("per-rule summary differs from the server's:\n%s", diff)
	}
	if diff := diffProto(&coveragev1.BatchSummary{Aggregates: ref.GetAggregates()}, &coveragev1.BatchSummary{Aggregates: sum.GetAggregates()}); diff != "" {
		t.Errorf("aggregates differ from the server's:\n%s", diff)
	}
	if r.report.Rejects != 5 || r.report.Written != int64(len(want)) {
		t.Errorf("report: %d rejects, %d written", r.report.Rejects, r.report.Written)
	}
}

func protoLine(t *testing.T, s *coveragev1.Settlement) string {
	t.Helper()
	data, err := protojson.Marshal(s)
	if err != nil {
		t.Fatal(err)
	}
	return string(data)
}

// TestResumeEqualsUninterrupted: a run stopped part-way, even with a partial
// last line (a crash mid-write), and resumed gives byte for byte the output,
// rejects and summary of a run that was never stopped, in both formats.
func TestResumeEqualsUninterrupted(t *testing.T) {
	c := dial(t, servertest.Start(t, server.Config{}).GRPCAddr())
	dir := t.TempDir()
	var settlements []*coveragev1.Settlement
	for i := range 600 {
		settlements = append(settlements, town(i))
	}
	settlements[100].ElderlyPopulation = proto.Int64(-1)
	settlements[500].ElderlyPopulation = proto.Int64(-1)
	bad := map[int]string{50: "not json", 450: protoLine(t, settlements[10])}
	path := filepath.Join(dir, "towns.jsonl")
	writeJSONL(t, path, settlements, bad)
	inputs := []batch.Input{{Path: path, Format: batch.FormatJSONL}}

	for _, format := range []batch.OutputFormat{batch.OutputJSONL, batch.OutputCSV} {
		t.Run(string(format), func(t *testing.T) {
			whole := audit(t, c, inputs, dir, "whole."+string(format), format, batch.CreateNew, 0)
			if whole.err != nil {
				t.Fatal(whole.err)
			}
			for _, stop := range []int64{1, 230, 599} {
				name := fmt.Sprintf("parts-%d.%s", stop, format)
				first := audit(t, c, inputs, dir, name, format, batch.CreateNew, stop)
				if !errors.Is(first.err, context.Canceled) {
					t.Fatalf("stopped run: %v", first.err)
				}
				// A crash in the middle of a write leaves part of a line.
				f, err := os.OpenFile(first.out, os.O_APPEND|os.O_WRONLY, 0)
				if err != nil {
					t.Fatal(err)
				}
				if _, err := f.WriteString(`{"index":"99","settlementId":"town-0`); err != nil {
					t.Fatal(err)
				}
				f.Close()
				second := audit(t, c, inputs, dir, name, format, batch.Resume, 0)
				if second.err != nil {
					t.Fatal(second.err)
				}
				if second.report.Resumed == 0 && first.report.Written > 0 {
					t.Errorf("stop at %d: the resumed run found nothing done", stop)
				}
				if second.report.Resumed+second.report.Written != whole.report.Written {
					t.Errorf("stop at %d: %d resumed + %d written, want %d", stop, second.report.Resumed, second.report.Written, whole.report.Written)
				}
				for _, file := range [][2]string{{whole.out, second.out}, {whole.rejects, second.rejects}} {
					a, _ := os.ReadFile(file[0])
					b, _ := os.ReadFile(file[1])
					if !bytes.Equal(a, b) {
						t.Errorf("stop at %d: %s differs from the uninterrupted %s", stop, file[1], file[0])
					}
				}
				if diff := diffProto(whole.report.Summary, second.report.Summary); diff != "" {
					t.Errorf("stop at %d: the resumed summary differs:\n%s", stop, diff)
				}
			}
		})
	}
}

// TestAggregatesOverABatch: the rules defined over a set of settlements get
// their verdict from the whole run, at their boundaries.
func TestAggregatesOverABatch(t *testing.T) {
	c := dial(t, servertest.Start(t, server.Config{}).GRPCAddr())
	dir := t.TempDir()
	cases := []struct {
		name               string
		towns, withKinder  int
		counties, balanced int
		kinder, balance    coveragev1.Status
	}{
		{"exactly 80% of towns, every county", 10, 8, 4, 4, coveragev1.Status_STATUS_COMPLIANT, coveragev1.Status_STATUS_COMPLIANT},
		{"just under 80% of towns, one county short", 100, 79, 12, 11, coveragev1.Status_STATUS_NON_COMPLIANT, coveragev1.Status_STATUS_NON_COMPLIANT},
	}
	for n, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var settlements []*coveragev1.Settlement
			for i := range tc.towns {
				s := town(i)
				k := int64(0)
				if i < tc.withKinder {
					k = 1
				}
				s.Facilities.StandardKindergartens = proto.Int64(k)
				settlements = append(settlements, s)
			}
			for i := range tc.counties {
				settlements = append(settlements, county(i, i < tc.balanced))
			}
			path := filepath.Join(dir, fmt.Sprintf("set-%d.jsonl", n))
			writeJSONL(t, path, settlements, nil)
			r := audit(t, c, []batch.Input{{Path: path, Format: batch.FormatJSONL}}, dir, fmt.Sprintf("out-%d.jsonl", n), batch.OutputJSONL, batch.CreateNew, 0)
			if r.err != nil {
				t.Fatal(r.err)
			}
			got := map[string]coveragev1.Status{}
			for _, ag := range r.report.Summary.GetAggregates() {
				got[ag.GetRuleId()] = ag.GetStatus()
			}
			if got["T19-KINDERGARTEN"] != tc.kinder || got["T19-COMPULSORY-BALANCE"] != tc.balance {
				t.Errorf("T19-KINDERGARTEN %s, T19-COMPULSORY-BALANCE %s; want %s, %s", got["T19-KINDERGARTEN"], got["T19-COMPULSORY-BALANCE"], tc.kinder, tc.balance)
			}
		})
	}
}

// TestUnreachable: with no server to answer, the run fails as unreachable
// instead of waiting for ever.
func TestUnreachable(t *testing.T) {
	c, err := client.Dial("127.0.0.1:1", client.WithTimeout(2*time.Second))
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	dir := t.TempDir()
	path := filepath.Join(dir, "in.jsonl")
	writeJSONL(t, path, []*coveragev1.Settlement{town(1)}, nil)
	out, err := batch.OpenOutput(filepath.Join(dir, "out.jsonl"), batch.OutputJSONL, batch.CreateNew)
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	_, err = batch.Run(t.Context(), batch.Config{Client: c}, []batch.Input{{Path: path, Format: batch.FormatJSONL}}, nil, out, &bytes.Buffer{})
	var ce *client.Error
	if !errors.As(err, &ce) || !strings.Contains(err.Error(), "Unavailable") {
		t.Fatalf("error %v, want UNAVAILABLE", err)
	}
}

// diffProto is "" when a and b are equal, and both in JSON otherwise.
func diffProto(a, b proto.Message) string {
	if proto.Equal(a, b) {
		return ""
	}
	return fmt.Sprintf("want %s\n got %s", protojson.Format(a), protojson.Format(b))
}
