package samples_test

import (
	"bufio"
	"context"
	"encoding/csv"
	"encoding/json"
	"errors"
	"io"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/civic-standards/coverage/clients/client"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
	"github.com/civic-standards/coverage/samples"
	"github.com/civic-standards/coverage/server"
	"github.com/civic-standards/coverage/server/servertest"
)

const set = "jilin"

func open(t *testing.T, file string) io.ReadCloser {
	t.Helper()
	f, err := samples.Open(set, file)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { f.Close() })
	return f
}

// jsonl reads settlements.jsonl, every line of which must be a Settlement.
func jsonl(t *testing.T) []*coveragev1.Settlement {
	t.Helper()
	sc := bufio.NewScanner(open(t, "settlements.jsonl"))
	sc.Buffer(nil, 8<<20) // Changchun's line carries every stop
	var out []*coveragev1.Settlement
	seen := map[string]int{}
	for n := 1; sc.Scan(); n++ {
		s := &coveragev1.Settlement{}
		if err := protojson.Unmarshal(sc.Bytes(), s); err != nil {
			t.Fatalf("settlements.jsonl:%d: %v", n, err)
		}
		switch id := s.GetId(); {
		case id == "":
			t.Errorf("settlements.jsonl:%d: empty id", n)
		case seen[id] > 0:
			t.Errorf("settlements.jsonl:%d: id %q already on line %d", n, id, seen[id])
		default:
			seen[id] = n
		}
		out = append(out, s)
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	if len(out) == 0 {
		t.Fatal("settlements.jsonl is empty")
	}
	return out
}

func readCSV(t *testing.T, file string) (header []string, rows [][]string) {
	t.Helper()
	records, err := csv.NewReader(open(t, file)).ReadAll()
	if err != nil {
		t.Fatalf("%s: %v", file, err)
	}
	if len(records) < 2 {
		t.Fatalf("%s: %d records, want a header and rows", file, len(records))
	}
	return records[0], records[1:]
}

func TestNamesAndOpen(t *testing.T) {
	if got := samples.Names(); !slices.Equal(got, []string{set}) {
		t.Errorf("Names() = %q, want [%q]", got, set)
	}
	for _, f := range []string{"settlements.jsonl", "settlements.csv", "central-areas.geojson", "bus-stops.csv", "README.md", "LICENSE-Apache-2.0.txt", "LICENSE-MIT-census.txt"} {
		open(t, f)
	}
	for _, bad := range [][2]string{{"..", "go.mod"}, {set, "../embed.go"}, {"", "settlements.csv"}, {"jilin/..", "x"}} {
		if _, err := samples.Open(bad[0], bad[1]); !errors.Is(err, fs.ErrInvalid) {
			t.Errorf("Open(%q, %q): %v, want an invalid-path error", bad[0], bad[1], err)
		}
	}
	if _, err := samples.Open(set, "generate.py"); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("Open(%q, generate.py): %v, want not found (the generator is not embedded)", set, err)
	}
}

