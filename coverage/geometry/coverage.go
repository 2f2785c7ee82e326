package geometry

import (
	"context"
	"math"
	"math/bits"
	"slices"
	"sort"
)

// Coverage is the covered part of a region.
type Coverage struct {
	// CoveredArea is area(∪ disks ∩ region) in m².
	CoveredArea float64
	// TotalArea is area(region) in m².
	TotalArea float64
	// Stops is the number of stops given.
	Stops int
	// Duplicates is the number of stops merged because another stop had the
	// same position.
	Duplicates int
	// Inside is the number of distinct stops inside the region.
	Inside int
	// OutsideNear is the number of distinct stops outside the region but
	// within the radius of it: their disks still cover part of it.
	OutsideNear int
	// Far is the number of distinct stops farther than the radius from the
	// region: they cover nothing.
	Far int
}

// Share is CoveredArea ÷ TotalArea, clamped to [0, 1] against rounding.
func (c Coverage) Share() float64 {
	if c.TotalArea <= 0 {
		return 0
	}
	return math.Min(1, math.Max(0, c.CoveredArea/c.TotalArea))
}

// cancelEvery is how many disks are processed between checks for cancellation.
const cancelEvery = 1024

// Cover computes the area of the region within radius of any stop. Stops may
// lie anywhere, repeat, or be absent (coverage 0). It stops early with the
// context's error when ctx is cancelled.
func (r *Region) Cover(ctx context.Context, stops []Point, radius float64) (Coverage, error) {
	cov := Coverage{TotalArea: r.area, Stops: len(stops)}
	if !(radius > 0) || math.IsInf(radius, 0) {
		return cov, &InvalidError{Polygon: -1, Ring: -1, Reason: "radius must be a positive number of metres"}
	}
	sg, err := newStopGrid(ctx, stops, r.min, r.max, radius)
	if err != nil {
		return Coverage{}, err
	}
	cov.Duplicates = len(stops) - len(sg.pts) - sg.far
	cov.Far = sg.far // kept stops found beyond the radius are added below

	// Integrate relative to a point near the region, where coordinates are small.
	o := Point{(r.min.X + r.max.X) / 2, (r.min.Y + r.max.Y) / 2}
	var sum float64
	w := newArcWork(len(r.edges))
	for i := range sg.pts {
		if i%cancelEvery == 0 {
			if err := ctx.Err(); err != nil {
				return Coverage{}, err
			}
		}
		contrib, inside, near := r.arcContribution(sg, i, radius, o, w)
		sum += contrib
		switch {
		case inside:
			cov.Inside++
		case near:
			cov.OutsideNear++
		default:
			cov.Far++
		}
	}
	if err := ctx.Err(); err != nil {
		return Coverage{}, err
	}
	edges, err := r.edgeContribution(ctx, sg, radius, o)
	if err != nil {
		return Coverage{}, err
	}
	sum += edges
	if sum > r.area*(1-1e-12) {
		// Wholly covered: the integrals and the area sum the same edges in a
		// different order, so they may differ in the last bits.
		sum = r.area
	}
	cov.CoveredArea = math.Max(sum, 0)
	return cov, nil
}

// arcInside reports whether the arc of the circle from angle lo to hi,
// which no counted crossing splits, lies inside the region. One sample point
// is not enough: a crossing pair too close to tangent to count leaves the
// circle touching the boundary at a point (or a sliver) of the arc, and a
// sample that falls there, as the arc's midpoint does when the touch is
// symmetric, would take the whole arc for outside. Such a touch can sway one
// of three points spread over the arc, not two; the three are tested only
// when an edge lies at the radius (touching), and the midpoint otherwise.
func (r *Region) arcInside(c Point, radius, lo, hi float64, touching bool) bool {
	if !touching {
		return r.Contains(onCircle(c, radius, lo+0.5*(hi-lo)))
	}
	q1 := r.Contains(onCircle(c, radius, lo+0.25*(hi-lo)))
	q3 := r.Contains(onCircle(c, radius, lo+0.75*(hi-lo)))
	if q1 == q3 {
		return q1
	}
	return r.Contains(onCircle(c, radius, lo+0.5*(hi-lo)))
}

