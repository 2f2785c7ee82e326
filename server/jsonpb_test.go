package server

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/grpc-ecosystem/grpc-gateway/v2/runtime"
	"google.golang.org/genproto/googleapis/rpc/errdetails"
	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/reflect/protoregistry"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
	"google.golang.org/protobuf/types/known/anypb"
	"google.golang.org/protobuf/types/known/durationpb"
	"google.golang.org/protobuf/types/known/structpb"
	"google.golang.org/protobuf/types/known/timestamppb"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// gatewayJSON is the gateway's marshaler as the server sets it up, and
// referenceJSON the same without the fast writer: JSONPb, that is protojson.
func gatewayJSON() (strictJSON, *runtime.JSONPb) {
	opts := protojson.MarshalOptions{EmitUnpopulated: true}
	m := newStrictJSON(&runtime.JSONPb{MarshalOptions: opts})
	if m.fast == nil {
		panic("no fast writer for the server's options")
	}
	return m, &runtime.JSONPb{MarshalOptions: opts}
}

// sameJSON fails unless the gateway's marshaler writes msg exactly as
// protojson does, or fails where protojson fails; it reports whether the fast
// writer wrote it.
func sameJSON(t *testing.T, what string, msg proto.Message) bool {
	t.Helper()
	m, _ := gatewayJSON()
	return sameJSONAs(t, m, what, msg)
}

// sameJSONAs is sameJSON with the marshaler m, whose caches may hold what
// earlier messages left in them.
func sameJSONAs(t *testing.T, m strictJSON, what string, msg proto.Message) bool {
	t.Helper()
	_, ref := gatewayJSON()
	want, werr := ref.Marshal(msg)
	got, gerr := m.Marshal(msg)
	if (werr != nil) != (gerr != nil) || (werr != nil && werr.Error() != gerr.Error()) {
		t.Fatalf("%s: error %v, want %v", what, gerr, werr)
	}
	if !bytes.Equal(got, want) {
		i := 0
		for i < len(got) && i < len(want) && got[i] == want[i] {
			i++
		}
		t.Fatalf("%s: the JSON differs from byte %d:\n got …%s\nwant …%s", what, i, clipAt(got, i), clipAt(want, i))
	}
	_, fast := m.fast.marshal(msg)
	return fast
}

func clipAt(b []byte, i int) string {
	lo, hi := max(i-60, 0), min(i+60, len(b))
	return string(b[lo:hi])
}

