package geometry

import (
	"math"
	"testing"
)

// FuzzPlanGain checks the planner's local gain of a site against an
// independent computation (referenceGain: two Cover calls), on the star
// polygons of FuzzCoverInvariants. The last byte picks the site: the decoded
// extra point, a stop itself, a point tangent to a stop's disk, a point at
// the radius from a stop, a vertex of the region, or a point whose circle
// passes through a vertex.
func FuzzPlanGain(f *testing.F) {
	f.Add([]byte{})
	f.Add([]byte{5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 1, 80, 80, 90, 90, 60, 0, 4, 3, 9, 9, 9, 9, 0})
	f.Add([]byte{17, 200, 13, 50, 99, 7, 7, 240, 1, 3, 3, 100, 100, 100, 100, 1, 40, 40, 0, 4, 1, 1, 3, 2, 1, 1, 0, 20, 20, 20, 20, 128, 0, 128, 0, 31, 31, 200, 1})
	f.Add([]byte{3, 255, 255, 255, 255, 0, 0, 0, 0, 128, 128, 128, 128, 0, 8, 0, 0, 8, 0, 0, 8, 0, 0, 8, 2, 0, 1, 255, 255, 0, 7, 50, 50, 50, 50, 255, 255, 0, 0, 0, 2})
	f.Add([]byte{8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 1, 0, 0, 1, 1, 1, 1, 1, 2, 1, 2, 3})
	f.Add([]byte{6, 9, 40, 200, 7, 30, 90, 140, 3, 60, 12, 250, 33, 70, 5, 1, 100, 100, 60, 60, 60, 6, 0, 10, 20, 1, 1, 2, 2, 7, 70, 9, 90, 4})
	f.Add([]byte{12, 50, 60, 70, 80, 90, 100, 110, 120, 130, 140, 150, 160, 170, 180, 190, 200, 210, 220, 230, 240, 250, 9, 19, 29, 39, 0, 99, 6, 1, 3, 5, 2, 7, 9, 11, 1, 4, 0, 0, 0, 50, 60, 5})
	// A gain of a whole disk, clamped to π·r², above π·r·r by rounding.
	f.Add([]byte("\"00\x8500000\xc60a0\xf70\xc90X0\xfa0000090\xde01000000710A00 "))
	f.Fuzz(func(t *testing.T, data []byte) {
		c := decodeFuzzCase(data)
		reg, err := NewRegion([]Polygon{c.poly})
		if err != nil {
			t.Fatalf("NewRegion rejected a simple star polygon: %v\n%#v", err, c.poly)
		}
		var mode byte
		if len(data) > 0 {
			mode = data[len(data)-1] % 6
		}
		site := c.extra
		th := math.Atan2(c.extra.Y, c.extra.X)
		ring := c.poly[0]
		v := ring[int(math.Abs(c.extra.X))%len(ring)]
		switch {
		case mode == 1 && len(c.stops) > 0:
			site = c.stops[0]
		case mode == 2 && len(c.stops) > 0:
			s := c.stops[len(c.stops)-1]
			site = Point{s.X + 2*c.radius*math.Cos(th), s.Y + 2*c.radius*math.Sin(th)}
		case mode == 3 && len(c.stops) > 0:
			s := c.stops[0]
			site = Point{s.X + c.radius*math.Cos(th), s.Y + c.radius*math.Sin(th)}
		case mode == 4:
			site = v
		case mode == 5:
			site = Point{v.X + c.radius*math.Cos(th), v.Y + c.radius*math.Sin(th)}
		}
		got := gainOf(t, reg, c.stops, site, c.radius)
		if !(got >= 0 && got <= math.Pi*c.radius*c.radius*(1+1e-12)) {
			t.Fatalf("gain %v outside [0, πr²]", got)
		}
		want, tol := referenceGain(t, reg, c.stops, site, c.radius)
		if math.Abs(got-want) > tol {
			t.Errorf("site %#v (mode %d), r = %v, stops %#v: gain %.12g, reference %.12g", site, mode, c.radius, c.stops, got, want)
		}
	})
}
