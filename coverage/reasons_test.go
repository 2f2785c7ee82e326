package coverage

import (
	"flag"
	"fmt"
	"os"
	"strings"
	"testing"
)

var updateGolden = flag.Bool("update", false, "rewrite testdata/reasons.golden from the current evaluation")

// reasonSettlements is a few settlements of BenchmarkEvaluate's mix, the
// same again with inputs taken away in every combination of five, and
// settlements made for the sentences the mix does not reach (every
// facility present, land within its limit, parking above and within its
// band, nothing to divide by, a central area covered and one short).
func reasonSettlements() []*Settlement {
	ss := benchSettlements(8)
	for i, b := range benchSettlements(32) {
		c := *b
		c.ID += fmt.Sprint("-less-", i)
		if i&1 != 0 {
			c.ElderlyPopulation = nil
			c.PreschoolEnrolment = nil
		}
		if i&2 != 0 {
			c.ResidentPopulation = nil
			c.Declared = nil
		}
		if i&4 != 0 {
			c.Kind = ""
		}
		if i&8 != 0 {
			c.Facilities = nil
			c.Fleet = nil
		}
		if i&16 != 0 {
			c.UrbanPopulation = nil
			c.RegionalCentralCity = nil
		}
		ss = append(ss, &c)
	}
	city := func(id string, urban, vehicles, spaces int64, landKm2 float64) *Settlement {
		return &Settlement{
			ID: id, Kind: KindCity, RegionalCentralCity: Bool(true),
			UrbanPopulation: Int64(urban), ResidentPopulation: Int64(urban), UrbanisedPopulation: Int64(urban),
			ElderlyPopulation: Int64(urban / 5), ElderlyCareBeds: Int64(urban / 5 * 36 / 1000),
			RegisteredVehicles: Int64(vehicles), PublicParkingSpaces: Int64(spaces),
			Fleet:              &Fleet{Vehicles: []VehicleGroup{{LengthM: Float64(12), Count: urban / 500}}},
			AverageBusSpeedKmh: Float64(25), BusDepotAreaM2: Float64(float64(urban)),
			UrbanConstructionLandKm2: Float64(landKm2),
			Facilities: map[FacilityType]int64{
				FacilityMaternalChildHealthHosp: 1, FacilityLibrary: 1, FacilityCulturalCentre: 1, FacilityMuseum: 1,
			},
			Declared: map[DeclaredFact]bool{FactRoadHierarchy: true, FactIntelligentTrafficSystem: true},
		}
	}
	within := city("city-within", 600_000, 100_000, 27_000, 50)
	within.Fleet.Vehicles[0].Count = 300 // 5 standard units per 10,000: short
	within.PreschoolAgePopulation, within.PreschoolEnrolment = Int64(20_000), Int64(16_000)
	within.VocationalSchoolIntake, within.GeneralHighSchoolIntake = Int64(3_000), Int64(3_100)
	none := city("city-nothing-to-divide", 0, 0, 0, 0)
	none.PreschoolAgePopulation, none.PreschoolEnrolment = Int64(0), Int64(0)
	none.VocationalSchoolIntake, none.GeneralHighSchoolIntake = Int64(0), Int64(0)
	covered := &Settlement{ID: "city-covered", Kind: KindCity, UrbanPopulation: Int64(800_000), CentralArea: smallSquare(), BusStops: stopAtCentre()}
	oneStop := &Settlement{ID: "city-one-stop", Kind: KindCity, UrbanPopulation: Int64(800_000),
		CentralArea: &Geometry{GeoJSON: []byte(`{"type":"Polygon","coordinates":[[[125.3,43.87],[125.325,43.87],[125.325,43.888],[125.3,43.888],[125.3,43.87]]]}`), CRS: CRSWGS84},
		BusStops:    &Geometry{GeoJSON: []byte(`{"type":"MultiPoint","coordinates":[[125.3125,43.879]]}`), CRS: CRSWGS84}}
	return append(ss, within, city("city-above-band", 2_500_000, 100_000, 40_000, 500), none, covered, oneStop, &Settlement{ID: "empty"})
}

// TestReasonsGolden holds every sentence of every result (the verdict's
// reason, the threshold's, the tier's, the notes, the shortfalls' and the
// actions' texts) to testdata/reasons.golden, word for word. Planners read
// these sentences; a change to one must be a change someone meant. After
// such a change: go test ./coverage -run TestReasonsGolden -update
func TestReasonsGolden(t *testing.T) {
	rs := jilin(t)
	var b strings.Builder
	seen := map[string]bool{}
	for _, s := range reasonSettlements() {
		a, err := rs.Evaluate(s)
		if err != nil {
			fmt.Fprintf(&b, "%s: error: %v\n", s.ID, err)
			continue
		}
		fmt.Fprintf(&b, "%s: tier %q\n", s.ID, a.Tier.Reason)
		for _, r := range a.Results {
			line := fmt.Sprintf("%s %s: %q | %q | missing %q", r.RuleID, r.Status, r.Reason, r.ThresholdReason, r.MissingFields)
			if seen[line] {
				continue // the same sentences again: once is enough to hold them
			}
			seen[line] = true
			fmt.Fprintf(&b, "  %s\n", line)
			for _, n := range r.Notes[len(rs.Rule(r.RuleID).Notes):] {
				fmt.Fprintf(&b, "    note %q\n", n)
			}
			for _, sh := range r.ShortfallItems {
				fmt.Fprintf(&b, "    shortfall %q\n", sh.Action)
			}
			for _, ac := range r.Actions {
				fmt.Fprintf(&b, "    action %q / %q\n", ac.Text, ac.TextZh)
			}
		}
	}
	const path = "testdata/reasons.golden"
	if *updateGolden {
		if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to write it)", err)
	}
	if got := b.String(); got != string(want) {
		gl, wl := strings.Split(got, "\n"), strings.Split(string(want), "\n")
		for i := range max(len(gl), len(wl)) {
			g, w := "", ""
			if i < len(gl) {
				g = gl[i]
			}
			if i < len(wl) {
				w = wl[i]
			}
			if g != w {
				t.Fatalf("%s differs at line %d:\n got: %s\nwant: %s\n(if the change is meant, run with -update)", path, i+1, g, w)
			}
		}
	}
}
