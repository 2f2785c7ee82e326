package geometry

import (
	"context"
	"math"
	"slices"
)

// Gap is one connected part of a region that no disk covers.
type Gap struct {
	// Polygon is the gap's outline: its outer ring counter-clockwise, then
	// its holes clockwise (no closing vertex repeated). Circle arcs are
	// replaced by chords whose vertices lie on the circle, so the outline is
	// within the tolerance of the true boundary. Where the gap pinches to a
	// point (two disks, or a disk and the region's boundary, touching) a ring
	// may pass through that point twice.
	Polygon Polygon
	// Area is the exact area of the gap in m² (arcs integrated in closed
	// form, not from the chords).
	Area float64
	// Centroid is the centroid of the gap, exact like Area: the first
	// moments are integrated over the arcs in closed form, not taken from
	// Polygon.
	Centroid Point
}

// maxChordsPerTurn caps how many chords stand for a whole circle (an arc
// gets its share): finer than r·(1 − cos(π/1024)) ≈ 4.7e-6·r (1.4 mm for
// r = 300 m) the tolerance is not met, since a gap map gains nothing from it
// and thousands of circles would cost gigabytes.
const maxChordsPerTurn = 1024

// Matching the end of one boundary piece to the start of the next is done
// within gapSnap of the largest coordinate, or gapSnapRadius of the radius
// if more: the two ends are computed apart (an arc's from its angle, an edge
// piece's from the root of the same crossing; two circles' from each
// other's centre), so they differ by rounding, which grows with the
// coordinates, and, where two circles cross at a grazing angle α, by about
// ε·r/sin α: up to √ε·r ≈ 1.5e-8·r for circles within rounding of tangent.
// gapLoose, used only when nothing lies within the snapping distance, is
// the size of the chord a near-tangent crossing may cut off uncounted (see
// crossingDiscriminant), the largest mismatch the arcs and the edges can
// leave between them.
const (
	gapSnap       = 1e-11
	gapSnapRadius = 1e-7
	gapLoose      = 1e-6
)

// gapSliver is the area, as a fraction of the region's, below which a ring
// is taken for a sliver left by rounding (a disk that only touches another
// or an edge) and dropped.
const gapSliver = 1e-12

// Gaps returns the parts of the region farther than radius from every stop,
// largest first (equal areas by centroid, x then y). Their outlines follow
// the arcs to within tolerance metres (down to the limit maxChordsPerTurn
// sets); their areas and centroids are exact. A radius or tolerance that is
// not a positive number of metres is refused with an *InvalidError. It
// stops early with the context's error when ctx is cancelled.
//
// The gaps' boundary is the one Cover integrates, walked the other way: the
// pieces of the region's edges that no disk covers, and the arcs of each
// circle inside the region and outside every other disk, traversed
// clockwise. Their areas therefore add up to Area() − CoveredArea, to
// rounding.
func (r *Region) Gaps(ctx context.Context, stops []Point, radius, tolerance float64) ([]Gap, error) {
	if !(radius > 0) || math.IsInf(radius, 0) {
		return nil, &InvalidError{Polygon: -1, Ring: -1, Reason: "radius must be a positive number of metres"}
	}
	if !(tolerance > 0) || math.IsInf(tolerance, 0) {
		return nil, &InvalidError{Polygon: -1, Ring: -1, Reason: "tolerance must be a positive number of metres"}
	}
	gaps, _, err := r.gaps(ctx, stops, radius, tolerance)
	return gaps, err
}

// gaps is Gaps with the repairs the chaining made, for the tests.
func (r *Region) gaps(ctx context.Context, stops []Point, radius, tolerance float64) ([]Gap, gapStats, error) {
	sg, err := newStopGrid(ctx, stops, r.min, r.max, radius)
	if err != nil {
		return nil, gapStats{}, err
	}
	b := r.newGapBuilder(radius, tolerance)
	if err := b.collect(ctx, sg); err != nil {
		return nil, gapStats{}, err
	}
	rings, err := b.chain(ctx)
	if err != nil {
		return nil, gapStats{}, err
	}
	gaps, err := b.assemble(ctx, rings)
	if err != nil {
		return nil, gapStats{}, err
	}
	return gaps, b.stats, nil
}

