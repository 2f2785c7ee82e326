package server

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

func batchTown(id string, kindergartens int64) *coveragev1.Settlement {
	return &coveragev1.Settlement{
		Id: id, Name: "town " + id, Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_TOWN,
		ElderlyPopulation: proto.Int64(12_000), ElderlyCareBeds: proto.Int64(300),
		Facilities: &coveragev1.FacilityCounts{StandardKindergartens: proto.Int64(kindergartens)},
	}
}

// TestAuditStream: each settlement gets its own result in order, a bad one
// gets its own error and the stream goes on, and the summary comes last with
// the batch rules evaluated (4 of 5 towns = exactly 80%).
func TestAuditStream(t *testing.T) {
	client := newBufconnClient(t, NewService(testCatalog(t)))
	stream, err := client.AuditStream(rpcContext(t))
	if err != nil {
		t.Fatal(err)
	}
	sent := []*coveragev1.Settlement{batchTown("a", 1), batchTown("b", 1), batchTown("bad", 1), batchTown("c", 1), batchTown("d", 0), batchTown("e", 2)}
	sent[2].ElderlyPopulation = proto.Int64(-1)
	for i, s := range sent {
		req := &coveragev1.AuditStreamRequest{Settlement: s, ClientRef: fmt.Sprintf("towns.csv:%d", i+2)}
		if i == 0 {
			req.RulesetId = "jilin-2014"
		}
		if err := stream.Send(req); err != nil {
			t.Fatal(err)
		}
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatal(err)
	}
	var results []*coveragev1.AuditItem
	var summary *coveragev1.BatchSummary
	for {
		resp, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		if summary != nil {
			t.Fatal("a message after the summary")
		}
		if r := resp.GetResult(); r != nil {
			results = append(results, r)
		} else {
			summary = resp.GetSummary()
		}
	}
	if len(results) != len(sent) || summary == nil {
		t.Fatalf("%d results and summary %v, want %d and a summary", len(results), summary != nil, len(sent))
	}
	for i, r := range results {
		if r.GetIndex() != int64(i) || r.GetSettlementId() != sent[i].GetId() || r.GetClientRef() != fmt.Sprintf("towns.csv:%d", i+2) {
			t.Errorf("result %d is index %d, id %q, client ref %q", i, r.GetIndex(), r.GetSettlementId(), r.GetClientRef())
		}
		if (r.GetError() != nil) != (i == 2) || (r.GetAudit() != nil) == (i == 2) {
			t.Errorf("result %d: audit %v, error %v", i, r.GetAudit() != nil, r.GetError())
		}
	}
	if e := results[2].GetError(); e.GetCode() != "INVALID_ARGUMENT" || len(e.GetViolations()) != 1 || e.GetViolations()[0].GetField() != "settlement.elderlyPopulation" {
		t.Errorf("bad item error %v", e)
	}
	if summary.GetSettlements() != 6 || summary.GetAudited() != 5 || summary.GetRejected() != 1 || summary.GetRulesetId() != "jilin-2014" {
		t.Errorf("summary totals %d/%d/%d ruleset %q", summary.GetSettlements(), summary.GetAudited(), summary.GetRejected(), summary.GetRulesetId())
	}
	var kindergarten *coveragev1.AggregateResult
	for _, ag := range summary.GetAggregates() {
		if ag.GetRuleId() == "T19-KINDERGARTEN" {
			kindergarten = ag
		}
	}
	if kindergarten.GetStatus() != coveragev1.Status_STATUS_COMPLIANT || kindergarten.GetEvaluated() != 5 || kindergarten.GetCompliant() != 4 || kindergarten.GetShare() != 0.8 {
		t.Errorf("T19-KINDERGARTEN over the batch: %v", kindergarten)
	}
	for _, r := range summary.GetRules() {
		if r.GetRuleId() != "T19-ELDERLY-BEDS" {
			continue
		}
		if r.GetCounts().GetNonCompliant() != 5 || len(r.GetFurthest()) != furthestPerRule || r.GetFurthest()[0].GetShortfall() != 132 {
			t.Errorf("T19-ELDERLY-BEDS summary %v", r)
		}
	}
}

