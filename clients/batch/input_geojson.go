package batch

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"sort"
	"strconv"

	"google.golang.org/protobuf/encoding/protojson"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// lineCounter tells the line of a byte offset in a stream read by a
// json.Decoder. The decoder reads ahead of the value it returns, so the
// newlines of bytes read but not yet asked about are kept; asked-about
// offsets only grow, so everything before the last one is dropped and memory
// stays bounded by the decoder's own buffer.
type lineCounter struct {
	r     io.Reader
	read  int64   // bytes read so far
	floor int64   // offset last asked about
	base  int64   // newlines before floor
	nl    []int64 // offsets of the newlines at or after floor
}

func (c *lineCounter) Read(p []byte) (int, error) {
	n, err := c.r.Read(p)
	for b, off := p[:n], c.read; ; {
		i := bytes.IndexByte(b, '\n')
		if i < 0 {
			break
		}
		c.nl = append(c.nl, off+int64(i))
		b, off = b[i+1:], off+int64(i)+1
	}
	c.read += int64(n)
	return n, err
}

// line returns the 1-based line of the byte at offset off, which must not be
// less than any offset asked about before.
func (c *lineCounter) line(off int64) int {
	if off < c.floor {
		off = c.floor
	}
	i := sort.Search(len(c.nl), func(i int) bool { return c.nl[i] >= off })
	if i > 0 {
		c.base += int64(i)
		c.nl = append(c.nl[:0], c.nl[i:]...)
	}
	c.floor = off
	return int(c.base) + 1
}

type streamState int

const (
	beforeFeatures streamState = iota
	inFeatures
	afterFeatures
)

// featureStream walks a GeoJSON FeatureCollection with a json.Decoder and
// hands out one feature at a time as raw JSON, so that a file larger than
// memory can be read. Members other than "type" and "features" are skipped
// token by token, in whatever order they come.
type featureStream struct {
	path        string
	lc          *lineCounter
	dec         *json.Decoder
	state       streamState
	sawFeatures bool
	index       int   // of the next feature
	valueStart  int64 // of the feature being decoded, where errors in it are reported
	err         error
}

func newFeatureStream(path string, r io.Reader) (*featureStream, error) {
	lc := &lineCounter{r: r}
	dec := json.NewDecoder(lc)
	// Skipped members may hold numbers no float64 can take.
	dec.UseNumber()
	fs := &featureStream{path: path, lc: lc, dec: dec}
	tok, err := dec.Token()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file, not a GeoJSON FeatureCollection", path)
	}
	if err != nil {
		return nil, fs.jsonError(err)
	}
	if tok != json.Delim('{') {
		return nil, fs.errorf("not a GeoJSON FeatureCollection: the file is not a JSON object")
	}
	if err := fs.members(); err != nil {
		return nil, err
	}
	return fs, nil
}

func (fs *featureStream) errorf(format string, args ...any) error {
	line := fs.lc.line(max(fs.dec.InputOffset(), fs.valueStart))
	return fmt.Errorf("%s:%d: %s", fs.path, line, fmt.Sprintf(format, args...))
}

func (fs *featureStream) jsonError(err error) error {
	var syntax *json.SyntaxError
	switch {
	case errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF):
		return fs.errorf("unexpected end of file")
	case errors.As(err, &syntax):
		if fs.state == inFeatures {
			return fs.errorf("features[%d]: invalid JSON: %v", fs.index, err)
		}
		return fs.errorf("invalid JSON: %v", err)
	}
	return fmt.Errorf("%s: %w", fs.path, err)
}

