package batch

import (
	"encoding/base64"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"

	"google.golang.org/protobuf/reflect/protoreflect"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// csvColumn is a column a settlements CSV file may have.
type csvColumn struct {
	name string // the protojson path, e.g. "facilities.tcmHospitals"
	// path leads from Settlement to the field; empty for the vehicles column.
	path []protoreflect.FieldDescriptor
}

func (c *csvColumn) field() protoreflect.FieldDescriptor { return c.path[len(c.path)-1] }

// vehiclesColumn is the one column that is not a scalar field: the fleet's
// repeated vehicle groups, written "class:count;class:count".
const vehiclesColumn = "busFleet.vehicles"

type csvSchema struct {
	columns []*csvColumn          // in field order, by protojson path
	byName  map[string]*csvColumn // by protojson path and by proto-name path
}

// settlementColumns derives the columns from the Settlement descriptor, so
// that a field added to the proto is a column without further ado.
var settlementColumns = sync.OnceValue(func() *csvSchema {
	sc := &csvSchema{byName: map[string]*csvColumn{}}
	var walk func(md protoreflect.MessageDescriptor, prefix string, aliases []string, path []protoreflect.FieldDescriptor, seen map[protoreflect.FullName]bool)
	walk = func(md protoreflect.MessageDescriptor, prefix string, aliases []string, path []protoreflect.FieldDescriptor, seen map[protoreflect.FullName]bool) {
		fields := md.Fields()
		for i := 0; i < fields.Len(); i++ {
			fd := fields.Get(i)
			if fd.IsList() || fd.IsMap() {
				continue
			}
			name := prefix + fd.JSONName()
			var names []string
			for _, a := range aliases {
				names = append(names, a+fd.JSONName(), a+string(fd.Name()))
			}
			fdPath := append(append([]protoreflect.FieldDescriptor(nil), path...), fd)
			switch fd.Kind() {
			case protoreflect.MessageKind, protoreflect.GroupKind:
				sub := fd.Message()
				// Well-known types have JSON forms of their own (a Struct is a
				// GeoJSON object here), which a flat cell cannot hold.
				if strings.HasPrefix(string(sub.FullName()), "google.protobuf.") || seen[sub.FullName()] {
					continue
				}
				seen[sub.FullName()] = true
				var subAliases []string
				for _, n := range names {
					subAliases = append(subAliases, n+".")
				}
				walk(sub, name+".", subAliases, fdPath, seen)
				delete(seen, sub.FullName())
			default:
				col := &csvColumn{name: name, path: fdPath}
				sc.columns = append(sc.columns, col)
				for _, n := range append(names, name) {
					sc.byName[n] = col
				}
			}
		}
	}
	md := (&coveragev1.Settlement{}).ProtoReflect().Descriptor()
	walk(md, "", []string{""}, nil, map[protoreflect.FullName]bool{md.FullName(): true})
	vehicles := &csvColumn{name: vehiclesColumn}
	sc.columns = append(sc.columns, vehicles)
	sc.byName[vehiclesColumn] = vehicles
	sc.byName["bus_fleet.vehicles"] = vehicles
	return sc
})

// newCSVParser is shared by the reader and the counter so that both see the
// same records. Cell counts are checked by the callers, to reject one row
// instead of the file.
func newCSVParser(r io.Reader) *csv.Reader {
	cr := csv.NewReader(r)
	cr.FieldsPerRecord = -1
	cr.ReuseRecord = true
	return cr
}

func csvFileError(path string, err error) error {
	var pe *csv.ParseError
	if errors.As(err, &pe) {
		return fmt.Errorf("%s:%d: %v", path, pe.StartLine, csvParseReason(pe))
	}
	return fmt.Errorf("%s: %w", path, err)
}

func csvParseReason(pe *csv.ParseError) string {
	return fmt.Sprintf("malformed CSV: %v (line %d, character %d)", pe.Err, pe.Line, pe.Column)
}

func cleanHeaderCell(i int, h string) string {
	if i == 0 {
		h = strings.TrimPrefix(h, "\ufeff")
	}
	return strings.TrimSpace(h)
}

type csvReader struct {
	path    string
	f       *os.File
	cr      *csv.Reader
	header  []string
	columns []*csvColumn
	geo     *Geometry
	err     error
}

func newCSVReader(path string, f *os.File, geo *Geometry) (*csvReader, error) {
	cr := newCSVParser(f)
	row, err := cr.Read()
	if err == io.EOF {
		return nil, fmt.Errorf("%s: empty file; the first row must be a header naming the columns", path)
	}
	if err != nil {
		return nil, csvFileError(path, err)
	}
	line, _ := cr.FieldPos(0)
	header := make([]string, len(row))
	columns := make([]*csvColumn, len(row))
	sc := settlementColumns()
	first := map[*csvColumn]string{}
	for i, h := range row {
		h = cleanHeaderCell(i, h)
		header[i] = h
		if h == "" {
			return nil, fmt.Errorf("%s:%d: column %d of the header has no name", path, line, i+1)
		}
		col, ok := sc.byName[h]
		if !ok {
			msg := fmt.Sprintf("%s:%d: unknown column %q", path, line, h)
			if hint := sc.nearest(h); hint != "" {
				msg += fmt.Sprintf(" (did you mean %q?)", hint)
			}
			return nil, errors.New(msg)
		}
		if prev, dup := first[col]; dup {
			if prev == h {
				return nil, fmt.Errorf("%s:%d: column %q given twice", path, line, h)
			}
			return nil, fmt.Errorf("%s:%d: columns %q and %q are the same field", path, line, prev, h)
		}
		first[col] = h
		columns[i] = col
	}
	if _, ok := first[sc.byName["id"]]; !ok {
		return nil, fmt.Errorf("%s:%d: no id column (batch results are keyed by settlement ID)", path, line)
	}
	return &csvReader{path: path, f: f, cr: cr, header: header, columns: columns, geo: geo}, nil
}

func (r *csvReader) Next() (Record, error) {
	if r.err != nil {
		return Record{}, r.err
	}
	row, err := r.cr.Read()
	var pe *csv.ParseError
	switch {
	case err == io.EOF:
		r.err = io.EOF
		return Record{}, r.err
	case errors.As(err, &pe):
		// The parser resumes at the next line, so one broken row costs that
		// row only.
		return Record{Source: fmt.Sprintf("%s:%d", r.path, pe.StartLine), Err: errors.New(csvParseReason(pe))}, nil
	case err != nil:
		r.err = fmt.Errorf("%s: %w", r.path, err)
		return Record{}, r.err
	}
	line, _ := r.cr.FieldPos(0)
	rec := Record{Source: fmt.Sprintf("%s:%d", r.path, line)}
	if len(row) != len(r.columns) {
		rec.Err = fmt.Errorf("the row has %d cells, but the header has %d columns", len(row), len(r.columns))
		return rec, nil
	}
	s := &coveragev1.Settlement{}
	var errs fieldErrors
	for i, cell := range row {
		cell = strings.TrimSpace(cell)
		if cell == "" {
			continue
		}
		if err := setCell(s, r.columns[i], cell); err != nil {
			errs = append(errs, fmt.Errorf("column %s: %w", r.header[i], err))
		}
	}
	if err := errs.err(); err != nil {
		r.geo.markUsed(s.GetId())
		rec.Err = err
		return rec, nil
	}
	if err := finishRecord(s, r.geo); err != nil {
		rec.Err = err
		return rec, nil
	}
	rec.Settlement = s
	return rec, nil
}

func (r *csvReader) Close() error { return r.f.Close() }

func countCSV(path string, f io.Reader) (int, error) {
	cr := newCSVParser(f)
	if _, err := cr.Read(); err != nil {
		if err == io.EOF {
			return 0, fmt.Errorf("%s: empty file; the first row must be a header naming the columns", path)
		}
		return 0, csvFileError(path, err)
	}
	n := 0
	for {
		_, err := cr.Read()
		var pe *csv.ParseError
		switch {
		case err == io.EOF:
			return n, nil
		case err == nil, errors.As(err, &pe):
			n++
		default:
			return 0, fmt.Errorf("%s: %w", path, err)
		}
	}
}

// setCell parses a non-empty cell into its field, creating the enclosing
// messages only for a good value, so that an empty cell leaves them absent.
func setCell(s *coveragev1.Settlement, col *csvColumn, cell string) error {
	if len(col.path) == 0 {
		groups, err := parseVehicles(cell)
		if err != nil {
			return err
		}
		if s.BusFleet == nil {
			s.BusFleet = &coveragev1.PublicTransportFleet{}
		}
		s.BusFleet.Vehicles = groups
		return nil
	}
	v, err := parseScalar(col.field(), cell)
	if err != nil {
		return err
	}
	m := s.ProtoReflect()
	for _, fd := range col.path[:len(col.path)-1] {
		m = m.Mutable(fd).Message()
	}
	m.Set(col.field(), v)
	return nil
}

func parseScalar(fd protoreflect.FieldDescriptor, cell string) (protoreflect.Value, error) {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		switch strings.ToLower(cell) {
		case "true", "yes", "1":
			return protoreflect.ValueOfBool(true), nil
		case "false", "no", "0":
			return protoreflect.ValueOfBool(false), nil
		}
		return protoreflect.Value{}, fmt.Errorf("%q is not a yes/no value (true/false, yes/no, 1/0)", cell)
	case protoreflect.EnumKind:
		n, err := parseEnum(fd.Enum(), cell)
		return protoreflect.ValueOfEnum(n), err
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		n, err := parseIntCell(cell, 32)
		return protoreflect.ValueOfInt32(int32(n)), err
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		n, err := parseIntCell(cell, 64)
		return protoreflect.ValueOfInt64(n), err
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		n, err := parseUintCell(cell, 32)
		return protoreflect.ValueOfUint32(uint32(n)), err
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		n, err := parseUintCell(cell, 64)
		return protoreflect.ValueOfUint64(n), err
	case protoreflect.FloatKind:
		f, err := parseFloatCell(cell, 32)
		return protoreflect.ValueOfFloat32(float32(f)), err
	case protoreflect.DoubleKind:
		f, err := parseFloatCell(cell, 64)
		return protoreflect.ValueOfFloat64(f), err
	case protoreflect.StringKind:
		if !utf8.ValidString(cell) {
			return protoreflect.Value{}, errors.New("not valid UTF-8")
		}
		return protoreflect.ValueOfString(cell), nil
	case protoreflect.BytesKind:
		b, err := base64.StdEncoding.DecodeString(cell)
		if err != nil {
			return protoreflect.Value{}, fmt.Errorf("%q is not base64", cell)
		}
		return protoreflect.ValueOfBytes(b), nil
	}
	return protoreflect.Value{}, fmt.Errorf("a %s field cannot be given in CSV", fd.Kind())
}

