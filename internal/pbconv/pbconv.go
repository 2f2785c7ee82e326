package pbconv

import (
	"github.com/civic-standards/coverage/coverage"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// EnumValue is the value of a proto enum from its name; the domain names its
// enumerations by the proto enum names, so this is a lookup, and an unknown
// name is the zero (UNSPECIFIED) value.
func EnumValue[T ~int32](values map[string]int32, name string) T {
	return T(values[name])
}

// Citation converts a rule's citation.
func Citation(c coverage.Citation) *coveragev1.Citation {
	return &coveragev1.Citation{
		Document: c.Document, Section: c.Section, SectionEn: c.SectionEn,
		OriginalText: c.OriginalText, EnglishText: c.EnglishText,
	}
}

// Counts converts results counted by status.
func Counts(c coverage.StatusCounts) *coveragev1.StatusCounts {
	return &coveragev1.StatusCounts{
		Compliant:        int32(c[coverage.StatusCompliant]),
		NonCompliant:     int32(c[coverage.StatusNonCompliant]),
		NotApplicable:    int32(c[coverage.StatusNotApplicable]),
		InsufficientData: int32(c[coverage.StatusInsufficientData]),
		Informational:    int32(c[coverage.StatusInformational]),
		NotComputed:      int32(c[coverage.StatusNotComputed]),
	}
}

// Summary converts a batch summary over audits against rs.
func Summary(rs *coverage.Ruleset, sum *coverage.BatchSummary) *coveragev1.BatchSummary {
	total, audited, rejected := sum.Totals()
	out := &coveragev1.BatchSummary{
		RulesetId: rs.ID, RulesetVersion: rs.Version,
		Settlements: int64(total), Audited: int64(audited), Rejected: int64(rejected),
	}
	for _, r := range sum.Rules() {
		rsum := &coveragev1.RuleBatchSummary{RuleId: r.RuleID, Counts: Counts(r.Counts)}
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
			Status:           EnumValue[coveragev1.Status](coveragev1.Status_value, string(ag.Status)),
			Evaluated:        int32(ag.Evaluated),
			Compliant:        int32(ag.Compliant),
			InsufficientData: int32(ag.InsufficientData),
			Share:            ag.Share,
			Threshold:        ag.Threshold,
			Reason:           ag.Reason,
			Citation:         Citation(ag.Citation),
		})
	}
	for _, a := range sum.Actions() {
		out.Actions = append(out.Actions, &coveragev1.ActionTotal{
			Kind: a.Kind, Quantity: a.Quantity, Unit: a.Unit, UnitZh: a.UnitZh,
			Facility:     EnumValue[coveragev1.FacilityType](coveragev1.FacilityType_value, string(a.Facility)),
			VehicleClass: a.VehicleClass, Settlements: a.Settlements, RuleIds: a.Rules,
		})
	}
	return out
}

// Actions converts the actions of a result.
func Actions(as []coverage.Action) []*coveragev1.Action {
	if len(as) == 0 {
		return nil
	}
	out := make([]*coveragev1.Action, len(as))
	for i, a := range as {
		out[i] = &coveragev1.Action{
			Kind: a.Kind, Quantity: a.Quantity, Unit: a.Unit, UnitZh: a.UnitZh,
			Facility:     EnumValue[coveragev1.FacilityType](coveragev1.FacilityType_value, string(a.Facility)),
			VehicleClass: a.VehicleClass, Text: a.Text, TextZh: a.TextZh,
		}
	}
	return out
}

// AuditForSummary rebuilds, from an audit as the server sent it, the part of
// the domain audit that a batch summary counts: the settlement and each
// rule's status, shortfall and actions. It is not a full conversion; a summary needs
// no more.
func AuditForSummary(a *coveragev1.AuditResponse) *coverage.Audit {
	out := &coverage.Audit{SettlementID: a.GetSettlementId(), SettlementName: a.GetSettlementName()}
	for _, r := range a.GetResults() {
		res := coverage.Result{
			RuleID:        r.GetRuleId(),
			Status:        coverage.Status(r.GetStatus().String()),
			Shortfall:     r.Shortfall,
			ShortfallUnit: r.GetShortfallUnit(),
		}
		for _, a := range r.GetActions() {
			res.Actions = append(res.Actions, coverage.Action{
				Kind: a.GetKind(), Quantity: a.GetQuantity(), Unit: a.GetUnit(), UnitZh: a.GetUnitZh(),
				Facility: coverage.FacilityType(a.GetFacility().String()), VehicleClass: a.GetVehicleClass(),
			})
		}
		out.Results = append(out.Results, res)
	}
	return out
}

// RulesetForSummary rebuilds, from a ruleset as the server sent it, the part
// of the domain ruleset that a batch summary reads: its identity, its rules
// in order, and the share and citation of the rules defined over a batch.
func RulesetForSummary(rs *coveragev1.Ruleset) *coverage.Ruleset {
	out := &coverage.Ruleset{ID: rs.GetId(), Version: rs.GetVersion(), Title: rs.GetTitle()}
	for _, r := range rs.GetRules() {
		c := r.GetCitation()
		out.Rules = append(out.Rules, coverage.Rule{
			ID: r.GetId(), Title: r.GetTitle(), AggregateMinShare: r.AggregateMinShare,
			Citation: coverage.Citation{
				Document: c.GetDocument(), Section: c.GetSection(), SectionEn: c.GetSectionEn(),
				OriginalText: c.GetOriginalText(), EnglishText: c.GetEnglishText(),
			},
		})
	}
	return out
}
