package coverage

import (
	"context"
	"fmt"
	"testing"
)

// benchSettlements is a deterministic province-like mix without geometry
// (the coverage geometry has its own benchmarks in coverage/geometry): towns,
// counties and cities of many sizes, most of them short on several rules, so
// that the shortfall and action paths are exercised, not just the verdicts.
func benchSettlements(n int) []*Settlement {
	out := make([]*Settlement, n)
	for i := range n {
		p := int64(5_000 + (i*7_919)%400_000)
		switch i % 4 {
		case 0, 1:
			out[i] = &Settlement{
				ID: fmt.Sprint("town-", i), Name: "town", Kind: KindTown,
				ResidentPopulation: Int64(p), ElderlyPopulation: Int64(p / 6),
				ElderlyCareBeds: Int64(int64(i%50) * 10), PreschoolAgePopulation: Int64(p / 30),
				PreschoolEnrolment: Int64(p / 45),
				Facilities: map[FacilityType]int64{
					FacilityCommunityHealthCentre: int64(i % 2), FacilityCommunityHealthStation: int64(i % 3),
					FacilityTownshipHealthCentre: int64(i % 2), FacilityStandardKindergarten: int64(i % 3),
				},
			}
		case 2:
			out[i] = &Settlement{
				ID: fmt.Sprint("county-", i), Name: "county", Kind: KindCounty,
				ResidentPopulation: Int64(p * 3), UrbanisedPopulation: Int64(p), ElderlyPopulation: Int64(p / 2),
				ElderlyCareBeds: Int64(int64(i % 900)), RegisteredVehicles: Int64(p / 4), PublicParkingSpaces: Int64(p / 40),
				PreschoolAgePopulation: Int64(p / 10), PreschoolEnrolment: Int64(p / 14),
				VocationalSchoolIntake: Int64(900), GeneralHighSchoolIntake: Int64(1_000),
				Facilities: map[FacilityType]int64{FacilityLevel2GeneralHospital: int64(i % 2), FacilityTCMHospital: 0},
				Declared:   map[DeclaredFact]bool{FactCompulsoryEducationBalance: i%3 == 0},
			}
		default:
			urban := p * 5
			out[i] = &Settlement{
				ID: fmt.Sprint("city-", i), Name: "city", Kind: KindCity, RegionalCentralCity: Bool(i%8 == 3),
				UrbanPopulation: Int64(urban), ResidentPopulation: Int64(urban * 2), UrbanisedPopulation: Int64(urban),
				ElderlyPopulation: Int64(urban / 5), ElderlyCareBeds: Int64(urban / 200),
				RegisteredVehicles: Int64(urban / 5), PublicParkingSpaces: Int64(urban / 30),
				Fleet:              &Fleet{Vehicles: []VehicleGroup{{LengthM: Float64(12), Count: urban / 1_500}, {LengthM: Float64(8), Count: urban / 4_000}}},
				AverageBusSpeedKmh: Float64(14 + float64(i%12)), BusDepotAreaM2: Float64(float64(urban) / 10),
				UrbanConstructionLandKm2: Float64(float64(urban) * 1.3e-4),
				Facilities: map[FacilityType]int64{
					FacilityMaternalChildHealthHosp: 0, FacilityLibrary: 1, FacilityCulturalCentre: int64(i % 2), FacilityMuseum: 0,
				},
				Declared: map[DeclaredFact]bool{FactRoadHierarchy: i%2 == 0, FactIntelligentTrafficSystem: i%5 == 0},
			}
		}
	}
	return out
}

// BenchmarkEvaluate audits one settlement of the mix per operation, every rule.
func BenchmarkEvaluate(b *testing.B) {
	rs := jilin(b)
	ss := benchSettlements(1_024)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		if _, err := rs.Evaluate(ss[i%len(ss)]); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkBatchSummaryAdd adds one audit of the mix per operation to a
// summary, as a batch of 100,000 settlements does 100,000 times.
func BenchmarkBatchSummaryAdd(b *testing.B) {
	rs := jilin(b)
	ss := benchSettlements(1_024)
	audits := make([]*Audit, len(ss))
	for i, s := range ss {
		a, err := rs.Evaluate(s)
		if err != nil {
			b.Fatal(err)
		}
		audits[i] = a
	}
	sum := NewBatchSummary(rs, 10)
	b.ReportAllocs()
	i := 0
	for b.Loop() {
		sum.Add(audits[i%len(audits)])
		i++
	}
}

// BenchmarkEvaluateInto audits the town of examples/town-health-facilities.json
// into one audit again and again, as the server does for each unary Audit:
// most rules do not apply to a town or lack its data, so this is the cost of
// the sentences and lists of those results.
func BenchmarkEvaluateInto(b *testing.B) {
	rs := jilin(b)
	town := &Settlement{
		ID: "town-35k", Name: "A town of 35,000 (illustrative)", Kind: KindTown, CountySeat: Bool(true),
		ResidentPopulation: Int64(35_000),
		Facilities:         map[FacilityType]int64{FacilityCommunityHealthCentre: 0, FacilityTownshipHealthCentre: 1},
	}
	var a Audit
	b.ReportAllocs()
	for b.Loop() {
		if err := rs.EvaluateInto(context.Background(), &a, town); err != nil {
			b.Fatal(err)
		}
	}
}
