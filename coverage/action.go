package coverage

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// ActionSpec is a rule's remedy as data: what a planner must do, per
// non-compliant result, to close the rule's shortfall. The spec gives the
// action a stable kind, so that a province can total one kind over all its
// settlements, the unit of its quantity, and the texts, whose placeholders are
// filled in per result. The quantity itself is fixed by the rule's metric, so
// that a kind means the same in every ruleset: the shortfall in the rule's
// shortfall unit; for a facility rule, the missing count of each type (one
// action per type); for a fleet rule with a VehicleClass, vehicles of that
// class; for the bus-stop coverage rule, km² of central area to bring within
// the radius (km² add up across cities, shares of different areas do not);
// for a declared fact that is false, 1.
type ActionSpec struct {
	// Kind is a stable ID such as ADD_ELDERLY_CARE_BEDS. Rules of one
	// ruleset that share a kind share its units, so their actions total.
	Kind   string `json:"kind"`
	Unit   string `json:"unit"`
	UnitZh string `json:"unitZh"`
	// VehicleClass, on a fleet rule, turns the shortfall in standard units
	// into vehicles of this class of the ruleset's vehicleClasses:
	// ⌈units ÷ coefficient⌉, so that what is bought is a number of buses.
	VehicleClass string `json:"vehicleClass,omitempty"`
	Text         string `json:"text"`
	TextZh       string `json:"textZh"`
}

// Action is a concrete step that closes a rule's shortfall, in a unit that can be totalled across settlements.
type Action struct {
	Kind         string
	Quantity     float64
	Unit         string
	UnitZh       string
	Facility     FacilityType // BUILD_FACILITY only
	VehicleClass string       // ADD_BUSES only
	Text         string       // English, e.g. "add 132 elderly-care beds"
	TextZh       string       // Chinese, e.g. "新增养老床位132张"
}

// The placeholders of action texts. Which ones a rule may use depends on its
// metric: a placeholder with nothing to fill it would print as itself.
const (
	phQuantity      = "quantity"      // the action's quantity
	phUnit          = "unit"          // the action's unit (in textZh: its unitZh)
	phFacility      = "facility"      // facility rules: the facility type, in the text's language
	phStandardUnits = "standardUnits" // fleet rules with a vehicle class: the shortfall in standard units
	phRadiusM       = "radiusM"       // coverage rules: the radius in metres
	phShare         = "share"         // coverage rules: the shortfall as a percentage of the central area
)

var knownPlaceholders = []string{phQuantity, phUnit, phFacility, phStandardUnits, phRadiusM, phShare}

// actionPlaceholders are the placeholders a rule's texts may use.
func (r *Rule) actionPlaceholders() []string {
	ph := []string{phQuantity, phUnit}
	switch r.Metric {
	case MetricFacilityCount:
		ph = append(ph, phFacility)
	case MetricStopCoverageShare:
		ph = append(ph, phRadiusM, phShare)
	case MetricFleetUnitsPer10K:
		if r.Action != nil && r.Action.VehicleClass != "" {
			ph = append(ph, phStandardUnits)
		}
	}
	return ph
}

var actionKindPattern = regexp.MustCompile(`^[A-Z][A-Z0-9_]*$`)

// scanTemplate calls f with each placeholder name of tmpl, in order, and
// reports an opening brace that is never closed.
func scanTemplate(tmpl string, f func(name string)) error {
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			return nil
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			return fmt.Errorf("unclosed placeholder at %q", tmpl[i:])
		}
		f(tmpl[i+1 : i+j])
		tmpl = tmpl[i+j+1:]
	}
}

