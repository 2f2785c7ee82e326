package geo

import (
	"errors"
	"math"
	"reflect"
	"slices"
	"strings"
	"testing"
)

const (
	squareRing = `[[125.31,43.87],[125.33,43.87],[125.33,43.89],[125.31,43.89],[125.31,43.87]]`
	holeRing   = `[[125.315,43.875],[125.315,43.885],[125.325,43.885],[125.315,43.875]]`
	otherRing  = `[[125.40,43.90],[125.42,43.90],[125.42,43.92],[125.40,43.90]]`
)

var (
	squareLL = []LonLat{{125.31, 43.87}, {125.33, 43.87}, {125.33, 43.89}, {125.31, 43.89}, {125.31, 43.87}}
	holeLL   = []LonLat{{125.315, 43.875}, {125.315, 43.885}, {125.325, 43.885}, {125.315, 43.875}}
	otherLL  = []LonLat{{125.40, 43.90}, {125.42, 43.90}, {125.42, 43.92}, {125.40, 43.90}}
)

func TestDecodeArea(t *testing.T) {
	polygon := `{"type":"Polygon","coordinates":[` + squareRing + `,` + holeRing + `]}`
	multi := `{"type":"MultiPolygon","coordinates":[[` + squareRing + `,` + holeRing + `],[` + otherRing + `]]}`
	for _, c := range []struct {
		name      string
		json      string
		wantPolys []PolygonLL
		wantPaths []string
	}{
		{"Polygon with a hole", polygon,
			[]PolygonLL{{squareLL, holeLL}}, []string{"coordinates"}},
		{"MultiPolygon", multi,
			[]PolygonLL{{squareLL, holeLL}, {otherLL}}, []string{"coordinates[0]", "coordinates[1]"}},
		{"Feature of a Polygon", `{"type":"Feature","properties":{"name":"x"},"geometry":` + polygon + `}`,
			[]PolygonLL{{squareLL, holeLL}}, []string{"geometry.coordinates"}},
		{"Feature of a MultiPolygon", `{"type":"Feature","properties":null,"geometry":` + multi + `}`,
			[]PolygonLL{{squareLL, holeLL}, {otherLL}}, []string{"geometry.coordinates[0]", "geometry.coordinates[1]"}},
		{"FeatureCollection", `{"type":"FeatureCollection","features":[` +
			`{"type":"Feature","properties":{"adcode":1},"geometry":{"type":"Polygon","coordinates":[` + otherRing + `]}},` +
			`{"type":"Feature","properties":{"adcode":2},"geometry":` + multi + `}]}`,
			[]PolygonLL{{otherLL}, {squareLL, holeLL}, {otherLL}},
			[]string{"features[0].geometry.coordinates", "features[1].geometry.coordinates[0]", "features[1].geometry.coordinates[1]"}},
		{"third coordinate (altitude) is dropped", `{"type":"Polygon","coordinates":[[[125.40,43.90,5],[125.42,43.90,6],[125.42,43.92,7],[125.40,43.90,5]]]}`,
			[]PolygonLL{{otherLL}}, []string{"coordinates"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			polys, paths, err := DecodeArea([]byte(c.json))
			if err != nil {
				t.Fatalf("DecodeArea: %v", err)
			}
			if !reflect.DeepEqual(polys, c.wantPolys) {
				t.Errorf("polygons = %v, want %v", polys, c.wantPolys)
			}
			if !slices.Equal(paths, c.wantPaths) {
				t.Errorf("paths = %q, want %q", paths, c.wantPaths)
			}
		})
	}
}

// checkGeoError asserts err is a *Error with the path and a reason holding every fragment.
func checkGeoError(t *testing.T, err error, path string, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want one at path %q", path)
	}
	var ge *Error
	if !errors.As(err, &ge) {
		t.Fatalf("error %T %v is not a *geo.Error", err, err)
	}
	if ge.Path != path {
		t.Errorf("Path = %q, want %q (reason %q)", ge.Path, path, ge.Reason)
	}
	if ge.Reason == "" {
		t.Error("empty Reason")
	}
	for _, f := range fragments {
		if !strings.Contains(ge.Reason, f) {
			t.Errorf("Reason %q does not contain %q", ge.Reason, f)
		}
	}
	want := ge.Reason
	if path != "" {
		want = path + ": " + ge.Reason
	}
	if ge.Error() != want {
		t.Errorf("Error() = %q, want %q", ge.Error(), want)
	}
}

