package geometry

import (
	"context"
	"math"
	"testing"
)

// fuzzBytes hands out the fuzz input piece by piece; past its end it yields
// zeros, so every input decodes to something.
type fuzzBytes struct {
	b []byte
	i int
}

func (f *fuzzBytes) u8() byte {
	if f.i >= len(f.b) {
		return 0
	}
	v := f.b[f.i]
	f.i++
	return v
}

// unit is a number in [0, 1] from two bytes.
func (f *fuzzBytes) unit() float64 {
	return float64(uint16(f.u8())<<8|uint16(f.u8())) / 65535
}

// fuzzCase is a decoded FuzzCoverInvariants input: a star polygon (always
// simple: vertices sorted by angle about the origin with every angular gap
// below 0.7·2π/3·2 < π, radii ≥ 200 m), an optional square hole well inside
// it, a radius and up to eight stops, an extra stop, and a rigid motion.
type fuzzCase struct {
	poly   Polygon
	radius float64
	stops  []Point
	extra  Point
	angle  float64
	shift  Point
}

func decodeFuzzCase(data []byte) fuzzCase {
	in := &fuzzBytes{b: data}
	n := 3 + int(in.u8()%30)
	ring := make(Ring, n)
	rmin := math.Inf(1)
	for k := range ring {
		// Gaps between consecutive angles are within (1 ± 0.4)·2π/n.
		th := (float64(k) + 0.4*(in.unit()-0.5)) * 2 * math.Pi / float64(n)
		rad := 200 + 1800*in.unit()
		rmin = math.Min(rmin, rad)
		ring[k] = Point{rad * math.Cos(th), rad * math.Sin(th)}
	}
	c := fuzzCase{poly: Polygon{ring}}
	if in.u8()%2 == 1 && n >= 6 {
		// Gaps ≤ 1.4·60°, so outer edges stay ≥ rmin·cos 42° > 0.74·rmin
		// from the origin; the hole's corners are within 0.4·rmin.
		phi := in.unit() * math.Pi / 2
		h := 0.1*rmin + 0.3*rmin*in.unit()
		hole := make(Ring, 4)
		for k := range hole {
			a := phi + float64(k)*math.Pi/2
			hole[k] = Point{h * math.Cos(a), h * math.Sin(a)}
		}
		c.poly = append(c.poly, hole)
	}
	c.radius = 20 + 1500*in.unit()
	ns := int(in.u8() % 9)
	for range ns {
		switch in.u8() % 3 {
		case 0:
			c.stops = append(c.stops, Point{5000*in.unit() - 2500, 5000*in.unit() - 2500})
		case 1: // a vertex of A exactly
			all := c.poly[len(c.poly)-1]
			if in.u8()%2 == 0 {
				all = c.poly[0]
			}
			c.stops = append(c.stops, all[int(in.u8())%len(all)])
		default: // near an edge: along it, then off it by up to ±r
			a := ring[int(in.u8())%n]
			b := ring[(int(in.u8())+1)%n]
			t, off := in.unit(), (2*in.unit()-1)*c.radius
			l := math.Hypot(b.X-a.X, b.Y-a.Y)
			if l == 0 {
				l = 1
			}
			c.stops = append(c.stops, Point{a.X + t*(b.X-a.X) - off*(b.Y-a.Y)/l, a.Y + t*(b.Y-a.Y) + off*(b.X-a.X)/l})
		}
	}
	c.extra = Point{5000*in.unit() - 2500, 5000*in.unit() - 2500}
	c.angle = 2 * math.Pi * in.unit()
	c.shift = Point{2e5*in.unit() - 1e5, 2e5*in.unit() - 1e5}
	return c
}

func (c fuzzCase) moved() (Polygon, []Point) {
	s, co := math.Sincos(c.angle)
	m := func(p Point) Point {
		return Point{co*p.X - s*p.Y + c.shift.X, s*p.X + co*p.Y + c.shift.Y}
	}
	var poly Polygon
	for _, ring := range c.poly {
		r := make(Ring, len(ring))
		for k, p := range ring {
			r[k] = m(p)
		}
		poly = append(poly, r)
	}
	stops := make([]Point, len(c.stops))
	for k, p := range c.stops {
		stops[k] = m(p)
	}
	return poly, stops
}