// TestAuditStreamRulesetRules: an unknown ruleset in the first message ends
// the stream with INVALID_ARGUMENT; a different one later is that item's error.
func TestAuditStreamRulesetRules(t *testing.T) {
	client := newBufconnClient(t, NewService(testCatalog(t)))
	stream, err := client.AuditStream(rpcContext(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := stream.Send(&coveragev1.AuditStreamRequest{RulesetId: "nope", Settlement: batchTown("a", 1)}); err != nil {
		t.Fatal(err)
	}
	_, err = stream.Recv()
	wantInvalidField(t, err, "rulesetId")

	stream, err = client.AuditStream(rpcContext(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"", "other"} {
		if err := stream.Send(&coveragev1.AuditStreamRequest{RulesetId: id, Settlement: batchTown(id+"x", 1)}); err != nil {
			t.Fatal(err)
		}
	}
	stream.CloseSend()
	first, err := stream.Recv()
	if err != nil || first.GetResult().GetAudit() == nil {
		t.Fatalf("first item: %v %v", first, err)
	}
	second, err := stream.Recv()
	if err != nil || second.GetResult().GetError().GetViolations()[0].GetField() != "rulesetId" {
		t.Fatalf("second item: %v %v", second, err)
	}

	// An empty stream still ends with its summary.
	stream, err = client.AuditStream(rpcContext(t))
	if err != nil {
		t.Fatal(err)
	}
	stream.CloseSend()
	last, err := stream.Recv()
	if err != nil || last.GetSummary().GetSettlements() != 0 || last.GetSummary().GetRulesetId() != "jilin-2014" {
		t.Fatalf("empty stream: %v %v", last, err)
	}
}

// TestAuditBatch: over gRPC and REST, the same results and summary; over the
// limit is INVALID_ARGUMENT / 400 naming "settlements".
func TestAuditBatch(t *testing.T) {
	svc := NewService(testCatalog(t))
	svc.maxBatch = 3
	client := newBufconnClient(t, svc)
	towns := []*coveragev1.Settlement{batchTown("a", 1), batchTown("b", 0), batchTown("bad", 1)}
	towns[2].Kind = coveragev1.SettlementKind(99)
	resp, err := client.AuditBatch(rpcContext(t), &coveragev1.AuditBatchRequest{Settlements: towns})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.GetResults()) != 3 || resp.GetResults()[2].GetError().GetViolations()[0].GetField() != "settlement.kind" {
		t.Fatalf("results %v", resp.GetResults())
	}
	if s := resp.GetSummary(); s.GetAudited() != 2 || s.GetRejected() != 1 {
		t.Errorf("summary %v", s)
	}
	_, err = client.AuditBatch(rpcContext(t), &coveragev1.AuditBatchRequest{Settlements: append(towns, batchTown("d", 1))})
	wantInvalidField(t, err, "settlements")
	wantCode(t, err, codes.InvalidArgument)

	// The same over REST, on the real server.
	srv := startTestServer(t)
	var body strings.Builder
	body.WriteString(`{"settlements":[`)
	for i := range 3 {
		if i > 0 {
			body.WriteString(",")
		}
		fmt.Fprintf(&body, `{"id":"t%d","kind":"SETTLEMENT_KIND_TOWN","elderlyPopulation":12000,"elderlyCareBeds":300,"facilities":{"standardKindergartens":%d}}`, i, i%2)
	}
	body.WriteString(`]}`)
	httpResp, err := http.Post("http://"+srv.HTTPAddr()+"/v1/audit:batch", "application/json", strings.NewReader(body.String()))
	if err != nil {
		t.Fatal(err)
	}
	defer httpResp.Body.Close()
	data, _ := io.ReadAll(httpResp.Body)
	if httpResp.StatusCode != http.StatusOK {
		t.Fatalf("HTTP %d: %s", httpResp.StatusCode, data)
	}
	viaREST := &coveragev1.AuditBatchResponse{}
	if err := protojson.Unmarshal(data, viaREST); err != nil {
		t.Fatal(err)
	}
	req := &coveragev1.AuditBatchRequest{}
	if err := protojson.Unmarshal([]byte(body.String()), req); err != nil {
		t.Fatal(err)
	}
	viaGRPC, err := coveragev1.NewCoverageServiceClient(dialServer(t, srv)).AuditBatch(rpcContext(t), req)
	if err != nil {
		t.Fatal(err)
	}
	if !proto.Equal(viaREST, viaGRPC) {
		t.Errorf("REST and gRPC batch answers differ")
	}
	if ag := viaREST.GetSummary().GetAggregates()[0]; ag.GetRuleId() != "T19-KINDERGARTEN" || ag.GetStatus() != coveragev1.Status_STATUS_NON_COMPLIANT {
		t.Errorf("1 of 3 towns with a kindergarten: %v", ag)
	}
	if !bytes.Contains(data, []byte(`"summary"`)) {
		t.Errorf("no summary in the REST answer")
	}
}

func dialServer(t *testing.T, srv *Server) *grpc.ClientConn {
	t.Helper()
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn
}

// TestAuditBatchBasicView: the BASIC view leaves out of each result what its
// rule determines, and keeps the verdict and its reasons, equal to FULL's.
func TestAuditBatchBasicView(t *testing.T) {
	client := newBufconnClient(t, NewService(testCatalog(t)))
	towns := []*coveragev1.Settlement{batchTown("a", 1), batchTown("b", 0)}
	full, err := client.AuditBatch(rpcContext(t), &coveragev1.AuditBatchRequest{Settlements: towns})
	if err != nil {
		t.Fatal(err)
	}
	basic, err := client.AuditBatch(rpcContext(t), &coveragev1.AuditBatchRequest{Settlements: towns, View: coveragev1.ResultView_RESULT_VIEW_BASIC})
	if err != nil {
		t.Fatal(err)
	}
	for i := range towns {
		f, b := full.GetResults()[i].GetAudit().GetResults(), basic.GetResults()[i].GetAudit().GetResults()
		if len(f) != len(b) || len(f) == 0 {
			t.Fatalf("%d full and %d basic results", len(f), len(b))
		}
		for j := range f {
			if b[j].GetCitation() != nil || b[j].GetNotes() != nil || b[j].GetTitle() != "" || b[j].GetUnit() != "" {
				t.Errorf("basic result %s keeps rule fields: %v", b[j].GetRuleId(), b[j])
			}
			if f[j].GetCitation() == nil || f[j].GetTitle() == "" {
				t.Errorf("full result %s lacks its citation or title", f[j].GetRuleId())
			}
			stripped := proto.Clone(f[j]).(*coveragev1.RuleResult)
			stripped.Title, stripped.Topic, stripped.RulesetId, stripped.RulesetVersion = "", 0, "", ""
			stripped.Unit, stripped.Comparison, stripped.Citation, stripped.Notes = "", 0, nil, nil
			if !proto.Equal(stripped, b[j]) {
				t.Errorf("basic result %s differs from full beyond the rule fields", b[j].GetRuleId())
			}
		}
	}
	if !proto.Equal(full.GetSummary(), basic.GetSummary()) {
		t.Error("the view changed the summary")
	}
}

// TestAuditBasicView: a single audit takes the view too.
func TestAuditBasicView(t *testing.T) {
	client := newBufconnClient(t, NewService(testCatalog(t)))
	s := batchTown("a", 1)
	full, err := client.Audit(rpcContext(t), &coveragev1.AuditRequest{Settlement: s})
	if err != nil {
		t.Fatal(err)
	}
	basic, err := client.Audit(rpcContext(t), &coveragev1.AuditRequest{Settlement: s, View: coveragev1.ResultView_RESULT_VIEW_BASIC})
	if err != nil {
		t.Fatal(err)
	}
	if proto.Size(basic)*3 > proto.Size(full) {
		t.Errorf("basic %d bytes, full %d: want basic well under a third", proto.Size(basic), proto.Size(full))
	}
	for _, r := range basic.GetResults() {
		if r.GetCitation() != nil || r.GetNotes() != nil {
			t.Fatalf("basic result %s keeps its citation or notes", r.GetRuleId())
		}
	}
	if !proto.Equal(full.GetCounts(), basic.GetCounts()) || len(full.GetResults()) != len(basic.GetResults()) {
		t.Error("the view changed the verdicts")
	}
}
