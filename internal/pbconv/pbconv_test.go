package pbconv_test

import (
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/civic-standards/coverage/coverage"
	"github.com/civic-standards/coverage/internal/pbconv"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// TestStatusNames: every status the API can send is one the domain counts,
// so a summary rebuilt from results loses none of them.
func TestStatusNames(t *testing.T) {
	domain := map[coverage.Status]bool{
		coverage.StatusCompliant: true, coverage.StatusNonCompliant: true, coverage.StatusNotApplicable: true,
		coverage.StatusInsufficientData: true, coverage.StatusInformational: true, coverage.StatusNotComputed: true,
	}
	for v, name := range coveragev1.Status_name {
		if v == 0 {
			continue
		}
		a := pbconv.AuditForSummary(&coveragev1.AuditResponse{Results: []*coveragev1.RuleResult{{RuleId: "R", Status: coveragev1.Status(v)}}})
		if !domain[a.Results[0].Status] {
			t.Errorf("status %s has no domain counterpart", name)
		}
		if back := pbconv.EnumValue[coveragev1.Status](coveragev1.Status_value, string(a.Results[0].Status)); back != coveragev1.Status(v) {
			t.Errorf("status %s comes back as %s", name, back)
		}
	}
}

// TestSummaryFromMessages: a summary built from the messages the server sends
// equals the one built from the domain audits themselves.
func TestSummaryFromMessages(t *testing.T) {
	catalog, err := coverage.DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	rs, err := catalog.Ruleset("jilin-2014")
	if err != nil {
		t.Fatal(err)
	}
	direct := coverage.NewBatchSummary(rs, 3)
	rebuiltRules := &coveragev1.Ruleset{Id: rs.ID, Version: rs.Version}
	for _, r := range rs.Rules {
		rebuiltRules.Rules = append(rebuiltRules.Rules, &coveragev1.Rule{Id: r.ID, AggregateMinShare: r.AggregateMinShare, Citation: pbconv.Citation(r.Citation)})
	}
	rebuilt := coverage.NewBatchSummary(pbconv.RulesetForSummary(rebuiltRules), 3)
	for i := range 40 {
		beds := int64(i * 7)
		s := &coverage.Settlement{ID: string(rune('a' + i%26)), Name: "T", Kind: coverage.KindTown,
			ResidentPopulation: coverage.Int64(int64(8000 + 900*i)), ElderlyPopulation: coverage.Int64(int64(1500 + 100*i)),
			ElderlyCareBeds: &beds, Facilities: map[coverage.FacilityType]int64{coverage.FacilityStandardKindergarten: int64(i % 3)}}
		a, err := rs.Evaluate(s)
		if err != nil {
			t.Fatal(err)
		}
		direct.Add(a)
		msg := &coveragev1.AuditResponse{SettlementId: a.SettlementID, SettlementName: a.SettlementName}
		for _, r := range a.Results {
			msg.Results = append(msg.Results, &coveragev1.RuleResult{
				RuleId: r.RuleID, Status: pbconv.EnumValue[coveragev1.Status](coveragev1.Status_value, string(r.Status)),
				Shortfall: r.Shortfall, ShortfallUnit: r.ShortfallUnit, Actions: pbconv.Actions(r.Actions),
			})
		}
		rebuilt.Add(pbconv.AuditForSummary(msg))
	}
	if a, b := pbconv.Summary(rs, direct), pbconv.Summary(rs, rebuilt); !proto.Equal(a, b) {
		t.Errorf("summaries differ:\n%v\n%v", a, b)
	}
}
