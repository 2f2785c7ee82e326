package geo

import (
	"encoding/json"
	"fmt"
	"math"
	"strings"
)

// LonLat is a position in degrees.
type LonLat = [2]float64

// PolygonLL is a polygon in degrees: its outer ring then its holes, each ring
// closed (first position repeated last), as in GeoJSON.
type PolygonLL = [][]LonLat

// Error is bad geometry input. Path locates it inside the GeoJSON object (for
// example "features[2].geometry.coordinates[0][1]"); At is the position of a
// self-intersection, in the input's coordinate system, when there is one.
type Error struct {
	Path   string
	Reason string
	At     *LonLat
}

func (e *Error) Error() string {
	if e.Path == "" {
		return e.Reason
	}
	return e.Path + ": " + e.Reason
}

func errorf(path, format string, args ...any) *Error {
	return &Error{Path: path, Reason: fmt.Sprintf(format, args...)}
}

// GeoJSON is decoded here rather than with a GeoJSON library because the
// libraries at hand decode a position into a fixed pair and so read [125.3]
// as (125.3, 0) without complaint; a short position must be an error that
// says where it is.

type rawObject struct {
	Type        string            `json:"type"`
	Coordinates json.RawMessage   `json:"coordinates"`
	Geometry    json.RawMessage   `json:"geometry"`
	Features    []json.RawMessage `json:"features"`
}

// geometryVisitor receives each geometry of a GeoJSON object with the path
// of its "type" member's object (for example "features[2].geometry.").
type geometryVisitor func(t string, coords json.RawMessage, prefix string) *Error

// walk calls visit for the geometry of a bare geometry, a Feature or each
// Feature of a FeatureCollection.
func walk(data []byte, what string, visit geometryVisitor) *Error {
	var o rawObject
	if err := json.Unmarshal(data, &o); err != nil {
		return errorf("", "not a GeoJSON object: %v", err)
	}
	feature := func(raw json.RawMessage, prefix string) *Error {
		var f rawObject
		if err := json.Unmarshal(raw, &f); err != nil {
			return errorf(strings.TrimSuffix(prefix, "."), "not a GeoJSON Feature: %v", err)
		}
		if f.Type != "Feature" {
			return errorf(prefix+"type", "want a Feature, got %q", f.Type)
		}
		if len(f.Geometry) == 0 || string(f.Geometry) == "null" {
			return errorf(prefix+"geometry", "a feature without geometry")
		}
		var g rawObject
		if err := json.Unmarshal(f.Geometry, &g); err != nil {
			return errorf(prefix+"geometry", "not a GeoJSON geometry: %v", err)
		}
		return visit(g.Type, g.Coordinates, prefix+"geometry.")
	}
	switch o.Type {
	case "Feature":
		return feature(data, "")
	case "FeatureCollection":
		for i, raw := range o.Features {
			if e := feature(raw, fmt.Sprintf("features[%d].", i)); e != nil {
				return e
			}
		}
		return nil
	case "":
		return errorf("type", "missing GeoJSON type; want %s", what)
	default:
		return visit(o.Type, o.Coordinates, "")
	}
}

// positions converts decoded coordinate arrays to positions, each with at
// least a longitude and a latitude (further values, such as altitude, are ignored).
func positions(raw [][]float64, path string) ([]LonLat, *Error) {
	out := make([]LonLat, len(raw))
	for i, p := range raw {
		if len(p) < 2 {
			return nil, errorf(fmt.Sprintf("%s[%d]", path, i), "a position needs a longitude and a latitude, got %d number(s)", len(p))
		}
		out[i] = LonLat{p[0], p[1]}
	}
	return out, nil
}

func decodeCoords(coords json.RawMessage, path string, v any) *Error {
	if len(coords) == 0 || string(coords) == "null" {
		return errorf(path, "missing coordinates")
	}
	if err := json.Unmarshal(coords, v); err != nil {
		return errorf(path, "malformed coordinates: %v", err)
	}
	return nil
}

