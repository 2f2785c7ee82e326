package geometry

import (
	"context"
	"fmt"
	"math"
	"testing"
)

// --- shared helpers -------------------------------------------------------

// rect is the axis-aligned rectangle [x0, x1] × [y0, y1], counter-clockwise.
func rect(x0, y0, x1, y1 float64) Ring {
	return Ring{{x0, y0}, {x1, y0}, {x1, y1}, {x0, y1}}
}

func mustRegion(t testing.TB, polys ...Polygon) *Region {
	t.Helper()
	r, err := NewRegion(polys)
	if err != nil {
		t.Fatalf("NewRegion: %v", err)
	}
	return r
}

func mustCover(t testing.TB, r *Region, stops []Point, radius float64) Coverage {
	t.Helper()
	c, err := r.Cover(context.Background(), stops, radius)
	if err != nil {
		t.Fatalf("Cover: %v", err)
	}
	return c
}

// relErr is |got − want| / |want|, or |got| when want is 0.
func relErr(got, want float64) float64 {
	if want == 0 {
		return math.Abs(got)
	}
	return math.Abs(got-want) / math.Abs(want)
}

// lensArea is the area of the intersection of two disks of radius r whose
// centres are d apart.
func lensArea(d, r float64) float64 {
	if d >= 2*r {
		return 0
	}
	return 2*r*r*math.Acos(d/(2*r)) - d/2*math.Sqrt(4*r*r-d*d)
}

// segmentArea is the area of the part of a disk of radius r beyond a line at
// distance h ≥ 0 from its centre.
func segmentArea(h, r float64) float64 {
	if h >= r {
		return 0
	}
	return r*r*math.Acos(h/r) - h*math.Sqrt(r*r-h*h)
}

// threeDisksEquilateral is the area of the union of three disks of radius r
// centred on the vertices of an equilateral triangle of side s, by
// inclusion–exclusion: 3πr² − 3·lens(s) + T, where T is the triple
// intersection. For s < r√3 the triple intersection is bounded by three arcs
// (one per circle) through the three "inner" pairwise intersection points;
// those points lie at distance |u| = |√(r² − s²/4) − s/(2√3)| from the
// centroid, 120° apart, so T = (√3/4)L² + 3 · r²/2 · (φ − sin φ) with
// L = √3|u| and φ = 2 asin(L/2r). For s ≥ r√3 the three disks have no common
// interior point and T = 0.
func threeDisksEquilateral(s, r float64) float64 {
	u := 3*math.Pi*r*r - 3*lensArea(s, r)
	if s >= r*math.Sqrt(3) {
		return u
	}
	inner := math.Sqrt(r*r-s*s/4) - s/(2*math.Sqrt(3))
	L := math.Sqrt(3) * math.Abs(inner)
	phi := 2 * math.Asin(L/(2*r))
	return u + math.Sqrt(3)/4*L*L + 3*r*r/2*(phi-math.Sin(phi))
}

func equilateralStops(c Point, s float64) []Point {
	rho := s / math.Sqrt(3)
	var out []Point
	for k := range 3 {
		th := math.Pi/2 + float64(k)*2*math.Pi/3
		out = append(out, Point{c.X + rho*math.Cos(th), c.Y + rho*math.Sin(th)})
	}
	return out
}

// --- analytic cases -------------------------------------------------------

type analyticCase struct {
	name   string
	polys  []Polygon
	area   float64 // closed-form area of A
	stops  []Point
	radius float64
	want   float64 // closed-form covered area
	// Expected counts. boundary stops lie exactly on A's boundary, where
	// Contains may answer either way: each is counted as Inside or
	// OutsideNear.
	inside, near, far, dup, boundary int
	// exactShare demands Share() == 1 exactly.
	exactShare bool
}

const rStd = 300.0

// absFloor is an absolute floor on the tolerance, as a fraction of A's area.
// The package sums ½(x dy − y dx) relative to the centre of A's bounding box:
// terms of size ~ r·D (D ≈ the box's size) cancel down to the result, so a
// covered area much smaller than r·D (a sliver of a disk) carries an absolute
// rounding error of order ε·r·D — e.g. 2.2e-9 m² on a 1.03 m² circular
// segment in a 10 km box, a relative error of 2.1e-9. Tolerances are
// therefore 1e-9 relative OR absFloor·area(A), whichever is larger; for every
// case whose covered area exceeds 1e-5·area(A) the 1e-9 relative bound rules.
const absFloor = 1e-14

