package coverage

import (
	"slices"
	"testing"
)

// TestResultNotesAreTheirOwn: each result's notes begin with its rule's,
// whatever the results before it appended to theirs, and changing a
// result's notes changes neither the ruleset nor another result (they are
// copies that share one array per audit).
func TestResultNotesAreTheirOwn(t *testing.T) {
	rs := jilin(t)
	want := map[string][]string{}
	for _, r := range rs.Rules {
		want[r.ID] = slices.Clone(r.Notes)
	}
	for i, s := range benchSettlements(200) {
		a, err := rs.Evaluate(s)
		if err != nil {
			t.Fatalf("settlement %d: %v", i, err)
		}
		for j := range a.Results {
			res := &a.Results[j]
			if rule := want[res.RuleID]; len(res.Notes) < len(rule) || !slices.Equal(res.Notes[:len(rule)], rule) {
				t.Fatalf("settlement %d, %s: notes %q do not begin with the rule's %q", i, res.RuleID, res.Notes, rule)
			}
		}
		for j := range a.Results {
			for k := range a.Results[j].Notes {
				a.Results[j].Notes[k] = "scribbled"
			}
			a.Results[j].Notes = append(a.Results[j].Notes, "appended")
		}
		for _, r := range rs.Rules {
			if !slices.Equal(r.Notes, want[r.ID]) {
				t.Fatalf("changing an audit's notes changed rule %s's: %q", r.ID, r.Notes)
			}
		}
		for j := range a.Results {
			n := a.Results[j].Notes
			if n[len(n)-1] != "appended" || slices.ContainsFunc(n, func(s string) bool { return s != "scribbled" && s != "appended" }) {
				t.Fatalf("%s: notes %q: another result's change reached them", a.Results[j].RuleID, n)
			}
		}
	}
}