// gapPiece is one piece of the gaps' boundary, with the gaps on its left: a
// piece of edge ref, in the edge's direction, or an arc of the circle about
// stop ref, clockwise from angle hi down to lo.
type gapPiece struct {
	s, e   Point // where it starts and ends
	lo, hi float64
	ref    int32
	kind   uint8
	// tiny marks a piece shorter than the snapping distance: its ends
	// cannot be told apart, so it is spliced in wherever the chain passes.
	tiny bool
}

const (
	gapEdge = iota
	gapArc
	// gapCircle is a whole circle: a ring by itself.
	gapCircle
)

// startDir and endDir are a piece's tangent directions at its ends.
func (b *gapBuilder) startDir(p *gapPiece) Point {
	if p.kind != gapEdge {
		s, c := math.Sincos(p.hi)
		return Point{s, -c}
	}
	e := &b.r.edges[p.ref]
	return e.b.sub(e.a)
}

func (b *gapBuilder) endDir(p *gapPiece) Point {
	if p.kind != gapEdge {
		s, c := math.Sincos(p.lo)
		return Point{s, -c}
	}
	e := &b.r.edges[p.ref]
	return e.b.sub(e.a)
}

// gapStats counts what the chaining had to repair; tests expect zeros on
// well-conditioned inputs.
type gapStats struct {
	// jumps is how often a piece's end matched no start within the snapping
	// distance and the nearest start within the looser one was taken.
	jumps int
	// forced is how often a ring was closed with no start near its end.
	forced int
	// dropped counts rings dropped as slivers; droppedArea is their signed
	// area.
	dropped     int
	droppedArea float64
	// orphans counts holes that no outer ring contains (dropped).
	orphans int
}

type gapBuilder struct {
	r         *Region
	sg        *stopGrid
	radius    float64
	tolerance float64
	eps       float64 // snapping distance
	loose     float64 // fallback snapping distance
	sliver    float64 // rings of less area are dropped
	maxAngle  float64 // the most angle one chord may span
	pieces    []gapPiece
	stats     gapStats
}

func (r *Region) newGapBuilder(radius, tolerance float64) *gapBuilder {
	m := math.Max(math.Max(math.Abs(r.min.X), math.Abs(r.min.Y)), math.Max(math.Abs(r.max.X), math.Abs(r.max.Y)))
	m = math.Max(m, radius)
	return &gapBuilder{
		r:         r,
		radius:    radius,
		tolerance: tolerance,
		eps:       math.Max(gapSnap*m, gapSnapRadius*radius),
		loose:     gapLoose * m,
		sliver:    gapSliver * r.area,
		maxAngle:  2 * math.Acos(math.Max(-1, 1-tolerance/radius)),
	}
}