var disk = math.Pi * rStd * rStd

func analyticCases() []analyticCase {
	big := []Polygon{{rect(-5000, -5000, 5000, 5000)}}
	const bigArea = 1e8
	var cs []analyticCase

	cs = append(cs, analyticCase{name: "one disk inside", polys: big, area: bigArea,
		stops: []Point{{123.4, -56.7}}, radius: rStd, want: disk, inside: 1})
	cs = append(cs, analyticCase{name: "one disk r=0.5", polys: []Polygon{{rect(-5, -5, 5, 5)}}, area: 100,
		stops: []Point{{0.25, 0.125}}, radius: 0.5, want: math.Pi * 0.25, inside: 1})

	for _, d := range []float64{0.001, 1, 100, 300, 599.999, 600, 800} {
		want := 2*disk - lensArea(d, rStd)
		cs = append(cs, analyticCase{name: fmt.Sprintf("two disks d=%g", d), polys: big, area: bigArea,
			stops: []Point{{-d / 2, 10}, {d / 2, 10}}, radius: rStd, want: want, inside: 2})
		// The same pair along an oblique direction.
		th := 0.6435 // an angle with no special sine or cosine
		cs = append(cs, analyticCase{name: fmt.Sprintf("two disks d=%g oblique", d), polys: big, area: bigArea,
			stops: []Point{{-1000, 700}, {-1000 + d*math.Cos(th), 700 + d*math.Sin(th)}}, radius: rStd, want: want, inside: 2})
	}

	for _, s := range []float64{1, 150, 300, 500, rStd * math.Sqrt(3), 560, 599, 700} {
		cs = append(cs, analyticCase{name: fmt.Sprintf("three disks equilateral s=%g", s), polys: big, area: bigArea,
			stops: equilateralStops(Point{200, -300}, s), radius: rStd, want: threeDisksEquilateral(s, rStd), inside: 3})
	}
	for _, d := range []float64{0.5, 100, 299, 450} {
		// Collinear: the outer pair's lens lies inside the middle disk, so
		// inclusion–exclusion leaves 3πr² − 2·lens(d).
		cs = append(cs, analyticCase{name: fmt.Sprintf("three disks collinear d=%g", d), polys: big, area: bigArea,
			stops: []Point{{-d, 0}, {0, 0}, {d, 0}}, radius: rStd, want: 3*disk - 2*lensArea(d, rStd), inside: 3})
	}

	// A is the half-plane x ≤ 0 (within a big box).
	half := []Polygon{{rect(-5000, -5000, 0, 5000)}}
	for _, h := range []float64{0, 1, 150, 299.9, 300, 400} {
		c := analyticCase{name: fmt.Sprintf("edge cut h=%g, centre inside", h), polys: half, area: 5e7,
			stops: []Point{{-h, 17}}, radius: rStd, want: disk - segmentArea(h, rStd), inside: 1}
		if h == 0 {
			c.inside, c.boundary = 0, 1
		}
		cs = append(cs, c)
		if h > 0 {
			c := analyticCase{name: fmt.Sprintf("edge cut h=%g, centre outside", h), polys: half, area: 5e7,
				stops: []Point{{h, 17}}, radius: rStd, want: segmentArea(h, rStd)}
			if h < rStd {
				c.near = 1
			} else {
				c.far = 1
			}
			cs = append(cs, c)
		}
	}

	sq := []Polygon{{rect(0, 0, 1000, 1000)}}
	for _, v := range []Point{{0, 0}, {1000, 0}, {1000, 1000}, {0, 1000}} {
		cs = append(cs, analyticCase{name: fmt.Sprintf("quarter disk at vertex %v", v), polys: sq, area: 1e6,
			stops: []Point{v}, radius: rStd, want: disk / 4, boundary: 1})
	}
	cs = append(cs, analyticCase{name: "four quarter disks", polys: sq, area: 1e6,
		stops: []Point{{0, 0}, {1000, 0}, {1000, 1000}, {0, 1000}}, radius: rStd, want: disk, boundary: 4})
	for _, v := range []Point{{500, 0}, {1000, 400}, {321.5, 1000}, {0, 600}} {
		cs = append(cs, analyticCase{name: fmt.Sprintf("half disk on edge at %v", v), polys: sq, area: 1e6,
			stops: []Point{v}, radius: rStd, want: disk / 2, boundary: 1})
	}
	// L-shape with its reflex (270°) corner at (1000, 1000).
	ell := []Polygon{{{{0, 0}, {2000, 0}, {2000, 1000}, {1000, 1000}, {1000, 2000}, {0, 2000}}}}
	cs = append(cs, analyticCase{name: "3/4 disk at reflex corner", polys: ell, area: 3e6,
		stops: []Point{{1000, 1000}}, radius: rStd, want: 3 * disk / 4, boundary: 1})
	cs = append(cs, analyticCase{name: "quarter disks at L's convex corners", polys: ell, area: 3e6,
		stops: []Point{{0, 0}, {2000, 0}, {0, 2000}}, radius: rStd, want: 3 * disk / 4, boundary: 3})
	cs = append(cs, analyticCase{name: "L clockwise input", polys: []Polygon{{{{0, 2000}, {1000, 2000}, {1000, 1000}, {2000, 1000}, {2000, 0}, {0, 0}}}}, area: 3e6,
		stops: []Point{{1000, 1000}}, radius: rStd, want: 3 * disk / 4, boundary: 1})

	// Polygons sharing a border (adjacent districts): the border is interior
	// to the union.
	twoSq := []Polygon{{rect(0, 0, 1000, 1000)}, {rect(1000, 0, 2000, 1000)}}
	cs = append(cs, analyticCase{name: "disk on the shared border of two squares", polys: twoSq, area: 2e6,
		stops: []Point{{1000, 500}}, radius: rStd, want: disk, inside: 1})
	cs = append(cs, analyticCase{name: "half disk at the end of a shared border", polys: twoSq, area: 2e6,
		stops: []Point{{1000, 0}}, radius: rStd, want: disk / 2, boundary: 1})
	fourSq := []Polygon{{rect(0, 0, 1000, 1000)}, {rect(1000, 0, 2000, 1000)}, {rect(1000, 1000, 2000, 2000)}, {rect(0, 1000, 1000, 2000)}}
	cs = append(cs, analyticCase{name: "disk on the corner shared by four squares", polys: fourSq, area: 4e6,
		stops: []Point{{1000, 1000}, {1000, 1000}}, radius: rStd, want: disk, inside: 1, dup: 1})

	// Holes.
	withHole := []Polygon{{rect(-5000, -5000, 5000, 5000), rect(-50, -50, 50, 50)}}
	cs = append(cs, analyticCase{name: "disk centred in a hole it contains", polys: withHole, area: bigArea - 1e4,
		stops: []Point{{0, 0}}, radius: rStd, want: disk - 1e4, near: 1})
	cs = append(cs, analyticCase{name: "disk containing a hole, centre in A", polys: withHole, area: bigArea - 1e4,
		stops: []Point{{200, 0}}, radius: rStd, want: disk - 1e4, inside: 1})
	bigHole := []Polygon{{rect(-5000, -5000, 5000, 5000), rect(0, -1000, 1000, 1000)}}
	cs = append(cs, analyticCase{name: "disk partly over a hole", polys: bigHole, area: bigArea - 2e6,
		stops: []Point{{-100, 0}}, radius: rStd, want: disk - segmentArea(100, rStd), inside: 1})
	cs = append(cs, analyticCase{name: "disk centred in a hole, partly over A", polys: bigHole, area: bigArea - 2e6,
		stops: []Point{{100, 0}}, radius: rStd, want: segmentArea(100, rStd), near: 1})
	cs = append(cs, analyticCase{name: "disk centred on a hole's corner", polys: bigHole, area: bigArea - 2e6,
		stops: []Point{{0, 1000}}, radius: rStd, want: 3 * disk / 4, boundary: 1})
	cs = append(cs, analyticCase{name: "disk deep inside a big hole", polys: bigHole, area: bigArea - 2e6,
		stops: []Point{{500, 0}}, radius: rStd, want: 0, far: 1})

	// A inside one disk.
	small := []Polygon{{rect(0, 0, 100, 100)}}
	cs = append(cs, analyticCase{name: "A inside the disk, centre in A", polys: small, area: 1e4,
		stops: []Point{{50, 50}}, radius: rStd, want: 1e4, inside: 1, exactShare: true})
	cs = append(cs, analyticCase{name: "A inside the disk, centre outside A", polys: small, area: 1e4,
		stops: []Point{{-100, 50}}, radius: rStd, want: 1e4, near: 1, exactShare: true})
	cs = append(cs, analyticCase{name: "tiny A inside the disk", polys: []Polygon{{rect(0, 0, 10, 10)}}, area: 100,
		stops: []Point{{5, 5}}, radius: rStd, want: 100, inside: 1, exactShare: true})
	cs = append(cs, analyticCase{name: "triangle inside a disk centred outside its bounding box", polys: []Polygon{{{{0, 0}, {100, 0}, {0, 100}}}}, area: 5000,
		stops: []Point{{-150, -150}}, radius: rStd, want: 5000, near: 1, exactShare: true})
	return cs
}

