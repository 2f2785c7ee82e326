package geometry

import (
	"context"
	"errors"
	"math"
	"math/bits"
	"math/rand/v2"
	"reflect"
	"slices"
	"strings"
	"testing"
)

// gainOf is the planner's gain of c over the stops.
func gainOf(t testing.TB, r *Region, stops []Point, c Point, radius float64) float64 {
	t.Helper()
	p := newPlanner(context.Background(), r, radius)
	p.addExisting(stops)
	return p.gain(c, &arcSlot{})
}

// coverGain is the same gain from two independent Cover calls.
func coverGain(t testing.TB, r *Region, stops []Point, c Point, radius float64) float64 {
	t.Helper()
	with := mustCover(t, r, append(slices.Clip(stops), c), radius)
	return with.CoveredArea - mustCover(t, r, stops, radius).CoveredArea
}

// gainTol is how far a local gain may be from the difference of two Cover
// calls: 1e-6 relative, with a floor of 1e-9 of a disk for the rounding of
// Cover's sums (terms of size r·D cancel down to a small difference).
func gainTol(want, radius float64) float64 {
	return 1e-6*math.Abs(want) + 1e-9*math.Pi*radius*radius
}

func mustPlan(t testing.TB, r *Region, stops []Point, radius float64, opt PlanOptions) Plan {
	t.Helper()
	p, err := r.PlanStops(context.Background(), stops, radius, opt)
	if err != nil {
		t.Fatalf("PlanStops: %v", err)
	}
	return p
}

// checkPlan checks what every plan must satisfy: the running sums agree
// with Cover, gains do not grow, the stop reason matches the counts, and
// LowerBound does not exceed a count that reached the target.
func checkPlan(t *testing.T, r *Region, stops []Point, radius float64, opt PlanOptions, p Plan) {
	t.Helper()
	area := r.Area()
	if p.Before != mustCover(t, r, stops, radius) {
		t.Errorf("Before = %+v, want Cover of the stops", p.Before)
	}
	covered := p.Before.CoveredArea
	var all []Point
	all = append(all, stops...)
	for i, a := range p.Added {
		covered += a.Gain
		if math.Abs(a.CoveredArea-covered) > 1e-9*area {
			t.Errorf("Added[%d].CoveredArea = %.12g, running sum of gains %.12g", i, a.CoveredArea, covered)
		}
		if math.Abs(a.Share-a.CoveredArea/area) > 1e-12 {
			t.Errorf("Added[%d].Share = %v, CoveredArea/area = %v", i, a.Share, a.CoveredArea/area)
		}
		if i+1 < len(p.Added) && p.Added[i+1].Gain > a.Gain+1e-6 {
			t.Errorf("Added[%d].Gain = %.12g < Added[%d].Gain = %.12g: greedy gains must not grow", i, a.Gain, i+1, p.Added[i+1].Gain)
		}
		if !(a.Gain > 0) {
			t.Errorf("Added[%d].Gain = %v, want > 0", i, a.Gain)
		}
		// Each gain is exact: the difference of two Cover calls.
		if i < 8 || i == len(p.Added)-1 {
			if want := coverGain(t, r, all, a.At, radius); math.Abs(a.Gain-want) > gainTol(want, radius) {
				t.Errorf("Added[%d].Gain = %.12g, Cover difference %.12g", i, a.Gain, want)
			}
		}
		all = append(all, a.At)
	}
	after := mustCover(t, r, all, radius)
	if p.CoveredArea != after.CoveredArea || p.Share != after.Share() {
		t.Errorf("CoveredArea, Share = %.12g, %v; Cover of stops and added: %.12g, %v", p.CoveredArea, p.Share, after.CoveredArea, after.Share())
	}
	last := p.Before.Share()
	if n := len(p.Added); n > 0 {
		last = p.Added[n-1].Share
	}
	if math.Abs(last-p.Share) > 1e-9 {
		t.Errorf("incremental share %.15g, recomputed %.15g", last, p.Share)
	}
	switch p.Stopped {
	case StoppedTargetReached:
		if !p.Reached || p.Share < opt.Target-1e-9 {
			t.Errorf("stopped at the target with Reached = %v, Share %v < Target %v", p.Reached, p.Share, opt.Target)
		}
		if p.LowerBound > len(p.Added) {
			t.Errorf("LowerBound = %d exceeds the %d stops that reached the target", p.LowerBound, len(p.Added))
		}
	case StoppedStopCap:
		if p.Reached || len(p.Added) != opt.MaxStops {
			t.Errorf("stopped at the cap with Reached = %v and %d stops (cap %d)", p.Reached, len(p.Added), opt.MaxStops)
		}
	case StoppedNoGain:
		if p.Reached || len(p.Added) >= opt.MaxStops {
			t.Errorf("stopped for lack of gain with Reached = %v and %d stops (cap %d)", p.Reached, len(p.Added), opt.MaxStops)
		}
	default:
		t.Errorf("Stopped = %q", p.Stopped)
	}
	if len(p.Added) > 0 && p.Before.CoveredArea >= opt.Target*area {
		t.Errorf("added %d stops although the target was already met", len(p.Added))
	}
}

