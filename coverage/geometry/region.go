package geometry

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"sort"
)

// Point is a position in the plane, in metres.
type Point struct{ X, Y float64 }

func (p Point) sub(q Point) Point { return Point{p.X - q.X, p.Y - q.Y} }

func cross(a, b Point) float64 { return a.X*b.Y - a.Y*b.X }

func dot(a, b Point) float64 { return a.X*b.X + a.Y*b.Y }

// orient is twice the signed area of triangle abc: > 0 when c is left of a→b.
func orient(a, b, c Point) float64 { return cross(b.sub(a), c.sub(a)) }

// Ring is a closed ring of at least three distinct vertices; the closing
// vertex (equal to the first) is not repeated.
type Ring []Point

// Polygon is an outer ring followed by its holes.
type Polygon []Ring

// InvalidError describes why a region is not a valid polygonal area. Polygon
// and Ring index the offending ring in the input (-1 when not about one ring);
// At is where the problem is, for self-intersections.
type InvalidError struct {
	Polygon, Ring int
	Reason        string
	At            *Point
	// Other names the second ring of an intersection between two rings.
	OtherPolygon, OtherRing int
}

func (e *InvalidError) Error() string {
	s := e.Reason
	if e.At != nil {
		s += fmt.Sprintf(" at (%.6f, %.6f)", e.At.X, e.At.Y)
	}
	if e.Polygon >= 0 {
		s = fmt.Sprintf("polygon %d ring %d: %s", e.Polygon, e.Ring, s)
	}
	return s
}

// edge is a boundary edge oriented with the region's interior on its left.
type edge struct {
	a, b          Point
	polygon, ring int32
}

// Region is a validated polygonal area: outer rings counter-clockwise, holes
// clockwise, no two edges crossing. It is immutable and safe for concurrent use.
type Region struct {
	edges []edge
	area  float64
	min   Point
	max   Point
	grid  edgeGrid
	rings int
}

// NewRegion validates and indexes the polygons. Ring orientation in the input
// does not matter (RFC 7946 asks for, but does not require, the right-hand
// rule); it is normalised here. Polygons may share borders, as adjacent
// districts do: an edge traversed once in each direction is interior to the
// union and is dropped, which leaves the area and every integral unchanged.
func NewRegion(polygons []Polygon) (*Region, error) {
	return NewRegionContext(context.Background(), polygons)
}

