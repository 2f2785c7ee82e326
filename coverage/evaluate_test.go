package coverage

import (
	"context"
	"errors"
	"math"
	"reflect"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"testing"
)

// loadJilin parses the embedded default ruleset once per test binary.
var loadJilin = sync.OnceValues(func() (*Ruleset, error) {
	c, err := DefaultCatalog()
	if err != nil {
		return nil, err
	}
	return c.Ruleset(DefaultRulesetID)
})

func jilin(t testing.TB) *Ruleset {
	t.Helper()
	rs, err := loadJilin()
	if err != nil {
		t.Fatalf("loading the embedded ruleset: %v", err)
	}
	return rs
}

// jilinRuleIDs is the rule list of jilin-2014 in ruleset order, spelled out so
// that a renamed, dropped or reordered rule fails a test.
var jilinRuleIDs = []string{
	"T18-STOP-COVERAGE-300M",
	"T18-FLEET-PER-10K",
	"T18-BUS-SPEED",
	"T18-DEPOT-AREA",
	"T18-PARKING",
	"T18-ROAD-HIERARCHY",
	"T18-ITS",
	"T19-ELDERLY-BEDS",
	"T19-COUNTY-GENERAL-HOSPITAL",
	"T19-COUNTY-TCM-HOSPITAL",
	"T19-MCH-HOSPITAL",
	"T19-COMMUNITY-HEALTH-CENTRE",
	"T19-COMMUNITY-HEALTH-STATION",
	"T19-TOWNSHIP-HEALTH-CENTRE",
	"T19-CULTURE",
	"T19-KINDERGARTEN",
	"T19-PRESCHOOL-ENROLMENT",
	"T19-COMPULSORY-BALANCE",
	"T19-VOCATIONAL",
	"G-LAND-PER-CAPITA",
	"G-URBANISATION",
}

// shortfallUnits is the shortfall unit every result of a rule carries.
var shortfallUnits = map[string]string{
	"T18-STOP-COVERAGE-300M":       "share of central urban area",
	"T18-FLEET-PER-10K":            "standard units (标台)",
	"T18-BUS-SPEED":                "km/h",
	"T18-DEPOT-AREA":               "m² of bus depot",
	"T18-PARKING":                  "public parking spaces",
	"T18-ROAD-HIERARCHY":           "",
	"T18-ITS":                      "",
	"T19-ELDERLY-BEDS":             "beds",
	"T19-COUNTY-GENERAL-HOSPITAL":  "facilities",
	"T19-COUNTY-TCM-HOSPITAL":      "facilities",
	"T19-MCH-HOSPITAL":             "facilities",
	"T19-COMMUNITY-HEALTH-CENTRE":  "facilities",
	"T19-COMMUNITY-HEALTH-STATION": "facilities",
	"T19-TOWNSHIP-HEALTH-CENTRE":   "facilities",
	"T19-CULTURE":                  "facilities",
	"T19-KINDERGARTEN":             "facilities",
	"T19-PRESCHOOL-ENROLMENT":      "children to enrol",
	"T19-COMPULSORY-BALANCE":       "",
	"T19-VOCATIONAL":               "",
	"G-LAND-PER-CAPITA":            "km² of urban construction land above the limit",
	"G-URBANISATION":               "",
}

// Field paths spelled as callers write them (not through the package's
// constants, so a renamed JSON path fails here).
const (
	fKind       = "settlement.kind"
	fUrban      = "settlement.urbanPopulation"
	fResident   = "settlement.residentPopulation"
	fElderly    = "settlement.elderlyPopulation"
	fBeds       = "settlement.elderlyCareBeds"
	fKids       = "settlement.preschoolAgePopulation"
	fEnrolled   = "settlement.preschoolEnrolment"
	fUrbanised  = "settlement.urbanisedPopulation"
	fVoc        = "settlement.vocationalSchoolIntake"
	fGen        = "settlement.generalHighSchoolIntake"
	fVehicles   = "settlement.registeredVehicles"
	fSpaces     = "settlement.publicParkingSpaces"
	fFleet      = "settlement.busFleet"
	fSpeed      = "settlement.averageBusSpeedKmh"
	fDepot      = "settlement.busDepotAreaM2"
	fLand       = "settlement.urbanConstructionLandKm2"
	fCentral    = "settlement.centralArea"
	fStops      = "settlement.busStops"
	fRoads      = "settlement.roadHierarchyMeetsStandard"
	fITS        = "settlement.intelligentTrafficSystem"
	fBalance    = "settlement.compulsoryEducationBalanced"
	fL2         = "settlement.facilities.level2GeneralHospitals"
	fTCM        = "settlement.facilities.tcmHospitals"
	fMCH        = "settlement.facilities.maternalChildHealthHospitals"
	fCentres    = "settlement.facilities.communityHealthCentres"
	fStations   = "settlement.facilities.communityHealthStations"
	fTownship   = "settlement.facilities.townshipHealthCentres"
	fKinder     = "settlement.facilities.standardKindergartens"
	fLibraries  = "settlement.facilities.libraries"
	fCultural   = "settlement.facilities.culturalCentres"
	fMuseums    = "settlement.facilities.museums"
	centreSmall = "towns of 30,000–99,999 residents"
	centreLarge = "towns of 100,000 residents or more"
	station10   = "towns of 10,000–19,999 residents"
	station20   = "towns of 20,000–29,999 residents"
	parkingBand = "target band 25-30"
	vocBand     = "roughly equal (大体相当)"
	urbBand     = "about 60% (60%左右)"
)

// centralArea and busStops are well-formed GeoJSON (a 1.6 km × 2.2 km square
// in Changchun and two stops inside it).
func centralArea() *Geometry {
	return &Geometry{GeoJSON: []byte(`{"type":"Polygon","coordinates":[[[125.30,43.86],[125.32,43.86],[125.32,43.88],[125.30,43.88],[125.30,43.86]]]}`), CRS: CRSWGS84}
}

func busStops() *Geometry {
	return &Geometry{GeoJSON: []byte(`{"type":"MultiPoint","coordinates":[[125.305,43.865],[125.315,43.875]]}`), CRS: CRSWGS84}
}

// Geometries whose coverage share is known without measuring: a square of
// about 200 m × 200 m is wholly within 300 m of a stop at its centre (share 1)
// and wholly beyond 300 m of a stop 8 km east (share 0).
func smallSquare() *Geometry {
	return &Geometry{GeoJSON: []byte(`{"type":"Polygon","coordinates":[[[125.3,43.87],[125.3025,43.87],[125.3025,43.8718],[125.3,43.8718],[125.3,43.87]]]}`), CRS: CRSWGS84}
}

func stopAtCentre() *Geometry {
	return &Geometry{GeoJSON: []byte(`{"type":"MultiPoint","coordinates":[[125.30125,43.8709]]}`), CRS: CRSWGS84}
}

func stopFarAway() *Geometry {
	return &Geometry{GeoJSON: []byte(`{"type":"MultiPoint","coordinates":[[125.4,43.8709]]}`), CRS: CRSWGS84}
}

func fac(kv ...any) map[FacilityType]int64 {
	m := map[FacilityType]int64{}
	for i := 0; i < len(kv); i += 2 {
		m[kv[i].(FacilityType)] = int64(kv[i+1].(int))
	}
	return m
}

func units(u float64) *Fleet { return &Fleet{StandardUnits: Float64(u)} }

func declared(f DeclaredFact, v bool) map[DeclaredFact]bool { return map[DeclaredFact]bool{f: v} }

// ruleCase is one expected result of one rule. Nil pointers expect nil; every
// field is asserted, so a case pins the whole result.
type ruleCase struct {
	name      string
	rule      string
	s         *Settlement
	status    Status
	value     *float64
	threshold *float64
	upper     *float64
	tier      string
	sizeClass string
	shortfall *float64
	items     []Shortfall // Quantity, Unit and Facility compared; Action must be non-empty
	// moreItems allows further shortfall items after those listed (the
	// coverage rule adds the uncovered area in km², checked in TestEvaluateStopCoverage).
	moreItems bool
	missing   []string
	// note and reason, when set, must be substrings of a note and of the reason.
	note            string
	reason          string
	thresholdReason string
	// thresholdUnchecked skips the threshold assertion (see TestBugInsufficientDataThresholdOfScaledFacilityRules).
	thresholdUnchecked bool
	// actions are the result's actions, every field compared; a
	// non-compliant case must list them (nil for rules without an action),
	// unless actionsUnchecked defers them to another test (the coverage
	// rule's km², checked in TestEvaluateStopCoverage).
	actions          []Action
	actionsUnchecked bool
}

func item(q float64, unit string) []Shortfall { return []Shortfall{{Quantity: q, Unit: unit}} }

func facItem(q float64, f FacilityType) Shortfall {
	return Shortfall{Quantity: q, Unit: "facilities", Facility: f}
}

