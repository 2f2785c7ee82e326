package batch

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"sort"
	"strings"
	"sync"

	"google.golang.org/protobuf/proto"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// Geometry is the central areas and bus stops of side files, keyed by
// settlement ID. It is safe for concurrent use by several readers.
type Geometry struct {
	areas    map[string]*coveragev1.MultiPolygon
	stops    map[string]*coveragev1.Positions
	areasCRS coveragev1.CoordinateSystem
	stopsCRS coveragev1.CoordinateSystem

	mu   sync.Mutex
	used map[string]bool
}

// LoadGeometry reads an areas file and a stops file; either path may be
// empty for none.
//
// The areas file is a GeoJSON FeatureCollection of Polygon or MultiPolygon
// features, each with the property settlementId (or else id, or else the
// feature's own id). Features that share an ID are parts of one central area
// (adjacent districts, say): their polygons are concatenated in file order.
//
// The stops file is CSV (.csv) with the columns settlementId, lon and lat in
// any order, other columns being ignored, or GeoJSON (.geojson, .json): a
// FeatureCollection of Point or MultiPoint features with the property
// settlementId. The stops of an ID are kept in file order. An empty
// MultiPoint declares a settlement without stops.
//
// areasCRS and stopsCRS are the coordinate systems of the two files, recorded
// on the settlements they are joined to; COORDINATE_SYSTEM_UNSPECIFIED
// records nothing, which the server takes as WGS-84.
//
// Any fault in a side file is an error naming the file and line, since a
// settlement silently left without its area would be audited wrongly.
func LoadGeometry(areasPath, stopsPath string, areasCRS, stopsCRS coveragev1.CoordinateSystem) (*Geometry, error) {
	g := &Geometry{
		areas:    map[string]*coveragev1.MultiPolygon{},
		stops:    map[string]*coveragev1.Positions{},
		areasCRS: areasCRS,
		stopsCRS: stopsCRS,
		used:     map[string]bool{},
	}
	if areasPath != "" {
		if err := g.loadAreas(areasPath); err != nil {
			return nil, err
		}
	}
	if stopsPath != "" {
		format, err := DetectFormat(stopsPath)
		if err == nil && format == FormatJSONL {
			err = fmt.Errorf("%s: a stops file is CSV (.csv) or GeoJSON (.geojson, .json)", stopsPath)
		}
		if err != nil {
			return nil, err
		}
		if format == FormatCSV {
			err = g.loadStopsCSV(stopsPath)
		} else {
			err = g.loadStopsGeoJSON(stopsPath)
		}
		if err != nil {
			return nil, err
		}
	}
	return g, nil
}