// NewRegionContext is NewRegion that stops early, returning the context's
// error (context.Canceled or context.DeadlineExceeded, unwrapped) once ctx
// is done. Building the region of a million vertices takes about a second;
// ctx is checked every cancelWork steps of every phase, and the longest
// stretch without a check is a few milliseconds (the first passes over a
// ring, the grid's allocations), so an abandoned caller frees the CPU at
// once. TestCancelledNewRegionStopsPromptly measures it.
func NewRegionContext(ctx context.Context, polygons []Polygon) (*Region, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cc := &canceller{ctx: ctx}
	if len(polygons) == 0 {
		return nil, &InvalidError{Polygon: -1, Ring: -1, Reason: "the area has no polygon"}
	}
	r := &Region{min: Point{math.Inf(1), math.Inf(1)}, max: Point{math.Inf(-1), math.Inf(-1)}}
	vertices := 0
	for _, poly := range polygons {
		for _, ring := range poly {
			vertices += len(ring)
		}
	}
	r.edges = make([]edge, 0, vertices)
	var zeroArea *InvalidError
	var probes []ringProbe
	for pi, poly := range polygons {
		if len(poly) == 0 {
			return nil, &InvalidError{Polygon: pi, Ring: -1, Reason: "polygon has no rings"}
		}
		for ri, ring := range poly {
			// checkRing, signedArea and collinear are not interrupted: plain
			// passes over the ring, a few milliseconds for a million vertices.
			if err := cc.tick(len(ring)); err != nil {
				return nil, err
			}
			if err := checkRing(ring); err != nil {
				return nil, &InvalidError{Polygon: pi, Ring: ri, Reason: err.Error()}
			}
			a := signedArea(ring)
			if a == 0 {
				if collinear(ring) {
					return nil, &InvalidError{Polygon: pi, Ring: ri, Reason: "ring has zero area: all its vertices lie on one line"}
				}
				if zeroArea == nil {
					// Reported after the crossing check: a symmetric bow tie has
					// zero area too, and its crossing is the better diagnosis.
					zeroArea = &InvalidError{Polygon: pi, Ring: ri, Reason: "ring has zero area"}
				}
			}
			// Outer rings counter-clockwise, holes clockwise: the interior is on the left of every edge.
			reverse := (ri == 0) != (a > 0)
			n := len(ring)
			for i := range n {
				if i%cancelStride == cancelStride-1 {
					if err := cc.tick(cancelStride); err != nil {
						return nil, err
					}
				}
				p, q := ring[i], ring[(i+1)%n]
				if reverse {
					p, q = ring[(n-i)%n], ring[n-1-i]
				}
				if i == 0 {
					probes = append(probes, ringProbe{polygon: pi, ring: ri, a: p, b: q})
				}
				r.edges = append(r.edges, edge{a: p, b: q, polygon: int32(pi), ring: int32(ri)})
				r.min.X, r.min.Y = math.Min(r.min.X, p.X), math.Min(r.min.Y, p.Y)
				r.max.X, r.max.Y = math.Max(r.max.X, p.X), math.Max(r.max.Y, p.Y)
			}
			if ri == 0 {
				r.area += math.Abs(a)
			} else {
				r.area -= math.Abs(a)
			}
			r.rings++
		}
	}
	var err error
	if r.edges, err = dropSharedEdges(cc, r.edges); err != nil {
		return nil, err
	}
	if len(r.edges) == 0 {
		return nil, &InvalidError{Polygon: -1, Ring: -1, Reason: "the area has no boundary: every edge is shared by two rings in opposite directions"}
	}
	if r.grid, err = newEdgeGrid(cc, r.edges, r.min, r.max); err != nil {
		return nil, err
	}
	if err := r.checkCrossings(cc); err != nil {
		return nil, err
	}
	if zeroArea != nil {
		return nil, zeroArea
	}
	if err := r.checkNesting(cc, probes); err != nil {
		return nil, err
	}
	if !(r.area > 0) {
		return nil, &InvalidError{Polygon: -1, Ring: -1, Reason: "the area has no positive area (holes cover the outer rings)"}
	}
	return r, nil
}

// cancelWork is how many steps of work NewRegionContext (and Cover's pass
// over the edges) does between checks for cancellation. A step is a vertex,
// a comparison of the sort, an edge visited or a pair of edges tested: from
// a few to about a hundred nanoseconds, so the steps between two checks
// take 2 ms or less, and the checks (an atomic load each) cost nothing
// measurable.
const cancelWork = 1 << 14

// cancelStride is how many iterations of a cheap inner loop run between
// calls of canceller.tick: counting each one would cost more than the
// iteration itself.
const cancelStride = 1024

// canceller checks a context for cancellation once every cancelWork steps.
type canceller struct {
	ctx  context.Context
	work int
}

// tick counts n steps of work and, when cancelWork have been done since the
// last check, returns the context's error.
func (c *canceller) tick(n int) error {
	c.work += n
	if c.work < cancelWork {
		return nil
	}
	c.work = 0
	return c.ctx.Err()
}

// sortCancelled carries the context's error out of a sort, which has no
// other way out of its comparisons than a panic.
type sortCancelled struct{ err error }