func TestPlanOptionsInvalid(t *testing.T) {
	r := mustRegion(t, Polygon{rect(0, 0, 1000, 1000)})
	big := mustRegion(t, Polygon{rect(0, 0, 100_000, 100_000)})
	ok := PlanOptions{Target: 0.5, Spacing: 50, MaxStops: 10}
	with := func(f func(*PlanOptions)) PlanOptions { o := ok; f(&o); return o }
	cases := []struct {
		name   string
		region *Region
		radius float64
		opt    PlanOptions
		want   string // in the reason
	}{
		{"target 0", r, 300, with(func(o *PlanOptions) { o.Target = 0 }), "Target"},
		{"target negative", r, 300, with(func(o *PlanOptions) { o.Target = -0.5 }), "Target"},
		{"target above 1", r, 300, with(func(o *PlanOptions) { o.Target = 1.0000001 }), "Target"},
		{"target NaN", r, 300, with(func(o *PlanOptions) { o.Target = math.NaN() }), "Target"},
		{"target +Inf", r, 300, with(func(o *PlanOptions) { o.Target = math.Inf(1) }), "Target"},
		{"max stops 0", r, 300, with(func(o *PlanOptions) { o.MaxStops = 0 }), "MaxStops"},
		{"max stops negative", r, 300, with(func(o *PlanOptions) { o.MaxStops = -3 }), "MaxStops"},
		{"spacing 0", r, 300, with(func(o *PlanOptions) { o.Spacing = 0 }), "Spacing"},
		{"spacing negative", r, 300, with(func(o *PlanOptions) { o.Spacing = -10 }), "Spacing"},
		{"spacing NaN", r, 300, with(func(o *PlanOptions) { o.Spacing = math.NaN() }), "Spacing"},
		{"spacing +Inf", r, 300, with(func(o *PlanOptions) { o.Spacing = math.Inf(1) }), "Spacing"},
		{"spacing too fine for the box", big, 300, with(func(o *PlanOptions) { o.Spacing = 10 }), "larger spacing"},
		{"candidate NaN", r, 300, with(func(o *PlanOptions) { o.Candidates = []Point{{1, 1}, {math.NaN(), 0}} }), "Candidates: candidate 1"},
		{"candidate Inf", r, 300, with(func(o *PlanOptions) { o.Candidates = []Point{{0, math.Inf(-1)}} }), "Candidates: candidate 0"},
		{"radius 0", r, 0, ok, "radius"},
		{"radius negative", r, -1, ok, "radius"},
		{"radius NaN", r, math.NaN(), ok, "radius"},
		{"radius Inf", r, math.Inf(1), ok, "radius"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			p, err := c.region.PlanStops(context.Background(), nil, c.radius, c.opt)
			var ie *InvalidError
			if !errors.As(err, &ie) {
				t.Fatalf("error %v, want *InvalidError", err)
			}
			if ie.Polygon != -1 || ie.Ring != -1 || !strings.Contains(ie.Reason, c.want) {
				t.Errorf("error %+v, want Polygon = Ring = -1 and a reason naming %q", ie, c.want)
			}
			if !reflect.DeepEqual(p, Plan{}) {
				t.Errorf("plan %+v on error, want zero", p)
			}
		})
	}
	// Spacing is not needed with candidates, and a target of exactly 1 is allowed.
	p := mustPlan(t, r, nil, 300, PlanOptions{Target: 1, Candidates: []Point{{500, 500}}, MaxStops: 1})
	if len(p.Added) != 1 {
		t.Errorf("candidates without spacing: added %d stops, want 1", len(p.Added))
	}
}

