package geometry

import (
	"context"
	"math"
	"math/rand/v2"
	"slices"
	"sort"
	"strconv"
	"testing"
)

// This file holds an estimator of area(∪ disks ∩ A) that shares no code with
// the package: it integrates, over y, the exact covered length of the
// horizontal line at y,
//
//	f(y) = |(∪ disk chords at y) ∩ (A's chords at y)|,
//
// where A's chords come from the even-odd rule over the crossings of all ring
// edges with the line, and each disk chord is [cx − √(r²−(y−cy)²), cx + √(…)].
//
// Breakpoints. f is split at every y where its formula can change: vertex ys,
// circle tops and bottoms (cy ± r), the ys of circle–circle intersection
// points, and the ys of circle–edge intersection points. Between two
// consecutive breakpoints the order of all chord endpoints is fixed, so f is a
// fixed sum of ±√(r²−(y−cy)²) and linear terms: analytic in the open piece,
// with at worst square-root branch points at the piece's ends (a circle's top
// or bottom). The substitution y = m + h·sin θ, θ ∈ [−π/2, π/2], turns those
// end singularities into analytic behaviour, so Gauss–Legendre quadrature in θ
// converges geometrically on every piece.
//
// Error bound. Each piece is integrated with 12- and 24-point Gauss–Legendre
// rules; when they differ by more than the piece's share of the tolerance
// (estTolRel · area(A) · length/total length) the piece is bisected (a branch
// point just outside a piece, e.g. a nearly tangent pair, needs this). For
// analytic integrands the 24-point error is far below the 12/24 difference, so
// the returned error estimate E = Σ|I24 − I12| bounds the quadrature error; we
// require E ≤ estTolRel·area(A) = 1e-11·area(A), and floating-point rounding
// adds ≲ 1e-13·area(A). The tests therefore assert
//
//	|exact − estimate| ≤ estAssertRel · area(A) = 1e-8 · area(A),
//
// which leaves a margin of 1000× over the estimator's own bound (and is much
// stricter than the 1e-6 that would still catch any real geometric mistake).
const (
	estTolRel    = 1e-11
	estAssertRel = 1e-8
)

var glNodes12, glWeights12 = gaussLegendre(12)
var glNodes24, glWeights24 = gaussLegendre(24)

// gaussLegendre returns the n-point nodes and weights on [−1, 1] (Newton
// iteration on the Legendre polynomial from the Chebyshev guess).
func gaussLegendre(n int) ([]float64, []float64) {
	x := make([]float64, n)
	w := make([]float64, n)
	for i := 0; i < (n+1)/2; i++ {
		z := math.Cos(math.Pi * (float64(i) + 0.75) / (float64(n) + 0.5))
		var dp float64
		for iter := 0; iter < 100; iter++ {
			p0, p1 := 1.0, z
			for k := 2; k <= n; k++ {
				p0, p1 = p1, ((2*float64(k)-1)*z*p1-(float64(k)-1)*p0)/float64(k)
			}
			// p1 = P_n(z), p0 = P_{n−1}(z).
			dp = float64(n) * (z*p1 - p0) / (z*z - 1)
			dz := p1 / dp
			z -= dz
			if math.Abs(dz) < 1e-16 {
				break
			}
		}
		x[i], x[n-1-i] = -z, z
		w[i] = 2 / ((1 - z*z) * dp * dp)
		w[n-1-i] = w[i]
	}
	return x, w
}

type scanEstimator struct {
	edges  [][2]Point
	stops  []Point
	r      float64
	area   float64 // even-odd area of A, by the shoelace formula per ring
	ymin   float64
	ymax   float64
	xsBuf  []float64
	chords []interval
}

