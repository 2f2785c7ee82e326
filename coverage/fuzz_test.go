package coverage

import (
	"bytes"
	"encoding/json"
	"math"
	"strings"
	"testing"
)

var allStatuses = map[Status]bool{
	StatusCompliant: true, StatusNonCompliant: true, StatusNotApplicable: true,
	StatusInsufficientData: true, StatusInformational: true, StatusNotComputed: true,
}

// checkAudit asserts what holds for every evaluation: one result per rule in
// ruleset order, known statuses, consistent counts.
func checkAudit(t *testing.T, rs *Ruleset, a *Audit) {
	t.Helper()
	if a == nil {
		t.Fatal("nil audit without an error")
	}
	if len(a.Results) != len(rs.Rules) {
		t.Fatalf("%d results for %d rules", len(a.Results), len(rs.Rules))
	}
	counts := map[Status]int{}
	for i, r := range a.Results {
		if r.RuleID != rs.Rules[i].ID {
			t.Errorf("results[%d] is %q, want %q", i, r.RuleID, rs.Rules[i].ID)
		}
		if !allStatuses[r.Status] {
			t.Errorf("%s: unknown status %q", r.RuleID, r.Status)
		}
		counts[r.Status]++
	}
	for st, n := range counts {
		if a.Counts[st] != n {
			t.Errorf("counts[%s] = %d, want %d", st, a.Counts[st], n)
		}
	}
	if len(a.Counts) != len(counts) {
		t.Errorf("counts = %v, want %v", a.Counts, counts)
	}
}

// checkInvariants asserts what every result must carry, whatever the input.
func checkInvariants(t *testing.T, rs *Ruleset, a *Audit) {
	t.Helper()
	checkAudit(t, rs, a)
	finite := func(p *float64) bool { return p == nil || !(math.IsNaN(*p) || math.IsInf(*p, 0)) }
	for i, r := range a.Results {
		rule := &rs.Rules[i]
		if r.Reason == "" {
			t.Errorf("%s: no reason", r.RuleID)
		}
		// Every measured value is a ratio, count, speed or area of
		// non-negative inputs.
		if r.Value != nil && (!finite(r.Value) || *r.Value < 0) {
			t.Errorf("%s: value %v", r.RuleID, *r.Value)
		}
		if !finite(r.Threshold) {
			t.Errorf("%s: threshold %v", r.RuleID, *r.Threshold)
		}
		switch r.Status {
		case StatusNonCompliant:
			if rule.Metric == MetricDeclaredFact {
				// A declared "no" has no quantity to make up.
				if r.Value == nil || *r.Value != 0 || r.Shortfall != nil {
					t.Errorf("%s: declared no with value %s, shortfall %s", r.RuleID, ptrString(r.Value), ptrString(r.Shortfall))
				}
				break
			}
			if r.Shortfall == nil || !(*r.Shortfall > 0) || !finite(r.Shortfall) {
				t.Errorf("%s: non-compliant with shortfall %s (value %s)", r.RuleID, ptrString(r.Shortfall), ptrString(r.Value))
				break
			}
			sum := 0.0
			for _, it := range r.ShortfallItems {
				if !(it.Quantity > 0) || !finite(&it.Quantity) || it.Unit == "" || it.Action == "" {
					t.Errorf("%s: shortfall item %+v", r.RuleID, it)
				}
				sum += it.Quantity
			}
			switch {
			case len(r.ShortfallItems) == 0:
				t.Errorf("%s: shortfall %v without items", r.RuleID, *r.Shortfall)
			case rule.Metric == MetricFacilityCount:
				// One item per missing facility type, adding up to the shortfall.
				if !approx(sum, *r.Shortfall) {
					t.Errorf("%s: shortfall %v but items %+v", r.RuleID, *r.Shortfall, r.ShortfallItems)
				}
			default:
				// The first item is the shortfall itself; others restate it in another unit.
				if it := r.ShortfallItems[0]; !approx(it.Quantity, *r.Shortfall) || it.Unit != r.ShortfallUnit {
					t.Errorf("%s: shortfall %v %q but first item %+v", r.RuleID, *r.Shortfall, r.ShortfallUnit, it)
				}
			}
		case StatusCompliant:
			if r.Shortfall != nil || len(r.ShortfallItems) != 0 {
				t.Errorf("%s: compliant with shortfall %s, items %+v", r.RuleID, ptrString(r.Shortfall), r.ShortfallItems)
			}
			if r.Value == nil {
				t.Errorf("%s: compliant without a value", r.RuleID)
			}
		case StatusInsufficientData:
			if len(r.MissingFields) == 0 {
				t.Errorf("%s: insufficient data without missing fields", r.RuleID)
			}
			for _, m := range r.MissingFields {
				if !strings.HasPrefix(m, "settlement.") {
					t.Errorf("%s: missing field %q", r.RuleID, m)
				}
			}
			if r.Value != nil || r.Shortfall != nil {
				t.Errorf("%s: insufficient data with value %s, shortfall %s", r.RuleID, ptrString(r.Value), ptrString(r.Shortfall))
			}
		case StatusInformational:
			if r.Value == nil || r.Shortfall != nil {
				t.Errorf("%s: informational with value %s, shortfall %s", r.RuleID, ptrString(r.Value), ptrString(r.Shortfall))
			}
		case StatusNotApplicable, StatusNotComputed:
			if r.Value != nil || r.Shortfall != nil {
				t.Errorf("%s: %s with value %s, shortfall %s", r.RuleID, r.Status, ptrString(r.Value), ptrString(r.Shortfall))
			}
		}
		if r.Status != StatusInsufficientData && len(r.MissingFields) != 0 {
			t.Errorf("%s: %s names missing fields %q", r.RuleID, r.Status, r.MissingFields)
		}
		checkActionInvariants(t, rs, rule, r)
	}
}