// TestPlanDisjointDisks: in a square of side 2r·k, the disks centred on the
// k² cells of side 2r are disjoint and each covers π/4 of its cell, so a
// target of π/4 needs all k² of them, whichever order; every gain is πr²
// and equal gains go to the earlier candidate.
func TestPlanDisjointDisks(t *testing.T) {
	const radius = 300.0
	for _, k := range []int{1, 2, 3, 5} {
		side := 2 * radius * float64(k)
		r := mustRegion(t, Polygon{rect(0, 0, side, side)})
		var cands []Point
		for j := k - 1; j >= 0; j-- {
			for i := range k {
				cands = append(cands, Point{radius * float64(2*i+1), radius * float64(2*j+1)})
			}
		}
		opt := PlanOptions{Target: math.Pi / 4, Candidates: cands, MaxStops: 100}
		p := mustPlan(t, r, nil, radius, opt)
		checkPlan(t, r, nil, radius, opt, p)
		if len(p.Added) != k*k || p.LowerBound != k*k || !p.Reached {
			t.Errorf("k = %d: added %d, LowerBound %d, Reached %v; want %d, %d, true", k, len(p.Added), p.LowerBound, p.Reached, k*k, k*k)
		}
		for i, a := range p.Added {
			if a.At != cands[i] {
				t.Errorf("k = %d: stop %d at %v, want candidate %d %v (ties go to the earlier candidate)", k, i, a.At, i, cands[i])
			}
			if relErr(a.Gain, math.Pi*radius*radius) > 1e-12 {
				t.Errorf("k = %d: stop %d gains %.15g, want πr²", k, i, a.Gain)
			}
		}
		if relErr(p.Share, math.Pi/4) > 1e-12 {
			t.Errorf("k = %d: Share = %.15g, want π/4", k, p.Share)
		}
	}
}

// TestPlanInscribedCells: a square of side r√2·k is covered exactly by the
// k² disks about its cells of side r√2 (each cell is inscribed in its
// disk), and each cell's centre is farther than r from every other cell's
// centre, so full coverage from those sites needs all k². Share must come
// out as exactly 1.
func TestPlanInscribedCells(t *testing.T) {
	const radius = 300.0
	cell := radius * math.Sqrt2
	for _, k := range []int{1, 2, 4} {
		side := cell * float64(k)
		r := mustRegion(t, Polygon{rect(0, 0, side, side)})
		var cands []Point
		for j := range k {
			for i := range k {
				cands = append(cands, Point{cell * (float64(i) + 0.5), cell * (float64(j) + 0.5)})
			}
		}
		opt := PlanOptions{Target: 1, Candidates: cands, MaxStops: 100}
		p := mustPlan(t, r, nil, radius, opt)
		checkPlan(t, r, nil, radius, opt, p)
		if len(p.Added) != k*k || !p.Reached || p.Share != 1 || p.Stopped != StoppedTargetReached {
			t.Errorf("k = %d: added %d stops, Reached %v, Share %.17g, Stopped %q; want %d, true, 1, %q",
				k, len(p.Added), p.Reached, p.Share, p.Stopped, k*k, StoppedTargetReached)
		}
		if p.LowerBound < 1 || p.LowerBound > k*k {
			t.Errorf("k = %d: LowerBound = %d, want in [1, %d]", k, p.LowerBound, k*k)
		}
	}
}

func TestPlanTargetAlreadyReached(t *testing.T) {
	r := mustRegion(t, Polygon{rect(0, 0, 1000, 1000)})
	stops := []Point{{250, 250}, {750, 250}, {250, 750}, {750, 750}}
	before := mustCover(t, r, stops, 300)
	for _, opt := range []PlanOptions{
		{Target: before.Share() * 0.99, Spacing: 50, MaxStops: 5},
		{Target: before.Share() * 0.99, Candidates: []Point{{500, 500}}, MaxStops: 5},
	} {
		p := mustPlan(t, r, stops, 300, opt)
		checkPlan(t, r, stops, 300, opt, p)
		if len(p.Added) != 0 || p.LowerBound != 0 || p.Stopped != StoppedTargetReached || !p.Reached {
			t.Errorf("target %v below the share %v: %+v, want no stops, LowerBound 0, %q", opt.Target, before.Share(), p, StoppedTargetReached)
		}
		if p.CoveredArea != before.CoveredArea || p.Share != before.Share() {
			t.Errorf("CoveredArea %v, Share %v; want Before's %v, %v", p.CoveredArea, p.Share, before.CoveredArea, before.Share())
		}
		if p.Candidates == 0 {
			t.Errorf("Candidates = 0, want the sites counted even when none is needed")
		}
	}
}