// arcWork holds per-call scratch space, reused across disks.
type arcWork struct {
	covered  []interval
	free     []interval
	crossing []float64
	inside   []interval
	stamp    []int32
	gen      int32
}

func newArcWork(edges int) *arcWork { return &arcWork{stamp: make([]int32, edges)} }

type interval struct{ lo, hi float64 }

const twoPi = 2 * math.Pi

// arcContribution integrates ½(x dy − y dx) over the arcs of circle i that
// lie inside the region and inside no other disk. It also reports whether the
// stop is inside the region and whether its disk reaches the region at all.
func (r *Region) arcContribution(sg *stopGrid, i int, radius float64, o Point, w *arcWork) (contrib float64, inside, near bool) {
	free, inside, near := r.circleArcs(sg, i, radius, w)
	if len(free) == 0 || !near {
		return 0, inside, near
	}
	if len(w.inside) == 1 && w.inside[0] == (interval{0, twoPi}) && len(free) == 1 && free[0] == (interval{0, twoPi}) {
		// A whole circle: the linear terms vanish exactly.
		return math.Pi * radius * radius, inside, near
	}
	// Integrate over free ∩ inside.
	cc := sg.pts[i].sub(o)
	a, b := 0, 0
	for a < len(free) && b < len(w.inside) {
		lo := max(free[a].lo, w.inside[b].lo)
		hi := min(free[a].hi, w.inside[b].hi)
		if hi > lo {
			contrib += arcIntegral(cc, radius, lo, hi)
		}
		if free[a].hi < w.inside[b].hi {
			a++
		} else {
			b++
		}
	}
	return contrib, inside, near
}

// circleArcs returns the arcs of circle i that no other disk covers and
// leaves in w.inside the arcs of the circle that lie inside the region, both
// sorted within [0, 2π]; the boundary of the covered part (and of the gaps)
// runs along their intersection. It also reports whether the stop is inside
// the region and whether its disk reaches the region at all. w.inside is left
// empty when no arc is free or the disk does not reach the region.
func (r *Region) circleArcs(sg *stopGrid, i int, radius float64, w *arcWork) (free []interval, inside, near bool) {
	c := sg.pts[i]
	free = w.freeArcs(sg, i, radius)
	inside = r.Contains(c)

	// Crossings of the circle with the region's boundary, and the distance to
	// it; a circle wholly covered by others needs only the distance, for the counts.
	w.gen++
	w.crossing = w.crossing[:0]
	g := &r.grid
	x0, y0 := g.cellOf(Point{c.X - radius, c.Y - radius})
	x1, y1 := g.cellOf(Point{c.X + radius, c.Y + radius})
	r2 := radius * radius
	minDist2 := math.Inf(1)
	touching := false
	for cy := g.clampY(y0); cy <= g.clampY(y1); cy++ {
		for cx := g.clampX(x0); cx <= g.clampX(x1); cx++ {
			cell := cy*g.nx + cx
			for _, e := range g.items[g.start[cell]:g.start[cell+1]] {
				if w.stamp[e] == w.gen {
					continue
				}
				w.stamp[e] = w.gen
				ed := &r.edges[e]
				if len(free) == 0 {
					if !inside && minDist2 >= r2 {
						minDist2 = min(minDist2, segDist2(c, ed.a, ed.b))
					}
					continue
				}
				d2 := segDist2(c, ed.a, ed.b)
				minDist2 = min(minDist2, d2)
				// An edge at the radius may touch the circle without a
				// crossing counted; see arcInside.
				touching = touching || math.Abs(d2-r2) <= 1e-6*r2
				w.crossing = circleSegmentAngles(c, radius, ed.a, ed.b, w.crossing)
			}
		}
	}
	near = inside || minDist2 < r2
	if !near {
		// The circle neither contains nor meets the boundary near it; the
		// region could still lie wholly inside the disk (a tiny island).
		near = r.insideDisk(c, radius)
	}
	w.inside = w.inside[:0]
	if len(free) == 0 || !near {
		return free, inside, near
	}

	// Arcs of the circle inside the region, split at the crossings.
	if len(w.crossing) == 0 {
		// No boundary within the disk: the circle is where its centre is.
		// (With boundary inside, e.g. a hole, test a point of the circle.)
		circleInside := inside
		if minDist2 < r2 {
			circleInside = r.arcInside(c, radius, free[0].lo, free[0].hi, touching)
		}
		if circleInside {
			w.inside = append(w.inside, interval{0, twoPi})
		}
	} else {
		sort.Float64s(w.crossing)
		n := len(w.crossing)
		for k := 0; k < n; k++ {
			lo := w.crossing[k]
			hi := w.crossing[(k+1)%n]
			if k == n-1 {
				hi += twoPi
			}
			if hi-lo <= 0 {
				continue
			}
			if r.arcInside(c, radius, lo, hi, touching) {
				w.inside = appendWrapped(w.inside, lo, hi)
			}
		}
		sortIntervals(w.inside)
	}
	return free, inside, near
}

