package batch

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"regexp"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// Record is one settlement read from an input file, or the reason a part of
// the file could not be read as one.
type Record struct {
	// Source is where the record came from, as "path:line" with a 1-based
	// line; for GeoJSON the line where the feature starts.
	Source string
	// Settlement is nil when Err is set.
	Settlement *coveragev1.Settlement
	// Err is why the record was rejected while reading, naming the field or
	// column and the reason.
	Err error
}

// Format is the format of an input file.
type Format string

// The input formats; OpenInput describes them.
const (
	FormatJSONL   Format = "jsonl"
	FormatCSV     Format = "csv"
	FormatGeoJSON Format = "geojson"
)

// DetectFormat picks the format from the file extension, case-insensitively:
// .jsonl or .ndjson is JSONL, .csv is CSV, .geojson or .json is GeoJSON.
func DetectFormat(path string) (Format, error) {
	switch strings.ToLower(filepath.Ext(path)) {
	case ".jsonl", ".ndjson":
		return FormatJSONL, nil
	case ".csv":
		return FormatCSV, nil
	case ".geojson", ".json":
		return FormatGeoJSON, nil
	}
	return "", fmt.Errorf("%s: cannot tell the input format from the file name; "+
		"use .jsonl or .ndjson (JSONL), .csv (CSV), or .geojson or .json (GeoJSON)", path)
}

// Reader yields the records of one input file in file order. Next returns
// io.EOF after the last record. Any other error means the file as a whole
// cannot be read further (an I/O error, a GeoJSON file that is not a
// FeatureCollection, broken JSON between features) and names the path and the
// reason. A bad record is not such an error: it is a Record with Err set, and
// reading goes on.
type Reader interface {
	Next() (Record, error)
	Close() error
}

// OpenInput opens path in the given format. geo may be nil; when given, its
// central areas and bus stops are joined to each settlement by ID.
//
// Every record must have a non-empty settlement ID: batch results are keyed
// by it. A record without one is rejected with
// "id: required (batch results are keyed by settlement ID)".
//
// # JSONL (.jsonl, .ndjson)
//
// One settlement per line, as protojson: the `settlement` object of the REST
// API, for example
//
//	{"id":"220100","name":"长春市","kind":"SETTLEMENT_KIND_CITY","residentPopulation":9066906}
//
// Field names may be lowerCamelCase or snake_case. Blank lines are skipped but
// counted for line numbers. An unknown field rejects the record. A line may be
// up to 256 MiB long.
//
// # CSV (.csv)
//
// The first row is a header naming the columns; every further row is one
// settlement. A column is the JSON path of a singular scalar field of
// Settlement, with a dot into nested messages, in lowerCamelCase or as the
// snake_case proto name:
//
//	id, name, kind, regionalCentralCity, countySeat, urbanPopulation,
//	residentPopulation, elderlyPopulation, preschoolAgePopulation,
//	urbanisedPopulation, elderlyCareBeds, preschoolEnrolment,
//	vocationalSchoolIntake, generalHighSchoolIntake, registeredVehicles,
//	publicParkingSpaces, averageBusSpeedKmh, busDepotAreaM2,
//	urbanConstructionLandKm2, roadHierarchyMeetsStandard,
//	intelligentTrafficSystem, compulsoryEducationBalanced, centralAreaCrs,
//	busStopsCrs, populationPointsCrs, facilities.level2GeneralHospitals,
//	facilities.tcmHospitals (and every other field of FacilityCounts),
//	busFleet.standardUnits
//
// (the list follows the proto: a new scalar field is a new column). One more
// column, busFleet.vehicles, holds the fleet as vehicle groups
// "class:count;class:count", for example "LENGTH_10_13M:40;DOUBLE_DECKER:5";
// "class@length:count" or "@length:count" adds or gives the vehicle length in
// metres instead of a class. The id column is required; an unknown or
// repeated column is an error of the whole file.
//
// Cells are trimmed of surrounding spaces, and an empty cell is an absent
// field. Integer fields take base-10 integers ("12.5", "1e3" and "12x" are
// rejected); decimal fields take any finite number; yes/no fields take
// true/false, yes/no or 1/0 in any case; enum fields take the full value name
// (SETTLEMENT_KIND_TOWN) or the name without the enum's prefix (TOWN, town).
// A row whose number of cells differs from the header's is rejected, and so
// is a row with a bad cell, naming the column:
//
//	column residentPopulation: "12x" is not an integer
//
// The file is UTF-8, with or without a byte order mark; quoting follows
// RFC 4180.
//
// # GeoJSON (.geojson, .json)
//
// A FeatureCollection in which every Feature is one settlement. The
// feature's properties are the settlement's protojson fields (an unknown
// property rejects the feature); the settlement ID is properties.id or else
// the feature's own "id" (a string or a number). A Polygon or MultiPolygon
// geometry is the settlement's central area, read into
// central_area_polygons with the positions exactly as given (a Polygon is a
// MultiPolygon of one polygon); a null geometry or a Point gives no central
// area; any other geometry type rejects the feature, and so does a polygon
// geometry when the properties already give centralArea or
// centralAreaPolygons. The file is read one feature at a time, so it can be
// larger than memory. A file whose top level is not a FeatureCollection is an
// error of the whole file. The source line of a record is the line where its
// feature starts.
//
// # Central areas and bus stops from side files
//
// With geo (see LoadGeometry), a settlement whose ID has a central area in
// the areas file gets it as central_area_polygons (and central_area_crs from
// the areas file's coordinate system, when given), and one with bus stops in
// the stops file gets them as bus_stop_positions (and bus_stops_crs). A
// settlement that already has a central area of its own, or bus stops of its
// own, and also has them in a side file is rejected:
//
//	centralArea: given both in the input and in the areas file
func OpenInput(path string, format Format, geo *Geometry) (Reader, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	var r Reader
	switch format {
	case FormatJSONL:
		r = newJSONLReader(path, f, geo)
	case FormatCSV:
		r, err = newCSVReader(path, f, geo)
	case FormatGeoJSON:
		r, err = newGeoJSONReader(path, f, geo)
	default:
		err = fmt.Errorf("%s: unknown input format %q; want %s, %s or %s", path, format, FormatJSONL, FormatCSV, FormatGeoJSON)
	}
	if err != nil {
		f.Close()
		return nil, err
	}
	return r, nil
}

