package coverage

import (
	"fmt"
	"testing"
)

func townWithKindergartens(t *testing.T, rs *Ruleset, id string, n *int64) *Audit {
	t.Helper()
	s := &Settlement{ID: id, Kind: KindTown, Facilities: map[FacilityType]int64{}}
	if n != nil {
		s.Facilities[FacilityStandardKindergarten] = *n
	}
	a, err := rs.Evaluate(s, TopicEducation)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func countyBalanced(t *testing.T, rs *Ruleset, id string, balanced *bool) *Audit {
	t.Helper()
	s := &Settlement{ID: id, Kind: KindCounty, Declared: map[DeclaredFact]bool{}}
	if balanced != nil {
		s.Declared[FactCompulsoryEducationBalance] = *balanced
	}
	a, err := rs.Evaluate(s, TopicEducation)
	if err != nil {
		t.Fatal(err)
	}
	return a
}

func aggregate(t *testing.T, b *BatchSummary, rule string) AggregateResult {
	t.Helper()
	for _, ag := range b.Aggregates() {
		if ag.RuleID == rule {
			return ag
		}
	}
	t.Fatalf("no aggregate result for %s", rule)
	return AggregateResult{}
}

// TestBatchAggregates holds the rules defined over a batch to their
// boundaries: ≥ 80% of towns with a standard kindergarten (以上 includes
// 80%), and 100% of counties in balance.
func TestBatchAggregates(t *testing.T) {
	rs := jilin(t)
	one, zero := int64(1), int64(0)
	yes, no := true, false
	cases := []struct {
		name      string
		rule      string
		with      int // settlements that comply
		without   int // settlements that do not
		unknown   int // settlements without the input
		status    Status
		share     *float64
		evaluated int
	}{
		{"exactly 80% of towns", "T19-KINDERGARTEN", 8, 2, 0, StatusCompliant, Float64(0.8), 10},
		{"just under 80% of towns", "T19-KINDERGARTEN", 79, 21, 0, StatusNonCompliant, Float64(0.79), 100},
		{"all towns", "T19-KINDERGARTEN", 5, 0, 0, StatusCompliant, Float64(1), 5},
		{"80% even if the unknown towns all fail", "T19-KINDERGARTEN", 8, 1, 1, StatusCompliant, Float64(8.0 / 9), 9},
		{"the unknown towns decide", "T19-KINDERGARTEN", 7, 1, 2, StatusInsufficientData, Float64(7.0 / 8), 8},
		{"below 80% even if the unknown towns all pass", "T19-KINDERGARTEN", 5, 4, 1, StatusNonCompliant, Float64(5.0 / 9), 9},
		{"no town has data", "T19-KINDERGARTEN", 0, 0, 3, StatusInsufficientData, nil, 0},
		{"every county in balance", "T19-COMPULSORY-BALANCE", 12, 0, 0, StatusCompliant, Float64(1), 12},
		{"one county short of 100%", "T19-COMPULSORY-BALANCE", 11, 1, 0, StatusNonCompliant, Float64(11.0 / 12), 12},
		{"one county unknown", "T19-COMPULSORY-BALANCE", 11, 0, 1, StatusInsufficientData, Float64(1), 11},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			b := NewBatchSummary(rs, 3)
			for i := range c.with + c.without + c.unknown {
				id := fmt.Sprint(i)
				var a *Audit
				switch {
				case c.rule == "T19-KINDERGARTEN" && i < c.with:
					a = townWithKindergartens(t, rs, id, &one)
				case c.rule == "T19-KINDERGARTEN" && i < c.with+c.without:
					a = townWithKindergartens(t, rs, id, &zero)
				case c.rule == "T19-KINDERGARTEN":
					a = townWithKindergartens(t, rs, id, nil)
				case i < c.with:
					a = countyBalanced(t, rs, id, &yes)
				case i < c.with+c.without:
					a = countyBalanced(t, rs, id, &no)
				default:
					a = countyBalanced(t, rs, id, nil)
				}
				b.Add(a)
			}
			ag := aggregate(t, b, c.rule)
			if ag.Status != c.status || ag.Evaluated != c.evaluated || ag.InsufficientData != c.unknown {
				t.Errorf("status %s, evaluated %d, unknown %d; want %s, %d, %d (%s)", ag.Status, ag.Evaluated, ag.InsufficientData, c.status, c.evaluated, c.unknown, ag.Reason)
			}
			switch {
			case c.share == nil && ag.Share != nil:
				t.Errorf("share %v, want none", *ag.Share)
			case c.share != nil && (ag.Share == nil || *ag.Share != *c.share):
				t.Errorf("share %v, want %v", ag.Share, *c.share)
			}
			if ag.Citation.OriginalText == "" {
				t.Error("aggregate result without its citation")
			}
		})
	}
}

// TestBatchSummaryCountsAndFurthest: counts by status per rule, and the
// settlements furthest from compliance, largest shortfall first, bounded.
func TestBatchSummaryCountsAndFurthest(t *testing.T) {
	rs := jilin(t)
	b := NewBatchSummary(rs, 2)
	beds := []int64{300, 100, 432, 200} // 12,000 aged 60+ need 432
	for i, n := range beds {
		a, err := rs.Evaluate(&Settlement{ID: fmt.Sprint("t", i), Kind: KindTown, ElderlyPopulation: Int64(12_000), ElderlyCareBeds: Int64(n)}, TopicElderlyCare)
		if err != nil {
			t.Fatal(err)
		}
		b.Add(a)
	}
	b.AddRejected()
	total, audited, rejected := b.Totals()
	if total != 5 || audited != 4 || rejected != 1 {
		t.Errorf("totals %d %d %d, want 5 4 1", total, audited, rejected)
	}
	var elderly RuleSummary
	for _, r := range b.Rules() {
		if r.RuleID == "T19-ELDERLY-BEDS" {
			elderly = r
		}
	}
	if elderly.Counts[StatusNonCompliant] != 3 || elderly.Counts[StatusCompliant] != 1 {
		t.Errorf("counts %v", elderly.Counts)
	}
	if len(elderly.Furthest) != 2 || elderly.Furthest[0].SettlementID != "t1" || elderly.Furthest[0].Shortfall != 332 ||
		elderly.Furthest[1].SettlementID != "t3" || elderly.Furthest[1].Shortfall != 232 || elderly.Furthest[0].ShortfallUnit != "beds" {
		t.Errorf("furthest %+v, want t1 (332 beds) then t3 (232 beds)", elderly.Furthest)
	}
	if len(b.Rules()) != len(rs.Rules) {
		t.Errorf("%d rule summaries, want %d", len(b.Rules()), len(rs.Rules))
	}
}