func TestAnalyticCoverage(t *testing.T) {
	for _, c := range analyticCases() {
		t.Run(c.name, func(t *testing.T) {
			r := mustRegion(t, c.polys...)
			if e := relErr(r.Area(), c.area); e > 1e-12 {
				t.Errorf("Area() = %.15g, want %.15g", r.Area(), c.area)
			}
			cov := mustCover(t, r, c.stops, c.radius)
			if c.want == 0 {
				if cov.CoveredArea > 1e-9*math.Pi*c.radius*c.radius {
					t.Errorf("CoveredArea = %.15g, want 0", cov.CoveredArea)
				}
			} else if e := relErr(cov.CoveredArea, c.want); e > 1e-9 && math.Abs(cov.CoveredArea-c.want) > absFloor*c.area {
				t.Errorf("CoveredArea = %.15g, want %.15g (relative error %.3g)", cov.CoveredArea, c.want, e)
			}
			if cov.TotalArea != r.Area() {
				t.Errorf("TotalArea = %v, Area() = %v", cov.TotalArea, r.Area())
			}
			wantShare := c.want / c.area
			if e := relErr(cov.Share(), wantShare); e > 1e-9 && math.Abs(cov.Share()-wantShare) > 1e-15 {
				t.Errorf("Share() = %.15g, want %.15g", cov.Share(), wantShare)
			}
			if c.exactShare && (cov.Share() != 1 || cov.CoveredArea != cov.TotalArea) {
				t.Errorf("Share() = %.17g, CoveredArea = %.17g, TotalArea = %.17g; want exactly full coverage", cov.Share(), cov.CoveredArea, cov.TotalArea)
			}
			checkCounts(t, cov, len(c.stops), c.inside, c.near, c.far, c.dup, c.boundary)
		})
	}
}