func newScanEstimator(polys []Polygon, stops []Point, r float64) *scanEstimator {
	e := &scanEstimator{r: r, ymin: math.Inf(1), ymax: math.Inf(-1)}
	for _, p := range polys {
		for ri, ring := range p {
			var s float64
			for i := range ring {
				a, b := ring[i], ring[(i+1)%len(ring)]
				e.edges = append(e.edges, [2]Point{a, b})
				s += (a.X-ring[0].X)*(b.Y-ring[0].Y) - (b.X-ring[0].X)*(a.Y-ring[0].Y)
				e.ymin = math.Min(e.ymin, a.Y)
				e.ymax = math.Max(e.ymax, a.Y)
			}
			if ri == 0 {
				e.area += math.Abs(s) / 2
			} else {
				e.area -= math.Abs(s) / 2
			}
		}
	}
	// Stops whose disk cannot meet A's y-range are irrelevant.
	for _, c := range stops {
		if c.Y+r > e.ymin && c.Y-r < e.ymax {
			e.stops = append(e.stops, c)
		}
	}
	return e
}

// covered is f(y).
func (e *scanEstimator) covered(y float64) float64 {
	xs := e.xsBuf[:0]
	for _, ed := range e.edges {
		a, b := ed[0], ed[1]
		if (a.Y > y) != (b.Y > y) {
			xs = append(xs, a.X+(y-a.Y)*(b.X-a.X)/(b.Y-a.Y))
		}
	}
	e.xsBuf = xs
	if len(xs) < 2 {
		return 0
	}
	sort.Float64s(xs)
	ch := e.chords[:0]
	r2 := e.r * e.r
	for _, c := range e.stops {
		dy := y - c.Y
		if h2 := r2 - dy*dy; h2 > 0 {
			h := math.Sqrt(h2)
			ch = append(ch, interval{c.X - h, c.X + h})
		}
	}
	e.chords = ch
	if len(ch) == 0 {
		return 0
	}
	slices.SortFunc(ch, func(a, b interval) int {
		switch {
		case a.lo < b.lo:
			return -1
		case a.lo > b.lo:
			return 1
		}
		return 0
	})
	// Merge the disk chords in place.
	m := 0
	for _, iv := range ch[1:] {
		if iv.lo <= ch[m].hi {
			ch[m].hi = math.Max(ch[m].hi, iv.hi)
		} else {
			m++
			ch[m] = iv
		}
	}
	ch = ch[:m+1]
	// Measure of (∪ chords) ∩ (A's chords): both lists sorted and disjoint.
	var total float64
	i, j := 0, 0
	for i+1 < len(xs) && j < len(ch) {
		lo := math.Max(xs[i], ch[j].lo)
		hi := math.Min(xs[i+1], ch[j].hi)
		if hi > lo {
			total += hi - lo
		}
		if xs[i+1] < ch[j].hi {
			i += 2
		} else {
			j++
		}
	}
	return total
}

// breakpoints lists, sorted and clipped to the relevant y-range, every y at
// which f may fail to be analytic.
func (e *scanEstimator) breakpoints() []float64 {
	lo, hi := e.ymin, e.ymax
	if len(e.stops) == 0 {
		return nil
	}
	dlo, dhi := math.Inf(1), math.Inf(-1)
	for _, c := range e.stops {
		dlo = math.Min(dlo, c.Y-e.r)
		dhi = math.Max(dhi, c.Y+e.r)
	}
	lo, hi = math.Max(lo, dlo), math.Min(hi, dhi)
	if !(hi > lo) {
		return nil
	}
	ys := []float64{lo, hi}
	add := func(y float64) {
		if y > lo && y < hi {
			ys = append(ys, y)
		}
	}
	for _, ed := range e.edges {
		add(ed[0].Y)
	}
	r := e.r
	for i, c := range e.stops {
		add(c.Y - r)
		add(c.Y + r)
		// Circle–edge intersections.
		for _, ed := range e.edges {
			a, b := ed[0], ed[1]
			dx, dy := b.X-a.X, b.Y-a.Y
			fx, fy := a.X-c.X, a.Y-c.Y
			A := dx*dx + dy*dy
			B := 2 * (fx*dx + fy*dy)
			C := fx*fx + fy*fy - r*r
			disc := B*B - 4*A*C
			if disc < 0 {
				continue
			}
			sq := math.Sqrt(disc)
			for _, t := range []float64{(-B - sq) / (2 * A), (-B + sq) / (2 * A)} {
				if t >= 0 && t <= 1 {
					add(a.Y + t*dy)
				}
			}
		}
		// Circle–circle intersections.
		for _, d := range e.stops[i+1:] {
			vx, vy := d.X-c.X, d.Y-c.Y
			dist := math.Hypot(vx, vy)
			if dist == 0 || dist >= 2*r {
				continue
			}
			h := math.Sqrt(r*r - dist*dist/4)
			my := c.Y + vy/2
			add(my + h*vx/dist)
			add(my - h*vx/dist)
		}
	}
	sort.Float64s(ys)
	return slices.Compact(ys)
}

