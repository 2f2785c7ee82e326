package server

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"

	"google.golang.org/grpc/mem"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/encoding/protowire"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protoreflect"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// TestResponseCodecKnowsEveryField: the codec writes RuleResult by hand, so
// a field added to result.proto (or to Citation, which the cache compares
// field by field) would silently vanish from gRPC responses unless the codec
// learns it.
func TestResponseCodecKnowsEveryField(t *testing.T) {
	fields := (&coveragev1.RuleResult{}).ProtoReflect().Descriptor().Fields()
	listed := map[protowire.Number]bool{}
	for _, list := range []struct {
		name string
		nums []protowire.Number
	}{{"ruleFields", ruleFields}, {"resultFields", resultFields}} {
		for _, n := range list.nums {
			listed[n] = true
			if fields.ByNumber(n) == nil {
				t.Errorf("%s lists field %d, which RuleResult does not have", list.name, n)
			}
		}
	}
	for i := range fields.Len() {
		if fd := fields.Get(i); !listed[fd.Number()] {
			t.Errorf("RuleResult.%s (%d) is in neither ruleFields nor resultFields: the codec drops it; "+
				"cache it in ruleWire (newRuleWire, matches) or encode it in appendResultRest, and list it", fd.Name(), fd.Number())
		}
	}

	// The rule's part is what ruleWire holds and matches compares.
	wantRule := []protoreflect.Name{"rule_id", "title", "topic", "ruleset_id", "ruleset_version", "unit", "comparison", "citation", "notes"}
	var gotRule []protoreflect.Name
	for _, n := range ruleFields {
		if fd := fields.ByNumber(n); fd != nil {
			gotRule = append(gotRule, fd.Name())
		}
	}
	slices.Sort(gotRule)
	slices.Sort(wantRule)
	if !slices.Equal(gotRule, wantRule) {
		t.Errorf("ruleFields are %v, ruleWire caches and compares %v", gotRule, wantRule)
	}
	if fd := fields.ByNumber(resultNotesField); fd == nil || fd.Name() != "notes" || !fd.IsList() {
		t.Errorf("resultNotesField is %d, RuleResult.notes is %v", resultNotesField, fields.ByName("notes"))
	}
	for _, n := range resultFields {
		if slices.Contains(ruleFields, n) && n != resultNotesField {
			t.Errorf("field %d is in ruleFields and resultFields; only notes is split between them", n)
		}
	}

	// appendResultRest writes each field with the wire type and presence of
	// its declaration; a change of type must reach it too.
	type decl struct {
		name     protoreflect.Name
		kind     protoreflect.Kind
		list     bool
		presence bool
	}
	wantRest := map[protowire.Number]decl{
		6:  {"status", protoreflect.EnumKind, false, false},
		7:  {"value", protoreflect.DoubleKind, false, true},
		9:  {"threshold", protoreflect.DoubleKind, false, true},
		10: {"threshold_upper", protoreflect.DoubleKind, false, true},
		12: {"tier", protoreflect.StringKind, false, false},
		13: {"size_class", protoreflect.StringKind, false, false},
		14: {"threshold_reason", protoreflect.StringKind, false, false},
		15: {"shortfall", protoreflect.DoubleKind, false, true},
		16: {"shortfall_unit", protoreflect.StringKind, false, false},
		17: {"shortfall_items", protoreflect.MessageKind, true, false},
		19: {"notes", protoreflect.StringKind, true, false},
		20: {"missing_fields", protoreflect.StringKind, true, false},
		21: {"reason", protoreflect.StringKind, false, false},
		22: {"actions", protoreflect.MessageKind, true, false},
	}
	for _, n := range resultFields {
		want, ok := wantRest[n]
		fd := fields.ByNumber(n)
		if !ok || fd == nil {
			t.Errorf("resultFields lists %d, which appendResultRest does not encode", n)
			continue
		}
		got := decl{fd.Name(), fd.Kind(), fd.IsList(), fd.HasPresence() && !fd.IsList()}
		if got != want {
			t.Errorf("RuleResult field %d is declared %+v; appendResultRest encodes it as %+v", n, got, want)
		}
	}
	for n := range wantRest {
		if !slices.Contains(resultFields, n) {
			t.Errorf("appendResultRest encodes field %d, which resultFields does not list", n)
		}
	}

	cit := (&coveragev1.Citation{}).ProtoReflect().Descriptor().Fields()
	wantCit := []protoreflect.Name{"document", "section", "section_en", "original_text", "english_text"}
	var gotCit []protoreflect.Name
	for i := range cit.Len() {
		gotCit = append(gotCit, cit.Get(i).Name())
		if k := cit.Get(i).Kind(); k != protoreflect.StringKind || cit.Get(i).IsList() {
			t.Errorf("Citation.%s is a %v; ruleWire.matches compares it as a string", cit.Get(i).Name(), k)
		}
	}
	if !slices.Equal(gotCit, wantCit) {
		t.Errorf("Citation has fields %v, ruleWire.matches compares %v: compare the new field in ruleWire.matches "+
			"and copy it in newRuleWire, or a result whose citation differs only there is written with the cached citation", gotCit, wantCit)
	}

	// The messages around the results are written field by field too: each
	// of their fields must be one the codec writes, with the kind it writes.
	type field struct {
		num  protowire.Number
		kind protoreflect.Kind
		list bool
		of   protoreflect.FullName // for messages
	}
	for _, c := range []struct {
		msg    proto.Message
		fields map[protoreflect.Name]field
	}{
		{&coveragev1.AuditResponse{}, map[protoreflect.Name]field{
			"ruleset_id":        {auditRulesetIDField, protoreflect.StringKind, false, ""},
			"ruleset_version":   {auditRulesetVersionField, protoreflect.StringKind, false, ""},
			"settlement_id":     {auditSettlementIDField, protoreflect.StringKind, false, ""},
			"settlement_name":   {auditSettlementNameField, protoreflect.StringKind, false, ""},
			"tier":              {auditTierField, protoreflect.MessageKind, false, "coverage.v1.TierAssignment"},
			"results":           {auditResultsField, protoreflect.MessageKind, true, "coverage.v1.RuleResult"},
			"counts":            {auditCountsField, protoreflect.MessageKind, false, "coverage.v1.StatusCounts"},
			"bus_stop_coverage": {auditBusStopCoverageField, protoreflect.MessageKind, false, "coverage.v1.BusStopCoverage"},
		}},
		{&coveragev1.AuditItem{}, map[protoreflect.Name]field{
			"index":         {itemIndexField, protoreflect.Int64Kind, false, ""},
			"settlement_id": {itemSettlementIDField, protoreflect.StringKind, false, ""},
			"audit":         {itemAuditField, protoreflect.MessageKind, false, "coverage.v1.AuditResponse"},
			"error":         {itemErrorField, protoreflect.MessageKind, false, "coverage.v1.ItemError"},
			"client_ref":    {itemClientRefField, protoreflect.StringKind, false, ""},
		}},
		{&coveragev1.AuditBatchResponse{}, map[protoreflect.Name]field{
			"results": {batchResultsField, protoreflect.MessageKind, true, "coverage.v1.AuditItem"},
			"summary": {batchSummaryField, protoreflect.MessageKind, false, "coverage.v1.BatchSummary"},
		}},
		// Only the result of the oneof goes through the codec's own path.
		{&coveragev1.AuditStreamResponse{}, map[protoreflect.Name]field{
			"result":  {streamResultField, protoreflect.MessageKind, false, "coverage.v1.AuditItem"},
			"summary": {2, protoreflect.MessageKind, false, "coverage.v1.BatchSummary"},
		}},
	} {
		md := c.msg.ProtoReflect().Descriptor()
		fds := md.Fields()
		for i := range fds.Len() {
			fd := fds.Get(i)
			want, ok := c.fields[fd.Name()]
			if !ok {
				t.Errorf("%s.%s (%d) is new: the codec (appendAudit, appendItem, appendBatch) does not write it", md.FullName(), fd.Name(), fd.Number())
				continue
			}
			got := field{fd.Number(), fd.Kind(), fd.IsList(), ""}
			if fd.Message() != nil {
				got.of = fd.Message().FullName()
			}
			if got != want || (fd.HasPresence() && fd.Kind() != protoreflect.MessageKind && fd.ContainingOneof() == nil) {
				t.Errorf("%s.%s is declared %+v; the codec writes it as %+v", md.FullName(), fd.Name(), got, want)
			}
		}
		if fds.Len() != len(c.fields) {
			t.Errorf("%s has %d fields, the codec writes %d", md.FullName(), fds.Len(), len(c.fields))
		}
	}
}