// Unused lists, sorted, the settlement IDs that have a central area or stops
// in the side files but have not been seen in the input, which is most often
// a typo in one of the files.
func (g *Geometry) Unused() []string {
	if g == nil {
		return nil
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	var ids []string
	for id := range g.areas {
		if !g.used[id] {
			ids = append(ids, id)
		}
	}
	for id := range g.stops {
		if _, dup := g.areas[id]; !dup && !g.used[id] {
			ids = append(ids, id)
		}
	}
	sort.Strings(ids)
	return ids
}

// markUsed records that a settlement with this ID was read, joined or not,
// so that a record rejected for another reason does not also show up as an
// unused side-file entry.
func (g *Geometry) markUsed(id string) {
	if g == nil || id == "" {
		return
	}
	_, a := g.areas[id]
	_, s := g.stops[id]
	if !a && !s {
		return
	}
	g.mu.Lock()
	g.used[id] = true
	g.mu.Unlock()
}

// join gives s the central area and stops of its ID. It changes s only when
// nothing conflicts, and hands out copies: one ID may be joined twice (a
// duplicate in the input) and the settlements are the caller's to change.
func (g *Geometry) join(s *coveragev1.Settlement) error {
	if g == nil {
		return nil
	}
	id := s.GetId()
	area, hasArea := g.areas[id]
	stops, hasStops := g.stops[id]
	if !hasArea && !hasStops {
		return nil
	}
	g.markUsed(id)
	var errs fieldErrors
	if hasArea {
		if s.CentralArea != nil || s.CentralAreaPolygons != nil {
			errs = append(errs, errors.New("centralArea: given both in the input and in the areas file"))
		} else if err := crsConflict("centralAreaCrs", "areas", s.CentralAreaCrs, g.areasCRS); err != nil {
			errs = append(errs, err)
		}
	}
	if hasStops {
		if s.BusStops != nil || s.BusStopPositions != nil {
			errs = append(errs, errors.New("busStops: given both in the input and in the stops file"))
		} else if err := crsConflict("busStopsCrs", "stops", s.BusStopsCrs, g.stopsCRS); err != nil {
			errs = append(errs, err)
		}
	}
	if err := errs.err(); err != nil {
		return err
	}
	if hasArea {
		s.CentralAreaPolygons = proto.CloneOf(area)
		if g.areasCRS != coveragev1.CoordinateSystem_COORDINATE_SYSTEM_UNSPECIFIED {
			s.CentralAreaCrs = g.areasCRS
		}
	}
	if hasStops {
		s.BusStopPositions = proto.CloneOf(stops)
		if g.stopsCRS != coveragev1.CoordinateSystem_COORDINATE_SYSTEM_UNSPECIFIED {
			s.BusStopsCrs = g.stopsCRS
		}
	}
	return nil
}

// crsConflict rejects a settlement that names one coordinate system for a
// geometry it does not have while the side file is declared in another:
// one of the two is wrong, and guessing would shift the geometry by
// hundreds of metres.
func crsConflict(field, file string, own, side coveragev1.CoordinateSystem) error {
	unspecified := coveragev1.CoordinateSystem_COORDINATE_SYSTEM_UNSPECIFIED
	if own == unspecified || side == unspecified || own == side {
		return nil
	}
	return fmt.Errorf("%s: %s in the input but %s for the %s file", field, own, side, file)
}

func (g *Geometry) loadAreas(path string) error {
	return eachSideFeature(path, func(id string, typ string, coords json.RawMessage) error {
		if typ != "Polygon" && typ != "MultiPolygon" {
			return wrongGeometry(typ, "a Polygon or a MultiPolygon")
		}
		mp, err := readPolygons(typ, coords)
		if err != nil {
			return err
		}
		if prev, ok := g.areas[id]; ok {
			prev.Polygons = append(prev.Polygons, mp.Polygons...)
		} else {
			g.areas[id] = mp
		}
		return nil
	})
}

func (g *Geometry) loadStopsGeoJSON(path string) error {
	return eachSideFeature(path, func(id string, typ string, coords json.RawMessage) error {
		if typ != "Point" && typ != "MultiPoint" {
			return wrongGeometry(typ, "a Point or a MultiPoint")
		}
		ps, err := readPoints(typ, coords)
		if err != nil {
			return err
		}
		g.addStops(id, ps)
		return nil
	})
}

func (g *Geometry) addStops(id string, ps []*coveragev1.LonLat) {
	if prev, ok := g.stops[id]; ok {
		prev.Positions = append(prev.Positions, ps...)
	} else {
		g.stops[id] = &coveragev1.Positions{Positions: ps}
	}
}

func wrongGeometry(typ, want string) error {
	if typ == "" {
		return fmt.Errorf("geometry: none, want %s", want)
	}
	return fmt.Errorf("geometry: type %q, want %s", typ, want)
}

// eachSideFeature calls fn with the settlement ID and geometry of every
// feature of a side file, turning any error into one of the file.
func eachSideFeature(path string, fn func(id, typ string, coords json.RawMessage) error) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	fs, err := newFeatureStream(path, f)
	if err != nil {
		return err
	}
	for {
		index := fs.index
		raw, line, err := fs.next()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		id, typ, coords, err := sideFeature(raw)
		if err == nil {
			err = fn(id, typ, coords)
		}
		if err != nil {
			return fmt.Errorf("%s:%d: features[%d]: %w", path, line, index, err)
		}
	}
}