// estimate returns ∫ f(y) dy and the quadrature error estimate E.
func (e *scanEstimator) estimate() (value, errEst float64) {
	ys := e.breakpoints()
	if len(ys) < 2 {
		return 0, 0
	}
	span := ys[len(ys)-1] - ys[0]
	tol := estTolRel * e.area
	for k := 0; k+1 < len(ys); k++ {
		v, er := e.piece(ys[k], ys[k+1], tol, span, 0)
		value += v
		errEst += er
	}
	return value, errEst
}

func (e *scanEstimator) rule(y0, y1 float64, nodes, weights []float64) float64 {
	m, h := (y0+y1)/2, (y1-y0)/2
	var s float64
	for i, x := range nodes {
		th := x * math.Pi / 2
		s += weights[i] * e.covered(m+h*math.Sin(th)) * h * math.Cos(th)
	}
	return s * math.Pi / 2
}

func (e *scanEstimator) piece(y0, y1, tol, span float64, depth int) (float64, float64) {
	i12 := e.rule(y0, y1, glNodes12, glWeights12)
	i24 := e.rule(y0, y1, glNodes24, glWeights24)
	diff := math.Abs(i24 - i12)
	if diff <= tol*(y1-y0)/span || depth >= 40 || y1-y0 < 1e-9 {
		return i24, diff
	}
	mid := (y0 + y1) / 2
	a, ea := e.piece(y0, mid, tol, span, depth+1)
	b, eb := e.piece(mid, y1, tol, span, depth+1)
	return a + b, ea + eb
}

// checkAgainstEstimator covers stops in polys with the package and with the
// estimator and compares them.
func checkAgainstEstimator(t *testing.T, name string, polys []Polygon, stops []Point, radius float64) Coverage {
	t.Helper()
	reg, err := NewRegion(polys)
	if err != nil {
		t.Fatalf("%s: NewRegion: %v", name, err)
	}
	cov, err := reg.Cover(context.Background(), stops, radius)
	if err != nil {
		t.Fatalf("%s: Cover: %v", name, err)
	}
	est := newScanEstimator(polys, stops, radius)
	if d := math.Abs(est.area - reg.Area()); d > 1e-12*est.area {
		t.Errorf("%s: Area() = %.15g, shoelace %.15g", name, reg.Area(), est.area)
	}
	v, errEst := est.estimate()
	if errEst > estTolRel*est.area*1.0001 {
		t.Errorf("%s: estimator did not converge: error estimate %g > %g", name, errEst, estTolRel*est.area)
	}
	bound := estAssertRel * est.area
	if d := math.Abs(cov.CoveredArea - v); d > bound {
		t.Errorf("%s: CoveredArea = %.12g, scanline estimate %.12g (diff %.3g m² = %.3g of area, bound %.3g m²; estimator error estimate %.3g)",
			name, cov.CoveredArea, v, d, d/est.area, bound, errEst)
	}
	return cov
}

// --- random inputs --------------------------------------------------------

