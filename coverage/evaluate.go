package coverage

import (
	"context"
	"fmt"
	"maps"
	"math"
	"slices"
	"strconv"
	"strings"
	"sync/atomic"
)

// Evaluate validates the settlement against the ruleset and evaluates the
// rules of the given topics (every rule when none is given), in ruleset order.
// Bad input is a CodeInvalid *Error naming each bad field; a missing input is
// not an error but an INSUFFICIENT_DATA result naming it.
func (rs *Ruleset) Evaluate(s *Settlement, topics ...Topic) (*Audit, error) {
	return rs.EvaluateContext(context.Background(), s, topics...)
}

// EvaluateContext is Evaluate with a context, which bounds the geometry
// computation of the bus-stop coverage rule: a cancelled request stops using
// CPU within milliseconds and returns the context's error.
func (rs *Ruleset) EvaluateContext(ctx context.Context, s *Settlement, topics ...Topic) (*Audit, error) {
	a := new(Audit)
	if err := rs.EvaluateInto(ctx, a, s, topics...); err != nil {
		return nil, err
	}
	return a, nil
}

// EvaluateInto is EvaluateContext writing the audit into a, whose earlier
// contents it replaces. The array of a's results is reused when it is large
// enough: a caller that audits settlements one after another, and is done
// with each audit before the next, allocates it once. The results, a score
// of 400-odd bytes each, are an audit's largest allocation, and a server
// answering thousands of audits a second collects garbage in proportion to
// what it allocates. Everything else in the audit is new, so a result
// copied out of a keeps its notes, actions and missing fields. On error, a
// is left empty.
func (rs *Ruleset) EvaluateInto(ctx context.Context, a *Audit, s *Settlement, topics ...Topic) error {
	results := a.Results[:0]
	*a = Audit{}
	if s == nil {
		return InvalidFields(FieldViolation{Field: "settlement", Reason: "required"})
	}
	var v violations
	s.validate(&v)
	fleet := rs.convertFleet(s.Fleet, &v)
	if err := v.err(); err != nil {
		return err
	}
	*a = Audit{
		RulesetID:      rs.ID,
		RulesetVersion: rs.Version,
		SettlementID:   s.ID,
		SettlementName: s.Name,
		Tier:           rs.assignTier(s),
		Counts:         StatusCounts{},
		Fleet:          fleet,
		Results:        results,
	}
	// Every result starts with a copy of its rule's notes; the copies share
	// one array, each capped at its own end so that a result's later notes
	// never reach the next one's.
	var notes []string
	if len(topics) == 0 {
		// A batch audits thousands of settlements; growing the slice of large
		// results rule by rule was a fifth of the audit's time.
		if cap(a.Results) < len(rs.Rules) {
			a.Results = make([]Result, 0, len(rs.Rules))
		}
		n := 0
		for i := range rs.Rules {
			n += len(rs.Rules[i].Notes)
		}
		notes = make([]string, 0, n)
	}
	for i := range rs.Rules {
		r := &rs.Rules[i]
		if len(topics) > 0 && !slices.Contains(topics, r.Topic) {
			continue
		}
		// The result is written in place: copying it, once into the
		// evaluation and once out, was a tenth of a town's audit.
		if n := len(a.Results); n < cap(a.Results) {
			a.Results = a.Results[:n+1]
		} else {
			a.Results = append(a.Results, Result{})
		}
		e := evaluation{ctx: ctx, rs: rs, r: r, s: s, fleet: fleet, res: &a.Results[len(a.Results)-1], notes: &notes, requirements: &a.Requirements}
		res := e.run()
		if e.err != nil {
			*a = Audit{}
			return e.err
		}
		if e.stopCoverage != nil {
			a.StopCoverage = e.stopCoverage
		}
		a.Counts[res.Status]++
	}
	if a.StopCoverage == nil && (s.CentralArea != nil || s.BusStops != nil || len(s.PopulationPoints) > 0) {
		if err := validateGeometry(ctx, s); err != nil {
			*a = Audit{}
			return err
		}
	}
	return nil
}