// TestProtoJSONFullAudit: the response of bench/load's REST audit (the town
// of examples/town-health-facilities.json, full view) is written byte for
// byte as protojson writes it, by the fast writer.
func TestProtoJSONFullAudit(t *testing.T) {
	data, err := os.ReadFile("../examples/town-health-facilities.json")
	if err != nil {
		t.Fatal(err)
	}
	req := &coveragev1.AuditRequest{}
	if err := protojson.Unmarshal(data, req); err != nil {
		t.Fatal(err)
	}
	resp, err := NewService(testCatalog(t)).Audit(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if !sameJSON(t, "full audit", resp) {
		t.Fatal("the fast writer did not write the audit")
	}
	m, _ := gatewayJSON()
	got, _ := m.Marshal(resp)
	want, _ := protojson.MarshalOptions{EmitUnpopulated: true}.Marshal(resp)
	if !bytes.Equal(got, want) || len(got) < 10_000 {
		t.Fatalf("%d bytes, want protojson's %d", len(got), len(want))
	}
}

// TestProtoJSONRuleCache: the rule-determined fields of results are
// written from the cache, and a result that differs from the cached one in
// any way (the cases of TestResponseCodecMismatch) is written as it is,
// with the cache filled from the true result and with a cache first filled
// from the changed one.
func TestProtoJSONRuleCache(t *testing.T) {
	orig, at := auditWithNotes(t)
	warm, _ := gatewayJSON()
	sameJSONAs(t, warm, "the audit", orig)
	if n := warm.fast.rules.size(); n == 0 {
		t.Fatal("the writer cached no rule")
	}
	r := orig.Results[at]
	if e := warm.fast.rules.lookup(r); e == nil || e.json == nil || e.matches(r) != len(r.Notes) || len(e.json.notesAt) != len(r.Notes)+1 {
		t.Fatal("the result's rule has no JSON in the cache, or not all of its notes")
	}
	notes := slices.Clone(r.Notes)
	for _, tc := range ruleMutations(orig, at) {
		m := proto.Clone(orig).(*coveragev1.AuditResponse)
		tc.mutate(m.Results[at])
		fresh, _ := gatewayJSON()
		for _, w := range []strictJSON{warm, fresh} {
			for range 2 {
				sameJSONAs(t, w, tc.name, m)
			}
			sameJSONAs(t, w, tc.name+", then the true audit", orig)
		}
	}
	if !slices.Equal(notes, orig.Results[at].Notes) {
		t.Fatal("a case changed the true audit's notes")
	}

	// The cache keeps copies: changing, in place, the strings and citation
	// of the result it was filled from must not change what it writes.
	for _, change := range inPlaceChanges() {
		w, _ := gatewayJSON()
		m := proto.Clone(orig).(*coveragev1.AuditResponse)
		sameJSONAs(t, w, "before the change in place", m)
		change.f(m.Results[at])
		for range 2 {
			sameJSONAs(t, w, change.name+" changed in place", m)
		}
		sameJSONAs(t, w, "the true audit after "+change.name+" changed in place", orig)
	}

	// A rule whose first result had a note that JSON refuses is cached up
	// to that note.
	w, _ := gatewayJSON()
	bad := proto.Clone(orig).(*coveragev1.AuditResponse)
	bad.Results[at].Notes = slices.Insert(slices.Clone(notes), 1, "bad \xff")
	sameJSONAs(t, w, "a bad note", bad)
	for range 2 {
		sameJSONAs(t, w, "the true audit after a bad note", orig)
	}

	// A catalog with more rules than the cache holds.
	if !testing.Short() {
		big := &coveragev1.AuditResponse{RulesetId: "big"}
		for i := range maxRuleWireEntries + 50 {
			big.Results = append(big.Results, &coveragev1.RuleResult{
				RuleId: fmt.Sprintf("R-%d", i), Title: "t", RulesetId: "big", Notes: []string{"n", fmt.Sprint(i)},
				Status: coveragev1.Status_STATUS_COMPLIANT, Citation: &coveragev1.Citation{Document: "d"},
			})
		}
		w, _ := gatewayJSON()
		for range 2 {
			sameJSONAs(t, w, "more rules than the cache holds", big)
		}
		if n := w.fast.rules.size(); n != maxRuleWireEntries {
			t.Errorf("%d rules cached, want the bound, %d", n, maxRuleWireEntries)
		}
	}
}

// TestProtoJSONRuleCacheConcurrent: one writer, shared by goroutines that
// write every audit of the samples at once (the race detector watches the
// cache), writes each as protojson does.
func TestProtoJSONRuleCacheConcurrent(t *testing.T) {
	audits := serviceAnswers(t).audits
	want := make([][]byte, len(audits))
	for i, a := range audits {
		var err error
		if want[i], err = (protojson.MarshalOptions{EmitUnpopulated: true}).Marshal(a); err != nil {
			t.Fatal(err)
		}
	}
	w, _ := gatewayJSON()
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for g := range 4 {
		wg.Go(func() {
			for k := range 3 * len(audits) {
				i := (k*7 + g*13) % len(audits)
				got, err := w.Marshal(audits[i])
				if err == nil && !bytes.Equal(got, want[i]) {
					err = fmt.Errorf("audit %d of %s differs from protojson's", i, audits[i].GetSettlementId())
				}
				if err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// TestProtoJSONServiceResponses: every kind of response the service gives,
// for every sample settlement and every ruleset, and its error bodies.
func TestProtoJSONServiceResponses(t *testing.T) {
	ctx := context.Background()
	svc := NewService(testCatalog(t))
	var settlements []*coveragev1.Settlement
	samples, err := svc.ListSamples(ctx, &coveragev1.ListSamplesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "ListSamples", samples)
	for _, set := range samples.GetSets() {
		for _, s := range set.GetSettlements() {
			got, err := svc.GetSampleSettlement(ctx, &coveragev1.GetSampleSettlementRequest{Set: set.GetName(), SettlementId: s.GetId()})
			if err != nil {
				t.Fatal(err)
			}
			sameJSON(t, "GetSampleSettlement", got)
			settlements = append(settlements, got.GetSettlement())
		}
	}
	if len(settlements) == 0 {
		t.Fatal("no sample settlements")
	}
	rulesets, err := svc.ListRulesets(ctx, &coveragev1.ListRulesetsRequest{})
	if err != nil {
		t.Fatal(err)
	}
	sameJSON(t, "ListRulesets", rulesets)
	fast := 0
	for _, rs := range rulesets.GetRulesets() {
		got, err := svc.GetRuleset(ctx, &coveragev1.GetRulesetRequest{Id: rs.GetId()})
		if err != nil {
			t.Fatal(err)
		}
		sameJSON(t, "GetRuleset", got)
		for _, s := range settlements {
			var resps []proto.Message
			for _, view := range []coveragev1.ResultView{coveragev1.ResultView_RESULT_VIEW_UNSPECIFIED, coveragev1.ResultView_RESULT_VIEW_BASIC} {
				if r, err := svc.Audit(ctx, &coveragev1.AuditRequest{RulesetId: rs.GetId(), Settlement: s, View: view}); err == nil {
					resps = append(resps, r)
				}
			}
			if r, err := svc.AuditBatch(ctx, &coveragev1.AuditBatchRequest{RulesetId: rs.GetId(), Settlements: []*coveragev1.Settlement{s, {}}}); err == nil {
				resps = append(resps, r)
			}
			if r, err := svc.CheckBusStopCoverage(ctx, &coveragev1.CheckBusStopCoverageRequest{RulesetId: rs.GetId(), Settlement: s}); err == nil {
				resps = append(resps, r)
			}
			if r, err := svc.MapBusStopGaps(ctx, &coveragev1.MapBusStopGapsRequest{RulesetId: rs.GetId(), Settlement: s}); err == nil {
				resps = append(resps, r)
			}
			if r, err := svc.PlanBusStops(ctx, &coveragev1.PlanBusStopsRequest{RulesetId: rs.GetId(), Settlement: s}); err == nil {
				resps = append(resps, r)
			}
			if r, err := svc.CheckTransit(ctx, &coveragev1.CheckTransitRequest{RulesetId: rs.GetId(), Settlement: s}); err == nil {
				resps = append(resps, r)
			}
			for _, r := range resps {
				if sameJSON(t, fmt.Sprintf("%T of %s under %s", r, s.GetId(), rs.GetId()), r) {
					fast++
				}
			}
		}
	}
	if fast == 0 {
		t.Fatal("the fast writer wrote none of the responses")
	}
	// Error bodies: google.rpc.Status, its details as google.protobuf.Any.
	_, err = svc.GetRuleset(ctx, &coveragev1.GetRulesetRequest{})
	sameJSON(t, "error body", status.Convert(err).Proto())
	st, _ := status.New(codes.InvalidArgument, "bad <input> & \"quotes\"").WithDetails(
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: "a", Description: "b\u2028c"}}},
		&errdetails.ErrorInfo{Reason: "R", Metadata: map[string]string{"z": "1", "a": "2"}})
	if !sameJSON(t, "error body with details", st.Proto()) {
		t.Error("the fast writer did not write an error body")
	}
}

// TestProtoJSONRandomMessages: every message type of the API, and of a test
// file with every kind of field (maps by every key kind, bytes, floats,
// 32- and 64-bit integers, enums, oneofs, optional fields), filled at random
// with edge values.
func TestProtoJSONRandomMessages(t *testing.T) {
	types := apiMessageTypes(t)
	types = append(types, kindsMessageTypes(t)...)
	r := rand.New(rand.NewPCG(1, 2))
	n := 40
	if testing.Short() {
		n = 5
	}
	fast, total := 0, 0
	for _, mt := range types {
		for i := range n {
			m := mt.New()
			fillMessage(r, m, 0)
			total++
			if sameJSON(t, fmt.Sprintf("%s #%d", mt.Descriptor().FullName(), i), m.Interface()) {
				fast++
			}
		}
	}
	t.Logf("the fast writer wrote %d of %d messages (comma %q)", fast, total, jsonComma())
	// Invalid UTF-8, a NaN in a Struct and the like send some to protojson.
	if fast < total*3/4 {
		t.Fatalf("the fast writer wrote %d of %d messages", fast, total)
	}
}

func apiMessageTypes(t *testing.T) []protoreflect.MessageType {
	t.Helper()
	var out []protoreflect.MessageType
	var walk func(protoreflect.MessageDescriptors)
	walk = func(mds protoreflect.MessageDescriptors) {
		for i := range mds.Len() {
			md := mds.Get(i)
			if md.IsMapEntry() {
				continue
			}
			mt, err := protoregistry.GlobalTypes.FindMessageByName(md.FullName())
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, mt)
			walk(md.Messages())
		}
	}
	for _, fd := range []protoreflect.FileDescriptor{
		coveragev1.File_coverage_v1_coverage_service_proto, coveragev1.File_coverage_v1_result_proto,
		coveragev1.File_coverage_v1_ruleset_proto, coveragev1.File_coverage_v1_settlement_proto,
	} {
		walk(fd.Messages())
	}
	return append(out, (&spb.Status{}).ProtoReflect().Type())
}

// kindsMessageTypes are dynamic message types with a field of every kind.
func kindsMessageTypes(t *testing.T) []protoreflect.MessageType {
	t.Helper()
	scalars := []descriptorpb.FieldDescriptorProto_Type{
		descriptorpb.FieldDescriptorProto_TYPE_DOUBLE, descriptorpb.FieldDescriptorProto_TYPE_FLOAT,
		descriptorpb.FieldDescriptorProto_TYPE_INT64, descriptorpb.FieldDescriptorProto_TYPE_UINT64,
		descriptorpb.FieldDescriptorProto_TYPE_INT32, descriptorpb.FieldDescriptorProto_TYPE_FIXED64,
		descriptorpb.FieldDescriptorProto_TYPE_FIXED32, descriptorpb.FieldDescriptorProto_TYPE_BOOL,
		descriptorpb.FieldDescriptorProto_TYPE_STRING, descriptorpb.FieldDescriptorProto_TYPE_BYTES,
		descriptorpb.FieldDescriptorProto_TYPE_UINT32, descriptorpb.FieldDescriptorProto_TYPE_SFIXED32,
		descriptorpb.FieldDescriptorProto_TYPE_SFIXED64, descriptorpb.FieldDescriptorProto_TYPE_SINT32,
		descriptorpb.FieldDescriptorProto_TYPE_SINT64,
	}
	keyKinds := []descriptorpb.FieldDescriptorProto_Type{
		descriptorpb.FieldDescriptorProto_TYPE_BOOL, descriptorpb.FieldDescriptorProto_TYPE_STRING,
		descriptorpb.FieldDescriptorProto_TYPE_INT32, descriptorpb.FieldDescriptorProto_TYPE_UINT64,
		descriptorpb.FieldDescriptorProto_TYPE_SINT64, descriptorpb.FieldDescriptorProto_TYPE_FIXED32,
	}
	opt, rep := descriptorpb.FieldDescriptorProto_LABEL_OPTIONAL, descriptorpb.FieldDescriptorProto_LABEL_REPEATED
	msg := &descriptorpb.DescriptorProto{Name: proto.String("Kinds")}
	num := int32(1)
	add := func(f *descriptorpb.FieldDescriptorProto) {
		f.Number = proto.Int32(num)
		if f.JsonName == nil {
			f.JsonName = proto.String(fmt.Sprintf("f%d", num))
		}
		num++
		msg.Field = append(msg.Field, f)
	}
	// A real oneof of three (declared before the synthetic oneofs of the
	// optional fields, as protoc does).
	msg.OneofDecl = append(msg.OneofDecl, &descriptorpb.OneofDescriptorProto{Name: proto.String("choice")})
	add(&descriptorpb.FieldDescriptorProto{Name: proto.String("c_string"), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum(), Label: opt.Enum(), OneofIndex: proto.Int32(0)})
	add(&descriptorpb.FieldDescriptorProto{Name: proto.String("c_msg"), Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(), TypeName: proto.String(".kinds.Kinds"), Label: opt.Enum(), OneofIndex: proto.Int32(0)})
	add(&descriptorpb.FieldDescriptorProto{Name: proto.String("c_enum"), Type: descriptorpb.FieldDescriptorProto_TYPE_ENUM.Enum(), TypeName: proto.String(".kinds.Color"), Label: opt.Enum(), OneofIndex: proto.Int32(0)})
	for _, k := range scalars {
		add(&descriptorpb.FieldDescriptorProto{Name: proto.String(fmt.Sprintf("s%d", num)), Type: k.Enum(), Label: opt.Enum()})
		add(&descriptorpb.FieldDescriptorProto{Name: proto.String(fmt.Sprintf("r%d", num)), Type: k.Enum(), Label: rep.Enum()})
		add(&descriptorpb.FieldDescriptorProto{Name: proto.String(fmt.Sprintf("o%d", num)), Type: k.Enum(), Label: opt.Enum(),
			Proto3Optional: proto.Bool(true), OneofIndex: proto.Int32(int32(len(msg.OneofDecl)))})
		msg.OneofDecl = append(msg.OneofDecl, &descriptorpb.OneofDescriptorProto{Name: proto.String(fmt.Sprintf("_o%d", num-1))})
	}
	// Messages, enums, well-known types.
	for _, tn := range []string{".kinds.Kinds", ".google.protobuf.Struct", ".google.protobuf.Value", ".google.protobuf.Any",
		".google.protobuf.Timestamp", ".google.protobuf.Duration", ".google.protobuf.ListValue"} {
		add(&descriptorpb.FieldDescriptorProto{Name: proto.String(fmt.Sprintf("m%d", num)), Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(), TypeName: proto.String(tn), Label: opt.Enum()})
		add(&descriptorpb.FieldDescriptorProto{Name: proto.String(fmt.Sprintf("rm%d", num)), Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(), TypeName: proto.String(tn), Label: rep.Enum()})
	}
	for _, tn := range []string{".kinds.Color", ".google.protobuf.NullValue"} {
		add(&descriptorpb.FieldDescriptorProto{Name: proto.String(fmt.Sprintf("e%d", num)), Type: descriptorpb.FieldDescriptorProto_TYPE_ENUM.Enum(), TypeName: proto.String(tn), Label: opt.Enum()})
		add(&descriptorpb.FieldDescriptorProto{Name: proto.String(fmt.Sprintf("re%d", num)), Type: descriptorpb.FieldDescriptorProto_TYPE_ENUM.Enum(), TypeName: proto.String(tn), Label: rep.Enum()})
	}
	// Maps by every key kind, to scalars, messages and enums.
	for _, k := range keyKinds {
		for vi, v := range []*descriptorpb.FieldDescriptorProto{
			{Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()},
			{Type: descriptorpb.FieldDescriptorProto_TYPE_DOUBLE.Enum()},
			{Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(), TypeName: proto.String(".kinds.Kinds")},
			{Type: descriptorpb.FieldDescriptorProto_TYPE_ENUM.Enum(), TypeName: proto.String(".kinds.Color")},
			{Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(), TypeName: proto.String(".google.protobuf.Value")},
		} {
			entry := fmt.Sprintf("Map%dEntry", num)
			v.Name, v.Number, v.Label, v.JsonName = proto.String("value"), proto.Int32(2), opt.Enum(), proto.String("value")
			msg.NestedType = append(msg.NestedType, &descriptorpb.DescriptorProto{
				Name: proto.String(entry),
				Field: []*descriptorpb.FieldDescriptorProto{
					{Name: proto.String("key"), JsonName: proto.String("key"), Number: proto.Int32(1), Label: opt.Enum(), Type: k.Enum()},
					v,
				},
				Options: &descriptorpb.MessageOptions{MapEntry: proto.Bool(true)},
			})
			_ = vi
			add(&descriptorpb.FieldDescriptorProto{Name: proto.String(fmt.Sprintf("map%d", num)), Type: descriptorpb.FieldDescriptorProto_TYPE_MESSAGE.Enum(),
				TypeName: proto.String(".kinds.Kinds." + entry), Label: rep.Enum()})
		}
	}
	// JSON names that need escaping, and one that differs from the name.
	add(&descriptorpb.FieldDescriptorProto{Name: proto.String("odd_name"), JsonName: proto.String("odd \"name\"\\\u00e9"), Type: descriptorpb.FieldDescriptorProto_TYPE_INT32.Enum(), Label: opt.Enum()})
	file := &descriptorpb.FileDescriptorProto{
		Name: proto.String("kinds.proto"), Package: proto.String("kinds"), Syntax: proto.String("proto3"),
		Dependency:  []string{"google/protobuf/struct.proto", "google/protobuf/any.proto", "google/protobuf/timestamp.proto", "google/protobuf/duration.proto"},
		MessageType: []*descriptorpb.DescriptorProto{msg},
		EnumType: []*descriptorpb.EnumDescriptorProto{{Name: proto.String("Color"), Value: []*descriptorpb.EnumValueDescriptorProto{
			{Name: proto.String("COLOR_UNSPECIFIED"), Number: proto.Int32(0)},
			{Name: proto.String("COLOR_RED"), Number: proto.Int32(1)},
			{Name: proto.String("COLOR_BLUE"), Number: proto.Int32(-3)},
		}}},
	}
	fd, err := protodesc.NewFile(file, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	// A proto2 file: a required field (protojson refuses the message while
	// it is unset), extension ranges (written by protojson) and a group.
	p2 := &descriptorpb.FileDescriptorProto{
		Name: proto.String("kinds2.proto"), Package: proto.String("kinds2"), Syntax: proto.String("proto2"),
		MessageType: []*descriptorpb.DescriptorProto{
			{Name: proto.String("Required"), Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("need"), JsonName: proto.String("need"), Number: proto.Int32(1), Label: descriptorpb.FieldDescriptorProto_LABEL_REQUIRED.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_INT32.Enum()},
				{Name: proto.String("maybe"), JsonName: proto.String("maybe"), Number: proto.Int32(2), Label: opt.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_STRING.Enum()},
				{Name: proto.String("grp"), JsonName: proto.String("grp"), Number: proto.Int32(3), Label: opt.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_GROUP.Enum(), TypeName: proto.String(".kinds2.Required.Grp")},
			}, NestedType: []*descriptorpb.DescriptorProto{{Name: proto.String("Grp"), Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("x"), JsonName: proto.String("x"), Number: proto.Int32(4), Label: opt.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_INT64.Enum()},
			}}}},
			{Name: proto.String("Extendable"), Field: []*descriptorpb.FieldDescriptorProto{
				{Name: proto.String("a"), JsonName: proto.String("a"), Number: proto.Int32(1), Label: opt.Enum(), Type: descriptorpb.FieldDescriptorProto_TYPE_INT32.Enum()},
			}, ExtensionRange: []*descriptorpb.DescriptorProto_ExtensionRange{{Start: proto.Int32(100), End: proto.Int32(200)}}},
		},
	}
	fd2, err := protodesc.NewFile(p2, protoregistry.GlobalFiles)
	if err != nil {
		t.Fatal(err)
	}
	return []protoreflect.MessageType{
		dynamicpb.NewMessageType(fd.Messages().Get(0)),
		dynamicpb.NewMessageType(fd2.Messages().Get(0)),
		dynamicpb.NewMessageType(fd2.Messages().Get(1)),
	}
}