// codecTestData is what the service answers for every sample settlement
// under every ruleset: the responses the codec writes in production.
type codecTestData struct {
	svc         *Service
	settlements []*coveragev1.Settlement
	requests    []*coveragev1.AuditRequest
	audits      []*coveragev1.AuditResponse // full view
	responses   []proto.Message             // every kind the codec handles, both views
}

var (
	codecDataOnce sync.Once
	codecData     *codecTestData
	codecDataErr  error
)

// serviceAnswers collects the data once: the tests only read it, or clone
// it before changing it.
func serviceAnswers(t testing.TB) *codecTestData {
	t.Helper()
	codecDataOnce.Do(func() { codecData, codecDataErr = collectServiceAnswers(NewService(testCatalog(t))) })
	if codecDataErr != nil {
		t.Fatal(codecDataErr)
	}
	return codecData
}

func collectServiceAnswers(svc *Service) (*codecTestData, error) {
	ctx := context.Background()
	d := &codecTestData{svc: svc}
	samples, err := svc.ListSamples(ctx, &coveragev1.ListSamplesRequest{})
	if err != nil {
		return nil, err
	}
	for _, set := range samples.GetSets() {
		for _, s := range set.GetSettlements() {
			got, err := svc.GetSampleSettlement(ctx, &coveragev1.GetSampleSettlementRequest{Set: set.GetName(), SettlementId: s.GetId()})
			if err != nil {
				return nil, err
			}
			d.settlements = append(d.settlements, got.GetSettlement())
		}
	}
	if len(d.settlements) == 0 {
		return nil, errors.New("no sample settlements")
	}
	rulesets, err := svc.ListRulesets(ctx, &coveragev1.ListRulesetsRequest{})
	if err != nil {
		return nil, err
	}
	for _, rs := range rulesets.GetRulesets() {
		for _, view := range []coveragev1.ResultView{coveragev1.ResultView_RESULT_VIEW_UNSPECIFIED, coveragev1.ResultView_RESULT_VIEW_BASIC} {
			for _, s := range d.settlements {
				req := &coveragev1.AuditRequest{RulesetId: rs.GetId(), Settlement: s, View: view}
				d.requests = append(d.requests, req)
				if r, err := svc.Audit(ctx, req); err == nil {
					d.responses = append(d.responses, r)
					if view == coveragev1.ResultView_RESULT_VIEW_UNSPECIFIED {
						d.audits = append(d.audits, r)
					}
				}
			}
			batch, err := svc.AuditBatch(ctx, &coveragev1.AuditBatchRequest{
				RulesetId: rs.GetId(), View: view, Settlements: append(slices.Clone(d.settlements), badSettlements()...),
			})
			if err != nil {
				return nil, err
			}
			if !slices.ContainsFunc(batch.GetResults(), func(item *coveragev1.AuditItem) bool { return item.GetError() != nil }) {
				return nil, errors.New("no item of the batch has an error")
			}
			d.responses = append(d.responses, batch)
			for _, item := range batch.GetResults() {
				d.responses = append(d.responses, &coveragev1.AuditStreamResponse{Item: &coveragev1.AuditStreamResponse_Result{Result: item}})
			}
			d.responses = append(d.responses, &coveragev1.AuditStreamResponse{Item: &coveragev1.AuditStreamResponse_Summary{Summary: batch.GetSummary()}})
		}
	}
	if len(d.audits) == 0 {
		return nil, errors.New("no sample settlement could be audited")
	}
	return d, nil
}

