package server

import (
	"context"
	"errors"
	"fmt"
	"io"

	"google.golang.org/grpc"

	"github.com/civic-standards/coverage/coverage"
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
		}
		var item *coveragev1.AuditItem
		if id := req.GetRulesetId(); id != "" && id != rs.ID {
			item = rejected(index, req.GetSettlement(), coverage.InvalidFields(coverage.FieldViolation{
				Field: "rulesetId", Reason: fmt.Sprintf("a stream is audited against one ruleset, %s (from its first message); got %q", rs.ID, id)}))
			sum.AddRejected()
		} else if item, err = s.auditItem(ctx, rs, sum, index, req.GetSettlement()); err != nil {
			return err
		}
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
	return stream.Send(&coveragev1.AuditStreamResponse{Item: &coveragev1.AuditStreamResponse_Summary{Summary: summaryToProto(rs, sum)}})
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
		out.Results = append(out.Results, item)
	}
	out.Summary = summaryToProto(rs, sum)
	return out, nil
}

// auditItem audits one settlement of a batch. Bad input becomes the item's
// own error and the batch goes on; only a failure of the request itself
// (cancellation, an internal fault) is returned.
func (s *Service) auditItem(ctx context.Context, rs *coverage.Ruleset, sum *coverage.BatchSummary, index int64, p *coveragev1.Settlement) (*coveragev1.AuditItem, error) {
	settlement, err := settlementFromProto(p)
	if err == nil {
		var a *coverage.Audit
		if a, err = rs.EvaluateContext(ctx, settlement); err == nil {
			sum.Add(a)
			return &coveragev1.AuditItem{Index: index, SettlementId: p.GetId(), Audit: auditToProto(a)}, nil
		}
	}
	var e *coverage.Error
	if errors.As(err, &e) && e.Code == coverage.CodeInvalid {
		sum.AddRejected()
		return rejected(index, p, e), nil
	}
	return nil, toStatus(err)
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

func summaryToProto(rs *coverage.Ruleset, sum *coverage.BatchSummary) *coveragev1.BatchSummary {
	total, audited, rejected := sum.Totals()
	out := &coveragev1.BatchSummary{
		RulesetId: rs.ID, RulesetVersion: rs.Version,
		Settlements: int64(total), Audited: int64(audited), Rejected: int64(rejected),
	}
	for _, r := range sum.Rules() {
		rsum := &coveragev1.RuleBatchSummary{RuleId: r.RuleID, Counts: countsToProto(r.Counts)}
		for _, f := range r.Furthest {
			rsum.Furthest = append(rsum.Furthest, &coveragev1.FurthestSettlement{
				SettlementId: f.SettlementID, SettlementName: f.SettlementName, Shortfall: f.Shortfall, ShortfallUnit: f.ShortfallUnit,
			})
		}
		out.Rules = append(out.Rules, rsum)
	}
	for _, ag := range sum.Aggregates() {
		out.Aggregates = append(out.Aggregates, &coveragev1.AggregateResult{
			RuleId:           ag.RuleID,
			Status:           enumValue[coveragev1.Status](coveragev1.Status_value, string(ag.Status)),
			Evaluated:        int32(ag.Evaluated),
			Compliant:        int32(ag.Compliant),
			InsufficientData: int32(ag.InsufficientData),
			Share:            ag.Share,
			Threshold:        ag.Threshold,
			Reason:           ag.Reason,
			Citation:         citationToProto(ag.Citation),
		})
	}
	return out
}
