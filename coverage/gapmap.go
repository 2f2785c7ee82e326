package coverage

import (
	"context"
	"errors"
	"fmt"
	"math"

	"github.com/civic-standards/coverage/coverage/geo"
	"github.com/civic-standards/coverage/coverage/geometry"
)

// Gap-map tolerances, in metres: how far a drawn outline may stray from the
// true boundary of a gap. Below a centimetre the chords outnumber what any
// map can show and the response grows without limit.
const (
	DefaultGapToleranceM = 1.0
	MinGapToleranceM     = 0.01
	MaxGapToleranceM     = 100.0
)

// GapOptions says how to draw a gap map.
type GapOptions struct {
	// ToleranceM is the largest distance between a drawn outline and the
	// true boundary; 0 means DefaultGapToleranceM.
	ToleranceM float64
	// OutputCRS is the coordinate system of the returned geometry; empty
	// means WGS-84.
	OutputCRS CoordinateSystem
	// MaxGaps is the most gaps to return, largest first; 0 means all.
	MaxGaps int
}

// GapMap is the part of a central area beyond the radius of every stop.
type GapMap struct {
	// Coverage is the exact measurement, with the tier's threshold when the
	// coverage rule applies to the settlement.
	Coverage *StopCoverage
	// Gaps are the largest gaps first, at most MaxGaps of them.
	Gaps []StopGap
	// GapsTotal counts every gap found.
	GapsTotal int
	// UncoveredM2 is the exact area of every gap together.
	UncoveredM2 float64
	ToleranceM  float64
	CRS         CoordinateSystem
}

// StopGap is one connected part of a central area that no stop's disk reaches.
type StopGap struct {
	// Rank is 1 for the largest gap.
	Rank int
	// AreaM2 is exact: arcs are integrated in closed form, not from the chords.
	AreaM2      float64
	ShareOfArea float64
	// Centroid is that of the drawn outline.
	Centroid [2]float64
	// Rings are the outline, outer ring counter-clockwise then holes
	// clockwise, each closed (first position repeated last) as in GeoJSON.
	Rings    [][][2]float64
	Vertices int
}

// stopCoverageRule is the ruleset's bus-stop coverage rule, which sets the radius.
func (rs *Ruleset) stopCoverageRule() (*Rule, error) {
	for i := range rs.Rules {
		if r := &rs.Rules[i]; r.Metric == MetricStopCoverageShare && r.RadiusM != nil {
			return r, nil
		}
	}
	return nil, Errorf(CodeUnimplemented, "ruleset %s has no bus-stop coverage rule", rs.ID)
}

// startStopRequest begins a gap map or a plan: the ruleset's coverage rule,
// which gives the radius, and what is wrong with the settlement, which
// includes lacking a central area or stops (a map or a plan cannot do
// without them). The caller adds its options' violations.
func (rs *Ruleset) startStopRequest(s *Settlement, what string) (*Rule, violations, error) {
	rule, err := rs.stopCoverageRule()
	if err != nil {
		return nil, nil, err
	}
	if s == nil {
		return nil, nil, InvalidFields(FieldViolation{Field: "settlement", Reason: "required"})
	}
	var v violations
	s.validate(&v)
	if s.CentralArea == nil {
		v.add(FieldCentralArea, "required to %s (or give %s)", what, FieldCentralAreaPolygons)
	}
	if s.BusStops == nil {
		v.add(FieldBusStops, "required to %s (or give %s; an empty list is a city without stops)", what, FieldBusStopPositions)
	}
	return rule, v, nil
}

// checkOutputCRS refuses a coordinate system the service cannot write.
func checkOutputCRS(c CoordinateSystem, field string, v *violations) {
	switch c {
	case "", CRSUnspecified, CRSWGS84, CRSCGCS2000, CRSGCJ02, CRSBD09:
	default:
		v.add(field, "unknown coordinate system %q", c)
	}
}

// stopGeometry is what a gap map or a plan is drawn on: the verdict of the
// coverage rule alone (for the tier's threshold), the measurement (the
// rule's, with its threshold, when the rule applied), and the projected area
// and stops.
type stopGeometry struct {
	verdict  *Result
	coverage *StopCoverage
	area     *preparedArea
	stops    []geometry.Point
	radius   float64
}

