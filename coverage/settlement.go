package coverage

import (
	"fmt"
	"math"
	"strings"
)

// Kind is the administrative kind of a settlement. Its values are the names
// of the coverage.v1.SettlementKind enum, so ruleset files and API payloads
// spell them the same way.
type Kind string

// The settlement kinds.
const (
	KindUnspecified     Kind = "SETTLEMENT_KIND_UNSPECIFIED"
	KindCity            Kind = "SETTLEMENT_KIND_CITY"
	KindCounty          Kind = "SETTLEMENT_KIND_COUNTY"
	KindCountyLevelCity Kind = "SETTLEMENT_KIND_COUNTY_LEVEL_CITY"
	KindTown            Kind = "SETTLEMENT_KIND_TOWN"
	KindDistrict        Kind = "SETTLEMENT_KIND_DISTRICT"
)

var kindNouns = map[Kind]string{
	KindCity:            "city",
	KindCounty:          "county",
	KindCountyLevelCity: "county-level city",
	KindTown:            "town",
	KindDistrict:        "district",
}

// Noun is the kind in plain English, for reasons and notes.
func (k Kind) Noun() string {
	if n, ok := kindNouns[k]; ok {
		return n
	}
	return "settlement of unspecified kind"
}

// Plural is the kind in plain English, plural.
func (k Kind) Plural() string {
	if n, ok := kindNouns[k]; ok {
		if strings.HasSuffix(n, "y") {
			return strings.TrimSuffix(n, "y") + "ies"
		}
		return n + "s"
	}
	return "settlements"
}

func (k Kind) valid() bool { _, ok := kindNouns[k]; return ok }

// FacilityType is a type of public facility (coverage.v1.FacilityType names).
type FacilityType string

// The facility types.
const (
	FacilityLevel2GeneralHospital   FacilityType = "FACILITY_TYPE_LEVEL2_GENERAL_HOSPITAL"
	FacilityTCMHospital             FacilityType = "FACILITY_TYPE_TCM_HOSPITAL"
	FacilityMaternalChildHealthHosp FacilityType = "FACILITY_TYPE_MATERNAL_CHILD_HEALTH_HOSPITAL"
	FacilityCommunityHealthCentre   FacilityType = "FACILITY_TYPE_COMMUNITY_HEALTH_CENTRE"
	FacilityCommunityHealthStation  FacilityType = "FACILITY_TYPE_COMMUNITY_HEALTH_STATION"
	FacilityTownshipHealthCentre    FacilityType = "FACILITY_TYPE_TOWNSHIP_HEALTH_CENTRE"
	FacilityStandardKindergarten    FacilityType = "FACILITY_TYPE_STANDARD_KINDERGARTEN"
	FacilityLibrary                 FacilityType = "FACILITY_TYPE_LIBRARY"
	FacilityCulturalCentre          FacilityType = "FACILITY_TYPE_CULTURAL_CENTRE"
	FacilityMuseum                  FacilityType = "FACILITY_TYPE_MUSEUM"
)

type facilityInfo struct {
	field  string // JSON name inside settlement.facilities
	noun   string
	plural string
}

var facilityInfos = map[FacilityType]facilityInfo{
	FacilityLevel2GeneralHospital:   {"level2GeneralHospitals", "level-2 general hospital", "level-2 general hospitals"},
	FacilityTCMHospital:             {"tcmHospitals", "traditional-Chinese-medicine hospital", "traditional-Chinese-medicine hospitals"},
	FacilityMaternalChildHealthHosp: {"maternalChildHealthHospitals", "maternal and child health hospital", "maternal and child health hospitals"},
	FacilityCommunityHealthCentre:   {"communityHealthCentres", "community health service centre", "community health service centres"},
	FacilityCommunityHealthStation:  {"communityHealthStations", "community health service station", "community health service stations"},
	FacilityTownshipHealthCentre:    {"townshipHealthCentres", "public township health centre", "public township health centres"},
	FacilityStandardKindergarten:    {"standardKindergartens", "standard kindergarten", "standard kindergartens"},
	FacilityLibrary:                 {"libraries", "library", "libraries"},
	FacilityCulturalCentre:          {"culturalCentres", "cultural centre", "cultural centres"},
	FacilityMuseum:                  {"museums", "museum", "museums"},
}

