// Package scenarios generates the deterministic, synthetic inputs of the
// coverage benchmarks: a polygonal area in planar metres (an equal-area plane,
// as package geo produces) and a set of bus stops clustered the way real
// networks are.
//
// Every scenario is a pure function of its name: the generators use
// math/rand/v2's PCG with fixed seeds and no global state, so the same Go
// release on the same architecture produces bit-identical coordinates. (The
// Go spec lets some architectures fuse multiply-adds, so the last bits may
// differ between, say, amd64 and arm64; the comparison script therefore
// writes the scenarios to files once and feeds the same files to every
// engine.)
//
// Areas are star-shaped rings with jittered radii around their centre:
// vertices at strictly increasing angles around a point make a simple ring,
// so every generated area is a valid polygon (holes strictly inside their
// outer ring, parts of a MultiPolygon disjoint) by construction, and is then
// scaled to its exact target area.
//
// Stops follow bus lines (random walks with momentum that start near the
// centre of the area, a stop every few hundred metres, often in pairs on both
// sides of the street), plus uniform scatter over the bounding box, a few far
// outside the area (they must cover nothing) and a few exact duplicates (the
// same stop listed by two lines).
package scenarios

import (
	"fmt"
	"math"
	"math/rand/v2"

	"github.com/civic-standards/coverage/coverage/geometry"
)

// Radius is the coverage radius of every scenario, in metres: the 300 m of
// the national stop-coverage indicator (docs/standards.md, T18-STOP-COVERAGE-300M).
const Radius = 300.0

// Scenario is one benchmark input.
type Scenario struct {
	Name        string
	Description string
	// Radius of the disks around the stops, in metres.
	Radius float64
	// Polygons is the area: one or more polygons (outer ring, then holes),
	// rings without the repeated closing vertex, coordinates in metres.
	Polygons []geometry.Polygon
	// Stops in metres; some lie outside the area and some repeat.
	Stops []geometry.Point
	// AreaM2 is the area of Polygons (the generator scales to it exactly, up
	// to rounding).
	AreaM2 float64
}

// Vertices is the number of vertices of all rings.
func (s *Scenario) Vertices() int {
	n := 0
	for _, p := range s.Polygons {
		for _, r := range p {
			n += len(r)
		}
	}
	return n
}

// spec describes a scenario.
type spec struct {
	name, desc string
	seed       uint64
	stops      int
	areaKm2    float64
	// spacing is the mean distance between consecutive stops of a line, in metres.
	spacing float64
	// parts: one entry per polygon of the area: its outer-ring vertex count
	// and the vertex counts of its holes. The first part is the main one.
	parts []part
}

type part struct {
	vertices int
	holes    []int
	// weight is the part's share of the area before scaling (relative to
	// the main part's 1).
	weight float64
}

var specs = []spec{
	{
		name: "town", seed: 1, stops: 40, areaKm2: 5, spacing: 350,
		desc:  "40 stops over a 5 km² non-convex 30-vertex polygon",
		parts: []part{{vertices: 30, weight: 1}},
	},
	{
		name: "mid", seed: 2, stops: 1200, areaKm2: 120, spacing: 400,
		desc:  "1,200 stops over a 120 km² polygon with a hole (348 vertices)",
		parts: []part{{vertices: 300, holes: []int{48}, weight: 1}},
	},
	{
		name: "large", seed: 3, stops: 5000, areaKm2: 500, spacing: 400,
		desc: "5,000 stops over a 500 km² MultiPolygon (3 parts, 2 holes, 2,000 vertices)",
		parts: []part{
			{vertices: 1300, holes: []int{120, 80}, weight: 1},
			{vertices: 300, weight: 0.18},
			{vertices: 200, weight: 0.08},
		},
	},
	{
		name: "stress50k", seed: 4, stops: 50_000, areaKm2: 1500, spacing: 350,
		desc:  "50,000 stops over a 1,500 km² polygon with a hole (1,100 vertices)",
		parts: []part{{vertices: 1000, holes: []int{100}, weight: 1}},
	},
	{
		// Same area as stress50k (same seed for the area stream).
		name: "stress1m", seed: 4, stops: 1_000_000, areaKm2: 1500, spacing: 250,
		desc:  "1,000,000 stops over the 1,500 km² area of stress50k",
		parts: []part{{vertices: 1000, holes: []int{100}, weight: 1}},
	},
}