// starRing is a star-shaped ring around c with n vertices at jittered angles
// (gaps below π, so the ring is simple) and radii in [rmin, rmax].
func starRing(rng *rand.Rand, c Point, n int, rmin, rmax float64) Ring {
	ring := make(Ring, n)
	base := rng.Float64() * 2 * math.Pi
	for k := range ring {
		th := base + (float64(k)+0.8*(rng.Float64()-0.5))*2*math.Pi/float64(n)
		rad := rmin + rng.Float64()*(rmax-rmin)
		ring[k] = Point{c.X + rad*math.Cos(th), c.Y + rad*math.Sin(th)}
	}
	return ring
}

// starPolygon is a star polygon with 20–60 vertices and, optionally, a
// star-shaped hole around its centre well inside the outer ring.
func starPolygon(rng *rand.Rand, c Point, size float64, hole bool) Polygon {
	n := 20 + rng.IntN(41)
	// Gaps are at most 1.8·2π/20 < π/2, so every outer edge stays farther
	// than rmin·cos(π/4) from c; the hole stays within 0.5·rmin.
	rmin := size * (0.5 + 0.2*rng.Float64())
	p := Polygon{starRing(rng, c, n, rmin, size)}
	if hole {
		h := starRing(rng, c, 5+rng.IntN(8), 0.2*rmin, 0.5*rmin)
		if rng.IntN(2) == 0 {
			slices.Reverse(h) // orientation must not matter
		}
		p = append(p, h)
	}
	return p
}

func uniformStops(rng *rand.Rand, n int, lo, hi Point) []Point {
	s := make([]Point, n)
	for i := range s {
		s[i] = Point{lo.X + rng.Float64()*(hi.X-lo.X), lo.Y + rng.Float64()*(hi.Y-lo.Y)}
	}
	return s
}

func clusteredStops(rng *rand.Rand, clusters, per int, lo, hi Point, sigma float64) []Point {
	var s []Point
	for range clusters {
		c := Point{lo.X + rng.Float64()*(hi.X-lo.X), lo.Y + rng.Float64()*(hi.Y-lo.Y)}
		for range per {
			s = append(s, Point{c.X + sigma*rng.NormFloat64(), c.Y + sigma*rng.NormFloat64()})
		}
	}
	return s
}

// edgeStops puts stops on, just inside and just outside the polygon's edges
// and on some vertices.
func edgeStops(rng *rand.Rand, polys []Polygon, n int, radius float64) []Point {
	var edges [][2]Point
	for _, p := range polys {
		for _, ring := range p {
			for i := range ring {
				edges = append(edges, [2]Point{ring[i], ring[(i+1)%len(ring)]})
			}
		}
	}
	s := make([]Point, 0, n)
	for len(s) < n {
		ed := edges[rng.IntN(len(edges))]
		a, b := ed[0], ed[1]
		switch rng.IntN(4) {
		case 0: // a vertex exactly
			s = append(s, a)
		case 1: // on the edge (up to rounding)
			t := rng.Float64()
			s = append(s, Point{a.X + t*(b.X-a.X), a.Y + t*(b.Y-a.Y)})
		default: // off the edge along its normal, either side, up to 1.5 r
			t := rng.Float64()
			l := math.Hypot(b.X-a.X, b.Y-a.Y)
			off := (rng.Float64()*3 - 1.5) * radius
			s = append(s, Point{a.X + t*(b.X-a.X) - off*(b.Y-a.Y)/l, a.Y + t*(b.Y-a.Y) + off*(b.X-a.X)/l})
		}
	}
	return s
}

// --- tests ----------------------------------------------------------------