// badSettlements are an empty settlement (audited: every rule lacks data)
// and one the service refuses, whose batch item carries an error.
func badSettlements() []*coveragev1.Settlement {
	return []*coveragev1.Settlement{{}, {Id: "bad", Kind: coveragev1.SettlementKind(99)}}
}

// codecRoundTrip encodes m with c and checks what a client decodes from the
// bytes: equal to m, as long as proto.Size says, and m left as it was. It
// returns an error rather than failing, for goroutines.
func codecRoundTrip(c *responseCodec, m proto.Message, equal func(a, b proto.Message) bool) error {
	before := proto.Clone(m)
	data, err := c.Marshal(m)
	if err != nil {
		return fmt.Errorf("Marshal: %v", err)
	}
	b := data.Materialize()
	// Back to the pool, so that a later encoding reusing the buffer would
	// show bytes still referenced by the codec.
	data.Free()
	if !equal(m, before) {
		return errors.New("Marshal changed the message")
	}
	got := m.ProtoReflect().New().Interface()
	if err := proto.Unmarshal(b, got); err != nil {
		return fmt.Errorf("the encoding does not decode: %v", err)
	}
	if !equal(got, m) {
		return fmt.Errorf("decodes to a different message:\n got %v\nwant %v", brief(got), brief(m))
	}
	// The same fields in another order: exactly as long as protobuf's.
	if n := proto.Size(m); len(b) != n {
		return fmt.Errorf("%d bytes, proto.Size says %d", len(b), n)
	}
	return nil
}

func brief(m proto.Message) string {
	s := fmt.Sprint(m)
	if len(s) > 2000 {
		s = s[:2000] + "…"
	}
	return s
}

func mustRoundTrip(t testing.TB, c *responseCodec, what string, m proto.Message) {
	t.Helper()
	if err := codecRoundTrip(c, m, proto.Equal); err != nil {
		t.Fatalf("%s (%T): %v", what, m, err)
	}
}

// TestResponseCodecRoundTrip: every audit, batch and stream answer of the
// service, in both views, decodes to itself, the first time (filling the
// cache) and the later times (from it).
func TestResponseCodecRoundTrip(t *testing.T) {
	d := serviceAnswers(t)
	c := &responseCodec{}
	for pass := range 3 {
		for i, m := range d.responses {
			mustRoundTrip(t, c, fmt.Sprintf("pass %d, response %d", pass, i), m)
		}
	}
	if c.rules.size() == 0 {
		t.Fatal("the rule cache is empty after encoding every audit")
	}
	// The cache must serve the full-view results whole, or the test above
	// only tried the field-by-field path.
	whole, total := 0, 0
	for _, a := range d.audits {
		for _, r := range a.GetResults() {
			total++
			if e := c.rules.lookup(r); e != nil && e.matches(r) == len(r.GetNotes()) {
				whole++
			}
		}
	}
	t.Logf("%d responses, %d rule cache entries; %d of %d full-view results served from the cache", len(d.responses), c.rules.size(), whole, total)
	if whole < total/2 {
		t.Errorf("only %d of %d full-view results are served from the cache", whole, total)
	}

	if got := c.Name(); got != "proto" {
		t.Errorf("Name() = %q: gRPC takes the codec for content-subtype proto only by that name", got)
	}
	for i, req := range d.requests {
		b, err := proto.Marshal(req)
		if err != nil {
			t.Fatal(err)
		}
		// gRPC hands a message over in as many buffers as it arrived in.
		cut := len(b) / 3
		in := mem.BufferSlice{mem.SliceBuffer(b[:cut]), mem.SliceBuffer(b[cut : 2*cut]), mem.SliceBuffer(b[2*cut:])}
		got := &coveragev1.AuditRequest{}
		if err := c.Unmarshal(in, got); err != nil {
			t.Fatalf("request %d: Unmarshal: %v", i, err)
		}
		if !proto.Equal(got, req) {
			t.Fatalf("request %d: Unmarshal gives %v, want %v", i, brief(got), brief(req))
		}
	}
	if err := c.Unmarshal(mem.BufferSlice{mem.SliceBuffer([]byte{0x0a, 0x05, 'a'})}, &coveragev1.AuditRequest{}); err == nil {
		t.Error("Unmarshal of a truncated message: no error")
	}
	var notProto struct{}
	if err := c.Unmarshal(mem.BufferSlice{}, &notProto); err == nil {
		t.Error("Unmarshal into a non-message: no error")
	}
	if _, err := c.Marshal(notProto); err == nil {
		t.Error("Marshal of a non-message: no error")
	}
	// Messages the codec does not write by hand, small and large enough for
	// a pooled buffer.
	rulesets, err := d.svc.ListRulesets(context.Background(), &coveragev1.ListRulesetsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		mustRoundTrip(t, c, "ListRulesets", rulesets)
		mustRoundTrip(t, c, "AuditRequest", d.requests[0])
		mustRoundTrip(t, c, "empty AuditResponse", &coveragev1.AuditResponse{})
		mustRoundTrip(t, c, "empty AuditBatchResponse", &coveragev1.AuditBatchResponse{})
		mustRoundTrip(t, c, "empty AuditStreamResponse", &coveragev1.AuditStreamResponse{})
		mustRoundTrip(t, c, "stream item without audit", &coveragev1.AuditStreamResponse{Item: &coveragev1.AuditStreamResponse_Result{Result: &coveragev1.AuditItem{Index: 3}}})
	}
}

// auditWithNotes is a full-view audit holding a result with a citation and
// at least two notes, and that result's index.
func auditWithNotes(t testing.TB) (*coveragev1.AuditResponse, int) {
	t.Helper()
	for _, a := range serviceAnswers(t).audits {
		for i, r := range a.GetResults() {
			c := r.GetCitation()
			if len(r.GetNotes()) >= 2 && c.GetDocument() != "" && c.GetSection() != "" && c.GetOriginalText() != "" {
				return proto.Clone(a).(*coveragev1.AuditResponse), i
			}
		}
	}
	t.Fatal("no audited rule has a citation and two notes")
	return nil, 0
}

