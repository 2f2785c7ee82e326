package coverage

import (
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"
)

// TestJilinActionSpecs pins the action kind of every jilin-2014 rule. The
// rules without one: the two report-only rules have no shortfall, and for
// the road class mix and the balance of compulsory education the plan names
// no quantity to build or add (the national standard it cites is not in the
// plan; balance is assessed by the education authorities), so an action
// would only restate the verdict, which the batch counts already give.
func TestJilinActionSpecs(t *testing.T) {
	want := map[string]string{
		"T18-STOP-COVERAGE-300M":       "COVER_CENTRAL_AREA",
		"T18-FLEET-PER-10K":            "ADD_BUSES",
		"T18-BUS-SPEED":                "RAISE_BUS_SPEED",
		"T18-DEPOT-AREA":               "ADD_BUS_DEPOT_AREA",
		"T18-PARKING":                  "ADD_PUBLIC_PARKING_SPACES",
		"T18-ROAD-HIERARCHY":           "",
		"T18-ITS":                      "ESTABLISH_INTELLIGENT_TRAFFIC_SYSTEM",
		"T19-ELDERLY-BEDS":             "ADD_ELDERLY_CARE_BEDS",
		"T19-COUNTY-GENERAL-HOSPITAL":  "BUILD_FACILITY",
		"T19-COUNTY-TCM-HOSPITAL":      "BUILD_FACILITY",
		"T19-MCH-HOSPITAL":             "BUILD_FACILITY",
		"T19-COMMUNITY-HEALTH-CENTRE":  "BUILD_FACILITY",
		"T19-COMMUNITY-HEALTH-STATION": "BUILD_FACILITY",
		"T19-TOWNSHIP-HEALTH-CENTRE":   "BUILD_FACILITY",
		"T19-CULTURE":                  "BUILD_FACILITY",
		"T19-KINDERGARTEN":             "BUILD_FACILITY",
		"T19-PRESCHOOL-ENROLMENT":      "ENROL_PRESCHOOL_CHILDREN",
		"T19-COMPULSORY-BALANCE":       "",
		"T19-VOCATIONAL":               "",
		"G-LAND-PER-CAPITA":            "REDUCE_CONSTRUCTION_LAND",
		"G-URBANISATION":               "",
	}
	rs := jilin(t)
	for _, r := range rs.Rules {
		kind := ""
		if r.Action != nil {
			kind = r.Action.Kind
		}
		if w, ok := want[r.ID]; !ok || kind != w {
			t.Errorf("%s: action kind %q, want %q", r.ID, kind, w)
		}
		if r.Comparison == ReportOnly && r.Action != nil {
			t.Errorf("%s: a report-only rule with an action", r.ID)
		}
	}
	if fleet := rs.Rule("T18-FLEET-PER-10K"); fleet.Action.VehicleClass != "LENGTH_10_13M" {
		t.Errorf("fleet action converts to %q, want the 10-13 m class", fleet.Action.VehicleClass)
	}
	for _, f := range FacilityTypes {
		if n := rs.facilityName(f); n == nil || n.NameZh == "" {
			t.Errorf("%s has no Chinese name in jilin-2014's facilityNames", f)
		}
	}
}

func onlyResult(t *testing.T, rs *Ruleset, s *Settlement, rule string) Result {
	t.Helper()
	a, err := rs.Evaluate(s)
	if err != nil {
		t.Fatal(err)
	}
	return findResult(t, a, rule)
}

