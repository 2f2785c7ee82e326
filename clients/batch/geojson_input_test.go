package batch

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// geojsonFixture is what testdata/input/settlements.geojson holds, by the
// line each feature starts on.
func geojsonFixture() []wantRecord {
	return []wantRecord{
		{line: "4", s: &coveragev1.Settlement{
			Id: "town-a", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_TOWN, ResidentPopulation: wantInt(18000),
			CentralAreaPolygons: &coveragev1.MultiPolygon{Polygons: []*coveragev1.Polygon{{Rings: []*coveragev1.LinearRing{
				wantRing(wantLL(125.0, 43.0), wantLL(125.1, 43.0), wantLL(125.1, 43.1), wantLL(125.0, 43.0)),
				wantRing(wantLL(125.02, 43.02), wantLL(125.03, 43.02), wantLL(125.03, 43.03), wantLL(125.02, 43.02)),
			}}}},
		}},
		{line: "15", s: &coveragev1.Settlement{
			Id: "220100", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_CITY,
			CentralAreaCrs: coveragev1.CoordinateSystem_COORDINATE_SYSTEM_GCJ02,
			CentralAreaPolygons: &coveragev1.MultiPolygon{Polygons: []*coveragev1.Polygon{
				{Rings: []*coveragev1.LinearRing{wantRing(wantLL(125.2, 43.8), wantLL(125.3, 43.8), wantLL(125.3, 43.9), wantLL(125.2, 43.8))}},
				{Rings: []*coveragev1.LinearRing{wantRing(wantLL(125.4, 43.8), wantLL(125.5, 43.8), wantLL(125.5, 43.9), wantLL(125.4, 43.8))}},
			}},
		}},
		{line: "16", s: &coveragev1.Settlement{Id: "county-c"}},
		{line: "23", s: &coveragev1.Settlement{Id: "town-d", CountySeat: wantBool(true)}},
	}
}

func TestReadGeoJSON(t *testing.T) {
	path := filepath.Join("testdata", "input", "settlements.geojson")
	checkRecords(t, path, mustReadAll(t, path, FormatGeoJSON, nil), geojsonFixture())
}

func TestReadGeoJSONMinified(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("testdata", "input", "settlements.geojson"))
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.Compact(&buf, data); err != nil {
		t.Fatal(err)
	}
	path := writeInput(t, "min.geojson", buf.String())
	want := geojsonFixture()
	for i := range want {
		want[i].line = "1"
	}
	checkRecords(t, path, mustReadAll(t, path, FormatGeoJSON, nil), want)

	// The same with CRLF line ends between features.
	crlf := strings.ReplaceAll(buf.String(), `},{"type"`, "},\r\n\r\n{\"type\"")
	path = writeInput(t, "crlf.geojson", crlf)
	for i := range want {
		want[i].line = fmt.Sprint(1 + 2*i)
	}
	want[2].line = "3" // county-c opens with "geometry", not "type"
	want[3].line = "5"
	checkRecords(t, path, mustReadAll(t, path, FormatGeoJSON, nil), want)
}

// TestReadGeoJSONLineTracking reads features far larger than the decoder's
// buffer, pretty-printed over many lines, so that lines are counted across
// many reads.
func TestReadGeoJSONLineTracking(t *testing.T) {
	var b strings.Builder
	line := 1
	nl := func(s string) {
		b.WriteString(s)
		b.WriteString("\n")
		line++
	}
	nl(`{"bbox": [0, 0, 1, 1], "features":`)
	nl(`[`)
	var want []wantRecord
	// Big features grow the decoder's buffer; the small ones after them are
	// then read ahead, several per read.
	sizes := []int{600, 3, 1500, 2, 4, 5}
	for f, n := range sizes {
		want = append(want, wantRecord{line: fmt.Sprint(line)})
		nl(`  {`)
		nl(fmt.Sprintf(`    "properties": {"id": "s%d"},`, f))
		nl(`    "type": "Feature",`)
		nl(`    "geometry": {"type": "Polygon", "coordinates": [[`)
		var positions []*coveragev1.LonLat
		for i := range n {
			sep := ","
			if i == n-1 {
				sep = ""
			}
			lon, lat := 125+float64(i)/1e5, 43+float64(f)/10
			nl("      [")
			nl(fmt.Sprintf("        %v,", lon))
			nl(fmt.Sprintf("        %v", lat))
			nl("      ]" + sep)
			positions = append(positions, wantLL(lon, lat))
		}
		nl(`    ]]}`)
		sep := ","
		if f == len(sizes)-1 {
			sep = ""
		}
		nl(`  }` + sep)
		want[f].s = &coveragev1.Settlement{
			Id:                  fmt.Sprintf("s%d", f),
			CentralAreaPolygons: &coveragev1.MultiPolygon{Polygons: []*coveragev1.Polygon{{Rings: []*coveragev1.LinearRing{wantRing(positions...)}}}},
		}
	}
	nl(`], "type": "FeatureCollection"}`)
	if b.Len() < 64<<10 {
		t.Fatalf("only %d bytes", b.Len())
	}
	path := writeInput(t, "big.geojson", b.String())
	checkRecords(t, path, mustReadAll(t, path, FormatGeoJSON, nil), want)
	if n, err := CountRecords(path, FormatGeoJSON); n != len(sizes) || err != nil {
		t.Errorf("CountRecords = %d, %v; want %d", n, err, len(sizes))
	}
}