func ruleCases() []ruleCase {
	F := Float64
	town := func(resident int64) *Settlement {
		return &Settlement{ID: "town", Kind: KindTown, ResidentPopulation: Int64(resident)}
	}
	withFac := func(s *Settlement, m map[FacilityType]int64) *Settlement { s.Facilities = m; return s }
	centre := func(p int64, n int) *Settlement {
		return withFac(town(p), fac(FacilityCommunityHealthCentre, n))
	}
	station := func(p int64, n int) *Settlement {
		return withFac(town(p), fac(FacilityCommunityHealthStation, n))
	}
	rcc := func(kind Kind, m map[FacilityType]int64) *Settlement {
		return &Settlement{ID: "rcc", Kind: kind, RegionalCentralCity: Bool(true), Facilities: m}
	}
	cityFleet := func(urban int64, u float64) *Settlement {
		return &Settlement{ID: "c", Kind: KindCity, UrbanPopulation: Int64(urban), Fleet: units(u)}
	}
	citySpeed := func(urban int64, kmh float64) *Settlement {
		return &Settlement{ID: "c", Kind: KindCity, UrbanPopulation: Int64(urban), AverageBusSpeedKmh: F(kmh)}
	}
	covered := func(kind Kind, urban int64) *Settlement {
		return &Settlement{ID: "c", Kind: kind, UrbanPopulation: Int64(urban), CentralArea: smallSquare(), BusStops: stopAtCentre()}
	}
	uncovered := func(urban int64) *Settlement {
		return &Settlement{ID: "c", Kind: KindCity, UrbanPopulation: Int64(urban), CentralArea: smallSquare(), BusStops: stopFarAway()}
	}
	shareItem := func(q float64) []Shortfall { return item(q, "share of central urban area") }
	depot := func(kind Kind, area float64, fleet *Fleet) *Settlement {
		return &Settlement{ID: "c", Kind: kind, BusDepotAreaM2: F(area), Fleet: fleet}
	}
	parking := func(kind Kind, veh, spaces int64) *Settlement {
		return &Settlement{ID: "c", Kind: kind, RegisteredVehicles: Int64(veh), PublicParkingSpaces: Int64(spaces)}
	}
	elderly := func(e, beds int64) *Settlement {
		return &Settlement{ID: "t1", Kind: KindTown, ElderlyPopulation: Int64(e), ElderlyCareBeds: Int64(beds)}
	}
	preschool := func(kids, enrolled int64) *Settlement {
		return &Settlement{ID: "c", Kind: KindCounty, PreschoolAgePopulation: Int64(kids), PreschoolEnrolment: Int64(enrolled)}
	}
	land := func(kind Kind, urban int64, km2 float64) *Settlement {
		return &Settlement{ID: "c", Kind: kind, UrbanPopulation: Int64(urban), UrbanConstructionLandKm2: F(km2)}
	}
	voc := func(v, g int64) *Settlement {
		return &Settlement{ID: "c", Kind: KindCounty, VocationalSchoolIntake: Int64(v), GeneralHighSchoolIntake: Int64(g)}
	}
	urbanisation := func(kind Kind, resident, urbanised int64) *Settlement {
		return &Settlement{ID: "c", Kind: kind, ResidentPopulation: Int64(resident), UrbanisedPopulation: Int64(urbanised)}
	}
	fact := func(kind Kind, f DeclaredFact, v bool) *Settlement {
		return &Settlement{ID: "c", Kind: kind, Declared: declared(f, v)}
	}
	// The actions jilin-2014's specs give, with the numbers as each
	// language prints them (grouped in English, not in Chinese).
	one := func(kind string, q float64, unit, unitZh, text, textZh string) []Action {
		return []Action{{Kind: kind, Quantity: q, Unit: unit, UnitZh: unitZh, Text: text, TextZh: textZh}}
	}
	buses := func(units, vehicles float64, en, zh string) []Action {
		a := one("ADD_BUSES", vehicles, "buses", "辆",
			"add "+en+" standard units of buses, e.g. "+group(int64(vehicles))+" × 12 m buses",
			"新增公共交通车辆"+zh+"标台，折合12米公交车"+strconv.Itoa(int(vehicles))+"辆")
		a[0].VehicleClass = "LENGTH_10_13M"
		return a
	}
	speed := func(q float64, n string) []Action {
		return one("RAISE_BUS_SPEED", q, "km/h", "公里/小时", "raise the average bus operating speed by "+n+" km/h", "公共汽车平均运营时速提高"+n+"公里/小时")
	}
	depotArea := func(q float64, en, zh string) []Action {
		return one("ADD_BUS_DEPOT_AREA", q, "m² of bus depot", "平方米", "add "+en+" m² of bus depot", "新增公交停车场面积"+zh+"平方米")
	}
	parkingSpaces := func(q float64, en, zh string) []Action {
		return one("ADD_PUBLIC_PARKING_SPACES", q, "public parking spaces", "个", "add "+en+" public parking spaces", "新增公共停车泊位"+zh+"个")
	}
	its := func() []Action {
		return one("ESTABLISH_INTELLIGENT_TRAFFIC_SYSTEM", 1, "systems", "套",
			"establish an intelligent traffic management system with bus priority and real-time junction signal control",
			"建立具有公交优先和路口信号实时控制等功能的智能交通管控系统")
	}
	beds := func(q float64, n string) []Action {
		return one("ADD_ELDERLY_CARE_BEDS", q, "beds", "张", "add "+n+" elderly-care beds", "新增养老床位"+n+"张")
	}
	build := func(f FacilityType, q float64, text, textZh string) []Action {
		unitZh := "所"
		if _, measure, ok := strings.Cut(textZh, strconv.Itoa(int(q))); ok {
			unitZh = measure
		}
		return []Action{{Kind: "BUILD_FACILITY", Quantity: q, Unit: "facilities", UnitZh: unitZh, Facility: f, Text: text, TextZh: textZh}}
	}
	oneCentre := build(FacilityCommunityHealthCentre, 1, "build 1 community health service centre", "新建社区卫生服务中心1所")
	oneStation := build(FacilityCommunityHealthStation, 1, "build 1 community health service station", "新建社区卫生服务站1个")
	oneMuseum := build(FacilityMuseum, 1, "build 1 museum", "新建博物馆1座")
	enrol := func(q float64, n string) []Action {
		return one("ENROL_PRESCHOOL_CHILDREN", q, "children", "人", "enrol "+n+" more children in preschool", "新增学前教育在园幼儿"+n+"人")
	}
	lessLand := func(q float64, n string) []Action {
		return one("REDUCE_CONSTRUCTION_LAND", q, "km² of urban construction land", "平方公里",
			"reduce urban construction land by "+n+" km², or house more residents on it",
			"城市建设用地减少"+n+"平方公里，或在现有用地上容纳更多城区人口")
	}
	const oneThreshold = "the plan sets one threshold for every settlement the rule applies to"

	return []ruleCase{
		// --- T18-STOP-COVERAGE-300M: ≥ 100% / 70% / 60% of the central area -----------------
		{name: "2,000,000 is LARGE, fully covered", rule: "T18-STOP-COVERAGE-300M", s: covered(KindCity, 2_000_000),
			status: StatusCompliant, value: F(1), threshold: F(1.0), tier: "LARGE", note: "radius 300 m",
			thresholdReason: "LARGE tier"},
		{name: "2,000,000 is LARGE, uncovered", rule: "T18-STOP-COVERAGE-300M", s: uncovered(2_000_000),
			status: StatusNonCompliant, actionsUnchecked: true, value: F(0), threshold: F(1.0), tier: "LARGE",
			shortfall: F(1.0), items: shareItem(1.0), moreItems: true},
		{name: "1,999,999 is MEDIUM", rule: "T18-STOP-COVERAGE-300M", s: uncovered(1_999_999),
			status: StatusNonCompliant, actionsUnchecked: true, value: F(0), threshold: F(0.7), tier: "MEDIUM",
			shortfall: F(0.7), items: shareItem(0.7), moreItems: true},
		{name: "500,000 is MEDIUM", rule: "T18-STOP-COVERAGE-300M", s: uncovered(500_000),
			status: StatusNonCompliant, actionsUnchecked: true, value: F(0), threshold: F(0.7), tier: "MEDIUM",
			shortfall: F(0.7), items: shareItem(0.7), moreItems: true},
		{name: "500,000 fully covered", rule: "T18-STOP-COVERAGE-300M", s: covered(KindCity, 500_000),
			status: StatusCompliant, value: F(1), threshold: F(0.7), tier: "MEDIUM"},
		{name: "499,999 is SMALL", rule: "T18-STOP-COVERAGE-300M", s: uncovered(499_999),
			status: StatusNonCompliant, actionsUnchecked: true, value: F(0), threshold: F(0.6), tier: "SMALL",
			shortfall: F(0.6), items: shareItem(0.6), moreItems: true},
		{name: "county-level city applies", rule: "T18-STOP-COVERAGE-300M", s: covered(KindCountyLevelCity, 300_000),
			status: StatusCompliant, value: F(1), threshold: F(0.6), tier: "SMALL"},
		{name: "town not applicable", rule: "T18-STOP-COVERAGE-300M",
			s:      &Settlement{Kind: KindTown, UrbanPopulation: Int64(30_000), CentralArea: centralArea(), BusStops: busStops()},
			status: StatusNotApplicable, reason: "applies to cities and county-level cities; this settlement is a town"},
		{name: "no geometry", rule: "T18-STOP-COVERAGE-300M",
			s:      &Settlement{Kind: KindCity, UrbanPopulation: Int64(2_000_000)},
			status: StatusInsufficientData, threshold: F(1.0), tier: "LARGE", missing: []string{fCentral, fStops}},
		{name: "stops without central area", rule: "T18-STOP-COVERAGE-300M",
			s:      &Settlement{Kind: KindCity, UrbanPopulation: Int64(700_000), BusStops: busStops()},
			status: StatusInsufficientData, threshold: F(0.7), tier: "MEDIUM", missing: []string{fCentral}},
		{name: "no urban population, no geometry", rule: "T18-STOP-COVERAGE-300M",
			s:      &Settlement{Kind: KindCity},
			status: StatusInsufficientData, missing: []string{fUrban, fCentral, fStops}},
		{name: "kind absent", rule: "T18-STOP-COVERAGE-300M",
			s:      &Settlement{UrbanPopulation: Int64(2_000_000), CentralArea: centralArea(), BusStops: busStops()},
			status: StatusInsufficientData, missing: []string{fKind}},

		// --- T18-FLEET-PER-10K: 15 / 12 / 10 standard units per 10,000 ------------------------
		{name: "2,000,000 LARGE at 15", rule: "T18-FLEET-PER-10K", s: cityFleet(2_000_000, 3000),
			status: StatusCompliant, value: F(15), threshold: F(15), tier: "LARGE",
			thresholdReason: "LARGE tier (≥ 2,000,000 urban residents): urban population 2,000,000"},
		{name: "2,000,000 LARGE just below 15", rule: "T18-FLEET-PER-10K", s: cityFleet(2_000_000, 2999),
			status: StatusNonCompliant, actions: buses(1, 1, "1", "1"), value: F(14.995), threshold: F(15), tier: "LARGE",
			shortfall: F(1), items: item(1, "standard units (标台)")},
		{name: "2,000,000 LARGE held to 15 not 12", rule: "T18-FLEET-PER-10K", s: cityFleet(2_000_000, 2400),
			status: StatusNonCompliant, actions: buses(600, 462, "600", "600"), value: F(12), threshold: F(15), tier: "LARGE",
			shortfall: F(600), items: item(600, "standard units (标台)")},
		{name: "1,999,999 MEDIUM at 12", rule: "T18-FLEET-PER-10K", s: cityFleet(1_999_999, 2400),
			status: StatusCompliant, value: F(2400 * 10000 / 1_999_999.0), threshold: F(12), tier: "MEDIUM"},
		{name: "500,000 MEDIUM held to 12 not 10", rule: "T18-FLEET-PER-10K", s: cityFleet(500_000, 500),
			status: StatusNonCompliant, actions: buses(100, 77, "100", "100"), value: F(10), threshold: F(12), tier: "MEDIUM",
			shortfall: F(100), items: item(100, "standard units (标台)")},
		{name: "500,000 MEDIUM half a unit short", rule: "T18-FLEET-PER-10K", s: cityFleet(500_000, 599.5),
			status: StatusNonCompliant, actions: buses(0.5, 1, "0.5", "0.5"), value: F(11.99), threshold: F(12), tier: "MEDIUM",
			shortfall: F(0.5), items: item(0.5, "standard units (标台)")},
		{name: "499,999 SMALL at 10", rule: "T18-FLEET-PER-10K", s: cityFleet(499_999, 500),
			status: StatusCompliant, value: F(500 * 10000 / 499_999.0), threshold: F(10), tier: "SMALL"},
		{name: "499,999 SMALL short by a hundredth", rule: "T18-FLEET-PER-10K", s: cityFleet(499_999, 499.99),
			status: StatusNonCompliant, actions: buses(0.01, 1, "0.01", "0.01"), value: F(499.99 * 10000 / 499_999), threshold: F(10), tier: "SMALL",
			shortfall: F(0.01), items: item(0.01, "standard units (标台)")},
		{name: "zero urban population", rule: "T18-FLEET-PER-10K", s: cityFleet(0, 10),
			status: StatusNotApplicable, threshold: F(10), tier: "SMALL", reason: "no urban residents"},
		{name: "county not applicable", rule: "T18-FLEET-PER-10K",
			s:      &Settlement{Kind: KindCounty, UrbanPopulation: Int64(100_000), Fleet: units(100)},
			status: StatusNotApplicable},
		{name: "fleet absent", rule: "T18-FLEET-PER-10K",
			s:      &Settlement{Kind: KindCity, UrbanPopulation: Int64(2_000_000)},
			status: StatusInsufficientData, threshold: F(15), tier: "LARGE", missing: []string{fFleet}},
		{name: "empty fleet is absent", rule: "T18-FLEET-PER-10K",
			s:      &Settlement{Kind: KindCity, UrbanPopulation: Int64(2_000_000), Fleet: &Fleet{}},
			status: StatusInsufficientData, threshold: F(15), tier: "LARGE", missing: []string{fFleet}},
		{name: "urban population and fleet absent", rule: "T18-FLEET-PER-10K",
			s:      &Settlement{Kind: KindCity},
			status: StatusInsufficientData, missing: []string{fUrban, fFleet}},
		{name: "kind absent", rule: "T18-FLEET-PER-10K",
			s:      &Settlement{UrbanPopulation: Int64(2_000_000), Fleet: units(3000)},
			status: StatusInsufficientData, missing: []string{fKind}},
		{name: "kind unspecified", rule: "T18-FLEET-PER-10K",
			s:      &Settlement{Kind: KindUnspecified, UrbanPopulation: Int64(2_000_000), Fleet: units(3000)},
			status: StatusInsufficientData, missing: []string{fKind}},

		// --- T18-BUS-SPEED: 15 / 20 / 25 km/h -----------------------------------------------
		{name: "2,000,000 LARGE at 15 km/h", rule: "T18-BUS-SPEED", s: citySpeed(2_000_000, 15),
			status: StatusCompliant, value: F(15), threshold: F(15), tier: "LARGE"},
		{name: "2,000,000 LARGE at 14 km/h", rule: "T18-BUS-SPEED", s: citySpeed(2_000_000, 14),
			status: StatusNonCompliant, actions: speed(1, "1"), value: F(14), threshold: F(15), tier: "LARGE",
			shortfall: F(1), items: item(1, "km/h")},
		{name: "1,999,999 MEDIUM held to 20", rule: "T18-BUS-SPEED", s: citySpeed(1_999_999, 19.5),
			status: StatusNonCompliant, actions: speed(0.5, "0.5"), value: F(19.5), threshold: F(20), tier: "MEDIUM",
			shortfall: F(0.5), items: item(0.5, "km/h")},
		{name: "1,999,999 MEDIUM at 20", rule: "T18-BUS-SPEED", s: citySpeed(1_999_999, 20),
			status: StatusCompliant, value: F(20), threshold: F(20), tier: "MEDIUM"},
		{name: "500,000 MEDIUM at 20", rule: "T18-BUS-SPEED", s: citySpeed(500_000, 20),
			status: StatusCompliant, value: F(20), threshold: F(20), tier: "MEDIUM"},
		{name: "499,999 SMALL held to 25", rule: "T18-BUS-SPEED", s: citySpeed(499_999, 24),
			status: StatusNonCompliant, actions: speed(1, "1"), value: F(24), threshold: F(25), tier: "SMALL",
			shortfall: F(1), items: item(1, "km/h")},
		{name: "499,999 SMALL a hundredth short", rule: "T18-BUS-SPEED", s: citySpeed(499_999, 24.99),
			status: StatusNonCompliant, actions: speed(0.01, "0.01"), value: F(24.99), threshold: F(25), tier: "SMALL",
			shortfall: F(0.01), items: item(0.01, "km/h")},
		{name: "499,999 SMALL at 25", rule: "T18-BUS-SPEED", s: citySpeed(499_999, 25),
			status: StatusCompliant, value: F(25), threshold: F(25), tier: "SMALL"},
		{name: "town not applicable", rule: "T18-BUS-SPEED",
			s:      &Settlement{Kind: KindTown, UrbanPopulation: Int64(20_000), AverageBusSpeedKmh: F(10)},
			status: StatusNotApplicable},
		{name: "speed absent", rule: "T18-BUS-SPEED",
			s:      &Settlement{Kind: KindCity, UrbanPopulation: Int64(500_000)},
			status: StatusInsufficientData, threshold: F(20), tier: "MEDIUM", missing: []string{fSpeed}},
		{name: "urban population absent", rule: "T18-BUS-SPEED",
			s:      &Settlement{Kind: KindCity, AverageBusSpeedKmh: F(30)},
			status: StatusInsufficientData, missing: []string{fUrban}},

		// --- T18-DEPOT-AREA: 150 m² per standard unit ----------------------------------------
		{name: "exactly 150", rule: "T18-DEPOT-AREA", s: depot(KindCity, 15000, units(100)),
			status: StatusCompliant, value: F(150), threshold: F(150), thresholdReason: oneThreshold},
		{name: "fleet list, exactly 150", rule: "T18-DEPOT-AREA",
			s:      depot(KindCountyLevelCity, 1950, &Fleet{Vehicles: []VehicleGroup{{LengthM: F(12), Count: 10}}}),
			status: StatusCompliant, value: F(150), threshold: F(150)},
		{name: "140 per unit", rule: "T18-DEPOT-AREA", s: depot(KindCity, 14000, units(100)),
			status: StatusNonCompliant, actions: depotArea(1000, "1,000", "1000"), value: F(140), threshold: F(150),
			shortfall: F(1000), items: item(1000, "m² of bus depot")},
		{name: "fractional area rounds the shortfall up", rule: "T18-DEPOT-AREA", s: depot(KindCity, 14999.5, units(100)),
			status: StatusNonCompliant, actions: depotArea(1, "1", "1"), value: F(149.995), threshold: F(150),
			shortfall: F(1), items: item(1, "m² of bus depot")},
		{name: "empty fleet", rule: "T18-DEPOT-AREA",
			s:      depot(KindCity, 1000, &Fleet{Vehicles: []VehicleGroup{{VehicleClass: "LENGTH_7_10M", Count: 0}}}),
			status: StatusNotApplicable, threshold: F(150), reason: "the fleet is empty"},
		{name: "zero standard units", rule: "T18-DEPOT-AREA", s: depot(KindCity, 1000, units(0)),
			status: StatusNotApplicable, threshold: F(150)},
		{name: "county not applicable", rule: "T18-DEPOT-AREA", s: depot(KindCounty, 1000, units(1)),
			status: StatusNotApplicable},
		{name: "depot area absent", rule: "T18-DEPOT-AREA",
			s:      &Settlement{Kind: KindCity, Fleet: units(10)},
			status: StatusInsufficientData, threshold: F(150), missing: []string{fDepot}},
		{name: "depot area and fleet absent", rule: "T18-DEPOT-AREA",
			s:      &Settlement{Kind: KindCity},
			status: StatusInsufficientData, threshold: F(150), missing: []string{fDepot, fFleet}},

		// --- T18-PARKING: ≥ 25 per 100 vehicles, 25–30 target band --------------------------
		{name: "exactly 25", rule: "T18-PARKING", s: parking(KindCity, 10000, 2500),
			status: StatusCompliant, value: F(25), threshold: F(25), upper: F(30), sizeClass: parkingBand,
			note: "within the 25–30 target band"},
		{name: "exactly 30", rule: "T18-PARKING", s: parking(KindCity, 10000, 3000),
			status: StatusCompliant, value: F(30), threshold: F(25), upper: F(30), sizeClass: parkingBand,
			note: "within the 25–30 target band"},
		{name: "31 is above the band but compliant", rule: "T18-PARKING", s: parking(KindCountyLevelCity, 10000, 3100),
			status: StatusCompliant, value: F(31), threshold: F(25), upper: F(30), sizeClass: parkingBand,
			note: "31 spaces per 100 vehicles is above the 25–30 target band: informational, not a failure"},
		{name: "24.99 short one space", rule: "T18-PARKING", s: parking(KindCity, 10000, 2499),
			status: StatusNonCompliant, actions: parkingSpaces(1, "1", "1"), value: F(24.99), threshold: F(25), upper: F(30), sizeClass: parkingBand,
			shortfall: F(1), items: item(1, "public parking spaces")},
		{name: "10 per 100", rule: "T18-PARKING", s: parking(KindCounty, 10000, 1000),
			status: StatusNonCompliant, actions: parkingSpaces(1500, "1,500", "1500"), value: F(10), threshold: F(25), upper: F(30), sizeClass: parkingBand,
			shortfall: F(1500), items: item(1500, "public parking spaces")},
		{name: "shortfall rounds up to whole spaces", rule: "T18-PARKING", s: parking(KindCity, 7, 1),
			status: StatusNonCompliant, actions: parkingSpaces(1, "1", "1"), value: F(100.0 / 7), threshold: F(25), upper: F(30), sizeClass: parkingBand,
			shortfall: F(1), items: item(1, "public parking spaces")},
		{name: "zero vehicles", rule: "T18-PARKING", s: parking(KindCity, 0, 10),
			status: StatusNotApplicable, threshold: F(25), upper: F(30), sizeClass: parkingBand,
			reason: "no registered vehicles"},
		{name: "town not applicable", rule: "T18-PARKING", s: parking(KindTown, 100, 1),
			status: StatusNotApplicable},
		{name: "inputs absent", rule: "T18-PARKING", s: &Settlement{Kind: KindCity},
			status: StatusInsufficientData, threshold: F(25), upper: F(30), sizeClass: parkingBand,
			missing: []string{fVehicles, fSpaces}},
		{name: "spaces absent", rule: "T18-PARKING", s: &Settlement{Kind: KindCity, RegisteredVehicles: Int64(10)},
			status: StatusInsufficientData, threshold: F(25), upper: F(30), sizeClass: parkingBand,
			missing: []string{fSpaces}},
		{name: "kind absent", rule: "T18-PARKING", s: parking("", 100, 25),
			status: StatusInsufficientData, missing: []string{fKind}},

		// --- declared facts ------------------------------------------------------------------
		{name: "declared true", rule: "T18-ROAD-HIERARCHY", s: fact(KindCity, FactRoadHierarchy, true),
			status: StatusCompliant, value: F(1), threshold: F(1)},
		{name: "declared false", rule: "T18-ROAD-HIERARCHY", s: fact(KindCountyLevelCity, FactRoadHierarchy, false),
			status: StatusNonCompliant, actions: nil, value: F(0), threshold: F(1)},
		{name: "absent", rule: "T18-ROAD-HIERARCHY", s: &Settlement{Kind: KindCity},
			status: StatusInsufficientData, threshold: F(1), missing: []string{fRoads}},
		{name: "town not applicable", rule: "T18-ROAD-HIERARCHY", s: fact(KindTown, FactRoadHierarchy, true),
			status: StatusNotApplicable},
		{name: "kind absent", rule: "T18-ROAD-HIERARCHY", s: fact("", FactRoadHierarchy, true),
			status: StatusInsufficientData, missing: []string{fKind}},
		{name: "declared true", rule: "T18-ITS", s: fact(KindCity, FactIntelligentTrafficSystem, true),
			status: StatusCompliant, value: F(1), threshold: F(1)},
		{name: "declared false", rule: "T18-ITS", s: fact(KindCity, FactIntelligentTrafficSystem, false),
			status: StatusNonCompliant, actions: its(), value: F(0), threshold: F(1)},
		{name: "absent", rule: "T18-ITS", s: &Settlement{Kind: KindCity},
			status: StatusInsufficientData, threshold: F(1), missing: []string{fITS}},
		{name: "other fact does not count", rule: "T18-ITS", s: fact(KindCity, FactRoadHierarchy, true),
			status: StatusInsufficientData, threshold: F(1), missing: []string{fITS}},
		{name: "county not applicable", rule: "T18-ITS", s: fact(KindCounty, FactIntelligentTrafficSystem, true),
			status: StatusNotApplicable},
		{name: "kind absent and fact absent", rule: "T18-ITS", s: &Settlement{},
			status: StatusInsufficientData, missing: []string{fKind, fITS}},
		{name: "county declared true", rule: "T19-COMPULSORY-BALANCE", s: fact(KindCounty, FactCompulsoryEducationBalance, true),
			status: StatusCompliant, value: F(1), threshold: F(1)},
		{name: "district declared true", rule: "T19-COMPULSORY-BALANCE", s: fact(KindDistrict, FactCompulsoryEducationBalance, true),
			status: StatusCompliant, value: F(1), threshold: F(1)},
		{name: "county-level city declared false", rule: "T19-COMPULSORY-BALANCE", s: fact(KindCountyLevelCity, FactCompulsoryEducationBalance, false),
			status: StatusNonCompliant, actions: nil, value: F(0), threshold: F(1)},
		{name: "absent", rule: "T19-COMPULSORY-BALANCE", s: &Settlement{Kind: KindCounty},
			status: StatusInsufficientData, threshold: F(1), missing: []string{fBalance}},
		{name: "town not applicable", rule: "T19-COMPULSORY-BALANCE", s: fact(KindTown, FactCompulsoryEducationBalance, true),
			status: StatusNotApplicable},
		{name: "city not applicable", rule: "T19-COMPULSORY-BALANCE", s: fact(KindCity, FactCompulsoryEducationBalance, true),
			status: StatusNotApplicable},

		// --- T19-ELDERLY-BEDS: 36 per 1,000 aged 60+ ------------------------------------------
		{name: "acceptance t1", rule: "T19-ELDERLY-BEDS", s: elderly(12000, 300),
			status: StatusNonCompliant, actions: beds(132, "132"), value: F(25), threshold: F(36), shortfall: F(132), items: item(132, "beds"),
			thresholdReason: oneThreshold},
		{name: "exactly 36", rule: "T19-ELDERLY-BEDS", s: elderly(12000, 432),
			status: StatusCompliant, value: F(36), threshold: F(36)},
		{name: "one bed short", rule: "T19-ELDERLY-BEDS", s: elderly(12000, 431),
			status: StatusNonCompliant, actions: beds(1, "1"), value: F(35.916666666666664), threshold: F(36), shortfall: F(1), items: item(1, "beds")},
		{name: "12,345 elderly need 445 beds, 444 short by one", rule: "T19-ELDERLY-BEDS", s: elderly(12345, 444),
			status: StatusNonCompliant, actions: beds(1, "1"), value: F(444000.0 / 12345), threshold: F(36), shortfall: F(1), items: item(1, "beds")},
		{name: "12,345 elderly, 445 beds", rule: "T19-ELDERLY-BEDS", s: elderly(12345, 445),
			status: StatusCompliant, value: F(445000.0 / 12345), threshold: F(36)},
		{name: "12,345 elderly, no beds", rule: "T19-ELDERLY-BEDS", s: elderly(12345, 0),
			status: StatusNonCompliant, actions: beds(445, "445"), value: F(0), threshold: F(36), shortfall: F(445), items: item(445, "beds")},
		{name: "city applies too", rule: "T19-ELDERLY-BEDS",
			s:      &Settlement{Kind: KindCity, ElderlyPopulation: Int64(500_000), ElderlyCareBeds: Int64(20_000)},
			status: StatusCompliant, value: F(40), threshold: F(36)},
		{name: "kind absent still applies", rule: "T19-ELDERLY-BEDS",
			s:      &Settlement{ElderlyPopulation: Int64(1000), ElderlyCareBeds: Int64(36)},
			status: StatusCompliant, value: F(36), threshold: F(36)},
		{name: "zero elderly", rule: "T19-ELDERLY-BEDS", s: elderly(0, 10),
			status: StatusNotApplicable, threshold: F(36), reason: "no residents aged 60+"},
		{name: "elderly absent", rule: "T19-ELDERLY-BEDS",
			s:      &Settlement{ID: "t1", Kind: KindTown, ElderlyCareBeds: Int64(300)},
			status: StatusInsufficientData, threshold: F(36), missing: []string{fElderly}},
		{name: "zero elderly, beds absent", rule: "T19-ELDERLY-BEDS",
			s:      &Settlement{Kind: KindTown, ElderlyPopulation: Int64(0)},
			status: StatusInsufficientData, threshold: F(36), missing: []string{fBeds}},
		{name: "both absent", rule: "T19-ELDERLY-BEDS", s: &Settlement{Kind: KindTown},
			status: StatusInsufficientData, threshold: F(36), missing: []string{fElderly, fBeds}},

		// --- county hospitals ------------------------------------------------------------------
		{name: "county has one", rule: "T19-COUNTY-GENERAL-HOSPITAL",
			s:      &Settlement{Kind: KindCounty, Facilities: fac(FacilityLevel2GeneralHospital, 1)},
			status: StatusCompliant, value: F(1), threshold: F(1), thresholdReason: oneThreshold},
		{name: "county-level city has two", rule: "T19-COUNTY-GENERAL-HOSPITAL",
			s:      &Settlement{Kind: KindCountyLevelCity, Facilities: fac(FacilityLevel2GeneralHospital, 2)},
			status: StatusCompliant, value: F(2), threshold: F(1)},
		{name: "county has none", rule: "T19-COUNTY-GENERAL-HOSPITAL",
			s:      &Settlement{Kind: KindCounty, Facilities: fac(FacilityLevel2GeneralHospital, 0)},
			status: StatusNonCompliant, actions: build(FacilityLevel2GeneralHospital, 1, "build 1 level-2 general hospital", "新建二级综合医院1所"), value: F(0), threshold: F(1), shortfall: F(1),
			items: []Shortfall{facItem(1, FacilityLevel2GeneralHospital)}},
		{name: "town not applicable", rule: "T19-COUNTY-GENERAL-HOSPITAL",
			s:      &Settlement{Kind: KindTown, Facilities: fac(FacilityLevel2GeneralHospital, 0)},
			status: StatusNotApplicable},
		{name: "city not applicable", rule: "T19-COUNTY-GENERAL-HOSPITAL",
			s:      &Settlement{Kind: KindCity},
			status: StatusNotApplicable},
		{name: "count absent", rule: "T19-COUNTY-GENERAL-HOSPITAL",
			s:      &Settlement{Kind: KindCounty, Facilities: fac(FacilityTCMHospital, 1)},
			status: StatusInsufficientData, threshold: F(1), missing: []string{fL2}},
		{name: "kind absent", rule: "T19-COUNTY-GENERAL-HOSPITAL",
			s:      &Settlement{Facilities: fac(FacilityLevel2GeneralHospital, 1)},
			status: StatusInsufficientData, missing: []string{fKind}},
		{name: "acceptance: county-level city without TCM hospital", rule: "T19-COUNTY-TCM-HOSPITAL",
			s:      &Settlement{Kind: KindCountyLevelCity, Facilities: fac(FacilityTCMHospital, 0)},
			status: StatusNonCompliant, actions: build(FacilityTCMHospital, 1, "build 1 traditional-Chinese-medicine hospital", "新建中医医院1所"), value: F(0), threshold: F(1), shortfall: F(1),
			items: []Shortfall{facItem(1, FacilityTCMHospital)}},
		{name: "county has one", rule: "T19-COUNTY-TCM-HOSPITAL",
			s:      &Settlement{Kind: KindCounty, Facilities: fac(FacilityTCMHospital, 1)},
			status: StatusCompliant, value: F(1), threshold: F(1)},
		{name: "district not applicable", rule: "T19-COUNTY-TCM-HOSPITAL",
			s:      &Settlement{Kind: KindDistrict, Facilities: fac(FacilityTCMHospital, 0)},
			status: StatusNotApplicable},
		{name: "facilities absent", rule: "T19-COUNTY-TCM-HOSPITAL", s: &Settlement{Kind: KindCounty},
			status: StatusInsufficientData, threshold: F(1), missing: []string{fTCM}},

		// --- T19-MCH-HOSPITAL ------------------------------------------------------------------
		{name: "regional central city has one", rule: "T19-MCH-HOSPITAL",
			s:      rcc(KindCity, fac(FacilityMaternalChildHealthHosp, 1)),
			status: StatusCompliant, value: F(1), threshold: F(1)},
		{name: "regional central city of no stated kind", rule: "T19-MCH-HOSPITAL",
			s:      rcc("", fac(FacilityMaternalChildHealthHosp, 3)),
			status: StatusInsufficientData, missing: []string{"settlement.kind"}, thresholdUnchecked: true},
		{name: "regional central city that is a county-level city", rule: "T19-MCH-HOSPITAL",
			s:      rcc(KindCountyLevelCity, fac(FacilityMaternalChildHealthHosp, 3)),
			status: StatusCompliant, value: F(3), threshold: F(1)},
		{name: "a town is never a regional central city", rule: "T19-MCH-HOSPITAL",
			s:      rcc(KindTown, fac(FacilityMaternalChildHealthHosp, 0)),
			status: StatusNotApplicable, reason: "applies to cities and county-level cities"},
		{name: "flag absent", rule: "T19-MCH-HOSPITAL",
			s:      &Settlement{Kind: KindCity, Facilities: fac(FacilityMaternalChildHealthHosp, 0)},
			status: StatusInsufficientData, missing: []string{"settlement.regionalCentralCity"}, thresholdUnchecked: true},
		{name: "regional central city has none", rule: "T19-MCH-HOSPITAL",
			s:      rcc(KindCity, fac(FacilityMaternalChildHealthHosp, 0)),
			status: StatusNonCompliant, actions: build(FacilityMaternalChildHealthHosp, 1, "build 1 maternal and child health hospital", "新建妇幼保健院1所"), value: F(0), threshold: F(1), shortfall: F(1),
			items: []Shortfall{facItem(1, FacilityMaternalChildHealthHosp)}},
		{name: "not flagged", rule: "T19-MCH-HOSPITAL",
			s:      &Settlement{Kind: KindCity, RegionalCentralCity: Bool(false), Facilities: fac(FacilityMaternalChildHealthHosp, 0)},
			status: StatusNotApplicable, reason: "regionalCentralCity false"},
		{name: "count absent", rule: "T19-MCH-HOSPITAL", s: rcc(KindCity, nil),
			status: StatusInsufficientData, threshold: F(1), missing: []string{fMCH}},

		// --- T19-COMMUNITY-HEALTH-CENTRE: P ≥ 30,000 needs ⌈P ÷ 100,000⌉ ----------------------
		{name: "9,999", rule: "T19-COMMUNITY-HEALTH-CENTRE", s: centre(9_999, 0), status: StatusNotApplicable,
			reason: "no threshold for a resident population of 9,999"},
		{name: "10,000", rule: "T19-COMMUNITY-HEALTH-CENTRE", s: centre(10_000, 0), status: StatusNotApplicable},
		{name: "20,000", rule: "T19-COMMUNITY-HEALTH-CENTRE", s: centre(20_000, 0), status: StatusNotApplicable},
		{name: "29,999", rule: "T19-COMMUNITY-HEALTH-CENTRE", s: centre(29_999, 0), status: StatusNotApplicable},
		{name: "29,999 with count absent", rule: "T19-COMMUNITY-HEALTH-CENTRE", s: town(29_999), status: StatusNotApplicable},
		{name: "30,000 with one", rule: "T19-COMMUNITY-HEALTH-CENTRE", s: centre(30_000, 1),
			status: StatusCompliant, value: F(1), threshold: F(1), sizeClass: centreSmall,
			thresholdReason: "towns of 30,000–99,999 residents: resident population 30,000"},
		{name: "30,000 with none", rule: "T19-COMMUNITY-HEALTH-CENTRE", s: centre(30_000, 0),
			status: StatusNonCompliant, actions: oneCentre, value: F(0), threshold: F(1), sizeClass: centreSmall, shortfall: F(1),
			items: []Shortfall{facItem(1, FacilityCommunityHealthCentre)}},
		{name: "acceptance: 35,000 with none", rule: "T19-COMMUNITY-HEALTH-CENTRE", s: centre(35_000, 0),
			status: StatusNonCompliant, actions: oneCentre, value: F(0), threshold: F(1), sizeClass: centreSmall, shortfall: F(1),
			items: []Shortfall{facItem(1, FacilityCommunityHealthCentre)}},
		{name: "99,999 with one", rule: "T19-COMMUNITY-HEALTH-CENTRE", s: centre(99_999, 1),
			status: StatusCompliant, value: F(1), threshold: F(1), sizeClass: centreSmall},
		{name: "100,000 with one", rule: "T19-COMMUNITY-HEALTH-CENTRE", s: centre(100_000, 1),
			status: StatusCompliant, value: F(1), threshold: F(1), sizeClass: centreLarge,
			note: "Interpretation: ", thresholdReason: "1 required (⌈100,000 ÷ 100,000⌉)"},
		{name: "100,000 with none", rule: "T19-COMMUNITY-HEALTH-CENTRE", s: centre(100_000, 0),
			status: StatusNonCompliant, actions: oneCentre, value: F(0), threshold: F(1), sizeClass: centreLarge, shortfall: F(1),
			items: []Shortfall{facItem(1, FacilityCommunityHealthCentre)}},
		{name: "100,001 needs two", rule: "T19-COMMUNITY-HEALTH-CENTRE", s: centre(100_001, 1),
			status: StatusNonCompliant, actions: oneCentre, value: F(1), threshold: F(2), sizeClass: centreLarge, shortfall: F(1),
			items:           []Shortfall{facItem(1, FacilityCommunityHealthCentre)},
			thresholdReason: "2 required (⌈100,001 ÷ 100,000⌉)"},
		{name: "100,001 with two", rule: "T19-COMMUNITY-HEALTH-CENTRE", s: centre(100_001, 2),
			status: StatusCompliant, value: F(2), threshold: F(2), sizeClass: centreLarge},
		{name: "250,000 needs three", rule: "T19-COMMUNITY-HEALTH-CENTRE", s: centre(250_000, 2),
			status: StatusNonCompliant, actions: oneCentre, value: F(2), threshold: F(3), sizeClass: centreLarge, shortfall: F(1),
			items:           []Shortfall{facItem(1, FacilityCommunityHealthCentre)},
			thresholdReason: "3 required (⌈250,000 ÷ 100,000⌉)"},
		{name: "250,000 with none", rule: "T19-COMMUNITY-HEALTH-CENTRE", s: centre(250_000, 0),
			status: StatusNonCompliant, actions: build(FacilityCommunityHealthCentre, 3, "build 3 community health service centres", "新建社区卫生服务中心3所"), value: F(0), threshold: F(3), sizeClass: centreLarge, shortfall: F(3),
			items: []Shortfall{facItem(3, FacilityCommunityHealthCentre)}},
		{name: "250,000 with three", rule: "T19-COMMUNITY-HEALTH-CENTRE", s: centre(250_000, 3),
			status: StatusCompliant, value: F(3), threshold: F(3), sizeClass: centreLarge},
		{name: "city not applicable", rule: "T19-COMMUNITY-HEALTH-CENTRE",
			s:      &Settlement{Kind: KindCity, ResidentPopulation: Int64(50_000), Facilities: fac(FacilityCommunityHealthCentre, 0)},
			status: StatusNotApplicable},
		{name: "resident population absent", rule: "T19-COMMUNITY-HEALTH-CENTRE",
			s:      &Settlement{Kind: KindTown, Facilities: fac(FacilityCommunityHealthCentre, 1)},
			status: StatusInsufficientData, missing: []string{fResident}},
		{name: "resident population and count absent", rule: "T19-COMMUNITY-HEALTH-CENTRE",
			s:      &Settlement{Kind: KindTown},
			status: StatusInsufficientData, missing: []string{fResident, fCentres}},
		{name: "count absent", rule: "T19-COMMUNITY-HEALTH-CENTRE", s: town(50_000),
			status: StatusInsufficientData, threshold: F(1), sizeClass: centreSmall, missing: []string{fCentres}},
		{name: "count absent at 250,000", rule: "T19-COMMUNITY-HEALTH-CENTRE", s: town(250_000),
			status: StatusInsufficientData, sizeClass: centreLarge, missing: []string{fCentres},
			thresholdUnchecked: true},
		{name: "kind absent", rule: "T19-COMMUNITY-HEALTH-CENTRE",
			s:      &Settlement{ResidentPopulation: Int64(50_000), Facilities: fac(FacilityCommunityHealthCentre, 1)},
			status: StatusInsufficientData, missing: []string{fKind}},

		// --- T19-COMMUNITY-HEALTH-STATION: 10,000 ≤ P < 30,000 ---------------------------------
		{name: "9,999", rule: "T19-COMMUNITY-HEALTH-STATION", s: station(9_999, 0), status: StatusNotApplicable},
		{name: "10,000 with one", rule: "T19-COMMUNITY-HEALTH-STATION", s: station(10_000, 1),
			status: StatusCompliant, value: F(1), threshold: F(1), sizeClass: station10,
			thresholdReason: "towns of 10,000–19,999 residents: resident population 10,000"},
		{name: "10,000 with none", rule: "T19-COMMUNITY-HEALTH-STATION", s: station(10_000, 0),
			status: StatusNonCompliant, actions: oneStation, value: F(0), threshold: F(1), sizeClass: station10, shortfall: F(1),
			items: []Shortfall{facItem(1, FacilityCommunityHealthStation)}},
		{name: "19,999 with one", rule: "T19-COMMUNITY-HEALTH-STATION", s: station(19_999, 1),
			status: StatusCompliant, value: F(1), threshold: F(1), sizeClass: station10},
		{name: "20,000 with none (interpretation)", rule: "T19-COMMUNITY-HEALTH-STATION", s: station(20_000, 0),
			status: StatusNonCompliant, actions: oneStation, value: F(0), threshold: F(1), sizeClass: station20, shortfall: F(1),
			items: []Shortfall{facItem(1, FacilityCommunityHealthStation)},
			note:  "Interpretation: The plan is silent on towns of 20,000–30,000 residents"},
		{name: "20,000 with one", rule: "T19-COMMUNITY-HEALTH-STATION", s: station(20_000, 1),
			status: StatusCompliant, value: F(1), threshold: F(1), sizeClass: station20, note: "Interpretation: "},
		{name: "29,999 with two", rule: "T19-COMMUNITY-HEALTH-STATION", s: station(29_999, 2),
			status: StatusCompliant, value: F(2), threshold: F(1), sizeClass: station20},
		{name: "30,000", rule: "T19-COMMUNITY-HEALTH-STATION", s: station(30_000, 0), status: StatusNotApplicable,
			reason: "no threshold for a resident population of 30,000"},
		{name: "99,999", rule: "T19-COMMUNITY-HEALTH-STATION", s: station(99_999, 0), status: StatusNotApplicable},
		{name: "100,000", rule: "T19-COMMUNITY-HEALTH-STATION", s: station(100_000, 0), status: StatusNotApplicable},
		{name: "100,001", rule: "T19-COMMUNITY-HEALTH-STATION", s: station(100_001, 0), status: StatusNotApplicable},
		{name: "250,000", rule: "T19-COMMUNITY-HEALTH-STATION", s: station(250_000, 0), status: StatusNotApplicable},
		{name: "county not applicable", rule: "T19-COMMUNITY-HEALTH-STATION",
			s:      &Settlement{Kind: KindCounty, ResidentPopulation: Int64(15_000), Facilities: fac(FacilityCommunityHealthStation, 0)},
			status: StatusNotApplicable},
		{name: "count absent", rule: "T19-COMMUNITY-HEALTH-STATION", s: town(15_000),
			status: StatusInsufficientData, threshold: F(1), sizeClass: station10, missing: []string{fStations}},
		{name: "resident population and count absent", rule: "T19-COMMUNITY-HEALTH-STATION", s: &Settlement{Kind: KindTown},
			status: StatusInsufficientData, missing: []string{fResident, fStations}},
		{name: "kind absent", rule: "T19-COMMUNITY-HEALTH-STATION",
			s:      &Settlement{ResidentPopulation: Int64(15_000), Facilities: fac(FacilityCommunityHealthStation, 1)},
			status: StatusInsufficientData, missing: []string{fKind}},

		// --- T19-TOWNSHIP-HEALTH-CENTRE and T19-KINDERGARTEN -----------------------------------
		{name: "town has one", rule: "T19-TOWNSHIP-HEALTH-CENTRE", s: withFac(town(5_000), fac(FacilityTownshipHealthCentre, 1)),
			status: StatusCompliant, value: F(1), threshold: F(1)},
		{name: "town has none", rule: "T19-TOWNSHIP-HEALTH-CENTRE", s: withFac(town(500_000), fac(FacilityTownshipHealthCentre, 0)),
			status: StatusNonCompliant, actions: build(FacilityTownshipHealthCentre, 1, "build 1 public township health centre", "新建公办卫生院1所"), value: F(0), threshold: F(1), shortfall: F(1),
			items: []Shortfall{facItem(1, FacilityTownshipHealthCentre)}},
		{name: "county not applicable", rule: "T19-TOWNSHIP-HEALTH-CENTRE",
			s: &Settlement{Kind: KindCounty, Facilities: fac(FacilityTownshipHealthCentre, 0)}, status: StatusNotApplicable},
		{name: "count absent", rule: "T19-TOWNSHIP-HEALTH-CENTRE", s: &Settlement{Kind: KindTown},
			status: StatusInsufficientData, threshold: F(1), missing: []string{fTownship}},
		{name: "kind absent", rule: "T19-TOWNSHIP-HEALTH-CENTRE", s: &Settlement{Facilities: fac(FacilityTownshipHealthCentre, 1)},
			status: StatusInsufficientData, missing: []string{fKind}},
		{name: "town has one", rule: "T19-KINDERGARTEN", s: withFac(town(8_000), fac(FacilityStandardKindergarten, 1)),
			status: StatusCompliant, value: F(1), threshold: F(1)},
		{name: "town has none", rule: "T19-KINDERGARTEN", s: withFac(town(8_000), fac(FacilityStandardKindergarten, 0)),
			status: StatusNonCompliant, actions: build(FacilityStandardKindergarten, 1, "build 1 standard kindergarten", "新建标准幼儿园1所"), value: F(0), threshold: F(1), shortfall: F(1),
			items: []Shortfall{facItem(1, FacilityStandardKindergarten)}},
		{name: "city not applicable", rule: "T19-KINDERGARTEN",
			s: &Settlement{Kind: KindCity, Facilities: fac(FacilityStandardKindergarten, 0)}, status: StatusNotApplicable},
		{name: "count absent", rule: "T19-KINDERGARTEN", s: town(8_000),
			status: StatusInsufficientData, threshold: F(1), missing: []string{fKinder}},

		// --- T19-CULTURE ----------------------------------------------------------------------
		{name: "all three", rule: "T19-CULTURE",
			s:      rcc(KindCity, fac(FacilityLibrary, 1, FacilityCulturalCentre, 1, FacilityMuseum, 1)),
			status: StatusCompliant, value: F(3), threshold: F(3)},
		{name: "two libraries count as one type", rule: "T19-CULTURE",
			s:      rcc(KindCity, fac(FacilityLibrary, 2, FacilityCulturalCentre, 1, FacilityMuseum, 0)),
			status: StatusNonCompliant, actions: oneMuseum, value: F(2), threshold: F(3), shortfall: F(1),
			items: []Shortfall{facItem(1, FacilityMuseum)}},
		{name: "missing a museum", rule: "T19-CULTURE",
			s:      rcc(KindCity, fac(FacilityLibrary, 1, FacilityCulturalCentre, 1, FacilityMuseum, 0)),
			status: StatusNonCompliant, actions: oneMuseum, value: F(2), threshold: F(3), shortfall: F(1),
			items: []Shortfall{facItem(1, FacilityMuseum)}, reason: "missing 1 museum"},
		{name: "missing all three", rule: "T19-CULTURE",
			s:      rcc(KindCountyLevelCity, fac(FacilityLibrary, 0, FacilityCulturalCentre, 0, FacilityMuseum, 0)),
			status: StatusNonCompliant, actions: slices.Concat(build(FacilityLibrary, 1, "build 1 library", "新建图书馆1座"), build(FacilityCulturalCentre, 1, "build 1 cultural centre", "新建文化馆1座"), oneMuseum), value: F(0), threshold: F(3), shortfall: F(3),
			items: []Shortfall{facItem(1, FacilityLibrary), facItem(1, FacilityCulturalCentre), facItem(1, FacilityMuseum)}},
		{name: "not flagged", rule: "T19-CULTURE",
			s:      &Settlement{Kind: KindCity, RegionalCentralCity: Bool(false), Facilities: fac(FacilityLibrary, 0, FacilityCulturalCentre, 0, FacilityMuseum, 0)},
			status: StatusNotApplicable, reason: "regionalCentralCity false"},
		{name: "museum count absent", rule: "T19-CULTURE",
			s:      rcc(KindCity, fac(FacilityLibrary, 1, FacilityCulturalCentre, 1)),
			status: StatusInsufficientData, missing: []string{fMuseums}, thresholdUnchecked: true},
		{name: "all counts absent", rule: "T19-CULTURE", s: rcc(KindCity, nil),
			status: StatusInsufficientData, missing: []string{fLibraries, fCultural, fMuseums}, thresholdUnchecked: true},

		// --- T19-PRESCHOOL-ENROLMENT: ≥ 0.8 ------------------------------------------------------
		{name: "exactly 0.8", rule: "T19-PRESCHOOL-ENROLMENT", s: preschool(1000, 800),
			status: StatusCompliant, value: F(0.8), threshold: F(0.8)},
		{name: "gross ratio above 1", rule: "T19-PRESCHOOL-ENROLMENT", s: preschool(1000, 1100),
			status: StatusCompliant, value: F(1.1), threshold: F(0.8)},
		{name: "0.799", rule: "T19-PRESCHOOL-ENROLMENT", s: preschool(1000, 799),
			status: StatusNonCompliant, actions: enrol(1, "1"), value: F(0.799), threshold: F(0.8), shortfall: F(1), items: item(1, "children to enrol")},
		{name: "rounds children up", rule: "T19-PRESCHOOL-ENROLMENT", s: preschool(3, 2),
			status: StatusNonCompliant, actions: enrol(1, "1"), value: F(2.0 / 3), threshold: F(0.8), shortfall: F(1), items: item(1, "children to enrol")},
		{name: "no children", rule: "T19-PRESCHOOL-ENROLMENT", s: preschool(0, 0),
			status: StatusNotApplicable, threshold: F(0.8), reason: "no children aged 3-5"},
		{name: "absent", rule: "T19-PRESCHOOL-ENROLMENT", s: &Settlement{Kind: KindTown},
			status: StatusInsufficientData, threshold: F(0.8), missing: []string{fKids, fEnrolled}},
		{name: "enrolment absent", rule: "T19-PRESCHOOL-ENROLMENT", s: &Settlement{PreschoolAgePopulation: Int64(100)},
			status: StatusInsufficientData, threshold: F(0.8), missing: []string{fEnrolled}},

		// --- T19-VOCATIONAL: informational --------------------------------------------------------
		{name: "0.9", rule: "T19-VOCATIONAL", s: voc(450, 500),
			status: StatusInformational, value: F(0.9), threshold: F(1), sizeClass: vocBand,
			reason: "the plan sets no hard threshold"},
		{name: "1.2", rule: "T19-VOCATIONAL", s: voc(600, 500),
			status: StatusInformational, value: F(1.2), threshold: F(1), sizeClass: vocBand},
		{name: "no general intake", rule: "T19-VOCATIONAL", s: voc(10, 0),
			status: StatusNotApplicable, threshold: F(1), sizeClass: vocBand},
		{name: "absent", rule: "T19-VOCATIONAL", s: &Settlement{Kind: KindCounty},
			status: StatusInsufficientData, threshold: F(1), sizeClass: vocBand, missing: []string{fVoc, fGen}},

		// --- G-LAND-PER-CAPITA: ≤ 115 m² ----------------------------------------------------------
		{name: "exactly 115", rule: "G-LAND-PER-CAPITA", s: land(KindCity, 1_000_000, 115),
			status: StatusCompliant, value: F(115), threshold: F(115), reason: "within the limit"},
		{name: "2,000,000 at exactly 115", rule: "G-LAND-PER-CAPITA", s: land(KindCity, 2_000_000, 230),
			status: StatusCompliant, value: F(115), threshold: F(115)},
		{name: "below the limit", rule: "G-LAND-PER-CAPITA", s: land(KindCountyLevelCity, 500_000, 50),
			status: StatusCompliant, value: F(100), threshold: F(115)},
		{name: "116 exceeds by 1 km²", rule: "G-LAND-PER-CAPITA", s: land(KindCity, 1_000_000, 116),
			status: StatusNonCompliant, actions: lessLand(1, "1"), value: F(116), threshold: F(115), shortfall: F(1),
			items: item(1, "km² of urban construction land above the limit")},
		{name: "115.25 exceeds by 0.5 km²", rule: "G-LAND-PER-CAPITA", s: land(KindCity, 2_000_000, 230.5),
			status: StatusNonCompliant, actions: lessLand(0.5, "0.5"), value: F(115.25), threshold: F(115), shortfall: F(0.5),
			items: item(0.5, "km² of urban construction land above the limit")},
		{name: "zero urban population", rule: "G-LAND-PER-CAPITA", s: land(KindCity, 0, 10),
			status: StatusNotApplicable, threshold: F(115)},
		{name: "town not applicable", rule: "G-LAND-PER-CAPITA", s: land(KindTown, 30_000, 10),
			status: StatusNotApplicable},
		{name: "land absent", rule: "G-LAND-PER-CAPITA", s: &Settlement{Kind: KindCity, UrbanPopulation: Int64(10)},
			status: StatusInsufficientData, threshold: F(115), missing: []string{fLand}},
		{name: "land and population absent", rule: "G-LAND-PER-CAPITA", s: &Settlement{Kind: KindCity},
			status: StatusInsufficientData, threshold: F(115), missing: []string{fLand, fUrban}},

		// --- G-URBANISATION: informational ----------------------------------------------------------
		{name: "0.6", rule: "G-URBANISATION", s: urbanisation(KindCity, 1000, 600),
			status: StatusInformational, value: F(0.6), threshold: F(0.6), sizeClass: urbBand},
		{name: "county 0.35", rule: "G-URBANISATION", s: urbanisation(KindCounty, 200_000, 70_000),
			status: StatusInformational, value: F(0.35), threshold: F(0.6), sizeClass: urbBand},
		{name: "no residents", rule: "G-URBANISATION", s: urbanisation(KindCity, 0, 0),
			status: StatusNotApplicable, threshold: F(0.6), sizeClass: urbBand},
		{name: "town not applicable", rule: "G-URBANISATION", s: urbanisation(KindTown, 1000, 600),
			status: StatusNotApplicable},
		{name: "absent", rule: "G-URBANISATION", s: &Settlement{Kind: KindCountyLevelCity},
			status: StatusInsufficientData, threshold: F(0.6), sizeClass: urbBand, missing: []string{fUrbanised, fResident}},
	}
}

