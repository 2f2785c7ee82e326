package server

import (
	"fmt"
	"maps"
	"math"
	"slices"
	"sync"
	"sync/atomic"
	"unicode/utf8"

	"google.golang.org/grpc/encoding"
	grpcproto "google.golang.org/grpc/encoding/proto"
	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// responseCodec is the gRPC server's codec. It reads requests and writes
// responses as grpc's own proto codec does, except that in audits it writes
// the fields of each RuleResult that its rule determines (title, topic,
// ruleset, unit, comparison, citation and the rule's notes: four fifths of a
// full-view audit) from bytes encoded once per rule, instead of encoding and
// UTF-8-checking the same 15 KB of text on every call. The bytes decode to
// the same message: the cached fields come first and the others after, which
// protobuf allows, and repeated notes keep their order. A result whose
// rule-determined fields differ from the cached ones (they are compared on
// every call) is encoded field by field, as is every other message.
type responseCodec struct {
	rules ruleWireCache
	// recycler takes back the arrays of a unary audit's response once it
	// is encoded (nil: none are pooled).
	recycler *responseRecycler
}

// maxRuleWireEntries bounds the cache; each entry is one rule of one
// ruleset version the server answered for, so the bound is only reached by
// a catalog far larger than any plan has rules.
const maxRuleWireEntries = 4096

// protoCodec is grpc's own codec, which reads every request and writes
// every message this codec does not write itself.
var protoCodec = encoding.GetCodecV2(grpcproto.Name)

func (c *responseCodec) Name() string { return grpcproto.Name }

func (c *responseCodec) Unmarshal(data mem.BufferSlice, v any) error {
	return protoCodec.Unmarshal(data, v)
}

func (c *responseCodec) Marshal(v any) (mem.BufferSlice, error) {
	var out []byte
	var err error
	pool := mem.DefaultBufferPool()
	switch m := v.(type) {
	case *coveragev1.AuditResponse:
		// The size is not known before encoding; a full-view audit is about
		// 20 KB, so start from a pooled buffer of that size.
		buf := pool.Get(auditBufferHint)
		out, err = c.appendAudit((*buf)[:0], m)
		c.recycler.released(m)
		return c.wrap(pool, buf, out, err)
	case *coveragev1.AuditStreamResponse:
		if item := m.GetResult(); item.GetAudit() != nil {
			buf := pool.Get(auditBufferHint)
			out, err = c.appendItem((*buf)[:0], streamResultField, item)
			if err == nil {
				out = append(out, m.ProtoReflect().GetUnknown()...)
			}
			return c.wrap(pool, buf, out, err)
		}
	case *coveragev1.AuditBatchResponse:
		buf := pool.Get(auditBufferHint)
		out, err = c.appendBatch((*buf)[:0], m)
		return c.wrap(pool, buf, out, err)
	}
	return protoCodec.Marshal(v)
}

const auditBufferHint = 24 << 10

// wrap hands the encoded bytes to gRPC, returning the pooled buffer to its
// pool when they outgrew it.
func (c *responseCodec) wrap(pool mem.BufferPool, buf *[]byte, out []byte, err error) (mem.BufferSlice, error) {
	if err != nil {
		pool.Put(buf)
		return nil, err
	}
	if cap(out) != cap(*buf) {
		pool.Put(buf)
		return mem.BufferSlice{mem.SliceBuffer(out)}, nil
	}
	*buf = out
	return mem.BufferSlice{mem.NewBuffer(buf, pool)}, nil
}

// The messages that hold audits are encoded field by field here, as
// protobuf would, so that their results can be; nothing is changed in them
// for the time of the encoding, so they may be encoded from several
// goroutines at once, as proto.Marshal allows. TestResponseCodecKnowsEveryField
// fails when one of them gains a field this file does not write.

// The field numbers of coverage_service.proto.
const (
	auditRulesetIDField       protowire.Number = 1 // AuditResponse.ruleset_id
	auditRulesetVersionField  protowire.Number = 2
	auditSettlementIDField    protowire.Number = 3
	auditSettlementNameField  protowire.Number = 4
	auditTierField            protowire.Number = 5
	auditResultsField         protowire.Number = 6
	auditCountsField          protowire.Number = 7
	auditBusStopCoverageField protowire.Number = 8

	itemIndexField        protowire.Number = 1 // AuditItem.index
	itemSettlementIDField protowire.Number = 2
	itemAuditField        protowire.Number = 3
	itemErrorField        protowire.Number = 4
	itemClientRefField    protowire.Number = 5

	batchResultsField protowire.Number = 1 // AuditBatchResponse.results
	batchSummaryField protowire.Number = 2
	streamResultField protowire.Number = 1 // AuditStreamResponse.result
)

// appendAudit appends the encoding of m, without tag or length.
func (c *responseCodec) appendAudit(b []byte, m *coveragev1.AuditResponse) ([]byte, error) {
	var err error
	for _, f := range []struct {
		num   protowire.Number
		value string
		name  string
	}{
		{auditRulesetIDField, m.GetRulesetId(), "AuditResponse.ruleset_id"},
		{auditRulesetVersionField, m.GetRulesetVersion(), "AuditResponse.ruleset_version"},
		{auditSettlementIDField, m.GetSettlementId(), "AuditResponse.settlement_id"},
		{auditSettlementNameField, m.GetSettlementName(), "AuditResponse.settlement_name"},
	} {
		if b, err = appendString(b, f.num, f.value, f.name); err != nil {
			return b, err
		}
	}
	if t := m.GetTier(); t != nil {
		if b, err = appendMessage(b, auditTierField, t); err != nil {
			return b, err
		}
	}
	if results := m.GetResults(); len(results) > 0 {
		scratch := scratchPool.Get().(*[]byte)
		defer scratchPool.Put(scratch)
		for _, r := range results {
			if b, err = c.appendResult(b, auditResultsField, r, scratch); err != nil {
				return b, err
			}
		}
	}
	if n := m.GetCounts(); n != nil {
		if b, err = appendMessage(b, auditCountsField, n); err != nil {
			return b, err
		}
	}
	if sc := m.GetBusStopCoverage(); sc != nil {
		if b, err = appendMessage(b, auditBusStopCoverageField, sc); err != nil {
			return b, err
		}
	}
	if m != nil {
		b = append(b, m.ProtoReflect().GetUnknown()...)
	}
	return b, nil
}

// appendItem appends item as field num. Its length comes before it, so it
// is encoded apart first: one more copy of the audit, a microsecond.
func (c *responseCodec) appendItem(b []byte, num protowire.Number, item *coveragev1.AuditItem) ([]byte, error) {
	scratch := scratchPool.Get().(*[]byte)
	defer scratchPool.Put(scratch)
	body := (*scratch)[:0]
	var err error
	if i := item.GetIndex(); i != 0 {
		body = protowire.AppendTag(body, itemIndexField, protowire.VarintType)
		body = protowire.AppendVarint(body, uint64(i))
	}
	if body, err = appendString(body, itemSettlementIDField, item.GetSettlementId(), "AuditItem.settlement_id"); err != nil {
		return b, err
	}
	if audit := item.GetAudit(); audit != nil {
		inner := scratchPool.Get().(*[]byte)
		defer scratchPool.Put(inner)
		enc, err := c.appendAudit((*inner)[:0], audit)
		*inner = enc[:0]
		if err != nil {
			return b, err
		}
		body = protowire.AppendTag(body, itemAuditField, protowire.BytesType)
		body = protowire.AppendBytes(body, enc)
	}
	if e := item.GetError(); e != nil {
		if body, err = appendMessage(body, itemErrorField, e); err != nil {
			return b, err
		}
	}
	if body, err = appendString(body, itemClientRefField, item.GetClientRef(), "AuditItem.client_ref"); err != nil {
		return b, err
	}
	if item != nil {
		body = append(body, item.ProtoReflect().GetUnknown()...)
	}
	*scratch = body[:0]
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendBytes(b, body), nil
}

func (c *responseCodec) appendBatch(b []byte, m *coveragev1.AuditBatchResponse) ([]byte, error) {
	var err error
	for _, item := range m.GetResults() {
		if b, err = c.appendItem(b, batchResultsField, item); err != nil {
			return b, err
		}
	}
	if s := m.GetSummary(); s != nil {
		if b, err = appendMessage(b, batchSummaryField, s); err != nil {
			return b, err
		}
	}
	if m != nil {
		b = append(b, m.ProtoReflect().GetUnknown()...)
	}
	return b, nil
}

var scratchPool = sync.Pool{New: func() any { b := make([]byte, 0, auditBufferHint); return &b }}

// appendResult appends r as field num, its rule-determined fields from the
// cache when they are the cached ones.
func (c *responseCodec) appendResult(b []byte, num protowire.Number, r *coveragev1.RuleResult, scratch *[]byte) ([]byte, error) {
	if r == nil {
		b = protowire.AppendTag(b, num, protowire.BytesType)
		return protowire.AppendVarint(b, 0), nil
	}
	e := c.rules.lookup(r)
	k := e.matches(r)
	if k < 0 {
		return appendMessage(b, num, r)
	}
	static := e.encoded[:e.notesAt[k]]
	// The other fields are a few hundred bytes; encoding them apart first
	// gives the length that precedes the result.
	rest, err := appendResultRest((*scratch)[:0], r, k)
	*scratch = rest[:0]
	if err != nil {
		return b, err
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(len(static)+len(rest)))
	b = append(b, static...)
	return append(b, rest...), nil
}

// The fields of RuleResult (result.proto). ruleFields are the ones its rule
// determines, which ruleWire caches, and resultFields the others, which
// appendResultRest encodes; TestResponseCodecKnowsEveryField fails when the
// message gains a field that is in neither.
var (
	ruleFields   = []protowire.Number{1, 2, 3, 4, 5, 8, 11, 18, resultNotesField}
	resultFields = []protowire.Number{6, 7, 9, 10, 12, 13, 14, 15, 16, 17, resultNotesField, 20, 21, 22}
)

// appendResultRest appends the fields of r that are not its rule's, and the
// notes from the first-th on, as protobuf would.
func appendResultRest(b []byte, r *coveragev1.RuleResult, first int) ([]byte, error) {
	b = appendEnum(b, 6, int32(r.Status))
	b = appendOptionalDouble(b, 7, r.Value)
	b = appendOptionalDouble(b, 9, r.Threshold)
	b = appendOptionalDouble(b, 10, r.ThresholdUpper)
	var err error
	if b, err = appendString(b, 12, r.Tier, "RuleResult.tier"); err != nil {
		return b, err
	}
	if b, err = appendString(b, 13, r.SizeClass, "RuleResult.size_class"); err != nil {
		return b, err
	}
	if b, err = appendString(b, 14, r.ThresholdReason, "RuleResult.threshold_reason"); err != nil {
		return b, err
	}
	b = appendOptionalDouble(b, 15, r.Shortfall)
	if b, err = appendString(b, 16, r.ShortfallUnit, "RuleResult.shortfall_unit"); err != nil {
		return b, err
	}
	for _, m := range r.ShortfallItems {
		if b, err = appendMessage(b, 17, m); err != nil {
			return b, err
		}
	}
	for _, n := range r.Notes[first:] {
		if b, err = appendRepeatedString(b, resultNotesField, n, "RuleResult.notes"); err != nil {
			return b, err
		}
	}
	for _, f := range r.MissingFields {
		if b, err = appendRepeatedString(b, 20, f, "RuleResult.missing_fields"); err != nil {
			return b, err
		}
	}
	if b, err = appendString(b, 21, r.Reason, "RuleResult.reason"); err != nil {
		return b, err
	}
	for _, m := range r.Actions {
		if b, err = appendMessage(b, 22, m); err != nil {
			return b, err
		}
	}
	return append(b, r.ProtoReflect().GetUnknown()...), nil
}

func appendEnum(b []byte, num protowire.Number, v int32) []byte {
	if v == 0 {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.VarintType)
	return protowire.AppendVarint(b, uint64(int64(v)))
}

func appendOptionalDouble(b []byte, num protowire.Number, v *float64) []byte {
	if v == nil {
		return b
	}
	b = protowire.AppendTag(b, num, protowire.Fixed64Type)
	return protowire.AppendFixed64(b, math.Float64bits(*v))
}

// appendString appends a string field with implicit presence: not at all
// when empty.
func appendString(b []byte, num protowire.Number, v, name string) ([]byte, error) {
	if v == "" {
		return b, nil
	}
	return appendRepeatedString(b, num, v, name)
}

func appendRepeatedString(b []byte, num protowire.Number, v, name string) ([]byte, error) {
	if !utf8.ValidString(v) {
		return b, fmt.Errorf("proto: field coverage.v1.%s contains invalid UTF-8", name)
	}
	b = protowire.AppendTag(b, num, protowire.BytesType)
	return protowire.AppendString(b, v), nil
}

func appendMessage(b []byte, num protowire.Number, m proto.Message) ([]byte, error) {
	b = protowire.AppendTag(b, num, protowire.BytesType)
	b = protowire.AppendVarint(b, uint64(proto.Size(m)))
	return proto.MarshalOptions{UseCachedSize: true}.MarshalAppend(b, m)
}

// ruleWireCache holds, per rule of each ruleset version, its
// rule-determined fields and their encoding, made from the first result
// encoded for the rule. Its maps are replaced, never changed, so that the
// score of lookups per audit takes no lock; a new rule copies the map of its
// ruleset version only, and a new version the map of versions.
type ruleWireCache struct {
	versions atomic.Pointer[map[rulesetVersion]*atomic.Pointer[map[string]*ruleWire]]
	mu       sync.Mutex // serialises the replacements
	entries  int
}

type rulesetVersion struct{ id, version string }

type ruleWire struct {
	ruleID, title, rulesetID, version, unit string
	topic                                   coveragev1.Topic
	comparison                              coveragev1.Comparison
	citation                                *coveragev1.Citation // a copy; nil when the results had none
	notes                                   []string
	// encoded holds the fields above, notes last; notesAt[k] is the length
	// of the part that ends after the first k notes.
	encoded []byte
	notesAt []int
	// json is the same fields in JSON, made when the gateway's JSON writer
	// first writes the rule (ruleJSONFor).
	jsonOnce sync.Once
	json     *ruleJSON
}

// size is the number of rules cached.
func (c *ruleWireCache) size() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.entries
}