func parseIntCell(cell string, bits int) (int64, error) {
	n, err := strconv.ParseInt(cell, 10, bits)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%q is out of range", cell)
	}
	if err != nil {
		return 0, fmt.Errorf("%q is not an integer", cell)
	}
	return n, nil
}

func parseUintCell(cell string, bits int) (uint64, error) {
	n, err := strconv.ParseUint(cell, 10, bits)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%q is out of range", cell)
	}
	if err != nil {
		return 0, fmt.Errorf("%q is not a non-negative integer", cell)
	}
	return n, nil
}

func parseFloatCell(cell string, bits int) (float64, error) {
	if cell == "" {
		return 0, errors.New("empty")
	}
	f, err := strconv.ParseFloat(cell, bits)
	if errors.Is(err, strconv.ErrRange) {
		return 0, fmt.Errorf("%q is out of range", cell)
	}
	if err != nil {
		return 0, fmt.Errorf("%q is not a number", cell)
	}
	if math.IsInf(f, 0) || math.IsNaN(f) {
		return 0, fmt.Errorf("%q is not a finite number", cell)
	}
	return f, nil
}

// parseEnum takes a value's full name or its name without the enum's common
// prefix, in any case: spreadsheets are typed by hand.
func parseEnum(ed protoreflect.EnumDescriptor, cell string) (protoreflect.EnumNumber, error) {
	values := ed.Values()
	upper := strings.ToUpper(cell)
	prefix := enumPrefix(ed)
	for _, name := range []string{upper, prefix + upper} {
		if v := values.ByName(protoreflect.Name(name)); v != nil {
			return v.Number(), nil
		}
	}
	var names []string
	for i := 0; i < values.Len(); i++ {
		if v := values.Get(i); v.Number() != 0 {
			names = append(names, strings.TrimPrefix(string(v.Name()), prefix))
		}
	}
	return 0, fmt.Errorf("%q is not a %s; want one of %s", cell, ed.Name(), strings.Join(names, ", "))
}