// FacilityTypes lists every facility type in a stable order.
var FacilityTypes = []FacilityType{
	FacilityLevel2GeneralHospital, FacilityTCMHospital, FacilityMaternalChildHealthHosp,
	FacilityCommunityHealthCentre, FacilityCommunityHealthStation, FacilityTownshipHealthCentre,
	FacilityStandardKindergarten, FacilityLibrary, FacilityCulturalCentre, FacilityMuseum,
}

// Field is the JSON path of the facility's count in a request.
func (f FacilityType) Field() string {
	if p, ok := facilityFields[f]; ok {
		return p
	}
	return "settlement.facilities."
}

// facilityFields holds each type's path, made once: Field is asked on every
// audit, for each facility a rule counts.
var facilityFields = func() map[FacilityType]string {
	m := make(map[FacilityType]string, len(facilityInfos))
	for t, info := range facilityInfos {
		m[t] = "settlement.facilities." + info.field
	}
	return m
}()

// Noun is the facility type in plain English, singular or plural by n.
func (f FacilityType) Noun(n int64) string {
	if n == 1 {
		return facilityInfos[f].noun
	}
	return facilityInfos[f].plural
}

func (f FacilityType) valid() bool { _, ok := facilityInfos[f]; return ok }

// DeclaredFact is a yes/no fact a caller declares (coverage.v1.DeclaredFact names).
type DeclaredFact string

// The declared facts.
const (
	FactRoadHierarchy              DeclaredFact = "DECLARED_FACT_ROAD_HIERARCHY"
	FactIntelligentTrafficSystem   DeclaredFact = "DECLARED_FACT_INTELLIGENT_TRAFFIC_SYSTEM"
	FactCompulsoryEducationBalance DeclaredFact = "DECLARED_FACT_COMPULSORY_EDUCATION_BALANCE"
)

var factInfos = map[DeclaredFact]struct{ field, yes, no string }{
	FactRoadHierarchy: {"settlement.roadHierarchyMeetsStandard",
		"the road class mix is declared to meet the national standard",
		"the road class mix is declared not to meet the national standard"},
	FactIntelligentTrafficSystem: {"settlement.intelligentTrafficSystem",
		"an intelligent traffic management system with bus priority and real-time signal control is declared in operation",
		"no intelligent traffic management system with bus priority and real-time signal control is declared"},
	FactCompulsoryEducationBalance: {"settlement.compulsoryEducationBalanced",
		"compulsory education is declared to have reached basic balance",
		"compulsory education is declared not to have reached basic balance"},
}

// Field is the JSON path of the fact in a request.
func (d DeclaredFact) Field() string { return factInfos[d].field }

func (d DeclaredFact) valid() bool { _, ok := factInfos[d]; return ok }

// CoordinateSystem is the datum of a geometry's coordinates
// (coverage.v1.CoordinateSystem names).
type CoordinateSystem string

// The coordinate systems.
const (
	CRSUnspecified CoordinateSystem = "COORDINATE_SYSTEM_UNSPECIFIED"
	CRSWGS84       CoordinateSystem = "COORDINATE_SYSTEM_WGS84"
	CRSCGCS2000    CoordinateSystem = "COORDINATE_SYSTEM_CGCS2000"
	CRSGCJ02       CoordinateSystem = "COORDINATE_SYSTEM_GCJ02"
	CRSBD09        CoordinateSystem = "COORDINATE_SYSTEM_BD09"
)

// Geometry is a geometry as the caller sent it, with its coordinate system:
// either a GeoJSON object or typed positions (Polygons for an area, Points
// for stops). Rings are closed, as in GeoJSON.
type Geometry struct {
	GeoJSON  []byte
	Polygons [][][][2]float64
	Points   [][2]float64
	CRS      CoordinateSystem
}

// VehicleGroup is a number of vehicles of one class, named either by the
// ruleset's class ID or by length.
type VehicleGroup struct {
	VehicleClass string
	LengthM      *float64
	Count        int64
}

// Fleet is a public-transport fleet: vehicle groups or a ready total in
// standard units, never both.
type Fleet struct {
	StandardUnits *float64
	Vehicles      []VehicleGroup
}