func TestReadGeoJSONBadFeatures(t *testing.T) {
	square := `{"type":"Polygon","coordinates":[[[1,1],[2,1],[2,2],[1,1]]]}`
	features := []string{
		`{"type":"Feature","properties":{"id":"ok"},"geometry":null}`,
		`{"type":"Feature","properties":{"id":"a","colour":"red"},"geometry":null}`,
		`{"type":"Feature","properties":{"kind":"SETTLEMENT_KIND_TOWN"},"geometry":null}`,
		`{"type":"Feature","properties":{"id":"b"},"geometry":{"type":"LineString","coordinates":[[1,1],[2,2]]}}`,
		`{"type":"Feature","properties":{"id":"c","centralArea":` + square + `},"geometry":` + square + `}`,
		`{"type":"Feature","properties":{"id":"d","central_area_polygons":{"polygons":[]}},"geometry":` + square + `}`,
		`{"type":"Feature","properties":{"id":"e"},"geometry":{"type":"Polygon","coordinates":[[[1,"x"],[2,1]]]}}`,
		`{"type":"Feature","properties":{"id":"f"},"geometry":{"type":"Polygon","coordinates":[[[1],[2,1]]]}}`,
		`{"type":"Feature","properties":{"id":"g"},"geometry":{"type":"Polygon","coordinates":[[1,2]]}}`,
		`{"type":"Feature","properties":{"id":"h"},"geometry":{"type":"MultiPolygon"}}`,
		`{"type":"Feature","properties":{"id":"i"},"geometry":{"coordinates":[]}}`,
		`{"type":"Feature","properties":{"id":"j"},"geometry":[1,2]}`,
		`{"type":"Feature","properties":["id","k"],"geometry":null}`,
		`{"type":"Feature","id":{"x":1},"properties":{},"geometry":null}`,
		`{"type":"Feature","id":"","properties":{"id":""},"geometry":null}`,
		`{"type":"Point","coordinates":[1,2]}`,
		`17`,
		`null`,
		`{"type":"Feature","properties":{"id":"l","residentPopulation":"12x"},"geometry":{"type":"GeometryCollection","geometries":[]}}`,
		`{"type":"Feature","properties":{"id":"m"},"geometry":{"type":"Polygon","coordinates":[[[1,1,null],[2,1],[2,2],[1,1]]]}}`,
		`{"type":"Feature","properties":{"id":"n"},"geometry":{"type":"Polygon","coordinates":[[[1e999,1],[2,1],[2,2],[1,1]]]}}`,
		`{"type":"Feature","properties":{"id":"last"}}`,
	}
	content := `{"type":"FeatureCollection","features":[` + "\n" + strings.Join(features, ",\n") + "\n]}\n"
	path := writeInput(t, "bad.geojson", content)
	got := mustReadAll(t, path, FormatGeoJSON, nil)
	errs := [][]string{
		nil,
		{"properties: ", `unknown field "colour"`},
		{"id: required (batch results are keyed by settlement ID)"},
		{`geometry: type "LineString"`},
		{"geometry: ", "central area", "centralArea"},
		{"geometry: ", "central area"},
		{"geometry: Polygon coordinates: a position must be"},
		{"geometry: Polygon coordinates: a position must be"},
		{"geometry: Polygon coordinates: a position must be"},
		{"geometry: MultiPolygon without coordinates"},
		{"geometry: no type"},
		{"geometry: not a JSON object"},
		{"properties: not a JSON object"},
		{"id: ", "neither a string nor a number"},
		{"id: required"},
		{`type: "Point", want "Feature"`},
		{"feature: not a JSON object"},
		{"feature: not a JSON object"},
		{"residentPopulation", `geometry: type "GeometryCollection"`},
		{"geometry: Polygon coordinates: a position must be"},
		{"geometry: Polygon coordinates: a position must be"},
		nil,
	}
	var want []wantRecord
	for i, e := range errs {
		w := wantRecord{line: fmt.Sprint(i + 2), errParts: e}
		if e == nil {
			w.s = &coveragev1.Settlement{Id: strings.TrimSuffix(strings.TrimPrefix(features[i], `{"type":"Feature","properties":{"id":"`), `"},"geometry":null}`)}
		}
		want = append(want, w)
	}
	want[len(want)-1].s = &coveragev1.Settlement{Id: "last"}
	checkRecords(t, path, got, want)
	for _, r := range got {
		if r.Err != nil && strings.Contains(r.Err.Error(), "(line ") {
			t.Errorf("%s: error %q has a position relative to the properties", r.Source, r.Err)
		}
	}
}