// checkActionInvariants: a non-compliant result of a rule with an action
// spec has its actions (one per missing facility type on facility rules),
// each a positive, finite quantity with its texts filled in; other results
// have none.
func checkActionInvariants(t *testing.T, rs *Ruleset, rule *Rule, r Result) {
	t.Helper()
	if r.Status != StatusNonCompliant || rule.Action == nil {
		if len(r.Actions) != 0 {
			t.Errorf("%s: %s result with actions %+v", r.RuleID, r.Status, r.Actions)
		}
		return
	}
	want := 1
	if rule.Metric == MetricFacilityCount {
		want = len(r.ShortfallItems)
	}
	if len(r.Actions) != want {
		t.Fatalf("%s: %d actions %+v, want %d", r.RuleID, len(r.Actions), r.Actions, want)
	}
	for i, a := range r.Actions {
		if a.Kind != rule.Action.Kind || a.Unit != rule.Action.Unit || !(a.Quantity > 0) || math.IsInf(a.Quantity, 0) ||
			a.Text == "" || a.TextZh == "" || strings.ContainsAny(a.Text+a.TextZh, "{}") {
			t.Errorf("%s: action %+v", r.RuleID, a)
		}
		switch rule.Metric {
		case MetricFacilityCount:
			if it := r.ShortfallItems[i]; a.Facility != it.Facility || a.Quantity != it.Quantity {
				t.Errorf("%s: action %+v for shortfall item %+v", r.RuleID, a, it)
			}
		case MetricFleetUnitsPer10K:
			c := rs.vehicleClassByID(rule.Action.VehicleClass)
			if c == nil {
				if a.Quantity != *r.Shortfall {
					t.Errorf("%s: action quantity %v, shortfall %v standard units", r.RuleID, a.Quantity, *r.Shortfall)
				}
				break
			}
			// The fewest vehicles of the class that make up the shortfall.
			k := c.Coefficient
			if a.Quantity != math.Trunc(a.Quantity) || a.Quantity*k < *r.Shortfall*(1-1e-9) || (a.Quantity-1)*k >= *r.Shortfall {
				t.Errorf("%s: %v vehicles of %v standard units for a shortfall of %v standard units", r.RuleID, a.Quantity, k, *r.Shortfall)
			}
		case MetricStopCoverageShare, MetricDeclaredFact:
		default:
			if a.Quantity != *r.Shortfall {
				t.Errorf("%s: action quantity %v, shortfall %v", r.RuleID, a.Quantity, *r.Shortfall)
			}
		}
	}
}