func (rs *Ruleset) assignTier(s *Settlement) TierAssignment {
	if s.UrbanPopulation == nil {
		return TierAssignment{Reason: FieldUrbanPopulation + " was not given, so no city-size tier could be selected"}
	}
	p := *s.UrbanPopulation
	t := rs.TierFor(p)
	if t == nil {
		return TierAssignment{UrbanPopulation: s.UrbanPopulation, Reason: "the ruleset defines no city-size tiers"}
	}
	return TierAssignment{ID: t.ID, Label: t.Label, UrbanPopulation: s.UrbanPopulation,
		Reason: "urban population " + group(p) + " falls in " + t.ID + " (" + t.Label + ")"}
}

// convertFleet converts a fleet list to standard units with the ruleset's table.
func (rs *Ruleset) convertFleet(f *Fleet, v *violations) *FleetSummary {
	if f == nil || (f.StandardUnits == nil && len(f.Vehicles) == 0) {
		return nil
	}
	if f.StandardUnits != nil {
		return &FleetSummary{StandardUnits: *f.StandardUnits}
	}
	sum := &FleetSummary{Vehicles: new(int64)}
	byClass := map[string]int{}
	for i, g := range f.Vehicles {
		path := fmt.Sprintf("%s.vehicles[%d]", FieldBusFleet, i)
		c := rs.vehicleClass(g, path, v)
		if c == nil {
			continue
		}
		j, seen := byClass[c.ID]
		if !seen {
			j = len(sum.Classes)
			byClass[c.ID] = j
			sum.Classes = append(sum.Classes, FleetClassCount{VehicleClass: c.ID, Coefficient: c.Coefficient})
		}
		sum.Classes[j].Count += g.Count
		*sum.Vehicles += g.Count
	}
	for i := range sum.Classes {
		c := &sum.Classes[i]
		c.StandardUnits = float64(c.Count) * c.Coefficient
		sum.StandardUnits += c.StandardUnits
	}
	return sum
}

func (rs *Ruleset) vehicleClass(g VehicleGroup, path string, v *violations) *VehicleClass {
	if g.VehicleClass != "" {
		for i := range rs.VehicleClasses {
			if rs.VehicleClasses[i].ID == g.VehicleClass {
				c := &rs.VehicleClasses[i]
				if g.LengthM != nil && !c.holdsLength(*g.LengthM) {
					v.add(path+".lengthM", "length %v m does not fall in class %s (%s)", *g.LengthM, c.ID, c.Label)
				}
				return c
			}
		}
		ids := make([]string, len(rs.VehicleClasses))
		for i, c := range rs.VehicleClasses {
			ids[i] = c.ID
		}
		v.add(path+".vehicleClass", "unknown vehicle class %q; ruleset %s knows: %s", g.VehicleClass, rs.ID, strings.Join(ids, ", "))
		return nil
	}
	if g.LengthM == nil || !(*g.LengthM > 0 && *g.LengthM <= 100) {
		return nil // reported by validate
	}
	for i := range rs.VehicleClasses {
		if rs.VehicleClasses[i].holdsLength(*g.LengthM) {
			return &rs.VehicleClasses[i]
		}
	}
	v.add(path+".lengthM", "no vehicle class of ruleset %s covers a length of %v m", rs.ID, *g.LengthM)
	return nil
}

func (c *VehicleClass) holdsLength(l float64) bool {
	if c.MinLengthM == nil && c.MaxLengthM == nil {
		return false
	}
	return (c.MinLengthM == nil || l > *c.MinLengthM) && (c.MaxLengthM == nil || l <= *c.MaxLengthM)
}

// evaluation is the evaluation of one rule for one settlement.
type evaluation struct {
	ctx   context.Context
	rs    *Ruleset
	r     *Rule
	s     *Settlement
	fleet *FleetSummary

	res          *Result   // the audit's slot for the rule's result
	notes        *[]string // the audit's array for copies of the rules' notes
	threshold    *Threshold
	population   int64                  // on the rule's basis, when it has one
	requirements *[]FacilityRequirement // the audit's
	stopCoverage *StopCoverage
	err          error // bad geometry or cancellation: the whole evaluation fails
}