// validateAction checks a rule's action spec against the rule and the
// ruleset's tables (the vehicle class IDs in order, the facility types with a
// Chinese name).
func (r *Rule) validateAction(classes []string, namedZh map[FacilityType]bool) []string {
	a := r.Action
	if a == nil {
		return nil
	}
	var p []string
	bad := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	if r.Comparison == ReportOnly {
		bad("action: a report-only rule has no shortfall to act on")
	}
	switch {
	case a.Kind == "":
		bad("action.kind: required")
	case !actionKindPattern.MatchString(a.Kind):
		bad("action.kind: %q is not a valid action kind (capital letters, digits and '_', starting with a letter)", a.Kind)
	}
	if strings.TrimSpace(a.Unit) == "" {
		bad("action.unit: required")
	}
	if strings.TrimSpace(a.UnitZh) == "" {
		bad("action.unitZh: required")
	}
	if a.VehicleClass != "" {
		switch {
		case r.Metric != MetricFleetUnitsPer10K:
			bad("action.vehicleClass: only a fleet rule (%s) converts its shortfall to vehicles", MetricFleetUnitsPer10K)
		case !slices.Contains(classes, a.VehicleClass):
			bad("action.vehicleClass: unknown vehicle class %q; the ruleset's vehicleClasses are: %s", a.VehicleClass, strings.Join(classes, ", "))
		}
	}
	allowed := r.actionPlaceholders()
	for _, t := range []struct{ field, text string }{{"action.text", a.Text}, {"action.textZh", a.TextZh}} {
		if strings.TrimSpace(t.text) == "" {
			bad("%s: required", t.field)
			continue
		}
		used := map[string]bool{}
		err := scanTemplate(t.text, func(name string) {
			used[name] = true
			switch {
			case slices.Contains(allowed, name):
			case slices.Contains(knownPlaceholders, name):
				bad("%s: placeholder {%s} has no value for a %s rule%s", t.field, name, r.Metric, vehicleClassHint(r, name))
			default:
				bad("%s: unknown placeholder {%s}; a %s rule may use {%s}", t.field, name, r.Metric, strings.Join(allowed, "}, {"))
			}
		})
		if err != nil {
			bad("%s: %v", t.field, err)
		}
		if r.Metric == MetricFacilityCount && !used[phFacility] && len(r.Facilities) > 1 {
			bad("%s: a rule on %d facility types must name the type ({facility})", t.field, len(r.Facilities))
		}
		if t.field == "action.textZh" && used[phFacility] {
			for _, f := range r.Facilities {
				if f.valid() && !namedZh[f] {
					bad("action.textZh: {facility} needs the Chinese name of %s in the ruleset's facilityNames", f)
				}
			}
		}
	}
	return p
}

func vehicleClassHint(r *Rule, name string) string {
	if name == phStandardUnits && r.Metric == MetricFleetUnitsPer10K {
		return " without action.vehicleClass (the quantity is then in standard units)"
	}
	return ""
}

// validateActionKinds checks that rules sharing an action kind share its
// units and vehicle class, since a batch totals a kind across rules.
func (rs *Ruleset) validateActionKinds() []string {
	var p []string
	first := map[string]*Rule{}
	for i := range rs.Rules {
		r := &rs.Rules[i]
		if r.Action == nil || r.Action.Kind == "" {
			continue
		}
		f, seen := first[r.Action.Kind]
		if !seen {
			first[r.Action.Kind] = r
			continue
		}
		a, b := f.Action, r.Action
		if a.Unit != b.Unit || a.UnitZh != b.UnitZh || a.VehicleClass != b.VehicleClass {
			p = append(p, fmt.Sprintf("rule %s: action: kind %s has unit %q / %q, vehicle class %q in rule %s but %q / %q, %q here; one kind is totalled in one unit",
				r.ID, b.Kind, a.Unit, a.UnitZh, a.VehicleClass, f.ID, b.Unit, b.UnitZh, b.VehicleClass))
		}
	}
	return p
}

// actionVars are the values of one action's placeholders.
type actionVars struct {
	quantity      float64
	facility      FacilityType
	standardUnits float64
	radiusM       float64
	share         float64
}

