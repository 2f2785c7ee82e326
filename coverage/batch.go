package coverage

import (
	"fmt"
	"sort"
)

// BatchSummary accumulates the audits of a batch of settlements: counts by
// status per rule, the settlements furthest from compliance per rule, and the
// rules defined over the batch as a whole (for example ≥ 80% of small towns
// run a standard kindergarten). Its memory does not grow with the batch: it
// keeps counts and, per rule, only the furthest few.
type BatchSummary struct {
	rs       *Ruleset
	keep     int
	total    int
	audited  int
	rejected int
	rules    map[string]*RuleSummary
	order    []string
}

// RuleSummary is one rule's results across a batch.
type RuleSummary struct {
	RuleID string
	Counts StatusCounts
	// Furthest are the non-compliant settlements with the largest shortfalls,
	// largest first.
	Furthest []Furthest
}

// Furthest is a settlement's shortfall on a rule.
type Furthest struct {
	SettlementID   string
	SettlementName string
	Shortfall      float64
	ShortfallUnit  string
}

// AggregateResult is a rule evaluated over the batch: the share of the
// settlements it applies to that comply, against the share the ruleset asks for.
type AggregateResult struct {
	RuleID string
	Status Status
	// Applicable settlements with a verdict (compliant or not).
	Evaluated int
	Compliant int
	// Applicable settlements without a verdict for lack of data; they are
	// left out of the share, and the verdict says so.
	InsufficientData int
	Share            *float64
	Threshold        float64
	Reason           string
	Citation         Citation
}

// NewBatchSummary starts a summary for audits against rs, keeping the keep
// furthest settlements per rule.
func NewBatchSummary(rs *Ruleset, keep int) *BatchSummary {
	b := &BatchSummary{rs: rs, keep: keep, rules: map[string]*RuleSummary{}}
	for _, r := range rs.Rules {
		b.rules[r.ID] = &RuleSummary{RuleID: r.ID, Counts: StatusCounts{}}
		b.order = append(b.order, r.ID)
	}
	return b
}

// AddRejected counts a settlement the batch could not audit (bad input).
func (b *BatchSummary) AddRejected() {
	b.total++
	b.rejected++
}

// Add counts one audited settlement.
func (b *BatchSummary) Add(a *Audit) {
	b.total++
	b.audited++
	for i := range a.Results {
		r := &a.Results[i]
		rsum, ok := b.rules[r.RuleID]
		if !ok {
			continue
		}
		rsum.Counts[r.Status]++
		if r.Status == StatusNonCompliant && r.Shortfall != nil && b.keep > 0 {
			rsum.Furthest = insertFurthest(rsum.Furthest, Furthest{
				SettlementID: a.SettlementID, SettlementName: a.SettlementName,
				Shortfall: *r.Shortfall, ShortfallUnit: r.ShortfallUnit,
			}, b.keep)
		}
	}
}

func insertFurthest(list []Furthest, f Furthest, keep int) []Furthest {
	i := sort.Search(len(list), func(i int) bool { return list[i].Shortfall < f.Shortfall })
	if i >= keep {
		return list
	}
	list = append(list, Furthest{})
	copy(list[i+1:], list[i:])
	list[i] = f
	if len(list) > keep {
		list = list[:keep]
	}
	return list
}

// Totals reports how many settlements were given, audited and rejected.
func (b *BatchSummary) Totals() (total, audited, rejected int) {
	return b.total, b.audited, b.rejected
}

// Rules returns the per-rule summaries in ruleset order.
func (b *BatchSummary) Rules() []RuleSummary {
	out := make([]RuleSummary, 0, len(b.order))
	for _, id := range b.order {
		out = append(out, *b.rules[id])
	}
	return out
}

// Aggregates evaluates the rules the ruleset defines over a batch.
func (b *BatchSummary) Aggregates() []AggregateResult {
	var out []AggregateResult
	for i := range b.rs.Rules {
		r := &b.rs.Rules[i]
		if r.AggregateMinShare == nil {
			continue
		}
		c := b.rules[r.ID].Counts
		ag := AggregateResult{
			RuleID: r.ID, Threshold: *r.AggregateMinShare, Citation: r.Citation,
			Compliant: c[StatusCompliant], Evaluated: c[StatusCompliant] + c[StatusNonCompliant],
			InsufficientData: c[StatusInsufficientData],
		}
		switch {
		case ag.Evaluated == 0:
			ag.Status = StatusNotApplicable
			if ag.InsufficientData > 0 {
				ag.Status = StatusInsufficientData
			}
			ag.Reason = fmt.Sprintf("no settlement of the batch has a verdict on %s (%d lack data)", r.ID, ag.InsufficientData)
		default:
			share := float64(ag.Compliant) / float64(ag.Evaluated)
			ag.Share = &share
			// The settlements without data could go either way: the verdict
			// holds only if it holds whatever they turn out to be. Counts are
			// integers, so k/n ≥ t is tested as k ≥ t·n, exact at the boundary.
			n := float64(ag.Evaluated + ag.InsufficientData)
			need := ag.Threshold * n
			worst := float64(ag.Compliant)
			best := float64(ag.Compliant + ag.InsufficientData)
			switch {
			case worst >= need-tol(need):
				ag.Status = StatusCompliant
			case best < need-tol(need):
				ag.Status = StatusNonCompliant
			default:
				ag.Status = StatusInsufficientData
			}
			ag.Reason = fmt.Sprintf("%d of %d settlements with a verdict comply (%s); the required share is %s",
				ag.Compliant, ag.Evaluated, pct(share), pct(ag.Threshold))
			if ag.InsufficientData > 0 {
				ag.Reason += fmt.Sprintf("; %d more lack data", ag.InsufficientData)
				if ag.Status == StatusInsufficientData {
					ag.Reason += ", and the verdict depends on them"
				} else {
					ag.Reason += ", and the verdict holds whatever they turn out to be"
				}
			}
		}
		out = append(out, ag)
	}
	return out
}