// FuzzCoverInvariants checks, on decoded star polygons:
//   - 0 ≤ Share() ≤ 1 and 0 ≤ CoveredArea ≤ TotalArea·(1+1e-12);
//   - the counts add up to the number of stops;
//   - the covered area matches the scanline estimator (estimator_test.go);
//   - adding a stop never lowers the covered area by more than 1e-9·area(A);
//   - a rotation about the origin followed by a translation changes the
//     covered area by at most 1e-9·area(A) (relative to A's area: a covered
//     area far smaller than A carries an absolute rounding error, see
//     absFloor);
//   - appending a copy of a stop changes nothing but Stops and Duplicates.
func FuzzCoverInvariants(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 1, 80, 80, 90, 90, 60, 0, 4, 3, 9, 9, 9, 9})
	f.Add([]byte{17, 200, 13, 50, 99, 7, 7, 240, 1, 3, 3, 100, 100, 100, 100, 1, 40, 40, 0, 4, 1, 1, 3, 2, 1, 1, 0, 20, 20, 20, 20, 128, 0, 128, 0, 31, 31, 200, 1})
	f.Add([]byte{3, 255, 255, 255, 255, 0, 0, 0, 0, 128, 128, 128, 128, 0, 8, 0, 0, 8, 0, 0, 8, 0, 0, 8, 2, 0, 1, 255, 255, 0, 7, 50, 50, 50, 50, 255, 255, 0, 0, 0, 0})
	f.Add([]byte{29, 10, 20, 30, 40, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180, 190, 200, 210, 220, 230, 240, 250, 9, 19, 29, 39, 49, 59, 69, 79, 89, 99, 109, 119, 129, 139, 149, 159, 169, 179, 189, 199, 209, 219, 229, 239, 249, 1, 99, 1, 1, 8, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25})
	f.Add([]byte{8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 1, 0, 0, 1, 1, 1, 1, 1, 2, 1, 2, 0})
	f.Fuzz(func(t *testing.T, data []byte) {
		c := decodeFuzzCase(data)
		reg, err := NewRegion([]Polygon{c.poly})
		if err != nil {
			t.Fatalf("NewRegion rejected a simple star polygon: %v\n%#v", err, c.poly)
		}
		ctx := context.Background()
		cov, err := reg.Cover(ctx, c.stops, c.radius)
		if err != nil {
			t.Fatalf("Cover: %v", err)
		}
		area := reg.Area()
		if s := cov.Share(); !(s >= 0 && s <= 1) {
			t.Errorf("Share() = %v", s)
		}
		if !(cov.CoveredArea >= 0 && cov.CoveredArea <= cov.TotalArea*(1+1e-12)) {
			t.Errorf("CoveredArea = %v, TotalArea = %v", cov.CoveredArea, cov.TotalArea)
		}
		if cov.Inside+cov.OutsideNear+cov.Far+cov.Duplicates != len(c.stops) || cov.Stops != len(c.stops) {
			t.Errorf("counts %+v do not add up to %d stops", cov, len(c.stops))
		}
		est := newScanEstimator([]Polygon{c.poly}, c.stops, c.radius)
		if v, _ := est.estimate(); math.Abs(v-cov.CoveredArea) > estAssertRel*est.area {
			t.Errorf("CoveredArea = %.12g, scanline estimate %.12g (radius %v, stops %#v)", cov.CoveredArea, v, c.radius, c.stops)
		}

		// Monotone in the stops.
		more, err := reg.Cover(ctx, append(append([]Point(nil), c.stops...), c.extra), c.radius)
		if err != nil {
			t.Fatalf("Cover: %v", err)
		}
		if more.CoveredArea < cov.CoveredArea-1e-9*area {
			t.Errorf("adding stop %v lowered the covered area from %.15g to %.15g", c.extra, cov.CoveredArea, more.CoveredArea)
		}

		// A duplicate changes nothing.
		if len(c.stops) > 0 {
			dup, err := reg.Cover(ctx, append(append([]Point(nil), c.stops...), c.stops[len(c.stops)/2]), c.radius)
			if err != nil {
				t.Fatalf("Cover: %v", err)
			}
			want := cov
			want.Stops++
			want.Duplicates++
			if dup != want {
				t.Errorf("duplicating a stop: %+v, want %+v", dup, want)
			}
		}

		// Invariant under rigid motions.
		mp, ms := c.moved()
		mreg, err := NewRegion([]Polygon{mp})
		if err != nil {
			t.Fatalf("NewRegion rejected the moved polygon: %v", err)
		}
		mcov, err := mreg.Cover(ctx, ms, c.radius)
		if err != nil {
			t.Fatalf("Cover: %v", err)
		}
		if math.Abs(mcov.CoveredArea-cov.CoveredArea) > 1e-9*area {
			t.Errorf("rotated by %v and shifted by %v: CoveredArea %.15g, before %.15g", c.angle, c.shift, mcov.CoveredArea, cov.CoveredArea)
		}
		if relErr(mcov.TotalArea, cov.TotalArea) > 1e-9 {
			t.Errorf("rotated by %v and shifted by %v: TotalArea %.15g, before %.15g", c.angle, c.shift, mcov.TotalArea, cov.TotalArea)
		}
	})
}