// newAction makes the action of a rule's shortfall. It reports false when
// the spec names a vehicle class the ruleset lacks, which only a ruleset
// built in code without ParseRuleset's validation can do.
func (rs *Ruleset) newAction(spec *ActionSpec, v actionVars) (Action, bool) {
	a := Action{Kind: spec.Kind, Quantity: v.quantity, Unit: spec.Unit, UnitZh: spec.UnitZh, Facility: v.facility}
	if spec.VehicleClass != "" {
		c := rs.vehicleClassByID(spec.VehicleClass)
		if c == nil || !(c.Coefficient > 0) {
			return Action{}, false
		}
		v.standardUnits = v.quantity
		a.Quantity = ceilTol(v.quantity / c.Coefficient)
		a.VehicleClass = c.ID
	}
	nameZh := ""
	if v.facility != "" {
		nameZh = v.facility.Noun(int64(a.Quantity))
		if n := rs.facilityName(v.facility); n != nil {
			nameZh = n.NameZh
			if n.UnitZh != "" {
				a.UnitZh = n.UnitZh
			}
		}
	}
	// Both texts are built in one buffer and share one string: a batch
	// makes them for every shortfall of every settlement.
	buf := appendAction(make([]byte, 0, 256), spec.Text, &a, &v, false, nameZh)
	n := len(buf)
	texts := string(appendAction(buf, spec.TextZh, &a, &v, true, nameZh))
	a.Text, a.TextZh = texts[:n], texts[n:]
	return a, true
}

func (rs *Ruleset) vehicleClassByID(id string) *VehicleClass {
	for i := range rs.VehicleClasses {
		if rs.VehicleClasses[i].ID == id {
			return &rs.VehicleClasses[i]
		}
	}
	return nil
}

func (rs *Ruleset) facilityName(f FacilityType) *FacilityName {
	for i := range rs.FacilityNames {
		if rs.FacilityNames[i].Facility == f {
			return &rs.FacilityNames[i]
		}
	}
	return nil
}

// appendAction appends a template with its placeholders filled in. Numbers
// are grouped by thousands in English (4,800) and not in Chinese (4800), as
// each language prints them. A placeholder without a value stays as written;
// validation keeps those out of parsed rulesets.
func appendAction(b []byte, tmpl string, a *Action, v *actionVars, zh bool, nameZh string) []byte {
	for {
		i := strings.IndexByte(tmpl, '{')
		if i < 0 {
			break
		}
		j := strings.IndexByte(tmpl[i:], '}')
		if j < 0 {
			break
		}
		b = append(b, tmpl[:i]...)
		switch name := tmpl[i+1 : i+j]; {
		case name == phQuantity:
			b = appendNum(b, a.Quantity, !zh)
		case name == phUnit && zh:
			b = append(b, a.UnitZh...)
		case name == phUnit:
			b = append(b, a.Unit...)
		case name == phFacility && zh && v.facility != "":
			b = append(b, nameZh...)
		case name == phFacility && v.facility != "":
			b = append(b, v.facility.Noun(int64(a.Quantity))...)
		case name == phStandardUnits && a.VehicleClass != "":
			b = appendNum(b, v.standardUnits, !zh)
		case name == phRadiusM && v.radiusM > 0:
			b = appendNum(b, v.radiusM, !zh)
		case name == phShare && v.share > 0:
			b = strconv.AppendFloat(b, v.share*100, 'f', 2, 64)
			b = append(b, '%')
		default:
			b = append(b, tmpl[i:i+j+1]...)
		}
		tmpl = tmpl[i+j+1:]
	}
	return append(b, tmpl...)
}

// appendNum appends x as num prints it (integers plainly, others to at most
// 4 decimals), with thousands separators when grouped.
func appendNum(b []byte, x float64, grouped bool) []byte {
	if !(x == math.Trunc(x) && math.Abs(x) < 1e15) {
		return strconv.AppendFloat(b, math.Round(x*1e4)/1e4, 'f', -1, 64)
	}
	n := int64(x)
	if n < 0 {
		b = append(b, '-')
		n = -n
	}
	var digits [20]byte
	d := strconv.AppendInt(digits[:0], n, 10)
	if !grouped {
		return append(b, d...)
	}
	for i, c := range d {
		if i > 0 && (len(d)-i)%3 == 0 {
			b = append(b, ',')
		}
		b = append(b, c)
	}
	return b
}

// addAction appends the action of the rule's spec, if it has one.
func (e *evaluation) addAction(v actionVars) {
	if e.r.Action == nil {
		return
	}
	if a, ok := e.rs.newAction(e.r.Action, v); ok {
		e.res.Actions = append(e.res.Actions, a)
	}
}