// TestCSVMatchesJSONL rebuilds every settlement from settlements.csv and the
// side files and requires it to equal the JSONL's, field for field.
func TestCSVMatchesJSONL(t *testing.T) {
	want := jsonl(t)
	index := map[string]int{}
	for i, s := range want {
		index[s.GetId()] = i
	}

	header, rows := readCSV(t, "settlements.csv")
	if len(rows) != len(want) {
		t.Fatalf("settlements.csv has %d rows, settlements.jsonl %d lines", len(rows), len(want))
	}
	strColumns := map[string]bool{"id": true, "name": true, "kind": true, "centralAreaCrs": true, "busStopsCrs": true}
	got := make([]*coveragev1.Settlement, len(rows))
	for i, row := range rows {
		obj := map[string]any{}
		for j, cell := range row {
			col := header[j]
			if cell == "" {
				continue
			}
			var v any = json.RawMessage(cell)
			switch {
			case strColumns[col]:
				v = cell
			case col == "busFleet.vehicles":
				var groups []map[string]any
				for _, g := range strings.Split(cell, ";") {
					class, count, ok := strings.Cut(g, ":")
					n, err := strconv.ParseInt(count, 10, 64)
					if !ok || err != nil {
						t.Fatalf("settlements.csv row %d: busFleet.vehicles %q is not CLASS:count;…", i+2, cell)
					}
					groups = append(groups, map[string]any{"vehicleClass": class, "count": n})
				}
				v = groups
			}
			parent, key := obj, col
			if p, k, ok := strings.Cut(col, "."); ok {
				if _, ok := obj[p]; !ok {
					obj[p] = map[string]any{}
				}
				parent, key = obj[p].(map[string]any), k
			}
			parent[key] = v
		}
		data, err := json.Marshal(obj)
		if err != nil {
			t.Fatal(err)
		}
		s := &coveragev1.Settlement{}
		if err := protojson.Unmarshal(data, s); err != nil {
			t.Fatalf("settlements.csv row %d: %v", i+2, err)
		}
		if s.GetId() != want[i].GetId() {
			t.Fatalf("settlements.csv row %d is %q, settlements.jsonl line %d is %q: same settlements in the same order expected",
				i+2, s.GetId(), i+1, want[i].GetId())
		}
		got[i] = s
	}

	var fc struct {
		Type     string `json:"type"`
		Features []struct {
			Properties struct {
				SettlementID string `json:"settlementId"`
			} `json:"properties"`
			Geometry struct {
				Type        string          `json:"type"`
				Coordinates json.RawMessage `json:"coordinates"`
			} `json:"geometry"`
		} `json:"features"`
	}
	if err := json.NewDecoder(open(t, "central-areas.geojson")).Decode(&fc); err != nil {
		t.Fatalf("central-areas.geojson: %v", err)
	}
	if fc.Type != "FeatureCollection" || len(fc.Features) == 0 {
		t.Fatalf("central-areas.geojson: type %q with %d features, want a FeatureCollection", fc.Type, len(fc.Features))
	}
	for _, f := range fc.Features {
		id := f.Properties.SettlementID
		i, ok := index[id]
		if !ok {
			t.Errorf("central-areas.geojson: settlementId %q is not in settlements.jsonl", id)
			continue
		}
		var polys [][][][2]float64
		switch f.Geometry.Type {
		case "Polygon":
			var p [][][2]float64
			if err := json.Unmarshal(f.Geometry.Coordinates, &p); err != nil {
				t.Fatalf("central-areas.geojson %s: %v", id, err)
			}
			polys = [][][][2]float64{p}
		case "MultiPolygon":
			if err := json.Unmarshal(f.Geometry.Coordinates, &polys); err != nil {
				t.Fatalf("central-areas.geojson %s: %v", id, err)
			}
		default:
			t.Fatalf("central-areas.geojson %s: geometry %q, want Polygon or MultiPolygon", id, f.Geometry.Type)
		}
		mp := &coveragev1.MultiPolygon{}
		for _, p := range polys {
			poly := &coveragev1.Polygon{}
			for _, r := range p {
				if len(r) < 4 || r[0] != r[len(r)-1] {
					t.Errorf("central-areas.geojson %s: a ring of %d positions that is not closed", id, len(r))
				}
				ring := &coveragev1.LinearRing{}
				for _, ll := range r {
					ring.Positions = append(ring.Positions, &coveragev1.LonLat{Lon: ll[0], Lat: ll[1]})
				}
				poly.Rings = append(poly.Rings, ring)
			}
			mp.Polygons = append(mp.Polygons, poly)
		}
		got[i].CentralAreaPolygons = mp
	}

	header, rows = readCSV(t, "bus-stops.csv")
	if !slices.Equal(header, []string{"settlementId", "lon", "lat", "name"}) {
		t.Fatalf("bus-stops.csv header %q", header)
	}
	for n, row := range rows {
		i, ok := index[row[0]]
		if !ok {
			t.Fatalf("bus-stops.csv line %d: settlementId %q is not in settlements.jsonl", n+2, row[0])
		}
		lon, err1 := strconv.ParseFloat(row[1], 64)
		lat, err2 := strconv.ParseFloat(row[2], 64)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatalf("bus-stops.csv line %d: %v", n+2, err)
		}
		if got[i].BusStopPositions == nil {
			got[i].BusStopPositions = &coveragev1.Positions{}
		}
		got[i].BusStopPositions.Positions = append(got[i].BusStopPositions.Positions, &coveragev1.LonLat{Lon: lon, Lat: lat})
	}

	for i := range want {
		if !proto.Equal(got[i], want[i]) {
			t.Errorf("%s: settlements.csv with the side files differs from settlements.jsonl:\n csv+side files: %.400v\n jsonl:          %.400v",
				want[i].GetId(), got[i], want[i])
		}
	}
}