// TestPlanCapOfOne: with MaxStops 1 the plan adds the single best candidate,
// checked by brute force with Cover.
func TestPlanCapOfOne(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 1))
	poly := starPolygon(rng, Point{0, 0}, 3000, true)
	r := mustRegion(t, poly)
	const radius = 300.0
	stops := clusteredStops(rng, 4, 6, Point{-3000, -3000}, Point{3000, 3000}, 400)
	cands := uniformStops(rng, 60, Point{-3300, -3300}, Point{3300, 3300})
	opt := PlanOptions{Target: 1, Candidates: cands, MaxStops: 1}
	p := mustPlan(t, r, stops, radius, opt)
	checkPlan(t, r, stops, radius, opt, p)
	if len(p.Added) != 1 || p.Stopped != StoppedStopCap || p.Reached {
		t.Fatalf("cap of 1: added %d, Stopped %q, Reached %v", len(p.Added), p.Stopped, p.Reached)
	}
	best, bestGain := -1, -1.0
	for i, c := range cands {
		if g := coverGain(t, r, stops, c, radius); g > bestGain+1e-6 {
			best, bestGain = i, g
		}
	}
	if p.Added[0].At != cands[best] || math.Abs(p.Added[0].Gain-bestGain) > gainTol(bestGain, radius) {
		t.Errorf("chose %v gaining %.9g, want candidate %d %v gaining %.9g", p.Added[0].At, p.Added[0].Gain, best, cands[best], bestGain)
	}
	// The default grid too.
	opt = PlanOptions{Target: 1, Spacing: 150, MaxStops: 1}
	p = mustPlan(t, r, stops, radius, opt)
	checkPlan(t, r, stops, radius, opt, p)
	if len(p.Added) != 1 || p.Stopped != StoppedStopCap {
		t.Errorf("grid, cap of 1: added %d, Stopped %q", len(p.Added), p.Stopped)
	}
}

// TestPlanCandidateOutside: a site outside the region still covers the
// segment of its disk beyond the edge; repeats and sites too far to cover
// anything are not counted.
func TestPlanCandidateOutside(t *testing.T) {
	const radius = 300.0
	r := mustRegion(t, Polygon{rect(0, 0, 1000, 1000)})
	out := Point{-100, 500}
	cands := []Point{out, {1e6, 1e6}, out, {-2000, 500}, {-250, -250}}
	opt := PlanOptions{Target: 0.5, Candidates: cands, MaxStops: 10}
	p := mustPlan(t, r, nil, radius, opt)
	checkPlan(t, r, nil, radius, opt, p)
	// The site at (−250, −250) is in reach of the bounding box but covers nothing.
	if p.Candidates != 2 {
		t.Errorf("Candidates = %d, want 2 (a repeat and a far site dropped)", p.Candidates)
	}
	if len(p.Added) != 1 || p.Added[0].At != out || p.Stopped != StoppedNoGain {
		t.Fatalf("added %+v, Stopped %q; want only %v, then %q", p.Added, p.Stopped, out, StoppedNoGain)
	}
	if want := segmentArea(100, radius); relErr(p.Added[0].Gain, want) > 1e-12 {
		t.Errorf("gain of a site 100 m outside = %.15g, want the circular segment %.15g", p.Added[0].Gain, want)
	}
	// The one useful site cannot reach half the square: LowerBound counts it,
	// or the disks the missing area needs, whichever is more.
	need := 0.5 * r.Area() * (1 - targetSlack) * (1 - boundSlack)
	if want := int(math.Ceil(need / (math.Pi * radius * radius))); p.LowerBound != max(1, want) {
		t.Errorf("LowerBound = %d, want %d", p.LowerBound, max(1, want))
	}
}

// TestPlanNoCandidateGains: sites on existing stops, inside their union, or
// outside the region's reach add nothing.
func TestPlanNoCandidateGains(t *testing.T) {
	const radius = 300.0
	r := mustRegion(t, Polygon{rect(0, 0, 3000, 3000)})
	stops := []Point{{1000, 1000}, {1100, 1000}, {1050, 1080}, {1050, 920}, {950, 1000}}
	cands := []Point{{1000, 1000}, {1100, 1000}, {-400, 1500}, {1500, -350}}
	opt := PlanOptions{Target: 0.9, Candidates: cands, MaxStops: 10}
	p := mustPlan(t, r, stops, radius, opt)
	checkPlan(t, r, stops, radius, opt, p)
	if len(p.Added) != 0 || p.Stopped != StoppedNoGain || p.Reached {
		t.Errorf("added %d, Stopped %q, Reached %v; want none, %q", len(p.Added), p.Stopped, p.Reached, StoppedNoGain)
	}
	if p.CoveredArea != p.Before.CoveredArea {
		t.Errorf("CoveredArea %v, want Before's %v", p.CoveredArea, p.Before.CoveredArea)
	}
	// A grid coarser than the region has no point in it; the sites of the
	// one gap left (its centroid and its corners) are offered instead.
	small := mustRegion(t, Polygon{rect(0, 0, 10, 10)})
	opt = PlanOptions{Target: 0.5, Spacing: 100, MaxStops: 3}
	p = mustPlan(t, small, nil, radius, opt)
	checkPlan(t, small, nil, radius, opt, p)
	if p.Candidates != 5 || len(p.Added) != 1 || p.Added[0].At != (Point{5, 5}) || p.Stopped != StoppedTargetReached || p.Share != 1 {
		t.Errorf("grid coarser than the region: Candidates %d, added %v, Stopped %q, Share %v", p.Candidates, p.Added, p.Stopped, p.Share)
	}
}