// members reads top-level members until it has entered the features array
// or, after it, reached the end of the file.
func (fs *featureStream) members() error {
	for {
		tok, err := fs.dec.Token()
		if err != nil {
			return fs.jsonError(err)
		}
		if tok == json.Delim('}') {
			break
		}
		key, _ := tok.(string)
		switch key {
		case "type":
			tok, err := fs.dec.Token()
			if err != nil {
				return fs.jsonError(err)
			}
			if tok != "FeatureCollection" {
				if s, ok := tok.(string); ok {
					return fs.errorf("not a GeoJSON FeatureCollection: its type is %q", s)
				}
				return fs.errorf("not a GeoJSON FeatureCollection: its type is not a string")
			}
		case "features":
			if fs.sawFeatures {
				return fs.errorf(`"features" given twice`)
			}
			fs.sawFeatures = true
			tok, err := fs.dec.Token()
			if err != nil {
				return fs.jsonError(err)
			}
			if tok != json.Delim('[') {
				return fs.errorf(`not a GeoJSON FeatureCollection: "features" is not an array`)
			}
			fs.state = inFeatures
			return nil
		default:
			if err := fs.skipValue(); err != nil {
				return err
			}
		}
	}
	if !fs.sawFeatures {
		return fs.errorf(`not a GeoJSON FeatureCollection: no "features" member`)
	}
	if _, err := fs.dec.Token(); err != io.EOF {
		if err != nil {
			return fs.jsonError(err)
		}
		return fs.errorf("data after the FeatureCollection")
	}
	return nil
}

// skipValue skips one value token by token, so that a large foreign member
// is never held whole.
func (fs *featureStream) skipValue() error {
	depth := 0
	for {
		tok, err := fs.dec.Token()
		if err != nil {
			return fs.jsonError(err)
		}
		switch tok {
		case json.Delim('{'), json.Delim('['):
			depth++
		case json.Delim('}'), json.Delim(']'):
			depth--
		}
		if depth == 0 {
			return nil
		}
	}
}

// next returns the next feature as raw JSON with the line it starts on, or
// io.EOF after the last one.
func (fs *featureStream) next() (json.RawMessage, int, error) {
	if fs.err != nil {
		return nil, 0, fs.err
	}
	for fs.state == inFeatures {
		if fs.dec.More() {
			// Nothing before the decoder's offset is asked about again;
			// forgetting it now keeps the line counter small.
			fs.lc.line(fs.dec.InputOffset())
			fs.valueStart = fs.nextValueOffset()
			var raw json.RawMessage
			if err := fs.dec.Decode(&raw); err != nil {
				fs.err = fs.jsonError(err)
				return nil, 0, fs.err
			}
			// The decoder stops right after the value, and RawMessage holds
			// it without the space around it.
			line := fs.lc.line(fs.dec.InputOffset() - int64(len(raw)))
			fs.index++
			return raw, line, nil
		}
		if _, err := fs.dec.Token(); err != nil {
			fs.err = fs.jsonError(err)
			return nil, 0, fs.err
		}
		fs.state = afterFeatures
		if err := fs.members(); err != nil {
			fs.err = err
			return nil, 0, err
		}
	}
	fs.err = io.EOF
	return nil, 0, io.EOF
}

// nextValueOffset estimates the offset of the next array element, for
// errors in it: the decoder's offset is still before the comma and space
// that precede the element, and these are in its buffer.
func (fs *featureStream) nextValueOffset() int64 {
	off := fs.dec.InputOffset()
	br, ok := fs.dec.Buffered().(io.ByteReader)
	if !ok {
		return off
	}
	comma := false
	for start := off; ; {
		c, err := br.ReadByte()
		if err != nil {
			return start
		}
		switch {
		case c == ',' && !comma:
			comma = true
		case c != ' ' && c != '\t' && c != '\n' && c != '\r':
			return off
		}
		off++
	}
}

type geojsonReader struct {
	path string
	f    *os.File
	fs   *featureStream
	geo  *Geometry
}

func newGeoJSONReader(path string, f *os.File, geo *Geometry) (*geojsonReader, error) {
	fs, err := newFeatureStream(path, f)
	if err != nil {
		return nil, err
	}
	return &geojsonReader{path: path, f: f, fs: fs, geo: geo}, nil
}

func (r *geojsonReader) Next() (Record, error) {
	raw, line, err := r.fs.next()
	if err != nil {
		return Record{}, err
	}
	rec := Record{Source: fmt.Sprintf("%s:%d", r.path, line)}
	s, err := settlementFromFeature(raw)
	if err == nil {
		err = finishRecord(s, r.geo)
	}
	if err != nil {
		rec.Err = err
	} else {
		rec.Settlement = s
	}
	return rec, nil
}