// Names lists the scenarios, smallest first.
func Names() []string {
	out := make([]string, len(specs))
	for i, s := range specs {
		out[i] = s.name
	}
	return out
}

func lookup(name string) (spec, error) {
	for _, s := range specs {
		if s.name == name {
			return s, nil
		}
	}
	return spec{}, fmt.Errorf("scenarios: unknown scenario %q (have %v)", name, Names())
}

// Area generates only the area of the named scenario (cheap even for
// stress1m); it equals Get(name).Polygons.
func Area(name string) ([]geometry.Polygon, float64, error) {
	s, err := lookup(name)
	if err != nil {
		return nil, 0, err
	}
	polys, area := s.area()
	return polys, area, nil
}

// Get generates the named scenario.
func Get(name string) (*Scenario, error) {
	s, err := lookup(name)
	if err != nil {
		return nil, err
	}
	polys, area := s.area()
	return &Scenario{
		Name:        s.name,
		Description: s.desc,
		Radius:      Radius,
		Polygons:    polys,
		Stops:       s.makeStops(polys),
		AreaM2:      area,
	}, nil
}

// MustGet is Get for names known to exist.
func MustGet(name string) *Scenario {
	s, err := Get(name)
	if err != nil {
		panic(err)
	}
	return s
}

// ---- areas ----

// star returns a ring of n vertices around c, counter-clockwise, at strictly
// increasing angles (so the ring is simple and star-shaped about c), with
// radii base·shape(θ)·jitter, between 0.26·base and maxFactor·base. maxR and
// minR are its extreme vertex radii.
// maxFactor bounds star's radius factor: (1 + 5·0.12)·1.12.
const maxFactor = 1.8

func star(rng *rand.Rand, c geometry.Point, n int, base float64) (ring geometry.Ring, minR, maxR float64) {
	// A few low harmonics give lobes and bays; per-vertex jitter and every
	// fifth vertex pulled in give small non-convex notches.
	type harm struct{ k, amp, phase float64 }
	var hs []harm
	for k := 2.0; k <= 6; k++ {
		hs = append(hs, harm{k, rng.Float64() * 0.12, rng.Float64() * 2 * math.Pi})
	}
	phase0 := rng.Float64() * 2 * math.Pi
	ring = make(geometry.Ring, n)
	minR, maxR = math.Inf(1), 0
	step := 2 * math.Pi / float64(n)
	for i := range n {
		theta := phase0 + (float64(i)+0.6*(rng.Float64()-0.5))*step
		f := 1.0
		for _, h := range hs {
			f += h.amp * math.Cos(h.k*theta+h.phase)
		}
		f *= 0.88 + 0.24*rng.Float64()
		if i%5 == 2 {
			f *= 0.75
		}
		r := base * f
		minR, maxR = math.Min(minR, r), math.Max(maxR, r)
		ring[i] = geometry.Point{X: c.X + r*math.Cos(theta), Y: c.Y + r*math.Sin(theta)}
	}
	return ring, minR, maxR
}

// ringArea is the signed (counter-clockwise positive) area of a ring.
func ringArea(r geometry.Ring) float64 {
	o := r[0]
	s := 0.0
	for i := 1; i+1 < len(r); i++ {
		ax, ay := r[i].X-o.X, r[i].Y-o.Y
		bx, by := r[i+1].X-o.X, r[i+1].Y-o.Y
		s += ax*by - ay*bx
	}
	return s / 2
}

// reversed returns the ring in the opposite orientation (holes clockwise, as
// RFC 7946 asks; the engine accepts either).
func reversed(r geometry.Ring) geometry.Ring {
	out := make(geometry.Ring, len(r))
	for i, p := range r {
		out[len(r)-1-i] = p
	}
	return out
}

func segDist(p, a, b geometry.Point) float64 {
	dx, dy := b.X-a.X, b.Y-a.Y
	t := 0.0
	if l := dx*dx + dy*dy; l > 0 {
		t = math.Max(0, math.Min(1, ((p.X-a.X)*dx+(p.Y-a.Y)*dy)/l))
	}
	return math.Hypot(a.X+t*dx-p.X, a.Y+t*dy-p.Y)
}