// TestPlanReachesFullCoverage: slivers along the boundary that no grid point
// can reach (every grid point near them is covered) are planned for from the
// gaps left once the grid is spent, so a target of 100% is reached.
func TestPlanReachesFullCoverage(t *testing.T) {
	const radius = 300.0
	r := mustRegion(t, Polygon{rect(0, 0, 2000, 1500)})
	// Rows of stops 295 m inside the long sides, 150 m apart, cover every
	// grid point near those sides but leave slivers on the sides between
	// stops (√(75² + 295²) > 300), more than 300 m from the uncovered band
	// in the middle where the grid's points are.
	var stops []Point
	for x := 0.0; x <= 2000; x += 150 {
		stops = append(stops, Point{x, 295}, Point{x, 1205})
	}
	opt := PlanOptions{Target: 1, Spacing: 100, MaxStops: 200}
	p := mustPlan(t, r, stops, radius, opt)
	checkPlan(t, r, stops, radius, opt, p)
	if !p.Reached || p.Share != 1 || p.Stopped != StoppedTargetReached {
		t.Fatalf("Share %.12f after %d stops, Stopped %q", p.Share, len(p.Added), p.Stopped)
	}
}

// TestPlanGridCandidates: the default sites are the grid points inside the
// region and outside every existing disk.
func TestPlanGridCandidates(t *testing.T) {
	const radius = 300.0
	r := mustRegion(t, Polygon{rect(0, 0, 1000, 1000), rect(400, 400, 600, 600)})
	stops := []Point{{0, 0}, {1000, 1000}}
	p := newPlanner(context.Background(), r, radius)
	p.addExisting(stops)
	if err := p.gridCandidates(100); err != nil {
		t.Fatal(err)
	}
	var want []Point
	for j := range 10 {
		for i := range 10 {
			q := Point{50 + 100*float64(i), 50 + 100*float64(j)}
			if q.X > 400 && q.X < 600 && q.Y > 400 && q.Y < 600 {
				continue // in the hole
			}
			if math.Hypot(q.X, q.Y) < radius || math.Hypot(q.X-1000, q.Y-1000) < radius {
				continue
			}
			want = append(want, q)
		}
	}
	if !reflect.DeepEqual(p.cands, want) {
		t.Errorf("grid candidates %v, want %v", p.cands, want)
	}
}

// TestPlanMatchesBruteForceGreedy replays the greedy choice with Cover
// alone: at each step the candidate with the largest Cover difference.
func TestPlanMatchesBruteForceGreedy(t *testing.T) {
	rng := rand.New(rand.NewPCG(5, 9))
	for it := range 12 {
		const radius = 250.0
		poly := starPolygon(rng, Point{0, 0}, 1500, it%2 == 0)
		r := mustRegion(t, poly)
		stops := append(clusteredStops(rng, 2, 4, Point{-1500, -1500}, Point{1500, 1500}, 300),
			edgeStops(rng, []Polygon{poly}, 3, radius)...)
		cands := append(uniformStops(rng, 25, Point{-1700, -1700}, Point{1700, 1700}),
			edgeStops(rng, []Polygon{poly}, 5, radius)...)
		opt := PlanOptions{Target: 0.97, Candidates: cands, MaxStops: 6}
		p := mustPlan(t, r, stops, radius, opt)
		checkPlan(t, r, stops, radius, opt, p)
		cur := slices.Clone(stops)
		used := make([]bool, len(cands))
		for step, a := range p.Added {
			best, bestGain := -1, 0.0
			for i, c := range cands {
				if used[i] {
					continue
				}
				if g := coverGain(t, r, cur, c, radius); best < 0 || g > bestGain {
					best, bestGain = i, g
				}
			}
			if a.At != cands[best] {
				// Only a near tie may go either way.
				if g := coverGain(t, r, cur, a.At, radius); bestGain-g > gainTol(bestGain, radius) {
					t.Errorf("case %d step %d: chose %v gaining %.9g, best is %v gaining %.9g", it, step, a.At, g, cands[best], bestGain)
				}
			}
			used[slices.Index(cands, a.At)] = true
			cur = append(cur, a.At)
		}
	}
}