func approx(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

func ptrString(p *float64) string {
	if p == nil {
		return "nil"
	}
	return strconv.FormatFloat(*p, 'g', -1, 64)
}

// checkFloat reports a mismatch between an optional float and its expectation.
func checkFloat(t *testing.T, what string, got, want *float64) {
	t.Helper()
	switch {
	case want == nil && got != nil:
		t.Errorf("%s = %v, want nil", what, *got)
	case want != nil && got == nil:
		t.Errorf("%s = nil, want %v", what, *want)
	case want != nil && !approx(*got, *want):
		t.Errorf("%s = %v, want %v", what, *got, *want)
	}
}

func findResult(t *testing.T, a *Audit, id string) Result {
	t.Helper()
	for _, r := range a.Results {
		if r.RuleID == id {
			return r
		}
	}
	t.Fatalf("no result for rule %s among %d results", id, len(a.Results))
	return Result{}
}

func checkResult(t *testing.T, rs *Ruleset, got Result, c ruleCase) {
	t.Helper()
	if got.Status != c.status {
		t.Errorf("status = %s, want %s (reason %q, missing %v)", got.Status, c.status, got.Reason, got.MissingFields)
	}
	checkFloat(t, "value", got.Value, c.value)
	if !c.thresholdUnchecked {
		checkFloat(t, "threshold", got.Threshold, c.threshold)
	}
	checkFloat(t, "thresholdUpper", got.ThresholdUpper, c.upper)
	checkFloat(t, "shortfall", got.Shortfall, c.shortfall)
	if got.Tier != c.tier {
		t.Errorf("tier = %q, want %q", got.Tier, c.tier)
	}
	if got.SizeClass != c.sizeClass {
		t.Errorf("sizeClass = %q, want %q", got.SizeClass, c.sizeClass)
	}
	if want := shortfallUnits[c.rule]; got.ShortfallUnit != want {
		t.Errorf("shortfallUnit = %q, want %q", got.ShortfallUnit, want)
	}
	if !slices.Equal(got.MissingFields, c.missing) {
		t.Errorf("missingFields = %q, want %q", got.MissingFields, c.missing)
	}
	if len(got.ShortfallItems) != len(c.items) && !(c.moreItems && len(got.ShortfallItems) > len(c.items)) {
		t.Errorf("shortfallItems = %+v, want %+v", got.ShortfallItems, c.items)
	} else {
		for i, w := range c.items {
			g := got.ShortfallItems[i]
			if !approx(g.Quantity, w.Quantity) || g.Unit != w.Unit || g.Facility != w.Facility {
				t.Errorf("shortfallItems[%d] = {%v %q %q}, want {%v %q %q}", i, g.Quantity, g.Unit, g.Facility, w.Quantity, w.Unit, w.Facility)
			}
			if g.Action == "" {
				t.Errorf("shortfallItems[%d] has no action", i)
			}
		}
	}
	if !c.actionsUnchecked {
		checkActions(t, got.Actions, c.actions)
	}
	if c.note != "" && !slices.ContainsFunc(got.Notes, func(n string) bool { return strings.Contains(n, c.note) }) {
		t.Errorf("no note contains %q; notes: %q", c.note, got.Notes)
	}
	if c.reason != "" && !strings.Contains(got.Reason, c.reason) {
		t.Errorf("reason = %q, want it to contain %q", got.Reason, c.reason)
	}
	if c.thresholdReason != "" && !strings.Contains(got.ThresholdReason, c.thresholdReason) {
		t.Errorf("thresholdReason = %q, want it to contain %q", got.ThresholdReason, c.thresholdReason)
	}
	if got.Reason == "" {
		t.Errorf("result has no reason")
	}
	// Every result carries its rule, ruleset and citation.
	r := rs.Rule(c.rule)
	if got.RuleID != c.rule || got.RulesetID != "jilin-2014" || got.RulesetVersion != rs.Version {
		t.Errorf("identity = %s / %s / %s", got.RuleID, got.RulesetID, got.RulesetVersion)
	}
	if got.Title != r.Title || got.Topic != r.Topic || got.Comparison != r.Comparison || got.Unit != r.Unit {
		t.Errorf("rule metadata not copied: %q %s %s %q", got.Title, got.Topic, got.Comparison, got.Unit)
	}
	if got.Citation != r.Citation {
		t.Errorf("citation = %+v, want the rule's %+v", got.Citation, r.Citation)
	}
}

// checkActions compares actions field by field, quantities to rounding error.
func checkActions(t *testing.T, got, want []Action) {
	t.Helper()
	if len(got) != len(want) {
		t.Errorf("actions = %+v, want %+v", got, want)
		return
	}
	for i, w := range want {
		g := got[i]
		if !approx(g.Quantity, w.Quantity) {
			t.Errorf("actions[%d].Quantity = %v, want %v", i, g.Quantity, w.Quantity)
		}
		g.Quantity = w.Quantity
		if g != w {
			t.Errorf("actions[%d] = %+v,\n            want %+v", i, g, w)
		}
	}
}

// TestEvaluateRules holds every jilin-2014 rule against hand-computed results.
func TestEvaluateRules(t *testing.T) {
	rs := jilin(t)
	for _, c := range ruleCases() {
		t.Run(c.rule+"/"+c.name, func(t *testing.T) {
			a, err := rs.Evaluate(c.s)
			if err != nil {
				t.Fatalf("Evaluate: %v", err)
			}
			if len(a.Results) != len(jilinRuleIDs) {
				t.Fatalf("%d results, want one per rule (%d)", len(a.Results), len(jilinRuleIDs))
			}
			checkResult(t, rs, findResult(t, a, c.rule), c)
		})
	}
}

// TestRuleCasesCoverEveryRule checks the table above: every rule has a
// passing, a failing, a not-applicable and an insufficient-data case, as far
// as the rule can produce them.
func TestRuleCasesCoverEveryRule(t *testing.T) {
	seen := map[string]map[Status]bool{}
	for _, c := range ruleCases() {
		if seen[c.rule] == nil {
			seen[c.rule] = map[Status]bool{}
		}
		seen[c.rule][c.status] = true
	}
	for _, id := range jilinRuleIDs {
		t.Run(id, func(t *testing.T) {
			var want []Status
			switch id {
			case "T19-VOCATIONAL", "G-URBANISATION": // report-only rules
				want = []Status{StatusInformational, StatusNotApplicable, StatusInsufficientData}
			default:
				want = []Status{StatusCompliant, StatusNonCompliant, StatusNotApplicable, StatusInsufficientData}
			}
			for _, st := range want {
				if !seen[id][st] {
					t.Errorf("no case with status %s", st)
				}
			}
		})
	}
	if len(seen) != len(jilinRuleIDs) {
		t.Errorf("cases name %d rules, want %d", len(seen), len(jilinRuleIDs))
	}
}

func TestEvaluateAcceptanceElderlyBeds(t *testing.T) {
	rs := jilin(t)
	a, err := rs.Evaluate(&Settlement{ID: "t1", Kind: KindTown, ElderlyPopulation: Int64(12000), ElderlyCareBeds: Int64(300)})
	if err != nil {
		t.Fatal(err)
	}
	if a.SettlementID != "t1" || a.RulesetID != "jilin-2014" || a.RulesetVersion != "2014.1.0" {
		t.Errorf("audit identity = %q %q %q", a.SettlementID, a.RulesetID, a.RulesetVersion)
	}
	r := findResult(t, a, "T19-ELDERLY-BEDS")
	if r.Status != StatusNonCompliant || r.Value == nil || *r.Value != 25 || r.Threshold == nil || *r.Threshold != 36 ||
		r.Shortfall == nil || *r.Shortfall != 132 || r.ShortfallUnit != "beds" {
		t.Errorf("result = %s value %s threshold %s shortfall %s %q", r.Status, ptrString(r.Value), ptrString(r.Threshold), ptrString(r.Shortfall), r.ShortfallUnit)
	}
	if !strings.Contains(r.Citation.Section, "专栏19") {
		t.Errorf("citation section = %q, want it to contain 专栏19", r.Citation.Section)
	}
	if r.Citation.OriginalText != "城镇每千名老年人口养老床位数达到36张" {
		t.Errorf("citation original = %q", r.Citation.OriginalText)
	}
	if len(r.ShortfallItems) != 1 || r.ShortfallItems[0].Action != "add 132 elderly-care beds" {
		t.Errorf("shortfall items = %+v", r.ShortfallItems)
	}
}

// TestEvaluateCitationSections checks each rule cites the column it comes from.
func TestEvaluateCitationSections(t *testing.T) {
	rs := jilin(t)
	a, err := rs.Evaluate(&Settlement{})
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range a.Results {
		t.Run(r.RuleID, func(t *testing.T) {
			var want string
			switch {
			case strings.HasPrefix(r.RuleID, "T18-"):
				want = "专栏18"
			case strings.HasPrefix(r.RuleID, "T19-"):
				want = "专栏19"
			case strings.HasPrefix(r.RuleID, "G-"):
				want = "发展目标"
			}
			if want == "" || !strings.Contains(r.Citation.Section, want) {
				t.Errorf("citation section %q, want %q", r.Citation.Section, want)
			}
			if !strings.Contains(r.Citation.Document, "吉林省新型城镇化规划") || r.Citation.OriginalText == "" {
				t.Errorf("citation = %+v", r.Citation)
			}
		})
	}
}

// TestEvaluateEmptySettlement: with nothing given nothing passes silently.
func TestEvaluateEmptySettlement(t *testing.T) {
	rs := jilin(t)
	a, err := rs.Evaluate(&Settlement{ID: "empty"})
	if err != nil {
		t.Fatal(err)
	}
	ids := make([]string, len(a.Results))
	for i, r := range a.Results {
		ids[i] = r.RuleID
		switch r.Status {
		case StatusInsufficientData:
			if len(r.MissingFields) == 0 {
				t.Errorf("%s: insufficient data without missing fields", r.RuleID)
			}
		case StatusNotApplicable:
			t.Errorf("%s: not applicable without any input (%s)", r.RuleID, r.Reason)
		default:
			t.Errorf("%s: status %s without any input", r.RuleID, r.Status)
		}
	}
	if !slices.Equal(ids, jilinRuleIDs) {
		t.Errorf("result order = %q, want ruleset order %q", ids, jilinRuleIDs)
	}
	if a.Counts[StatusInsufficientData] != 21 || len(a.Counts) != 1 {
		t.Errorf("counts = %v", a.Counts)
	}
	if a.Fleet != nil {
		t.Errorf("fleet summary %+v without a fleet", a.Fleet)
	}
	if a.Tier.ID != "" || !strings.Contains(a.Tier.Reason, "settlement.urbanPopulation") {
		t.Errorf("tier = %+v", a.Tier)
	}
}

func TestEvaluateTierAssignment(t *testing.T) {
	rs := jilin(t)
	cases := []struct {
		urban int64
		tier  string
	}{
		{0, "SMALL"}, {1, "SMALL"}, {499_999, "SMALL"}, {500_000, "MEDIUM"}, {500_001, "MEDIUM"},
		{1_999_999, "MEDIUM"}, {2_000_000, "LARGE"}, {2_000_001, "LARGE"}, {30_000_000, "LARGE"},
	}
	for _, c := range cases {
		t.Run(group(c.urban), func(t *testing.T) {
			a, err := rs.Evaluate(&Settlement{Kind: KindCity, UrbanPopulation: Int64(c.urban)}, TopicTransit)
			if err != nil {
				t.Fatal(err)
			}
			if a.Tier.ID != c.tier || a.Tier.UrbanPopulation == nil || *a.Tier.UrbanPopulation != c.urban {
				t.Errorf("tier = %+v, want %s", a.Tier, c.tier)
			}
			if !strings.Contains(a.Tier.Reason, c.tier) || a.Tier.Label == "" {
				t.Errorf("tier reason/label = %q / %q", a.Tier.Reason, a.Tier.Label)
			}
		})
	}
}

// TestEvaluateLargeCityThresholds: a city of exactly 2,000,000 urban residents
// is held to the LARGE figures of every tiered rule.
func TestEvaluateLargeCityThresholds(t *testing.T) {
	rs := jilin(t)
	a, err := rs.Evaluate(&Settlement{Kind: KindCity, UrbanPopulation: Int64(2_000_000),
		Fleet: units(2999), AverageBusSpeedKmh: Float64(14.5), CentralArea: smallSquare(), BusStops: stopFarAway()})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		rule      string
		threshold float64
		status    Status
	}{
		{"T18-STOP-COVERAGE-300M", 1.0, StatusNonCompliant},
		{"T18-FLEET-PER-10K", 15, StatusNonCompliant},
		{"T18-BUS-SPEED", 15, StatusNonCompliant},
	}
	for _, c := range cases {
		t.Run(c.rule, func(t *testing.T) {
			r := findResult(t, a, c.rule)
			if r.Tier != "LARGE" || r.Threshold == nil || *r.Threshold != c.threshold || r.Status != c.status {
				t.Errorf("tier %q threshold %s status %s, want LARGE %v %s", r.Tier, ptrString(r.Threshold), r.Status, c.threshold, c.status)
			}
		})
	}
}