// checkCounts asserts the stop classification; boundary stops may be counted
// as Inside or OutsideNear.
func checkCounts(t *testing.T, cov Coverage, stops, inside, near, far, dup, boundary int) {
	t.Helper()
	if cov.Stops != stops {
		t.Errorf("Stops = %d, want %d", cov.Stops, stops)
	}
	if cov.Far != far || cov.Duplicates != dup {
		t.Errorf("Far, Duplicates = %d, %d, want %d, %d", cov.Far, cov.Duplicates, far, dup)
	}
	if cov.Inside < inside || cov.OutsideNear < near || cov.Inside+cov.OutsideNear != inside+near+boundary {
		t.Errorf("Inside, OutsideNear = %d, %d, want %d, %d (+%d on the boundary either way)", cov.Inside, cov.OutsideNear, inside, near, boundary)
	}
	if s := cov.Inside + cov.OutsideNear + cov.Far + cov.Duplicates; s != cov.Stops {
		t.Errorf("Inside+OutsideNear+Far+Duplicates = %d, Stops = %d", s, cov.Stops)
	}
}

// TestAnalyticClosedForms checks the test's own formulas against each other
// and against known values, so a failure above is not a formula slip.
func TestAnalyticClosedForms(t *testing.T) {
	r := rStd
	if e := relErr(lensArea(0, r), math.Pi*r*r); e > 1e-15 {
		t.Errorf("lens(0) = %v", lensArea(0, r))
	}
	if e := relErr(segmentArea(0, r), math.Pi*r*r/2); e > 1e-15 {
		t.Errorf("segment(0) = %v", segmentArea(0, r))
	}
	// Lens of two disks d = r apart: 2r²(π/3) − (r/2)·r√3.
	if e := relErr(lensArea(r, r), r*r*(2*math.Pi/3-math.Sqrt(3)/2)); e > 1e-14 {
		t.Errorf("lens(r) = %v", lensArea(r, r))
	}
	// Three coincident disks: one disk. At s = r√3 the circles meet at the centroid.
	if e := relErr(threeDisksEquilateral(0, r), math.Pi*r*r); e > 1e-14 {
		t.Errorf("three coincident = %v", threeDisksEquilateral(0, r))
	}
	below := threeDisksEquilateral(r*math.Sqrt(3)*(1-1e-9), r)
	at := threeDisksEquilateral(r*math.Sqrt(3), r)
	if e := relErr(below, at); e > 1e-8 {
		t.Errorf("three disks not continuous at s = r√3: %v vs %v", below, at)
	}
	// The equilateral formula against the independent scanline estimator.
	big := []Polygon{{rect(-5000, -5000, 5000, 5000)}}
	for _, s := range []float64{10, 150, 400, 550} {
		e := newScanEstimator(big, equilateralStops(Point{0, 0}, s), r)
		v, _ := e.estimate()
		if d := relErr(v, threeDisksEquilateral(s, r)); d > 1e-10 {
			t.Errorf("three disks s=%g: formula %.15g, estimator %.15g", s, threeDisksEquilateral(s, r), v)
		}
	}
}