func inRing(p geometry.Point, r geometry.Ring) bool {
	in := false
	for i, j := 0, len(r)-1; i < len(r); j, i = i, i+1 {
		a, b := r[i], r[j]
		if (a.Y > p.Y) != (b.Y > p.Y) && p.X < a.X+(p.Y-a.Y)*(b.X-a.X)/(b.Y-a.Y) {
			in = !in
		}
	}
	return in
}

// ringDist is the distance from p to the nearest edge of r.
func ringDist(p geometry.Point, r geometry.Ring) float64 {
	d := math.Inf(1)
	for i := range r {
		d = math.Min(d, segDist(p, r[i], r[(i+1)%len(r)]))
	}
	return d
}

// area builds the polygons in units where the main part has a base radius of
// 1 and scales them to the target area.
func (s spec) area() ([]geometry.Polygon, float64) {
	rng := rand.New(rand.NewPCG(s.seed, 0xA4EA))
	var polys []geometry.Polygon
	type disk struct {
		c geometry.Point
		r float64
	}
	var placed []disk
	for pi, pt := range s.parts {
		base := math.Sqrt(pt.weight)
		var c geometry.Point
		if pi > 0 {
			// Place the part outside every earlier part's circumscribed
			// circle, with a gap, in a random direction: parts are disjoint.
			maxR := base * maxFactor
			for {
				phi := rng.Float64() * 2 * math.Pi
				d := placed[0].r + maxR + 0.15 + rng.Float64()*0.4
				c = geometry.Point{X: d * math.Cos(phi), Y: d * math.Sin(phi)}
				ok := true
				for _, q := range placed {
					if math.Hypot(c.X-q.c.X, c.Y-q.c.Y) < q.r+maxR+0.1 {
						ok = false
						break
					}
				}
				if ok {
					break
				}
			}
		}
		outer, _, maxR := star(rng, c, pt.vertices, base)
		placed = append(placed, disk{c, maxR})
		poly := geometry.Polygon{outer}
		// Holes: disjoint small stars, each well inside the outer ring.
		var holes []disk
		for _, hn := range pt.holes {
			for attempt := 0; ; attempt++ {
				if attempt > 10000 {
					panic("scenarios: cannot place a hole")
				}
				hc := geometry.Point{
					X: c.X + (rng.Float64()-0.5)*base,
					Y: c.Y + (rng.Float64()-0.5)*base,
				}
				if !inRing(hc, outer) {
					continue
				}
				room := ringDist(hc, outer)
				for _, h := range holes {
					room = math.Min(room, math.Hypot(hc.X-h.c.X, hc.Y-h.c.Y)-h.r)
				}
				// The hole's vertices stay within 0.675·room of hc (its
				// radius factor is at most maxFactor), clear of every edge.
				hb := math.Min(0.375*room, 0.12*base)
				if hb < 0.05*base {
					continue
				}
				hr, _, hmax := star(rng, hc, hn, hb)
				if hmax >= 0.9*room {
					continue
				}
				holes = append(holes, disk{hc, hmax})
				poly = append(poly, reversed(hr))
				break
			}
		}
		polys = append(polys, poly)
	}
	net := 0.0
	for _, p := range polys {
		for ri, r := range p {
			if ri == 0 {
				net += math.Abs(ringArea(r))
			} else {
				net -= math.Abs(ringArea(r))
			}
		}
	}
	target := s.areaKm2 * 1e6
	k := math.Sqrt(target / net)
	for _, p := range polys {
		for _, r := range p {
			for i := range r {
				r[i].X *= k
				r[i].Y *= k
			}
		}
	}
	return polys, net * k * k
}

// ---- stops ----

type bbox struct{ min, max geometry.Point }

func boundsOf(polys []geometry.Polygon) bbox {
	b := bbox{geometry.Point{X: math.Inf(1), Y: math.Inf(1)}, geometry.Point{X: math.Inf(-1), Y: math.Inf(-1)}}
	for _, p := range polys {
		for _, q := range p[0] {
			b.min.X, b.min.Y = math.Min(b.min.X, q.X), math.Min(b.min.Y, q.Y)
			b.max.X, b.max.Y = math.Max(b.max.X, q.X), math.Max(b.max.Y, q.Y)
		}
	}
	return b
}