// TestEvaluateStopCoverage: share = area(∪ 300 m disks ∩ central area) ÷
// area(central area), held against the tier's threshold; the shortfall is a
// share of the area, with the uncovered area in km² beside it.
func TestEvaluateStopCoverage(t *testing.T) {
	rs := jilin(t)
	twoKmSquare := &Geometry{GeoJSON: []byte(`{"type":"Polygon","coordinates":[[[125.3,43.87],[125.325,43.87],[125.325,43.888],[125.3,43.888],[125.3,43.87]]]}`), CRS: CRSWGS84}
	centre := &Geometry{GeoJSON: []byte(`{"type":"MultiPoint","coordinates":[[125.3125,43.879]]}`), CRS: CRSWGS84}
	diskKm2 := math.Pi * 0.3 * 0.3
	cases := []struct {
		name     string
		s        *Settlement
		status   Status
		share    float64 // NaN: covered area must be one 300 m disk
		totalKm2 [2]float64
		missing  []string
	}{
		{"fully covered", &Settlement{Kind: KindCity, UrbanPopulation: Int64(800_000), CentralArea: smallSquare(), BusStops: stopAtCentre()},
			StatusCompliant, 1, [2]float64{0.035, 0.045}, nil},
		{"uncovered", &Settlement{Kind: KindCity, UrbanPopulation: Int64(800_000), CentralArea: smallSquare(), BusStops: stopFarAway()},
			StatusNonCompliant, 0, [2]float64{0.035, 0.045}, nil},
		{"one disk inside a 2 km square", &Settlement{Kind: KindCity, UrbanPopulation: Int64(800_000), CentralArea: twoKmSquare, BusStops: centre},
			StatusNonCompliant, math.NaN(), [2]float64{3.9, 4.1}, nil},
		{"no geometry", &Settlement{Kind: KindCity, UrbanPopulation: Int64(800_000)},
			StatusInsufficientData, 0, [2]float64{}, []string{fCentral, fStops}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := rs.Evaluate(c.s, TopicBusStopCoverage)
			if err != nil {
				t.Fatal(err)
			}
			if len(a.Results) != 1 {
				t.Fatalf("%d results, want 1", len(a.Results))
			}
			r := a.Results[0]
			if r.Status != c.status || !slices.Equal(r.MissingFields, c.missing) {
				t.Fatalf("status %s missing %q (%s), want %s %q", r.Status, r.MissingFields, r.Reason, c.status, c.missing)
			}
			sc := a.StopCoverage
			if c.status == StatusInsufficientData {
				if sc != nil || r.Value != nil || r.Shortfall != nil {
					t.Errorf("stop coverage %+v, value %s, shortfall %s without geometry", sc, ptrString(r.Value), ptrString(r.Shortfall))
				}
				return
			}
			if sc == nil {
				t.Fatal("no stop coverage in the audit")
			}
			if sc.TotalKm2 < c.totalKm2[0] || sc.TotalKm2 > c.totalKm2[1] {
				t.Errorf("total area %v km², want %v–%v", sc.TotalKm2, c.totalKm2[0], c.totalKm2[1])
			}
			want := c.share
			if math.IsNaN(want) {
				if math.Abs(sc.CoveredKm2-diskKm2) > 1e-6*diskKm2 {
					t.Errorf("covered %v km², want one disk of π × 0.3² = %v", sc.CoveredKm2, diskKm2)
				}
				want = diskKm2 / sc.TotalKm2
			}
			if r.Value == nil || math.Abs(*r.Value-want) > 1e-6 || math.Abs(sc.Share-*r.Value) > 1e-12 {
				t.Errorf("value %s (share %v), want %v", ptrString(r.Value), sc.Share, want)
			}
			if r.Threshold == nil || *r.Threshold != 0.7 || r.Tier != "MEDIUM" || sc.RadiusM != 300 {
				t.Errorf("threshold %s tier %q radius %v, want 0.7 MEDIUM 300", ptrString(r.Threshold), r.Tier, sc.RadiusM)
			}
			if c.status == StatusCompliant {
				if r.Shortfall != nil || len(r.ShortfallItems) != 0 || len(r.Actions) != 0 {
					t.Errorf("compliant with shortfall %s %+v, actions %+v", ptrString(r.Shortfall), r.ShortfallItems, r.Actions)
				}
				return
			}
			short := 0.7 - want
			// The action is the uncovered area to cover, in km² (which add up
			// across cities), not the share.
			if len(r.Actions) != 1 || math.Abs(r.Actions[0].Quantity-short*sc.TotalKm2) > 1e-6 {
				t.Errorf("actions %+v, want one of %v km²", r.Actions, short*sc.TotalKm2)
			} else {
				q := r.Actions[0].Quantity
				checkActions(t, r.Actions, []Action{{Kind: "COVER_CENTRAL_AREA", Quantity: q, Unit: "km²", UnitZh: "平方公里",
					Text:   "cover " + num(q) + " km² more of the central area within 300 m of a bus stop",
					TextZh: "中心城区公交站点300米覆盖面积增加" + string(appendNum(nil, q, false)) + "平方公里"}})
			}
			if r.Shortfall == nil || math.Abs(*r.Shortfall-short) > 1e-6 || r.ShortfallUnit != "share of central urban area" {
				t.Errorf("shortfall %s %q, want %v share of central urban area", ptrString(r.Shortfall), r.ShortfallUnit, short)
			}
			if len(r.ShortfallItems) != 2 ||
				r.ShortfallItems[0].Unit != "share of central urban area" || math.Abs(r.ShortfallItems[0].Quantity-short) > 1e-6 ||
				r.ShortfallItems[1].Unit != "km²" || math.Abs(r.ShortfallItems[1].Quantity-short*sc.TotalKm2) > 1e-6 {
				t.Errorf("shortfall items %+v, want %v of the area and %v km²", r.ShortfallItems, short, short*sc.TotalKm2)
			}
		})
	}
}