// dropSharedEdges removes each pair of edges that run between the same two
// vertices in opposite directions: a border shared by two polygons, or a
// spike that goes out and comes back. Sorting (rather than hashing) keeps the
// extra memory to one index per edge. It stops with the context's error
// when c's context is done.
func dropSharedEdges(c *canceller, edges []edge) (kept []edge, err error) {
	type key struct{ lo, hi Point }
	less := func(p, q Point) bool { return p.X < q.X || (p.X == q.X && p.Y < q.Y) }
	keyOf := func(e edge) (key, bool) {
		if less(e.a, e.b) {
			return key{e.a, e.b}, true
		}
		return key{e.b, e.a}, false
	}
	order := make([]int32, len(edges))
	for i := range order {
		order[i] = int32(i)
	}
	defer func() {
		if r := recover(); r != nil {
			sc, ok := r.(sortCancelled)
			if !ok {
				panic(r)
			}
			kept, err = nil, sc.err
		}
	}()
	// A million edges take about 20 million comparisons, a third of a second.
	sort.Slice(order, func(i, j int) bool {
		if err := c.tick(1); err != nil {
			panic(sortCancelled{err})
		}
		ki, _ := keyOf(edges[order[i]])
		kj, _ := keyOf(edges[order[j]])
		if ki.lo != kj.lo {
			return less(ki.lo, kj.lo)
		}
		return less(ki.hi, kj.hi)
	})
	drop := make([]bool, len(edges))
	dropped := 0
	var fwd, back []int32
	for i := 0; i < len(order); {
		k, _ := keyOf(edges[order[i]])
		j := i
		fwd, back = fwd[:0], back[:0]
		for ; j < len(order); j++ {
			kj, forward := keyOf(edges[order[j]])
			if kj != k {
				break
			}
			if forward {
				fwd = append(fwd, order[j])
			} else {
				back = append(back, order[j])
			}
		}
		for n := 0; n < len(fwd) && n < len(back); n++ {
			drop[fwd[n]], drop[back[n]] = true, true
			dropped += 2
		}
		if err := c.tick(j - i); err != nil {
			return nil, err
		}
		i = j
	}
	if dropped == 0 {
		return edges, nil
	}
	kept = make([]edge, 0, len(edges)-dropped)
	for i, e := range edges {
		if !drop[i] {
			kept = append(kept, e)
		}
	}
	return kept, nil
}

// ringProbe is the first edge of a ring, oriented with the region's interior
// on its left, used to check how the ring is nested.
type ringProbe struct {
	polygon, ring int
	a, b          Point
}

// maxCoordinate bounds planar coordinates (a million km) so that products
// of coordinates stay far from overflow and the grid arithmetic is exact.
const maxCoordinate = 1e9

func checkRing(ring Ring) error {
	if len(ring) < 3 {
		return errors.New("ring needs at least 4 positions (3 distinct vertices and the closing one)")
	}
	for i, p := range ring {
		if math.IsNaN(p.X) || math.IsNaN(p.Y) || math.IsInf(p.X, 0) || math.IsInf(p.Y, 0) {
			return fmt.Errorf("position %d is not a finite number", i)
		}
		if math.Abs(p.X) > maxCoordinate || math.Abs(p.Y) > maxCoordinate {
			return fmt.Errorf("position %d is more than %g m from the origin", i, maxCoordinate)
		}
		if q := ring[(i+1)%len(ring)]; p == q {
			return fmt.Errorf("positions %d and %d are the same point (repeated vertex)", i, (i+1)%len(ring))
		}
	}
	return nil
}

func collinear(ring Ring) bool {
	for i := 2; i < len(ring); i++ {
		if orient(ring[0], ring[1], ring[i]) != 0 {
			return false
		}
	}
	return true
}

func signedArea(ring Ring) float64 {
	// Relative to the first vertex, to keep precision far from the origin.
	o := ring[0]
	var s float64
	for i := 1; i+1 < len(ring); i++ {
		s += cross(ring[i].sub(o), ring[i+1].sub(o))
	}
	return s / 2
}

// Area is the region's area in square metres.
func (r *Region) Area() float64 { return r.area }