// Shares of the stops by kind; the rest follow lines.
const (
	scatterShare   = 0.12
	farShare       = 0.005
	duplicateShare = 0.01
)

func (s spec) makeStops(polys []geometry.Polygon) []geometry.Point {
	rng := rand.New(rand.NewPCG(s.seed, uint64(s.stops)))
	n := s.stops
	nFar := max(1, int(math.Round(farShare*float64(n))))
	nDup := max(1, int(math.Round(duplicateShare*float64(n))))
	nScatter := int(math.Round(scatterShare * float64(n)))
	nLine := n - nFar - nDup - nScatter
	b := boundsOf(polys)
	w, h := b.max.X-b.min.X, b.max.Y-b.min.Y
	stops := make([]geometry.Point, 0, n)

	// Lines start near the centre of a part (chosen by outer-ring area) and
	// wander outwards.
	type centre struct {
		c      geometry.Point
		r      float64
		weight float64
	}
	var cs []centre
	totalW := 0.0
	for _, p := range polys {
		var c geometry.Point
		for _, q := range p[0] {
			c.X += q.X
			c.Y += q.Y
		}
		c.X /= float64(len(p[0]))
		c.Y /= float64(len(p[0]))
		a := math.Abs(ringArea(p[0]))
		cs = append(cs, centre{c, math.Sqrt(a / math.Pi), a})
		totalW += a
	}
	pick := func() centre {
		x := rng.Float64() * totalW
		for _, c := range cs {
			if x < c.weight {
				return c
			}
			x -= c.weight
		}
		return cs[len(cs)-1]
	}
	margin := 1000.0
	for len(stops) < nLine {
		c := pick()
		p := geometry.Point{X: c.c.X + rng.NormFloat64()*0.35*c.r, Y: c.c.Y + rng.NormFloat64()*0.35*c.r}
		heading := rng.Float64() * 2 * math.Pi
		length := (0.5 + rng.Float64()) * 1.5 * c.r
		for walked := 0.0; walked < length && len(stops) < nLine; {
			step := s.spacing * (0.6 + 0.8*rng.Float64())
			heading += rng.NormFloat64() * 0.18
			p.X += step * math.Cos(heading)
			p.Y += step * math.Sin(heading)
			walked += step
			// Lines mostly stay in town: beyond the part's equivalent radius
			// they tend to turn back towards its centre, and beyond the box
			// plus a margin they always do.
			dx, dy := p.X-c.c.X, p.Y-c.c.Y
			if (dx*dx+dy*dy > c.r*c.r && rng.Float64() < 0.5) ||
				p.X < b.min.X-margin || p.X > b.max.X+margin || p.Y < b.min.Y-margin || p.Y > b.max.Y+margin {
				heading = math.Atan2(-dy, -dx) + rng.NormFloat64()*0.5
			}
			// Perpendicular to the street: one stop on one side, or a pair
			// facing each other across it.
			nx, ny := -math.Sin(heading), math.Cos(heading)
			side := 8 + 12*rng.Float64()
			if rng.IntN(2) == 0 {
				side = -side
			}
			stops = append(stops, geometry.Point{X: p.X + side*nx, Y: p.Y + side*ny})
			if rng.Float64() < 0.55 && len(stops) < nLine {
				along := (rng.Float64() - 0.5) * 60
				stops = append(stops, geometry.Point{
					X: p.X - side*nx + along*math.Cos(heading),
					Y: p.Y - side*ny + along*math.Sin(heading),
				})
			}
		}
	}
	for range nScatter {
		stops = append(stops, geometry.Point{X: b.min.X + rng.Float64()*w, Y: b.min.Y + rng.Float64()*h})
	}
	// Far outside: 5–40 km beyond the box, covering nothing.
	for range nFar {
		phi := rng.Float64() * 2 * math.Pi
		d := math.Hypot(w, h)/2 + 5000 + rng.Float64()*35000
		cx, cy := (b.min.X+b.max.X)/2, (b.min.Y+b.max.Y)/2
		stops = append(stops, geometry.Point{X: cx + d*math.Cos(phi), Y: cy + d*math.Sin(phi)})
	}
	for range nDup {
		stops = append(stops, stops[rng.IntN(len(stops))])
	}
	rng.Shuffle(len(stops), func(i, j int) { stops[i], stops[j] = stops[j], stops[i] })
	return stops
}
