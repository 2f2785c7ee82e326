package geo

import (
	"fmt"
	"math"
	"strings"
	"testing"
)

// GRS 1980, the ellipsoid of the IOGP example (ETRS89).
const (
	grs80A    = 6378137.0
	grs80InvF = 298.257222101
)

var grs80E2 = func() float64 { f := 1 / grs80InvF; return f * (2 - f) }()

// The centre of the test area: Changchun.
const (
	centreLon = 125.32
	centreLat = 43.88
)

func rad(deg float64) float64 { return deg * math.Pi / 180 }

// TestLAEAIOGPExample is the worked example of IOGP Guidance Note 7-2 for
// EPSG method 9820 (ETRS89 / LAEA Europe, EPSG:3035).
func TestLAEAIOGPExample(t *testing.T) {
	p := newLAEA(grs80A, grs80E2, 10, 52, 4321000, 3210000)
	const wantE, wantN = 3962799.45, 2999718.85
	e, n := p.Forward(5, 50)
	if math.Abs(e-wantE) > 0.01 || math.Abs(n-wantN) > 0.01 {
		t.Errorf("Forward(5°E, 50°N) = (%.4f, %.4f), want (%.2f, %.2f) to 0.01 m", e, n, wantE, wantN)
	}

	// Reverse of the unrounded forward result: the projection's own round trip.
	lon, lat := p.Inverse(e, n)
	if math.Abs(lon-5) > 1e-9 || math.Abs(lat-50) > 1e-9 {
		t.Errorf("Inverse(Forward(5°E, 50°N)) = (%.12f, %.12f), want (5, 50) to 1e-9°", lon, lat)
	}
	// Reverse of the published (0.01 m-rounded) values: half a centimetre is
	// about 7e-8° of longitude and 5e-8° of latitude here.
	lon, lat = p.Inverse(wantE, wantN)
	if math.Abs(lon-5) > 1e-7 || math.Abs(lat-50) > 1e-7 {
		t.Errorf("Inverse(%.2f, %.2f) = (%.10f, %.10f), want (5, 50) to the rounding of the example", wantE, wantN, lon, lat)
	}

	// The origin maps to the false origin and back.
	e0, n0 := p.Forward(10, 52)
	if math.Abs(e0-4321000) > 1e-6 || math.Abs(n0-3210000) > 1e-6 {
		t.Errorf("Forward(origin) = (%.6f, %.6f), want (4321000, 3210000)", e0, n0)
	}
	lon, lat = p.Inverse(4321000, 3210000)
	if lon != 10 || lat != 52 {
		t.Errorf("Inverse(false origin) = (%v, %v), want (10, 52)", lon, lat)
	}
}

// TestLAEARoundTrip checks Inverse(Forward(p)) = p to 1e-9° (about 0.1 mm)
// over points within 300 km of a centre in Changchun.
func TestLAEARoundTrip(t *testing.T) {
	p := NewLAEA(centreLon, centreLat, 0, 0)
	var n, bad int
	worst, worstLon, worstLat := 0.0, 0.0, 0.0
	for dlat := -2.75; dlat <= 2.75; dlat += 0.0917 {
		for dlon := -4.1; dlon <= 4.1; dlon += 0.1231 {
			lon, lat := centreLon+dlon, centreLat+dlat
			x, y := p.Forward(lon, lat)
			if math.Hypot(x, y) > 300_000 {
				continue
			}
			n++
			lon2, lat2 := p.Inverse(x, y)
			d := math.Max(math.Abs(lon2-lon), math.Abs(lat2-lat))
			if d > 1e-9 {
				bad++
			}
			if d > worst {
				worst, worstLon, worstLat = d, lon, lat
			}
		}
	}
	if n < 1000 {
		t.Errorf("only %d points within 300 km", n)
	}
	if bad > 0 {
		t.Errorf("Inverse(Forward(p)) is off by more than 1e-9° at %d of %d points; worst %.3g° (%.2g mm) at (%.4f, %.4f)",
			bad, n, worst, worst*math.Pi/180*wgsA*1000, worstLon, worstLat)
	}
	t.Logf("%d points, worst round-trip error %.3g°", n, worst)
}

// qAuthalic is q(φ) of Snyder (3-12), written with atanh to be independent of
// the projection's own expression.
func qAuthalic(e2, phi float64) float64 {
	e := math.Sqrt(e2)
	s := math.Sin(phi)
	return (1 - e2) * (s/(1-e2*s*s) + math.Atanh(e*s)/e)
}

// cellArea is the exact area on the ellipsoid of the cell between latitudes
// lat1 < lat2 and dlon degrees of longitude. The area element is
// a²(1−e²)cosφ/(1−e²sin²φ)² dφ dλ and dq/dφ = 2(1−e²)cosφ/(1−e²sin²φ)², so
// A = (a²/2)·Δλ·(q(φ2) − q(φ1)) = R_q²·Δλ·(sinβ2 − sinβ1) with R_q² = a²q_p/2.
func cellArea(a, e2, lat1, lat2, dlon float64) float64 {
	return a * a / 2 * rad(dlon) * (qAuthalic(e2, rad(lat2)) - qAuthalic(e2, rad(lat1)))
}