// TestPlanLowerBoundBelowOptimum finds, by trying every subset of ten
// candidates, the fewest that reach the target, and checks LowerBound ≤
// that ≤ len(Added), and greedy's count against Wolsey's bound.
func TestPlanLowerBoundBelowOptimum(t *testing.T) {
	rng := rand.New(rand.NewPCG(11, 4))
	const radius = 300.0
	checked := 0
	for it := range 15 {
		r := mustRegion(t, Polygon{rect(0, 0, 1200, 900)})
		stops := uniformStops(rng, 2, Point{0, 0}, Point{1200, 900})
		cands := uniformStops(rng, 10, Point{-100, -100}, Point{1300, 1000})
		before := mustCover(t, r, stops, radius)
		// The best any subset reaches, by size.
		bestBySize := make([]float64, len(cands)+1)
		for mask := 1; mask < 1<<len(cands); mask++ {
			all := slices.Clone(stops)
			for i, c := range cands {
				if mask&(1<<i) != 0 {
					all = append(all, c)
				}
			}
			n := bits.OnesCount(uint(mask))
			bestBySize[n] = max(bestBySize[n], mustCover(t, r, all, radius).CoveredArea)
		}
		full := bestBySize[len(cands)]
		// A target between the existing share and what all candidates reach.
		target := (before.CoveredArea + (0.3+0.6*rng.Float64())*(full-before.CoveredArea)) / r.Area()
		opt := PlanOptions{Target: target, Candidates: cands, MaxStops: len(cands)}
		p := mustPlan(t, r, stops, radius, opt)
		checkPlan(t, r, stops, radius, opt, p)
		if !p.Reached {
			t.Errorf("case %d: target %v not reached though all candidates reach %v", it, target, full/r.Area())
			continue
		}
		opt2 := 0
		for n := 1; n <= len(cands); n++ {
			if bestBySize[n] >= target*r.Area()*(1-1e-9) {
				opt2 = n
				break
			}
		}
		if p.LowerBound > opt2 || opt2 > len(p.Added) {
			t.Errorf("case %d: LowerBound %d, optimum %d, greedy %d: want LowerBound ≤ optimum ≤ greedy", it, p.LowerBound, opt2, len(p.Added))
		}
		// Wolsey: greedy ≤ (1 + ln(first gain ÷ needed part of the last)) · optimum.
		n := len(p.Added)
		lastNeeded := target*r.Area() - p.Added[n-1].CoveredArea + p.Added[n-1].Gain
		lastNeeded = min(lastNeeded, p.Added[n-1].Gain)
		if bound := (1 + math.Log(p.Added[0].Gain/lastNeeded)) * float64(opt2); float64(n) > bound+1e-9 {
			t.Errorf("case %d: greedy %d stops, above Wolsey's bound %.3g", it, n, bound)
		}
		// Nemhauser–Wolsey–Fisher: the first k stops get (1 − 1/e) of the best k's addition.
		for k := 1; k <= n; k++ {
			if got, best := p.Added[k-1].CoveredArea-before.CoveredArea, bestBySize[k]-before.CoveredArea; got < (1-1/math.E)*best-1e-6 {
				t.Errorf("case %d: first %d stops add %.9g, below (1 − 1/e) of the best %.9g", it, k, got, best)
			}
		}
		checked++
	}
	if checked < 12 {
		t.Errorf("only %d of 15 cases checked", checked)
	}
}

func TestPlanDeterministic(t *testing.T) {
	rng := rand.New(rand.NewPCG(8, 2))
	poly := starPolygon(rng, Point{0, 0}, 4000, true)
	r := mustRegion(t, poly)
	stops := clusteredStops(rng, 6, 8, Point{-4000, -4000}, Point{4000, 4000}, 500)
	opt := PlanOptions{Target: 0.9, Spacing: 120, MaxStops: 200}
	first := mustPlan(t, r, stops, 300, opt)
	checkPlan(t, r, stops, 300, opt, first)
	for range 3 {
		if again := mustPlan(t, r, stops, 300, opt); !reflect.DeepEqual(again, first) {
			t.Fatalf("a second run differs:\n%+v\n%+v", again, first)
		}
	}
	// The existing stops' order and repeats do not matter either.
	shuffled := append(slices.Clone(stops), stops[:5]...)
	rng.Shuffle(len(shuffled), func(i, j int) { shuffled[i], shuffled[j] = shuffled[j], shuffled[i] })
	again := mustPlan(t, r, shuffled, 300, opt)
	if len(again.Added) != len(first.Added) || math.Abs(again.CoveredArea-first.CoveredArea) > 1e-9*r.Area() {
		t.Errorf("shuffled stops: %d stops, %.9g m²; in order: %d stops, %.9g m²", len(again.Added), again.CoveredArea, len(first.Added), first.CoveredArea)
	}
}