func TestEvaluateStopCoverageBadGeometry(t *testing.T) {
	rs := jilin(t)
	bad := &Geometry{GeoJSON: []byte(`not json`), CRS: CRSWGS84}
	s := &Settlement{Kind: KindCity, UrbanPopulation: Int64(800_000), CentralArea: bad, BusStops: stopAtCentre()}
	a, err := rs.Evaluate(s, TopicBusStopCoverage)
	if a != nil {
		t.Errorf("audit returned with bad geometry")
	}
	invalid(t, err, fCentral)
}

func TestEvaluateTopicFilter(t *testing.T) {
	rs := jilin(t)
	s := &Settlement{Kind: KindCity, UrbanPopulation: Int64(1_000_000)}
	cases := []struct {
		name   string
		topics []Topic
		want   []string
	}{
		{"transit", []Topic{TopicTransit}, []string{"T18-FLEET-PER-10K", "T18-BUS-SPEED", "T18-DEPOT-AREA"}},
		{"roads", []Topic{TopicRoads}, []string{"T18-ROAD-HIERARCHY", "T18-ITS"}},
		{"culture and health, in ruleset order", []Topic{TopicCulture, TopicHealth}, []string{
			"T19-COUNTY-GENERAL-HOSPITAL", "T19-COUNTY-TCM-HOSPITAL", "T19-MCH-HOSPITAL", "T19-COMMUNITY-HEALTH-CENTRE",
			"T19-COMMUNITY-HEALTH-STATION", "T19-TOWNSHIP-HEALTH-CENTRE", "T19-CULTURE"}},
		{"development", []Topic{TopicDevelopment}, []string{"G-LAND-PER-CAPITA", "G-URBANISATION"}},
		{"education", []Topic{TopicEducation}, []string{"T19-KINDERGARTEN", "T19-PRESCHOOL-ENROLMENT", "T19-COMPULSORY-BALANCE", "T19-VOCATIONAL"}},
		{"none means all", nil, jilinRuleIDs},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := rs.Evaluate(s, c.topics...)
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, r := range a.Results {
				got = append(got, r.RuleID)
			}
			if !slices.Equal(got, c.want) {
				t.Errorf("rules = %q, want %q", got, c.want)
			}
			sum := 0
			for _, n := range a.Counts {
				sum += n
			}
			if sum != len(c.want) {
				t.Errorf("counts %v sum to %d, want %d", a.Counts, sum, len(c.want))
			}
		})
	}
}