// Bounds is the region's bounding box.
func (r *Region) Bounds() (min, max Point) { return r.min, r.max }

// Vertices is the number of vertices of all rings.
func (r *Region) Vertices() int { return len(r.edges) }

// checkCrossings reports the first pair of edges that cross or overlap,
// other than neighbours on a ring meeting at their shared vertex, or the
// context's error when cc's context is done.
func (r *Region) checkCrossings(cc *canceller) error {
	g := &r.grid
	for c := 0; c < len(g.start)-1; c++ {
		if err := cc.tick(1); err != nil {
			return err
		}
		items := g.items[g.start[c]:g.start[c+1]]
		for x := 0; x < len(items); x++ {
			// Counted by pairs: a cell may hold many edges, as where a
			// detailed stretch of boundary meets a coarse one.
			if err := cc.tick(len(items) - x - 1); err != nil {
				return err
			}
			for y := x + 1; y < len(items); y++ {
				i, j := items[x], items[y]
				if p, bad := r.edgesConflict(int(i), int(j)); bad {
					ei, ej := r.edges[i], r.edges[j]
					at := p // a copy, so p itself stays on the stack in this hot loop
					return &InvalidError{
						Polygon: int(ei.polygon), Ring: int(ei.ring),
						OtherPolygon: int(ej.polygon), OtherRing: int(ej.ring),
						Reason: intersectionReason(ei, ej), At: &at,
					}
				}
			}
		}
	}
	return nil
}

func intersectionReason(a, b edge) string {
	if a.polygon == b.polygon && a.ring == b.ring {
		return "ring intersects itself"
	}
	return fmt.Sprintf("ring intersects polygon %d ring %d", b.polygon, b.ring)
}

// edgesConflict reports whether edges i and j cross or overlap. Edges may
// meet at a shared vertex: consecutive edges of a ring, and edges of
// different rings (polygons that touch at a corner, or the ends of a border
// they share). A vertex lying inside another edge (a T-junction, as when two
// adjacent polygons do not share the vertices of their common border) and a
// ring touching itself are refused.
func (r *Region) edgesConflict(i, j int) (Point, bool) {
	e, f := r.edges[i], r.edges[j]
	sameRing := e.polygon == f.polygon && e.ring == f.ring
	adjacent := sameRing && (e.b == f.a || f.b == e.a)
	d1, d2 := orient(e.a, e.b, f.a), orient(e.a, e.b, f.b)
	d3, d4 := orient(f.a, f.b, e.a), orient(f.a, f.b, e.b)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		t := d3 / (d3 - d4)
		return Point{e.a.X + t*(e.b.X-e.a.X), e.a.Y + t*(e.b.Y-e.a.Y)}, true
	}
	if d1 == 0 && d2 == 0 {
		// Collinear: they overlap unless their extents meet in at most one point.
		dir := e.b.sub(e.a)
		l := dot(dir, dir)
		t0, t1 := dot(f.a.sub(e.a), dir)/l, dot(f.b.sub(e.a), dir)/l
		lo, hi := math.Max(math.Min(t0, t1), 0), math.Min(math.Max(t0, t1), 1)
		if hi > lo {
			return Point{e.a.X + lo*dir.X, e.a.Y + lo*dir.Y}, true
		}
	}
	// An array, not a slice: this runs for every pair of edges in a cell and must not allocate.
	touches := [4]struct {
		p    Point
		a, b Point
		o    float64
	}{{f.a, e.a, e.b, d1}, {f.b, e.a, e.b, d2}, {e.a, f.a, f.b, d3}, {e.b, f.a, f.b, d4}}
	for _, c := range touches {
		if c.o != 0 || !onSegment(c.p, c.a, c.b) {
			continue
		}
		sharedVertex := (c.p == e.a || c.p == e.b) && (c.p == f.a || c.p == f.b)
		if !sharedVertex || (sameRing && !adjacent) {
			return c.p, true
		}
	}
	return Point{}, false
}