// projectedCellArea is the plane area of the image of the lat/lon cell, its
// sides (images of meridians and parallels, curves in the plane) sampled with
// k points each, by the shoelace formula relative to the first vertex.
func projectedCellArea(p *LAEA, lon1, lat1, lon2, lat2 float64, k int) float64 {
	var ring [][2]float64
	side := func(fromLon, fromLat, toLon, toLat float64) {
		for i := range k {
			f := float64(i) / float64(k)
			x, y := p.Forward(fromLon+f*(toLon-fromLon), fromLat+f*(toLat-fromLat))
			ring = append(ring, [2]float64{x, y})
		}
	}
	side(lon1, lat1, lon2, lat1)
	side(lon2, lat1, lon2, lat2)
	side(lon2, lat2, lon1, lat2)
	side(lon1, lat2, lon1, lat1)
	o := ring[0]
	var s float64
	for i := 1; i+1 < len(ring); i++ {
		s += (ring[i][0]-o[0])*(ring[i+1][1]-o[1]) - (ring[i][1]-o[1])*(ring[i+1][0]-o[0])
	}
	return s / 2
}

func TestLAEAEqualArea(t *testing.T) {
	p := NewLAEA(centreLon, centreLat, 0, 0)
	const d = 0.01
	for _, c := range []struct {
		name     string
		lon, lat float64 // south-west corner
	}{
		{"at the centre", centreLon - d/2, centreLat - d/2},
		{"70 km north-east", centreLon + 0.6, centreLat + 0.45},
		{"200 km south-west", centreLon - 1.8, centreLat - 1.3},
		{"280 km west", centreLon - 3.5, centreLat},
	} {
		want := cellArea(wgsA, wgsE2, c.lat, c.lat+d, d)
		got := projectedCellArea(p, c.lon, c.lat, c.lon+d, c.lat+d, 200)
		if rel := math.Abs(got/want - 1); rel > 1e-9 {
			t.Errorf("%s: projected area of the 0.01° cell = %.6f m², ellipsoidal %.6f m², relative error %.3g > 1e-9", c.name, got, want, rel)
		} else {
			t.Logf("%s: %.6f m² vs %.6f m² (relative %.2g)", c.name, got, want, rel)
		}
	}
	// The formula itself: the whole ellipsoid is 4π R_q² = 510,065,621.7 km² for WGS-84.
	total := 2 * cellArea(wgsA, wgsE2, 0, 90, 360)
	if math.Abs(total-5.100656217e14) > 1e5 {
		t.Errorf("ellipsoid area from cellArea = %.1f m², want about 5.100656217e14", total)
	}
}

// vincentyInverse is the geodesic distance in metres between two points on
// the ellipsoid (a, f) by Vincenty's inverse formula, iterated to
// convergence; for lines of a few hundred metres it is exact to far better
// than 1e-9 (relative).
func vincentyInverse(a, f, lon1, lat1, lon2, lat2 float64) float64 {
	b := a * (1 - f)
	L := rad(lon2 - lon1)
	u1 := math.Atan((1 - f) * math.Tan(rad(lat1)))
	u2 := math.Atan((1 - f) * math.Tan(rad(lat2)))
	sinU1, cosU1 := math.Sincos(u1)
	sinU2, cosU2 := math.Sincos(u2)
	lambda := L
	var sinSigma, cosSigma, sigma, cos2Alpha, cos2SigmaM float64
	for range 200 {
		sinL, cosL := math.Sincos(lambda)
		sinSigma = math.Hypot(cosU2*sinL, cosU1*sinU2-sinU1*cosU2*cosL)
		if sinSigma == 0 {
			return 0
		}
		cosSigma = sinU1*sinU2 + cosU1*cosU2*cosL
		sigma = math.Atan2(sinSigma, cosSigma)
		sinAlpha := cosU1 * cosU2 * sinL / sinSigma
		cos2Alpha = 1 - sinAlpha*sinAlpha
		cos2SigmaM = 0
		if cos2Alpha != 0 {
			cos2SigmaM = cosSigma - 2*sinU1*sinU2/cos2Alpha
		}
		C := f / 16 * cos2Alpha * (4 + f*(4-3*cos2Alpha))
		prev := lambda
		lambda = L + (1-C)*f*sinAlpha*(sigma+C*sinSigma*(cos2SigmaM+C*cosSigma*(-1+2*cos2SigmaM*cos2SigmaM)))
		if math.Abs(lambda-prev) < 1e-15 {
			break
		}
	}
	u2sq := cos2Alpha * (a*a - b*b) / (b * b)
	A := 1 + u2sq/16384*(4096+u2sq*(-768+u2sq*(320-175*u2sq)))
	B := u2sq / 1024 * (256 + u2sq*(-128+u2sq*(74-47*u2sq)))
	deltaSigma := B * sinSigma * (cos2SigmaM + B/4*(cosSigma*(-1+2*cos2SigmaM*cos2SigmaM)-
		B/6*cos2SigmaM*(-3+4*sinSigma*sinSigma)*(-3+4*cos2SigmaM*cos2SigmaM)))
	return b * A * (sigma - deltaSigma)
}