func TestEvaluateFacilityRequirements(t *testing.T) {
	rs := jilin(t)
	a, err := rs.Evaluate(&Settlement{Kind: KindTown, ResidentPopulation: Int64(250_000),
		Facilities: fac(FacilityCommunityHealthCentre, 2, FacilityTownshipHealthCentre, 1)}, TopicHealth)
	if err != nil {
		t.Fatal(err)
	}
	want := []FacilityRequirement{
		{RuleID: "T19-COMMUNITY-HEALTH-CENTRE", Facility: FacilityCommunityHealthCentre, Required: 3, Present: Int64(2), Missing: 1},
		{RuleID: "T19-TOWNSHIP-HEALTH-CENTRE", Facility: FacilityTownshipHealthCentre, Required: 1, Present: Int64(1), Missing: 0},
	}
	if len(a.Requirements) != len(want) {
		t.Fatalf("requirements = %+v, want %+v", a.Requirements, want)
	}
	for i, w := range want {
		g := a.Requirements[i]
		if g.RuleID != w.RuleID || g.Facility != w.Facility || g.Required != w.Required || g.Present == nil || *g.Present != *w.Present || g.Missing != w.Missing {
			t.Errorf("requirements[%d] = %+v, want %+v", i, g, w)
		}
	}
}