// decodesAsProto checks that m encoded by c decodes to what m encoded by
// proto.Marshal decodes to.
func decodesAsProto(c *responseCodec, m proto.Message) error {
	want, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	got, err := marshalRecovering(c, m)
	if err != nil {
		return err
	}
	gm, wm := m.ProtoReflect().New().Interface(), m.ProtoReflect().New().Interface()
	if err := proto.Unmarshal(got, gm); err != nil {
		return fmt.Errorf("the encoding does not decode: %v", err)
	}
	if err := proto.Unmarshal(want, wm); err != nil {
		return err
	}
	if !proto.Equal(gm, wm) {
		return fmt.Errorf("decodes to\n%v\nproto.Marshal's bytes to\n%v", brief(gm), brief(wm))
	}
	return nil
}

// unknownField is a valid encoding of a field no message declares.
func unknownField(num protowire.Number, s string) protoreflect.RawFields {
	b := protowire.AppendTag(nil, num, protowire.BytesType)
	return protowire.AppendString(b, s)
}

// ruleMutation changes a result's fields; wantErr tells whether protobuf
// then refuses the result.
type ruleMutation struct {
	name    string
	mutate  func(r *coveragev1.RuleResult)
	wantErr bool
}

// ruleMutations are the ways a result of orig's at-th rule can differ from
// the one a cache was filled from: in every field the rule determines, in
// its notes, with invalid UTF-8 anywhere.
func ruleMutations(orig *coveragev1.AuditResponse, at int) []ruleMutation {
	other := (at + 1) % len(orig.Results)
	for other != at && orig.Results[other].GetRuleId() == orig.Results[at].GetRuleId() {
		other = (other + 1) % len(orig.Results)
	}
	return []ruleMutation{
		{"title", func(r *coveragev1.RuleResult) { r.Title += " (revised)" }, false},
		{"empty title", func(r *coveragev1.RuleResult) { r.Title = "" }, false},
		{"topic", func(r *coveragev1.RuleResult) { r.Topic++ }, false},
		{"comparison", func(r *coveragev1.RuleResult) { r.Comparison++ }, false},
		{"negative enums", func(r *coveragev1.RuleResult) { r.Topic, r.Comparison, r.Status = -1, -2, -3 }, false},
		{"negative status", func(r *coveragev1.RuleResult) { r.Status = math.MinInt32 }, false},
		{"unit", func(r *coveragev1.RuleResult) { r.Unit += "²" }, false},
		{"ruleset id", func(r *coveragev1.RuleResult) { r.RulesetId += "-b" }, false},
		{"ruleset version", func(r *coveragev1.RuleResult) { r.RulesetVersion += ".1" }, false},
		{"no rule id", func(r *coveragev1.RuleResult) { r.RuleId = "" }, false},
		{"another rule's id", func(r *coveragev1.RuleResult) { r.RuleId = orig.Results[other].RuleId }, false},
		{"no citation", func(r *coveragev1.RuleResult) { r.Citation = nil }, false},
		{"empty citation", func(r *coveragev1.RuleResult) { r.Citation = &coveragev1.Citation{} }, false},
		{"citation document", func(r *coveragev1.RuleResult) { r.Citation.Document += "x" }, false},
		{"citation section", func(r *coveragev1.RuleResult) { r.Citation.Section = "" }, false},
		{"citation section_en", func(r *coveragev1.RuleResult) { r.Citation.SectionEn += "x" }, false},
		{"citation original_text", func(r *coveragev1.RuleResult) { r.Citation.OriginalText += "。" }, false},
		{"citation english_text", func(r *coveragev1.RuleResult) { r.Citation.EnglishText = "other" }, false},
		{"citation unknown field", func(r *coveragev1.RuleResult) { r.Citation.ProtoReflect().SetUnknown(unknownField(99, "later")) }, false},
		{"result unknown field", func(r *coveragev1.RuleResult) { r.ProtoReflect().SetUnknown(unknownField(100, "later")) }, false},
		{"note added at the start", func(r *coveragev1.RuleResult) { r.Notes = slices.Insert(r.Notes, 0, "first") }, false},
		{"note added in the middle", func(r *coveragev1.RuleResult) { r.Notes = slices.Insert(r.Notes, 1, "middle") }, false},
		{"note added at the end", func(r *coveragev1.RuleResult) { r.Notes = append(r.Notes, "last") }, false},
		{"first note removed", func(r *coveragev1.RuleResult) { r.Notes = r.Notes[1:] }, false},
		{"middle note removed", func(r *coveragev1.RuleResult) { r.Notes = slices.Delete(r.Notes, 1, 2) }, false},
		{"first note replaced", func(r *coveragev1.RuleResult) { r.Notes[0] = "replaced" }, false},
		{"middle note replaced", func(r *coveragev1.RuleResult) { r.Notes[1] = "replaced" }, false},
		{"notes a strict prefix", func(r *coveragev1.RuleResult) { r.Notes = r.Notes[:1] }, false},
		{"notes a strict prefix, then others", func(r *coveragev1.RuleResult) { r.Notes = append(r.Notes[:1], "other", "more") }, false},
		{"notes twice", func(r *coveragev1.RuleResult) { r.Notes = append(r.Notes, r.Notes...) }, false},
		{"empty note", func(r *coveragev1.RuleResult) { r.Notes = slices.Insert(r.Notes, 1, "") }, false},
		{"no notes", func(r *coveragev1.RuleResult) { r.Notes = nil }, false},
		{"everything but the rule's fields", func(r *coveragev1.RuleResult) {
			v, th := 1.5, math.Inf(-1)
			r.Status, r.Value, r.Threshold, r.Tier, r.Reason = coveragev1.Status_STATUS_NOT_COMPUTED, &v, &th, "t", "why"
			r.MissingFields = []string{"a", "b"}
			r.ShortfallItems = append(r.ShortfallItems, &coveragev1.Shortfall{Quantity: 2, Unit: "beds"}, &coveragev1.Shortfall{})
			r.Actions = append(r.Actions, &coveragev1.Action{Kind: "add", Text: "x"})
		}, false},
		{"invalid UTF-8 in a later note", func(r *coveragev1.RuleResult) { r.Notes = append(r.Notes, "bad \xff") }, true},
		{"invalid UTF-8 in a middle note", func(r *coveragev1.RuleResult) { r.Notes[1] = "bad \xff" }, true},
		{"invalid UTF-8 in the title", func(r *coveragev1.RuleResult) { r.Title = "bad \xff" }, true},
		{"invalid UTF-8 in the citation", func(r *coveragev1.RuleResult) { r.Citation.EnglishText = "bad \xff" }, true},
		{"invalid UTF-8 in the reason", func(r *coveragev1.RuleResult) { r.Reason = "bad \xff" }, true},
		{"invalid UTF-8 in the tier", func(r *coveragev1.RuleResult) { r.Tier = "bad \xff" }, true},
		{"invalid UTF-8 in a missing field", func(r *coveragev1.RuleResult) { r.MissingFields = append(r.MissingFields, "bad \xff") }, true},
		{"invalid UTF-8 in an action", func(r *coveragev1.RuleResult) { r.Actions = append(r.Actions, &coveragev1.Action{Text: "bad \xff"}) }, true},
	}
}

