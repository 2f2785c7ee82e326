package coverage

import (
	"cmp"
	"fmt"
	"math"
	"slices"
	"sort"
)

// BatchSummary accumulates the audits of a batch of settlements: counts by
// status per rule, the settlements furthest from compliance per rule, and the
// rules defined over the batch as a whole (for example ≥ 80% of small towns
// run a standard kindergarten), and the actions of the non-compliant results
// totalled by kind. Its memory does not grow with the batch: it keeps counts,
// per rule only the furthest few, and one total per kind of action.
type BatchSummary struct {
	rs       *Ruleset
	keep     int
	total    int
	audited  int
	rejected int
	rules    map[string]*RuleSummary
	order    []string
	// sums are the rules' summaries in ruleset order, and pos the position
	// of each rule ID in it.
	sums    []*RuleSummary
	pos     map[string]int
	actions actionTotals
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
	b.pos = make(map[string]int, len(b.order))
	for i, id := range b.order {
		b.sums = append(b.sums, b.rules[id])
		if _, dup := b.pos[id]; !dup {
			b.pos[id] = i
		}
	}
	b.actions.init(len(b.order))
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
	next := 0
	for i := range a.Results {
		r := &a.Results[i]
		// Results come in ruleset order, so the next rule is nearly always
		// the result's: a string comparison instead of a map lookup.
		pos := next
		if pos >= len(b.order) || b.order[pos] != r.RuleID {
			var ok bool
			if pos, ok = b.pos[r.RuleID]; !ok {
				continue
			}
		}
		next = pos + 1
		rsum := b.sums[pos]
		rsum.Counts[r.Status]++
		if r.Status == StatusNonCompliant {
			for j := range r.Actions {
				b.actions.add(pos, b.audited, &r.Actions[j])
			}
		}
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
	out := make([]RuleSummary, 0, len(b.sums))
	for _, s := range b.sums {
		out = append(out, *s)
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

// ActionTotal is one kind of action summed over a batch.
type ActionTotal struct {
	Kind         string
	Unit         string
	UnitZh       string
	Facility     FacilityType
	VehicleClass string
	Quantity     float64
	Settlements  int64    // settlements that need it
	Rules        []string // rule IDs that contributed, in ruleset order
}

// Actions returns the actions of the batch's non-compliant results, totalled
// by kind, unit, facility type and vehicle class, in an order that does not
// depend on the order the audits were added in: by the first rule of the
// ruleset that contributed, then by facility type in FacilityTypes order.
func (b *BatchSummary) Actions() []ActionTotal {
	t := &b.actions
	out := make([]ActionTotal, len(t.slots))
	idx := make([]int, len(t.slots))
	for i := range idx {
		idx[i] = i
	}
	slices.SortFunc(idx, func(i, j int) int {
		x, y := &t.slots[i], &t.slots[j]
		return cmp.Or(
			cmp.Compare(x.firstRule, y.firstRule),
			cmp.Compare(facilityRank(x.key.facility), facilityRank(y.key.facility)),
			cmp.Compare(x.key.kind, y.key.kind),
			cmp.Compare(x.key.unit, y.key.unit),
			cmp.Compare(x.key.unitZh, y.key.unitZh),
			cmp.Compare(x.key.facility, y.key.facility),
			cmp.Compare(x.key.vehicleClass, y.key.vehicleClass),
		)
	})
	for n, i := range idx {
		s := &t.slots[i]
		var rules []string
		for pos, id := range b.order {
			if s.rules[pos/64]&(1<<(pos%64)) != 0 {
				rules = append(rules, id)
			}
		}
		out[n] = ActionTotal{
			Kind: s.key.kind, Unit: s.key.unit, UnitZh: s.key.unitZh,
			Facility: s.key.facility, VehicleClass: s.key.vehicleClass,
			Quantity: s.sum + s.comp, Settlements: s.settlements, Rules: rules,
		}
	}
	return out
}

// facilityRank orders facility types as FacilityTypes lists them, after
// actions without one and before types this version does not know.
func facilityRank(f FacilityType) int {
	if f == "" {
		return -1
	}
	if i := slices.Index(FacilityTypes, f); i >= 0 {
		return i
	}
	return len(FacilityTypes)
}

// actionTotals sums actions by kind, units, facility type and vehicle class.
// The totals come from the actions the results carry, not from the
// ruleset's specs, so that a summary rebuilt from results sent over the wire,
// against a ruleset without its specs, totals the same.
type actionTotals struct {
	slots []actionSlot
	byKey map[actionKey]int
	// ofRule lists, per rule position, the slots its actions went to: a rule
	// has one kind of action (one per facility type for facility rules), so
	// a short scan with string comparisons finds the slot without hashing.
	ofRule [][]int
	words  int // bitset words per slot, one bit per rule position
}

type actionKey struct {
	kind, unit, unitZh string
	facility           FacilityType
	vehicleClass       string
}

type actionSlot struct {
	key       actionKey
	sum, comp float64 // Neumaier-compensated sum, so the total hardly depends on the order of the audits
	// settlements counts the audits that needed the action; lastAudit is
	// the last of them, so that two rules of one audit count it once.
	settlements int64
	lastAudit   int
	firstRule   int
	rules       []uint64
}

func (t *actionTotals) init(rules int) {
	t.byKey = map[actionKey]int{}
	t.ofRule = make([][]int, rules)
	t.words = (rules + 63) / 64
}

// add adds an action of the rule at pos to the totals, for the audit numbered audit.
func (t *actionTotals) add(pos, audit int, a *Action) {
	k := -1
	for _, i := range t.ofRule[pos] {
		s := &t.slots[i].key
		if s.facility == a.Facility && s.kind == a.Kind && s.unit == a.Unit && s.unitZh == a.UnitZh && s.vehicleClass == a.VehicleClass {
			k = i
			break
		}
	}
	if k < 0 {
		k = t.slot(pos, actionKey{kind: a.Kind, unit: a.Unit, unitZh: a.UnitZh, facility: a.Facility, vehicleClass: a.VehicleClass})
	}
	s := &t.slots[k]
	x := a.Quantity
	sum := s.sum + x
	if math.Abs(s.sum) >= math.Abs(x) {
		s.comp += (s.sum - sum) + x
	} else {
		s.comp += (x - sum) + s.sum
	}
	s.sum = sum
	if s.lastAudit != audit {
		s.lastAudit = audit
		s.settlements++
	}
}

// slot finds or makes the slot of key and records that the rule at pos uses it.
func (t *actionTotals) slot(pos int, key actionKey) int {
	k, ok := t.byKey[key]
	if !ok {
		k = len(t.slots)
		t.slots = append(t.slots, actionSlot{key: key, firstRule: pos, rules: make([]uint64, t.words)})
		t.byKey[key] = k
	}
	s := &t.slots[k]
	s.firstRule = min(s.firstRule, pos)
	s.rules[pos/64] |= 1 << (pos % 64)
	t.ofRule[pos] = append(t.ofRule[pos], k)
	return k
}