// enumPrefix is the prefix every value name of an enum shares up to an
// underscore, such as "SETTLEMENT_KIND_", the proto style guide's way of
// scoping value names.
func enumPrefix(ed protoreflect.EnumDescriptor) string {
	values := ed.Values()
	if values.Len() == 0 {
		return ""
	}
	prefix := string(values.Get(0).Name())
	for i := 1; i < values.Len(); i++ {
		name := string(values.Get(i).Name())
		n := 0
		for n < len(prefix) && n < len(name) && prefix[n] == name[n] {
			n++
		}
		prefix = prefix[:n]
	}
	return prefix[:strings.LastIndexByte(prefix, '_')+1]
}

// parseVehicles reads "class:count;class:count", where a class may carry a
// length in metres, "class@10.5:count", or be only a length, "@10.5:count".
func parseVehicles(cell string) ([]*coveragev1.VehicleGroup, error) {
	var groups []*coveragev1.VehicleGroup
	for _, part := range strings.Split(cell, ";") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k := strings.LastIndexByte(part, ':')
		if k < 0 {
			return nil, fmt.Errorf("group %q is not class:count", part)
		}
		spec, countText := strings.TrimSpace(part[:k]), strings.TrimSpace(part[k+1:])
		count, err := parseIntCell(countText, 64)
		if err != nil {
			return nil, fmt.Errorf("group %q: count %w", part, err)
		}
		g := &coveragev1.VehicleGroup{VehicleClass: spec, Count: count}
		if at := strings.IndexByte(spec, '@'); at >= 0 {
			length, err := parseFloatCell(strings.TrimSpace(spec[at+1:]), 64)
			if err != nil {
				return nil, fmt.Errorf("group %q: length %w", part, err)
			}
			g.VehicleClass = strings.TrimSpace(spec[:at])
			g.LengthM = &length
		}
		if g.VehicleClass == "" && g.LengthM == nil {
			return nil, fmt.Errorf("group %q has neither a class nor a length", part)
		}
		if !utf8.ValidString(g.VehicleClass) {
			return nil, fmt.Errorf("group %q: the class is not valid UTF-8", part)
		}
		groups = append(groups, g)
	}
	if len(groups) == 0 {
		return nil, errors.New("no vehicle groups; want class:count;class:count")
	}
	return groups, nil
}

// nearest suggests the known column a mistyped one most likely meant,
// ignoring case and underscores, or "" when none is close.
func (sc *csvSchema) nearest(name string) string {
	norm := func(s string) string {
		return strings.ToLower(strings.NewReplacer("_", "", " ", "", "-", "").Replace(s))
	}
	want := norm(name)
	best, bestDist := "", -1
	for _, col := range sc.columns {
		have := norm(col.name)
		d := editDistance(want, have)
		if len(want) >= 4 && (strings.HasPrefix(have, want) || strings.HasSuffix(have, "."+want)) {
			d = min(d, 1)
		}
		if bestDist < 0 || d < bestDist {
			best, bestDist = col.name, d
		}
	}
	if bestDist < 0 || bestDist > 1+len(want)/4 {
		return ""
	}
	return best
}

func editDistance(a, b string) int {
	prev := make([]int, len(b)+1)
	cur := make([]int, len(b)+1)
	for j := range prev {
		prev[j] = j
	}
	for i := 1; i <= len(a); i++ {
		cur[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			cur[j] = min(prev[j]+1, cur[j-1]+1, prev[j-1]+cost)
		}
		prev, cur = cur, prev
	}
	return prev[len(b)]
}