// insideDisk reports whether the whole region lies within the disk.
func (r *Region) insideDisk(c Point, radius float64) bool {
	r2 := radius * radius
	for _, p := range []Point{r.min, r.max, {r.min.X, r.max.Y}, {r.max.X, r.min.Y}} {
		d := p.sub(c)
		if dot(d, d) >= r2 {
			return false
		}
	}
	return true
}

func onCircle(c Point, radius, theta float64) Point {
	return Point{c.X + radius*math.Cos(theta), c.Y + radius*math.Sin(theta)}
}

// arcIntegral is ½∫(x dy − y dx) over the circle centred at c (relative to
// the integration origin) from angle lo to hi.
func arcIntegral(c Point, radius, lo, hi float64) float64 {
	return 0.5 * (radius*radius*(hi-lo) +
		radius*c.X*(math.Sin(hi)-math.Sin(lo)) -
		radius*c.Y*(math.Cos(hi)-math.Cos(lo)))
}

// freeArcs returns the arcs of circle i, as sorted intervals in [0, 2π), that
// no other disk covers. Neighbours are visited nearest cells first, and the
// search stops as soon as 64 angular sectors are known to be covered: a
// circle deep inside a dense network is dismissed after a few neighbours.
//
// The arc a neighbour covers is found without trigonometry: its end
// directions are the unit vector towards the neighbour rotated by ±α, with
// cos α = d/2r, and arcs are ordered and merged by pseudo-angle (a monotone,
// division-only stand-in for the angle, in [0, 4)). Only the ends of the free
// arcs, usually few, are turned into true angles.
//
// Two disks whose common chord is shorter than crossingDiscriminant's bound
// for a circle and an edge (with M the largest coordinate a kept stop can
// have, the same for every pair, so that both disks decide alike) are taken
// to touch, not to overlap. The ends of the sliver each would cover of the
// other are ill-conditioned there (an error of about √(rounding/r) in the
// angle), while an edge meeting a circle along such a chord is already
// taken not to cross it: counting the sliver but not the crossing left a
// piece of the boundary of the covered part unclosed where the two circles
// touched at a point of A's boundary, and the covered area moved by up to
// 1.4e-7 of A's area when the coordinates were shifted
// (TestTangentPairAtBoundary). The lens left out is under 1e-10 m² at
// 100 km from the origin.
func (w *arcWork) freeArcs(sg *stopGrid, i int, radius float64) []interval {
	c := sg.pts[i]
	w.covered = w.covered[:0]
	cx, cy := sg.cellOf(c)
	var sectors uint64
	d2max := 4 * radius * radius
	inv2r := 1 / (2 * radius)
	for _, off := range sg.offsets {
		x, y := cx+off[0], cy+off[1]
		if x < 0 || y < 0 || x >= sg.nx || y >= sg.ny {
			continue
		}
		cell := y*sg.nx + x
		members := sg.items[sg.start[cell]:sg.start[cell+1]]
		if len(members) == 0 {
			continue
		}
		for _, j := range members {
			if int(j) == i {
				continue
			}
			d := sg.pts[j].sub(c)
			d2 := dot(d, d)
			// 4r² − d² is the square of the common chord. (The bound also
			// keeps out a pair whose d² is below 4r² by rounding alone,
			// whose arc would be empty and read below as the whole circle.)
			if d2max-d2 <= sg.touch {
				continue
			}
			dist := math.Sqrt(d2)
			ux, uy := d.X/dist, d.Y/dist
			cosA := dist * inv2r
			sinA := math.Sqrt(max(0, 1-cosA*cosA))
			lo := pseudoAngle(ux*cosA+uy*sinA, uy*cosA-ux*sinA)
			hi := pseudoAngle(ux*cosA-uy*sinA, uy*cosA+ux*sinA)
			if hi <= lo {
				hi += 4
			}
			w.covered = appendWrappedPseudo(w.covered, lo, hi)
			sectors |= sectorMask(lo, hi)
		}
		if sectors == math.MaxUint64 {
			return nil
		}
	}
	w.free = w.free[:0]
	if len(w.covered) == 0 {
		return append(w.free, interval{0, twoPi})
	}
	sortIntervals(w.covered)
	at := 0.0
	for _, iv := range w.covered {
		if iv.lo > at {
			w.free = append(w.free, interval{pseudoToAngle(at), pseudoToAngle(iv.lo)})
		}
		at = max(at, iv.hi)
	}
	if at < 4 {
		w.free = append(w.free, interval{pseudoToAngle(at), twoPi})
	}
	return w.free
}