func TestDecodeAreaErrors(t *testing.T) {
	line := `{"type":"LineString","coordinates":[[125.31,43.87],[125.33,43.87]]}`
	for _, c := range []struct {
		name, json, path string
		fragments        []string
	}{
		{"LineString", line, "type", []string{"LineString"}},
		{"Point", `{"type":"Point","coordinates":[125.31,43.87]}`, "type", []string{"Point"}},
		{"MultiPoint", `{"type":"MultiPoint","coordinates":[[125.31,43.87]]}`, "type", []string{"MultiPoint"}},
		{"GeometryCollection", `{"type":"GeometryCollection","geometries":[]}`, "type", []string{"GeometryCollection"}},
		{"Feature of a LineString", `{"type":"Feature","geometry":` + line + `}`, "geometry.type", []string{"LineString"}},
		{"FeatureCollection with a LineString", `{"type":"FeatureCollection","features":[` +
			`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[` + squareRing + `]}},` +
			`{"type":"Feature","geometry":` + line + `}]}`, "features[1].geometry.type", []string{"LineString"}},
		{"missing type", `{"coordinates":[` + squareRing + `]}`, "type", []string{"missing"}},
		{"JSON null", `null`, "type", []string{"missing"}},
		{"malformed JSON", `{"type":"Polygon","coordinates":[[`, "", []string{"not a GeoJSON object"}},
		{"not an object", `[1,2,3]`, "", []string{"not a GeoJSON object"}},
		{"empty input", ``, "", []string{"not a GeoJSON object"}},
		{"type is not a string", `{"type":7}`, "", []string{"not a GeoJSON object"}},
		{"feature without geometry", `{"type":"Feature","properties":{},"geometry":null}`, "geometry", []string{"without geometry"}},
		{"feature with no geometry member", `{"type":"Feature","properties":{}}`, "geometry", []string{"without geometry"}},
		{"collection feature without geometry", `{"type":"FeatureCollection","features":[` +
			`{"type":"Feature","geometry":{"type":"Polygon","coordinates":[` + squareRing + `]}},` +
			`{"type":"Feature","geometry":null}]}`, "features[1].geometry", []string{"without geometry"}},
		{"coordinates of the wrong type", `{"type":"Polygon","coordinates":"here"}`, "coordinates", nil},
		{"coordinates with strings", `{"type":"Polygon","coordinates":[[["125.3","43.8"]]]}`, "coordinates", nil},
		{"number out of float64 range", `{"type":"Polygon","coordinates":[[[1e400,0],[1,0],[1,1],[1e400,0]]]}`, "coordinates", nil},
		{"empty MultiPolygon", `{"type":"MultiPolygon","coordinates":[]}`, "", []string{"no polygon"}},
		{"empty FeatureCollection", `{"type":"FeatureCollection","features":[]}`, "", []string{"no polygon"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			polys, paths, err := DecodeArea([]byte(c.json))
			checkGeoError(t, err, c.path, c.fragments...)
			if polys != nil || paths != nil {
				t.Errorf("got polygons %v and paths %v with the error", polys, paths)
			}
		})
	}
}

func TestDecodePoints(t *testing.T) {
	for _, c := range []struct {
		name      string
		json      string
		wantPts   []LonLat
		wantPaths []string
	}{
		{"MultiPoint", `{"type":"MultiPoint","coordinates":[[125.31,43.87],[125.32,43.88],[125.33,43.89]]}`,
			[]LonLat{{125.31, 43.87}, {125.32, 43.88}, {125.33, 43.89}},
			[]string{"coordinates[0]", "coordinates[1]", "coordinates[2]"}},
		{"Point", `{"type":"Point","coordinates":[125.31,43.87]}`,
			[]LonLat{{125.31, 43.87}}, []string{"coordinates"}},
		{"Feature of a Point", `{"type":"Feature","properties":{"name":"stop"},"geometry":{"type":"Point","coordinates":[125.31,43.87]}}`,
			[]LonLat{{125.31, 43.87}}, []string{"geometry.coordinates"}},
		{"Feature of a MultiPoint", `{"type":"Feature","geometry":{"type":"MultiPoint","coordinates":[[125.31,43.87],[125.32,43.88]]}}`,
			[]LonLat{{125.31, 43.87}, {125.32, 43.88}}, []string{"geometry.coordinates[0]", "geometry.coordinates[1]"}},
		{"FeatureCollection of Points and a MultiPoint", `{"type":"FeatureCollection","features":[` +
			`{"type":"Feature","properties":{"name":"a"},"geometry":{"type":"Point","coordinates":[125.31,43.87]}},` +
			`{"type":"Feature","properties":{"name":"b"},"geometry":{"type":"Point","coordinates":[125.32,43.88]}},` +
			`{"type":"Feature","properties":{"name":"c"},"geometry":{"type":"MultiPoint","coordinates":[[125.33,43.89],[125.34,43.90]]}}]}`,
			[]LonLat{{125.31, 43.87}, {125.32, 43.88}, {125.33, 43.89}, {125.34, 43.90}},
			[]string{"features[0].geometry.coordinates", "features[1].geometry.coordinates",
				"features[2].geometry.coordinates[0]", "features[2].geometry.coordinates[1]"}},
		{"empty MultiPoint", `{"type":"MultiPoint","coordinates":[]}`, nil, nil},
		{"empty FeatureCollection", `{"type":"FeatureCollection","features":[]}`, nil, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			pts, paths, err := DecodePoints([]byte(c.json))
			if err != nil {
				t.Fatalf("DecodePoints: %v", err)
			}
			if len(pts) != len(c.wantPts) || (len(pts) > 0 && !reflect.DeepEqual(pts, c.wantPts)) {
				t.Errorf("points = %v, want %v", pts, c.wantPts)
			}
			if !slices.Equal(paths, c.wantPaths) {
				t.Errorf("paths = %q, want %q", paths, c.wantPaths)
			}
		})
	}
}