func TestEvaluateFleetConversion(t *testing.T) {
	rs := jilin(t)
	cases := []struct {
		name  string
		group VehicleGroup
		class string
		coef  float64
		units float64
	}{
		{"0.5 m", VehicleGroup{LengthM: Float64(0.5), Count: 1}, "LENGTH_UP_TO_5M", 0.5, 0.5},
		{"5 m is up to 5 m", VehicleGroup{LengthM: Float64(5), Count: 2}, "LENGTH_UP_TO_5M", 0.5, 1},
		{"5.01 m", VehicleGroup{LengthM: Float64(5.01), Count: 1}, "LENGTH_5_7M", 0.7, 0.7},
		{"7 m is 5-7 m", VehicleGroup{LengthM: Float64(7), Count: 10}, "LENGTH_5_7M", 0.7, 7},
		{"7.5 m", VehicleGroup{LengthM: Float64(7.5), Count: 3}, "LENGTH_7_10M", 1.0, 3},
		{"10 m", VehicleGroup{LengthM: Float64(10), Count: 1}, "LENGTH_7_10M", 1.0, 1},
		{"12 m", VehicleGroup{LengthM: Float64(12), Count: 10}, "LENGTH_10_13M", 1.3, 13},
		{"13.5 m", VehicleGroup{LengthM: Float64(13.5), Count: 2}, "LENGTH_13_16M", 1.7, 3.4},
		{"18 m is 16-18 m", VehicleGroup{LengthM: Float64(18), Count: 1}, "LENGTH_16_18M", 2.0, 2},
		{"18.5 m", VehicleGroup{LengthM: Float64(18.5), Count: 2}, "LENGTH_OVER_18M", 2.5, 5},
		{"double-decker", VehicleGroup{VehicleClass: "DOUBLE_DECKER", Count: 10}, "DOUBLE_DECKER", 1.9, 19},
		{"metro car", VehicleGroup{VehicleClass: "METRO_CAR", Count: 4}, "METRO_CAR", 2.5, 10},
		{"class by ID", VehicleGroup{VehicleClass: "LENGTH_7_10M", Count: 6}, "LENGTH_7_10M", 1.0, 6},
		{"class and consistent length", VehicleGroup{VehicleClass: "LENGTH_10_13M", LengthM: Float64(12), Count: 1}, "LENGTH_10_13M", 1.3, 1.3},
		{"zero vehicles", VehicleGroup{LengthM: Float64(12), Count: 0}, "LENGTH_10_13M", 1.3, 0},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := rs.Evaluate(&Settlement{Kind: KindCity, Fleet: &Fleet{Vehicles: []VehicleGroup{c.group}}}, TopicTransit)
			if err != nil {
				t.Fatal(err)
			}
			f := a.Fleet
			if f == nil {
				t.Fatal("no fleet summary")
			}
			if !approx(f.StandardUnits, c.units) || f.Vehicles == nil || *f.Vehicles != c.group.Count {
				t.Errorf("fleet = %v units, vehicles %v; want %v units, %d vehicles", f.StandardUnits, f.Vehicles, c.units, c.group.Count)
			}
			want := []FleetClassCount{{VehicleClass: c.class, Count: c.group.Count, Coefficient: c.coef, StandardUnits: c.units}}
			if len(f.Classes) != 1 || f.Classes[0].VehicleClass != c.class || f.Classes[0].Count != c.group.Count ||
				f.Classes[0].Coefficient != c.coef || !approx(f.Classes[0].StandardUnits, c.units) {
				t.Errorf("classes = %+v, want %+v", f.Classes, want)
			}
		})
	}
}

func TestEvaluateFleetMixed(t *testing.T) {
	rs := jilin(t)
	s := &Settlement{Kind: KindCity, UrbanPopulation: Int64(44_500), BusDepotAreaM2: Float64(6675), Fleet: &Fleet{Vehicles: []VehicleGroup{
		{LengthM: Float64(12), Count: 10},
		{LengthM: Float64(18.5), Count: 2},
		{VehicleClass: "DOUBLE_DECKER", Count: 10},
		{LengthM: Float64(11), Count: 5},
		{LengthM: Float64(5), Count: 2},
	}}}
	a, err := rs.Evaluate(s, TopicTransit)
	if err != nil {
		t.Fatal(err)
	}
	want := []FleetClassCount{
		{"LENGTH_10_13M", 15, 1.3, 19.5},
		{"LENGTH_OVER_18M", 2, 2.5, 5},
		{"DOUBLE_DECKER", 10, 1.9, 19},
		{"LENGTH_UP_TO_5M", 2, 0.5, 1},
	}
	f := a.Fleet
	if f == nil || !approx(f.StandardUnits, 44.5) || f.Vehicles == nil || *f.Vehicles != 29 || len(f.Classes) != len(want) {
		t.Fatalf("fleet = %+v, want 44.5 units of 29 vehicles in %d classes", f, len(want))
	}
	for i, w := range want {
		g := f.Classes[i]
		if g.VehicleClass != w.VehicleClass || g.Count != w.Count || g.Coefficient != w.Coefficient || !approx(g.StandardUnits, w.StandardUnits) {
			t.Errorf("classes[%d] = %+v, want %+v", i, g, w)
		}
	}
	// 44.5 units for 44,500 urban residents is exactly the SMALL figure of 10
	// per 10,000; 6,675 m² is exactly 150 m² per unit.
	for _, id := range []string{"T18-FLEET-PER-10K", "T18-DEPOT-AREA"} {
		if r := findResult(t, a, id); r.Status != StatusCompliant {
			t.Errorf("%s: %s (%s)", id, r.Status, r.Reason)
		}
	}
	if v := findResult(t, a, "T18-FLEET-PER-10K").Value; v == nil || !approx(*v, 10) {
		t.Errorf("fleet per 10K = %s, want 10", ptrString(v))
	}
}

func TestEvaluateFleetReadyTotal(t *testing.T) {
	rs := jilin(t)
	a, err := rs.Evaluate(&Settlement{Kind: KindCity, UrbanPopulation: Int64(100_000), Fleet: units(123.4)}, TopicTransit)
	if err != nil {
		t.Fatal(err)
	}
	if a.Fleet == nil || a.Fleet.StandardUnits != 123.4 || a.Fleet.Vehicles != nil || len(a.Fleet.Classes) != 0 {
		t.Errorf("fleet = %+v, want a ready 123.4 units without vehicles or classes", a.Fleet)
	}
	if r := findResult(t, a, "T18-FLEET-PER-10K"); r.Value == nil || !approx(*r.Value, 12.34) || r.Status != StatusCompliant {
		t.Errorf("fleet per 10K = %s %s", r.Status, ptrString(r.Value))
	}
}

// invalid asserts err is a CodeInvalid *Error whose violations name exactly
// the given fields (each at least once).
func invalid(t *testing.T, err error, fields ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want CodeInvalid naming %q", fields)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not an *Error", err, err)
	}
	if e.Code != CodeInvalid {
		t.Errorf("code = %v, want %v", e.Code, CodeInvalid)
	}
	var got []string
	for _, v := range e.Violations {
		if v.Reason == "" {
			t.Errorf("violation of %s has no reason", v.Field)
		}
		if !slices.Contains(got, v.Field) {
			got = append(got, v.Field)
		}
	}
	sort.Strings(got)
	want := slices.Clone(fields)
	sort.Strings(want)
	if !slices.Equal(got, want) {
		t.Errorf("violated fields = %q, want %q (error: %v)", got, want, err)
	}
	for _, f := range fields {
		if !strings.Contains(err.Error(), f) {
			t.Errorf("error text %q does not name %s", err.Error(), f)
		}
	}
}

func TestEvaluateValidation(t *testing.T) {
	rs := jilin(t)
	F := Float64
	nan, inf := math.NaN(), math.Inf(1)
	type vcase struct {
		name   string
		s      *Settlement
		fields []string
	}
	cases := []vcase{
		{"nil settlement", nil, []string{"settlement"}},
		{"unknown kind", &Settlement{Kind: "SETTLEMENT_KIND_VILLAGE"}, []string{fKind}},
		{"elderly above resident", &Settlement{ResidentPopulation: Int64(1000), ElderlyPopulation: Int64(1001)}, []string{fElderly}},
		{"children above resident", &Settlement{ResidentPopulation: Int64(1000), PreschoolAgePopulation: Int64(1001)}, []string{fKids}},
		{"urbanised above resident", &Settlement{ResidentPopulation: Int64(1000), UrbanisedPopulation: Int64(1001)}, []string{fUrbanised}},
		{"speed NaN", &Settlement{AverageBusSpeedKmh: F(nan)}, []string{fSpeed}},
		{"speed +Inf", &Settlement{AverageBusSpeedKmh: F(inf)}, []string{fSpeed}},
		{"speed -Inf", &Settlement{AverageBusSpeedKmh: F(-inf)}, []string{fSpeed}},
		{"speed negative", &Settlement{AverageBusSpeedKmh: F(-1)}, []string{fSpeed}},
		{"speed implausible", &Settlement{AverageBusSpeedKmh: F(201)}, []string{fSpeed}},
		{"depot area negative", &Settlement{BusDepotAreaM2: F(-0.5)}, []string{fDepot}},
		{"land NaN", &Settlement{UrbanConstructionLandKm2: F(nan)}, []string{fLand}},
		{"unknown facility type", &Settlement{Facilities: map[FacilityType]int64{"FACILITY_TYPE_ZOO": 1}}, []string{"settlement.facilities"}},
		{"unknown declared fact", &Settlement{Declared: map[DeclaredFact]bool{"DECLARED_FACT_NOPE": true}}, []string{"settlement"}},
		{"fleet both forms", &Settlement{Fleet: &Fleet{StandardUnits: F(10), Vehicles: []VehicleGroup{{LengthM: F(12), Count: 1}}}}, []string{fFleet}},
		{"fleet units negative", &Settlement{Fleet: units(-1)}, []string{fFleet + ".standardUnits"}},
		{"fleet units NaN", &Settlement{Fleet: units(nan)}, []string{fFleet + ".standardUnits"}},
		{"unknown vehicle class", &Settlement{Fleet: &Fleet{Vehicles: []VehicleGroup{{VehicleClass: "TROLLEYBUS", Count: 1}}}},
			[]string{"settlement.busFleet.vehicles[0].vehicleClass"}},
		{"second group bad", &Settlement{Fleet: &Fleet{Vehicles: []VehicleGroup{{LengthM: F(12), Count: 1}, {VehicleClass: "TRAM", Count: 1}}}},
			[]string{"settlement.busFleet.vehicles[1].vehicleClass"}},
		{"negative vehicle count", &Settlement{Fleet: &Fleet{Vehicles: []VehicleGroup{{LengthM: F(12), Count: -1}}}},
			[]string{"settlement.busFleet.vehicles[0].count"}},
		{"zero length", &Settlement{Fleet: &Fleet{Vehicles: []VehicleGroup{{LengthM: F(0), Count: 1}}}},
			[]string{"settlement.busFleet.vehicles[0].lengthM"}},
		{"length too long", &Settlement{Fleet: &Fleet{Vehicles: []VehicleGroup{{LengthM: F(101), Count: 1}}}},
			[]string{"settlement.busFleet.vehicles[0].lengthM"}},
		{"length NaN", &Settlement{Fleet: &Fleet{Vehicles: []VehicleGroup{{LengthM: F(nan), Count: 1}}}},
			[]string{"settlement.busFleet.vehicles[0].lengthM"}},
		{"length outside its class", &Settlement{Fleet: &Fleet{Vehicles: []VehicleGroup{{VehicleClass: "LENGTH_7_10M", LengthM: F(12), Count: 1}}}},
			[]string{"settlement.busFleet.vehicles[0].lengthM"}},
		{"neither class nor length", &Settlement{Fleet: &Fleet{Vehicles: []VehicleGroup{{Count: 1}}}},
			[]string{"settlement.busFleet.vehicles[0]"}},
		{"unknown coordinate system", &Settlement{CentralArea: &Geometry{GeoJSON: []byte("{}"), CRS: "COORDINATE_SYSTEM_MARS"}},
			[]string{"settlement.centralAreaCrs"}},
		{"several at once", &Settlement{Kind: "X", UrbanPopulation: Int64(-1), AverageBusSpeedKmh: F(nan)}, []string{fKind, fUrban, fSpeed}},
	}
	counts := []struct {
		field string
		set   func(*Settlement, *int64)
	}{
		{fUrban, func(s *Settlement, v *int64) { s.UrbanPopulation = v }},
		{fResident, func(s *Settlement, v *int64) { s.ResidentPopulation = v }},
		{fElderly, func(s *Settlement, v *int64) { s.ElderlyPopulation = v }},
		{fKids, func(s *Settlement, v *int64) { s.PreschoolAgePopulation = v }},
		{fUrbanised, func(s *Settlement, v *int64) { s.UrbanisedPopulation = v }},
		{fBeds, func(s *Settlement, v *int64) { s.ElderlyCareBeds = v }},
		{fEnrolled, func(s *Settlement, v *int64) { s.PreschoolEnrolment = v }},
		{fVoc, func(s *Settlement, v *int64) { s.VocationalSchoolIntake = v }},
		{fGen, func(s *Settlement, v *int64) { s.GeneralHighSchoolIntake = v }},
		{fVehicles, func(s *Settlement, v *int64) { s.RegisteredVehicles = v }},
		{fSpaces, func(s *Settlement, v *int64) { s.PublicParkingSpaces = v }},
	}
	for _, c := range counts {
		for _, v := range []int64{-1, math.MinInt64} {
			s := &Settlement{Kind: KindCity}
			c.set(s, Int64(v))
			cases = append(cases, vcase{"negative " + strings.TrimPrefix(c.field, "settlement.") + " " + group(v), s, []string{c.field}})
		}
	}
	facilityFields := map[FacilityType]string{
		FacilityLevel2GeneralHospital: fL2, FacilityTCMHospital: fTCM, FacilityMaternalChildHealthHosp: fMCH,
		FacilityCommunityHealthCentre: fCentres, FacilityCommunityHealthStation: fStations,
		FacilityTownshipHealthCentre: fTownship, FacilityStandardKindergarten: fKinder,
		FacilityLibrary: fLibraries, FacilityCulturalCentre: fCultural, FacilityMuseum: fMuseums,
	}
	if len(facilityFields) != len(FacilityTypes) {
		t.Fatalf("test knows %d facility types, the package %d", len(facilityFields), len(FacilityTypes))
	}
	for _, f := range FacilityTypes {
		cases = append(cases, vcase{"negative " + string(f), &Settlement{Kind: KindTown, Facilities: map[FacilityType]int64{f: -1}}, []string{facilityFields[f]}})
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := rs.Evaluate(c.s)
			if a != nil {
				t.Errorf("audit returned with an invalid settlement")
			}
			invalid(t, err, c.fields...)
		})
	}
}