// meridianArc integrates the meridian radius of curvature from lat1 to lat2
// (Simpson's rule, exact to rounding over a few hundred metres).
func meridianArc(a, e2, lat1, lat2 float64) float64 {
	const n = 64
	h := (rad(lat2) - rad(lat1)) / n
	m := func(phi float64) float64 {
		s := math.Sin(phi)
		return a * (1 - e2) / math.Pow(1-e2*s*s, 1.5)
	}
	sum := m(rad(lat1)) + m(rad(lat2))
	for i := 1; i < n; i++ {
		w := 2.0
		if i%2 == 1 {
			w = 4
		}
		sum += w * m(rad(lat1)+float64(i)*h)
	}
	return sum * h / 3
}

func dms(d, m, s float64) float64 { return d + m/60 + s/3600 }

// TestVincentyHelper checks the test's own geodesic against Vincenty's
// published example (Flinders Peak to Buninyong, GRS 1980: 54,972.271 m) and
// against a meridian arc of 300 m.
func TestVincentyHelper(t *testing.T) {
	s := vincentyInverse(grs80A, 1/grs80InvF,
		dms(144, 25, 29.52440), -dms(37, 57, 3.72030),
		dms(143, 55, 35.38390), -dms(37, 39, 10.15610))
	if math.Abs(s-54972.271) > 0.001 {
		t.Errorf("Flinders Peak - Buninyong = %.4f m, want 54972.271", s)
	}
	lat2 := centreLat + 300/111_100.0
	v := vincentyInverse(wgsA, wgsF, centreLon, centreLat, centreLon, lat2)
	m := meridianArc(wgsA, wgsE2, centreLat, lat2)
	if math.Abs(v/m-1) > 1e-11 {
		t.Errorf("Vincenty along a meridian = %.12f m, meridian arc %.12f m", v, m)
	}
}

// TestLAEAScale measures how far a 300 m ground distance is from its plane
// image 50 km and 70 km from the centre, in radial, tangential and diagonal
// directions, against the bounds laea.go states (1.7e-5 at 50 km, 2.8e-5 at
// 70 km, 2.4e-4 at 250 km; on the sphere the scales would be cos(c/2) and
// 1/cos(c/2) with c = ρ/R, a deviation of about ρ²/(8R²), but on the
// ellipsoid the authalic latitude adds a term that grows linearly north–south).
func TestLAEAScale(t *testing.T) {
	p := NewLAEA(centreLon, centreLat, 0, 0)
	const step = 300.0
	bounds := map[float64]float64{50_000: 1.7e-5, 70_000: 2.8e-5, 250_000: 2.4e-4}
	for _, rho := range []float64{50_000, 70_000, 250_000} {
		worst, worstAt := 0.0, ""
		for k := range 16 {
			th := float64(k) * math.Pi / 8
			ux, uy := math.Cos(th), math.Sin(th) // radial unit vector
			x1, y1 := rho*ux, rho*uy
			for _, dir := range []struct {
				name   string
				dx, dy float64
			}{
				{"radial", ux, uy},
				{"tangential", -uy, ux},
				{"diagonal", (ux - uy) / math.Sqrt2, (uy + ux) / math.Sqrt2},
			} {
				lon1, lat1 := p.Inverse(x1, y1)
				lon2, lat2 := p.Inverse(x1+step*dir.dx, y1+step*dir.dy)
				ex1, ny1 := p.Forward(lon1, lat1)
				ex2, ny2 := p.Forward(lon2, lat2)
				planar := math.Hypot(ex2-ex1, ny2-ny1)
				ground := vincentyInverse(wgsA, wgsF, lon1, lat1, lon2, lat2)
				if rel := math.Abs(planar/ground - 1); rel > worst {
					worst = rel
					worstAt = fmt.Sprintf("bearing %.1f° from the centre (0° = east), %s: plane %.6f m, ground %.6f m",
						th*180/math.Pi, dir.name, planar, ground)
				}
			}
		}
		r := wgsA * math.Sqrt(1-wgsE2) / (1 - wgsE2*math.Pow(math.Sin(rad(centreLat)), 2)) // local mean radius
		spherical := rho * rho / (8 * r * r)
		if worst >= bounds[rho] {
			t.Errorf("ρ = %.0f km: relative distance error %.3g ≥ %.2g at %s (the spherical estimate ρ²/8R² is %.3g)",
				rho/1000, worst, bounds[rho], worstAt, spherical)
		}
		t.Logf("ρ = %.0f km: worst relative distance error over 300 m = %.3g at %s (ρ²/8R² = %.3g)", rho/1000, worst, worstAt, spherical)
	}
}

func TestLAEAString(t *testing.T) {
	s := NewLAEA(centreLon, centreLat, 0, 0).String()
	for _, want := range []string{"9820", "WGS-84", "125.320000", "43.880000"} {
		if !strings.Contains(s, want) {
			t.Errorf("String() = %q, want it to contain %q", s, want)
		}
	}
}