func onSegment(p, a, b Point) bool {
	return math.Min(a.X, b.X) <= p.X && p.X <= math.Max(a.X, b.X) &&
		math.Min(a.Y, b.Y) <= p.Y && p.Y <= math.Max(a.Y, b.Y)
}

// checkNesting verifies what edge crossings cannot show: every hole lies in
// its outer ring, no two holes overlap, and no polygon lies inside another
// (which would count the overlap twice). A point just inside each ring, next
// to its first edge, must be inside the region by the even-odd rule; it is
// not when the ring is nested wrongly.
func (r *Region) checkNesting(cc *canceller, probes []ringProbe) error {
	for _, pr := range probes {
		if err := cc.tick(1); err != nil {
			return err
		}
		d := pr.b.sub(pr.a)
		// A nudge of a millionth of the edge: far above rounding, far below any real feature.
		left := Point{-d.Y * 1e-6, d.X * 1e-6}
		p := Point{(pr.a.X+pr.b.X)/2 + left.X, (pr.a.Y+pr.b.Y)/2 + left.Y}
		if r.Contains(p) {
			continue
		}
		reason := "polygon overlaps or lies inside another polygon of the area (polygons must not overlap)"
		if pr.ring > 0 {
			reason = "hole lies outside its polygon's outer ring or overlaps another hole"
		}
		return &InvalidError{Polygon: pr.polygon, Ring: pr.ring, OtherPolygon: -1, OtherRing: -1, Reason: reason}
	}
	return nil
}

// Contains reports whether p is inside the region (boundary points either way).
func (r *Region) Contains(p Point) bool { return r.grid.contains(r.edges, p) }

// edgeGrid is a uniform grid over the region's edges, with the inside/outside
// state of a reference point in every cell precomputed so that a
// point-in-region test only looks at the edges of one cell.
type edgeGrid struct {
	origin Point
	size   float64
	nx, ny int
	start  []int32 // CSR: edges of cell c are items[start[c]:start[c+1]]
	items  []int32
	inside []bool    // the cell's reference point is inside the region
	ref    []uint8   // which refFractions entry places the cell's reference point
	rowY   []float64 // the sweep line of each row
}

const maxGridCells = 1 << 22

// newEdgeGrid builds the grid, or returns the context's error when cc's
// context is done.
func newEdgeGrid(cc *canceller, edges []edge, min, max Point) (edgeGrid, error) {
	w, h := max.X-min.X, max.Y-min.Y
	n := float64(len(edges))
	// About two edges per cell on average, within a cell budget.
	size := math.Sqrt(w*h/n) * 0.6
	if size <= 0 || math.IsNaN(size) {
		size = math.Max(w, h) / 16
	}
	if m := math.Max(w, h); !(size >= m*1e-6) {
		// Very thin regions: keep the grid from growing along the thin side.
		size = m * 1e-6
	}
	for (w/size+2)*(h/size+2) > maxGridCells {
		size *= 1.5
	}
	// The origin is offset by an irregular fraction of a cell so that cell
	// centres do not fall on the axis-aligned edges common in test shapes.
	g := edgeGrid{size: size}
	g.origin = Point{min.X - size*0.5371, min.Y - size*0.4629}
	g.nx = int((max.X-g.origin.X)/size) + 1
	g.ny = int((max.Y-g.origin.Y)/size) + 1
	cells := g.nx * g.ny
	g.start = make([]int32, cells+1)
	// visit calls fn for every cell that edges lo to hi pass through. It is
	// kept small enough to inline, with fn, into the loops below: a call
	// per cell through a closure is a twentieth of the region's time.
	visit := func(lo, hi int, fn func(cell int, e int32)) {
		for i := lo; i < hi; i++ {
			g.supercover(edges[i].a, edges[i].b, func(cx, cy int) { fn(cy*g.nx+cx, int32(i)) })
		}
	}
	// By chunks of edges, each counted with the cells it visits (a long
	// edge crosses many), with a check for cancellation between chunks.
	const chunk = 256
	visited := 0
	end := func(lo int) int { // min(lo+chunk, len(edges)), with min shadowed here
		if lo+chunk < len(edges) {
			return lo + chunk
		}
		return len(edges)
	}
	for lo := 0; lo < len(edges); lo += chunk {
		visit(lo, end(lo), func(c int, _ int32) { g.start[c+1]++; visited++ })
		if err := cc.tick(chunk + visited); err != nil {
			return edgeGrid{}, err
		}
		visited = 0
	}
	for c := 0; c < cells; c++ {
		g.start[c+1] += g.start[c]
	}
	g.items = make([]int32, g.start[cells])
	fill := slices.Clone(g.start[:cells])
	for lo := 0; lo < len(edges); lo += chunk {
		visit(lo, end(lo), func(c int, e int32) { g.items[fill[c]] = e; fill[c]++; visited++ })
		if err := cc.tick(chunk + visited); err != nil {
			return edgeGrid{}, err
		}
		visited = 0
	}
	if err := g.computeInside(cc, edges); err != nil {
		return edgeGrid{}, err
	}
	return g, nil
}