// touchChord2 is the factor of r·M (M a coordinate's magnitude, or r) under
// which a chord's square is taken for rounding: two disks with a common
// chord that short touch (stopGrid.touch), and a line that cuts so short a
// chord from a circle does not cross it (crossingDiscriminant).
const touchChord2 = 1e-12

// touchBound is the bound on 4r² − d² under which two disks whose centres
// lie within lo–hi are taken to touch: touchChord2·r·M, M the largest
// coordinate there, or r.
func touchBound(lo, hi Point, radius float64) float64 {
	return touchChord2 * radius * max(math.Abs(lo.X), math.Abs(lo.Y), math.Abs(hi.X), math.Abs(hi.Y), radius)
}

// pseudoAngle is a monotone stand-in for the angle of (x, y) in [0, 4): 0 at
// +x, 1 at +y, 2 at −x, 3 at −y (the "diamond angle").
func pseudoAngle(x, y float64) float64 {
	if y >= 0 {
		if x >= 0 {
			return y / (x + y)
		}
		return 1 - x/(y-x)
	}
	if x < 0 {
		return 2 - y/(-x-y)
	}
	return 3 + x/(x-y)
}

// pseudoToAngle is the angle in [0, 2π] whose pseudo-angle is p ∈ [0, 4].
func pseudoToAngle(p float64) float64 {
	var x, y float64
	switch {
	case p <= 0:
		return 0
	case p >= 4:
		return twoPi
	case p < 1:
		x, y = 1-p, p
	case p < 2:
		q := p - 1
		x, y = -q, 1-q
	case p < 3:
		q := p - 2
		x, y = q-1, -q
	default:
		q := p - 3
		x, y = q, q-1
	}
	t := math.Atan2(y, x)
	if t < 0 {
		t += twoPi
	}
	return t
}

// appendWrappedPseudo adds the pseudo-angle arc (lo, hi), 0 ≤ lo < 4 and
// hi − lo < 4, as one or two intervals within [0, 4).
func appendWrappedPseudo(ivs []interval, lo, hi float64) []interval {
	if hi <= 4 {
		return append(ivs, interval{lo, hi})
	}
	return append(ivs, interval{lo, 4}, interval{0, hi - 4})
}

const nSectors = 64

// sectorMask has a bit set for each of the 64 equal sectors of pseudo-angle
// that lie wholly within the arc (lo, hi), 0 ≤ lo < 4, hi − lo < 4.
func sectorMask(lo, hi float64) uint64 {
	const width = 4.0 / nSectors
	s0 := int(math.Ceil(lo / width))
	s1 := int(math.Floor(hi / width)) // sectors s0 … s1−1 are inside
	n := s1 - s0
	if n <= 0 {
		return 0
	}
	if n >= nSectors {
		return math.MaxUint64
	}
	run := uint64(1)<<uint(n) - 1
	return bits.RotateLeft64(run, s0%nSectors)
}

