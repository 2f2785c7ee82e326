package coverage_test

import (
	"context"
	"fmt"

	"github.com/civic-standards/coverage/coverage"
)

// A batch job can use the domain in-process: load the embedded rulesets,
// pick one, and evaluate settlements against it.
func Example() {
	catalog, err := coverage.DefaultCatalog()
	if err != nil {
		panic(err)
	}
	rs, err := catalog.Ruleset("jilin-2014")
	if err != nil {
		panic(err)
	}
	town := &coverage.Settlement{
		ID: "t1", Name: "T", Kind: coverage.KindTown,
		ElderlyPopulation: coverage.Int64(12_000), ElderlyCareBeds: coverage.Int64(300),
	}
	audit, err := rs.Evaluate(town, coverage.TopicElderlyCare)
	if err != nil {
		panic(err)
	}
	r := audit.Results[0]
	fmt.Println(r.RuleID, r.Status, *r.Value, *r.Threshold, *r.Shortfall, r.ShortfallUnit)
	fmt.Println(r.Citation.Section)
	// Output:
	// T19-ELDERLY-BEDS STATUS_NON_COMPLIANT 25 36 132 beds
	// 专栏19 基本公共服务体系
}

// Bus-stop coverage from GeoJSON, with the geometry's coordinate system.
func ExampleMeasureStopCoverage() {
	city := &coverage.Settlement{
		ID: "c", Kind: coverage.KindCity, UrbanPopulation: coverage.Int64(600_000),
		CentralArea: &coverage.Geometry{CRS: coverage.CRSWGS84, GeoJSON: []byte(
			`{"type":"Polygon","coordinates":[[[125.30,43.86],[125.34,43.86],[125.34,43.89],[125.30,43.89],[125.30,43.86]]]}`)},
		BusStops: &coverage.Geometry{CRS: coverage.CRSWGS84, GeoJSON: []byte(
			`{"type":"MultiPoint","coordinates":[[125.31,43.87],[125.32,43.875],[125.33,43.88],[125.33,43.88]]}`)},
	}
	sc, err := coverage.MeasureStopCoverage(context.Background(), city, 300)
	if err != nil {
		panic(err)
	}
	fmt.Printf("%.4f of %.4f km² covered; %d stops, %d duplicate merged\n", sc.CoveredKm2, sc.TotalKm2, sc.StopsGiven, sc.DuplicatesMerged)
	// Output:
	// 0.8482 of 10.7165 km² covered; 4 stops, 1 duplicate merged
}

// A job that audits a province's towns one after another can reuse one
// audit: each evaluation replaces the last and reuses its array of results.
// A batch summary copies what it needs, so it may be fed from the same audit.
func ExampleRuleset_EvaluateInto() {
	catalog, err := coverage.DefaultCatalog()
	if err != nil {
		panic(err)
	}
	rs, err := catalog.Ruleset("jilin-2014")
	if err != nil {
		panic(err)
	}
	sum := coverage.NewBatchSummary(rs, 0)
	var audit coverage.Audit
	for _, beds := range []int64{300, 500} {
		town := &coverage.Settlement{ID: "t", Kind: coverage.KindTown,
			ElderlyPopulation: coverage.Int64(12_000), ElderlyCareBeds: coverage.Int64(beds)}
		if err := rs.EvaluateInto(context.Background(), &audit, town); err != nil {
			panic(err)
		}
		sum.Add(&audit)
	}
	for _, t := range sum.Actions() {
		fmt.Println(t.Kind, t.Quantity, t.Unit, t.Settlements)
	}
	// Output:
	// ADD_ELDERLY_CARE_BEDS 132 beds 1
}

// The actions that close a batch's shortfalls, per settlement and totalled
// by kind for the province.
func ExampleBatchSummary_Actions() {
	catalog, err := coverage.DefaultCatalog()
	if err != nil {
		panic(err)
	}
	rs, err := catalog.Ruleset("jilin-2014")
	if err != nil {
		panic(err)
	}
	sum := coverage.NewBatchSummary(rs, 3)
	for _, town := range []*coverage.Settlement{
		{ID: "t1", Kind: coverage.KindTown, ElderlyPopulation: coverage.Int64(12_000), ElderlyCareBeds: coverage.Int64(300),
			ResidentPopulation: coverage.Int64(35_000), Facilities: map[coverage.FacilityType]int64{coverage.FacilityCommunityHealthCentre: 0}},
		{ID: "t2", Kind: coverage.KindTown, ElderlyPopulation: coverage.Int64(5_000), ElderlyCareBeds: coverage.Int64(100)},
	} {
		audit, err := rs.Evaluate(town, coverage.TopicElderlyCare, coverage.TopicHealth)
		if err != nil {
			panic(err)
		}
		for _, r := range audit.Results {
			for _, a := range r.Actions {
				fmt.Printf("%s %s: %s / %s\n", town.ID, r.RuleID, a.Text, a.TextZh)
			}
		}
		sum.Add(audit)
	}
	for _, t := range sum.Actions() {
		fmt.Println(t.Kind, t.Facility, t.Quantity, t.Unit, t.Settlements, t.Rules)
	}
	// Output:
	// t1 T19-ELDERLY-BEDS: add 132 elderly-care beds / 新增养老床位132张
	// t1 T19-COMMUNITY-HEALTH-CENTRE: build 1 community health service centre / 新建社区卫生服务中心1所
	// t2 T19-ELDERLY-BEDS: add 80 elderly-care beds / 新增养老床位80张
	// ADD_ELDERLY_CARE_BEDS  212 beds 2 [T19-ELDERLY-BEDS]
	// BUILD_FACILITY FACILITY_TYPE_COMMUNITY_HEALTH_CENTRE 1 facilities 1 [T19-COMMUNITY-HEALTH-CENTRE]
}

// A planner's batch job can ask, in-process, where a city is uncovered and
// which stops would bring it to its tier's threshold.
func ExampleRuleset_PlanStops() {
	catalog, err := coverage.DefaultCatalog()
	if err != nil {
		panic(err)
	}
	rs, err := catalog.Ruleset("jilin-2014")
	if err != nil {
		panic(err)
	}
	// A city of the MEDIUM tier (70%) whose ~5.4 km² central area has one stop.
	city := &coverage.Settlement{
		ID: "c", Kind: coverage.KindCity, UrbanPopulation: coverage.Int64(800_000),
		CentralArea: &coverage.Geometry{Polygons: [][][][2]float64{{{
			{125.3, 43.85}, {125.33, 43.85}, {125.33, 43.87}, {125.3, 43.87}, {125.3, 43.85},
		}}}},
		BusStops: &coverage.Geometry{Points: [][2]float64{{125.315, 43.86}}},
	}
	gaps, err := rs.MapStopGaps(context.Background(), city, coverage.GapOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d gap of %.2f km² with %d hole\n", gaps.GapsTotal, gaps.Gaps[0].AreaM2/1e6, len(gaps.Gaps[0].Rings)-1)
	plan, err := rs.PlanStops(context.Background(), city, coverage.StopPlanOptions{})
	if err != nil {
		panic(err)
	}
	fmt.Printf("%d stops take coverage from %.1f%% to %.1f%% (target %.0f%%, at least %d needed): %s\n",
		len(plan.Added), 100*plan.Before.Share, 100*plan.FinalShare, 100*plan.TargetShare, plan.LowerBound, plan.Stopped)
	// Output:
	// 1 gap of 5.08 km² with 1 hole
	// 13 stops take coverage from 5.3% to 70.2% (target 70%, at least 13 needed): target reached
}