// CountRecords counts the records of a file as OpenInput would yield them,
// for a progress total, without holding the file in memory: the non-blank
// lines of JSONL, the data rows of CSV, the features of GeoJSON.
func CountRecords(path string, format Format) (int, error) {
	f, err := os.Open(path)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	switch format {
	case FormatJSONL:
		return countJSONL(path, f)
	case FormatCSV:
		return countCSV(path, f)
	case FormatGeoJSON:
		return countGeoJSON(path, f)
	}
	return 0, fmt.Errorf("%s: unknown input format %q; want %s, %s or %s", path, format, FormatJSONL, FormatCSV, FormatGeoJSON)
}

// errIDRequired is shared so that every format rejects a missing ID alike.
var errIDRequired = errors.New("id: required (batch results are keyed by settlement ID)")

// finishRecord applies the checks and joins common to every format.
func finishRecord(s *coveragev1.Settlement, geo *Geometry) error {
	if s.GetId() == "" {
		return errIDRequired
	}
	return geo.join(s)
}

// fieldErrors reports every bad field of a record at once, on one line, so
// that a user fixes a row in one pass and a table of rejected records stays
// readable.
type fieldErrors []error

func (e fieldErrors) Error() string {
	msgs := make([]string, len(e))
	for i, err := range e {
		msgs[i] = err.Error()
	}
	return strings.Join(msgs, "; ")
}

func (e fieldErrors) Unwrap() []error { return e }

func (e fieldErrors) err() error {
	switch len(e) {
	case 0:
		return nil
	case 1:
		return e[0]
	}
	return e
}

// maxJSONLLine bounds one line so that a file without newlines fails with a
// clear error instead of exhausting memory; a city with 50,000 stops needs a
// few MiB.
const maxJSONLLine = 256 << 20

var utf8BOM = []byte("\ufeff")

type jsonlReader struct {
	path string
	f    *os.File
	sc   *bufio.Scanner
	geo  *Geometry
	line int
	err  error
}

func newJSONLReader(path string, f *os.File, geo *Geometry) *jsonlReader {
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), maxJSONLLine)
	return &jsonlReader{path: path, f: f, sc: sc, geo: geo}
}