func TestDecodePointsErrors(t *testing.T) {
	polygon := `{"type":"Polygon","coordinates":[` + squareRing + `]}`
	for _, c := range []struct {
		name, json, path string
		fragments        []string
	}{
		{"Polygon", polygon, "type", []string{"Polygon"}},
		{"MultiPolygon", `{"type":"MultiPolygon","coordinates":[[` + squareRing + `]]}`, "type", []string{"MultiPolygon"}},
		{"LineString", `{"type":"LineString","coordinates":[[125.31,43.87],[125.33,43.87]]}`, "type", []string{"LineString"}},
		{"Feature of a Polygon", `{"type":"Feature","geometry":` + polygon + `}`, "geometry.type", []string{"Polygon"}},
		{"FeatureCollection with a Polygon", `{"type":"FeatureCollection","features":[` +
			`{"type":"Feature","geometry":{"type":"Point","coordinates":[125.31,43.87]}},` +
			`{"type":"Feature","geometry":{"type":"Point","coordinates":[125.32,43.88]}},` +
			`{"type":"Feature","geometry":` + polygon + `}]}`, "features[2].geometry.type", []string{"Polygon"}},
		{"feature without geometry", `{"type":"Feature","geometry":null}`, "geometry", []string{"without geometry"}},
		{"missing type", `{"coordinates":[[125.31,43.87]]}`, "type", []string{"missing"}},
		{"malformed JSON", `{"type":"MultiPoint","coordinates":[[125.31,43.87],`, "", []string{"not a GeoJSON object"}},
		{"coordinates of the wrong type", `{"type":"MultiPoint","coordinates":{"lon":1}}`, "coordinates", nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			pts, paths, err := DecodePoints([]byte(c.json))
			checkGeoError(t, err, c.path, c.fragments...)
			if pts != nil || paths != nil {
				t.Errorf("got points %v and paths %v with the error", pts, paths)
			}
		})
	}
}

// TestDecodeRejectsShortPositions: RFC 7946 §3.1.1 gives a position two or
// more numbers. A position with fewer must be an error, not silently read
// as longitude 0 or latitude 0 (encoding/json zero-fills a short [2]float64).
func TestDecodeRejectsShortPositions(t *testing.T) {
	for _, c := range []struct {
		name string
		json string
		area bool
	}{
		{"Point with one number", `{"type":"Point","coordinates":[125.3]}`, false},
		{"Point with no number", `{"type":"Point","coordinates":[]}`, false},
		{"MultiPoint with a one-number position", `{"type":"MultiPoint","coordinates":[[125.31,43.87],[125.32]]}`, false},
		{"Polygon with a one-number position", `{"type":"Polygon","coordinates":[[[125.31,43.87],[125.33],[125.33,43.89],[125.31,43.87]]]}`, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			var err error
			var got any
			if c.area {
				got, _, err = DecodeArea([]byte(c.json))
			} else {
				got, _, err = DecodePoints([]byte(c.json))
			}
			if err == nil {
				t.Errorf("decoded %s as %v without error; want an error for a position of fewer than two numbers", c.json, got)
			}
		})
	}
}

func TestCheckPosition(t *testing.T) {
	for _, c := range []struct {
		p    LonLat
		want string // a fragment of the reason, "" for a usable position
	}{
		{LonLat{125.32, 43.88}, ""},
		{LonLat{180, 90}, ""},
		{LonLat{-180, -90}, ""},
		{LonLat{0, 0}, ""},
		{LonLat{200, 43.88}, "longitude 200 is out of range"},
		{LonLat{180.000001, 0}, "longitude 180.000001 is out of range"},
		{LonLat{-180.5, 10}, "longitude -180.5 is out of range"},
		{LonLat{125.32, -91}, "latitude -91 is out of range"},
		{LonLat{125.32, 90.25}, "latitude 90.25 is out of range"},
		{LonLat{1e300, 0}, "longitude"},
		{LonLat{math.NaN(), 0}, "not a finite number"},
		{LonLat{0, math.NaN()}, "not a finite number"},
		{LonLat{math.Inf(1), 0}, "not a finite number"},
		{LonLat{0, math.Inf(-1)}, "not a finite number"},
	} {
		got := CheckPosition(c.p)
		if c.want == "" && got != "" || c.want != "" && !strings.Contains(got, c.want) {
			t.Errorf("CheckPosition(%v) = %q, want %q", c.p, got, c.want)
		}
	}
	// Longitude is checked before latitude.
	if got := CheckPosition(LonLat{200, 100}); !strings.Contains(got, "longitude") {
		t.Errorf("CheckPosition(200, 100) = %q, want the longitude named", got)
	}
}