// inPlaceChanges change, in place, the strings and citation of a result
// with at least two notes.
func inPlaceChanges() []struct {
	name string
	f    func(r *coveragev1.RuleResult)
} {
	return []struct {
		name string
		f    func(r *coveragev1.RuleResult)
	}{
		{"notes", func(r *coveragev1.RuleResult) { r.Notes[0], r.Notes[1] = "changed in place", r.Notes[0] }},
		{"last note", func(r *coveragev1.RuleResult) { r.Notes[len(r.Notes)-1] = "changed \"in\" place" }},
		{"citation", func(r *coveragev1.RuleResult) { r.Citation.Document, r.Citation.SectionEn = "changed in place", "" }},
	}
}

// TestResponseCodecMismatch: a result whose rule-determined fields differ
// from the cached ones in any way is written as it is, not as the cache has
// it; strings that protobuf refuses are refused.
func TestResponseCodecMismatch(t *testing.T) {
	orig, at := auditWithNotes(t)
	notes := orig.Results[at].Notes
	cases := ruleMutations(orig, at)
	warm := &responseCodec{}
	mustRoundTrip(t, warm, "the audit", orig)
	for _, tc := range cases {
		m := proto.Clone(orig).(*coveragev1.AuditResponse)
		tc.mutate(m.Results[at])
		if _, err := proto.Marshal(m); (err != nil) != tc.wantErr {
			t.Fatalf("%s: proto.Marshal: %v; the case is wrong", tc.name, err)
		}
		// With the cache filled from the true result, and with a cache
		// first filled from the changed one.
		for _, c := range []*responseCodec{warm, {}} {
			for range 2 {
				if tc.wantErr {
					before := proto.Clone(m)
					if _, err := c.Marshal(m); err == nil {
						t.Errorf("%s: no error, proto.Marshal refuses it", tc.name)
					}
					if !proto.Equal(m, before) {
						t.Errorf("%s: the refused Marshal changed the message", tc.name)
					}
				} else if err := codecRoundTrip(c, m, proto.Equal); err != nil {
					t.Errorf("%s: %v", tc.name, err)
				}
			}
			mustRoundTrip(t, c, tc.name+", then the true audit", orig)
		}
	}
	if !slices.Equal(notes, orig.Results[at].Notes) {
		t.Fatal("a case changed the true audit's notes")
	}

	// An unknown field numbered as a note becomes, on decoding, the last
	// note (proto.Marshal writes unknown fields last), so the message does
	// not decode to itself, but must decode as protobuf's encoding does.
	for _, c := range []*responseCodec{warm, {}} {
		m := proto.Clone(orig).(*coveragev1.AuditResponse)
		m.Results[at].ProtoReflect().SetUnknown(unknownField(resultNotesField, "a note from elsewhere"))
		for range 2 {
			if err := decodesAsProto(c, m); err != nil {
				t.Errorf("unknown field numbered as a note: %v", err)
			}
		}
	}

	// The cache keeps copies: changing, in place, the strings and citation
	// of the result it was filled from must not change what it writes.
	for _, change := range inPlaceChanges() {
		c := &responseCodec{}
		m := proto.Clone(orig).(*coveragev1.AuditResponse)
		mustRoundTrip(t, c, "before the change in place", m)
		change.f(m.Results[at])
		for range 2 {
			mustRoundTrip(t, c, change.name+" changed in place", m)
		}
		mustRoundTrip(t, c, "the true audit after "+change.name+" changed in place", orig)
	}

	// A rule whose first result had a bad note is cached up to that note.
	c := &responseCodec{}
	bad := proto.Clone(orig).(*coveragev1.AuditResponse)
	bad.Results[at].Notes = slices.Insert(slices.Clone(notes), 1, "bad \xff")
	if _, err := c.Marshal(bad); err == nil {
		t.Error("a bad note: no error")
	}
	for range 2 {
		mustRoundTrip(t, c, "the true audit after a bad note", orig)
	}
}

// TestResponseCodecCacheBound: a catalog with more rules than the cache
// holds is still written right, the rules past the bound field by field.
func TestResponseCodecCacheBound(t *testing.T) {
	if testing.Short() {
		t.Skip("filling the cache to its bound takes seconds")
	}
	m := &coveragev1.AuditResponse{RulesetId: "big"}
	for i := range maxRuleWireEntries + 50 {
		m.Results = append(m.Results, &coveragev1.RuleResult{
			RuleId: fmt.Sprintf("R-%d", i), Title: "t", RulesetId: "big", Notes: []string{"n", fmt.Sprint(i)},
			Status: coveragev1.Status_STATUS_COMPLIANT, Citation: &coveragev1.Citation{Document: "d"},
		})
	}
	c := &responseCodec{}
	for range 2 {
		mustRoundTrip(t, c, "more rules than the cache holds", m)
	}
	if n := c.rules.size(); n != maxRuleWireEntries {
		t.Errorf("%d cache entries, want the bound %d", n, maxRuleWireEntries)
	}
}