// checkInvalid asserts err is a CodeInvalid *Error with violations.
func checkInvalid(t *testing.T, a *Audit, err error) {
	t.Helper()
	e := AsError(err)
	if e.Code != CodeInvalid || len(e.Violations) == 0 {
		t.Fatalf("error %v (code %v), want CodeInvalid with violations", err, e.Code)
	}
	for _, v := range e.Violations {
		if !strings.HasPrefix(v.Field, "settlement") || v.Reason == "" {
			t.Errorf("violation %+v", v)
		}
	}
	if a != nil {
		t.Errorf("audit returned with an error")
	}
}

// fuzzKinds maps a fuzzed byte to a kind, including absent, unspecified and unknown.
var fuzzKinds = []Kind{"", KindUnspecified, KindCity, KindCounty, KindCountyLevelCity, KindTown, KindDistrict, "SETTLEMENT_KIND_BOGUS"}

// Bits of FuzzEvaluate's present mask: which inputs the settlement gives.
const (
	hasUrban = 1 << iota
	hasResident
	hasElderly
	hasBeds
	hasVehicles
	hasSpaces
	hasSpeed
	hasDepot
	hasLand
	hasFleetUnits
	hasFleetList
	hasFacilities
	hasDeclared
	hasPreschool
	hasIntake
	hasUrbanised
	hasGeometry
	hasAll = 1<<iota - 1
)