// TestPlanRandom runs plans over random regions, stops and options and
// checks the invariants of checkPlan.
func TestPlanRandom(t *testing.T) {
	rng := rand.New(rand.NewPCG(21, 12))
	for it := range 30 {
		radius := 150 + 300*rng.Float64()
		poly := starPolygon(rng, Point{0, 0}, 2500, it%3 == 0)
		r := mustRegion(t, poly)
		stops := append(clusteredStops(rng, 1+rng.IntN(5), 1+rng.IntN(8), Point{-2500, -2500}, Point{2500, 2500}, 400),
			edgeStops(rng, []Polygon{poly}, rng.IntN(4), radius)...)
		opt := PlanOptions{Target: 0.5 + 0.5*rng.Float64(), MaxStops: 1 + rng.IntN(40)}
		if it%2 == 0 {
			opt.Spacing = radius * (0.2 + 0.5*rng.Float64())
		} else {
			opt.Candidates = append(uniformStops(rng, 200, Point{-2800, -2800}, Point{2800, 2800}),
				edgeStops(rng, []Polygon{poly}, 20, radius)...)
		}
		p := mustPlan(t, r, stops, radius, opt)
		checkPlan(t, r, stops, radius, opt, p)
	}
}

func TestPlanCancelled(t *testing.T) {
	r := mustRegion(t, Polygon{rect(0, 0, 20000, 20000)})
	rng := rand.New(rand.NewPCG(8, 8))
	stops := uniformStops(rng, 500, Point{0, 0}, Point{20000, 20000})
	opt := PlanOptions{Target: 0.9, Spacing: 100, MaxStops: 1000}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	p, err := r.PlanStops(ctx, stops, 300, opt)
	if !errors.Is(err, context.Canceled) {
		t.Errorf("pre-cancelled context: error %v, want context.Canceled", err)
	}
	if !reflect.DeepEqual(p, Plan{}) {
		t.Errorf("pre-cancelled context: plan %+v, want zero", p)
	}
	dctx, dcancel := context.WithTimeout(context.Background(), -1)
	defer dcancel()
	if _, err := r.PlanStops(dctx, stops, 300, opt); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("expired deadline: error %v, want context.DeadlineExceeded", err)
	}
	// Cancelled at every stage: count the checks of a whole plan, then cancel
	// at the first, last and some in between (the grid, the initial gains,
	// the greedy loop, the final Cover).
	opt = PlanOptions{Target: 0.8, Spacing: 100, MaxStops: 40}
	counter := &cancelAfter{Context: context.Background(), calls: math.MaxInt}
	full, err := r.PlanStops(counter, stops, 300, opt)
	if err != nil {
		t.Fatal(err)
	}
	checks := math.MaxInt - counter.calls
	if len(full.Added) != opt.MaxStops || checks < 100 {
		t.Fatalf("uncancelled plan: %d stops, %d checks", len(full.Added), checks)
	}
	for _, k := range []int{1, 2, checks / 10, checks / 3, checks / 2, checks - 3, checks} {
		_, err := r.PlanStops(&cancelAfter{Context: context.Background(), calls: k}, stops, 300, opt)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("cancelled at check %d of %d: error %v, want context.Canceled", k, checks, err)
		}
	}
}

// cancelAfter is a context that reports cancellation from its calls-th
// call of Err on.
type cancelAfter struct {
	context.Context
	calls int
}

func (c *cancelAfter) Err() error {
	if c.calls--; c.calls <= 0 {
		return context.Canceled
	}
	return nil
}

// referenceGain is the gain of c computed without the planner, as the
// difference of two Cover calls, and the tolerance that suits it. Disks
// tangent to rounding need no other reference: Cover takes them to touch
// (see freeArcs).
func referenceGain(t testing.TB, r *Region, stops []Point, c Point, radius float64) (want, tol float64) {
	t.Helper()
	want = coverGain(t, r, stops, c, radius)
	return want, gainTol(want, radius)
}

// TestGainMatchesCover compares the local gain with the difference of two
// Cover calls on random regions and stops, with sites on and beside stops,
// tangent to their disks, on the region's vertices and edges, and with
// circles through vertices.
func TestGainMatchesCover(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	worst := 0.0
	n := 0
	cases := 150
	if testing.Short() {
		cases = 40
	}
	for it := range cases {
		radius := 100 + 500*rng.Float64()
		poly := starPolygon(rng, Point{0, 0}, 2000, it%2 == 0)
		r := mustRegion(t, poly)
		stops := append(clusteredStops(rng, 3, 4, Point{-2000, -2000}, Point{2000, 2000}, 300),
			edgeStops(rng, []Polygon{poly}, 5, radius)...)
		cands := append(uniformStops(rng, 15, Point{-2300, -2300}, Point{2300, 2300}),
			edgeStops(rng, []Polygon{poly}, 8, radius)...)
		for _, s := range stops[:4] {
			th := 2 * math.Pi * rng.Float64()
			cands = append(cands,
				s,                                                      // the same disk: no gain
				Point{s.X + 1e-9, s.Y},                                 // nearly the same
				Point{s.X + 2*radius, s.Y}, Point{s.X, s.Y - 2*radius}, // tangent, exactly or to rounding
				Point{s.X + 2*radius*math.Cos(th), s.Y + 2*radius*math.Sin(th)}, // tangent to rounding
				Point{s.X + radius, s.Y}, // through the stop's centre
			)
		}
		for range 4 {
			v := poly[0][rng.IntN(len(poly[0]))]
			th := 2 * math.Pi * rng.Float64()
			cands = append(cands, v, Point{v.X + radius*math.Cos(th), v.Y + radius*math.Sin(th)})
		}
		for _, c := range cands {
			g := gainOf(t, r, stops, c, radius)
			want, tol := referenceGain(t, r, stops, c, radius)
			n++
			if d := math.Abs(g - want); d > tol {
				t.Errorf("case %d, r = %v, site %#v over stops %#v: gain %.12g, reference %.12g", it, radius, c, stops, g, want)
			} else {
				worst = max(worst, d/(math.Pi*radius*radius))
			}
		}
	}
	t.Logf("%d gains, worst difference from Cover %.3g of a disk", n, worst)
}

