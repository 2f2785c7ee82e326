package server

import (
	"encoding/base64"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/known/structpb"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// protoJSON writes a message as JSON, byte for byte as protojson does with
// EmitUnpopulated and no other option, several times faster: it walks each
// message type's fields from a plan made once per type, where protojson
// collects every message's fields again, with its unpopulated ones, and sorts
// them. A 27 KB audit took a third of the server's CPU over REST.
//
// Well-known types (google.protobuf.*, which have JSON forms of their own) are
// written by protojson itself, in place; a message type that can hold
// extensions, any error (invalid UTF-8, a missing required field) and any
// other option make the caller fall back to protojson for the whole message,
// so that its output and its errors stay protojson's. jsonpb_test.go holds the
// two side by side.
//
// In audits, the fields of each RuleResult that its rule determines (title,
// topic, ruleset, unit, comparison, citation and the rule's notes: four
// fifths of a full-view audit) are written from JSON made once per rule, as
// the gRPC codec writes their protobuf (ruleWireCache, wirecodec.go), when
// they are the same as the cached ones.
type protoJSON struct {
	plans sync.Map // protoreflect.MessageDescriptor → *jsonPlan
	rules ruleWireCache
}

// ruleJSON is the JSON of the rule-determined fields of a RuleResult.
type ruleJSON struct {
	// values holds the value of each such field by its index in the plan,
	// and nil for the fields written from the result itself (and for an
	// unset citation, written as null).
	values [][]byte
	// notes are the rule's notes as JSON strings with separators between
	// them, and notesAt[k] the length of the part that holds the first k;
	// notesIndex is the index of the notes field in the plan.
	notes      []byte
	notesAt    []int
	notesIndex int
}

var ruleResultName = (*coveragev1.RuleResult)(nil).ProtoReflect().Descriptor().FullName()

// protoJSONFor is the fast writer for opts, or nil when it does not write
// what protojson would with them.
func protoJSONFor(opts protojson.MarshalOptions) *protoJSON {
	if opts != (protojson.MarshalOptions{EmitUnpopulated: true}) {
		return nil
	}
	return &protoJSON{}
}

// jsonComma is what protojson puts between two values on one line: a comma
// and, in some builds, a space, so that nobody relies on its output staying
// the same from one build to the next. Within a build it does not change, and
// the writer below follows the build it is in.
var jsonComma = sync.OnceValue(func() string {
	b, err := protojson.Marshal(&structpb.ListValue{Values: []*structpb.Value{structpb.NewBoolValue(true), structpb.NewBoolValue(false)}})
	if err == nil && strings.Contains(string(b), ", ") {
		return ", "
	}
	return ","
})

// jsonPlan is how one message type is written.
type jsonPlan struct {
	// protojson writes the message itself: a well-known type.
	wellKnown bool
	// the type can hold extensions, which protojson writes and this does not.
	unsupported bool
	// the type is RuleResult, whose rule-determined fields may be cached.
	ruleResult bool
	fields     []jsonField
	// sizeHint is the length of the last message of this type written, so
	// that the next one's buffer is allocated once.
	sizeHint atomic.Int64
}

type jsonField struct {
	fd protoreflect.FieldDescriptor
	// name is the quoted JSON name and its colon.
	name []byte
	// oneof fields are written only when set; other fields with presence
	// are written as null when unset; all others always.
	oneof, presence bool
	list, isMap     bool
	kind            protoreflect.Kind
	// value is the field's value descriptor: the field itself, or the map
	// entry's value field.
	value protoreflect.FieldDescriptor
}

func (j *protoJSON) plan(md protoreflect.MessageDescriptor) *jsonPlan {
	if p, ok := j.plans.Load(md); ok {
		return p.(*jsonPlan)
	}
	p := &jsonPlan{}
	switch {
	case md.FullName().Parent() == "google.protobuf":
		p.wellKnown = true
	case md.ExtensionRanges().Len() > 0:
		p.unsupported = true
	case md.FullName() == ruleResultName:
		p.ruleResult = true
	}
	fields := md.Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		name, _ := appendJSONString(nil, fd.JSONName())
		f := jsonField{
			fd: fd, name: append(name, ':'),
			oneof: fd.ContainingOneof() != nil, presence: fd.HasPresence(),
			list: fd.IsList(), isMap: fd.IsMap(), kind: fd.Kind(), value: fd,
		}
		if f.isMap {
			f.value = fd.MapValue()
		}
		p.fields = append(p.fields, f)
	}
	actual, _ := j.plans.LoadOrStore(md, p)
	return actual.(*jsonPlan)
}