// TestResponseCodecNilMessages: nil messages are written as protobuf writes
// them (an absent message, an empty list element), as grpc's own codec
// does; gRPC does not recover a panic in a codec, which would end the
// process.
func TestResponseCodecNilMessages(t *testing.T) {
	for _, tc := range []struct {
		name string
		msg  proto.Message
	}{
		{"nil AuditResponse", (*coveragev1.AuditResponse)(nil)},
		{"nil AuditBatchResponse", (*coveragev1.AuditBatchResponse)(nil)},
		{"nil AuditStreamResponse", (*coveragev1.AuditStreamResponse)(nil)},
		{"nil RuleResult in an audit", &coveragev1.AuditResponse{Results: []*coveragev1.RuleResult{{RuleId: "a"}, nil}}},
		{"nil AuditItem in a batch", &coveragev1.AuditBatchResponse{Results: []*coveragev1.AuditItem{nil, {Audit: &coveragev1.AuditResponse{}}}}},
		{"nil RuleResult in a batch", &coveragev1.AuditBatchResponse{Results: []*coveragev1.AuditItem{{Audit: &coveragev1.AuditResponse{Results: []*coveragev1.RuleResult{nil}}}}}},
		{"nil RuleResult in a stream", &coveragev1.AuditStreamResponse{Item: &coveragev1.AuditStreamResponse_Result{Result: &coveragev1.AuditItem{
			Audit: &coveragev1.AuditResponse{Results: []*coveragev1.RuleResult{nil}}}}}},
	} {
		want, err := proto.Marshal(tc.msg)
		if err != nil {
			t.Fatalf("%s: proto.Marshal: %v", tc.name, err)
		}
		got, err := marshalRecovering(&responseCodec{}, tc.msg)
		if err != nil {
			t.Errorf("%s: %v; proto.Marshal writes %x", tc.name, err, want)
			continue
		}
		gm, wm := tc.msg.ProtoReflect().New().Interface(), tc.msg.ProtoReflect().New().Interface()
		if err := proto.Unmarshal(got, gm); err != nil || proto.Unmarshal(want, wm) != nil || !proto.Equal(gm, wm) {
			t.Errorf("%s: writes %x (%v), proto.Marshal %x", tc.name, got, err, want)
		}
	}
}

func marshalRecovering(c *responseCodec, m proto.Message) (b []byte, err error) {
	defer func() {
		if p := recover(); p != nil {
			err = fmt.Errorf("Marshal panics: %v", p)
		}
	}()
	data, err := c.Marshal(m)
	if err != nil {
		return nil, err
	}
	defer data.Free()
	return data.Materialize(), nil
}

// nanFree is a copy of m with every NaN replaced by one stand-in, so that
// proto.Equal, for which NaN differs from itself, compares the rest.
func nanFree(m proto.Message) proto.Message {
	c := proto.Clone(m)
	replaceNaN(c.ProtoReflect())
	return c
}

const nanStandIn = -7.0e-77

func replaceNaN(m protoreflect.Message) {
	var fields []protoreflect.FieldDescriptor
	m.Range(func(fd protoreflect.FieldDescriptor, _ protoreflect.Value) bool {
		fields = append(fields, fd)
		return true
	})
	for _, fd := range fields {
		v := m.Get(fd)
		switch {
		case fd.IsList():
			l := v.List()
			for i := range l.Len() {
				if nv, ok := withoutNaN(fd, l.Get(i)); ok {
					l.Set(i, nv)
				}
			}
		case fd.IsMap():
			mp := v.Map()
			var keys []protoreflect.MapKey
			mp.Range(func(k protoreflect.MapKey, _ protoreflect.Value) bool {
				keys = append(keys, k)
				return true
			})
			for _, k := range keys {
				if nv, ok := withoutNaN(fd.MapValue(), mp.Get(k)); ok {
					mp.Set(k, nv)
				}
			}
		default:
			if nv, ok := withoutNaN(fd, v); ok {
				m.Set(fd, nv)
			}
		}
	}
}

// withoutNaN is v with NaN replaced, and whether it was; messages are
// changed in place.
func withoutNaN(fd protoreflect.FieldDescriptor, v protoreflect.Value) (protoreflect.Value, bool) {
	switch fd.Kind() {
	case protoreflect.DoubleKind:
		if math.IsNaN(v.Float()) {
			return protoreflect.ValueOfFloat64(nanStandIn), true
		}
	case protoreflect.FloatKind:
		if math.IsNaN(v.Float()) {
			return protoreflect.ValueOfFloat32(float32(nanStandIn * 1e40)), true
		}
	case protoreflect.MessageKind, protoreflect.GroupKind:
		replaceNaN(v.Message())
	}
	return v, false
}

func equalBesideNaN(a, b proto.Message) bool { return proto.Equal(nanFree(a), nanFree(b)) }

// ruleResults calls f with every RuleResult that the codec writes by hand
// in m.
func ruleResults(m proto.Message, f func(*coveragev1.RuleResult)) {
	audit := func(a *coveragev1.AuditResponse) {
		for _, r := range a.GetResults() {
			f(r)
		}
	}
	switch m := m.(type) {
	case *coveragev1.AuditResponse:
		audit(m)
	case *coveragev1.AuditBatchResponse:
		for _, item := range m.GetResults() {
			audit(item.GetAudit())
		}
	case *coveragev1.AuditStreamResponse:
		audit(m.GetResult().GetAudit())
	}
}