func (c *ruleWireCache) lookup(r *coveragev1.RuleResult) *ruleWire {
	if r.RuleId == "" {
		return nil
	}
	key := rulesetVersion{r.RulesetId, r.RulesetVersion}
	if versions := c.versions.Load(); versions != nil {
		if rules := (*versions)[key]; rules != nil {
			if e, ok := (*rules.Load())[r.RuleId]; ok {
				return e
			}
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.entries >= maxRuleWireEntries {
		return nil // encoded field by field
	}
	versions := c.versions.Load()
	var rules *atomic.Pointer[map[string]*ruleWire]
	if versions != nil {
		rules = (*versions)[key]
	}
	if rules == nil {
		rules = new(atomic.Pointer[map[string]*ruleWire])
		rules.Store(&map[string]*ruleWire{})
		next := map[rulesetVersion]*atomic.Pointer[map[string]*ruleWire]{key: rules}
		if versions != nil {
			maps.Copy(next, *versions)
		}
		c.versions.Store(&next)
	}
	old := *rules.Load()
	if cached, ok := old[r.RuleId]; ok {
		return cached // made by a call that missed at the same time
	}
	e := newRuleWire(r)
	if e == nil {
		return nil
	}
	next := maps.Clone(old)
	next[r.RuleId] = e
	rules.Store(&next)
	c.entries++
	return e
}

func newRuleWire(r *coveragev1.RuleResult) *ruleWire {
	e := &ruleWire{
		ruleID: r.RuleId, title: r.Title, rulesetID: r.RulesetId, version: r.RulesetVersion, unit: r.Unit,
		topic: r.Topic, comparison: r.Comparison, notes: slices.Clone(r.Notes),
	}
	if c := r.Citation; c != nil {
		if len(c.ProtoReflect().GetUnknown()) > 0 {
			return nil
		}
		e.citation = &coveragev1.Citation{
			Document: c.Document, Section: c.Section, SectionEn: c.SectionEn,
			OriginalText: c.OriginalText, EnglishText: c.EnglishText,
		}
	}
	enc, err := proto.Marshal(e.static())
	if err != nil {
		return nil // not valid UTF-8: encoded field by field, which reports it
	}
	e.notesAt = append(e.notesAt, len(enc))
	for _, n := range e.notes {
		if !utf8.ValidString(n) {
			break
		}
		enc = protowire.AppendTag(enc, resultNotesField, protowire.BytesType)
		enc = protowire.AppendString(enc, n)
		e.notesAt = append(e.notesAt, len(enc))
	}
	e.notes = e.notes[:len(e.notesAt)-1]
	e.encoded = enc
	return e
}

const resultNotesField protowire.Number = 19 // RuleResult.notes

// static is a result with e's fields, and no notes.
func (e *ruleWire) static() *coveragev1.RuleResult {
	return &coveragev1.RuleResult{
		RuleId: e.ruleID, Title: e.title, Topic: e.topic, RulesetId: e.rulesetID, RulesetVersion: e.version,
		Unit: e.unit, Comparison: e.comparison, Citation: e.citation,
	}
}

// matches says whether r's rule-determined fields are e's, and how many of
// r's notes are e's first notes (-1: not e's fields, or no e).
func (e *ruleWire) matches(r *coveragev1.RuleResult) int {
	if e == nil || r.RuleId != e.ruleID || r.Title != e.title || r.Topic != e.topic ||
		r.RulesetId != e.rulesetID || r.RulesetVersion != e.version || r.Unit != e.unit || r.Comparison != e.comparison {
		return -1
	}
	c, want := r.Citation, e.citation
	if (c == nil) != (want == nil) {
		return -1
	}
	if c != nil && (c.Document != want.Document || c.Section != want.Section || c.SectionEn != want.SectionEn ||
		c.OriginalText != want.OriginalText || c.EnglishText != want.EnglishText || len(c.ProtoReflect().GetUnknown()) > 0) {
		return -1
	}
	k := 0
	for k < len(r.Notes) && k < len(e.notes) && r.Notes[k] == e.notes[k] {
		k++
	}
	return k
}