// TestTangentAtArcMidpoint: a disk centred on a vertex of a triangle whose
// opposite side is tangent to the circle covers exactly the sector of the
// vertex's angle. The tangent point is the midpoint of the arc inside the
// triangle when the triangle is symmetric, which is where a single sample
// point once took the whole arc for outside (found by fuzzing).
func TestTangentAtArcMidpoint(t *testing.T) {
	for _, c := range []struct{ r, b, c float64 }{
		{300, 400, 400}, // symmetric: the tangent point is the arc's midpoint
		{300, 250, 900}, // lopsided
		{808.2352941176471, 600, 600},
	} {
		tri := Polygon{{{0, 0}, {c.c, c.r}, {-c.b, c.r}}}
		reg := mustRegion(t, tri)
		cov, err := reg.Cover(context.Background(), []Point{{0, 0}}, c.r)
		if err != nil {
			t.Fatal(err)
		}
		theta := math.Atan2(c.r, -c.b) - math.Atan2(c.r, c.c)
		want := theta * c.r * c.r / 2
		if math.Abs(cov.CoveredArea-want) > 1e-9*want {
			t.Errorf("r %v, b %v, c %v: covered %.12g, want the sector %.12g", c.r, c.b, c.c, cov.CoveredArea, want)
		}
	}
}

// TestTouchingDisksToTheLastBit: two disks whose centres are 2r apart, with
// d² rounding just below 4r² while d/2r rounds to 1, touch at a point and
// cover 2πr². Each once took the other for covering its whole circle, and
// the pair covered nothing.
func TestTouchingDisksToTheLastBit(t *testing.T) {
	reg := mustRegion(t, Polygon{rect(-5000, -5000, 5000, 5000)})
	type pair struct {
		r    float64
		a, b Point
	}
	cases := []pair{{300, Point{0, 0}, Point{599.9952000064, 2.39999360000512}}}
	// More pairs at exactly 2r in many directions: some of them round the same way.
	for k := range 200 {
		theta := float64(k) * 0.0314159
		cases = append(cases, pair{300, Point{1.5, -2.25}, Point{1.5 + 600*math.Cos(theta), -2.25 + 600*math.Sin(theta)}})
	}
	for _, c := range cases {
		cov, err := reg.Cover(context.Background(), []Point{c.a, c.b}, c.r)
		if err != nil {
			t.Fatal(err)
		}
		if want := 2 * math.Pi * c.r * c.r; math.Abs(cov.CoveredArea-want) > 1e-9*want {
			t.Errorf("stops %v and %v: covered %.9g, want 2πr² = %.9g", c.a, c.b, cov.CoveredArea, want)
		}
	}
}