var (
	edgeStrings = []string{"", "a", "plain text", "quote \" backslash \\ slash /", "\x00\x01\x1f\x7f control",
		"\b\f\n\r\t", "<html> & 'x'", "\u2028\u2029", "é中文🚌", "\ufffd replacement", "tab\there"}
	edgeFloats = []float64{0, math.Copysign(0, -1), 1, -1, 0.1, 1.0 / 3, 123456.789, 1e-6, 9.99e-7, 1e-7, 1e20, 1e21, 1.5e300,
		-2.5e-300, math.MaxFloat64, math.SmallestNonzeroFloat64, math.MaxFloat32, 3.4e38, 1e-45,
		math.NaN(), math.Inf(1), math.Inf(-1)}
	edgeInts = []int64{0, 1, -1, 127, -128, math.MaxInt32, math.MinInt32, math.MaxInt64, math.MinInt64, 1 << 53, -(1 << 53) - 1}
)

// fillMessage sets some of m's fields at random, to edge values.
func fillMessage(r *rand.Rand, m protoreflect.Message, depth int) {
	switch m.Descriptor().FullName() {
	case "google.protobuf.Struct", "google.protobuf.Value", "google.protobuf.ListValue":
		v, _ := structpb.NewValue(randomJSON(r, depth))
		switch m.Descriptor().FullName() {
		case "google.protobuf.Struct":
			if s := v.GetStructValue(); s != nil {
				proto.Merge(m.Interface(), s)
			}
		case "google.protobuf.ListValue":
			if l := v.GetListValue(); l != nil {
				proto.Merge(m.Interface(), l)
			}
		default:
			proto.Merge(m.Interface(), v)
		}
		return
	case "google.protobuf.Any":
		a, _ := anypb.New(&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{{Field: pick(r, edgeStrings), Description: "d"}}})
		if r.IntN(4) == 0 {
			a, _ = anypb.New(&errdetails.ErrorInfo{Reason: "r", Metadata: map[string]string{"b": "1", "a": pick(r, edgeStrings)}})
		}
		proto.Merge(m.Interface(), a)
		return
	case "google.protobuf.Timestamp":
		proto.Merge(m.Interface(), timestamppb.New(time.Unix(r.Int64N(4e9), r.Int64N(1e9)).UTC()))
		return
	case "google.protobuf.Duration":
		proto.Merge(m.Interface(), durationpb.New(time.Duration(r.Int64N(1e15))))
		return
	}
	fields := m.Descriptor().Fields()
	for i := range fields.Len() {
		fd := fields.Get(i)
		if r.IntN(3) == 0 {
			continue
		}
		if o := fd.ContainingOneof(); o != nil && !o.IsSynthetic() && m.WhichOneof(o) != nil {
			continue
		}
		switch {
		case fd.IsList():
			l := m.Mutable(fd).List()
			for range r.IntN(4) {
				l.Append(randomValue(r, fd, l.NewElement(), depth))
			}
		case fd.IsMap():
			mp := m.Mutable(fd).Map()
			for range r.IntN(5) {
				mp.Set(randomKey(r, fd.MapKey()), randomValue(r, fd.MapValue(), mp.NewValue(), depth))
			}
		default:
			m.Set(fd, randomValue(r, fd, m.NewField(fd), depth))
		}
	}
}