func (r *jsonlReader) Next() (Record, error) {
	if r.err != nil {
		return Record{}, r.err
	}
	for r.sc.Scan() {
		r.line++
		line := r.sc.Bytes()
		if r.line == 1 {
			line = bytes.TrimPrefix(line, utf8BOM)
		}
		line = trimASCIISpace(line)
		if len(line) == 0 {
			continue
		}
		rec := Record{Source: fmt.Sprintf("%s:%d", r.path, r.line)}
		s := &coveragev1.Settlement{}
		if err := protojson.Unmarshal(line, s); err != nil {
			rec.Err = errors.New(protojsonReason(err, true))
		} else if err := finishRecord(s, r.geo); err != nil {
			rec.Err = err
		} else {
			rec.Settlement = s
		}
		return rec, nil
	}
	switch err := r.sc.Err(); {
	case errors.Is(err, bufio.ErrTooLong):
		r.err = fmt.Errorf("%s:%d: line longer than %d MiB", r.path, r.line+1, maxJSONLLine>>20)
	case err != nil:
		r.err = fmt.Errorf("%s: %w", r.path, err)
	default:
		r.err = io.EOF
	}
	return Record{}, r.err
}

func (r *jsonlReader) Close() error { return r.f.Close() }

// countJSONL counts non-blank lines in fixed-size chunks, because a single
// line may be far larger than any buffer worth allocating for a count.
func countJSONL(path string, rd io.Reader) (int, error) {
	buf := make([]byte, 64<<10)
	n, blank, first := 0, true, true
	for {
		k, err := rd.Read(buf)
		chunk := buf[:k]
		if first && k > 0 {
			// A BOM split across reads is not worth handling: it is three
			// bytes at offset 0 and the first read is never that short.
			chunk = bytes.TrimPrefix(chunk, utf8BOM)
			first = false
		}
		for {
			i := bytes.IndexByte(chunk, '\n')
			if blank && hasNonSpace(chunk, i) {
				blank = false
			}
			if i < 0 {
				break
			}
			if !blank {
				n++
			}
			blank, chunk = true, chunk[i+1:]
		}
		if err == io.EOF {
			if !blank {
				n++
			}
			return n, nil
		}
		if err != nil {
			return 0, fmt.Errorf("%s: %w", path, err)
		}
	}
}

// isASCIISpace is the notion of a blank line shared by the reader and the
// counter, so that the progress total matches the records read.
func isASCIISpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f'
}

// hasNonSpace tells whether b[:end], or all of b if end < 0, has a byte
// other than ASCII space; it stops at the first, which on a JSONL line is
// the opening brace.
func hasNonSpace(b []byte, end int) bool {
	if end >= 0 {
		b = b[:end]
	}
	for _, c := range b {
		if !isASCIISpace(c) {
			return true
		}
	}
	return false
}

func trimASCIISpace(b []byte) []byte {
	for len(b) > 0 && isASCIISpace(b[0]) {
		b = b[1:]
	}
	for len(b) > 0 && isASCIISpace(b[len(b)-1]) {
		b = b[:len(b)-1]
	}
	return b
}

var (
	protoPosition = regexp.MustCompile(`\(line (\d+):(\d+)\): `)
	protoPrefix   = regexp.MustCompile(`^proto:[ \x{a0}]`)
)

// protojsonReason turns a protojson error into a reason for a record.
// protojson's positions are relative to the bytes it was given: on a JSONL
// line the column is useful, inside a GeoJSON feature's properties it would
// mislead, so it is kept only when withColumn is set.
func protojsonReason(err error, withColumn bool) string {
	msg := protoPrefix.ReplaceAllString(err.Error(), "")
	if errors.Is(err, io.ErrUnexpectedEOF) || msg == io.ErrUnexpectedEOF.Error() {
		return "syntax error: the JSON ends early"
	}
	m := protoPosition.FindStringSubmatchIndex(msg)
	if m == nil {
		return msg
	}
	col := msg[m[4]:m[5]]
	msg = msg[:m[0]] + msg[m[1]:]
	msg = strings.Replace(msg, "syntax error ", "syntax error: ", 1)
	if withColumn {
		msg += " (at column " + col + ")"
	}
	return msg
}