func (e *evaluation) run() *Result {
	r := e.r
	*e.res = Result{
		RuleID: r.ID, Title: r.Title, Topic: r.Topic,
		RulesetID: e.rs.ID, RulesetVersion: e.rs.Version,
		Unit: r.Unit, Comparison: r.Comparison, ShortfallUnit: r.ShortfallUnit,
		Citation: r.Citation, Notes: e.ruleNotes(),
	}
	if reason, ok := e.applies(); !ok {
		return e.finish(StatusNotApplicable, reason)
	}
	// Without the kind or the population the threshold cannot be chosen, so
	// every missing input is reported at once; with them, a size band the
	// rule does not cover makes it not applicable before inputs are asked for.
	// The lists are gathered on the stack; the result keeps a copy.
	var gathered [8]string
	if missing := e.missingSelectors(gathered[:0]); len(missing) > 0 {
		return e.insufficient(e.missingInputs(missing))
	}
	if reason, ok := e.selectThreshold(); !ok {
		return e.finish(StatusNotApplicable, reason)
	}
	if missing := e.missingInputs(gathered[:0]); len(missing) > 0 {
		return e.insufficient(missing)
	}
	return e.measure()
}

// ruleNotes is a copy of the rule's notes for its result.
func (e *evaluation) ruleNotes() []string {
	src := e.r.Notes
	if len(src) == 0 || cap(*e.notes)-len(*e.notes) < len(src) {
		return slices.Clone(src)
	}
	start := len(*e.notes)
	*e.notes = append(*e.notes, src...)
	return (*e.notes)[start:len(*e.notes):len(*e.notes)]
}

// insufficient reports the missing inputs, each named once, in the order given.
func (e *evaluation) insufficient(missing []string) *Result {
	e.res.MissingFields = slices.Clone(missing)
	return e.finish(StatusInsufficientData, "missing input: "+strings.Join(missing, ", "))
}

func (e *evaluation) finish(st Status, reason string) *Result {
	e.res.Status = st
	e.res.Reason = reason
	return e.res
}

// applies reports whether the rule applies to the settlement's kind and flags.
// An unknown kind is not a reason to skip: missingInputs reports it.
func (e *evaluation) applies() (string, bool) {
	a, s := e.r.AppliesTo, e.s
	if len(a.Kinds) > 0 && s.Kind != "" && s.Kind != KindUnspecified && !slices.Contains(a.Kinds, s.Kind) {
		return notApplicableReason(e.r, s.Kind), false
	}
	if a.RegionalCentralCityOnly && s.RegionalCentralCity != nil && !*s.RegionalCentralCity {
		return "applies to regional central cities; this settlement is declared not to be one (regionalCentralCity false)", false
	}
	return "", true
}

// notApplicableReasons memoises the reason a rule does not apply to a kind:
// most rules do not apply to most settlements of a batch (a town meets the
// cities' transport rules fifteen times per audit), and the sentence is the
// same every time. It holds one entry per rule and kind of the rulesets
// loaded, which a process loads once. The map is replaced, never changed,
// so that the many readers take no lock; with sync.Map, hashing its
// interface keys was a twentieth of a server's CPU under load.
var notApplicableReasons atomic.Pointer[map[notApplicableKey]string]

type notApplicableKey struct {
	rule *Rule
	kind Kind
}

func notApplicableReason(r *Rule, k Kind) string {
	key := notApplicableKey{r, k}
	memo := notApplicableReasons.Load()
	if memo != nil {
		if reason, ok := (*memo)[key]; ok {
			return reason
		}
	}
	nouns := make([]string, len(r.AppliesTo.Kinds))
	for i, kind := range r.AppliesTo.Kinds {
		nouns[i] = kind.Plural()
	}
	reason := fmt.Sprintf("applies to %s; this settlement is a %s", joinAnd(nouns), k.Noun())
	for {
		next := map[notApplicableKey]string{key: reason}
		if memo != nil {
			maps.Copy(next, *memo)
		}
		if notApplicableReasons.CompareAndSwap(memo, &next) {
			return reason
		}
		memo = notApplicableReasons.Load()
	}
}

func (e *evaluation) basisField() string {
	switch e.r.PopulationBasis {
	case BasisUrban:
		return FieldUrbanPopulation
	case BasisResident:
		return FieldResidentPopulation
	}
	return ""
}

func (e *evaluation) basisValue() *int64 {
	switch e.r.PopulationBasis {
	case BasisUrban:
		return e.s.UrbanPopulation
	case BasisResident:
		return e.s.ResidentPopulation
	}
	return nil
}