// TestAudit sends the whole set to a real server as one batch: every
// settlement must pass validation, and the set must exercise the verdicts
// and the rules defined over a batch.
func TestAudit(t *testing.T) {
	settlements := jsonl(t)
	srv := servertest.Start(t, server.Config{})
	c, err := client.Dial(srv.GRPCAddr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	resp, err := c.AuditBatch(ctx, &coveragev1.AuditBatchRequest{RulesetId: "jilin-2014", Settlements: settlements})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetResults()) != len(settlements) {
		t.Fatalf("%d results for %d settlements", len(resp.GetResults()), len(settlements))
	}

	counts := map[coveragev1.Status]int{}
	for _, item := range resp.GetResults() {
		if e := item.GetError(); e != nil {
			t.Errorf("%s rejected: %s %s %v", item.GetSettlementId(), e.GetCode(), e.GetMessage(), e.GetViolations())
			continue
		}
		for _, r := range item.GetAudit().GetResults() {
			counts[r.GetStatus()]++
			if r.GetRuleId() == "T18-STOP-COVERAGE-300M" && item.GetSettlementId() == "changchun" {
				switch st := r.GetStatus(); {
				case st != coveragev1.Status_STATUS_COMPLIANT && st != coveragev1.Status_STATUS_NON_COMPLIANT:
					t.Errorf("changchun T18-STOP-COVERAGE-300M: %s (%s), want a measured verdict", st, r.GetReason())
				case r.Value == nil:
					t.Errorf("changchun T18-STOP-COVERAGE-300M: %s without a measured share", st)
				default:
					t.Logf("changchun T18-STOP-COVERAGE-300M: %s, %s", st, r.GetReason())
				}
			}
		}
	}
	for _, st := range []coveragev1.Status{coveragev1.Status_STATUS_COMPLIANT, coveragev1.Status_STATUS_NON_COMPLIANT, coveragev1.Status_STATUS_INSUFFICIENT_DATA} {
		if counts[st] == 0 {
			t.Errorf("no %s result across the set; counts %v", st, counts)
		}
	}
	t.Logf("results by status: %v", counts)

	sum := resp.GetSummary()
	if sum.GetAudited() != int64(len(settlements)) || sum.GetRejected() != 0 {
		t.Errorf("summary: %d audited, %d rejected of %d", sum.GetAudited(), sum.GetRejected(), len(settlements))
	}
	aggregates := map[string]*coveragev1.AggregateResult{}
	for _, a := range sum.GetAggregates() {
		aggregates[a.GetRuleId()] = a
	}
	for _, id := range []string{"T19-KINDERGARTEN", "T19-COMPULSORY-BALANCE"} {
		a, ok := aggregates[id]
		switch {
		case !ok:
			t.Errorf("no %s aggregate in the batch summary", id)
		case a.GetStatus() == coveragev1.Status_STATUS_NOT_APPLICABLE || a.GetStatus() == coveragev1.Status_STATUS_UNSPECIFIED:
			t.Errorf("%s aggregate: %s (%s), want a verdict", id, a.GetStatus(), a.GetReason())
		default:
			t.Logf("%s aggregate: %s, %s", id, a.GetStatus(), a.GetReason())
		}
	}
}