// graft gives dst the rule-determined fields of src, a real result, with
// notes that are src's, a prefix of them, or them and more, and now and then
// one field changed: the cases the cache must tell apart.
func graft(r *rand.Rand, dst, src *coveragev1.RuleResult) {
	dst.RuleId, dst.Title, dst.Topic = src.RuleId, src.Title, src.Topic
	dst.RulesetId, dst.RulesetVersion = src.RulesetId, src.RulesetVersion
	dst.Unit, dst.Comparison = src.Unit, src.Comparison
	dst.Citation = nil
	if src.Citation != nil {
		dst.Citation = proto.Clone(src.Citation).(*coveragev1.Citation)
	}
	notes := slices.Clone(src.Notes)
	switch r.IntN(4) {
	case 0:
		notes = notes[:r.IntN(len(notes)+1)]
	case 1:
		for range 1 + r.IntN(3) {
			notes = append(notes, randomString(r))
		}
	case 2:
		notes = slices.Insert(notes, r.IntN(len(notes)+1), randomString(r))
	}
	dst.Notes = notes
	if r.IntN(6) == 0 {
		switch r.IntN(4) {
		case 0:
			dst.Title = randomString(r)
		case 1:
			dst.Citation = nil
		case 2:
			if dst.Citation != nil {
				dst.Citation.SectionEn = randomString(r)
			}
		default:
			dst.Topic = coveragev1.Topic(r.IntN(12))
		}
	}
}

// TestResponseCodecRandomMessages: audits, batches and stream answers filled
// at random (edge numbers, NaN, enums out of range, invalid UTF-8, fields
// no real answer combines), many of their results carrying a real rule's fields so that
// they meet the cache. The codec succeeds and fails where protobuf does, and
// decodes to the message.
func TestResponseCodecRandomMessages(t *testing.T) {
	d := serviceAnswers(t)
	var real []*coveragev1.RuleResult
	for _, a := range d.audits {
		real = append(real, a.GetResults()...)
	}
	c := &responseCodec{}
	for _, a := range d.audits {
		mustRoundTrip(t, c, "real audit", a)
	}
	r := rand.New(rand.NewPCG(7, 11))
	n := 450
	if testing.Short() {
		n = 60
	}
	refused, results, cached := 0, 0, 0
	for i := range n {
		var m proto.Message
		switch i % 3 {
		case 0:
			m = &coveragev1.AuditResponse{}
		case 1:
			m = &coveragev1.AuditBatchResponse{}
		default:
			m = &coveragev1.AuditStreamResponse{}
		}
		fillMessage(r, m.ProtoReflect(), 0)
		ruleResults(m, func(rr *coveragev1.RuleResult) {
			if r.IntN(3) != 0 {
				graft(r, rr, pick(r, real))
			}
			results++
			if c.rules.lookup(rr).matches(rr) >= 0 {
				cached++
			}
		})
		what := fmt.Sprintf("random %T #%d", m, i)
		want, werr := proto.Marshal(m)
		for range 2 {
			if werr != nil {
				before := proto.Clone(m)
				if _, err := c.Marshal(m); err == nil {
					t.Fatalf("%s: no error; proto.Marshal: %v\n%v", what, werr, brief(m))
				}
				if !equalBesideNaN(m, before) {
					t.Fatalf("%s: the refused Marshal changed the message", what)
				}
				continue
			}
			if err := codecRoundTrip(c, m, equalBesideNaN); err != nil {
				t.Fatalf("%s: %v", what, err)
			}
		}
		if werr != nil {
			refused++
			continue
		}
		// A second opinion that does not go through proto.Equal: both
		// decodings re-encode to the same bytes.
		data, err := c.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		got, ref := m.ProtoReflect().New().Interface(), m.ProtoReflect().New().Interface()
		if err := proto.Unmarshal(data.Materialize(), got); err != nil {
			t.Fatal(err)
		}
		data.Free()
		if err := proto.Unmarshal(want, ref); err != nil {
			t.Fatal(err)
		}
		gb, err1 := proto.MarshalOptions{Deterministic: true}.Marshal(got)
		wb, err2 := proto.MarshalOptions{Deterministic: true}.Marshal(ref)
		if err1 != nil || err2 != nil || string(gb) != string(wb) {
			t.Fatalf("%s: the codec's bytes decode to another message than protobuf's (%v, %v)", what, err1, err2)
		}
	}
	t.Logf("%d messages, %d refused for invalid UTF-8; %d of %d results met a matching cache entry", n, refused, cached, results)
	if refused == 0 || refused > n/2 {
		t.Errorf("%d of %d messages refused: the filler no longer tries both outcomes", refused, n)
	}
	if cached < results/4 {
		t.Errorf("only %d of %d random results met the cache", cached, results)
	}
}