// appendWrapped adds the arc (lo, hi), hi − lo ≤ 2π, as one or two intervals within [0, 2π).
func appendWrapped(ivs []interval, lo, hi float64) []interval {
	for lo < 0 {
		lo += twoPi
		hi += twoPi
	}
	for lo >= twoPi {
		lo -= twoPi
		hi -= twoPi
	}
	if hi <= twoPi {
		return append(ivs, interval{lo, hi})
	}
	return append(ivs, interval{lo, twoPi}, interval{0, hi - twoPi})
}

func sortIntervals(ivs []interval) {
	if len(ivs) > 24 {
		slices.SortFunc(ivs, func(a, b interval) int {
			switch {
			case a.lo < b.lo:
				return -1
			case a.lo > b.lo:
				return 1
			}
			return 0
		})
		return
	}
	// A circle has a handful of neighbours: insertion sort is fastest.
	for i := 1; i < len(ivs); i++ {
		v := ivs[i]
		j := i
		for ; j > 0 && ivs[j-1].lo > v.lo; j-- {
			ivs[j] = ivs[j-1]
		}
		ivs[j] = v
	}
}

// circleSegmentAngles appends the angles at which the circle meets segment
// a→b. The angles split the circle into arcs that are then classified one
// by one (inside or outside the region, by a point-in-region test at their
// middle), so an extra split is harmless but a missing one is not: an end of
// the segment that lies on the circle to rounding is a split point, whether
// a root falls just inside or just beyond it. That keeps a circle through a
// vertex, to the last bit, from losing the crossing there.
func circleSegmentAngles(c Point, radius float64, a, b Point, out []float64) []float64 {
	d := b.sub(a)
	f := a.sub(c)
	angle := func(p Point) float64 { return math.Mod(math.Atan2(p.Y, p.X)+twoPi, twoPi) }
	r2 := radius * radius
	C := dot(f, f) - r2
	if liesOnCircle(C, radius, a, c) {
		out = append(out, angle(f))
	}
	A := dot(d, d)
	B := 2 * dot(f, d)
	disc, ok := crossingDiscriminant(A, B, C, r2, a, c)
	if !ok {
		return out
	}
	sq := math.Sqrt(disc)
	// Numerically stable roots.
	q := -0.5 * (B + math.Copysign(sq, B))
	if q == 0 {
		return out
	}
	for _, t := range [2]float64{snapRoot(q/A, C, a, b, c, radius), snapRoot(C/q, C, a, b, c, radius)} {
		if t >= 0 && t <= 1 {
			out = append(out, angle(Point{f.X + t*d.X, f.Y + t*d.Y}))
		}
	}
	return out
}

// rootSlack is how close to an end of a segment a root is taken to be that
// end, when the end lies on the circle.
const rootSlack = 1e-9

// liesOnCircle reports whether a point p, with cp = |p − c|² − r², lies on the
// circle about c to rounding: cp within 64 rounding units of r·M, M the
// largest coordinate of p and c, or r (the error of |p − c|² − r² is a few
// of them), and never beyond 1e-9·r².
func liesOnCircle(cp, radius float64, p, c Point) bool {
	if math.Abs(cp) > 1e-9*radius*radius {
		return false
	}
	m := max(math.Abs(p.X), math.Abs(p.Y), math.Abs(c.X), math.Abs(c.Y), radius)
	return math.Abs(cp) <= 64*ulp*radius*m
}

// ulp is the spacing of float64 numbers at 1.
const ulp = 0x1p-52