// marshal writes m, or reports false when protojson must.
func (j *protoJSON) marshal(m proto.Message) ([]byte, bool) {
	if m == nil {
		return nil, false
	}
	rm := m.ProtoReflect()
	if !rm.IsValid() {
		return nil, false
	}
	p := j.plan(rm.Descriptor())
	if p.wellKnown || p.unsupported {
		return nil, false
	}
	w := jsonWriter{j: j, comma: jsonComma(), out: make([]byte, 0, p.sizeHint.Load()+p.sizeHint.Load()/8+64)}
	if !w.message(rm, p) {
		return nil, false
	}
	// protojson refuses a message with a required field unset; proto3 has no
	// required fields, and the check costs nothing for types without them.
	if proto.CheckInitialized(m) != nil {
		return nil, false
	}
	p.sizeHint.Store(int64(len(w.out)))
	return w.out, true
}

type jsonWriter struct {
	j     *protoJSON
	comma string
	out   []byte
}

func (w *jsonWriter) message(m protoreflect.Message, p *jsonPlan) bool {
	if p.unsupported {
		return false
	}
	if p.wellKnown {
		var err error
		w.out, err = protojson.MarshalOptions{EmitUnpopulated: true, AllowPartial: true}.MarshalAppend(w.out, m.Interface())
		return err == nil
	}
	var rule *ruleJSON
	notes := 0
	if p.ruleResult {
		rule, notes = w.cachedRule(m, p)
	}
	w.out = append(w.out, '{')
	first := true
	for i := range p.fields {
		f := &p.fields[i]
		set := true
		if f.oneof || f.presence {
			set = m.Has(f.fd)
			if !set && f.oneof {
				continue
			}
		}
		if !first {
			w.out = append(w.out, w.comma...)
		}
		first = false
		w.out = append(w.out, f.name...)
		var ok bool
		switch {
		case !set:
			w.out = append(w.out, "null"...)
			ok = true
		case rule != nil && rule.values[i] != nil:
			w.out = append(w.out, rule.values[i]...)
			ok = true
		case rule != nil && i == rule.notesIndex:
			ok = w.listAfter(m.Get(f.fd).List(), f, rule.notes[:rule.notesAt[notes]], notes)
		case f.list:
			ok = w.list(m.Get(f.fd).List(), f)
		case f.isMap:
			ok = w.mapValue(m.Get(f.fd).Map(), f)
		default:
			ok = w.singular(m.Get(f.fd), f.value, f.kind)
		}
		if !ok {
			return false
		}
	}
	w.out = append(w.out, '}')
	return true
}

// cachedRule is the cached JSON of the rule-determined fields of m, a
// RuleResult, and how many of m's notes it holds; nil when m's fields are
// not the cached ones.
func (w *jsonWriter) cachedRule(m protoreflect.Message, p *jsonPlan) (*ruleJSON, int) {
	r, ok := m.Interface().(*coveragev1.RuleResult)
	if !ok {
		return nil, 0 // a dynamic message of the same type
	}
	e := w.j.rules.lookup(r)
	k := e.matches(r)
	if k < 0 {
		return nil, 0
	}
	e.jsonOnce.Do(func() { e.json = newRuleJSON(w.j, e, p, w.comma) })
	if e.json == nil {
		return nil, 0
	}
	return e.json, min(k, len(e.json.notesAt)-1)
}