func FuzzEvaluate(f *testing.F) {
	rs := jilin(f)
	type seed struct {
		present                                              uint32
		kind, flags                                          uint8
		urban, resident, elderly, beds, vehicles, spaces, nf int64
		speed, depot, land, units, length                    float64
	}
	seeds := []seed{
		{hasAll &^ hasFleetList, 2, 3, 2_000_000, 3_000_000, 400_000, 14_400, 800_000, 200_000, 3, 15, 150_000, 230, 3000, 12},
		{hasAll &^ hasFleetUnits, 2, 1, 2_000_000, 3_000_000, 400_000, 100, 800_000, 10, 0, 14.5, 10, 300, 0, 18.5},
		{hasAll &^ hasFleetList, 4, 0, 499_999, 600_000, 90_000, 0, 0, 0, 1, 25, 0, 57.5, 500, 5},
		{hasElderly | hasBeds, 5, 0, 0, 0, 12_000, 300, 0, 0, 0, 0, 0, 0, 0, 0},
		{hasElderly | hasBeds, 5, 0, 0, 0, 12_345, 444, 0, 0, 0, 0, 0, 0, 0, 0},
		{hasResident | hasFacilities, 5, 0, 0, 250_000, 0, 0, 0, 0, 2, 0, 0, 0, 0, 0},
		{hasResident | hasFacilities, 5, 0, 0, 35_000, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		{hasResident | hasFacilities, 5, 0, 0, 20_000, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0},
		{hasAll &^ hasFleetUnits, 6, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 5.01},
		{0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		{hasAll &^ hasFleetUnits, 1, 1, 500_000, 500_000, 500_000, 1, 1, 1, 1, 200, 1, 1, 1, 100},
		// invalid inputs
		{hasAll, 2, 0, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1},
		{hasUrban | hasSpeed, 2, 0, -1, 0, 0, 0, 0, 0, 0, math.NaN(), 0, 0, 0, 0},
		{hasResident | hasElderly, 5, 0, 0, 10, 11, 0, 0, 0, 0, 0, 0, 0, 0, 0},
		{hasFleetUnits | hasFleetList, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 10, 12},
		{hasFleetList, 2, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0},
		{hasSpeed, 7, 0, 0, 0, 0, 0, 0, 0, 0, math.Inf(1), 0, 0, 0, 0},
		{hasFacilities | hasLand, 3, 0, 0, 0, 0, 0, 0, 0, -5, 0, 0, -1, 0, 0},
	}
	for _, s := range seeds {
		f.Add(s.present, s.kind, s.flags, s.urban, s.resident, s.elderly, s.beds, s.vehicles, s.spaces, s.nf,
			s.speed, s.depot, s.land, s.units, s.length)
	}
	f.Fuzz(func(t *testing.T, present uint32, kind, flags uint8,
		urban, resident, elderly, beds, vehicles, spaces, nf int64,
		speed, depot, land, units, length float64) {
		has := func(bit uint32) bool { return present&bit != 0 }
		s := &Settlement{ID: "fuzz", Kind: fuzzKinds[int(kind)%len(fuzzKinds)], RegionalCentralCity: Bool(flags&1 != 0)}
		if has(hasUrban) {
			s.UrbanPopulation = Int64(urban)
		}
		if has(hasResident) {
			s.ResidentPopulation = Int64(resident)
		}
		if has(hasElderly) {
			s.ElderlyPopulation = Int64(elderly)
		}
		if has(hasBeds) {
			s.ElderlyCareBeds = Int64(beds)
		}
		if has(hasVehicles) {
			s.RegisteredVehicles = Int64(vehicles)
		}
		if has(hasSpaces) {
			s.PublicParkingSpaces = Int64(spaces)
		}
		if has(hasSpeed) {
			s.AverageBusSpeedKmh = Float64(speed)
		}
		if has(hasDepot) {
			s.BusDepotAreaM2 = Float64(depot)
		}
		if has(hasLand) {
			s.UrbanConstructionLandKm2 = Float64(land)
		}
		if has(hasFleetUnits) || has(hasFleetList) {
			s.Fleet = &Fleet{}
			if has(hasFleetUnits) {
				s.Fleet.StandardUnits = Float64(units)
			}
			if has(hasFleetList) {
				s.Fleet.Vehicles = []VehicleGroup{{LengthM: Float64(length), Count: nf}, {VehicleClass: "DOUBLE_DECKER", Count: nf}}
			}
		}
		if has(hasFacilities) {
			s.Facilities = map[FacilityType]int64{}
			for i, ft := range FacilityTypes {
				// Vary the counts so some types are short and others not.
				s.Facilities[ft] = nf + int64(i%3)
			}
		}
		if has(hasDeclared) {
			s.Declared = map[DeclaredFact]bool{
				FactRoadHierarchy: flags&2 != 0, FactIntelligentTrafficSystem: flags&4 != 0, FactCompulsoryEducationBalance: flags&8 != 0,
			}
		}
		if has(hasPreschool) {
			s.PreschoolAgePopulation, s.PreschoolEnrolment = Int64(elderly), Int64(beds)
		}
		if has(hasIntake) {
			s.VocationalSchoolIntake, s.GeneralHighSchoolIntake = Int64(vehicles), Int64(spaces)
		}
		if has(hasUrbanised) {
			s.UrbanisedPopulation = Int64(elderly)
		}
		if has(hasGeometry) {
			s.CentralArea, s.BusStops = centralArea(), busStops()
		}
		a, err := rs.Evaluate(s)
		if err != nil {
			checkInvalid(t, a, err)
			return
		}
		checkInvariants(t, rs, a)
	})
}

func FuzzParseRuleset(f *testing.F) {
	data := embeddedJilin(f)
	f.Add(data)
	f.Add(append(bytes.Clone(data), "{}"...))
	f.Add(data[:len(data)/3])
	f.Add(bytes.Replace(data, []byte(`"minPopulation": 500000`), []byte(`"minPopulation": 400000`), 1))
	f.Add(bytes.Replace(data, []byte(`"value": 36`), []byte(`"value": -36`), 1))
	f.Add(bytes.Replace(data, []byte(`"radiusM": 300,`), []byte(`"radiusM": 300, "bogus": 1,`), 1))
	f.Add(bytes.Replace(data, []byte(`"METRIC_VOCATIONAL_INTAKE_RATIO"`), []byte(`"METRIC_BOGUS"`), 1))
	f.Add(bytes.Replace(data, []byte(`"id": "T18-ITS"`), []byte(`"id": "T18-PARKING"`), 1))
	f.Add(bytes.Replace(data, []byte(`"vehicleClass": "LENGTH_10_13M"`), []byte(`"vehicleClass": "DOUBLE_DECKER"`), 1))
	f.Add(bytes.Replace(data, []byte(`"vehicleClass": "LENGTH_10_13M"`), []byte(`"vehicleClass": "LENGTH_12M"`), 1))
	f.Add(bytes.Replace(data, []byte(`add {quantity} elderly-care beds`), []byte(`add {quantity elderly-care beds`), 1))
	for _, name := range []string{"extra-ruleset.json", "broken-unknown-rule-field.json", "broken-trailing-data.json"} {
		f.Add(readTestdata(f, name))
	}
	for _, s := range []string{"", "{}", "null", "[]", `{"id":"x"}`, "\xff"} {
		f.Add([]byte(s))
	}
	// Settlements every parsed ruleset is evaluated against: evaluation of a
	// valid ruleset must not panic whatever its rules say.
	settlements := []*Settlement{
		{},
		{ID: "city", Kind: KindCity, RegionalCentralCity: Bool(true), UrbanPopulation: Int64(2_000_000), ResidentPopulation: Int64(3_000_000),
			ElderlyPopulation: Int64(400_000), ElderlyCareBeds: Int64(10_000), PreschoolAgePopulation: Int64(90_000), PreschoolEnrolment: Int64(70_000),
			UrbanisedPopulation: Int64(1_800_000), VocationalSchoolIntake: Int64(9_000), GeneralHighSchoolIntake: Int64(10_000),
			RegisteredVehicles: Int64(800_000), PublicParkingSpaces: Int64(150_000), Fleet: units(2500), AverageBusSpeedKmh: Float64(14),
			BusDepotAreaM2: Float64(300_000), UrbanConstructionLandKm2: Float64(250),
			Facilities: fac(FacilityLibrary, 1, FacilityMuseum, 0, FacilityCommunityHealthCentre, 0),
			Declared:   declared(FactRoadHierarchy, false), CentralArea: centralArea(), BusStops: busStops()},
		{ID: "town", Kind: KindTown, ResidentPopulation: Int64(0), UrbanPopulation: Int64(0), ElderlyPopulation: Int64(0), ElderlyCareBeds: Int64(0),
			RegisteredVehicles: Int64(0), PublicParkingSpaces: Int64(0), Fleet: units(0), BusDepotAreaM2: Float64(0),
			PreschoolAgePopulation: Int64(0), PreschoolEnrolment: Int64(0), UrbanConstructionLandKm2: Float64(0)},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		rs, err := ParseRuleset("fuzz.json", data)
		if err != nil {
			if rs != nil {
				t.Errorf("ruleset returned with an error")
			}
			if !strings.HasPrefix(err.Error(), "ruleset fuzz.json: ") {
				t.Errorf("error %q does not name the file", err)
			}
			return
		}
		if err := rs.validate(); err != nil {
			t.Fatalf("a parsed ruleset does not re-validate: %v", err)
		}
		out, err := json.Marshal(rs)
		if err != nil {
			t.Fatalf("encoding a parsed ruleset: %v", err)
		}
		if _, err := ParseRuleset("again.json", out); err != nil {
			t.Fatalf("a parsed ruleset does not parse again after encoding: %v", err)
		}
		for _, s := range settlements {
			a, err := rs.Evaluate(s)
			if err != nil {
				// A ruleset may lack the vehicle classes a fleet names.
				checkInvalid(t, a, err)
				continue
			}
			checkAudit(t, rs, a)
			for i, r := range a.Results {
				checkActionInvariants(t, rs, &rs.Rules[i], r)
			}
		}
	})
}
