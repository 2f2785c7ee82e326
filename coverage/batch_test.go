package coverage

import (
	"fmt"
	"reflect"
	"slices"
	"strings"
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

// actionAudits is a small batch with actions of several kinds: towns short of
// beds and facilities, regional central cities short of buses, parking and
// culture, and settlements without actions (compliant, without data).
func actionAudits(t *testing.T, rs *Ruleset) []*Audit {
	t.Helper()
	town := func(id string, beds int64, kindergartens, township int) *Settlement {
		return &Settlement{ID: id, Kind: KindTown, ElderlyPopulation: Int64(12_000), ElderlyCareBeds: Int64(beds),
			Facilities: fac(FacilityStandardKindergarten, kindergartens, FacilityTownshipHealthCentre, township)}
	}
	city := func(id string, units float64, spaces int64, library, museum, mch int) *Settlement {
		return &Settlement{ID: id, Kind: KindCity, RegionalCentralCity: Bool(true),
			UrbanPopulation: Int64(100_000), Fleet: &Fleet{StandardUnits: Float64(units)},
			RegisteredVehicles: Int64(20_000), PublicParkingSpaces: Int64(spaces),
			Facilities: fac(FacilityLibrary, library, FacilityCulturalCentre, 1, FacilityMuseum, museum, FacilityMaternalChildHealthHosp, mch)}
	}
	var out []*Audit
	for _, s := range []*Settlement{
		town("t0", 300, 0, 0),        // 132 beds, a kindergarten, a township health centre
		town("t1", 431, 1, 0),        // 1 bed, a township health centre
		town("t2", 432, 0, 1),        // a kindergarten
		{ID: "t3", Kind: KindTown},   // no data: no actions
		city("c0", 87, 200, 0, 0, 0), // 13 units = 10 buses, 4,800 spaces, a library, a museum, an MCH hospital
		city("c1", 86.99, 5_000, 1, 0, 1),
	} {
		a, err := rs.Evaluate(s)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, a)
	}
	return out
}

// TestBatchSummaryActions: actions totalled by kind and facility type, with
// the settlements that need them and the rules they come from, in ruleset
// order and then facility order.
func TestBatchSummaryActions(t *testing.T) {
	rs := jilin(t)
	b := NewBatchSummary(rs, 3)
	if got := b.Actions(); len(got) != 0 {
		t.Errorf("empty batch: actions %+v", got)
	}
	for _, a := range actionAudits(t, rs) {
		b.Add(a)
	}
	b.AddRejected()
	build := func(f FacilityType, unitZh string, q float64, n int64, rule string) ActionTotal {
		return ActionTotal{Kind: "BUILD_FACILITY", Unit: "facilities", UnitZh: unitZh, Facility: f, Quantity: q, Settlements: n, Rules: []string{rule}}
	}
	want := []ActionTotal{
		{Kind: "ADD_BUSES", Unit: "buses", UnitZh: "辆", VehicleClass: "LENGTH_10_13M", Quantity: 21, Settlements: 2, Rules: []string{"T18-FLEET-PER-10K"}},
		{Kind: "ADD_PUBLIC_PARKING_SPACES", Unit: "public parking spaces", UnitZh: "个", Quantity: 4_800, Settlements: 1, Rules: []string{"T18-PARKING"}},
		{Kind: "ADD_ELDERLY_CARE_BEDS", Unit: "beds", UnitZh: "张", Quantity: 133, Settlements: 2, Rules: []string{"T19-ELDERLY-BEDS"}},
		build(FacilityMaternalChildHealthHosp, "所", 1, 1, "T19-MCH-HOSPITAL"),
		build(FacilityTownshipHealthCentre, "所", 2, 2, "T19-TOWNSHIP-HEALTH-CENTRE"),
		build(FacilityLibrary, "座", 1, 1, "T19-CULTURE"),
		build(FacilityMuseum, "座", 2, 2, "T19-CULTURE"),
		build(FacilityStandardKindergarten, "所", 2, 2, "T19-KINDERGARTEN"),
	}
	if got := b.Actions(); !reflect.DeepEqual(got, want) {
		t.Errorf("actions:\n%s\nwant:\n%s", totalsString(got), totalsString(want))
	}
}

func totalsString(ts []ActionTotal) string {
	var b strings.Builder
	for _, t := range ts {
		fmt.Fprintf(&b, "  %+v\n", t)
	}
	return b.String()
}