func TestReadGeoJSONFileErrors(t *testing.T) {
	tests := []struct {
		name, content string
		records       int // read before the error
		err           []string
	}{
		{"empty", "", 0, []string{"empty file"}},
		{"a Feature", `{"type":"Feature","properties":{"id":"a"},"geometry":null}`, 0, []string{`:1: not a GeoJSON FeatureCollection: its type is "Feature"`}},
		{"a Feature with type last", "{\"properties\":{\"features\":[]},\n\"geometry\":null,\n\"type\":\"Feature\"}", 0, []string{`:3: not a GeoJSON FeatureCollection: its type is "Feature"`}},
		{"a geometry", `{"type":"Polygon","coordinates":[]}`, 0, []string{`its type is "Polygon"`}},
		{"an array", `[{"type":"Feature"}]`, 0, []string{"not a GeoJSON FeatureCollection: the file is not a JSON object"}},
		{"no features", `{"type":"FeatureCollection"}`, 0, []string{`no "features" member`}},
		{"features not an array", `{"type":"FeatureCollection","features":{}}`, 0, []string{`"features" is not an array`}},
		{"features null", `{"type":"FeatureCollection","features":null}`, 0, []string{`"features" is not an array`}},
		{"type not a string", `{"type":7,"features":[]}`, 0, []string{"its type is not a string"}},
		{"type after features", "{\"features\":[{\"properties\":{\"id\":\"a\"}}],\n\"type\":\"Topology\"}", 1, []string{`:2: not a GeoJSON FeatureCollection: its type is "Topology"`}},
		{"features twice", `{"features":[],"features":[]}`, 0, []string{`"features" given twice`}},
		{"truncated", "{\"type\":\"FeatureCollection\",\"features\":[\n{\"properties\":{\"id\":\"a\"}},\n{\"properties\":", 1, []string{"unexpected end of file"}},
		{"broken feature", "{\"type\":\"FeatureCollection\",\"features\":[\n{\"properties\":{\"id\":\"a\"}},\n\n{\"properties\":{\"id\" \"b\"}}]}", 1, []string{":4: features[1]: invalid JSON"}},
		{"missing comma", "{\"features\":[{\"properties\":{\"id\":\"a\"}}\n{\"properties\":{\"id\":\"b\"}}]}", 1, []string{"invalid JSON"}},
		{"trailing data", `{"features":[]} {}`, 0, []string{"data after the FeatureCollection"}},
		{"trailing garbage", `{"features":[]} x`, 0, []string{"invalid JSON"}},
		{"broken before features", `{"name":tru, "features":[]}`, 0, []string{"invalid JSON"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeInput(t, "f.geojson", tt.content)
			got, err := readAll(t, path, FormatGeoJSON, nil)
			if err == nil {
				t.Fatalf("no error; %d records", len(got))
			}
			if len(got) != tt.records {
				t.Errorf("%d records before the error, want %d", len(got), tt.records)
			}
			for _, part := range append(tt.err, path) {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not contain %q", err, part)
				}
			}
			if _, err := CountRecords(path, FormatGeoJSON); err == nil {
				t.Error("CountRecords: no error")
			}
		})
	}
}

func TestReadGeoJSONMemberOrder(t *testing.T) {
	for name, content := range map[string]string{
		"features first":  `{"features":[{"id":"x","properties":{}}],"type":"FeatureCollection"}`,
		"no type":         `{"features":[{"id":"x","properties":{}}]}`,
		"foreign members": `{"bbox":[0,0,1,1],"crs":{"type":"name","properties":{"name":"EPSG:4326","features":[1]}},"features":[{"id":"x","type":"Feature","geometry":null,"properties":null}],"name":{"n":[[1e400]]},"type":"FeatureCollection","extra":[[],{}]}`,
		"huge number":     `{"x":1e99999,"features":[{"id":"x"}]}`,
	} {
		t.Run(name, func(t *testing.T) {
			path := writeInput(t, "o.geojson", content)
			checkRecords(t, path, mustReadAll(t, path, FormatGeoJSON, nil), []wantRecord{
				{line: "1", s: &coveragev1.Settlement{Id: "x"}},
			})
		})
	}
}

func TestReadGeoJSONFeatureID(t *testing.T) {
	tests := []struct {
		feature string
		id      string
	}{
		{`{"id":"from-feature","properties":{}}`, "from-feature"},
		{`{"id":220100,"properties":{}}`, "220100"},
		{`{"id":-7,"properties":null}`, "-7"},
		{`{"id":"from-feature","properties":{"id":"from-properties"}}`, "from-properties"},
		{`{"id":"from-feature","properties":{"id":""}}`, "from-feature"},
		{`{"id":"\u00e9","properties":{}}`, "é"},
	}
	for _, tt := range tests {
		path := writeInput(t, "id.geojson", `{"features":[`+tt.feature+`]}`)
		got := mustReadAll(t, path, FormatGeoJSON, nil)
		checkRecords(t, path, got, []wantRecord{{line: "1", s: &coveragev1.Settlement{Id: tt.id}}})
	}
}