// sideFeature reads the settlement ID and the geometry of a side-file
// feature. The ID is the settlementId property, or else the id property or
// the feature's own id, so that files exported with the division code as id
// need no editing.
func sideFeature(raw json.RawMessage) (id, typ string, coords json.RawMessage, err error) {
	members, err := objectMembers(raw)
	if err != nil {
		return "", "", nil, errors.New("not a JSON object")
	}
	var props map[string]json.RawMessage
	if p := members["properties"]; !isJSONNull(p) {
		if props, err = objectMembers(p); err != nil {
			return "", "", nil, errors.New("properties: not a JSON object")
		}
	}
	for _, key := range []string{"settlementId", "id"} {
		if id, err = featureID(props[key]); err != nil {
			return "", "", nil, fmt.Errorf("properties.%s: neither a string nor a number", key)
		}
		if id != "" {
			break
		}
	}
	if id == "" {
		if id, err = featureID(members["id"]); err != nil {
			return "", "", nil, err
		}
	}
	if id == "" {
		return "", "", nil, errors.New("no settlementId property")
	}
	typ, coords, err = geometryOf(members["geometry"])
	return id, typ, coords, err
}

func (g *Geometry) loadStopsCSV(path string) error {
	f, err := os.Open(path)
	if err != nil {
		return err
	}
	defer f.Close()
	cr := newCSVParser(f)
	header, err := cr.Read()
	if err == io.EOF {
		return fmt.Errorf("%s: empty file; want a header with settlementId, lon and lat", path)
	}
	if err != nil {
		return csvFileError(path, err)
	}
	header = slices.Clone(header) // the parser reuses its record
	headerLine, _ := cr.FieldPos(0)
	idCol, lonCol, latCol := -1, -1, -1
	for i, h := range header {
		h = cleanHeaderCell(i, h)
		var col *int
		switch h {
		case "settlementId", "settlement_id":
			col = &idCol
		case "lon":
			col = &lonCol
		case "lat":
			col = &latCol
		default:
			continue
		}
		if *col >= 0 {
			return fmt.Errorf("%s:%d: column %s given twice", path, headerLine, h)
		}
		*col = i
	}
	var missing []string
	for _, c := range []struct {
		name string
		i    int
	}{{"settlementId", idCol}, {"lon", lonCol}, {"lat", latCol}} {
		if c.i < 0 {
			missing = append(missing, c.name)
		}
	}
	if len(missing) > 0 {
		return fmt.Errorf("%s:%d: no column %s; a stops file has the columns settlementId, lon and lat",
			path, headerLine, strings.Join(missing, ", "))
	}
	for {
		row, err := cr.Read()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return csvFileError(path, err)
		}
		line, _ := cr.FieldPos(0)
		if len(row) != len(header) {
			return fmt.Errorf("%s:%d: %d cells, but the header has %d columns", path, line, len(row), len(header))
		}
		id := strings.TrimSpace(row[idCol])
		if id == "" {
			return fmt.Errorf("%s:%d: column settlementId: empty", path, line)
		}
		var p lonLat
		for _, c := range []struct {
			name string
			i    int
			dst  *float64
		}{{header[lonCol], lonCol, &p.lon}, {header[latCol], latCol, &p.lat}} {
			v, err := parseFloatCell(strings.TrimSpace(row[c.i]), 64)
			if err != nil {
				return fmt.Errorf("%s:%d: column %s: %w", path, line, cleanHeaderCell(c.i, c.name), err)
			}
			*c.dst = v
		}
		g.addStops(id, lonLatProtos([]lonLat{p}))
	}
}