// TestEstimatorSelfCheck validates the estimator against closed forms, so a
// disagreement elsewhere points at the package, not at the estimator.
func TestEstimatorSelfCheck(t *testing.T) {
	const r = 300.0
	big := []Polygon{{rect(-5000, -5000, 5000, 5000)}}
	cases := []struct {
		name  string
		polys []Polygon
		stops []Point
		want  float64
	}{
		{"one disk", big, []Point{{10, 20}}, math.Pi * r * r},
		{"two disks d=100", big, []Point{{0, 0}, {100, 0}}, 2*math.Pi*r*r - lensArea(100, r)},
		{"two disks d=599.999 rotated", big, []Point{{0, 0}, {599.999 * math.Cos(1), 599.999 * math.Sin(1)}}, 2*math.Pi*r*r - lensArea(599.999, r)},
		{"edge h=150", []Polygon{{rect(-5000, -5000, 0, 5000)}}, []Point{{-150, 0}}, math.Pi*r*r - segmentArea(150, r)},
		{"quarter", []Polygon{{rect(0, 0, 1000, 1000)}}, []Point{{0, 0}}, math.Pi * r * r / 4},
		{"hole inside", []Polygon{{rect(-5000, -5000, 5000, 5000), rect(-50, -50, 50, 50)}}, []Point{{30, 0}}, math.Pi*r*r - 1e4},
	}
	for _, c := range cases {
		e := newScanEstimator(c.polys, c.stops, r)
		v, errEst := e.estimate()
		if d := math.Abs(v - c.want); d > 1e-10*e.area || d > 1e-9*c.want {
			t.Errorf("%s: estimator %.15g, closed form %.15g (diff %.3g, error estimate %.3g)", c.name, v, c.want, d, errEst)
		}
	}
}

func TestCoverMatchesScanlineEstimator(t *testing.T) {
	rng := rand.New(rand.NewPCG(20240611, 7))
	cases := 0
	run := func(name string, polys []Polygon, stops []Point, radius float64) {
		cases++
		cov := checkAgainstEstimator(t, name, polys, stops, radius)
		if got := cov.Inside + cov.OutsideNear + cov.Far + cov.Duplicates; got != len(stops) {
			t.Errorf("%s: Inside+OutsideNear+Far+Duplicates = %d, want %d stops", name, got, len(stops))
		}
	}
	origin := Point{0, 0}
	for i := range 10 {
		radius := 150 + rng.Float64()*350
		p := starPolygon(rng, origin, 2000, true)
		stops := uniformStops(rng, 10+rng.IntN(40), Point{-2600, -2600}, Point{2600, 2600})
		run("uniform#"+strconv.Itoa(i), []Polygon{p}, stops, radius)
	}
	for i := range 8 {
		radius := 150 + rng.Float64()*350
		p := starPolygon(rng, origin, 2000, rng.IntN(2) == 0)
		stops := clusteredStops(rng, 2+rng.IntN(4), 5+rng.IntN(10), Point{-1800, -1800}, Point{1800, 1800}, radius*(0.2+rng.Float64()))
		run("clustered#"+strconv.Itoa(i), []Polygon{p}, stops, radius)
	}
	for i := range 8 {
		radius := 100 + rng.Float64()*300
		polys := []Polygon{starPolygon(rng, origin, 2000, true)}
		stops := edgeStops(rng, polys, 15+rng.IntN(25), radius)
		run("edges#"+strconv.Itoa(i), polys, stops, radius)
	}
	for i := range 6 {
		radius := 150 + rng.Float64()*350
		// Two separate polygons, one with a hole.
		polys := []Polygon{
			starPolygon(rng, Point{-1500, 0}, 1000, true),
			starPolygon(rng, Point{1500, 300}, 1000, false),
		}
		stops := append(uniformStops(rng, 20, Point{-2800, -1400}, Point{2800, 1700}), edgeStops(rng, polys, 10, radius)...)
		run("multipolygon#"+strconv.Itoa(i), polys, stops, radius)
	}
	for i := range 3 {
		// An island inside the hole of another polygon.
		radius := 100 + rng.Float64()*200
		outer := Polygon{rect(-3000, -3000, 3000, 3000), rect(-1500, -1500, 1500, 1500)}
		island := starPolygon(rng, origin, 1000, true)
		polys := []Polygon{outer, island}
		stops := append(uniformStops(rng, 30, Point{-3300, -3300}, Point{3300, 3300}), edgeStops(rng, polys, 15, radius)...)
		run("island#"+strconv.Itoa(i), polys, stops, radius)
	}
	if cases < 30 {
		t.Fatalf("only %d random cases", cases)
	}
}
