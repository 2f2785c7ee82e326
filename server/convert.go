package server

import (
	"fmt"
	"strconv"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/civic-standards/coverage/coverage"
	"github.com/civic-standards/coverage/internal/pbconv"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// The domain spells enum values with the proto enum value names, so mapping
// is by name; numbers the proto enum does not know stay visible as digits and
// fail domain validation with the field named.
func enumName(names map[int32]string, v int32) string {
	if n, ok := names[v]; ok {
		return n
	}
	return strconv.Itoa(int(v))
}

// settlementFromProto maps the wire settlement to the domain's. Values the
// domain validates (signs, enums, geometry) pass through; only conflicts of
// wire alternatives are reported here.
func settlementFromProto(p *coveragev1.Settlement) (*coverage.Settlement, error) {
	if p == nil {
		return nil, coverage.InvalidFields(coverage.FieldViolation{Field: "settlement", Reason: "required"})
	}
	// An unknown coordinate system is refused even without the geometry it
	// would apply to: a caller sending one has a broken client, and should
	// hear it now rather than when it first sends an area.
	var badCRS []coverage.FieldViolation
	for _, c := range []struct {
		field string
		crs   coveragev1.CoordinateSystem
	}{
		{coverage.FieldCentralArea + "Crs", p.GetCentralAreaCrs()},
		{coverage.FieldBusStops + "Crs", p.GetBusStopsCrs()},
		{"settlement.populationPointsCrs", p.GetPopulationPointsCrs()},
	} {
		if _, ok := coveragev1.CoordinateSystem_name[int32(c.crs)]; !ok {
			badCRS = append(badCRS, coverage.FieldViolation{Field: c.field, Reason: fmt.Sprintf("unknown coordinate system %d", c.crs)})
		}
	}
	if len(badCRS) > 0 {
		return nil, coverage.InvalidFields(badCRS...)
	}
	s := &coverage.Settlement{
		ID:                       p.GetId(),
		Name:                     p.GetName(),
		Kind:                     coverage.Kind(enumName(coveragev1.SettlementKind_name, int32(p.GetKind()))),
		RegionalCentralCity:      p.RegionalCentralCity,
		CountySeat:               p.CountySeat,
		UrbanPopulation:          p.UrbanPopulation,
		ResidentPopulation:       p.ResidentPopulation,
		ElderlyPopulation:        p.ElderlyPopulation,
		PreschoolAgePopulation:   p.PreschoolAgePopulation,
		UrbanisedPopulation:      p.UrbanisedPopulation,
		ElderlyCareBeds:          p.ElderlyCareBeds,
		PreschoolEnrolment:       p.PreschoolEnrolment,
		VocationalSchoolIntake:   p.VocationalSchoolIntake,
		GeneralHighSchoolIntake:  p.GeneralHighSchoolIntake,
		RegisteredVehicles:       p.RegisteredVehicles,
		PublicParkingSpaces:      p.PublicParkingSpaces,
		AverageBusSpeedKmh:       p.AverageBusSpeedKmh,
		BusDepotAreaM2:           p.BusDepotAreaM2,
		UrbanConstructionLandKm2: p.UrbanConstructionLandKm2,
		Facilities:               map[coverage.FacilityType]int64{},
		Declared:                 map[coverage.DeclaredFact]bool{},
	}
	// Arrays, not map literals: a map built on every call to be ranged over
	// once was a visible share of a town's audit.
	if f := p.GetFacilities(); f != nil {
		for _, c := range [...]struct {
			t coverage.FacilityType
			n *int64
		}{
			{coverage.FacilityLevel2GeneralHospital, f.Level2GeneralHospitals},
			{coverage.FacilityTCMHospital, f.TcmHospitals},
			{coverage.FacilityMaternalChildHealthHosp, f.MaternalChildHealthHospitals},
			{coverage.FacilityCommunityHealthCentre, f.CommunityHealthCentres},
			{coverage.FacilityCommunityHealthStation, f.CommunityHealthStations},
			{coverage.FacilityTownshipHealthCentre, f.TownshipHealthCentres},
			{coverage.FacilityStandardKindergarten, f.StandardKindergartens},
			{coverage.FacilityLibrary, f.Libraries},
			{coverage.FacilityCulturalCentre, f.CulturalCentres},
			{coverage.FacilityMuseum, f.Museums},
		} {
			if c.n != nil {
				s.Facilities[c.t] = *c.n
			}
		}
	}
	for _, c := range [...]struct {
		fact coverage.DeclaredFact
		v    *bool
	}{
		{coverage.FactRoadHierarchy, p.RoadHierarchyMeetsStandard},
		{coverage.FactIntelligentTrafficSystem, p.IntelligentTrafficSystem},
		{coverage.FactCompulsoryEducationBalance, p.CompulsoryEducationBalanced},
	} {
		if c.v != nil {
			s.Declared[c.fact] = *c.v
		}
	}
	if f := p.GetBusFleet(); f != nil {
		fleet := &coverage.Fleet{StandardUnits: f.StandardUnits}
		for _, g := range f.GetVehicles() {
			fleet.Vehicles = append(fleet.Vehicles, coverage.VehicleGroup{
				VehicleClass: g.GetVehicleClass(), LengthM: g.LengthM, Count: g.GetCount(),
			})
		}
		s.Fleet = fleet
	}
	var v []coverage.FieldViolation
	areaCRS := crsFromProto(p.GetCentralAreaCrs())
	switch {
	case p.GetCentralArea() != nil && p.GetCentralAreaPolygons() != nil:
		v = append(v, coverage.FieldViolation{Field: coverage.FieldCentralAreaPolygons, Reason: "give either centralArea (GeoJSON) or centralAreaPolygons, not both"})
	case p.GetCentralArea() != nil:
		data, err := geoJSON(p.GetCentralArea())
		if err != nil {
			v = append(v, coverage.FieldViolation{Field: coverage.FieldCentralArea, Reason: err.Error()})
		}
		s.CentralArea = &coverage.Geometry{GeoJSON: data, CRS: areaCRS}
	case p.GetCentralAreaPolygons() != nil:
		s.CentralArea = &coverage.Geometry{Polygons: polygonsFromProto(p.GetCentralAreaPolygons()), CRS: areaCRS}
	}
	stopsCRS := crsFromProto(p.GetBusStopsCrs())
	switch {
	case p.GetBusStops() != nil && p.GetBusStopPositions() != nil:
		v = append(v, coverage.FieldViolation{Field: coverage.FieldBusStopPositions, Reason: "give either busStops (GeoJSON) or busStopPositions, not both"})
	case p.GetBusStops() != nil:
		data, err := geoJSON(p.GetBusStops())
		if err != nil {
			v = append(v, coverage.FieldViolation{Field: coverage.FieldBusStops, Reason: err.Error()})
		}
		s.BusStops = &coverage.Geometry{GeoJSON: data, CRS: stopsCRS}
	case p.GetBusStopPositions() != nil:
		pts := make([][2]float64, len(p.GetBusStopPositions().GetPositions()))
		for i, ll := range p.GetBusStopPositions().GetPositions() {
			pts[i] = [2]float64{ll.GetLon(), ll.GetLat()}
		}
		s.BusStops = &coverage.Geometry{Points: pts, CRS: stopsCRS}
	}
	for _, pp := range p.GetPopulationPoints() {
		s.PopulationPoints = append(s.PopulationPoints, coverage.PopulationPoint{Lon: pp.GetLon(), Lat: pp.GetLat(), Count: pp.GetCount()})
	}
	s.PopulationCRS = crsFromProto(p.GetPopulationPointsCrs())
	if len(v) > 0 {
		return nil, coverage.InvalidFields(v...)
	}
	return s, nil
}

func crsFromProto(c coveragev1.CoordinateSystem) coverage.CoordinateSystem {
	return coverage.CoordinateSystem(enumName(coveragev1.CoordinateSystem_name, int32(c)))
}

// geoJSON re-encodes an inline GeoJSON object (carried as a Struct so REST
// callers post it unescaped) for the GeoJSON decoder.
func geoJSON(g *structpb.Struct) ([]byte, error) {
	return protojson.Marshal(g)
}

func polygonsFromProto(mp *coveragev1.MultiPolygon) [][][][2]float64 {
	out := make([][][][2]float64, len(mp.GetPolygons()))
	for i, p := range mp.GetPolygons() {
		rings := make([][][2]float64, len(p.GetRings()))
		for j, r := range p.GetRings() {
			pos := make([][2]float64, len(r.GetPositions()))
			for k, ll := range r.GetPositions() {
				pos[k] = [2]float64{ll.GetLon(), ll.GetLat()}
			}
			rings[j] = pos
		}
		out[i] = rings
	}
	return out
}

func stopCoverageToProto(sc *coverage.StopCoverage) *coveragev1.BusStopCoverage {
	if sc == nil {
		return nil
	}
	out := &coveragev1.BusStopCoverage{
		CoverageShare:            sc.Share,
		UncoveredShare:           sc.UncoveredShare,
		CoveredAreaKm2:           sc.CoveredKm2,
		TotalAreaKm2:             sc.TotalKm2,
		UncoveredAreaKm2:         sc.UncoveredKm2,
		Threshold:                sc.Threshold,
		Tier:                     sc.Tier,
		ShortfallShare:           sc.ShortfallShare,
		ShortfallKm2:             sc.ShortfallKm2,
		StopsGiven:               int32(sc.StopsGiven),
		StopsUsed:                int32(sc.StopsUsed),
		StopsInside:              int32(sc.StopsInside),
		StopsOutsideWithinRadius: int32(sc.StopsOutsideNear),
		StopsBeyondRadius:        int32(sc.StopsBeyond),
		DuplicatesMerged:         int32(sc.DuplicatesMerged),
		AreaVertices:             int32(sc.AreaVertices),
		RadiusM:                  sc.RadiusM,
		Method:                   sc.Method,
		Definition:               sc.Definition,
		Projection:               sc.Projection,
		CentralAreaCrs:           pbconv.EnumValue[coveragev1.CoordinateSystem](coveragev1.CoordinateSystem_value, string(sc.AreaCRS)),
		BusStopsCrs:              pbconv.EnumValue[coveragev1.CoordinateSystem](coveragev1.CoordinateSystem_value, string(sc.StopsCRS)),
	}
	if p := sc.Population; p != nil {
		out.Population = &coveragev1.PopulationCoverage{Points: int32(p.Points), PointsOutside: int32(p.PointsOutside), Total: p.Total, Covered: p.Covered, Share: p.Share}
	}
	return out
}

func rulesetToProto(rs *coverage.Ruleset) *coveragev1.Ruleset {
	out := &coveragev1.Ruleset{
		Id: rs.ID, Title: rs.Title, Version: rs.Version, Notes: rs.Notes,
		Source: &coveragev1.Source{
			Title: rs.Source.Title, TitleEn: rs.Source.TitleEn, Issuer: rs.Source.Issuer,
			Period: rs.Source.Period, Reference: rs.Source.Reference,
		},
	}
	for _, t := range rs.Tiers {
		out.Tiers = append(out.Tiers, &coveragev1.Tier{Id: t.ID, Label: t.Label, MinPopulation: t.MinPopulation, MaxPopulation: t.MaxPopulation})
	}
	for _, c := range rs.VehicleClasses {
		out.VehicleClasses = append(out.VehicleClasses, &coveragev1.VehicleClass{
			Id: c.ID, Label: c.Label, MinLengthM: c.MinLengthM, MaxLengthM: c.MaxLengthM, Coefficient: c.Coefficient,
		})
	}
	for i := range rs.Rules {
		out.Rules = append(out.Rules, ruleToProto(&rs.Rules[i]))
	}
	for _, n := range rs.FacilityNames {
		out.FacilityNames = append(out.FacilityNames, &coveragev1.FacilityName{
			Facility: pbconv.EnumValue[coveragev1.FacilityType](coveragev1.FacilityType_value, string(n.Facility)),
			NameZh:   n.NameZh, UnitZh: n.UnitZh,
		})
	}
	// The message shares slices and pointers with the catalog, which every
	// request reads; the caller gets its own copy to do with as it likes.
	return proto.Clone(out).(*coveragev1.Ruleset)
}

func ruleToProto(r *coverage.Rule) *coveragev1.Rule {
	out := &coveragev1.Rule{
		Id: r.ID, Title: r.Title,
		Topic:             pbconv.EnumValue[coveragev1.Topic](coveragev1.Topic_value, string(r.Topic)),
		Citation:          pbconv.Citation(r.Citation),
		Metric:            pbconv.EnumValue[coveragev1.Metric](coveragev1.Metric_value, string(r.Metric)),
		Unit:              r.Unit,
		ShortfallUnit:     r.ShortfallUnit,
		Comparison:        pbconv.EnumValue[coveragev1.Comparison](coveragev1.Comparison_value, string(r.Comparison)),
		AppliesTo:         &coveragev1.Applicability{RegionalCentralCityOnly: r.AppliesTo.RegionalCentralCityOnly},
		PopulationBasis:   pbconv.EnumValue[coveragev1.PopulationBasis](coveragev1.PopulationBasis_value, string(r.PopulationBasis)),
		Tiered:            r.Tiered,
		DeclaredFact:      pbconv.EnumValue[coveragev1.DeclaredFact](coveragev1.DeclaredFact_value, string(r.DeclaredFact)),
		RadiusM:           r.RadiusM,
		AggregateMinShare: r.AggregateMinShare,
		Notes:             r.Notes,
	}
	for _, k := range r.AppliesTo.Kinds {
		out.AppliesTo.Kinds = append(out.AppliesTo.Kinds, pbconv.EnumValue[coveragev1.SettlementKind](coveragev1.SettlementKind_value, string(k)))
	}
	for _, t := range r.Thresholds {
		out.Thresholds = append(out.Thresholds, &coveragev1.Threshold{
			Tier: t.Tier, MinPopulation: t.MinPopulation, MaxPopulation: t.MaxPopulation, Label: t.Label,
			Value: t.Value, Upper: t.Upper, PopulationPerUnit: t.PopulationPerUnit,
			Interpretation: t.Interpretation, Note: t.Note,
		})
	}
	for _, f := range r.Facilities {
		out.Facilities = append(out.Facilities, pbconv.EnumValue[coveragev1.FacilityType](coveragev1.FacilityType_value, string(f)))
	}
	if a := r.Action; a != nil {
		out.Action = &coveragev1.ActionSpec{Kind: a.Kind, Unit: a.Unit, UnitZh: a.UnitZh, VehicleClass: a.VehicleClass, Text: a.Text, TextZh: a.TextZh}
	}
	return out
}

func resultToProto(r *coverage.Result) *coveragev1.RuleResult {
	out := new(coveragev1.RuleResult)
	fillResult(out, new(coveragev1.Citation), r)
	return out
}

// fillResult writes r into out, its citation into cit.
func fillResult(out *coveragev1.RuleResult, cit *coveragev1.Citation, r *coverage.Result) {
	c := r.Citation
	*cit = coveragev1.Citation{
		Document: c.Document, Section: c.Section, SectionEn: c.SectionEn,
		OriginalText: c.OriginalText, EnglishText: c.EnglishText,
	}
	*out = coveragev1.RuleResult{
		RuleId: r.RuleID, Title: r.Title,
		Topic:          pbconv.EnumValue[coveragev1.Topic](coveragev1.Topic_value, string(r.Topic)),
		RulesetId:      r.RulesetID,
		RulesetVersion: r.RulesetVersion,
		Status:         pbconv.EnumValue[coveragev1.Status](coveragev1.Status_value, string(r.Status)),
		Value:          r.Value, Unit: r.Unit,
		Threshold: r.Threshold, ThresholdUpper: clonePtr(r.ThresholdUpper),
		Comparison:      pbconv.EnumValue[coveragev1.Comparison](coveragev1.Comparison_value, string(r.Comparison)),
		Tier:            r.Tier,
		SizeClass:       r.SizeClass,
		ThresholdReason: r.ThresholdReason,
		Shortfall:       r.Shortfall,
		ShortfallUnit:   r.ShortfallUnit,
		Citation:        cit,
		Notes:           r.Notes,
		MissingFields:   r.MissingFields,
		Reason:          r.Reason,
	}
	for _, s := range r.ShortfallItems {
		out.ShortfallItems = append(out.ShortfallItems, &coveragev1.Shortfall{
			Quantity: s.Quantity, Unit: s.Unit, Action: s.Action,
			Facility: pbconv.EnumValue[coveragev1.FacilityType](coveragev1.FacilityType_value, string(s.Facility)),
		})
	}
	out.Actions = pbconv.Actions(r.Actions)
}

// clonePtr copies a value the domain shares with its ruleset.
func clonePtr[T any](p *T) *T {
	if p == nil {
		return nil
	}
	v := *p
	return &v
}

// resultsToProto makes the results and their citations in one allocation
// each rather than two per rule: an audit has a score of rules, and under
// load the allocator and collector were a fifth of the server's time.
func resultsToProto(rs []coverage.Result) []*coveragev1.RuleResult {
	out := make([]*coveragev1.RuleResult, len(rs))
	fillResults(out, make([]coveragev1.RuleResult, len(rs)), make([]coveragev1.Citation, len(rs)), rs)
	return out
}

// fillResults writes rs into msgs and cits, and points ptrs at msgs; all
// four have the same length.
func fillResults(ptrs []*coveragev1.RuleResult, msgs []coveragev1.RuleResult, cits []coveragev1.Citation, rs []coverage.Result) {
	for i := range rs {
		fillResult(&msgs[i], &cits[i], &rs[i])
		ptrs[i] = &msgs[i]
	}
}

func tierToProto(t coverage.TierAssignment) *coveragev1.TierAssignment {
	return &coveragev1.TierAssignment{Id: t.ID, Label: t.Label, UrbanPopulation: t.UrbanPopulation, Reason: t.Reason}
}

func requirementsToProto(rs []coverage.FacilityRequirement) []*coveragev1.FacilityRequirement {
	var out []*coveragev1.FacilityRequirement
	for _, r := range rs {
		out = append(out, &coveragev1.FacilityRequirement{
			RuleId:   r.RuleID,
			Facility: pbconv.EnumValue[coveragev1.FacilityType](coveragev1.FacilityType_value, string(r.Facility)),
			Required: r.Required, Present: r.Present, Missing: r.Missing,
		})
	}
	return out
}

func fleetToProto(f *coverage.FleetSummary) *coveragev1.FleetSummary {
	if f == nil {
		return nil
	}
	out := &coveragev1.FleetSummary{StandardUnits: f.StandardUnits, Vehicles: f.Vehicles}
	for _, c := range f.Classes {
		out.Classes = append(out.Classes, &coveragev1.FleetClassCount{
			VehicleClass: c.VehicleClass, Count: c.Count, Coefficient: c.Coefficient, StandardUnits: c.StandardUnits,
		})
	}
	return out
}