// newRuleJSON writes e's fields as the writer writes them, or is nil when
// one of them cannot be written.
func newRuleJSON(j *protoJSON, e *ruleWire, p *jsonPlan, comma string) *ruleJSON {
	m := e.static().ProtoReflect()
	rj := &ruleJSON{values: make([][]byte, len(p.fields)), notesIndex: -1}
	for i := range p.fields {
		f := &p.fields[i]
		switch num := protowire.Number(f.fd.Number()); {
		case num == resultNotesField:
			rj.notesIndex = i
		case slices.Contains(ruleFields, num) && (!f.presence || m.Has(f.fd)):
			v := jsonWriter{j: j, comma: comma}
			if !v.singular(m.Get(f.fd), f.value, f.kind) {
				return nil
			}
			rj.values[i] = v.out
		}
	}
	if rj.notesIndex < 0 {
		return nil
	}
	rj.notesAt = []int{0}
	for k, n := range e.notes {
		if k > 0 {
			rj.notes = append(rj.notes, comma...)
		}
		var ok bool
		if rj.notes, ok = appendJSONString(rj.notes, n); !ok {
			break
		}
		rj.notesAt = append(rj.notesAt, len(rj.notes))
	}
	return rj
}

func (w *jsonWriter) list(l protoreflect.List, f *jsonField) bool {
	return w.listAfter(l, f, nil, 0)
}

// listAfter writes l, whose first k elements are written already, as
// prefix (a result's notes that its rule's cached JSON holds).
func (w *jsonWriter) listAfter(l protoreflect.List, f *jsonField, prefix []byte, k int) bool {
	w.out = append(w.out, '[')
	w.out = append(w.out, prefix...)
	for i := k; i < l.Len(); i++ {
		if i > 0 {
			w.out = append(w.out, w.comma...)
		}
		if !w.singular(l.Get(i), f.value, f.kind) {
			return false
		}
	}
	w.out = append(w.out, ']')
	return true
}

func (w *jsonWriter) mapValue(mv protoreflect.Map, f *jsonField) bool {
	keys := make([]protoreflect.MapKey, 0, mv.Len())
	mv.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
		keys = append(keys, k)
		return true
	})
	// protojson's order: false before true, numbers ascending, strings by
	// their bytes.
	switch f.fd.MapKey().Kind() {
	case protoreflect.BoolKind:
		slices.SortFunc(keys, func(a, b protoreflect.MapKey) int {
			switch {
			case a.Bool() == b.Bool():
				return 0
			case !a.Bool():
				return -1
			}
			return 1
		})
	case protoreflect.StringKind:
		slices.SortFunc(keys, func(a, b protoreflect.MapKey) int { return strings.Compare(a.String(), b.String()) })
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind, protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		slices.SortFunc(keys, func(a, b protoreflect.MapKey) int { return cmpOrdered(a.Uint(), b.Uint()) })
	default:
		slices.SortFunc(keys, func(a, b protoreflect.MapKey) int { return cmpOrdered(a.Int(), b.Int()) })
	}
	w.out = append(w.out, '{')
	for i, k := range keys {
		if i > 0 {
			w.out = append(w.out, w.comma...)
		}
		var ok bool
		if w.out, ok = appendJSONString(w.out, k.String()); !ok {
			return false
		}
		w.out = append(w.out, ':')
		if !w.singular(mv.Get(k), f.value, f.value.Kind()) {
			return false
		}
	}
	w.out = append(w.out, '}')
	return true
}