func (g *edgeGrid) cellOf(p Point) (int, int) {
	return int(math.Floor((p.X - g.origin.X) / g.size)), int(math.Floor((p.Y - g.origin.Y) / g.size))
}

func (g *edgeGrid) clampX(x int) int { return min(max(x, 0), g.nx-1) }
func (g *edgeGrid) clampY(y int) int { return min(max(y, 0), g.ny-1) }

// supercover calls fn for every cell the segment a→b passes through (and
// possibly a few neighbours where it runs along a cell border).
func (g *edgeGrid) supercover(a, b Point, fn func(cx, cy int)) {
	ax, ay := g.cellOf(a)
	bx, by := g.cellOf(b)
	y0, y1 := min(ay, by), max(ay, by)
	for cy := y0; cy <= y1; cy++ {
		var x0, x1 int
		if y0 == y1 {
			x0, x1 = min(ax, bx), max(ax, bx)
		} else {
			// The segment's x-range within this row's y-band.
			lo := g.origin.Y + float64(cy)*g.size
			hi := lo + g.size
			t0 := (lo - a.Y) / (b.Y - a.Y)
			t1 := (hi - a.Y) / (b.Y - a.Y)
			if t0 > t1 {
				t0, t1 = t1, t0
			}
			t0, t1 = math.Max(t0, 0), math.Min(t1, 1)
			xa := a.X + t0*(b.X-a.X)
			xb := a.X + t1*(b.X-a.X)
			// A margin far above the rounding of xa and xb, far below a cell.
			eps := 1e-9 * g.size
			x0, _ = g.cellOf(Point{min(xa, xb) - eps, lo})
			x1, _ = g.cellOf(Point{max(xa, xb) + eps, lo})
		}
		for cx := g.clampX(x0); cx <= g.clampX(x1); cx++ {
			fn(cx, g.clampY(cy))
		}
	}
}

// refFractions are the places, as fractions of a cell's width, where a
// cell's reference point may sit on its row's sweep line; the first that no
// edge passes through is used.
var refFractions = [...]float64{0.5, 0.3125, 0.6875, 0.1875, 0.8125, 0.4375, 0.5625, 0.0625, 0.9375}

