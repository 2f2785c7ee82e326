package batch

import (
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"

	"google.golang.org/protobuf/proto"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

func inputFixture(name string) string { return filepath.Join("testdata", "input", name) }

// The areas of testdata/input/areas.geojson.
var (
	townAArea = &coveragev1.MultiPolygon{Polygons: []*coveragev1.Polygon{
		{Rings: []*coveragev1.LinearRing{wantRing(wantLL(125.0, 43.0), wantLL(125.1, 43.0), wantLL(125.1, 43.1), wantLL(125.0, 43.0))}},
		{Rings: []*coveragev1.LinearRing{wantRing(wantLL(125.0, 42.9), wantLL(125.1, 42.9), wantLL(125.1, 43.0), wantLL(125.0, 42.9))}},
	}}
	countyCArea = &coveragev1.MultiPolygon{Polygons: []*coveragev1.Polygon{
		{Rings: []*coveragev1.LinearRing{wantRing(wantLL(126.0, 44.0), wantLL(126.1, 44.0), wantLL(126.1, 44.1), wantLL(126.0, 44.0))}},
	}}
)

func wantPositions(ps ...*coveragev1.LonLat) *coveragev1.Positions {
	return &coveragev1.Positions{Positions: ps}
}

func TestJoinCSVStops(t *testing.T) {
	gcj := coveragev1.CoordinateSystem_COORDINATE_SYSTEM_GCJ02
	geo, err := LoadGeometry(inputFixture("areas.geojson"), inputFixture("stops.csv"), gcj, coveragev1.CoordinateSystem_COORDINATE_SYSTEM_UNSPECIFIED)
	if err != nil {
		t.Fatal(err)
	}
	path := inputFixture("settlements.jsonl")
	got := mustReadAll(t, path, FormatJSONL, geo)
	checkRecords(t, path, got, []wantRecord{
		{line: "1", s: &coveragev1.Settlement{
			Id: "town-a", Name: "Town A", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_TOWN,
			ResidentPopulation: wantInt(18000), CountySeat: wantBool(true),
			CentralAreaPolygons: townAArea, CentralAreaCrs: gcj,
			BusStopPositions: wantPositions(wantLL(125.05, 43.05), wantLL(125.06, 43.06)),
		}},
		{line: "3", s: &coveragev1.Settlement{
			Id: "city-b", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_CITY, UrbanPopulation: wantInt(1200000),
			Facilities: &coveragev1.FacilityCounts{Level2GeneralHospitals: wantInt(4)},
			BusFleet: &coveragev1.PublicTransportFleet{Vehicles: []*coveragev1.VehicleGroup{
				{VehicleClass: "LENGTH_10_13M", Count: 40},
			}},
			BusStopPositions: wantPositions(wantLL(125.3, 43.9)),
			BusStopsCrs:      gcj,
		}},
		{line: "5", s: &coveragev1.Settlement{
			Id: "county-c", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_COUNTY,
			ResidentPopulation: wantInt(52000), AverageBusSpeedKmh: wantFloat(17.5),
			CentralAreaPolygons: countyCArea, CentralAreaCrs: gcj,
			BusStopPositions: wantPositions(wantLL(126.05, 44.05)),
		}},
	})
	if got, want := geo.Unused(), []string{"town-typo"}; !slices.Equal(got, want) {
		t.Errorf("Unused() = %q, want %q", got, want)
	}
}

func TestJoinGeoJSONStops(t *testing.T) {
	wgs := coveragev1.CoordinateSystem_COORDINATE_SYSTEM_WGS84
	geo, err := LoadGeometry("", inputFixture("stops.geojson"), coveragev1.CoordinateSystem_COORDINATE_SYSTEM_UNSPECIFIED, wgs)
	if err != nil {
		t.Fatal(err)
	}
	path := inputFixture("settlements.csv")
	got := mustReadAll(t, path, FormatCSV, geo)
	if len(got) != 3 || got[0].Err != nil || got[2].Err != nil {
		t.Fatalf("records %v", got)
	}
	if s := got[0].Settlement; !proto.Equal(s.BusStopPositions, wantPositions(wantLL(125.05, 43.05), wantLL(125.06, 43.06))) || s.BusStopsCrs != wgs || s.CentralAreaPolygons != nil {
		t.Errorf("town-a: stops %v in %v, area %v", s.BusStopPositions, s.BusStopsCrs, s.CentralAreaPolygons)
	}
	if s := got[2].Settlement; !proto.Equal(s.BusStopPositions, wantPositions(wantLL(126.05, 44.05), wantLL(126.06, 44.06))) || s.BusStopsCrs != wgs {
		t.Errorf("county-c: stops %v in %v", s.BusStopPositions, s.BusStopsCrs)
	}
	if s := got[1].Settlement; s.BusStopPositions != nil || s.BusStopsCrs != coveragev1.CoordinateSystem_COORDINATE_SYSTEM_UNSPECIFIED {
		t.Errorf("city-b: stops %v in %v, want none", s.BusStopPositions, s.BusStopsCrs)
	}
	// town-e's empty MultiPoint is a settlement without stops, which no
	// input has.
	if got, want := geo.Unused(), []string{"town-e"}; !slices.Equal(got, want) {
		t.Errorf("Unused() = %q, want %q", got, want)
	}
	if ps, ok := geo.stops["town-e"]; !ok || ps == nil || len(ps.Positions) != 0 {
		t.Errorf("town-e: stops %v, want an empty list", ps)
	}
}

func TestJoinGivenBoth(t *testing.T) {
	geo, err := LoadGeometry(inputFixture("areas.geojson"), inputFixture("stops.csv"), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	path := inputFixture("settlements.geojson")
	got := mustReadAll(t, path, FormatGeoJSON, geo)
	want := geojsonFixture()
	want[0] = wantRecord{line: "4", errParts: []string{"centralArea: given both in the input and in the areas file"}}
	want[2].s.CentralAreaPolygons = countyCArea
	want[2].s.BusStopPositions = wantPositions(wantLL(126.05, 44.05))
	checkRecords(t, path, got, want)
	if got, want := geo.Unused(), []string{"town-typo"}; !slices.Equal(got, want) {
		t.Errorf("Unused() = %q, want %q", got, want)
	}

	jsonl := writeInput(t, "both.jsonl", strings.Join([]string{
		`{"id":"town-a","busStops":{"type":"MultiPoint","coordinates":[[125,43]]}}`,
		`{"id":"town-a","busStopPositions":{}}`,
		`{"id":"town-a","centralArea":{"type":"Polygon","coordinates":[]},"busStopPositions":{"positions":[]}}`,
		`{"id":"county-c","centralAreaPolygons":{}}`,
		`{"id":"county-c","centralAreaCrs":"COORDINATE_SYSTEM_BD09","busStopsCrs":"COORDINATE_SYSTEM_BD09"}`,
	}, "\n"))
	geo, err = LoadGeometry(inputFixture("areas.geojson"), inputFixture("stops.csv"), 0, coveragev1.CoordinateSystem_COORDINATE_SYSTEM_GCJ02)
	if err != nil {
		t.Fatal(err)
	}
	checkRecords(t, jsonl, mustReadAll(t, jsonl, FormatJSONL, geo), []wantRecord{
		{line: "1", errParts: []string{"busStops: given both in the input and in the stops file"}},
		{line: "2", errParts: []string{"busStops: given both in the input and in the stops file"}},
		{line: "3", errParts: []string{"centralArea: given both in the input and in the areas file", "busStops: given both"}},
		{line: "4", errParts: []string{"centralArea: given both in the input and in the areas file"}},
		// The areas file has no declared system, so the input's stands;
		// the stops file's contradicts the input's.
		{line: "5", errParts: []string{"busStopsCrs: COORDINATE_SYSTEM_BD09 in the input but COORDINATE_SYSTEM_GCJ02 for the stops file"}},
	})
}

func TestJoinTwiceSharesNothing(t *testing.T) {
	geo, err := LoadGeometry(inputFixture("areas.geojson"), inputFixture("stops.csv"), 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	path := writeInput(t, "twice.jsonl", "{\"id\":\"town-a\"}\n{\"id\":\"town-a\"}\n")
	got := mustReadAll(t, path, FormatJSONL, geo)
	if len(got) != 2 || got[0].Err != nil || got[1].Err != nil {
		t.Fatalf("records %v", got)
	}
	first := got[0].Settlement
	first.CentralAreaPolygons.Polygons[0].Rings[0].Positions[0].Lon = 0
	first.CentralAreaPolygons.Polygons = first.CentralAreaPolygons.Polygons[:1]
	first.BusStopPositions.Positions[0].Lat = 0
	if s := got[1].Settlement; !proto.Equal(s.CentralAreaPolygons, townAArea) || !proto.Equal(s.BusStopPositions, wantPositions(wantLL(125.05, 43.05), wantLL(125.06, 43.06))) {
		t.Errorf("second join changed by the first: %v %v", s.CentralAreaPolygons, s.BusStopPositions)
	}
	if !proto.Equal(geo.areas["town-a"], townAArea) {
		t.Error("the stored area changed")
	}
}

func TestJoinConcurrent(t *testing.T) {
	geo, err := LoadGeometry(inputFixture("areas.geojson"), "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			recs, err := readAll(t, inputFixture("settlements.csv"), FormatCSV, geo)
			if err != nil {
				t.Error(err)
			}
			for _, rec := range recs {
				if rec.Err != nil {
					t.Error(rec.Err)
				}
			}
			geo.Unused()
		})
	}
	wg.Wait()
}

func TestUnusedCountsRejectedRecords(t *testing.T) {
	geo, err := LoadGeometry(inputFixture("areas.geojson"), "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	path := writeInput(t, "r.csv", "id,residentPopulation\ntown-a,12x\ncounty-c,1\n")
	got := mustReadAll(t, path, FormatCSV, geo)
	if len(got) != 2 || got[0].Err == nil || got[1].Err != nil {
		t.Fatalf("records %v", got)
	}
	if got, want := geo.Unused(), []string{"town-typo"}; !slices.Equal(got, want) {
		t.Errorf("Unused() = %q, want %q", got, want)
	}
	var nilGeo *Geometry
	if nilGeo.Unused() != nil {
		t.Error("nil Geometry has unused IDs")
	}
}

func TestLoadGeometryNone(t *testing.T) {
	geo, err := LoadGeometry("", "", 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	path := inputFixture("settlements.jsonl")
	if got := mustReadAll(t, path, FormatJSONL, geo); len(got) != 3 || got[0].Settlement.CentralAreaPolygons != nil {
		t.Errorf("records %v", got)
	}
	if u := geo.Unused(); len(u) != 0 {
		t.Errorf("Unused() = %q", u)
	}
}

func TestLoadGeometryErrors(t *testing.T) {
	const poly = `{"type":"Polygon","coordinates":[[[1,1],[2,1],[2,2],[1,1]]]}`
	tests := []struct {
		name       string
		file, body string
		areas      bool // an areas file, else stops
		err        []string
	}{
		{"area without id", "a.geojson", "{\"features\":[\n{\"properties\":{\"settlementId\":\"x\"},\"geometry\":" + poly + "},\n\n{\"properties\":{\"name\":\"y\"},\"geometry\":" + poly + "}]}", true,
			[]string{":4: features[1]: no settlementId property"}},
		{"area id of a bad type", "a.geojson", `{"features":[{"properties":{"settlementId":true},"geometry":` + poly + `}]}`, true,
			[]string{":1: features[0]: properties.settlementId: neither a string nor a number"}},
		{"area as a point", "a.geojson", "{\"features\":[\n{\"properties\":{\"settlementId\":\"x\"},\"geometry\":{\"type\":\"Point\",\"coordinates\":[1,2]}}]}", true,
			[]string{`:2: features[0]: geometry: type "Point", want a Polygon or a MultiPolygon`}},
		{"area without geometry", "a.geojson", `{"features":[{"properties":{"settlementId":"x"},"geometry":null}]}`, true,
			[]string{"features[0]: geometry: none, want a Polygon or a MultiPolygon"}},
		{"area with bad coordinates", "a.geojson", `{"features":[{"properties":{"settlementId":"x"},"geometry":{"type":"Polygon","coordinates":[[[1,"a"]]]}}]}`, true,
			[]string{"features[0]: geometry: Polygon coordinates: a position must be"}},
		{"areas not a collection", "a.geojson", `{"type":"Feature","properties":{"settlementId":"x"},"geometry":` + poly + `}`, true,
			[]string{`not a GeoJSON FeatureCollection: its type is "Feature"`}},
		{"areas not JSON", "a.geojson", `settlementId,lon,lat`, true, []string{"invalid JSON"}},
		{"stops with a polygon", "s.geojson", `{"features":[{"properties":{"settlementId":"x"},"geometry":` + poly + `}]}`, false,
			[]string{`features[0]: geometry: type "Polygon", want a Point or a MultiPoint`}},
		{"stops as JSONL", "s.jsonl", `{}`, false, []string{"a stops file is CSV (.csv) or GeoJSON (.geojson, .json)"}},
		{"stops of unknown format", "s.txt", `{}`, false, []string{"cannot tell the input format"}},
		{"stops missing columns", "s.csv", "id,lon\nx,1\n", false, []string{":1: no column settlementId, lat"}},
		{"stops column twice", "s.csv", "settlementId,lon,lat,settlement_id\n", false, []string{"column settlement_id given twice"}},
		{"stops bad number", "s.csv", "settlementId,lon,lat\nx,1,2\ny,1,4x\n", false, []string{`:3: column lat: "4x" is not a number`}},
		{"stops missing number", "s.csv", "lat,settlementId,lon\n1,x,\n", false, []string{":2: column lon: empty"}},
		{"stops infinite", "s.csv", "settlementId,lon,lat\nx,1,inf\n", false, []string{`:2: column lat: "inf" is not a finite number`}},
		{"stops missing id", "s.csv", "settlementId,lon,lat\n,1,2\n", false, []string{":2: column settlementId: empty"}},
		{"stops short row", "s.csv", "settlementId,lon,lat\nx,1\n", false, []string{":2: 2 cells, but the header has 3 columns"}},
		{"stops broken quoting", "s.csv", "settlementId,lon,lat\n\"x,1,2\n", false, []string{":2: malformed CSV"}},
		{"stops empty", "s.csv", "", false, []string{"empty file"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := writeInput(t, tt.file, tt.body)
			var err error
			if tt.areas {
				_, err = LoadGeometry(path, "", 0, 0)
			} else {
				_, err = LoadGeometry("", path, 0, 0)
			}
			if err == nil {
				t.Fatal("no error")
			}
			for _, part := range append(tt.err, path) {
				if !strings.Contains(err.Error(), part) {
					t.Errorf("error %q does not contain %q", err, part)
				}
			}
		})
	}
	if _, err := LoadGeometry(filepath.Join(t.TempDir(), "missing.geojson"), "", 0, 0); err == nil {
		t.Error("missing areas file: no error")
	}
}

func TestSideFileIDs(t *testing.T) {
	path := writeInput(t, "ids.geojson", `{"features":[
		{"properties":{"settlementId":"a","id":"ignored"},"geometry":{"type":"Point","coordinates":[1,1]}},
		{"properties":{"id":"b"},"geometry":{"type":"Point","coordinates":[2,2]}},
		{"id":"c","properties":null,"geometry":{"type":"Point","coordinates":[3,3]}},
		{"properties":{"settlementId":220100},"geometry":{"type":"Point","coordinates":[4,4,100]}},
		{"properties":{"settlementId":""},"id":"e","geometry":{"type":"Point","coordinates":[5,5]}}
	]}`)
	geo, err := LoadGeometry("", path, 0, 0)
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]*coveragev1.Positions{
		"a": wantPositions(wantLL(1, 1)), "b": wantPositions(wantLL(2, 2)), "c": wantPositions(wantLL(3, 3)),
		"220100": wantPositions(wantLL(4, 4)), "e": wantPositions(wantLL(5, 5)),
	}
	if len(geo.stops) != len(want) {
		t.Errorf("stops of %d IDs, want %d", len(geo.stops), len(want))
	}
	for id, w := range want {
		if !proto.Equal(geo.stops[id], w) {
			t.Errorf("%s: stops %v, want %v", id, geo.stops[id], w)
		}
	}
}
