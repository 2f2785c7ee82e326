package server

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/civic-standards/coverage/coverage"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// recycleRequests are audits whose results differ in every field a pooled
// message could carry over from the call before: cities, counties and
// towns, compliant and not, with and without geometry, shortfall items and
// actions, in both views.
func recycleRequests(t *testing.T) []*coveragev1.AuditRequest {
	t.Helper()
	var reqs []*coveragev1.AuditRequest
	files, err := filepath.Glob("../examples/*.json")
	if err != nil {
		t.Fatal(err)
	}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		req := new(coveragev1.AuditRequest)
		if err := (protojson.UnmarshalOptions{DiscardUnknown: true}).Unmarshal(body, req); err != nil || req.GetSettlement() == nil {
			continue // not an audit's body (a batch)
		}
		reqs = append(reqs, req)
	}
	reqs = append(reqs,
		&coveragev1.AuditRequest{Settlement: fullCity(t)},
		&coveragev1.AuditRequest{Settlement: batchTown("t0", 0)},
		&coveragev1.AuditRequest{Settlement: batchTown("t3", 3)},
	)
	if len(reqs) < 6 {
		t.Fatalf("only %d audit requests among the examples", len(reqs))
	}
	for _, r := range reqs { // the range is the slice before the appends
		basic := proto.Clone(r).(*coveragev1.AuditRequest)
		basic.View = coveragev1.ResultView_RESULT_VIEW_BASIC
		reqs = append(reqs, basic)
	}
	return reqs
}

// TestRecycledAuditsMatch: unary audits over gRPC, whose responses reuse
// the arrays of earlier ones, answer exactly what a response made afresh
// holds, with many calls in flight and different settlements interleaved
// (run with -race, this also checks that no array is reused while it is
// still being encoded).
func TestRecycledAuditsMatch(t *testing.T) {
	ts := startServer(t, Config{})
	if ts.srv.codec.recycler == nil {
		t.Fatal("the gRPC server has no recycler")
	}
	reqs := recycleRequests(t)
	want := make([]*coveragev1.AuditResponse, len(reqs))
	for i, req := range reqs {
		// A call without the gRPC server's interceptor allocates its response.
		resp, err := ts.srv.svc.Audit(context.Background(), req)
		if err != nil {
			t.Fatalf("request %d: %v", i, err)
		}
		want[i] = resp
	}

	const workers, calls = 8, 60
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := range workers {
		wg.Go(func() {
			for c := range calls {
				i := (w*7 + c*3) % len(reqs)
				got, err := ts.client.Audit(rpcContext(t), reqs[i])
				if err != nil {
					errs <- fmt.Errorf("request %d: %v", i, err)
					return
				}
				if !proto.Equal(got, want[i]) {
					errs <- fmt.Errorf("request %d (%s, view %v): the answer differs from one made afresh:\ngot  %v\nwant %v",
						i, reqs[i].GetSettlement().GetId(), reqs[i].GetView(), got, want[i])
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
	pending := 0
	ts.srv.codec.recycler.sent.Range(func(any, any) bool { pending++; return true })
	if pending != 0 {
		t.Errorf("%d responses are still waiting for the codec after every call was answered", pending)
	}
}

// TestRecyclerGivesBackUnsentResponses: a response the chain does not send
// (it failed after the handler built it, or answered with another message)
// is not left waiting for the codec, which would hold its arrays for ever;
// the one it sends waits until the codec has encoded it.
func TestRecyclerGivesBackUnsentResponses(t *testing.T) {
	rs, err := testCatalog(t).Select("")
	if err != nil {
		t.Fatal(err)
	}
	audit := new(coverage.Audit)
	s, err := settlementFromProto(fullCity(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := rs.EvaluateInto(context.Background(), audit, s); err != nil {
		t.Fatal(err)
	}
	auditInfo := &grpc.UnaryServerInfo{FullMethod: coveragev1.CoverageService_Audit_FullMethodName}
	other := &coveragev1.AuditResponse{RulesetId: "other"}
	failure := errors.New("refused after the handler")

	for _, tc := range []struct {
		name     string
		info     *grpc.UnaryServerInfo
		answer   func(built *coveragev1.AuditResponse) (any, error)
		waits    bool // for the codec
		recycled bool // built from pooled arrays
	}{
		{"sent", auditInfo, func(b *coveragev1.AuditResponse) (any, error) { return b, nil }, true, true},
		{"failed", auditInfo, func(b *coveragev1.AuditResponse) (any, error) { return nil, failure }, false, true},
		{"failed with the response", auditInfo, func(b *coveragev1.AuditResponse) (any, error) { return b, failure }, false, true},
		{"replaced", auditInfo, func(*coveragev1.AuditResponse) (any, error) { return other, nil }, false, true},
		{"another method", &grpc.UnaryServerInfo{FullMethod: coveragev1.CoverageService_CheckElderlyCare_FullMethodName},
			func(b *coveragev1.AuditResponse) (any, error) { return b, nil }, false, false},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := new(responseRecycler)
			codec := &responseCodec{recycler: r}
			var built *coveragev1.AuditResponse
			var slotted bool
			resp, _ := r.unaryInterceptor(context.Background(), nil, tc.info, func(ctx context.Context, _ any) (any, error) {
				_, slotted = ctx.Value(recycleSlotKey{}).(*recycleSlot)
				built = auditResponse(ctx, audit)
				if !proto.Equal(built, auditToProto(audit)) {
					t.Error("the response built differs from auditToProto's")
				}
				return tc.answer(built)
			})
			if slotted != tc.recycled {
				t.Fatalf("the handler's context has a slot: %v, want %v", slotted, tc.recycled)
			}
			_, waiting := r.sent.Load(built)
			if waiting != tc.waits {
				t.Fatalf("the built response waits for the codec: %v, want %v", waiting, tc.waits)
			}
			if !waiting {
				return
			}
			enc, err := codec.Marshal(resp)
			if err != nil {
				t.Fatal(err)
			}
			defer enc.Free()
			if _, still := r.sent.Load(built); still {
				t.Error("the response still waits after the codec encoded it")
			}
			got := new(coveragev1.AuditResponse)
			if err := proto.Unmarshal(enc.Materialize(), got); err != nil {
				t.Fatal(err)
			}
			if !proto.Equal(got, auditToProto(audit)) {
				t.Error("the encoded response differs from auditToProto's")
			}
		})
	}
}

// TestNoRecyclerWithTracing: with grpc.EnableTracing, whose traces keep each
// sent message to print later, the server reuses no response.
func TestNoRecyclerWithTracing(t *testing.T) {
	for _, tracing := range []bool{false, true} {
		grpc.EnableTracing = tracing
		s, err := New(Config{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Catalog: testCatalog(t)})
		grpc.EnableTracing = false
		if err != nil {
			t.Fatal(err)
		}
		s.Close()
		if got := s.codec.recycler != nil; got == tracing {
			t.Errorf("with grpc.EnableTracing %v, the server reuses responses: %v", tracing, got)
		}
	}
}
