package geo

import (
	"errors"
	"testing"
)

var fuzzSeeds = []string{
	`{"type":"Polygon","coordinates":[` + squareRing + `,` + holeRing + `]}`,
	`{"type":"MultiPolygon","coordinates":[[` + squareRing + `],[` + otherRing + `]]}`,
	`{"type":"Feature","properties":{"name":"南关区"},"geometry":{"type":"Polygon","coordinates":[` + squareRing + `]}}`,
	`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"MultiPolygon","coordinates":[[` + otherRing + `]]}},{"type":"Feature","geometry":null}]}`,
	`{"type":"MultiPoint","coordinates":[[125.31,43.87],[125.32,43.88]]}`,
	`{"type":"Point","coordinates":[125.31,43.87]}`,
	`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":{"type":"Point","coordinates":[125.31,43.87]}}]}`,
	`{"type":"GeometryCollection","geometries":[{"type":"Point","coordinates":[1,2]}]}`,
	`{"type":"LineString","coordinates":[[1,2],[3,4]]}`,
	`{"type":"Polygon","coordinates":[[[1]]]}`,
	`{"type":"Polygon","coordinates":[[[1e400,0]]]}`,
	`{"type":"Polygon","coordinates":[[["a",0]]]}`,
	`{"type":"Polygon","coordinates":null}`,
	`{"type":"Feature","geometry":{"type":"Feature"}}`,
	`{"type":"FeatureCollection","features":[{"type":"FeatureCollection"}]}`,
	`{"type":"FeatureCollection","features":{}}`,
	`{"type":"Polygon","coordinates":[[`,
	`{"type":`,
	`{}`,
	`null`,
	`[]`,
	``,
	`"Polygon"`,
	`{"type":"MultiPoint","coordinates":[[]]}`,
	`{"type":"Point","coordinates":[-1e308,1e308,7,8]}`,
	`{"type":"Polygon","type":"Point","coordinates":[1,2]}`,
}

// FuzzDecodeArea: DecodeArea never panics, and returns either polygons with
// one path each or a *Error and nothing else.
func FuzzDecodeArea(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		polys, paths, err := DecodeArea(data)
		if err != nil {
			var ge *Error
			if !errors.As(err, &ge) {
				t.Fatalf("error %T %v is not a *geo.Error", err, err)
			}
			if ge.Reason == "" {
				t.Fatalf("error without reason: %#v", ge)
			}
			if polys != nil || paths != nil {
				t.Fatalf("results with an error: %v %v", polys, paths)
			}
			return
		}
		if len(polys) == 0 || len(polys) != len(paths) {
			t.Fatalf("%d polygons with %d paths and no error", len(polys), len(paths))
		}
	})
}

// FuzzDecodePoints: DecodePoints never panics, and returns either points
// with one path each or a *Error and nothing else.
func FuzzDecodePoints(f *testing.F) {
	for _, s := range fuzzSeeds {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		pts, paths, err := DecodePoints(data)
		if err != nil {
			var ge *Error
			if !errors.As(err, &ge) {
				t.Fatalf("error %T %v is not a *geo.Error", err, err)
			}
			if ge.Reason == "" {
				t.Fatalf("error without reason: %#v", ge)
			}
			if pts != nil || paths != nil {
				t.Fatalf("results with an error: %v %v", pts, paths)
			}
			return
		}
		if len(pts) != len(paths) {
			t.Fatalf("%d points with %d paths", len(pts), len(paths))
		}
		for _, p := range pts {
			CheckPosition(p) // must not panic on anything decoded
		}
	})
}