// Settlement is one city, county, county-level city, district or town. Nil
// pointers and absent map keys mean "not given", which is never read as zero.
type Settlement struct {
	ID                  string
	Name                string
	Kind                Kind
	RegionalCentralCity *bool
	CountySeat          *bool

	UrbanPopulation        *int64
	ResidentPopulation     *int64
	ElderlyPopulation      *int64
	PreschoolAgePopulation *int64
	UrbanisedPopulation    *int64

	Facilities              map[FacilityType]int64
	ElderlyCareBeds         *int64
	PreschoolEnrolment      *int64
	VocationalSchoolIntake  *int64
	GeneralHighSchoolIntake *int64

	RegisteredVehicles       *int64
	PublicParkingSpaces      *int64
	Fleet                    *Fleet
	AverageBusSpeedKmh       *float64
	BusDepotAreaM2           *float64
	UrbanConstructionLandKm2 *float64

	Declared map[DeclaredFact]bool

	CentralArea *Geometry
	BusStops    *Geometry

	// PopulationPoints, when given, add population-weighted coverage beside
	// the area figure.
	PopulationPoints []PopulationPoint
	PopulationCRS    CoordinateSystem
}

// JSON paths of the settlement's fields, as named in errors and missing-field lists.
const (
	FieldKind                     = "settlement.kind"
	FieldRegionalCentralCity      = "settlement.regionalCentralCity"
	FieldUrbanPopulation          = "settlement.urbanPopulation"
	FieldResidentPopulation       = "settlement.residentPopulation"
	FieldElderlyPopulation        = "settlement.elderlyPopulation"
	FieldPreschoolAgePopulation   = "settlement.preschoolAgePopulation"
	FieldUrbanisedPopulation      = "settlement.urbanisedPopulation"
	FieldElderlyCareBeds          = "settlement.elderlyCareBeds"
	FieldPreschoolEnrolment       = "settlement.preschoolEnrolment"
	FieldVocationalSchoolIntake   = "settlement.vocationalSchoolIntake"
	FieldGeneralHighSchoolIntake  = "settlement.generalHighSchoolIntake"
	FieldRegisteredVehicles       = "settlement.registeredVehicles"
	FieldPublicParkingSpaces      = "settlement.publicParkingSpaces"
	FieldBusFleet                 = "settlement.busFleet"
	FieldAverageBusSpeedKmh       = "settlement.averageBusSpeedKmh"
	FieldBusDepotAreaM2           = "settlement.busDepotAreaM2"
	FieldUrbanConstructionLandKm2 = "settlement.urbanConstructionLandKm2"
	FieldCentralArea              = "settlement.centralArea"
	FieldCentralAreaPolygons      = "settlement.centralAreaPolygons"
	FieldBusStops                 = "settlement.busStops"
	FieldBusStopPositions         = "settlement.busStopPositions"
)

// Plausibility limits: far above any real settlement (China has 1.4e9
// residents and 9.6e6 km²), low enough that no computation overflows.
const (
	maxCount         = 2_000_000_000
	maxFacilities    = 1_000_000
	maxFleetVehicles = 10_000_000
	maxFleetUnits    = 1e8
	maxSpeedKmh      = 200
	maxDepotAreaM2   = 1e10
	maxLandKm2       = 1e7
)

func checkCount(v *violations, field string, value *int64, limit int64) {
	switch {
	case value == nil:
	case *value < 0:
		v.add(field, "must not be negative, got %d", *value)
	case *value > limit:
		v.add(field, "%d is not plausible (at most %d)", *value, limit)
	}
}

func checkMeasure(v *violations, field string, value *float64, limit float64, unit string) {
	if value == nil {
		return
	}
	switch x := *value; {
	case math.IsNaN(x) || math.IsInf(x, 0):
		v.add(field, "must be a finite number, got %v", x)
	case x < 0:
		v.add(field, "must not be negative, got %v", x)
	case x > limit:
		v.add(field, "%v %s is not plausible (at most %v)", x, unit, limit)
	}
}

// Int64 returns a pointer to v, for building settlements in code.
func Int64(v int64) *int64 { return &v }

// Bool returns a pointer to v, for building settlements in code.
func Bool(v bool) *bool { return &v }

// Float64 returns a pointer to v, for building settlements in code.
func Float64(v float64) *float64 { return &v }