func (r *geojsonReader) Close() error { return r.f.Close() }

func countGeoJSON(path string, f io.Reader) (int, error) {
	fs, err := newFeatureStream(path, f)
	if err != nil {
		return 0, err
	}
	n := 0
	for {
		_, _, err := fs.next()
		if err == io.EOF {
			return n, nil
		}
		if err != nil {
			return 0, err
		}
		n++
	}
}

// settlementFromFeature reads one feature of the input format: properties
// are the settlement, a polygonal geometry its central area.
func settlementFromFeature(raw json.RawMessage) (*coveragev1.Settlement, error) {
	members, err := objectMembers(raw)
	if err != nil {
		return nil, errors.New("feature: not a JSON object")
	}
	if t, ok := members["type"]; ok {
		var typ string
		if json.Unmarshal(t, &typ) != nil || typ != "Feature" {
			return nil, fmt.Errorf("type: %s, want \"Feature\"", t)
		}
	}
	s := &coveragev1.Settlement{}
	var errs fieldErrors
	if p := members["properties"]; !isJSONNull(p) {
		if p[0] != '{' {
			errs = append(errs, errors.New("properties: not a JSON object"))
		} else if err := protojson.Unmarshal(p, s); err != nil {
			errs = append(errs, fmt.Errorf("properties: %s", protojsonReason(err, false)))
		}
	}
	if s.Id == "" {
		id, err := featureID(members["id"])
		if err != nil {
			errs = append(errs, err)
		}
		s.Id = id
	}
	typ, coords, err := geometryOf(members["geometry"])
	switch {
	case err != nil:
		errs = append(errs, err)
	case typ == "Polygon" || typ == "MultiPolygon":
		mp, err := readPolygons(typ, coords)
		if err != nil {
			errs = append(errs, err)
		} else if s.CentralArea != nil || s.CentralAreaPolygons != nil {
			errs = append(errs, errors.New("geometry: the properties give a central area too (centralArea or centralAreaPolygons); give one"))
		} else {
			s.CentralAreaPolygons = mp
		}
	case typ == "" || typ == "Point":
		// A settlement may be placed by a point, which carries no area.
	default:
		errs = append(errs, fmt.Errorf("geometry: type %q is not a Polygon, a MultiPolygon or a Point", typ))
	}
	if err := errs.err(); err != nil {
		return nil, err
	}
	return s, nil
}

// objectMembers splits a JSON object into its members; anything else is an
// error.
func objectMembers(raw json.RawMessage) (map[string]json.RawMessage, error) {
	var members map[string]json.RawMessage
	if err := json.Unmarshal(raw, &members); err != nil {
		return nil, err
	}
	if members == nil {
		return nil, errors.New("null")
	}
	return members, nil
}

func isJSONNull(raw json.RawMessage) bool {
	return len(raw) == 0 || string(raw) == "null"
}

// featureID reads a Feature's own "id", which RFC 7946 allows to be a string
// or a number; a number is kept as written, as division codes often are.
func featureID(raw json.RawMessage) (string, error) {
	if isJSONNull(raw) {
		return "", nil
	}
	switch raw[0] {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return "", fmt.Errorf("id: %v", err)
		}
		return s, nil
	case '-', '0', '1', '2', '3', '4', '5', '6', '7', '8', '9':
		return string(raw), nil
	}
	return "", errors.New("id: the feature's id is neither a string nor a number")
}

// geometryOf returns the type and coordinates of a GeoJSON geometry, or an
// empty type for a missing or null one.
func geometryOf(raw json.RawMessage) (string, json.RawMessage, error) {
	if isJSONNull(raw) {
		return "", nil, nil
	}
	members, err := objectMembers(raw)
	if err != nil {
		return "", nil, errors.New("geometry: not a JSON object")
	}
	var typ string
	if err := json.Unmarshal(members["type"], &typ); err != nil || typ == "" {
		return "", nil, errors.New("geometry: no type")
	}
	return typ, members["coordinates"], nil
}