// fuzzSpecial and small integers are the coordinates FuzzNewRegion draws from: a small integer
// grid (so that collinear, touching and repeated points are common) and some
// hostile values.
var fuzzSpecial = []float64{
	math.NaN(), math.Inf(1), math.Inf(-1), 1e300, -1e300, 1.7e308, -1.7e308,
	1e-300, 5e-324, math.Copysign(0, -1), 0.5, 1e15, 1<<53 + 1, 1e6, 5e6, -7.25,
	1e-9, 3.0000000000000004, 2.9999999999999996, 1e10,
}

func (f *fuzzBytes) coord() float64 {
	b := f.u8()
	if int(b) >= 256-len(fuzzSpecial) {
		return fuzzSpecial[int(b)-(256-len(fuzzSpecial))]
	}
	return float64(b % 16)
}

// FuzzNewRegion feeds arbitrary small rings to NewRegion: it must never
// panic; an accepted region must have a positive area, and Contains and Cover
// must work on it.
func FuzzNewRegion(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{0, 0, 3, 0, 0, 4, 0, 0, 4})                                      // a triangle
	f.Add([]byte{0, 1, 4, 0, 0, 10, 0, 10, 10, 0, 10, 4, 2, 2, 2, 4, 4, 4, 4, 2}) // a square with a hole
	f.Add([]byte{1, 0, 4, 0, 0, 4, 4, 4, 0, 0, 4, 0, 3, 8, 8, 9, 8, 8, 9})        // bow-tie and a triangle
	f.Add([]byte{0, 0, 4, 0, 0, 15, 0, 0, 15, 0, 0})                              // closing vertex repeated
	f.Add([]byte{0, 0, 3, 236, 0, 237, 0, 0, 1})                                  // NaN, +Inf
	f.Add([]byte{0, 0, 3, 240, 240, 239, 240, 240, 239})                          // ±1e300
	f.Add([]byte{0, 0, 3, 242, 242, 241, 242, 242, 241})                          // ±1.7e308: overflowing extents
	f.Add([]byte{0, 0, 4, 0, 0, 3, 0, 3, 3, 0, 3, 5, 200, 1})                     // Cover radius selector
	f.Fuzz(func(t *testing.T, data []byte) {
		in := &fuzzBytes{b: data}
		np := 1 + int(in.u8()%2)
		polys := make([]Polygon, np)
		for pi := range polys {
			nr := 1 + int(in.u8()%3)
			for range nr {
				nv := int(in.u8() % 8)
				ring := make(Ring, nv)
				for k := range ring {
					ring[k] = Point{in.coord(), in.coord()}
				}
				polys[pi] = append(polys[pi], ring)
			}
		}
		r, err := NewRegion(polys)
		if err != nil {
			if _, ok := err.(*InvalidError); !ok {
				t.Fatalf("error %T, want *InvalidError", err)
			}
			if err.Error() == "" {
				t.Fatalf("empty error message")
			}
			return
		}
		if !(r.Area() > 0) {
			t.Fatalf("accepted region with Area() = %v: %v", r.Area(), polys)
		}
		var centroid Point
		ring := polys[0][0]
		for _, p := range ring {
			centroid.X += p.X / float64(len(ring))
			centroid.Y += p.Y / float64(len(ring))
		}
		r.Contains(centroid)
		r.Contains(ring[0])
		lo, hi := r.Bounds()
		if r.Vertices() < 3 || !(lo.X <= hi.X && lo.Y <= hi.Y) {
			t.Fatalf("Vertices() = %d, Bounds() = %v, %v", r.Vertices(), lo, hi)
		}
		// A radius on the region's own scale keeps Cover's grids small.
		size := math.Max(hi.X-lo.X, hi.Y-lo.Y)
		radius := size * (0.05 + float64(in.u8())/64)
		if !(radius > 0) || math.IsInf(radius, 0) {
			return
		}
		cov, err := r.Cover(context.Background(), []Point{centroid, ring[0], {lo.X - radius/2, hi.Y}}, radius)
		if err != nil {
			t.Fatalf("Cover: %v", err)
		}
		if s := cov.Share(); !(s >= 0 && s <= 1) {
			t.Errorf("Share() = %v (covered %v of %v)", s, cov.CoveredArea, cov.TotalArea)
		}
		if !(cov.CoveredArea >= 0 && cov.CoveredArea <= cov.TotalArea*(1+1e-12)) {
			t.Errorf("CoveredArea = %v, TotalArea = %v", cov.CoveredArea, cov.TotalArea)
		}
	})
}