func (rs *Ruleset) prepareStopGeometry(ctx context.Context, s *Settlement, rule *Rule) (*stopGeometry, error) {
	a, err := rs.EvaluateContext(ctx, s, rule.Topic)
	if err != nil {
		return nil, err
	}
	var verdict *Result
	for i := range a.Results {
		if a.Results[i].RuleID == rule.ID {
			verdict = &a.Results[i]
		}
	}
	if verdict == nil {
		return nil, Errorf(CodeInternal, "rule %s was not evaluated", rule.ID)
	}
	prep := &stopGeometry{verdict: verdict, radius: *rule.RadiusM}
	// The evaluation measured too, but keeps neither the projected area nor
	// the stops; measuring again costs one more coverage computation.
	prep.coverage, prep.area, prep.stops, err = measureStopCoverage(ctx, s, prep.radius)
	if err != nil {
		return nil, err
	}
	if a.StopCoverage != nil {
		prep.coverage = a.StopCoverage
	}
	return prep, nil
}

// MapStopGaps draws the parts of the settlement's central area beyond the
// radius of every bus stop, largest first. The areas and the coverage share
// are exact; only the outlines approximate the arcs, to opt.ToleranceM.
func (rs *Ruleset) MapStopGaps(ctx context.Context, s *Settlement, opt GapOptions) (*GapMap, error) {
	rule, v, err := rs.startStopRequest(s, "map the gaps")
	if err != nil {
		return nil, err
	}
	tol := opt.ToleranceM
	switch {
	case tol == 0:
		tol = DefaultGapToleranceM
	case !(tol >= MinGapToleranceM && tol <= MaxGapToleranceM):
		v.add("toleranceM", "must be between %v and %v metres (0 means %v)", MinGapToleranceM, MaxGapToleranceM, DefaultGapToleranceM)
	}
	if opt.MaxGaps < 0 {
		v.add("maxGaps", "must not be negative (0 means all)")
	}
	checkOutputCRS(opt.OutputCRS, "outputCrs", &v)
	if err := v.err(); err != nil {
		return nil, err
	}
	prep, err := rs.prepareStopGeometry(ctx, s, rule)
	if err != nil {
		return nil, err
	}
	gaps, err := prep.area.region.Gaps(ctx, prep.stops, prep.radius, tol)
	if err != nil {
		return nil, geometryError(err)
	}
	area := prep.area
	out := &GapMap{Coverage: prep.coverage, GapsTotal: len(gaps), ToleranceM: tol, CRS: outputCRS(opt.OutputCRS)}
	total := area.region.Area()
	datum := datumOf(out.CRS)
	for i, g := range gaps {
		out.UncoveredM2 += g.Area
		if opt.MaxGaps > 0 && i >= opt.MaxGaps {
			continue
		}
		sg := StopGap{Rank: i + 1, AreaM2: g.Area, Centroid: area.lonLat(g.Centroid, datum)}
		if total > 0 {
			sg.ShareOfArea = g.Area / total
		}
		sg.Rings = make([][][2]float64, len(g.Polygon))
		for k, ring := range g.Polygon {
			sg.Rings[k] = area.ringLonLat(ring, datum)
			sg.Vertices += len(ring)
		}
		out.Gaps = append(out.Gaps, sg)
	}
	return out, nil
}

func outputCRS(c CoordinateSystem) CoordinateSystem {
	if c == "" || c == CRSUnspecified {
		return CRSWGS84
	}
	return c
}

// lonLat turns a point of the area's plane back into longitude and latitude
// in the datum asked for, rounded to 1e-8° (about a millimetre): finer digits
// only lengthen the response.
func (a *preparedArea) lonLat(p geometry.Point, d geo.Datum) [2]float64 {
	lon, lat := a.proj.Inverse(p.X, p.Y)
	lon, lat = d.FromWGS84(lon, lat)
	return [2]float64{roundDeg(lon), roundDeg(lat)}
}

func roundDeg(x float64) float64 { return math.Round(x*1e8) / 1e8 }

// ringLonLat closes the ring as GeoJSON wants it.
func (a *preparedArea) ringLonLat(ring geometry.Ring, d geo.Datum) [][2]float64 {
	out := make([][2]float64, 0, len(ring)+1)
	for _, p := range ring {
		q := a.lonLat(p, d)
		// Rounding can merge chord ends a millimetre apart.
		if len(out) > 0 && out[len(out)-1] == q {
			continue
		}
		out = append(out, q)
	}
	return append(out, out[0])
}

// geometryError turns a refusal of the geometry engine into the domain's
// error; it only refuses options the callers here have already checked, so
// one reaching this point is a fault.
func geometryError(err error) error {
	var ie *geometry.InvalidError
	if errors.As(err, &ie) {
		return Errorf(CodeInternal, "geometry: %s", ie.Reason)
	}
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return err
	}
	return fmt.Errorf("geometry: %w", err)
}
