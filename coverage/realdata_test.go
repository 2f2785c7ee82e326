package coverage

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/civic-standards/coverage/coverage/geo"
)

// Real boundaries and stops, described (sources, CRS, licences) in
// /work/shared/realdata/SOURCES.md. They are reference data outside the
// repository; the tests skip when the folder is absent.

func rdPath(t *testing.T, name string) string {
	t.Helper()
	dir := filepath.Join("..", "..", "shared", "realdata")
	if _, err := os.Stat(dir); err != nil {
		t.Skipf("real data folder %s is absent (%v); see shared/realdata/SOURCES.md", dir, err)
	}
	p := filepath.Join(dir, name)
	if _, err := os.Stat(p); err != nil {
		t.Skipf("real data file %s is absent: %v", p, err)
	}
	return p
}

func rdRead(t *testing.T, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(rdPath(t, name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

type rdFeature struct {
	raw   json.RawMessage
	Name  string
	Code  int
	Verts int
}

// rdFeatures reads a DataV FeatureCollection (or a JSON array of features)
// and returns its features by name.
func rdFeatures(t *testing.T, data []byte) map[string]rdFeature {
	t.Helper()
	var raws []json.RawMessage
	if bytes.HasPrefix(bytes.TrimSpace(data), []byte("[")) {
		if err := json.Unmarshal(data, &raws); err != nil {
			t.Fatal(err)
		}
	} else {
		var fc struct {
			Type     string            `json:"type"`
			Features []json.RawMessage `json:"features"`
		}
		if err := json.Unmarshal(data, &fc); err != nil {
			t.Fatal(err)
		}
		if fc.Type != "FeatureCollection" {
			t.Fatalf("type %q, want FeatureCollection", fc.Type)
		}
		raws = fc.Features
	}
	out := map[string]rdFeature{}
	for _, raw := range raws {
		var f struct {
			Properties struct {
				Name   string `json:"name"`
				Adcode int    `json:"adcode"`
			} `json:"properties"`
			Geometry struct {
				Coordinates [][][][2]float64 `json:"coordinates"`
			} `json:"geometry"`
		}
		if err := json.Unmarshal(raw, &f); err != nil {
			t.Fatalf("feature: %v", err)
		}
		n := 0
		for _, poly := range f.Geometry.Coordinates {
			for _, r := range poly {
				n += len(r)
			}
		}
		out[f.Properties.Name] = rdFeature{raw: raw, Name: f.Properties.Name, Code: f.Properties.Adcode, Verts: n}
	}
	return out
}

// rdCollection is a FeatureCollection of the named features, which must exist.
func rdCollection(t *testing.T, features map[string]rdFeature, names ...string) []byte {
	t.Helper()
	parts := make([]string, len(names))
	for i, n := range names {
		f, ok := features[n]
		if !ok {
			have := make([]string, 0, len(features))
			for k := range features {
				have = append(have, k)
			}
			t.Fatalf("no feature named %s; have %v", n, have)
		}
		parts[i] = string(f.raw)
	}
	return []byte(`{"type":"FeatureCollection","features":[` + strings.Join(parts, ",") + `]}`)
}

func rdMultiPoint(t *testing.T, pts [][2]float64) []byte {
	t.Helper()
	data, err := json.Marshal(map[string]any{"type": "MultiPoint", "coordinates": pts})
	if err != nil {
		t.Fatal(err)
	}
	return data
}

// rdChangchunStops: the distinct vertices of the SuperMap Changchun bus lines.
// SOURCES.md says their datum is not stated; they are read as GCJ-02 (the
// Chinese web-map datum the boundaries also use), which is an assumption.
func rdChangchunStops(t *testing.T) [][2]float64 {
	t.Helper()
	var lines []struct {
		Coords [][2]float64 `json:"coords"`
	}
	if err := json.Unmarshal(rdRead(t, "supermap_changchunBus.json"), &lines); err != nil {
		t.Fatal(err)
	}
	seen := map[[2]float64]bool{}
	var pts [][2]float64
	for _, l := range lines {
		for _, p := range l.Coords {
			if !seen[p] {
				seen[p] = true
				pts = append(pts, p)
			}
		}
	}
	if len(lines) < 100 || len(pts) < 10_000 {
		t.Fatalf("%d lines with %d distinct vertices; the file is not what SOURCES.md describes", len(lines), len(pts))
	}
	return pts
}

func rdRuleset(t *testing.T) *Ruleset {
	t.Helper()
	c, err := DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := c.Ruleset(DefaultRulesetID)
	if err != nil {
		t.Fatal(err)
	}
	return rs
}

// rdCheck asserts the invariants of a real-data coverage and logs it.
func rdCheck(t *testing.T, what string, sc *StopCoverage) {
	t.Helper()
	if !(sc.Share > 0 && sc.Share < 1) {
		t.Errorf("%s: share %v, want a value in (0, 1)", what, sc.Share)
	}
	if got := sc.StopsInside + sc.StopsOutsideNear + sc.StopsBeyond + sc.DuplicatesMerged; got != sc.StopsGiven {
		t.Errorf("%s: inside %d + outside-near %d + beyond %d + duplicates %d = %d, want the %d given",
			what, sc.StopsInside, sc.StopsOutsideNear, sc.StopsBeyond, sc.DuplicatesMerged, got, sc.StopsGiven)
	}
	if sc.StopsUsed != sc.StopsInside+sc.StopsOutsideNear {
		t.Errorf("%s: used %d ≠ inside %d + outside-near %d", what, sc.StopsUsed, sc.StopsInside, sc.StopsOutsideNear)
	}
	if sc.CoveredKm2 < 0 || sc.CoveredKm2 > sc.TotalKm2 || math.Abs(sc.Share-sc.CoveredKm2/sc.TotalKm2) > 1e-12 {
		t.Errorf("%s: covered %v of %v km² with share %v", what, sc.CoveredKm2, sc.TotalKm2, sc.Share)
	}
	t.Logf("%s: share %.4f (%.3f of %.3f km² within %v m); stops given %d: inside %d, outside within radius %d, beyond %d, duplicates %d; %d area vertices",
		what, sc.Share, sc.CoveredKm2, sc.TotalKm2, sc.RadiusM, sc.StopsGiven, sc.StopsInside, sc.StopsOutsideNear, sc.StopsBeyond, sc.DuplicatesMerged, sc.AreaVertices)
}

// rdElapsed logs the time taken (the tests are sized to take well under 2 s
// without the race detector).
func rdElapsed(t *testing.T, start time.Time) {
	t.Helper()
	t.Logf("took %v", time.Since(start).Round(time.Millisecond))
}

var changchunCentral = []string{"南关区", "宽城区", "朝阳区", "二道区"}

// TestRealChangchunCentralDistricts: the four central districts of Changchun
// (DataV, GCJ-02) as one FeatureCollection. Adjacent districts share their
// common boundary vertex for vertex; polygons that touch along an edge do
// not overlap (the API promises only "polygons that do not overlap"), so the
// collection must be accepted as their union.
func TestRealChangchunCentralDistricts(t *testing.T) {
	features := rdFeatures(t, rdRead(t, "datav_220100_full.json"))
	area := rdCollection(t, features, changchunCentral...)
	stops := rdChangchunStops(t)
	start := time.Now()
	s := &Settlement{
		Kind: KindCity, UrbanPopulation: Int64(4_000_000),
		CentralArea: &Geometry{GeoJSON: area, CRS: CRSGCJ02},
		BusStops:    &Geometry{GeoJSON: rdMultiPoint(t, stops), CRS: CRSGCJ02},
	}
	sc, err := MeasureStopCoverage(context.Background(), s, 300)
	if err != nil {
		t.Fatalf("the four adjacent central districts %v as one FeatureCollection are rejected: %v", changchunCentral, err)
	}
	rdCheck(t, "Changchun central districts "+strings.Join(changchunCentral, "+"), sc)
	rdElapsed(t, start)
}

// TestRealChangchunDistrict evaluates the ruleset on one central district of
// Changchun, 南关区 (tier LARGE: urban population 4,000,000), with the bus
// line vertices as stops: the four districts cannot be given together (see
// TestRealChangchunCentralDistricts).
func TestRealChangchunDistrict(t *testing.T) {
	const name = "南关区"
	features := rdFeatures(t, rdRead(t, "datav_220100_full.json"))
	f, ok := features[name]
	if !ok || f.Code != 220102 {
		t.Fatalf("no district %s (220102) in datav_220100_full.json", name)
	}
	stops := rdMultiPoint(t, rdChangchunStops(t))
	rs := rdRuleset(t)
	start := time.Now()
	s := &Settlement{
		ID: strconv.Itoa(f.Code), Name: "长春市" + name,
		Kind: KindCity, UrbanPopulation: Int64(4_000_000),
		CentralArea: &Geometry{GeoJSON: rdCollection(t, features, name), CRS: CRSGCJ02},
		BusStops:    &Geometry{GeoJSON: stops, CRS: CRSGCJ02},
	}
	a, err := rs.EvaluateContext(context.Background(), s, TopicBusStopCoverage)
	if err != nil {
		t.Fatal(err)
	}
	if a.Tier.ID != "LARGE" {
		t.Errorf("tier %q, want LARGE", a.Tier.ID)
	}
	sc := a.StopCoverage
	if sc == nil {
		t.Fatal("no stop coverage in the audit")
	}
	if sc.Tier != "LARGE" || sc.Threshold == nil || *sc.Threshold != 1 {
		t.Errorf("tier %q threshold %v, want LARGE and 1", sc.Tier, sc.Threshold)
	}
	if sc.AreaCRS != CRSGCJ02 || sc.StopsCRS != CRSGCJ02 {
		t.Errorf("CRS %q/%q, want GCJ-02", sc.AreaCRS, sc.StopsCRS)
	}
	rdCheck(t, "Changchun "+name, sc)
	if len(a.Results) != 1 {
		t.Fatalf("%d results for the bus-stop topic, want 1", len(a.Results))
	}
	r := a.Results[0]
	t.Logf("%s: %s %s — %s", name, r.RuleID, r.Status, r.Reason)
	if sc.Share < 1 && (r.Status != StatusNonCompliant || sc.ShortfallShare == nil || math.Abs(*sc.ShortfallShare-(1-sc.Share)) > 1e-12) {
		t.Errorf("status %s shortfall %v for share %v against 100%%", r.Status, sc.ShortfallShare, sc.Share)
	}
	rdElapsed(t, start)
}

// TestRealChangchunOtherDistricts measures the other three central districts
// one at a time, for the record.
func TestRealChangchunOtherDistricts(t *testing.T) {
	features := rdFeatures(t, rdRead(t, "datav_220100_full.json"))
	stops := &Geometry{Points: rdChangchunStops(t), CRS: CRSGCJ02}
	for _, name := range changchunCentral[1:] {
		start := time.Now()
		s := &Settlement{Kind: KindCity, CentralArea: &Geometry{GeoJSON: rdCollection(t, features, name), CRS: CRSGCJ02}, BusStops: stops}
		sc, err := MeasureStopCoverage(context.Background(), s, 300)
		if err != nil {
			t.Errorf("%s: %v", name, err)
			continue
		}
		rdCheck(t, "Changchun "+name, sc)
		rdElapsed(t, start)
	}
}

// TestRealYanjiGrid: Yanji (DataV 2019, a JSON array of one Feature, GCJ-02)
// with synthetic stops on a 400 m grid over its bounding box. Every point of
// a 400 m grid cell is within 400/√2 ≈ 283 m of a corner, so the whole city
// is covered, up to projection distortion far below the 6% margin.
func TestRealYanjiGrid(t *testing.T) {
	features := rdFeatures(t, rdRead(t, "datav2019_222401_yanji.json"))
	f, ok := features["延吉市"]
	if !ok || f.Code != 222401 {
		t.Fatalf("no 延吉市 (222401) in the file: %v", features)
	}
	var g struct {
		Geometry struct {
			Coordinates [][][][2]float64 `json:"coordinates"`
		} `json:"geometry"`
	}
	if err := json.Unmarshal(f.raw, &g); err != nil {
		t.Fatal(err)
	}
	minLon, maxLon, minLat, maxLat := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	for _, poly := range g.Geometry.Coordinates {
		for _, r := range poly {
			for _, p := range r {
				minLon, maxLon = math.Min(minLon, p[0]), math.Max(maxLon, p[0])
				minLat, maxLat = math.Min(minLat, p[1]), math.Max(maxLat, p[1])
			}
		}
	}
	dLat := 400 / 111_132.0
	dLon := 400 / (111_320.0 * math.Cos(maxLat*math.Pi/180)) // at most 400 m anywhere in the box
	var stops [][2]float64
	for lat := minLat - dLat; lat <= maxLat+dLat; lat += dLat {
		for lon := minLon - dLon; lon <= maxLon+dLon; lon += dLon {
			stops = append(stops, [2]float64{lon, lat})
		}
	}
	start := time.Now()
	s := &Settlement{
		Kind: KindCountyLevelCity, UrbanPopulation: Int64(600_000),
		CentralArea: &Geometry{GeoJSON: f.raw, CRS: CRSGCJ02},
		BusStops:    &Geometry{Points: stops, CRS: CRSGCJ02},
	}
	sc, err := MeasureStopCoverage(context.Background(), s, 300)
	if err != nil {
		t.Fatal(err)
	}
	if sc.Share < 0.6 || sc.Share > 1 {
		t.Errorf("share %v, want between 0.6 and 1", sc.Share)
	}
	if sc.Share < 1-1e-9 {
		t.Errorf("share %.12f with stops every 400 m (every point within 283 m of one), want 1", sc.Share)
	}
	if got := sc.StopsInside + sc.StopsOutsideNear + sc.StopsBeyond + sc.DuplicatesMerged; got != sc.StopsGiven || sc.StopsGiven != len(stops) {
		t.Errorf("stop counts add up to %d of %d given (%d generated)", got, sc.StopsGiven, len(stops))
	}
	// Yanji's administrative area is about 1,748 km²; this boundary measures about 1,732 km².
	if sc.TotalKm2 < 1650 || sc.TotalKm2 > 1850 {
		t.Errorf("Yanji area %.1f km², want about 1,748", sc.TotalKm2)
	}
	t.Logf("Yanji with a 400 m grid: share %.10f, %.3f of %.3f km², %d stops (%d inside, %d near, %d beyond), %d area vertices",
		sc.Share, sc.CoveredKm2, sc.TotalKm2, sc.StopsGiven, sc.StopsInside, sc.StopsOutsideNear, sc.StopsBeyond, sc.AreaVertices)
	rdElapsed(t, start)
}

// rdHangzhouStops reads hzdatasets_Busstop.csv (';'-separated, no header:
// id;name;x;y;road;;lines). Per SOURCES.md its x/y are GCJ-02 with the
// GCJ-02 offset applied a second time, so one GCJ-02 → WGS-84 step gives
// true GCJ-02. Rows without x/y and the file's repeated copies are dropped.
func rdHangzhouStops(t *testing.T) [][2]float64 {
	t.Helper()
	f, err := os.Open(rdPath(t, "hzdatasets_Busstop.csv"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	seen := map[[2]float64]bool{}
	var pts [][2]float64
	rows, blank := 0, 0
	for sc.Scan() {
		line := strings.TrimRight(sc.Text(), "\r")
		if line == "" {
			continue
		}
		rows++
		cols := strings.Split(line, ";")
		if len(cols) < 4 || cols[2] == "" || cols[3] == "" {
			blank++
			continue
		}
		x, err1 := strconv.ParseFloat(cols[2], 64)
		y, err2 := strconv.ParseFloat(cols[3], 64)
		if err := errors.Join(err1, err2); err != nil {
			t.Fatalf("row %d: %v", rows, err)
		}
		if x < 118 || x > 122 || y < 29 || y > 31 {
			t.Fatalf("row %d: (%v, %v) is not in Hangzhou; are the columns lon;lat?", rows, x, y)
		}
		lon, lat := geo.GCJ02.ToWGS84(x, y) // undo the second GCJ-02 offset
		p := [2]float64{lon, lat}
		if !seen[p] {
			seen[p] = true
			pts = append(pts, p)
		}
	}
	if err := sc.Err(); err != nil {
		t.Fatal(err)
	}
	t.Logf("Hangzhou: %d rows, %d without x/y, %d distinct stops", rows, blank, len(pts))
	if rows != 5589 || len(pts) < 1700 || len(pts) > 1863 {
		t.Errorf("%d rows and %d distinct stops; SOURCES.md describes 5589 rows, 3 copies of 1863 stops (33 without x/y)", rows, len(pts))
	}
	return pts
}

// TestRealHangzhou: the central districts of Hangzhou (DataV, pre-2021
// boundaries, GCJ-02) against the hzbus stops, one district at a time, and
// the old city (上城区 + 下城区) as one FeatureCollection.
func TestRealHangzhou(t *testing.T) {
	features := rdFeatures(t, rdRead(t, "datav_330100_full.json"))
	stops := &Geometry{Points: rdHangzhouStops(t), CRS: CRSGCJ02}
	for _, name := range []string{"上城区", "下城区", "西湖区", "拱墅区", "江干区", "滨江区"} {
		start := time.Now()
		s := &Settlement{Kind: KindCity, CentralArea: &Geometry{GeoJSON: rdCollection(t, features, name), CRS: CRSGCJ02}, BusStops: stops}
		sc, err := MeasureStopCoverage(context.Background(), s, 300)
		if err != nil {
			t.Errorf("Hangzhou %s: %v", name, err)
			continue
		}
		rdCheck(t, "Hangzhou "+name, sc)
		rdElapsed(t, start)
	}
	t.Run("old city as one collection", func(t *testing.T) {
		s := &Settlement{Kind: KindCity, CentralArea: &Geometry{GeoJSON: rdCollection(t, features, "上城区", "下城区"), CRS: CRSGCJ02}, BusStops: stops}
		sc, err := MeasureStopCoverage(context.Background(), s, 300)
		if err != nil {
			t.Fatalf("上城区 + 下城区, adjacent districts, as one FeatureCollection are rejected: %v", err)
		}
		rdCheck(t, "Hangzhou 上城区+下城区", sc)
	})
}
