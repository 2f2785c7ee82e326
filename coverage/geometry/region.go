package geometry

import (
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
// rule); it is normalised here.
func NewRegion(polygons []Polygon) (*Region, error) {
	if len(polygons) == 0 {
		return nil, &InvalidError{Polygon: -1, Ring: -1, Reason: "the area has no polygon"}
	}
	r := &Region{min: Point{math.Inf(1), math.Inf(1)}, max: Point{math.Inf(-1), math.Inf(-1)}}
	for pi, poly := range polygons {
		if len(poly) == 0 {
			return nil, &InvalidError{Polygon: pi, Ring: -1, Reason: "polygon has no rings"}
		}
		for ri, ring := range poly {
			if err := checkRing(ring); err != nil {
				return nil, &InvalidError{Polygon: pi, Ring: ri, Reason: err.Error()}
			}
			a := signedArea(ring)
			if a == 0 {
				return nil, &InvalidError{Polygon: pi, Ring: ri, Reason: "ring has zero area"}
			}
			// Outer rings counter-clockwise, holes clockwise: the interior is on the left of every edge.
			reverse := (ri == 0) != (a > 0)
			n := len(ring)
			for i := range n {
				p, q := ring[i], ring[(i+1)%n]
				if reverse {
					p, q = ring[(n-i)%n], ring[n-1-i]
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
	r.grid = newEdgeGrid(r.edges, r.min, r.max)
	if err := r.checkCrossings(); err != nil {
		return nil, err
	}
	if err := r.checkNesting(polygons); err != nil {
		return nil, err
	}
	if !(r.area > 0) {
		return nil, &InvalidError{Polygon: -1, Ring: -1, Reason: "the area has no positive area (holes cover the outer rings)"}
	}
	return r, nil
}

func checkRing(ring Ring) error {
	if len(ring) < 3 {
		return errors.New("ring needs at least 4 positions (3 distinct vertices and the closing one)")
	}
	for i, p := range ring {
		if math.IsNaN(p.X) || math.IsNaN(p.Y) || math.IsInf(p.X, 0) || math.IsInf(p.Y, 0) {
			return fmt.Errorf("position %d is not a finite number", i)
		}
		if q := ring[(i+1)%len(ring)]; p == q {
			return fmt.Errorf("positions %d and %d are the same point (repeated vertex)", i, (i+1)%len(ring))
		}
	}
	return nil
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
// other than neighbours on a ring meeting at their shared vertex.
func (r *Region) checkCrossings() error {
	g := &r.grid
	for c := 0; c < len(g.start)-1; c++ {
		items := g.items[g.start[c]:g.start[c+1]]
		for x := 0; x < len(items); x++ {
			for y := x + 1; y < len(items); y++ {
				i, j := items[x], items[y]
				if p, bad := r.edgesConflict(int(i), int(j)); bad {
					// Report each pair once: in the cell that holds the point.
					ei, ej := r.edges[i], r.edges[j]
					return &InvalidError{
						Polygon: int(ei.polygon), Ring: int(ei.ring),
						OtherPolygon: int(ej.polygon), OtherRing: int(ej.ring),
						Reason: intersectionReason(ei, ej), At: &p,
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

// edgesConflict reports whether edges i and j touch anywhere except at the
// vertex shared by consecutive edges of one ring.
func (r *Region) edgesConflict(i, j int) (Point, bool) {
	e, f := r.edges[i], r.edges[j]
	adjacent := false
	if e.polygon == f.polygon && e.ring == f.ring {
		adjacent = e.b == f.a || f.b == e.a
	}
	d1, d2 := orient(e.a, e.b, f.a), orient(e.a, e.b, f.b)
	d3, d4 := orient(f.a, f.b, e.a), orient(f.a, f.b, e.b)
	if ((d1 > 0 && d2 < 0) || (d1 < 0 && d2 > 0)) && ((d3 > 0 && d4 < 0) || (d3 < 0 && d4 > 0)) {
		t := d3 / (d3 - d4)
		return Point{e.a.X + t*(e.b.X-e.a.X), e.a.Y + t*(e.b.Y-e.a.Y)}, true
	}
	// Touching or collinear overlap: a vertex of one edge lying on the other.
	touches := func(p, a, b Point, o float64) bool { return o == 0 && onSegment(p, a, b) }
	for _, c := range []struct {
		p    Point
		a, b Point
		o    float64
	}{{f.a, e.a, e.b, d1}, {f.b, e.a, e.b, d2}, {e.a, f.a, f.b, d3}, {e.b, f.a, f.b, d4}} {
		if !touches(c.p, c.a, c.b, c.o) {
			continue
		}
		if adjacent && (c.p == e.a || c.p == e.b) && (c.p == f.a || c.p == f.b) {
			// The shared vertex itself; a collinear fold-back is still an overlap.
			if d1 == 0 && d2 == 0 && dot(e.b.sub(e.a), f.b.sub(f.a)) < 0 {
				return c.p, true
			}
			continue
		}
		return c.p, true
	}
	return Point{}, false
}

func onSegment(p, a, b Point) bool {
	return math.Min(a.X, b.X) <= p.X && p.X <= math.Max(a.X, b.X) &&
		math.Min(a.Y, b.Y) <= p.Y && p.Y <= math.Max(a.Y, b.Y)
}

// checkNesting verifies what edge crossings cannot show: every hole lies in
// its outer ring, and no polygon lies inside another (which would count the
// overlap twice).
func (r *Region) checkNesting(polygons []Polygon) error {
	inRing := func(p Point, ring Ring) bool {
		in := false
		for i, j := 0, len(ring)-1; i < len(ring); j, i = i, i+1 {
			a, b := ring[i], ring[j]
			if (a.Y > p.Y) != (b.Y > p.Y) && p.X < a.X+(p.Y-a.Y)*(b.X-a.X)/(b.Y-a.Y) {
				in = !in
			}
		}
		return in
	}
	for pi, poly := range polygons {
		for ri := 1; ri < len(poly); ri++ {
			if !inRing(poly[ri][0], poly[0]) {
				return &InvalidError{Polygon: pi, Ring: ri, Reason: "hole lies outside its polygon's outer ring"}
			}
		}
	}
	if len(polygons) > 1 {
		// A polygon inside another polygon's area (not in one of its holes) overlaps it.
		for pi, poly := range polygons {
			p := poly[0][0]
			for qi, other := range polygons {
				if qi == pi || !inRing(p, other[0]) {
					continue
				}
				inHole := false
				for _, h := range other[1:] {
					if inRing(p, h) {
						inHole = true
						break
					}
				}
				if !inHole {
					return &InvalidError{Polygon: pi, Ring: 0, OtherPolygon: qi, OtherRing: 0,
						Reason: fmt.Sprintf("polygon lies inside polygon %d (polygons of a MultiPolygon must not overlap)", qi)}
				}
			}
		}
	}
	return nil
}

// Contains reports whether p is inside the region (boundary points either way).
func (r *Region) Contains(p Point) bool { return r.grid.contains(r.edges, p) }

// edgeGrid is a uniform grid over the region's edges, with the inside/outside
// state of every cell centre precomputed so that a point-in-region test only
// looks at the edges of one cell.
type edgeGrid struct {
	origin Point
	size   float64
	nx, ny int
	start  []int32 // CSR: edges of cell c are items[start[c]:start[c+1]]
	items  []int32
	inside []bool // cell centre inside the region
}

const maxGridCells = 1 << 22

func newEdgeGrid(edges []edge, min, max Point) edgeGrid {
	w, h := max.X-min.X, max.Y-min.Y
	n := float64(len(edges))
	// About two edges per cell on average, within a cell budget.
	size := math.Sqrt(w*h/n) * 1.5
	if size <= 0 || math.IsNaN(size) {
		size = math.Max(w, h) / 16
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
	visit := func(fn func(cell int, e int32)) {
		for i, e := range edges {
			g.supercover(e.a, e.b, func(cx, cy int) { fn(cy*g.nx+cx, int32(i)) })
		}
	}
	visit(func(c int, _ int32) { g.start[c+1]++ })
	for c := 0; c < cells; c++ {
		g.start[c+1] += g.start[c]
	}
	g.items = make([]int32, g.start[cells])
	fill := slices.Clone(g.start[:cells])
	visit(func(c int, e int32) { g.items[fill[c]] = e; fill[c]++ })
	g.computeInside(edges)
	return g
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
			x0, _ = g.cellOf(Point{math.Min(xa, xb), lo})
			x1, _ = g.cellOf(Point{math.Max(xa, xb), lo})
			// Guard against rounding at cell borders.
			x0, x1 = x0-1, x1+1
		}
		for cx := g.clampX(x0); cx <= g.clampX(x1); cx++ {
			fn(cx, g.clampY(cy))
		}
	}
}

// computeInside sets the state of every cell centre by sweeping a horizontal
// line through each row of centres.
func (g *edgeGrid) computeInside(edges []edge) {
	g.inside = make([]bool, g.nx*g.ny)
	stamp := make([]int32, len(edges))
	var xs []float64
	for cy := 0; cy < g.ny; cy++ {
		y := g.origin.Y + (float64(cy)+0.5)*g.size
		xs = xs[:0]
		for cx := 0; cx < g.nx; cx++ {
			c := cy*g.nx + cx
			for _, e := range g.items[g.start[c]:g.start[c+1]] {
				if stamp[e] == int32(cy+1) {
					continue
				}
				stamp[e] = int32(cy + 1)
				a, b := edges[e].a, edges[e].b
				if (a.Y > y) != (b.Y > y) {
					xs = append(xs, a.X+(y-a.Y)*(b.X-a.X)/(b.Y-a.Y))
				}
			}
		}
		sort.Float64s(xs)
		k := 0
		for cx := 0; cx < g.nx; cx++ {
			x := g.origin.X + (float64(cx)+0.5)*g.size
			for k < len(xs) && xs[k] < x {
				k++
			}
			g.inside[cy*g.nx+cx] = k%2 == 1
		}
	}
}

// contains tests p against the region: the state of its cell's centre,
// flipped once per edge crossed on the way from the centre to p.
func (g *edgeGrid) contains(edges []edge, p Point) bool {
	cx, cy := g.cellOf(p)
	if cx < 0 || cy < 0 || cx >= g.nx || cy >= g.ny {
		return false
	}
	c := cy*g.nx + cx
	q := Point{g.origin.X + (float64(cx)+0.5)*g.size, g.origin.Y + (float64(cy)+0.5)*g.size}
	in := g.inside[c]
	for _, i := range g.items[g.start[c]:g.start[c+1]] {
		a, b := edges[i].a, edges[i].b
		if (orient(q, p, a) > 0) != (orient(q, p, b) > 0) && (orient(a, b, q) > 0) != (orient(a, b, p) > 0) {
			in = !in
		}
	}
	return in
}