// computeInside finds, for every cell, a reference point on a horizontal
// sweep line through its row that no edge passes through, and whether that
// point is inside the region (the parity of the crossings to its left).
// Avoiding edges through the reference point matters: the test in contains
// would otherwise start from an ambiguous state and be wrong for the whole
// cell. It returns the context's error when cc's context is done.
func (g *edgeGrid) computeInside(cc *canceller, edges []edge) error {
	g.inside = make([]bool, g.nx*g.ny)
	g.ref = make([]uint8, g.nx*g.ny)
	g.rowY = make([]float64, g.ny)
	stamp := make([]int32, len(edges))
	var xs []float64
	var rowEdges []int32
	for cy := 0; cy < g.ny; cy++ {
		rowEdges = rowEdges[:0]
		for cx := 0; cx < g.nx; cx++ {
			c := cy*g.nx + cx
			// Within the row too: a thin region's grid may be one row of a
			// million cells.
			if cx%cancelStride == cancelStride-1 {
				if err := cc.tick(cancelStride); err != nil {
					return err
				}
			}
			for _, e := range g.items[g.start[c]:g.start[c+1]] {
				if stamp[e] != int32(cy+1) {
					stamp[e] = int32(cy + 1)
					rowEdges = append(rowEdges, e)
				}
			}
		}
		// A sweep line through no vertex, so no edge lies along it.
		lo := g.origin.Y + float64(cy)*g.size
		y := lo + 0.5*g.size
		for _, f := range refFractions {
			y = lo + f*g.size
			clear := true
			for _, e := range rowEdges {
				if edges[e].a.Y == y || edges[e].b.Y == y {
					clear = false
					break
				}
			}
			if clear {
				break
			}
		}
		g.rowY[cy] = y
		xs = xs[:0]
		for _, e := range rowEdges {
			a, b := edges[e].a, edges[e].b
			if (a.Y > y) != (b.Y > y) {
				xs = append(xs, a.X+(y-a.Y)*(b.X-a.X)/(b.Y-a.Y))
			}
		}
		sort.Float64s(xs)
		margin := 1e-6 * g.size
		// The row's edges and their sort; its cells are counted below.
		if err := cc.tick(len(rowEdges)); err != nil {
			return err
		}
		for cx := 0; cx < g.nx; cx++ {
			if cx%cancelStride == cancelStride-1 {
				if err := cc.tick(cancelStride); err != nil {
					return err
				}
			}
			left := g.origin.X + float64(cx)*g.size
			choice := 0
			for i, f := range refFractions {
				x := left + f*g.size
				k := sort.SearchFloat64s(xs, x)
				near := (k < len(xs) && xs[k]-x < margin) || (k > 0 && x-xs[k-1] < margin)
				if !near {
					choice = i
					break
				}
			}
			x := left + refFractions[choice]*g.size
			c := cy*g.nx + cx
			g.ref[c] = uint8(choice)
			g.inside[c] = sort.SearchFloat64s(xs, x)%2 == 1
		}
	}
	return nil
}

// refPoint is the reference point of cell (cx, cy).
func (g *edgeGrid) refPoint(cx, cy int) Point {
	return Point{g.origin.X + (float64(cx)+refFractions[g.ref[cy*g.nx+cx]])*g.size, g.rowY[cy]}
}

// contains tests p against the region: the state of its cell's centre,
// flipped once per edge crossed on the way from the centre to p.
func (g *edgeGrid) contains(edges []edge, p Point) bool {
	cx, cy := g.cellOf(p)
	if cx < 0 || cy < 0 || cx >= g.nx || cy >= g.ny {
		return false
	}
	c := cy*g.nx + cx
	q := g.refPoint(cx, cy)
	in := g.inside[c]
	lo := Point{min(q.X, p.X), min(q.Y, p.Y)}
	hi := Point{max(q.X, p.X), max(q.Y, p.Y)}
	for _, i := range g.items[g.start[c]:g.start[c+1]] {
		a, b := edges[i].a, edges[i].b
		if max(a.X, b.X) < lo.X || min(a.X, b.X) > hi.X || max(a.Y, b.Y) < lo.Y || min(a.Y, b.Y) > hi.Y {
			continue // cannot cross the segment q→p
		}
		if (orient(q, p, a) > 0) != (orient(q, p, b) > 0) && (orient(a, b, q) > 0) != (orient(a, b, p) > 0) {
			in = !in
		}
	}
	return in
}