func polygonFrom(raw [][][]float64, path string) (PolygonLL, *Error) {
	poly := make(PolygonLL, len(raw))
	for j, ring := range raw {
		ps, e := positions(ring, fmt.Sprintf("%s[%d]", path, j))
		if e != nil {
			return nil, e
		}
		poly[j] = ps
	}
	return poly, nil
}

// DecodeArea decodes a GeoJSON Polygon or MultiPolygon, bare, as a Feature,
// or as a FeatureCollection of them (the polygons of all features together).
// Each returned polygon carries the path of its rings in the input.
func DecodeArea(data []byte) ([]PolygonLL, []string, error) {
	var polys []PolygonLL
	var paths []string
	e := walk(data, "Polygon, MultiPolygon, Feature or FeatureCollection", func(t string, coords json.RawMessage, prefix string) *Error {
		path := prefix + "coordinates"
		switch t {
		case "Polygon":
			var raw [][][]float64
			if e := decodeCoords(coords, path, &raw); e != nil {
				return e
			}
			poly, e := polygonFrom(raw, path)
			if e != nil {
				return e
			}
			polys, paths = append(polys, poly), append(paths, path)
		case "MultiPolygon":
			var raw [][][][]float64
			if e := decodeCoords(coords, path, &raw); e != nil {
				return e
			}
			for i, p := range raw {
				pp := fmt.Sprintf("%s[%d]", path, i)
				poly, e := polygonFrom(p, pp)
				if e != nil {
					return e
				}
				polys, paths = append(polys, poly), append(paths, pp)
			}
		default:
			return errorf(prefix+"type", "want a Polygon or MultiPolygon, got %s", t)
		}
		return nil
	})
	if e != nil {
		return nil, nil, e
	}
	if len(polys) == 0 {
		return nil, nil, errorf("", "the area has no polygon")
	}
	return polys, paths, nil
}

// DecodePoints decodes a GeoJSON MultiPoint or Point, bare or as a Feature,
// or a FeatureCollection of Point (or MultiPoint) features. The paths locate
// each point in the input.
func DecodePoints(data []byte) ([]LonLat, []string, error) {
	var pts []LonLat
	var paths []string
	e := walk(data, "MultiPoint, Point, Feature or FeatureCollection", func(t string, coords json.RawMessage, prefix string) *Error {
		path := prefix + "coordinates"
		switch t {
		case "Point":
			var raw []float64
			if e := decodeCoords(coords, path, &raw); e != nil {
				return e
			}
			if len(raw) < 2 {
				return errorf(path, "a position needs a longitude and a latitude, got %d number(s)", len(raw))
			}
			pts, paths = append(pts, LonLat{raw[0], raw[1]}), append(paths, path)
		case "MultiPoint":
			var raw [][]float64
			if e := decodeCoords(coords, path, &raw); e != nil {
				return e
			}
			ps, e := positions(raw, path)
			if e != nil {
				return e
			}
			for i, p := range ps {
				pts, paths = append(pts, p), append(paths, fmt.Sprintf("%s[%d]", path, i))
			}
		default:
			return errorf(prefix+"type", "want a Point or MultiPoint, got %s", t)
		}
		return nil
	})
	if e != nil {
		return nil, nil, e
	}
	return pts, paths, nil
}

// CheckPosition reports why a longitude/latitude pair is unusable, or "".
func CheckPosition(p LonLat) string {
	switch {
	case math.IsNaN(p[0]) || math.IsNaN(p[1]) || math.IsInf(p[0], 0) || math.IsInf(p[1], 0):
		return "position is not a finite number"
	case p[0] < -180 || p[0] > 180:
		return fmt.Sprintf("longitude %v is out of range [-180, 180]", p[0])
	case p[1] < -90 || p[1] > 90:
		return fmt.Sprintf("latitude %v is out of range [-90, 90]", p[1])
	}
	return ""
}