// readPolygons reads the coordinates of a Polygon or MultiPolygon as they are:
// ring order, orientation and closure are the server's to check.
func readPolygons(typ string, coords json.RawMessage) (*coveragev1.MultiPolygon, error) {
	if isJSONNull(coords) {
		return nil, fmt.Errorf("geometry: %s without coordinates", typ)
	}
	var multi [][][]lonLat
	if typ == "Polygon" {
		var poly [][]lonLat
		if err := json.Unmarshal(coords, &poly); err != nil {
			return nil, coordinatesError(typ, "an array of rings of positions", err)
		}
		multi = [][][]lonLat{poly}
	} else if err := json.Unmarshal(coords, &multi); err != nil {
		return nil, coordinatesError(typ, "an array of polygons of rings of positions", err)
	}
	mp := &coveragev1.MultiPolygon{Polygons: make([]*coveragev1.Polygon, len(multi))}
	for i, poly := range multi {
		p := &coveragev1.Polygon{Rings: make([]*coveragev1.LinearRing, len(poly))}
		for j, ring := range poly {
			p.Rings[j] = &coveragev1.LinearRing{Positions: lonLatProtos(ring)}
		}
		mp.Polygons[i] = p
	}
	return mp, nil
}

// readPoints reads the coordinates of a Point or MultiPoint.
func readPoints(typ string, coords json.RawMessage) ([]*coveragev1.LonLat, error) {
	if isJSONNull(coords) {
		return nil, fmt.Errorf("geometry: %s without coordinates", typ)
	}
	if typ == "Point" {
		var p lonLat
		if err := json.Unmarshal(coords, &p); err != nil {
			return nil, coordinatesError(typ, "a position", err)
		}
		return lonLatProtos([]lonLat{p}), nil
	}
	var ps []lonLat
	if err := json.Unmarshal(coords, &ps); err != nil {
		return nil, coordinatesError(typ, "an array of positions", err)
	}
	return lonLatProtos(ps), nil
}

func coordinatesError(typ, want string, err error) error {
	if errors.Is(err, errPosition) {
		return fmt.Errorf("geometry: %s coordinates: %w", typ, errPosition)
	}
	return fmt.Errorf("geometry: the coordinates of a %s must be %s", typ, want)
}

// lonLatProtos allocates the messages of a ring in one block: a large
// polygon has millions of positions.
func lonLatProtos(ps []lonLat) []*coveragev1.LonLat {
	block := make([]coveragev1.LonLat, len(ps))
	out := make([]*coveragev1.LonLat, len(ps))
	for i, p := range ps {
		block[i].Lon, block[i].Lat = p.lon, p.lat
		out[i] = &block[i]
	}
	return out
}

var errPosition = errors.New("a position must be an array of two or more finite numbers, [longitude, latitude]")

// lonLat is a GeoJSON position. It parses itself because encoding/json
// would take null for 0 and an empty array for the origin; an altitude is
// allowed and dropped.
type lonLat struct{ lon, lat float64 }

func (p *lonLat) UnmarshalJSON(b []byte) error {
	b = bytes.TrimSpace(b)
	if len(b) < 2 || b[0] != '[' || b[len(b)-1] != ']' {
		return errPosition
	}
	// The decoder has checked the syntax, so splitting at commas yields the
	// elements unless one is an array, object or string, which then fails
	// to parse as a number.
	rest := b[1 : len(b)-1]
	n := 0
	for {
		part := rest
		i := bytes.IndexByte(rest, ',')
		if i >= 0 {
			part, rest = rest[:i], rest[i+1:]
		}
		f, err := strconv.ParseFloat(string(bytes.TrimSpace(part)), 64)
		if err != nil || math.IsInf(f, 0) || math.IsNaN(f) {
			return errPosition
		}
		switch n {
		case 0:
			p.lon = f
		case 1:
			p.lat = f
		}
		n++
		if i < 0 {
			break
		}
	}
	if n < 2 {
		return errPosition
	}
	return nil
}