// snapRoot moves a root within rootSlack of an end of segment a→b onto that
// end when the end lies on the circle to rounding (cA is |a − c|² − r²), so
// that a circle through a vertex meets both edges there in exactly the
// vertex: the arcs and the edge pieces then join without a gap, and no edge
// piece of rounding length is left over. A root near an end that is not on
// the circle stays where it is. Moving it would end the arc at the circle's
// point towards the vertex and the edge piece at the vertex itself, leaving
// the boundary open by the vertex's distance from the circle: 1e-6 m near a
// 2 km edge, which moved a 102 m² covered piece by 7.7e-4 m²
// (TestCoverCircleNearVertex).
func snapRoot(t, cA float64, a, b, c Point, radius float64) float64 {
	switch {
	case math.Abs(t) < rootSlack && liesOnCircle(cA, radius, a, c):
		return 0
	case math.Abs(t-1) < rootSlack:
		if v := b.sub(c); liesOnCircle(dot(v, v)-radius*radius, radius, b, c) {
			return 1
		}
	}
	return t
}

// crossingDiscriminant returns B² − 4AC for the line a + t·d against the
// circle of radius² r2 centred at c, and whether the line crosses the circle
// in two distinct points. A line within rounding of tangency is taken not to
// cross: its roots are ill-conditioned (an error of about √ε in t), a midpoint
// test on the arc beyond such a chord cannot tell inside from outside, and
// the sliver the chord cuts off has no measurable area. "Within rounding"
// scales with the coordinates, since a − c loses digits far from the origin:
// the chord √(disc/A) must exceed √(1e-12·r·M), M the largest coordinate
// (9 mm for r = 300 m at 250 km, a sliver of 2e-10 m²), and the
// discriminant must not be lost in its own rounding. The arcs and the edge
// pieces both call this with the same numbers, so they always decide alike
// and the boundary stays closed.
func crossingDiscriminant(A, B, C, r2 float64, a, c Point) (float64, bool) {
	if A == 0 {
		return 0, false
	}
	disc := B*B - 4*A*C
	m := math.Max(math.Max(math.Abs(a.X), math.Abs(a.Y)), math.Max(math.Abs(c.X), math.Abs(c.Y)))
	m = math.Max(m, math.Sqrt(r2))
	return disc, disc > 1e-12*(B*B+math.Abs(4*A*C)) && disc > touchChord2*A*math.Sqrt(r2)*m
}

func segDist2(p, a, b Point) float64 {
	d := b.sub(a)
	t := 0.0
	if l := dot(d, d); l > 0 {
		t = max(0, min(1, dot(p.sub(a), d)/l))
	}
	q := Point{a.X + t*d.X - p.X, a.Y + t*d.Y - p.Y}
	return dot(q, q)
}

// edgeContribution integrates ½(x dy − y dx) over the parts of the region's
// edges that lie inside at least one disk. It stops with the context's
// error once ctx is done, checked every cancelWork edges: a million edges
// take a tenth of a second whatever the number of stops.
func (r *Region) edgeContribution(ctx context.Context, sg *stopGrid, radius float64, o Point) (float64, error) {
	var sum float64
	ew := edgeWork{stamp: make([]int32, len(sg.pts))}
	// Most edges meet a few disks: room for them without allocating.
	var buf [8]interval
	ivs := buf[:0]
	for k := range r.edges {
		if k%cancelWork == cancelWork-1 {
			if err := ctx.Err(); err != nil {
				return 0, err
			}
		}
		e := &r.edges[k]
		ivs = ew.coveredIntervals(ivs[:0], sg, e, radius)
		if len(ivs) == 0 {
			continue
		}
		sortIntervals(ivs)
		a, b := e.a.sub(o), e.b.sub(o)
		dd := b.sub(a)
		at := func(t float64) Point { return Point{a.X + t*dd.X, a.Y + t*dd.Y} }
		lo, hi := ivs[0].lo, ivs[0].hi
		flush := func() { sum += 0.5 * cross(at(lo), at(hi)) }
		for _, iv := range ivs[1:] {
			if iv.lo > hi {
				flush()
				lo, hi = iv.lo, iv.hi
			} else {
				hi = max(hi, iv.hi)
			}
		}
		flush()
	}
	return sum, nil
}

// edgeWork marks the stops already tried against an edge, reused across
// edges: one stamp per stop.
type edgeWork struct {
	stamp []int32
	gen   int32
}