func cmpOrdered[T int64 | uint64](a, b T) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// singular writes one value of kind, of the field (or map value) fd.
func (w *jsonWriter) singular(v protoreflect.Value, fd protoreflect.FieldDescriptor, kind protoreflect.Kind) bool {
	switch kind {
	case protoreflect.BoolKind:
		w.out = strconv.AppendBool(w.out, v.Bool())
	case protoreflect.StringKind:
		var ok bool
		w.out, ok = appendJSONString(w.out, v.String())
		return ok
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		w.out = strconv.AppendInt(w.out, v.Int(), 10)
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		w.out = strconv.AppendUint(w.out, v.Uint(), 10)
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		// 64-bit integers are strings in JSON.
		w.out = append(w.out, '"')
		w.out = strconv.AppendInt(w.out, v.Int(), 10)
		w.out = append(w.out, '"')
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		w.out = append(w.out, '"')
		w.out = strconv.AppendUint(w.out, v.Uint(), 10)
		w.out = append(w.out, '"')
	case protoreflect.FloatKind:
		w.out = appendJSONFloat(w.out, v.Float(), 32)
	case protoreflect.DoubleKind:
		w.out = appendJSONFloat(w.out, v.Float(), 64)
	case protoreflect.BytesKind:
		w.out = append(w.out, '"')
		w.out = base64.StdEncoding.AppendEncode(w.out, v.Bytes())
		w.out = append(w.out, '"')
	case protoreflect.EnumKind:
		ed := fd.Enum()
		if ed.FullName() == "google.protobuf.NullValue" {
			w.out = append(w.out, "null"...)
		} else if evd := ed.Values().ByNumber(v.Enum()); evd != nil {
			w.out = append(w.out, '"')
			w.out = append(w.out, evd.Name()...)
			w.out = append(w.out, '"')
		} else {
			w.out = strconv.AppendInt(w.out, int64(v.Enum()), 10)
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		m := v.Message()
		return w.message(m, w.j.plan(m.Descriptor()))
	default:
		return false
	}
	return true
}

// appendJSONFloat writes a float as protojson does: the special values as
// strings, and otherwise the shortest form that reads back the same, in
// exponent form below 1e-6 and from 1e21.
func appendJSONFloat(out []byte, n float64, bitSize int) []byte {
	switch {
	case math.IsNaN(n):
		return append(out, `"NaN"`...)
	case math.IsInf(n, +1):
		return append(out, `"Infinity"`...)
	case math.IsInf(n, -1):
		return append(out, `"-Infinity"`...)
	}
	format := byte('f')
	if abs := math.Abs(n); abs != 0 {
		if bitSize == 64 && (abs < 1e-6 || abs >= 1e21) ||
			bitSize == 32 && (float32(abs) < 1e-6 || float32(abs) >= 1e21) {
			format = 'e'
		}
	}
	out = strconv.AppendFloat(out, n, format, -1, bitSize)
	if format == 'e' {
		// "1e-07" becomes "1e-7".
		n := len(out)
		if n >= 4 && out[n-4] == 'e' && out[n-3] == '-' && out[n-2] == '0' {
			out[n-2] = out[n-1]
			out = out[:n-1]
		}
	}
	return out
}

// appendJSONString writes s as a JSON string as protojson does: quotes,
// backslashes and control characters escaped, nothing else; false when s is
// not valid UTF-8, which protojson refuses.
func appendJSONString(out []byte, s string) ([]byte, bool) {
	const hex = "0123456789abcdef"
	out = append(out, '"')
	// Most strings need no escape: one pass for the ASCII characters that
	// do (the bytes of a multi-byte character are never ASCII), then the
	// UTF-8 check of the whole string, which is fast on long runs.
	plain := 0
	for plain < len(s) && s[plain] >= ' ' && s[plain] != '"' && s[plain] != '\\' {
		plain++
	}
	if plain == len(s) {
		if !utf8.ValidString(s) {
			return out, false
		}
		out = append(out, s...)
		return append(out, '"'), true
	}
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= ' ' && c != '"' && c != '\\' {
				i++
				continue
			}
			out = append(out, s[start:i]...)
			switch c {
			case '"', '\\':
				out = append(out, '\\', c)
			case '\b':
				out = append(out, '\\', 'b')
			case '\f':
				out = append(out, '\\', 'f')
			case '\n':
				out = append(out, '\\', 'n')
			case '\r':
				out = append(out, '\\', 'r')
			case '\t':
				out = append(out, '\\', 't')
			default:
				out = append(out, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRuneInString(s[i:])
		if r == utf8.RuneError && size == 1 {
			return out, false
		}
		i += size
	}
	out = append(out, s[start:]...)
	return append(out, '"'), true
}
