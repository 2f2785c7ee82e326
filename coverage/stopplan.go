package coverage

import (
	"context"
	"fmt"
	"math"

	"github.com/civic-standards/coverage/coverage/geo"
	"github.com/civic-standards/coverage/coverage/geometry"
)

// Plan defaults and limits. The grid spacing is a third of the usual 300 m
// radius, fine enough that the chosen sites are not noticeably worse than
// free placement, coarse enough for a 500 km² city to plan in seconds.
const (
	DefaultPlanGridSpacingM = 100.0
	MinPlanGridSpacingM     = 5.0
	DefaultPlanMaxStops     = 1000
)

// PlanGuarantee says how far a greedy plan can be from the best one.
const PlanGuarantee = "greedy maximum coverage with exact gains: for any number k, its first k stops cover at least 1 − 1/e (63%) " +
	"of the largest additional area any k of the candidate sites could cover (Nemhauser, Wolsey & Fisher 1978), and the number of " +
	"stops it needs to reach a target is within a factor 1 + ln(first gain ÷ last gain) of the fewest the candidates allow (Wolsey 1982); " +
	"lowerBound is a proven minimum for these candidates"

// StopPlanOptions says what a plan must reach and where it may put stops.
type StopPlanOptions struct {
	// Target is the share of the central area to reach; nil means the
	// threshold of the settlement's tier.
	Target *float64
	// Candidates are the sites to choose from, in CandidatesCRS; nil means a
	// grid over the uncovered part of the central area.
	Candidates    [][2]float64
	CandidatesCRS CoordinateSystem
	// GridSpacingM is the grid's spacing; 0 means DefaultPlanGridSpacingM.
	GridSpacingM float64
	// MaxStops caps the stops added; 0 means DefaultPlanMaxStops.
	MaxStops int
	// OutputCRS is the coordinate system of the positions; empty means WGS-84.
	OutputCRS CoordinateSystem
}

// StopPlan is a plan to comply with the bus-stop coverage rule.
type StopPlan struct {
	// Before is the measurement with the existing stops.
	Before *StopCoverage
	// Added are the stops to add, in the order chosen.
	Added []PlannedStop
	// FinalShare is recomputed exactly over the existing and added stops.
	FinalShare   float64
	TargetShare  float64
	TargetReason string
	Reached      bool
	// Stopped says why the plan ended: one of geometry's Stopped* reasons.
	Stopped      string
	Candidates   int
	LowerBound   int
	GridSpacingM float64 // 0 when the caller gave the candidates
	MaxStops     int
	CRS          CoordinateSystem
}

// PlannedStop is one stop a plan adds.
type PlannedStop struct {
	Position [2]float64
	// Share is the coverage share after adding it.
	Share  float64
	GainM2 float64
}

// PlanStops proposes bus stops for the settlement's central area until its
// coverage reaches the target (by default the threshold of its tier), no
// candidate adds coverage, or the cap is reached. See PlanGuarantee.
func (rs *Ruleset) PlanStops(ctx context.Context, s *Settlement, opt StopPlanOptions) (*StopPlan, error) {
	rule, v, err := rs.startStopRequest(s, "plan stops")
	if err != nil {
		return nil, err
	}
	if t := opt.Target; t != nil && !(*t > 0 && *t <= 1) {
		v.add("targetShare", "must be a share above 0 and at most 1, got %v", *t)
	}
	spacing := opt.GridSpacingM
	switch {
	case len(opt.Candidates) > 0:
		spacing = 0
	case spacing == 0:
		spacing = DefaultPlanGridSpacingM
	case !(spacing >= MinPlanGridSpacingM) || math.IsInf(spacing, 0):
		v.add("gridSpacingM", "must be at least %v metres (0 means %v)", MinPlanGridSpacingM, DefaultPlanGridSpacingM)
	}
	maxStops := opt.MaxStops
	switch {
	case maxStops == 0:
		maxStops = DefaultPlanMaxStops
	case maxStops < 0:
		v.add("maxStops", "must not be negative (0 means %d)", DefaultPlanMaxStops)
	}
	checkOutputCRS(opt.OutputCRS, "outputCrs", &v)
	checkOutputCRS(opt.CandidatesCRS, "candidatesCrs", &v)
	if err := v.err(); err != nil {
		return nil, err
	}

	prep, err := rs.prepareStopGeometry(ctx, s, rule)
	if err != nil {
		return nil, err
	}
	verdict := prep.verdict
	plan := &StopPlan{GridSpacingM: spacing, MaxStops: maxStops, CRS: outputCRS(opt.OutputCRS)}
	switch {
	case opt.Target != nil:
		plan.TargetShare, plan.TargetReason = *opt.Target, "the target share given with the request"
	case verdict.Threshold != nil:
		plan.TargetShare = *verdict.Threshold
		plan.TargetReason = fmt.Sprintf("the threshold of rule %s for this settlement: %s", rule.ID, verdict.ThresholdReason)
	case verdict.Status == StatusInsufficientData:
		for _, f := range verdict.MissingFields {
			v.add(f, "required to find the settlement's threshold, unless targetShare is given")
		}
		if len(v) == 0 {
			v.add("targetShare", "required: the settlement's threshold cannot be found (%s)", verdict.Reason)
		}
		return nil, v.err()
	default:
		return nil, InvalidFields(FieldViolation{Field: "targetShare",
			Reason: fmt.Sprintf("required: rule %s sets no threshold for this settlement (%s)", rule.ID, verdict.Reason)})
	}

	plan.Before = prep.coverage
	area := prep.area
	candidates, err := projectCandidates(opt.Candidates, opt.CandidatesCRS, area.proj)
	if err != nil {
		return nil, err
	}
	res, err := area.region.PlanStops(ctx, prep.stops, prep.radius, geometry.PlanOptions{
		Target: plan.TargetShare, Candidates: candidates, Spacing: spacing, MaxStops: maxStops,
	})
	if err != nil {
		if ie, ok := err.(*geometry.InvalidError); ok && spacing > 0 {
			// The one refusal a valid request can meet: a grid too fine for the area.
			return nil, InvalidFields(FieldViolation{Field: "gridSpacingM", Reason: ie.Reason})
		}
		return nil, geometryError(err)
	}
	datum := datumOf(plan.CRS)
	plan.Added = make([]PlannedStop, len(res.Added))
	for i, a := range res.Added {
		plan.Added[i] = PlannedStop{Position: area.lonLat(a.At, datum), Share: a.Share, GainM2: a.Gain}
	}
	plan.FinalShare, plan.Reached, plan.Stopped = res.Share, res.Reached, res.Stopped
	plan.Candidates, plan.LowerBound = res.Candidates, res.LowerBound
	return plan, nil
}

// projectCandidates puts caller-given sites in the area's plane.
func projectCandidates(cands [][2]float64, crs CoordinateSystem, proj *geo.LAEA) ([]geometry.Point, error) {
	if len(cands) == 0 {
		return nil, nil
	}
	datum := datumOf(crs)
	var v violations
	out := make([]geometry.Point, 0, len(cands))
	for i, c := range cands {
		if msg := geo.CheckPosition(c); msg != "" {
			v.add(fmt.Sprintf("candidates.positions[%d]", i), "%s", msg)
			continue
		}
		lon, lat := datum.ToWGS84(c[0], c[1])
		x, y := proj.Forward(lon, lat)
		if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) {
			v.add(fmt.Sprintf("candidates.positions[%d]", i), "on the far side of the globe from the central area")
			continue
		}
		out = append(out, geometry.Point{X: x, Y: y})
	}
	return out, v.err()
}