// TestActionTexts: the planner's sentences, in both languages, for the
// examples the actions were designed from.
func TestActionTexts(t *testing.T) {
	rs := jilin(t)
	cases := []struct {
		name, rule   string
		s            *Settlement
		quantity     float64
		unit, unitZh string
		text, textZh string
	}{
		{"132 beds", "T19-ELDERLY-BEDS",
			&Settlement{Kind: KindTown, ElderlyPopulation: Int64(12_000), ElderlyCareBeds: Int64(300)},
			132, "beds", "张", "add 132 elderly-care beds", "新增养老床位132张"},
		{"a community health service centre", "T19-COMMUNITY-HEALTH-CENTRE",
			&Settlement{Kind: KindTown, ResidentPopulation: Int64(35_000), Facilities: fac(FacilityCommunityHealthCentre, 0)},
			1, "facilities", "所", "build 1 community health service centre", "新建社区卫生服务中心1所"},
		{"4,800 parking spaces", "T18-PARKING",
			&Settlement{Kind: KindCity, RegisteredVehicles: Int64(20_000), PublicParkingSpaces: Int64(200)},
			4_800, "public parking spaces", "个", "add 4,800 public parking spaces", "新增公共停车泊位4800个"},
		{"25 standard units are 20 buses of 12 m", "T18-FLEET-PER-10K",
			&Settlement{Kind: KindCity, UrbanPopulation: Int64(100_000), Fleet: units(75)},
			20, "buses", "辆", "add 25 standard units of buses, e.g. 20 × 12 m buses", "新增公共交通车辆25标台，折合12米公交车20辆"},
		{"12,345.5 m² of depot", "T18-DEPOT-AREA",
			&Settlement{Kind: KindCity, Fleet: units(100), BusDepotAreaM2: Float64(2_654.5)},
			12_346, "m² of bus depot", "平方米", "add 12,346 m² of bus depot", "新增公交停车场面积12346平方米"},
		{"2.5 km/h", "T18-BUS-SPEED",
			&Settlement{Kind: KindCity, UrbanPopulation: Int64(600_000), AverageBusSpeedKmh: Float64(17.5)},
			2.5, "km/h", "公里/小时", "raise the average bus operating speed by 2.5 km/h", "公共汽车平均运营时速提高2.5公里/小时"},
		{"1,200 children", "T19-PRESCHOOL-ENROLMENT",
			&Settlement{Kind: KindCounty, PreschoolAgePopulation: Int64(10_000), PreschoolEnrolment: Int64(6_800)},
			1_200, "children", "人", "enrol 1,200 more children in preschool", "新增学前教育在园幼儿1200人"},
		{"3.2 km² of land", "G-LAND-PER-CAPITA",
			&Settlement{Kind: KindCity, UrbanPopulation: Int64(1_000_000), UrbanConstructionLandKm2: Float64(118.2)},
			3.2, "km² of urban construction land", "平方公里",
			"reduce urban construction land by 3.2 km², or house more residents on it", "城市建设用地减少3.2平方公里，或在现有用地上容纳更多城区人口"},
		{"no intelligent traffic system", "T18-ITS",
			&Settlement{Kind: KindCity, Declared: declared(FactIntelligentTrafficSystem, false)},
			1, "systems", "套",
			"establish an intelligent traffic management system with bus priority and real-time junction signal control",
			"建立具有公交优先和路口信号实时控制等功能的智能交通管控系统"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			r := onlyResult(t, rs, c.s, c.rule)
			if r.Status != StatusNonCompliant || len(r.Actions) != 1 {
				t.Fatalf("%s with actions %+v (%s)", r.Status, r.Actions, r.Reason)
			}
			want := Action{Kind: rs.Rule(c.rule).Action.Kind, Quantity: c.quantity, Unit: c.unit, UnitZh: c.unitZh,
				Text: c.text, TextZh: c.textZh, Facility: r.Actions[0].Facility, VehicleClass: r.Actions[0].VehicleClass}
			checkActions(t, r.Actions, []Action{want})
		})
	}
}

// TestActionBuses: K standard units short become ⌈K ÷ 1.3⌉ buses of 10-13 m,
// rounded up exactly, not up to floating-point noise (13 ÷ 1.3 is
// 10.000000000000002 in floating point, and 10 buses make 13 units).
func TestActionBuses(t *testing.T) {
	rs := jilin(t)
	cases := []struct {
		units float64
		buses float64
	}{
		{13, 10}, {13.01, 11}, {0.01, 1}, {1.3, 1}, {1.31, 2}, {2.6, 2}, {25, 20}, {26, 20}, {26.01, 21}, {100, 77},
	}
	for _, c := range cases {
		t.Run(fmt.Sprint(c.units), func(t *testing.T) {
			// A SMALL city of 100,000 needs 100 standard units.
			r := onlyResult(t, rs, &Settlement{Kind: KindCity, UrbanPopulation: Int64(100_000), Fleet: units(100 - c.units)}, "T18-FLEET-PER-10K")
			if r.Shortfall == nil || !approx(*r.Shortfall, c.units) {
				t.Fatalf("shortfall %s, want %v standard units", ptrString(r.Shortfall), c.units)
			}
			if len(r.Actions) != 1 {
				t.Fatalf("actions %+v", r.Actions)
			}
			a := r.Actions[0]
			if a.Quantity != c.buses || a.Unit != "buses" || a.VehicleClass != "LENGTH_10_13M" {
				t.Errorf("action %v %s of %s, want %v buses of LENGTH_10_13M", a.Quantity, a.Unit, a.VehicleClass, c.buses)
			}
			// Both figures are in the texts: the standard units the plan
			// counts in and the buses they become.
			if !strings.Contains(a.Text, "add "+num(c.units)+" standard units") || !strings.Contains(a.Text, group(int64(c.buses))+" × 12 m buses") {
				t.Errorf("text %q", a.Text)
			}
			if !strings.Contains(a.TextZh, num(c.units)+"标台") || !strings.Contains(a.TextZh, fmt.Sprint(c.buses)+"辆") {
				t.Errorf("textZh %q", a.TextZh)
			}
		})
	}
}