// TestResponseCodecConcurrent: gRPC encodes responses of many calls at once
// with one codec, whose cache is then filled concurrently (run with -race).
func TestResponseCodecConcurrent(t *testing.T) {
	d := serviceAnswers(t)
	var msgs []proto.Message
	for _, m := range d.responses {
		switch m.(type) {
		case *coveragev1.AuditResponse, *coveragev1.AuditBatchResponse:
			msgs = append(msgs, proto.Clone(m))
		}
	}
	const workers = 8
	// Each worker has its own copies, in its own order: the rules are the
	// same, so the workers meet on the cache's entries, not on a message.
	t.Run("different", func(t *testing.T) {
		rounds := min(len(msgs), 60)
		own := make([][]proto.Message, workers)
		for g := range own {
			for i := range rounds {
				own[g] = append(own[g], proto.Clone(msgs[(g*7+i)%len(msgs)]))
			}
		}
		c := &responseCodec{}
		start := make(chan struct{})
		var wg sync.WaitGroup
		for g := range workers {
			wg.Go(func() {
				<-start
				for i, m := range own[g] {
					if err := codecRoundTrip(c, m, proto.Equal); err != nil {
						t.Errorf("worker %d, message %d: %v", g, i, err)
						return
					}
				}
			})
		}
		close(start)
		wg.Wait()
	})
	// proto.Marshal may be called on one message from many goroutines; so
	// may a gRPC codec (a response shared between calls or streams).
	// Only Marshal touches the shared message while the workers run.
	t.Run("same", func(t *testing.T) {
		shared := []proto.Message{proto.Clone(d.audits[0])}
		for _, m := range d.responses {
			if _, ok := m.(*coveragev1.AuditBatchResponse); ok && len(shared) == 1 {
				shared = append(shared, proto.Clone(m))
			}
			if s, ok := m.(*coveragev1.AuditStreamResponse); ok && s.GetResult().GetAudit() != nil && len(shared) == 2 {
				shared = append(shared, proto.Clone(m))
			}
		}
		var before []proto.Message
		for _, m := range shared {
			before = append(before, proto.Clone(m))
		}
		const rounds = 18
		c := &responseCodec{}
		encoded := make([][][]byte, workers)
		start := make(chan struct{})
		var wg sync.WaitGroup
		for g := range workers {
			wg.Go(func() {
				<-start
				for i := range rounds {
					data, err := c.Marshal(shared[i%len(shared)])
					if err != nil {
						t.Errorf("worker %d: %v", g, err)
						return
					}
					encoded[g] = append(encoded[g], data.Materialize())
					data.Free()
				}
			})
		}
		close(start)
		wg.Wait()
		for i, m := range shared {
			if !proto.Equal(m, before[i]) {
				t.Errorf("concurrent Marshal calls changed the shared %T: %d results left of %d", m, countResults(m), countResults(before[i]))
			}
		}
		for g, bs := range encoded {
			for i, b := range bs {
				m := before[i%len(before)]
				got := m.ProtoReflect().New().Interface()
				if err := proto.Unmarshal(b, got); err != nil || !proto.Equal(got, m) {
					t.Fatalf("worker %d, encoding %d of a shared %T decodes (%v) to a message with %d results, want %d:\n%v\nwant\n%v",
						g, i, m, err, countResults(got), countResults(m), brief(got), brief(m))
				}
			}
		}
	})
}

func countResults(m proto.Message) int {
	n := 0
	ruleResults(m, func(*coveragev1.RuleResult) { n++ })
	return n
}

// TestResponseCodecThroughServer: the real server, built by New, answers an
// Audit, a batch and a stream over gRPC exactly as the service answers when
// called directly.
func TestResponseCodecThroughServer(t *testing.T) {
	bs := newBenchServer(t, slog.LevelWarn)
	client := coveragev1.NewCoverageServiceClient(bs.conn)
	svc := NewService(testCatalog(t))
	ctx := rpcContext(t)

	data := benchAuditBody(t)
	req := &coveragev1.AuditRequest{}
	if err := protojson.Unmarshal(data, req); err != nil {
		t.Fatal(err)
	}
	samples := serviceAnswers(t).settlements
	settlements := append([]*coveragev1.Settlement{req.Settlement}, samples[:min(3, len(samples))]...)
	for _, view := range []coveragev1.ResultView{coveragev1.ResultView_RESULT_VIEW_UNSPECIFIED, coveragev1.ResultView_RESULT_VIEW_BASIC} {
		for i, s := range settlements {
			req := &coveragev1.AuditRequest{Settlement: s, View: view}
			want, err := svc.Audit(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			for range 2 {
				got, err := client.Audit(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				if !proto.Equal(got, want) {
					t.Fatalf("settlement %d, %v: over gRPC\n%v\ndirectly\n%v", i, view, brief(got), brief(want))
				}
			}
		}

		batchReq := &coveragev1.AuditBatchRequest{View: view, Settlements: append(slices.Clone(settlements), badSettlements()...)}
		want, err := svc.AuditBatch(ctx, batchReq)
		if err != nil {
			t.Fatal(err)
		}
		got, err := client.AuditBatch(ctx, batchReq)
		if err != nil {
			t.Fatal(err)
		}
		if !proto.Equal(got, want) {
			t.Fatalf("batch, %v: over gRPC\n%v\ndirectly\n%v", view, brief(got), brief(want))
		}

		stream, err := client.AuditStream(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for i, s := range batchReq.Settlements {
			if err := stream.Send(&coveragev1.AuditStreamRequest{Settlement: s, View: view, ClientRef: fmt.Sprint("ref-", i)}); err != nil {
				t.Fatal(err)
			}
		}
		if err := stream.CloseSend(); err != nil {
			t.Fatal(err)
		}
		var items []*coveragev1.AuditItem
		var summary *coveragev1.BatchSummary
		for {
			resp, err := stream.Recv()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatal(err)
			}
			if item := resp.GetResult(); item != nil {
				items = append(items, item)
			} else {
				summary = resp.GetSummary()
			}
		}
		if len(items) != len(want.Results) {
			t.Fatalf("stream, %v: %d items, want %d", view, len(items), len(want.Results))
		}
		for i, item := range items {
			w := proto.Clone(want.Results[i]).(*coveragev1.AuditItem)
			w.ClientRef = fmt.Sprint("ref-", i)
			if !proto.Equal(item, w) {
				t.Fatalf("stream item %d, %v: over gRPC\n%v\ndirectly\n%v", i, view, brief(item), brief(w))
			}
		}
		if !proto.Equal(summary, want.Summary) {
			t.Fatalf("stream summary, %v: %v, want %v", view, summary, want.Summary)
		}
	}
}

// BenchmarkResponseCodecAudit compares the codec, its cache warm, with
// proto.Marshal on the response of bench/load's audit (full view).
//
//	go test -run '^$' -bench ResponseCodec -benchmem ./server/
func BenchmarkResponseCodecAudit(b *testing.B) {
	resp := benchAuditResponse(b)
	size := int64(proto.Size(resp))
	b.Run("codec", func(b *testing.B) {
		c := &responseCodec{}
		b.ReportAllocs()
		b.SetBytes(size)
		for b.Loop() {
			data, err := c.Marshal(resp)
			if err != nil {
				b.Fatal(err)
			}
			// gRPC frees the buffers once written.
			data.Free()
		}
	})
	b.Run("proto", func(b *testing.B) {
		b.ReportAllocs()
		b.SetBytes(size)
		for b.Loop() {
			if _, err := proto.Marshal(resp); err != nil {
				b.Fatal(err)
			}
		}
	})
}