// coveredIntervals appends to ivs the parameter intervals, within [0, 1]
// and neither sorted nor merged, of the parts of edge e that lie inside each
// disk that crosses it.
func (w *edgeWork) coveredIntervals(ivs []interval, sg *stopGrid, e *edge, radius float64) []interval {
	w.gen++
	gen, stamp := w.gen, w.stamp
	r2 := radius * radius
	d := e.b.sub(e.a)
	A := dot(d, d)
	// The cells within the radius of the edge: row by row, the cells
	// whose band can hold a stop within r of the part of the edge near it.
	y0, y1 := min(e.a.Y, e.b.Y)-radius, max(e.a.Y, e.b.Y)+radius
	_, ry0 := sg.cellOf(Point{0, y0})
	_, ry1 := sg.cellOf(Point{0, y1})
	for ry := max(ry0, 0); ry <= min(ry1, sg.ny-1); ry++ {
		lo := sg.origin.Y + float64(ry)*sg.size - radius
		hi := lo + sg.size + 2*radius
		xa, xb := e.a.X, e.b.X
		if d.Y != 0 {
			ta, tb := (lo-e.a.Y)/d.Y, (hi-e.a.Y)/d.Y
			if ta > tb {
				ta, tb = tb, ta
			}
			ta, tb = max(ta, 0), min(tb, 1)
			if ta > tb {
				continue
			}
			xa, xb = e.a.X+ta*d.X, e.a.X+tb*d.X
		}
		cx0, _ := sg.cellOf(Point{min(xa, xb) - radius, 0})
		cx1, _ := sg.cellOf(Point{max(xa, xb) + radius, 0})
		for x := max(cx0, 0); x <= min(cx1, sg.nx-1); x++ {
			cell := ry*sg.nx + x
			for _, j := range sg.items[sg.start[cell]:sg.start[cell+1]] {
				if stamp[j] == gen {
					continue
				}
				stamp[j] = gen
				f := e.a.sub(sg.pts[j])
				B := 2 * dot(f, d)
				C := dot(f, f) - r2
				disc, crosses := crossingDiscriminant(A, B, C, r2, e.a, sg.pts[j])
				if !crosses {
					continue
				}
				sq := math.Sqrt(disc)
				// The same stable roots as circleSegmentAngles, so both passes agree.
				q := -0.5 * (B + math.Copysign(sq, B))
				if q == 0 {
					continue
				}
				t1, t2 := snapRoot(q/A, C, e.a, e.b, sg.pts[j], radius), snapRoot(C/q, C, e.a, e.b, sg.pts[j], radius)
				if t1 > t2 {
					t1, t2 = t2, t1
				}
				t1, t2 = max(t1, 0), min(t2, 1)
				if t2 > t1 {
					ivs = append(ivs, interval{t1, t2})
				}
			}
		}
	}
	return ivs
}

// WithinRadius reports, for each query point, whether a stop lies within
// radius of it (distance < radius, as for the disks).
func WithinRadius(stops []Point, radius float64, queries []Point) []bool {
	out := make([]bool, len(queries))
	if len(stops) == 0 || len(queries) == 0 || !(radius > 0) {
		return out
	}
	lo, hi := queries[0], queries[0]
	for _, q := range queries {
		lo.X, lo.Y = math.Min(lo.X, q.X), math.Min(lo.Y, q.Y)
		hi.X, hi.Y = math.Max(hi.X, q.X), math.Max(hi.Y, q.Y)
	}
	// Nothing to cancel: the context is one that is never done.
	sg, _ := newStopGrid(context.Background(), stops, lo, hi, radius)
	reach := int(math.Ceil(radius/sg.size)) + 1
	r2 := radius * radius
	for k, q := range queries {
		qx, qy := sg.cellOf(q)
	search:
		for y := max(qy-reach, 0); y <= min(qy+reach, sg.ny-1); y++ {
			for x := max(qx-reach, 0); x <= min(qx+reach, sg.nx-1); x++ {
				cell := y*sg.nx + x
				for _, j := range sg.items[sg.start[cell]:sg.start[cell+1]] {
					d := sg.pts[j].sub(q)
					if dot(d, d) < r2 {
						out[k] = true
						break search
					}
				}
			}
		}
	}
	return out
}