// TestActionsOnlyWhenNonCompliant: a result with another status has no
// actions, whatever the rule's spec.
func TestActionsOnlyWhenNonCompliant(t *testing.T) {
	rs := jilin(t)
	for _, c := range ruleCases() {
		if c.status == StatusNonCompliant {
			continue
		}
		a, err := rs.Evaluate(c.s)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range a.Results {
			if r.Status != StatusNonCompliant && len(r.Actions) > 0 {
				t.Errorf("%s/%s: %s result with actions %+v", c.rule, c.name, r.Status, r.Actions)
			}
		}
	}
}

// TestActionsWithoutSpecs: a ruleset built in code, without specs or with a
// spec that validation would have refused, evaluates as before and gives no
// action it cannot compute.
func TestActionsWithoutSpecs(t *testing.T) {
	rs := *jilin(t)
	rs.Rules = slices.Clone(rs.Rules)
	for i := range rs.Rules {
		rs.Rules[i].Action = nil
	}
	town := &Settlement{Kind: KindTown, ElderlyPopulation: Int64(12_000), ElderlyCareBeds: Int64(300)}
	if r := onlyResult(t, &rs, town, "T19-ELDERLY-BEDS"); r.Status != StatusNonCompliant || r.Actions != nil || len(r.ShortfallItems) != 1 {
		t.Errorf("%s, actions %+v, shortfall items %+v; want non-compliant, no actions, the shortfall item", r.Status, r.Actions, r.ShortfallItems)
	}

	fleet := rs.Rule("T18-FLEET-PER-10K")
	fleet.Action = &ActionSpec{Kind: "ADD_BUSES", Unit: "buses", UnitZh: "辆", VehicleClass: "NO_SUCH_CLASS", Text: "add {quantity}", TextZh: "{quantity}"}
	city := &Settlement{Kind: KindCity, UrbanPopulation: Int64(100_000), Fleet: units(50)}
	if r := onlyResult(t, &rs, city, "T18-FLEET-PER-10K"); r.Status != StatusNonCompliant || r.Actions != nil {
		t.Errorf("%s, actions %+v; want non-compliant without an action for an unknown vehicle class", r.Status, r.Actions)
	}

	// Placeholders: {unit} is the unit of the text's language; one with no
	// value for the rule stays as written.
	beds := rs.Rule("T19-ELDERLY-BEDS")
	beds.Action = &ActionSpec{Kind: "ADD_BEDS", Unit: "beds", UnitZh: "张", Text: "add {quantity} {unit} {facility} {bogus", TextZh: "新增{quantity}{unit}{share}"}
	r := onlyResult(t, &rs, town, "T19-ELDERLY-BEDS")
	if len(r.Actions) != 1 || r.Actions[0].Text != "add 132 beds {facility} {bogus" || r.Actions[0].TextZh != "新增132张{share}" {
		t.Errorf("actions %+v", r.Actions)
	}
}

// TestActionCoveragePlaceholders: the coverage rule's texts may name the
// share of the central area and the radius beside the km².
func TestActionCoveragePlaceholders(t *testing.T) {
	rs := *jilin(t)
	rs.Rules = slices.Clone(rs.Rules)
	spec := *rs.Rule("T18-STOP-COVERAGE-300M").Action
	spec.Text = "bring {share} of the central area ({quantity} {unit}) within {radiusM} m of a stop"
	spec.TextZh = "中心城区{radiusM}米覆盖率提高{share}（{quantity}{unit}）"
	rs.Rule("T18-STOP-COVERAGE-300M").Action = &spec
	if _, err := ParseRuleset("coverage-placeholders.json", mustJSON(t, &rs)); err != nil {
		t.Fatalf("the spec does not validate: %v", err)
	}
	// 700,000 urban residents: MEDIUM, 70%; the square is wholly uncovered.
	r := onlyResult(t, &rs, &Settlement{Kind: KindCity, UrbanPopulation: Int64(700_000), CentralArea: smallSquare(), BusStops: stopFarAway()}, "T18-STOP-COVERAGE-300M")
	if len(r.Actions) != 1 {
		t.Fatalf("actions %+v", r.Actions)
	}
	q := num(r.Actions[0].Quantity)
	if a := r.Actions[0]; a.Text != "bring 70.00% of the central area ("+q+" km²) within 300 m of a stop" ||
		a.TextZh != "中心城区300米覆盖率提高70.00%（"+q+"平方公里）" {
		t.Errorf("texts %q / %q", a.Text, a.TextZh)
	}
}

func mustJSON(t *testing.T, v any) []byte {
	t.Helper()
	data, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return data
}