func (e *evaluation) needsPopulation() bool {
	if e.r.Tiered {
		return true
	}
	for _, t := range e.r.Thresholds {
		if t.MinPopulation != nil || t.MaxPopulation != nil || t.PopulationPerUnit != nil {
			return true
		}
	}
	return false
}

// missingSelectors appends to m the absent inputs that choose the
// threshold: the kind and the population on the rule's basis.
func (e *evaluation) missingSelectors(m []string) []string {
	if len(e.r.AppliesTo.Kinds) > 0 && (e.s.Kind == "" || e.s.Kind == KindUnspecified) {
		m = append(m, FieldKind)
	}
	if e.r.AppliesTo.RegionalCentralCityOnly && e.s.RegionalCentralCity == nil {
		m = append(m, FieldRegionalCentralCity)
	}
	if e.needsPopulation() && e.basisValue() == nil {
		m = append(m, e.basisField())
	}
	return m
}

// missingInputs appends to m every absent input the rule's metric needs
// that m does not name yet.
func (e *evaluation) missingInputs(m []string) []string {
	s := e.s
	need := func(present bool, field string) {
		if !present && !slices.Contains(m, field) {
			m = append(m, field)
		}
	}
	switch e.r.Metric {
	case MetricStopCoverageShare:
		need(s.CentralArea != nil, FieldCentralArea)
		need(s.BusStops != nil, FieldBusStops)
	case MetricFleetUnitsPer10K:
		need(e.fleet != nil, FieldBusFleet)
		need(s.UrbanPopulation != nil, FieldUrbanPopulation)
	case MetricAverageBusSpeed:
		need(s.AverageBusSpeedKmh != nil, FieldAverageBusSpeedKmh)
	case MetricDepotAreaPerUnit:
		need(s.BusDepotAreaM2 != nil, FieldBusDepotAreaM2)
		need(e.fleet != nil, FieldBusFleet)
	case MetricParkingPer100Vehicles:
		need(s.RegisteredVehicles != nil, FieldRegisteredVehicles)
		need(s.PublicParkingSpaces != nil, FieldPublicParkingSpaces)
	case MetricDeclaredFact:
		_, ok := s.Declared[e.r.DeclaredFact]
		need(ok, e.r.DeclaredFact.Field())
	case MetricElderlyBedsPer1000:
		need(s.ElderlyPopulation != nil, FieldElderlyPopulation)
		need(s.ElderlyCareBeds != nil, FieldElderlyCareBeds)
	case MetricFacilityCount:
		for _, f := range e.r.Facilities {
			_, ok := s.Facilities[f]
			need(ok, f.Field())
		}
	case MetricPreschoolEnrolmentRatio:
		need(s.PreschoolAgePopulation != nil, FieldPreschoolAgePopulation)
		need(s.PreschoolEnrolment != nil, FieldPreschoolEnrolment)
	case MetricVocationalIntakeRatio:
		need(s.VocationalSchoolIntake != nil, FieldVocationalSchoolIntake)
		need(s.GeneralHighSchoolIntake != nil, FieldGeneralHighSchoolIntake)
	case MetricLandPerCapita:
		need(s.UrbanConstructionLandKm2 != nil, FieldUrbanConstructionLandKm2)
		need(s.UrbanPopulation != nil, FieldUrbanPopulation)
	case MetricUrbanisationRate:
		need(s.UrbanisedPopulation != nil, FieldUrbanisedPopulation)
		need(s.ResidentPopulation != nil, FieldResidentPopulation)
	}
	return m
}