// TestEvaluateValidBoundaries: values at the edge of validity are accepted.
func TestEvaluateValidBoundaries(t *testing.T) {
	rs := jilin(t)
	cases := []struct {
		name string
		s    *Settlement
	}{
		{"elderly equal to resident", &Settlement{ResidentPopulation: Int64(1000), ElderlyPopulation: Int64(1000)}},
		{"speed 200", &Settlement{AverageBusSpeedKmh: Float64(200)}},
		{"speed 0", &Settlement{AverageBusSpeedKmh: Float64(0)}},
		{"length 100 m", &Settlement{Fleet: &Fleet{Vehicles: []VehicleGroup{{LengthM: Float64(100), Count: 1}}}}},
		{"all zero", &Settlement{UrbanPopulation: Int64(0), ResidentPopulation: Int64(0), ElderlyPopulation: Int64(0), ElderlyCareBeds: Int64(0)}},
		{"elderly without resident", &Settlement{ElderlyPopulation: Int64(5_000_000)}},
		{"unspecified CRS", &Settlement{BusStops: &Geometry{GeoJSON: []byte(`{"type":"MultiPoint","coordinates":[]}`), CRS: CRSUnspecified}}},
		{"GCJ-02", &Settlement{BusStops: &Geometry{GeoJSON: []byte(`{"type":"MultiPoint","coordinates":[]}`), CRS: CRSGCJ02}}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := rs.Evaluate(c.s); err != nil {
				t.Errorf("Evaluate: %v", err)
			}
		})
	}
}

// TestEvaluateDoesNotMutate: evaluating twice gives the same result and leaves
// the ruleset untouched (results append threshold notes to a copy).
func TestEvaluateDoesNotMutate(t *testing.T) {
	rs := jilin(t)
	rule := rs.Rule("T19-COMMUNITY-HEALTH-STATION")
	before := len(rule.Notes)
	s := &Settlement{Kind: KindTown, ResidentPopulation: Int64(20_000), Facilities: fac(FacilityCommunityHealthStation, 0)}
	var notes []int
	for range 3 {
		a, err := rs.Evaluate(s, TopicHealth)
		if err != nil {
			t.Fatal(err)
		}
		notes = append(notes, len(findResult(t, a, rule.ID).Notes))
	}
	if len(rule.Notes) != before {
		t.Errorf("rule notes grew from %d to %d", before, len(rule.Notes))
	}
	if notes[0] != before+1 || notes[1] != notes[0] || notes[2] != notes[0] {
		t.Errorf("result note counts = %v, want %d each", notes, before+1)
	}
}

// TestEvaluateConcurrent runs evaluations in parallel on the shared ruleset
// (meaningful under -race).
func TestEvaluateConcurrent(t *testing.T) {
	rs := jilin(t)
	cases := ruleCases()
	var wg sync.WaitGroup
	errs := make(chan string, len(cases))
	for _, c := range cases {
		wg.Add(1)
		go func() {
			defer wg.Done()
			a, err := rs.Evaluate(c.s)
			if err != nil {
				errs <- c.name + ": " + err.Error()
				return
			}
			for _, r := range a.Results {
				if r.RuleID == c.rule && r.Status != c.status {
					errs <- c.rule + "/" + c.name + ": " + string(r.Status)
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for e := range errs {
		t.Error(e)
	}
}

// TestBugCeilingAtLargeCounts: the shortfall formula of standards.md is
// ⌈36 × elderly ÷ 1,000⌉ − beds. ceilTol's relative tolerance (1e-9 × x)
// exceeds the smallest possible fractional part (0.004) once 36 × elderly ÷
// 1,000 passes 4,000,000, and the ceiling then drops the last bed.
func TestBugCeilingAtLargeCounts(t *testing.T) {
	rs := jilin(t)
	a, err := rs.Evaluate(&Settlement{Kind: KindCity, ElderlyPopulation: Int64(111_111_139), ElderlyCareBeds: Int64(0)}, TopicElderlyCare)
	if err != nil {
		t.Fatal(err)
	}
	r := findResult(t, a, "T19-ELDERLY-BEDS")
	if r.Shortfall == nil || *r.Shortfall != 4_000_002 {
		t.Errorf("shortfall = %s, want ⌈36 × 111,111,139 ÷ 1,000⌉ = ⌈4,000,001.004⌉ = 4,000,002", ptrString(r.Shortfall))
	}
}

// TestBugHugeInputs: a finite input the validation accepts must give either a
// CodeInvalid error or a result with a finite value and a finite, positive
// shortfall — never +Inf or NaN, never a wrapped-around count.
func TestBugHugeInputs(t *testing.T) {
	rs := jilin(t)
	cases := []struct {
		name string
		rule string
		s    *Settlement
		// check is applied when Evaluate accepts the settlement.
		check func(r Result) bool
	}{
		{"land 1e308 km²", "G-LAND-PER-CAPITA",
			&Settlement{Kind: KindCity, UrbanPopulation: Int64(1_000_000), UrbanConstructionLandKm2: Float64(1e308)},
			func(r Result) bool {
				return r.Value != nil && !math.IsInf(*r.Value, 0) && r.Shortfall != nil && *r.Shortfall > 0 && !math.IsInf(*r.Shortfall, 0)
			}},
		{"resident population MaxInt64", "T19-COMMUNITY-HEALTH-CENTRE",
			&Settlement{Kind: KindTown, ResidentPopulation: Int64(math.MaxInt64), Facilities: fac(FacilityCommunityHealthCentre, 5)},
			func(r Result) bool {
				return r.Status == StatusNonCompliant && r.Threshold != nil && *r.Threshold > 9e13
			}},
		{"vehicle count overflow", "T18-DEPOT-AREA",
			&Settlement{Kind: KindCity, BusDepotAreaM2: Float64(1000), Fleet: &Fleet{Vehicles: []VehicleGroup{
				{VehicleClass: "METRO_CAR", Count: math.MaxInt64}, {VehicleClass: "METRO_CAR", Count: math.MaxInt64}}}},
			func(r Result) bool { return r.Value != nil && *r.Value >= 0 && r.Status == StatusNonCompliant }},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := rs.Evaluate(c.s)
			if err != nil {
				var e *Error
				if !errors.As(err, &e) || e.Code != CodeInvalid {
					t.Errorf("error %v, want CodeInvalid", err)
				}
				return
			}
			r := findResult(t, a, c.rule)
			if !c.check(r) {
				t.Errorf("%s: status %s value %s threshold %s shortfall %s", c.rule, r.Status, ptrString(r.Value), ptrString(r.Threshold), ptrString(r.Shortfall))
			}
		})
	}
}

// TestBugInsufficientDataThresholdOfScaledFacilityRules: when a facility count
// is missing, the result must not report a threshold other than the one that
// applies. A town of 250,000 needs ⌈250,000 ÷ 100,000⌉ = 3 centres, and
// T19-CULTURE's measured results use 3 (facility types) as the threshold.
func TestBugInsufficientDataThresholdOfScaledFacilityRules(t *testing.T) {
	rs := jilin(t)
	cases := []struct {
		name string
		rule string
		s    *Settlement
		want float64
	}{
		{"centre at 250,000", "T19-COMMUNITY-HEALTH-CENTRE", &Settlement{Kind: KindTown, ResidentPopulation: Int64(250_000)}, 3},
		{"culture without museums count", "T19-CULTURE",
			&Settlement{Kind: KindCity, RegionalCentralCity: Bool(true), Facilities: fac(FacilityLibrary, 1, FacilityCulturalCentre, 1)}, 3},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			a, err := rs.Evaluate(c.s)
			if err != nil {
				t.Fatal(err)
			}
			r := findResult(t, a, c.rule)
			if r.Status != StatusInsufficientData {
				t.Fatalf("status %s", r.Status)
			}
			if r.Threshold != nil && *r.Threshold != c.want {
				t.Errorf("threshold = %v, want %v or none", *r.Threshold, c.want)
			}
		})
	}
}

// TestVehicleClassHoldsLength: a length band excludes its minimum and
// includes its maximum ("over 5 m to 7 m"); classes by type hold no length.
func TestVehicleClassHoldsLength(t *testing.T) {
	band := VehicleClass{ID: "LENGTH_5_7M", MinLengthM: Float64(5), MaxLengthM: Float64(7), Coefficient: 0.7}
	upTo := VehicleClass{ID: "LENGTH_UP_TO_5M", MaxLengthM: Float64(5), Coefficient: 0.5}
	over := VehicleClass{ID: "LENGTH_OVER_18M", MinLengthM: Float64(18), Coefficient: 2.5}
	byType := VehicleClass{ID: "DOUBLE_DECKER", Coefficient: 1.9}
	cases := []struct {
		class  VehicleClass
		length float64
		want   bool
	}{
		{band, 5, false}, {band, 5.01, true}, {band, 7, true}, {band, 7.01, false},
		{upTo, 0.1, true}, {upTo, 5, true}, {upTo, 5.0001, false},
		{over, 18, false}, {over, 18.5, true}, {over, 100, true},
		{byType, 10, false},
	}
	for _, c := range cases {
		t.Run(c.class.ID+"/"+strconv.FormatFloat(c.length, 'g', -1, 64), func(t *testing.T) {
			if got := c.class.holdsLength(c.length); got != c.want {
				t.Errorf("holdsLength = %v, want %v", got, c.want)
			}
		})
	}
}

// TestEvaluateInto evaluates every rule case, a topic at a time and whole,
// into one audit, and holds each answer to a fresh Evaluate's. The results
// copied out of each audit must survive the next evaluations untouched: the
// array is reused, the notes, actions and missing fields it points to are not.
func TestEvaluateInto(t *testing.T) {
	rs := jilin(t)
	ctx := context.Background()
	var a Audit
	type kept struct {
		name    string
		results []Result
		want    *Audit
	}
	var keep []kept
	for _, c := range ruleCases() {
		for _, topics := range [][]Topic{nil, {rs.Rule(c.rule).Topic}} {
			want, wantErr := rs.Evaluate(c.s, topics...)
			reusable := cap(a.Results) >= len(rs.Rules) && len(topics) == 0
			var first *Result
			if reusable {
				first = &a.Results[:1][0]
			}
			err := rs.EvaluateInto(ctx, &a, c.s, topics...)
			if (err == nil) != (wantErr == nil) || (err != nil && err.Error() != wantErr.Error()) {
				t.Fatalf("%s %v: EvaluateInto error %v, Evaluate's %v", c.name, topics, err, wantErr)
			}
			if err != nil {
				if !reflect.DeepEqual(a, Audit{}) {
					t.Errorf("%s %v: audit not emptied on error: %+v", c.name, topics, a)
				}
				continue
			}
			if !reflect.DeepEqual(&a, want) {
				t.Fatalf("%s %v: EvaluateInto differs from Evaluate:\n got %+v\nwant %+v", c.name, topics, a, *want)
			}
			if reusable && &a.Results[0] != first {
				t.Errorf("%s: the results' array was not reused", c.name)
			}
			keep = append(keep, kept{c.name, slices.Clone(a.Results), want})
		}
	}
	for _, k := range keep {
		if !reflect.DeepEqual(k.results, k.want.Results) {
			t.Errorf("%s: results copied out of the audit changed after later evaluations", k.name)
		}
	}
	if err := rs.EvaluateInto(ctx, &a, nil); err == nil || !reflect.DeepEqual(a, Audit{}) {
		t.Errorf("nil settlement: error %v, audit %+v; want an error and an empty audit", err, a)
	}
}