func pick[T any](r *rand.Rand, from []T) T { return from[r.IntN(len(from))] }

func randomString(r *rand.Rand) string {
	if r.IntN(200) == 0 {
		return "invalid \xff UTF-8"
	}
	return pick(r, edgeStrings)
}

func randomKey(r *rand.Rand, fd protoreflect.FieldDescriptor) protoreflect.MapKey {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(r.IntN(2) == 0).MapKey()
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(randomString(r)).MapKey()
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(pick(r, edgeInts))).MapKey()
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(pick(r, edgeInts)).MapKey()
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(pick(r, edgeInts))).MapKey()
	default:
		return protoreflect.ValueOfUint64(uint64(pick(r, edgeInts))).MapKey()
	}
}

func randomValue(r *rand.Rand, fd protoreflect.FieldDescriptor, zero protoreflect.Value, depth int) protoreflect.Value {
	switch fd.Kind() {
	case protoreflect.BoolKind:
		return protoreflect.ValueOfBool(r.IntN(2) == 0)
	case protoreflect.StringKind:
		return protoreflect.ValueOfString(randomString(r))
	case protoreflect.BytesKind:
		b := make([]byte, r.IntN(20))
		for i := range b {
			b[i] = byte(r.IntN(256))
		}
		return protoreflect.ValueOfBytes(b)
	case protoreflect.Int32Kind, protoreflect.Sint32Kind, protoreflect.Sfixed32Kind:
		return protoreflect.ValueOfInt32(int32(pick(r, edgeInts)))
	case protoreflect.Int64Kind, protoreflect.Sint64Kind, protoreflect.Sfixed64Kind:
		return protoreflect.ValueOfInt64(pick(r, edgeInts))
	case protoreflect.Uint32Kind, protoreflect.Fixed32Kind:
		return protoreflect.ValueOfUint32(uint32(pick(r, edgeInts)))
	case protoreflect.Uint64Kind, protoreflect.Fixed64Kind:
		return protoreflect.ValueOfUint64(uint64(pick(r, edgeInts)))
	case protoreflect.FloatKind:
		return protoreflect.ValueOfFloat32(float32(pick(r, edgeFloats) * (1 + r.Float64())))
	case protoreflect.DoubleKind:
		if r.IntN(2) == 0 {
			return protoreflect.ValueOfFloat64(pick(r, edgeFloats))
		}
		return protoreflect.ValueOfFloat64(r.NormFloat64() * math.Pow(10, float64(r.IntN(60)-30)))
	case protoreflect.EnumKind:
		values := fd.Enum().Values()
		if r.IntN(8) == 0 {
			return protoreflect.ValueOfEnum(protoreflect.EnumNumber(99)) // not a value of the enum
		}
		return protoreflect.ValueOfEnum(values.Get(r.IntN(values.Len())).Number())
	default:
		m := zero.Message()
		if depth < 3 {
			fillMessage(r, m, depth+1)
		}
		return protoreflect.ValueOfMessage(m)
	}
}