// collect enumerates the boundary pieces with the same arithmetic as Cover:
// circleArcs for the arcs and coveredIntervals for the edges, so that an arc
// and the edge piece it meets end at the same crossing root.
func (b *gapBuilder) collect(ctx context.Context, sg *stopGrid) error {
	r := b.r
	b.sg = sg
	// Most edges are one piece, most circles two or three arcs.
	b.pieces = make([]gapPiece, 0, len(r.edges)+2*len(sg.pts))
	w := newArcWork(len(r.edges))
	var ivs []interval
	for i := range sg.pts {
		if i%cancelEvery == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		free, _, near := r.circleArcs(sg, i, b.radius, w)
		if len(free) == 0 || !near || len(w.inside) == 0 {
			continue
		}
		// free ∩ inside, as in arcContribution, with arcs that meet (at a
		// crossing counted twice, or at angle 0) joined into one.
		ivs = ivs[:0]
		x, y := 0, 0
		for x < len(free) && y < len(w.inside) {
			lo := max(free[x].lo, w.inside[y].lo)
			hi := min(free[x].hi, w.inside[y].hi)
			if hi > lo {
				if n := len(ivs); n > 0 && ivs[n-1].hi == lo {
					ivs[n-1].hi = hi
				} else {
					ivs = append(ivs, interval{lo, hi})
				}
			}
			if free[x].hi < w.inside[y].hi {
				x++
			} else {
				y++
			}
		}
		if len(ivs) == 0 {
			continue
		}
		c := sg.pts[i]
		if len(ivs) == 1 && ivs[0].lo == 0 && ivs[0].hi == twoPi {
			p := onCircle(c, b.radius, 0)
			b.pieces = append(b.pieces, gapPiece{s: p, e: p, hi: twoPi, ref: int32(i), kind: gapCircle})
			continue
		}
		if n := len(ivs); n > 1 && ivs[0].lo == 0 && ivs[n-1].hi == twoPi {
			ivs[n-1].hi = twoPi + ivs[0].hi
			ivs = ivs[1:]
		}
		for _, iv := range ivs {
			b.pieces = append(b.pieces, gapPiece{
				s: onCircle(c, b.radius, iv.hi), e: onCircle(c, b.radius, iv.lo),
				lo: iv.lo, hi: iv.hi, ref: int32(i), kind: gapArc,
				tiny: b.radius*(iv.hi-iv.lo) <= b.eps,
			})
		}
	}
	ew := edgeWork{stamp: make([]int32, len(sg.pts))}
	var cov []interval
	for k := range r.edges {
		if k%(16*cancelEvery) == 0 {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		e := &r.edges[k]
		cov = ew.coveredIntervals(cov[:0], sg, e, b.radius)
		sortIntervals(cov)
		// The complement of the merged intervals, merged as edgeContribution
		// merges them.
		at := 0.0
		for _, iv := range cov {
			if iv.lo > at {
				b.addEdgePiece(k, at, iv.lo)
			}
			at = max(at, iv.hi)
		}
		if at < 1 {
			b.addEdgePiece(k, at, 1)
		}
	}
	return nil
}

func (b *gapBuilder) addEdgePiece(k int, t0, t1 float64) {
	e := &b.r.edges[k]
	d := e.b.sub(e.a)
	// The vertices themselves at the ends, so that consecutive edges match
	// exactly.
	at := func(t float64) Point {
		switch t {
		case 0:
			return e.a
		case 1:
			return e.b
		}
		return Point{e.a.X + t*d.X, e.a.Y + t*d.Y}
	}
	s, en := at(t0), at(t1)
	b.pieces = append(b.pieces, gapPiece{s: s, e: en, ref: int32(k), kind: gapEdge, tiny: gapDist2(s, en) <= b.eps*b.eps})
}

// gapStarts indexes the pieces' start points in square cells of the loose
// snapping distance, sorted by cell, so the starts near a point are found
// by three binary searches.
type gapStarts struct {
	cell   float64
	keys   []uint64 // the cells, packed by gapCellKey
	pieces []int32  // the pieces, in the order of keys
}

// gapCellKey packs a cell's coordinates, column first, into one sortable
// number. Pieces lie in the region's bounding box, less than 1e6 cells
// (the largest coordinate over gapLoose of it) from the origin.
func gapCellKey(cx, cy int64) uint64 {
	const bias = 1 << 31
	return uint64(cx+bias)<<32 | uint64(cy+bias)
}

func (g *gapStarts) cellOf(p Point) (int64, int64) {
	const lim = 1 << 30
	cx := math.Max(-lim, math.Min(lim, math.Floor(p.X/g.cell)))
	cy := math.Max(-lim, math.Min(lim, math.Floor(p.Y/g.cell)))
	return int64(cx), int64(cy)
}

func newGapStarts(pieces []gapPiece, cell float64) *gapStarts {
	g := &gapStarts{cell: cell}
	type entry struct {
		key   uint64
		piece int32
	}
	entries := make([]entry, 0, len(pieces))
	for k := range pieces {
		if pieces[k].kind == gapCircle {
			continue
		}
		entries = append(entries, entry{gapCellKey(g.cellOf(pieces[k].s)), int32(k)})
	}
	slices.SortFunc(entries, func(a, b entry) int {
		switch {
		case a.key < b.key:
			return -1
		case a.key > b.key:
			return 1
		}
		return int(a.piece - b.piece)
	})
	g.keys = make([]uint64, len(entries))
	g.pieces = make([]int32, len(entries))
	for k, e := range entries {
		g.keys[k], g.pieces[k] = e.key, e.piece
	}
	return g
}

// near appends to out the pieces starting in the 3×3 cells around p: every
// start within one cell of p, and some farther.
func (g *gapStarts) near(p Point, out []int32) []int32 {
	cx, cy := g.cellOf(p)
	for x := cx - 1; x <= cx+1; x++ {
		lo, hi := gapCellKey(x, cy-1), gapCellKey(x, cy+1)
		k, _ := slices.BinarySearch(g.keys, lo)
		for ; k < len(g.keys) && g.keys[k] <= hi; k++ {
			out = append(out, g.pieces[k])
		}
	}
	return out
}

// chain links the pieces into closed rings, each piece used once. A piece
// continues with a piece starting where it ends; where several do (the
// region's polygons touching at a vertex, two circles and an edge through
// one point), it takes the one that turns most to the left, i.e. the first
// clockwise from the way it came: that keeps the gap's interior on the left
// of both, so a gap that pinches to a point is walked as one ring touching
// itself there, and two gaps that meet at a point as two rings. Pieces too
// short to have a direction are spliced in where the chain passes their
// start. A piece whose end matches no start is continued with the nearest
// start within the looser distance, or its ring is closed: rounding never
// makes the walk fail or loop.
func (b *gapBuilder) chain(ctx context.Context) ([][]int32, error) {
	pieces := b.pieces
	used := make([]bool, len(pieces))
	starts := newGapStarts(pieces, b.loose)
	var rings [][]int32
	var cand []int32
	steps := 0
	eps2, loose2 := b.eps*b.eps, b.loose*b.loose
	walk := func(first int32) error {
		used[first] = true
		ring := []int32{first}
		cur := first
		for {
			steps++
			if steps%(16*cancelEvery) == 0 {
				if err := ctx.Err(); err != nil {
					return err
				}
			}
			end := pieces[cur].e
			cand = starts.near(end, cand[:0])
			for _, k := range cand {
				if !used[k] && pieces[k].tiny && gapDist2(pieces[k].s, end) <= eps2 {
					used[k] = true
					ring = append(ring, k)
				}
			}
			in := b.endDir(&pieces[cur])
			back := math.Atan2(-in.Y, -in.X)
			next, best := int32(-1), math.Inf(1)
			for _, k := range cand {
				if k != first && (used[k] || pieces[k].tiny) {
					continue
				}
				if gapDist2(pieces[k].s, end) > eps2 {
					continue
				}
				out := b.startDir(&pieces[k])
				// Clockwise from the way back, in (0, 2π]: a piece going
				// straight back encloses nothing and comes last.
				turn := back - math.Atan2(out.Y, out.X)
				for turn <= 0 {
					turn += twoPi
				}
				for turn > twoPi {
					turn -= twoPi
				}
				if turn < best || (turn == best && next >= 0 && pieces[k].kind == gapEdge && pieces[next].kind != gapEdge) {
					next, best = k, turn
				}
			}
			if next < 0 {
				// Nothing within the snapping distance: the nearest start
				// within the looser one, or close the ring.
				best = loose2
				for _, k := range cand {
					if k != first && (used[k] || pieces[k].tiny) {
						continue
					}
					if d := gapDist2(pieces[k].s, end); d <= best {
						next, best = k, d
					}
				}
				if next < 0 {
					b.stats.forced++
					break
				}
				b.stats.jumps++
			}
			if next == first {
				break
			}
			used[next] = true
			ring = append(ring, next)
			cur = next
		}
		rings = append(rings, ring)
		return nil
	}
	for k := range pieces {
		if pieces[k].kind == gapCircle {
			used[k] = true
			rings = append(rings, []int32{int32(k)})
		}
	}
	// Rings start from pieces with a direction; tiny pieces left over (no
	// chain passed their start) make rings of their own, slivers.
	for _, tinyPass := range []bool{false, true} {
		for k := range pieces {
			if !used[k] && pieces[k].tiny == tinyPass {
				if err := walk(int32(k)); err != nil {
					return nil, err
				}
			}
		}
	}
	return rings, nil
}

func gapDist2(p, q Point) float64 {
	d := p.sub(q)
	return dot(d, d)
}

// gapRing is a chained ring: its outline, and its exact signed area and
// first moments about p0, its first piece's start.
type gapRing struct {
	verts     Ring
	p0        Point
	area      float64
	mx, my    float64
	min, max  Point
	perimeter float64 // of the outline
	// probe is a point inside a hole's enclosed area, away from every
	// outline, for telling which outer ring holds it.
	probe Point
}

// ringOf integrates the ring's pieces, and the jumps between a piece's end
// and the next piece's start, and lays the chords of its arcs. An arc of
// angle θ gets ⌈θ/maxAngle⌉ chords (at least minChords), whose vertices lie
// on the circle.
func (b *gapBuilder) ringOf(ids []int32, minChords int) gapRing {
	pieces := b.pieces
	g := gapRing{p0: pieces[ids[0]].s}
	p0 := g.p0
	eps2 := b.eps * b.eps
	addSegment := func(p, q Point) {
		p, q = p.sub(p0), q.sub(p0)
		g.area += 0.5 * cross(p, q)
		g.mx += (q.Y - p.Y) / 6 * (p.X*p.X + p.X*q.X + q.X*q.X)
		g.my -= (q.X - p.X) / 6 * (p.Y*p.Y + p.Y*q.Y + q.Y*q.Y)
	}
	emit := func(v Point) {
		if n := len(g.verts); n > 0 && gapDist2(g.verts[n-1], v) <= eps2 {
			return
		}
		g.verts = append(g.verts, v)
	}
	g.verts = make(Ring, 0, len(ids))
	for k, id := range ids {
		p := &pieces[id]
		if p.kind != gapEdge {
			centre := b.sg.pts[p.ref]
			c := centre.sub(p0)
			if p.kind == gapCircle {
				a := math.Pi * b.radius * b.radius
				g.area -= a
				g.mx -= a * c.X
				g.my -= a * c.Y
			} else {
				g.area -= arcIntegral(c, b.radius, p.lo, p.hi)
				mx, my := gapArcMoments(c, b.radius, p.lo, p.hi)
				g.mx -= mx
				g.my -= my
			}
			span := p.hi - p.lo
			n := int(math.Ceil(maxChordsPerTurn * span / twoPi))
			// maxAngle is zero when the tolerance is lost in 1 − tolerance/r.
			if b.maxAngle > 0 {
				n = min(n, int(math.Ceil(span/b.maxAngle)))
			}
			n = max(n, minChords)
			if p.kind == gapCircle {
				n = max(n, 3)
			}
			emit(p.s)
			for j := 1; j < n; j++ {
				sin, cos := math.Sincos(p.hi - span*float64(j)/float64(n))
				emit(Point{centre.X + b.radius*cos, centre.Y + b.radius*sin})
			}
		} else {
			addSegment(p.s, p.e)
			emit(p.s)
		}
		if next := pieces[ids[(k+1)%len(ids)]].s; next != p.e {
			addSegment(p.e, next)
		}
	}
	for len(g.verts) > 1 && gapDist2(g.verts[len(g.verts)-1], g.verts[0]) <= eps2 {
		g.verts = g.verts[:len(g.verts)-1]
	}
	g.min, g.max = Point{math.Inf(1), math.Inf(1)}, Point{math.Inf(-1), math.Inf(-1)}
	for k, v := range g.verts {
		g.min.X, g.min.Y = math.Min(g.min.X, v.X), math.Min(g.min.Y, v.Y)
		g.max.X, g.max.Y = math.Max(g.max.X, v.X), math.Max(g.max.Y, v.Y)
		g.perimeter += math.Sqrt(gapDist2(v, g.verts[(k+1)%len(g.verts)]))
	}
	return g
}

// gapArcMoments returns ∮½x² dy and −∮½y² dx, the contributions to the first
// moments ∫∫x dA and ∫∫y dA, along the circle of radius r about c (relative
// to the moments' origin) counter-clockwise from angle lo to hi.
func gapArcMoments(c Point, r, lo, hi float64) (mx, my float64) {
	s0, c0 := math.Sincos(lo)
	s1, c1 := math.Sincos(hi)
	ds, dc, dt := s1-s0, c1-c0, hi-lo
	dsc := s1*c1 - s0*c0
	mx = 0.5 * r * (c.X*c.X*ds + c.X*r*(dt+dsc) + r*r*(ds-(s1*s1*s1-s0*s0*s0)/3))
	my = 0.5 * r * (-c.Y*c.Y*dc + c.Y*r*(dt-dsc) + r*r*(-dc+(c1*c1*c1-c0*c0*c0)/3))
	return mx, my
}

// probeOf finds a point inside ring g's enclosed area that no ring's
// outline comes near: the centre of a circle one of its arcs lies on, which
// every outline keeps at least r − tolerance from (the free arcs and the
// uncovered edges are at least r from every stop, and the chords within the
// tolerance of them). A ring of edges only is a hole of the region itself:
// the middle of its longest side, nudged into the hole.
func (b *gapBuilder) probeOf(g *gapRing, ids []int32) {
	if b.tolerance < 0.5*b.radius {
		for _, id := range ids {
			if p := &b.pieces[id]; p.kind != gapEdge && !p.tiny {
				g.probe = b.sg.pts[p.ref]
				return
			}
		}
	}
	best := -1.0
	n := len(g.verts)
	for k := range n {
		p, q := g.verts[k], g.verts[(k+1)%n]
		if d := gapDist2(p, q); d > best {
			best = d
			// A hole is clockwise: its inside is on the right.
			g.probe = Point{(p.X+q.X)/2 + (q.Y-p.Y)*1e-3, (p.Y+q.Y)/2 - (q.X-p.X)*1e-3}
		}
	}
}

// assemble makes gaps of the rings: each outer (counter-clockwise) ring is a
// gap, and each hole belongs to the smallest outer ring that contains it.
func (b *gapBuilder) assemble(ctx context.Context, ids [][]int32) ([]Gap, error) {
	var outers, holes []gapRing
	for _, ring := range ids {
		g := b.ringOf(ring, 1)
		if len(g.verts) < 3 {
			// A lens cut off by one chord: lay more.
			g = b.ringOf(ring, 4)
		}
		// A ring thinner than the snapping distance may have lost the
		// vertices that gave its outline the right orientation (they merge):
		// then it has no outline to speak of, nor measurable area.
		unresolved := math.Abs(g.area) <= b.eps*g.perimeter && (gapShoelace(g.verts) > 0) != (g.area > 0)
		if math.Abs(g.area) <= b.sliver || len(g.verts) < 3 || unresolved {
			b.stats.dropped++
			b.stats.droppedArea += g.area
			continue
		}
		if g.area > 0 {
			outers = append(outers, g)
		} else {
			b.probeOf(&g, ring)
			holes = append(holes, g)
		}
	}
	// Smallest first, so that the first outer ring found around a hole is
	// the one it belongs to.
	order := make([]int, len(outers))
	for k := range order {
		order[k] = k
	}
	slices.SortStableFunc(order, func(x, y int) int { return gapCmpFloat(outers[x].area, outers[y].area) })
	locators := make([]*gapRingLocator, len(outers))
	owned := make([][]int, len(outers))
	for h := range holes {
		if h%cancelEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		q := holes[h].probe
		owner := -1
		for _, o := range order {
			g := &outers[o]
			if q.X < g.min.X || q.X > g.max.X || q.Y < g.min.Y || q.Y > g.max.Y {
				continue
			}
			if locators[o] == nil {
				locators[o] = newGapRingLocator(g.verts)
			}
			if locators[o].contains(q) {
				owner = o
				break
			}
		}
		if owner < 0 {
			b.stats.orphans++
			continue
		}
		owned[owner] = append(owned[owner], h)
	}
	gaps := make([]Gap, len(outers))
	for o := range outers {
		g := &outers[o]
		poly := Polygon{g.verts}
		area, mx, my := g.area, g.mx, g.my
		for _, h := range owned[o] {
			hr := &holes[h]
			poly = append(poly, hr.verts)
			// Moments about the outer ring's origin.
			d := hr.p0.sub(g.p0)
			area += hr.area
			mx += hr.mx + hr.area*d.X
			my += hr.my + hr.area*d.Y
		}
		gaps[o] = Gap{Polygon: poly, Area: area, Centroid: Point{g.p0.X + mx/area, g.p0.Y + my/area}}
	}
	slices.SortFunc(gaps, func(x, y Gap) int {
		if c := gapCmpFloat(y.Area, x.Area); c != 0 {
			return c
		}
		if c := gapCmpFloat(x.Centroid.X, y.Centroid.X); c != 0 {
			return c
		}
		if c := gapCmpFloat(x.Centroid.Y, y.Centroid.Y); c != 0 {
			return c
		}
		return comparePoints(x.Polygon[0][0], y.Polygon[0][0])
	})
	return gaps, nil
}

// gapShoelace is the signed area of a ring's outline (counter-clockwise
// positive).
func gapShoelace(r Ring) float64 {
	if len(r) < 3 {
		return 0
	}
	o := r[0]
	var s float64
	for i := 1; i+1 < len(r); i++ {
		s += cross(r[i].sub(o), r[i+1].sub(o))
	}
	return s / 2
}

func gapCmpFloat(a, b float64) int {
	switch {
	case a < b:
		return -1
	case a > b:
		return 1
	}
	return 0
}

// gapRingLocator answers point-in-ring queries (even-odd) for one ring,
// looking only at the sides that span the query's horizontal band.
type gapRingLocator struct {
	ring  Ring
	y0, h float64
	start []int32 // CSR: sides of band k are items[start[k]:start[k+1]]
	items []int32
}

func newGapRingLocator(ring Ring) *gapRingLocator {
	l := &gapRingLocator{ring: ring}
	n := len(ring)
	if n < 64 {
		return l
	}
	lo, hi := math.Inf(1), math.Inf(-1)
	for _, p := range ring {
		lo, hi = math.Min(lo, p.Y), math.Max(hi, p.Y)
	}
	bands := int(math.Sqrt(float64(n)))
	l.y0, l.h = lo, (hi-lo)/float64(bands)
	if !(l.h > 0) {
		return l
	}
	band := func(y float64) int { return min(max(int((y-l.y0)/l.h), 0), bands-1) }
	l.start = make([]int32, bands+1)
	for k := range n {
		p, q := ring[k], ring[(k+1)%n]
		for j := band(math.Min(p.Y, q.Y)); j <= band(math.Max(p.Y, q.Y)); j++ {
			l.start[j+1]++
		}
	}
	for j := range bands {
		l.start[j+1] += l.start[j]
	}
	l.items = make([]int32, l.start[bands])
	fill := slices.Clone(l.start[:bands])
	for k := range n {
		p, q := ring[k], ring[(k+1)%n]
		for j := band(math.Min(p.Y, q.Y)); j <= band(math.Max(p.Y, q.Y)); j++ {
			l.items[fill[j]] = int32(k)
			fill[j]++
		}
	}
	return l
}

func (l *gapRingLocator) contains(q Point) bool {
	ring := l.ring
	n := len(ring)
	in := false
	side := func(k int) {
		a, b := ring[k], ring[(k+1)%n]
		if (a.Y > q.Y) != (b.Y > q.Y) && q.X < a.X+(q.Y-a.Y)*(b.X-a.X)/(b.Y-a.Y) {
			in = !in
		}
	}
	if l.start == nil {
		for k := range n {
			side(k)
		}
		return in
	}
	bands := len(l.start) - 1
	j := int((q.Y - l.y0) / l.h)
	if j < 0 || j >= bands {
		if q.Y < l.y0 || q.Y > l.y0+l.h*float64(bands) {
			return false
		}
		j = min(max(j, 0), bands-1)
	}
	for _, k := range l.items[l.start[j]:l.start[j+1]] {
		side(int(k))
	}
	return in
}