// selectThreshold picks the first threshold whose tier and population band
// hold the settlement; none means the rule does not apply to its size.
func (e *evaluation) selectThreshold() (string, bool) {
	r := e.r
	var tier *Tier
	if e.needsPopulation() {
		e.population = *e.basisValue()
	}
	if r.Tiered {
		tier = e.rs.TierFor(e.population)
		if tier == nil {
			return fmt.Sprintf("no city-size tier holds an urban population of %s", group(e.population)), false
		}
		e.res.Tier = tier.ID
	}
	for i := range r.Thresholds {
		t := &r.Thresholds[i]
		if t.Tier != "" && (tier == nil || t.Tier != tier.ID) {
			continue
		}
		if (t.MinPopulation != nil || t.MaxPopulation != nil) && !inRange(e.population, t.MinPopulation, t.MaxPopulation) {
			continue
		}
		e.threshold = t
		break
	}
	if e.threshold == nil {
		var bandsOnStack [8]string
		bands := bandsOnStack[:0]
		for _, t := range r.Thresholds {
			if t.Label != "" {
				bands = append(bands, t.Label)
			}
		}
		return "no threshold for a " + populationNoun(r.PopulationBasis) + " of " + group(e.population) +
			"; the rule covers " + joinAnd(bands), false
	}
	t := e.threshold
	threshold := t.Value
	if r.Metric == MetricFacilityCount {
		// The threshold reported is what the verdict is held to: the count
		// required of a single facility type, or the number of types.
		if len(r.Facilities) == 1 {
			threshold = float64(e.requiredFacilities())
		} else {
			threshold = float64(len(r.Facilities))
		}
	}
	e.res.Threshold = Float64(threshold)
	e.res.ThresholdUpper = t.Upper
	e.res.SizeClass = t.Label
	if t.Tier != "" {
		e.res.SizeClass = ""
	}
	switch {
	case tier != nil:
		e.res.ThresholdReason = tier.ID + " tier (" + tier.Label + "): urban population " + group(e.population)
	case t.MinPopulation != nil || t.MaxPopulation != nil:
		e.res.ThresholdReason = t.Label + ": " + populationNoun(r.PopulationBasis) + " " + group(e.population)
	default:
		e.res.ThresholdReason = "the plan sets one threshold for every settlement the rule applies to"
	}
	if t.Note != "" {
		note := t.Note
		if t.Interpretation && !strings.HasPrefix(strings.ToLower(note), "interpretation") {
			note = "Interpretation: " + note
		}
		e.res.Notes = append(e.res.Notes, note)
	}
	return "", true
}

func populationNoun(b PopulationBasis) string {
	switch b {
	case BasisUrban:
		return "urban population"
	case BasisResident:
		return "resident population"
	}
	return "population"
}