// TestGainAnalytic checks gains with closed forms: lenses, a disk cut by an
// edge, quarter disks at corners, and circles through vertices.
func TestGainAnalytic(t *testing.T) {
	const radius = 300.0
	d2 := math.Pi * radius * radius
	big := mustRegion(t, Polygon{rect(-5000, -5000, 5000, 5000)})
	sq := mustRegion(t, Polygon{rect(0, 0, 1000, 1000)})
	cases := []struct {
		name  string
		r     *Region
		stops []Point
		c     Point
		want  float64
	}{
		{"alone", big, nil, Point{10, 20}, d2},
		{"same as a stop", big, []Point{{10, 20}}, Point{10, 20}, 0},
		{"tangent", big, []Point{{0, 0}}, Point{600, 0}, d2},
		{"lens d=300", big, []Point{{0, 0}}, Point{300, 0}, d2 - lensArea(300, radius)},
		{"lens d=1e-6", big, []Point{{0, 0}}, Point{0, 1e-6}, d2 - lensArea(1e-6, radius)},
		{"between two at 2r", big, []Point{{-600, 0}, {600, 0}}, Point{0, 0}, d2},
		{"covered by four around", big, []Point{{-150, 0}, {150, 0}, {0, 150}, {0, -150}}, Point{0, 0}, 0},
		{"half outside", sq, nil, Point{0, 500}, d2 / 2},
		{"quarter at corner", sq, nil, Point{1000, 1000}, d2 / 4},
		{"outside, segment", sq, nil, Point{-120, 500}, segmentArea(120, radius)},
		{"outside, tangent", sq, nil, Point{-300, 500}, 0},
		{"on an edge, through a corner", sq, nil, Point{300, 0}, d2 / 2},
		{"on an edge beside a stop on it", sq, []Point{{350, 0}}, Point{650, 0}, (d2 - lensArea(300, radius)) / 2},
	}
	for _, c := range cases {
		g := gainOf(t, c.r, c.stops, c.c, radius)
		if math.Abs(g-c.want) > 1e-12*d2 {
			t.Errorf("%s: gain %.15g, want %.15g", c.name, g, c.want)
		}
		if want := coverGain(t, c.r, c.stops, c.c, radius); math.Abs(g-want) > gainTol(want, radius) {
			t.Errorf("%s: gain %.15g, Cover difference %.15g", c.name, g, want)
		}
	}
}

func TestGainHeap(t *testing.T) {
	rng := rand.New(rand.NewPCG(4, 4))
	gains := make([]float64, 300)
	for i := range gains {
		gains[i] = float64(rng.IntN(20)) // many ties
	}
	var h gainHeap
	h.init(gains)
	// Change, remove and pop in a random mix, checking against a sort.
	alive := map[int32]bool{}
	for i := range gains {
		alive[int32(i)] = true
	}
	for len(h.items) > 0 {
		switch rng.IntN(3) {
		case 0:
			c := h.items[rng.IntN(len(h.items))]
			gains[c] = float64(rng.IntN(20))
			h.fix(c)
		case 1:
			c := h.items[rng.IntN(len(h.items))]
			h.remove(c)
			delete(alive, c)
		default:
			want := int32(-1)
			for c := range alive {
				if want < 0 || gains[c] > gains[want] || (gains[c] == gains[want] && c < want) {
					want = c
				}
			}
			if got := h.items[0]; got != want {
				t.Fatalf("top %d (gain %v), want %d (gain %v)", got, gains[got], want, gains[want])
			}
			h.remove(want)
			delete(alive, want)
		}
		for i, c := range h.items {
			if h.pos[c] != int32(i) {
				t.Fatalf("pos[%d] = %d, at %d", c, h.pos[c], i)
			}
		}
	}
}