// TestBatchSummaryActionsDeterministic: the totals and their order do not
// depend on the order the audits come in (a batch spread over servers
// finishes in any order), nor on whether the summary is kept against the
// full ruleset or against one rebuilt from the results sent over the wire,
// which has the rule IDs but not the action specs.
func TestBatchSummaryActionsDeterministic(t *testing.T) {
	rs := jilin(t)
	audits := actionAudits(t, rs)
	summarise := func(rs *Ruleset, order []int, strip bool) []ActionTotal {
		b := NewBatchSummary(rs, 3)
		for _, i := range order {
			a := audits[i]
			if strip {
				// What a client rebuilds from the wire: statuses,
				// shortfalls and actions.
				slim := &Audit{SettlementID: a.SettlementID}
				for _, r := range a.Results {
					slim.Results = append(slim.Results, Result{RuleID: r.RuleID, Status: r.Status, Shortfall: r.Shortfall, ShortfallUnit: r.ShortfallUnit, Actions: r.Actions})
				}
				a = slim
			}
			b.Add(a)
		}
		return b.Actions()
	}
	inOrder := []int{0, 1, 2, 3, 4, 5}
	want := summarise(rs, inOrder, false)
	bare := &Ruleset{ID: rs.ID, Version: rs.Version}
	for _, r := range rs.Rules {
		bare.Rules = append(bare.Rules, Rule{ID: r.ID})
	}
	for _, c := range []struct {
		name  string
		rs    *Ruleset
		order []int
		strip bool
	}{
		{"reversed", rs, []int{5, 4, 3, 2, 1, 0}, false},
		{"cities first", rs, []int{4, 5, 0, 1, 2, 3}, false},
		{"interleaved", rs, []int{2, 5, 1, 4, 0, 3}, false},
		{"rebuilt from the wire", bare, inOrder, true},
		{"rebuilt, reversed", bare, []int{5, 4, 3, 2, 1, 0}, true},
	} {
		if got := summarise(c.rs, c.order, c.strip); !reflect.DeepEqual(got, want) {
			t.Errorf("%s:\n%s\nwant:\n%s", c.name, totalsString(got), totalsString(want))
		}
	}
}

// TestBatchSummaryActionsAcrossRules: two rules with one kind of action make
// one total; a settlement short on both is one settlement that needs it, and
// both rules are named, in ruleset order.
func TestBatchSummaryActionsAcrossRules(t *testing.T) {
	rs := *jilin(t)
	i := slices.IndexFunc(rs.Rules, func(r Rule) bool { return r.ID == "T19-ELDERLY-BEDS" })
	stricter := rs.Rules[i]
	stricter.ID = "T19-ELDERLY-BEDS-40"
	stricter.Thresholds = []Threshold{{Value: 40}}
	// Inserted before the original, so that the order of the rules is not
	// the order in which the totals first meet them.
	rs.Rules = slices.Insert(slices.Clone(rs.Rules), i, stricter)
	b := NewBatchSummary(&rs, 3)
	for id, beds := range map[string]int64{"a": 450, "b": 300, "c": 500} {
		// 12,000 aged 60+ need 432 beds at 36 and 480 at 40.
		a, err := rs.Evaluate(&Settlement{ID: id, Kind: KindTown, ElderlyPopulation: Int64(12_000), ElderlyCareBeds: Int64(beds)}, TopicElderlyCare)
		if err != nil {
			t.Fatal(err)
		}
		b.Add(a)
	}
	want := []ActionTotal{{Kind: "ADD_ELDERLY_CARE_BEDS", Unit: "beds", UnitZh: "张", Quantity: 30 + 180 + 132, Settlements: 2,
		Rules: []string{"T19-ELDERLY-BEDS-40", "T19-ELDERLY-BEDS"}}}
	if got := b.Actions(); !reflect.DeepEqual(got, want) {
		t.Errorf("actions:\n%s\nwant:\n%s", totalsString(got), totalsString(want))
	}
}

// TestBatchSummaryActionsOnlyNonCompliant: actions are counted from
// non-compliant results only, and from rules of the summary's ruleset only.
func TestBatchSummaryActionsOnlyNonCompliant(t *testing.T) {
	rs := jilin(t)
	b := NewBatchSummary(rs, 3)
	act := []Action{{Kind: "ADD_ELDERLY_CARE_BEDS", Quantity: 5, Unit: "beds", UnitZh: "张"}}
	b.Add(&Audit{SettlementID: "x", Results: []Result{
		{RuleID: "T19-ELDERLY-BEDS", Status: StatusCompliant, Actions: act},
		{RuleID: "T19-ELDERLY-BEDS", Status: StatusInsufficientData, Actions: act},
		{RuleID: "NOT-IN-THE-RULESET", Status: StatusNonCompliant, Actions: act},
	}})
	if got := b.Actions(); len(got) != 0 {
		t.Errorf("actions %+v, want none", got)
	}
}