// randomJSON is a JSON value for a google.protobuf.Value.
func randomJSON(r *rand.Rand, depth int) any {
	switch n := r.IntN(6); {
	case n == 0 || depth > 3:
		return pick(r, edgeFloats[:len(edgeFloats)-3]) // no NaN or infinities: Value refuses them
	case n == 1:
		return randomString(r)
	case n == 2:
		return r.IntN(2) == 0
	case n == 3:
		return nil
	case n == 4:
		l := make([]any, r.IntN(4))
		for i := range l {
			l[i] = randomJSON(r, depth+1)
		}
		return l
	default:
		m := map[string]any{}
		for range r.IntN(4) {
			m[pick(r, edgeStrings)] = randomJSON(r, depth+1)
		}
		return m
	}
}

// BenchmarkProtoJSONFullAudit compares the fast writer with protojson on the
// response of bench/load's REST audit.
func BenchmarkProtoJSONFullAudit(b *testing.B) {
	resp := benchAuditResponse(b)
	m, ref := gatewayJSON()
	for _, bc := range []struct {
		name    string
		marshal func(any) ([]byte, error)
	}{{"protojson", ref.Marshal}, {"fast", m.Marshal}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				out, err := bc.marshal(resp)
				if err != nil {
					b.Fatal(err)
				}
				b.SetBytes(int64(len(out)))
			}
		})
	}
}
