package geo

import (
	"encoding/json"
	"fmt"
	"math"

	"github.com/paulmach/orb"
	"github.com/paulmach/orb/geojson"
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

func typeOf(data []byte) (string, error) {
	var probe struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		return "", err
	}
	return probe.Type, nil
}

// DecodeArea decodes a GeoJSON Polygon or MultiPolygon, bare, as a Feature,
// or as a FeatureCollection of them (the polygons of all features together).
// Each returned polygon carries the path of its rings in the input.
func DecodeArea(data []byte) ([]PolygonLL, []string, error) {
	t, err := typeOf(data)
	if err != nil {
		return nil, nil, errorf("", "not a GeoJSON object: %v", err)
	}
	var polys []PolygonLL
	var paths []string
	add := func(g orb.Geometry, prefix string) *Error {
		switch g := g.(type) {
		case orb.Polygon:
			polys = append(polys, polygonLL(g))
			paths = append(paths, prefix+"coordinates")
		case orb.MultiPolygon:
			for i, p := range g {
				polys = append(polys, polygonLL(p))
				paths = append(paths, fmt.Sprintf("%scoordinates[%d]", prefix, i))
			}
		case nil:
			return errorf(prefix+"type", "a feature without geometry")
		default:
			return errorf(prefix+"type", "want a Polygon or MultiPolygon, got %s", g.GeoJSONType())
		}
		return nil
	}
	switch t {
	case "Polygon", "MultiPolygon":
		g, err := geojson.UnmarshalGeometry(data)
		if err != nil {
			return nil, nil, errorf("coordinates", "%v", err)
		}
		if e := add(g.Geometry(), ""); e != nil {
			return nil, nil, e
		}
	case "Feature":
		f, err := geojson.UnmarshalFeature(data)
		if err != nil {
			return nil, nil, errorf("geometry", "%v", err)
		}
		if e := add(f.Geometry, "geometry."); e != nil {
			return nil, nil, e
		}
	case "FeatureCollection":
		fc, err := geojson.UnmarshalFeatureCollection(data)
		if err != nil {
			return nil, nil, errorf("features", "%v", err)
		}
		for i, f := range fc.Features {
			if e := add(f.Geometry, fmt.Sprintf("features[%d].geometry.", i)); e != nil {
				return nil, nil, e
			}
		}
	case "":
		return nil, nil, errorf("type", "missing GeoJSON type; want Polygon, MultiPolygon, Feature or FeatureCollection")
	default:
		return nil, nil, errorf("type", "want a Polygon or MultiPolygon (bare, Feature or FeatureCollection), got %s", t)
	}
	if len(polys) == 0 {
		return nil, nil, errorf("", "the area has no polygon")
	}
	return polys, paths, nil
}

func polygonLL(p orb.Polygon) PolygonLL {
	out := make(PolygonLL, len(p))
	for i, r := range p {
		ring := make([]LonLat, len(r))
		for j, pt := range r {
			ring[j] = LonLat(pt)
		}
		out[i] = ring
	}
	return out
}

// DecodePoints decodes a GeoJSON MultiPoint or Point, bare or as a Feature,
// or a FeatureCollection of Point (or MultiPoint) features. The paths locate
// each point in the input.
func DecodePoints(data []byte) ([]LonLat, []string, error) {
	t, err := typeOf(data)
	if err != nil {
		return nil, nil, errorf("", "not a GeoJSON object: %v", err)
	}
	var pts []LonLat
	var paths []string
	add := func(g orb.Geometry, prefix string) *Error {
		switch g := g.(type) {
		case orb.Point:
			pts = append(pts, LonLat(g))
			paths = append(paths, prefix+"coordinates")
		case orb.MultiPoint:
			for i, p := range g {
				pts = append(pts, LonLat(p))
				paths = append(paths, fmt.Sprintf("%scoordinates[%d]", prefix, i))
			}
		case nil:
			return errorf(prefix+"type", "a feature without geometry")
		default:
			return errorf(prefix+"type", "want a Point or MultiPoint, got %s", g.GeoJSONType())
		}
		return nil
	}
	switch t {
	case "Point", "MultiPoint":
		g, err := geojson.UnmarshalGeometry(data)
		if err != nil {
			return nil, nil, errorf("coordinates", "%v", err)
		}
		if e := add(g.Geometry(), ""); e != nil {
			return nil, nil, e
		}
	case "Feature":
		f, err := geojson.UnmarshalFeature(data)
		if err != nil {
			return nil, nil, errorf("geometry", "%v", err)
		}
		if e := add(f.Geometry, "geometry."); e != nil {
			return nil, nil, e
		}
	case "FeatureCollection":
		fc, err := geojson.UnmarshalFeatureCollection(data)
		if err != nil {
			return nil, nil, errorf("features", "%v", err)
		}
		for i, f := range fc.Features {
			if e := add(f.Geometry, fmt.Sprintf("features[%d].geometry.", i)); e != nil {
				return nil, nil, e
			}
		}
	case "":
		return nil, nil, errorf("type", "missing GeoJSON type; want MultiPoint, Point, Feature or FeatureCollection")
	default:
		return nil, nil, errorf("type", "want a MultiPoint or a FeatureCollection of Points, got %s", t)
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
