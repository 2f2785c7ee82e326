package batch

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/civic-standards/coverage/internal/race"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// writeInput writes content to a file of the given name in a fresh
// directory and returns its path.
func writeInput(t testing.TB, name, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// readAll reads every record of a file; the error is nil when reading ended
// in io.EOF and the open or file error otherwise.
func readAll(t testing.TB, path string, format Format, geo *Geometry) ([]Record, error) {
	t.Helper()
	r, err := OpenInput(path, format, geo)
	if err != nil {
		return nil, err
	}
	defer r.Close()
	var recs []Record
	for {
		rec, err := r.Next()
		if err == io.EOF {
			return recs, nil
		}
		if err != nil {
			return recs, err
		}
		if (rec.Err == nil) == (rec.Settlement == nil) {
			t.Fatalf("%s: record with Err %v and Settlement %v; want exactly one", rec.Source, rec.Err, rec.Settlement)
		}
		recs = append(recs, rec)
		if len(recs) > 1e6 {
			t.Fatal("reader does not end")
		}
	}
}

// mustReadAll is readAll for files that must read to the end.
func mustReadAll(t testing.TB, path string, format Format, geo *Geometry) []Record {
	t.Helper()
	recs, err := readAll(t, path, format, geo)
	if err != nil {
		t.Fatal(err)
	}
	return recs
}

// wantRecord is a record as a test expects it: a settlement, or an error
// whose text contains every one of errParts.
type wantRecord struct {
	line     string // the Source after "path:"
	s        *coveragev1.Settlement
	errParts []string
}

func checkRecords(t *testing.T, path string, got []Record, want []wantRecord) {
	t.Helper()
	if len(got) != len(want) {
		for _, r := range got {
			t.Logf("got %s: %v %v", r.Source, r.Err, r.Settlement)
		}
		t.Fatalf("got %d records, want %d", len(got), len(want))
	}
	for i, w := range want {
		g := got[i]
		if wantSource := path + ":" + w.line; g.Source != wantSource {
			t.Errorf("record %d: Source %q, want %q", i, g.Source, wantSource)
		}
		if w.s != nil {
			if g.Err != nil {
				t.Errorf("%s: unexpected error: %v", g.Source, g.Err)
			} else if !proto.Equal(g.Settlement, w.s) {
				t.Errorf("%s: settlement\n got %v\nwant %v", g.Source, g.Settlement, w.s)
			}
			continue
		}
		if g.Err == nil {
			t.Errorf("%s: no error, want one containing %q", g.Source, w.errParts)
			continue
		}
		for _, part := range w.errParts {
			if !strings.Contains(g.Err.Error(), part) {
				t.Errorf("%s: error %q does not contain %q", g.Source, g.Err, part)
			}
		}
	}
}

func wantInt(v int64) *int64       { return &v }
func wantFloat(v float64) *float64 { return &v }
func wantBool(v bool) *bool        { return &v }
func wantLL(lon, lat float64) *coveragev1.LonLat {
	return &coveragev1.LonLat{Lon: lon, Lat: lat}
}

func wantRing(ps ...*coveragev1.LonLat) *coveragev1.LinearRing {
	return &coveragev1.LinearRing{Positions: ps}
}

func TestDetectFormat(t *testing.T) {
	for path, want := range map[string]Format{
		"a.jsonl":             FormatJSONL,
		"dir.v2/A.NDJSON":     FormatJSONL,
		"province.csv":        FormatCSV,
		"x.CSV":               FormatCSV,
		"areas.geojson":       FormatGeoJSON,
		"/tmp/jilin.Json":     FormatGeoJSON,
		"settlements.GeoJSON": FormatGeoJSON,
	} {
		got, err := DetectFormat(path)
		if err != nil || got != want {
			t.Errorf("DetectFormat(%q) = %q, %v; want %q", path, got, err, want)
		}
	}
	for _, path := range []string{"settlements.txt", "settlements", "jsonl", "a.csv.gz"} {
		_, err := DetectFormat(path)
		if err == nil {
			t.Errorf("DetectFormat(%q): no error", path)
			continue
		}
		for _, part := range []string{path, ".jsonl", ".ndjson", ".csv", ".geojson", ".json"} {
			if !strings.Contains(err.Error(), part) {
				t.Errorf("DetectFormat(%q) error %q does not mention %q", path, err, part)
			}
		}
	}
}

func TestOpenInputErrors(t *testing.T) {
	path := writeInput(t, "a.jsonl", "{}\n")
	if _, err := OpenInput(path, "xml", nil); err == nil || !strings.Contains(err.Error(), path) || !strings.Contains(err.Error(), "xml") {
		t.Errorf("unknown format: error %v", err)
	}
	if _, err := CountRecords(path, "xml"); err == nil {
		t.Error("CountRecords with unknown format: no error")
	}
	missing := filepath.Join(t.TempDir(), "missing.csv")
	for _, f := range []Format{FormatJSONL, FormatCSV, FormatGeoJSON} {
		if _, err := OpenInput(missing, f, nil); !errors.Is(err, os.ErrNotExist) || !strings.Contains(err.Error(), missing) {
			t.Errorf("%s: missing file: error %v", f, err)
		}
		if _, err := CountRecords(missing, f); !errors.Is(err, os.ErrNotExist) {
			t.Errorf("%s: CountRecords of a missing file: error %v", f, err)
		}
	}
}

func TestReadJSONL(t *testing.T) {
	path := filepath.Join("testdata", "input", "settlements.jsonl")
	got := mustReadAll(t, path, FormatJSONL, nil)
	checkRecords(t, path, got, []wantRecord{
		{line: "1", s: &coveragev1.Settlement{
			Id: "town-a", Name: "Town A", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_TOWN,
			ResidentPopulation: wantInt(18000), CountySeat: wantBool(true),
		}},
		{line: "3", s: &coveragev1.Settlement{
			Id: "city-b", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_CITY, UrbanPopulation: wantInt(1200000),
			Facilities: &coveragev1.FacilityCounts{Level2GeneralHospitals: wantInt(4)},
			BusFleet: &coveragev1.PublicTransportFleet{Vehicles: []*coveragev1.VehicleGroup{
				{VehicleClass: "LENGTH_10_13M", Count: 40},
			}},
			BusStopPositions: &coveragev1.Positions{Positions: []*coveragev1.LonLat{wantLL(125.3, 43.9)}},
			BusStopsCrs:      coveragev1.CoordinateSystem_COORDINATE_SYSTEM_GCJ02,
		}},
		{line: "5", s: &coveragev1.Settlement{
			Id: "county-c", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_COUNTY,
			ResidentPopulation: wantInt(52000), AverageBusSpeedKmh: wantFloat(17.5),
		}},
	})
}

func TestReadJSONLBadRecords(t *testing.T) {
	content := strings.Join([]string{
		`{"id":"a","residentPopulation":1}`,     // 1
		`{"id":"b","residentPop":1}`,            // 2: unknown field
		``,                                      // 3
		`{"name":"no id"}`,                      // 4
		`{"id":"c","residentPopulation":"12x"}`, // 5
		`{"id":"d",`,                            // 6: broken JSON
		`[1,2]`,                                 // 7
		`{"id":"","name":"empty id"}`,           // 8
		`{"id":"e","kind":"SETTLEMENT_KIND_VILLAGE"}`, // 9
		"\t{\"id\":\"f\"}\r",                          // 10: surrounding space and CRLF
		`{"id":"g","residentPopulation":1} trailing`,  // 11
		`{"id":"h","centralAreaCrs":"GCJ02"}`,         // 12: protojson wants full enum names
	}, "\n")
	path := writeInput(t, "bad.jsonl", content)
	got := mustReadAll(t, path, FormatJSONL, nil)
	checkRecords(t, path, got, []wantRecord{
		{line: "1", s: &coveragev1.Settlement{Id: "a", ResidentPopulation: wantInt(1)}},
		{line: "2", errParts: []string{`unknown field "residentPop"`, "column 11"}},
		{line: "4", errParts: []string{"id: required (batch results are keyed by settlement ID)"}},
		{line: "5", errParts: []string{"residentPopulation", `"12x"`}},
		{line: "6", errParts: []string{"syntax error"}},
		{line: "7", errParts: []string{"syntax error", "["}},
		{line: "8", errParts: []string{"id: required"}},
		{line: "9", errParts: []string{"kind", "SETTLEMENT_KIND_VILLAGE"}},
		{line: "10", s: &coveragev1.Settlement{Id: "f"}},
		{line: "11", errParts: []string{"trailing"}},
		{line: "12", errParts: []string{"centralAreaCrs", "GCJ02"}},
	})
	for _, r := range got {
		if r.Err != nil && strings.HasPrefix(r.Err.Error(), "proto:") {
			t.Errorf("%s: error %q keeps protojson's prefix", r.Source, r.Err)
		}
	}
}

func TestReadJSONLLongLine(t *testing.T) {
	size := 20 << 20
	if race.Enabled {
		// The race detector makes the first write to fresh memory tens of
		// times slower; 2 MiB is still far past bufio.Scanner's default.
		size = 2 << 20
	}
	long := &coveragev1.Settlement{
		Id:               "city-long",
		Name:             strings.Repeat("x", size),
		BusStopPositions: &coveragev1.Positions{Positions: []*coveragev1.LonLat{wantLL(125.1, 43.5), wantLL(125.2, 43.6)}},
	}
	line := `{"id":"city-long","name":"` + long.Name + `","busStopPositions":{"positions":[{"lon":125.1,"lat":43.5},{"lon":125.2,"lat":43.6}]}}`
	path := writeInput(t, "long.jsonl", "\n"+line+"\n\n"+`{"id":"next"}`)
	got := mustReadAll(t, path, FormatJSONL, nil)
	checkRecords(t, path, got, []wantRecord{
		{line: "2", s: long},
		{line: "4", s: &coveragev1.Settlement{Id: "next"}},
	})
	if n, err := CountRecords(path, FormatJSONL); n != 2 || err != nil {
		t.Errorf("CountRecords = %d, %v; want 2", n, err)
	}
}

func TestReadJSONLBOM(t *testing.T) {
	path := writeInput(t, "bom.jsonl", "\ufeff{\"id\":\"a\"}\n\ufeff{\"id\":\"b\"}\n")
	got := mustReadAll(t, path, FormatJSONL, nil)
	// Only a BOM that opens the file is one; later it is a stray character.
	checkRecords(t, path, got, []wantRecord{
		{line: "1", s: &coveragev1.Settlement{Id: "a"}},
		{line: "2", errParts: []string{"syntax error"}},
	})
}

func TestReaderAfterEnd(t *testing.T) {
	path := writeInput(t, "one.jsonl", `{"id":"a"}`)
	for _, f := range []Format{FormatJSONL} {
		r, err := OpenInput(path, f, nil)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Next(); err != nil {
			t.Fatal(err)
		}
		for range 3 {
			if _, err := r.Next(); err != io.EOF {
				t.Fatalf("Next after the last record = %v, want io.EOF", err)
			}
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestCountRecordsMatchesFixtures(t *testing.T) {
	paths, err := filepath.Glob(filepath.Join("testdata", "input", "settlements.*"))
	if err != nil || len(paths) < 3 {
		t.Fatalf("fixtures: %v, %v", paths, err)
	}
	extra := []string{
		writeInput(t, "bad.csv", "id,residentPopulation\na,1\nb,\"x\nc,3\n,\n"),
		writeInput(t, "blank.jsonl", "\n  \n{\"id\":\"a\"}\n\r\n{bad}\n\t"),
		writeInput(t, "empty.jsonl", ""),
		writeInput(t, "empty.geojson", `{"features":[],"type":"FeatureCollection"}`),
		writeInput(t, "odd.geojson", `{"features":[1,null,{"type":"Feature"}],"x":{"features":[{}]}}`),
	}
	for _, path := range append(paths, extra...) {
		format, err := DetectFormat(path)
		if err != nil {
			t.Fatal(err)
		}
		recs := mustReadAll(t, path, format, nil)
		n, err := CountRecords(path, format)
		if err != nil {
			t.Errorf("%s: CountRecords: %v", path, err)
		} else if n != len(recs) {
			t.Errorf("%s: CountRecords = %d, want %d", path, n, len(recs))
		}
	}
}

func TestCountRecordsFileErrors(t *testing.T) {
	for name, content := range map[string]string{
		"feature.geojson": `{"type":"Feature","geometry":null,"properties":{}}`,
		"broken.geojson":  `{"type":"FeatureCollection","features":[{"id":1},`,
		"empty.csv":       ``,
	} {
		path := writeInput(t, name, content)
		format, _ := DetectFormat(path)
		if n, err := CountRecords(path, format); err == nil || !strings.Contains(err.Error(), path) {
			t.Errorf("%s: CountRecords = %d, %v; want an error naming the file", name, n, err)
		}
	}
}