// measure computes the rule's metric and holds it against the threshold.
func (e *evaluation) measure() *Result {
	s, th := e.s, e.threshold.Value
	switch e.r.Metric {
	case MetricStopCoverageShare:
		return e.stopCoverageShare()
	case MetricElderlyBedsPer1000:
		elderly, beds := *s.ElderlyPopulation, *s.ElderlyCareBeds
		if elderly == 0 {
			return e.finish(StatusNotApplicable, "no residents aged 60+: beds per 1,000 elderly is undefined")
		}
		need := ceilTol(th * float64(elderly) / 1000)
		return e.judge(float64(beds)*1000/float64(elderly), float64(beds), need, 1,
			func(q float64) string { return "add " + num(q) + " elderly-care beds" })
	case MetricParkingPer100Vehicles:
		veh, spaces := *s.RegisteredVehicles, *s.PublicParkingSpaces
		if veh == 0 {
			return e.finish(StatusNotApplicable, "no registered vehicles: spaces per 100 vehicles is undefined")
		}
		value := float64(spaces) * 100 / float64(veh)
		need := ceilTol(th * float64(veh) / 100)
		res := e.judge(value, float64(spaces), need, 1,
			func(q float64) string { return "add " + num(q) + " public parking spaces" })
		if u := e.threshold.Upper; u != nil && res.Status == StatusCompliant {
			if value > *u+tol(*u) {
				res.Notes = append(res.Notes, fmt.Sprintf("%s spaces per 100 vehicles is above the %s–%s target band: informational, not a failure", num(value), num(th), num(*u)))
			} else {
				res.Notes = append(res.Notes, fmt.Sprintf("within the %s–%s target band", num(th), num(*u)))
			}
		}
		return res
	case MetricPreschoolEnrolmentRatio:
		kids, enrolled := *s.PreschoolAgePopulation, *s.PreschoolEnrolment
		if kids == 0 {
			return e.finish(StatusNotApplicable, "no children aged 3-5: the gross enrolment ratio is undefined")
		}
		need := ceilTol(th * float64(kids))
		return e.judge(float64(enrolled)/float64(kids), float64(enrolled), need, 1,
			func(q float64) string { return "enrol " + num(q) + " more children in preschool" })
	case MetricFleetUnitsPer10K:
		p := *s.UrbanPopulation
		if p == 0 {
			return e.finish(StatusNotApplicable, "no urban residents: vehicles per 10,000 residents is undefined")
		}
		units := e.fleet.StandardUnits
		return e.judge(units*10000/float64(p), units, th*float64(p)/10000, 0.01,
			func(q float64) string {
				return "add " + num(q) + " standard units (标台) of public-transport vehicles"
			})
	case MetricAverageBusSpeed:
		speed := *s.AverageBusSpeedKmh
		return e.judge(speed, speed, th, 0.01,
			func(q float64) string { return "raise the average bus operating speed by " + num(q) + " km/h" })
	case MetricDepotAreaPerUnit:
		units, area := e.fleet.StandardUnits, *s.BusDepotAreaM2
		if units == 0 {
			return e.finish(StatusNotApplicable, "the fleet is empty: depot area per vehicle is undefined")
		}
		return e.judge(area/units, area, th*units, 1,
			func(q float64) string { return "add " + num(q) + " m² of bus depot" })
	case MetricLandPerCapita:
		p, land := *s.UrbanPopulation, *s.UrbanConstructionLandKm2
		if p == 0 {
			return e.finish(StatusNotApplicable, "no urban residents: land per capita is undefined")
		}
		return e.judge(land*1e6/float64(p), land, th*float64(p)/1e6, 0.0001,
			func(q float64) string {
				return "reduce urban construction land by " + num(q) + " km², or house more residents on it"
			})
	case MetricVocationalIntakeRatio:
		voc, gen := *s.VocationalSchoolIntake, *s.GeneralHighSchoolIntake
		if gen == 0 {
			return e.finish(StatusNotApplicable, "no general senior high school intake: the ratio is undefined")
		}
		return e.judge(float64(voc)/float64(gen), 0, 0, 0, nil)
	case MetricUrbanisationRate:
		urb, res := *s.UrbanisedPopulation, *s.ResidentPopulation
		if res == 0 {
			return e.finish(StatusNotApplicable, "no resident population: the urbanisation rate is undefined")
		}
		return e.judge(float64(urb)/float64(res), 0, 0, 0, nil)
	case MetricDeclaredFact:
		f := e.r.DeclaredFact
		if s.Declared[f] {
			e.res.Value = Float64(1)
			return e.finish(StatusCompliant, factInfos[f].yes)
		}
		e.res.Value = Float64(0)
		// A declared fact has no quantity; what is missing is the one thing declared.
		e.addAction(actionVars{quantity: 1})
		return e.finish(StatusNonCompliant, factInfos[f].no)
	case MetricFacilityCount:
		return e.facilities()
	}
	return e.finish(StatusNotComputed, fmt.Sprintf("metric %s is not known to this service version", e.r.Metric))
}

// judge holds a value against the threshold. have and need are in shortfall
// units (beds, spaces, m²), so the shortfall is need − have rounded up to step.
func (e *evaluation) judge(value, have, need, step float64, action func(float64) string) *Result {
	e.res.Value = Float64(value)
	th := e.threshold.Value
	switch e.r.Comparison {
	case ReportOnly:
		return e.finish(StatusInformational, num(value)+" "+e.r.Unit+", reported beside the target of "+num(th)+
			" ("+e.threshold.Label+"); the plan sets no hard threshold")
	case AtMost:
		if have <= need+tol(need) {
			return e.finish(StatusCompliant, num(value)+" "+e.r.Unit+" is within the limit of "+num(th))
		}
		return e.short(roundUp(have-need, step), action, num(value)+" "+e.r.Unit+" exceeds the limit of "+num(th))
	default:
		if have >= need-tol(need) {
			return e.finish(StatusCompliant, num(value)+" "+e.r.Unit+" meets the threshold of "+num(th))
		}
		return e.short(roundUp(need-have, step), action, num(value)+" "+e.r.Unit+" is below the threshold of "+num(th))
	}
}

func (e *evaluation) short(q float64, action func(float64) string, reason string) *Result {
	e.res.Shortfall = Float64(q)
	e.res.ShortfallItems = []Shortfall{{Quantity: q, Unit: e.r.ShortfallUnit, Action: action(q)}}
	e.addAction(actionVars{quantity: q})
	return e.finish(StatusNonCompliant, reason)
}

