package server

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"

	"github.com/civic-standards/coverage/coverage"
	"github.com/civic-standards/coverage/internal/pbconv"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// furthestPerRule is how many settlements furthest from compliance a batch
// summary keeps per rule.
const furthestPerRule = 5

// AuditStream audits settlements one at a time as they arrive, so the
// server's memory does not depend on the batch size; gRPC flow control holds
// back a client that sends faster than the server audits.
func (s *Service) AuditStream(stream grpc.BidiStreamingServer[coveragev1.AuditStreamRequest, coveragev1.AuditStreamResponse]) error {
	ctx := stream.Context()
	var rs *coverage.Ruleset
	var sum *coverage.BatchSummary
	var view coveragev1.ResultView
	for index := int64(0); ; index++ {
		req, err := stream.Recv()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return err
		}
		if rs == nil {
			if rs, err = s.catalog.Select(req.GetRulesetId()); err != nil {
				return toStatus(err)
			}
			sum = coverage.NewBatchSummary(rs, furthestPerRule)
			view = req.GetView()
		}
		var item *coveragev1.AuditItem
		if id := req.GetRulesetId(); id != "" && id != rs.ID {
			item = rejected(index, req.GetSettlement(), coverage.InvalidFields(coverage.FieldViolation{
				Field: "rulesetId", Reason: fmt.Sprintf("a stream is audited against one ruleset, %s (from its first message); got %q", rs.ID, id)}))
			sum.AddRejected()
		} else if item, err = s.auditItem(ctx, rs, sum, index, req.GetSettlement()); err != nil {
			return err
		}
		item.ClientRef = req.GetClientRef()
		applyView(view, item.GetAudit())
		if err := stream.Send(&coveragev1.AuditStreamResponse{Item: &coveragev1.AuditStreamResponse_Result{Result: item}}); err != nil {
			return err
		}
	}
	if rs == nil {
		// An empty stream still gets its (empty) summary.
		var err error
		if rs, err = s.catalog.Select(""); err != nil {
			return toStatus(err)
		}
		sum = coverage.NewBatchSummary(rs, furthestPerRule)
	}
	return stream.Send(&coveragev1.AuditStreamResponse{Item: &coveragev1.AuditStreamResponse_Summary{Summary: pbconv.Summary(rs, sum)}})
}

// AuditBatch audits a bounded list of settlements in one request.
func (s *Service) AuditBatch(ctx context.Context, req *coveragev1.AuditBatchRequest) (*coveragev1.AuditBatchResponse, error) {
	if n := len(req.GetSettlements()); n > s.maxBatch {
		return nil, toStatus(coverage.InvalidFields(coverage.FieldViolation{Field: "settlements",
			Reason: fmt.Sprintf("%d settlements exceed the batch limit of %d; send more requests, or use the AuditStream RPC", n, s.maxBatch)}))
	}
	rs, err := s.catalog.Select(req.GetRulesetId())
	if err != nil {
		return nil, toStatus(err)
	}
	sum := coverage.NewBatchSummary(rs, furthestPerRule)
	out := &coveragev1.AuditBatchResponse{}
	for i, settlement := range req.GetSettlements() {
		item, err := s.auditItem(ctx, rs, sum, int64(i), settlement)
		if err != nil {
			return nil, err
		}
		applyView(req.GetView(), item.GetAudit())
		out.Results = append(out.Results, item)
	}
	out.Summary = pbconv.Summary(rs, sum)
	return out, nil
}

// auditItem audits one settlement of a batch. Bad input becomes the item's
// own error and the batch goes on; only a failure of the request itself
// (cancellation, an internal fault) is returned.
func (s *Service) auditItem(ctx context.Context, rs *coverage.Ruleset, sum *coverage.BatchSummary, index int64, p *coveragev1.Settlement) (*coveragev1.AuditItem, error) {
	itemCtx := ctx
	if s.itemTimeout > 0 {
		var cancel context.CancelFunc
		itemCtx, cancel = context.WithTimeout(ctx, s.itemTimeout)
		defer cancel()
	}
	a, err := s.audit(itemCtx, rs, p)
	if err == nil {
		sum.Add(a)
		return &coveragev1.AuditItem{Index: index, SettlementId: p.GetId(), Audit: auditToProto(a)}, nil
	}
	var e *coverage.Error
	if errors.As(err, &e) && e.Code == coverage.CodeInvalid {
		sum.AddRejected()
		return rejected(index, p, e), nil
	}
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		// This settlement ran out of its own time; the batch goes on.
		sum.AddRejected()
		return &coveragev1.AuditItem{Index: index, SettlementId: p.GetId(), Error: &coveragev1.ItemError{
			Code:    "DEADLINE_EXCEEDED",
			Message: fmt.Sprintf("auditing this settlement took longer than the server's limit of %s per settlement", s.itemTimeout),
		}}, nil
	}
	return nil, toStatus(err)
}

// applyView leaves out of a BASIC audit's results the fields that its rule
// determines; the ruleset carries them once for the whole batch.
func applyView(view coveragev1.ResultView, a *coveragev1.AuditResponse) {
	if view != coveragev1.ResultView_RESULT_VIEW_BASIC {
		return
	}
	for _, r := range a.GetResults() {
		r.Title, r.Topic, r.RulesetId, r.RulesetVersion = "", 0, "", ""
		r.Unit, r.Comparison, r.Citation, r.Notes = "", 0, nil, nil
	}
}

// rejected is the item of a settlement refused as bad input (INVALID_ARGUMENT).
func rejected(index int64, p *coveragev1.Settlement, e *coverage.Error) *coveragev1.AuditItem {
	item := &coveragev1.AuditItem{Index: index, SettlementId: p.GetId(), Error: &coveragev1.ItemError{
		Code: "INVALID_ARGUMENT", Message: e.Error(),
	}}
	for _, v := range e.Violations {
		item.Error.Violations = append(item.Error.Violations, &coveragev1.FieldViolation{Field: v.Field, Reason: v.Reason})
	}
	return item
}