// validate checks what can be checked without a ruleset: signs, finiteness
// and subsets that cannot exceed their whole.
func (s *Settlement) validate(v *violations) {
	if s.Kind != "" && s.Kind != KindUnspecified && !s.Kind.valid() {
		v.add(FieldKind, "unknown settlement kind %q", string(s.Kind))
	}
	counts := []struct {
		field string
		value *int64
	}{
		{FieldUrbanPopulation, s.UrbanPopulation},
		{FieldResidentPopulation, s.ResidentPopulation},
		{FieldElderlyPopulation, s.ElderlyPopulation},
		{FieldPreschoolAgePopulation, s.PreschoolAgePopulation},
		{FieldUrbanisedPopulation, s.UrbanisedPopulation},
		{FieldElderlyCareBeds, s.ElderlyCareBeds},
		{FieldPreschoolEnrolment, s.PreschoolEnrolment},
		{FieldVocationalSchoolIntake, s.VocationalSchoolIntake},
		{FieldGeneralHighSchoolIntake, s.GeneralHighSchoolIntake},
		{FieldRegisteredVehicles, s.RegisteredVehicles},
		{FieldPublicParkingSpaces, s.PublicParkingSpaces},
	}
	for _, c := range counts {
		checkCount(v, c.field, c.value, maxCount)
	}
	for _, f := range FacilityTypes {
		if n, ok := s.Facilities[f]; ok {
			checkCount(v, f.Field(), &n, maxFacilities)
		}
	}
	for f := range s.Facilities {
		if !f.valid() {
			v.add("settlement.facilities", "unknown facility type %q", string(f))
		}
	}
	measures := []struct {
		field, unit string
		value       *float64
		max         float64
	}{
		{FieldAverageBusSpeedKmh, "km/h", s.AverageBusSpeedKmh, maxSpeedKmh},
		{FieldBusDepotAreaM2, "m²", s.BusDepotAreaM2, maxDepotAreaM2},
		{FieldUrbanConstructionLandKm2, "km²", s.UrbanConstructionLandKm2, maxLandKm2},
	}
	for _, m := range measures {
		checkMeasure(v, m.field, m.value, m.max, m.unit)
	}
	if s.ResidentPopulation != nil && *s.ResidentPopulation >= 0 {
		whole := *s.ResidentPopulation
		subsets := []struct {
			field, what string
			value       *int64
		}{
			{FieldElderlyPopulation, "residents aged 60+", s.ElderlyPopulation},
			{FieldPreschoolAgePopulation, "children aged 3-5", s.PreschoolAgePopulation},
			{FieldUrbanisedPopulation, "urbanised residents", s.UrbanisedPopulation},
		}
		for _, sub := range subsets {
			if sub.value != nil && *sub.value > whole {
				v.add(sub.field, "%s (%d) cannot exceed the resident population (%d)", sub.what, *sub.value, whole)
			}
		}
	}
	for fact := range s.Declared {
		if !fact.valid() {
			v.add("settlement", "unknown declared fact %q", string(fact))
		}
	}
	if s.Fleet != nil {
		if s.Fleet.StandardUnits != nil && len(s.Fleet.Vehicles) > 0 {
			v.add(FieldBusFleet, "give either standardUnits or vehicles, not both")
		}
		checkMeasure(v, FieldBusFleet+".standardUnits", s.Fleet.StandardUnits, maxFleetUnits, "standard units")
		var total int64
		for i, g := range s.Fleet.Vehicles {
			path := fmt.Sprintf("%s.vehicles[%d]", FieldBusFleet, i)
			checkCount(v, path+".count", &g.Count, maxFleetVehicles)
			if g.Count > 0 && g.Count <= maxFleetVehicles {
				total += g.Count
			}
			if g.LengthM != nil {
				if l := *g.LengthM; math.IsNaN(l) || math.IsInf(l, 0) || l <= 0 || l > 100 {
					v.add(path+".lengthM", "must be a vehicle length in metres, greater than 0 and at most 100, got %v", l)
				}
			}
			if g.VehicleClass == "" && g.LengthM == nil {
				v.add(path, "give a vehicleClass or a lengthM")
			}
		}
		if total > maxFleetVehicles {
			v.add(FieldBusFleet+".vehicles", "%d vehicles in all is not a plausible fleet (at most %d)", total, int64(maxFleetVehicles))
		}
	}
	for _, g := range []struct {
		field string
		geom  *Geometry
	}{{FieldCentralArea, s.CentralArea}, {FieldBusStops, s.BusStops}} {
		if g.geom == nil {
			continue
		}
		switch g.geom.CRS {
		case "", CRSUnspecified, CRSWGS84, CRSCGCS2000, CRSGCJ02, CRSBD09:
		default:
			v.add(g.field+"Crs", "unknown coordinate system %q", string(g.geom.CRS))
		}
	}
}