// facilities evaluates a facility-count rule: every listed type must reach
// the threshold, scaled by population where the threshold says so.
func (e *evaluation) facilities() *Result {
	t := e.threshold
	required := e.requiredFacilities()
	var met int
	var total int64
	var lackingOnStack [4]string
	lacking := lackingOnStack[:0]
	for _, f := range e.r.Facilities {
		present := e.s.Facilities[f]
		missing := max(required-present, 0)
		e.addRequirement(FacilityRequirement{
			RuleID: e.r.ID, Facility: f, Required: required, Present: Int64(present), Missing: missing,
		})
		if missing == 0 {
			met++
			continue
		}
		total += missing
		what := strconv.FormatInt(missing, 10) + " " + f.Noun(missing)
		lacking = append(lacking, what)
		e.res.ShortfallItems = append(e.res.ShortfallItems, Shortfall{
			Quantity: float64(missing), Unit: e.r.ShortfallUnit, Facility: f,
			Action: "build " + what,
		})
		e.addAction(actionVars{quantity: float64(missing), facility: f})
	}
	// The threshold is selectThreshold's: the count required, or the number of types.
	if len(e.r.Facilities) == 1 {
		e.res.Value = Float64(float64(e.s.Facilities[e.r.Facilities[0]]))
	} else {
		e.res.Value = Float64(float64(met))
	}
	if per := t.PopulationPerUnit; per != nil {
		e.res.ThresholdReason += "; " + strconv.FormatInt(required, 10) + " required (⌈" + group(e.population) + " ÷ " + group(*per) + "⌉)"
	}
	if total == 0 {
		return e.finish(StatusCompliant, "has the required "+describeRequired(e.r.Facilities, required))
	}
	e.res.Shortfall = Float64(float64(total))
	return e.finish(StatusNonCompliant, "missing "+joinAnd(lacking))
}

// addRequirement adds a facility requirement to the audit. The first makes
// room for one per facility type of every facility rule, so that the list is
// not regrown rule by rule.
func (e *evaluation) addRequirement(fr FacilityRequirement) {
	if *e.requirements == nil {
		n := 0
		for i := range e.rs.Rules {
			if r := &e.rs.Rules[i]; r.Metric == MetricFacilityCount {
				n += len(r.Facilities)
			}
		}
		*e.requirements = make([]FacilityRequirement, 0, n)
	}
	*e.requirements = append(*e.requirements, fr)
}

// requiredFacilities is how many facilities of each listed type the
// threshold asks for: its value, or one per populationPerUnit residents
// (rounded up) when that is more.
func (e *evaluation) requiredFacilities() int64 {
	t := e.threshold
	required := int64(ceilTol(t.Value))
	if per := t.PopulationPerUnit; per != nil {
		n := e.population / *per
		if e.population%*per != 0 {
			n++
		}
		required = max(required, n)
	}
	return required
}

// describeRequired is "n A", "n A and n B" or "n A, n B and n C", as
// joinAnd would join them.
func describeRequired(fs []FacilityType, n int64) string {
	count := strconv.FormatInt(n, 10)
	var b strings.Builder
	for i, f := range fs {
		switch {
		case i == 0:
		case i == len(fs)-1:
			b.WriteString(" and ")
		default:
			b.WriteString(", ")
		}
		b.WriteString(count)
		b.WriteByte(' ')
		b.WriteString(f.Noun(n))
	}
	return b.String()
}

// tol absorbs floating-point error in comparisons of computed quantities
// (a coverage share of 0.9999999999998 meets a threshold of 1).
func tol(x float64) float64 { return 1e-9 * math.Max(1, math.Abs(x)) }

// ceilTol rounds up, ignoring excess that is only floating-point error:
// 36 × 12,000 ÷ 1,000 needs exactly 432 beds, 36 × 12,345 ÷ 1,000 needs 445.
// The tolerance is far above the rounding error of one product and quotient
// (~1e-16 relative) and far below the smallest true fraction of the counts
// the validation admits (36 × 2e9 ÷ 1,000 leaves fractions of 0.001 at 7.2e7).
func ceilTol(x float64) float64 { return math.Ceil(x - 1e-12*math.Max(1, math.Abs(x))) }

// roundUp rounds x up to a multiple of step (no rounding for step 0).
func roundUp(x, step float64) float64 {
	if step == 0 {
		return x
	}
	q := ceilTol(x / step)
	// Dividing back by 1/step keeps decimal steps exact in print (0.01 → 100).
	return q / math.Round(1/step)
}

// num prints a number without float noise: integers plainly, others to at most 4 decimals.
func num(x float64) string {
	if x == math.Trunc(x) && math.Abs(x) < 1e15 {
		return group(int64(x))
	}
	return strconv.FormatFloat(math.Round(x*1e4)/1e4, 'f', -1, 64)
}

// group prints an integer with thousands separators: 2000000 → "2,000,000".
func group(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b strings.Builder
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}

func joinAnd(parts []string) string {
	switch len(parts) {
	case 0:
		return ""
	case 1:
		return parts[0]
	case 2:
		return parts[0] + " and " + parts[1]
	}
	return strings.Join(parts[:len(parts)-1], ", ") + " and " + parts[len(parts)-1]
}

// stopCoverageShare measures the central area's coverage exactly and holds
// the share against the tier's threshold.
func (e *evaluation) stopCoverageShare() *Result {
	sc, err := MeasureStopCoverage(e.ctx, e.s, *e.r.RadiusM)
	if err != nil {
		e.err = err
		return e.res
	}
	th := e.threshold.Value
	sc.Threshold = Float64(th)
	sc.Tier = e.res.Tier
	e.stopCoverage = sc
	e.res.Notes = append(e.res.Notes,
		fmt.Sprintf("radius %s m; %s", num(sc.RadiusM), sc.Definition),
		fmt.Sprintf("method: %s", sc.Method),
		fmt.Sprintf("%s given: %d inside the area, %d outside it but within %s m, %d farther, %s merged",
			countOf(int64(sc.StopsGiven), "stop", "stops"), sc.StopsInside, sc.StopsOutsideNear, num(sc.RadiusM), sc.StopsBeyond,
			countOf(int64(sc.DuplicatesMerged), "duplicate", "duplicates")))
	if p := sc.Population; p != nil {
		e.res.Notes = append(e.res.Notes, fmt.Sprintf("population-weighted (reported beside the area figure, not used for the verdict): %s of the %s residents of the central area within %s m, share %s (%d of %d population points outside the central area not counted)",
			num(p.Covered), num(p.Total), num(sc.RadiusM), num(p.Share), p.PointsOutside, p.Points))
	}
	e.res.Value = Float64(sc.Share)
	if sc.Share >= th-tol(th) {
		return e.finish(StatusCompliant, fmt.Sprintf("%s of the central area (%s of %s km²) is within %s m of a bus stop; the threshold is %s",
			pct(sc.Share), num(sc.CoveredKm2), num(sc.TotalKm2), num(sc.RadiusM), pct(th)))
	}
	short := th - sc.Share
	km2 := short * sc.TotalKm2
	sc.ShortfallShare, sc.ShortfallKm2 = Float64(short), Float64(km2)
	e.res.Shortfall = Float64(short)
	e.res.ShortfallItems = []Shortfall{
		{Quantity: short, Unit: e.r.ShortfallUnit, Action: fmt.Sprintf("bring %s more of the central area within %s m of a bus stop", pct(short), num(sc.RadiusM))},
		{Quantity: km2, Unit: "km²", Action: fmt.Sprintf("cover %s km² more of the central area", num(km2))},
	}
	// The action is in km², not a share: km² add up across cities, shares
	// of areas of different sizes do not.
	e.addAction(actionVars{quantity: km2, radiusM: sc.RadiusM, share: short})
	return e.finish(StatusNonCompliant, fmt.Sprintf("%s of the central area (%s of %s km²) is within %s m of a bus stop, below the threshold of %s",
		pct(sc.Share), num(sc.CoveredKm2), num(sc.TotalKm2), num(sc.RadiusM), pct(th)))
}

// countOf is "1 stop", "2 stops".
func countOf(n int64, one, many string) string {
	if n == 1 {
		return "1 " + one
	}
	return strconv.FormatInt(n, 10) + " " + many
}

// pct prints a share as a percentage with two decimals.
func pct(x float64) string { return strconv.FormatFloat(x*100, 'f', 2, 64) + "%" }
