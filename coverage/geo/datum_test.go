package geo

import (
	"math"
	"testing"
)

// groundDistance is the great-circle distance in metres on the mean sphere;
// good to a few parts in a thousand, enough for offset magnitudes.
func groundDistance(lon1, lat1, lon2, lat2 float64) float64 {
	const r = 6371008.8
	p1, p2 := rad(lat1), rad(lat2)
	dp, dl := p2-p1, rad(lon2-lon1)
	h := math.Sin(dp/2)*math.Sin(dp/2) + math.Cos(p1)*math.Cos(p2)*math.Sin(dl/2)*math.Sin(dl/2)
	return 2 * r * math.Asin(math.Sqrt(h))
}

func TestDatumString(t *testing.T) {
	for d, want := range map[Datum]string{
		WGS84:     "WGS-84",
		CGCS2000:  "CGCS2000",
		GCJ02:     "GCJ-02",
		BD09:      "BD-09",
		Datum(4):  "unknown datum",
		Datum(-1): "unknown datum",
	} {
		if got := d.String(); got != want {
			t.Errorf("Datum(%d).String() = %q, want %q", int(d), got, want)
		}
	}
}

// TestWGSToGCJVectors uses the test vectors of the eviltransform project
// (googollee/eviltransform, go/transform_test.go and python/test.py:
// {wgsLat, wgsLng, gcjLat, gcjLng}), reproduced by its many ports.
func TestWGSToGCJVectors(t *testing.T) {
	for _, v := range []struct {
		name                           string
		wgsLat, wgsLon, gcjLat, gcjLon float64
	}{
		{"Shanghai", 31.1774276, 121.5272106, 31.17530398364597, 121.531541859215},
		{"Shenzhen", 22.543847, 113.912316, 22.540796131694766, 113.9171764808363},
		{"Beijing", 39.911954, 116.377817, 39.91334545536069, 116.38404722455657},
	} {
		lon, lat := wgsToGCJ(v.wgsLon, v.wgsLat)
		if math.Abs(lon-v.gcjLon) > 1e-9 || math.Abs(lat-v.gcjLat) > 1e-9 {
			t.Errorf("%s: wgsToGCJ = (%.12f, %.12f), want (%.12f, %.12f)", v.name, lon, lat, v.gcjLon, v.gcjLat)
		}
		lon2, lat2 := GCJ02.FromWGS84(v.wgsLon, v.wgsLat)
		if lon2 != lon || lat2 != lat {
			t.Errorf("%s: GCJ02.FromWGS84 = (%v, %v), wgsToGCJ = (%v, %v)", v.name, lon2, lat2, lon, lat)
		}
		// The inverse recovers the WGS-84 position of the vector to 1e-9°
		// (eviltransform's own exact inverse only promises 0.5 m).
		wl, wa := GCJ02.ToWGS84(v.gcjLon, v.gcjLat)
		if math.Abs(wl-v.wgsLon) > 1e-9 || math.Abs(wa-v.wgsLat) > 1e-9 {
			t.Errorf("%s: GCJ02.ToWGS84(%v, %v) = (%.12f, %.12f), want (%.7f, %.7f)", v.name, v.gcjLon, v.gcjLat, wl, wa, v.wgsLon, v.wgsLat)
		}
	}
}

// TestGCJToBDVector: Shanghai's GCJ-02 position above through Baidu's
// published GCJ-02 → BD-09 formula (the value other ports assert for it).
func TestGCJToBDVector(t *testing.T) {
	lon, lat := gcjToBD(121.531541859215, 31.17530398364597)
	if math.Abs(lon-121.53801568643858) > 1e-9 || math.Abs(lat-31.181328606874466) > 1e-9 {
		t.Errorf("gcjToBD = (%.12f, %.12f), want (121.538015686439, 31.181328606874)", lon, lat)
	}
	lon, lat = BD09.FromWGS84(121.5272106, 31.1774276)
	if math.Abs(lon-121.53801568643858) > 1e-9 || math.Abs(lat-31.181328606874466) > 1e-9 {
		t.Errorf("BD09.FromWGS84(Shanghai) = (%.12f, %.12f), want (121.538015686439, 31.181328606874)", lon, lat)
	}
}

// chineseCities are WGS-84 positions across China, from the far west to the
// north-east and the south coast.
var chineseCities = []struct {
	name     string
	lon, lat float64
}{
	{"Beijing", 116.397, 39.909},
	{"Shanghai", 121.473, 31.230},
	{"Guangzhou", 113.264, 23.129},
	{"Haikou", 110.320, 20.044},
	{"Changchun", 125.324, 43.886},
	{"Yanji", 129.509, 42.891},
	{"Harbin", 126.535, 45.802},
	{"Mohe", 122.539, 52.972},
	{"Hangzhou", 120.155, 30.274},
	{"Chengdu", 104.066, 30.573},
	{"Kunming", 102.833, 24.880},
	{"Xi'an", 108.940, 34.341},
	{"Lanzhou", 103.834, 36.061},
	{"Hohhot", 111.749, 40.842},
	{"Urumqi", 87.617, 43.826},
	{"Kashgar", 75.990, 39.470},
	{"Lhasa", 91.117, 29.647},
}

func TestGCJOffsetMagnitude(t *testing.T) {
	for _, c := range chineseCities {
		lon, lat := GCJ02.FromWGS84(c.lon, c.lat)
		d := groundDistance(c.lon, c.lat, lon, lat)
		if d < 100 || d > 700 {
			t.Errorf("%s: GCJ-02 offset %.1f m, want between 100 and 700 m", c.name, d)
		}
		t.Logf("%s: GCJ-02 offset %.0f m", c.name, d)
	}
}

func TestGCJOutsideChinaIsIdentity(t *testing.T) {
	for _, p := range []struct {
		name     string
		lon, lat float64
	}{
		{"Tokyo", 139.6503, 35.6762},
		{"Denver", -104.9903, 39.7392},
		{"Brisbane", 153.0251, -27.4698},
		{"Rio de Janeiro", -43.1729, -22.9068},
		{"London", -0.1276, 51.5072},
		{"Moscow", 37.6173, 55.7558},
		{"Yakutsk", 129.7331, 62.0355}, // north of the box
		{"Jakarta", 106.8456, -6.2088}, // south of the box
		{"Null Island", 0, 0},
		{"the North Pole", 0, 90},
	} {
		if lon, lat := GCJ02.FromWGS84(p.lon, p.lat); lon != p.lon || lat != p.lat {
			t.Errorf("%s: GCJ02.FromWGS84 = (%v, %v), want the input unchanged", p.name, lon, lat)
		}
		if lon, lat := GCJ02.ToWGS84(p.lon, p.lat); lon != p.lon || lat != p.lat {
			t.Errorf("%s: GCJ02.ToWGS84 = (%v, %v), want the input unchanged", p.name, lon, lat)
		}
	}
}

func TestWGSAndCGCS2000AreIdentity(t *testing.T) {
	for _, d := range []Datum{WGS84, CGCS2000, Datum(7)} {
		for _, c := range chineseCities {
			if lon, lat := d.FromWGS84(c.lon, c.lat); lon != c.lon || lat != c.lat {
				t.Errorf("%v.FromWGS84(%s) = (%v, %v), want unchanged", d, c.name, lon, lat)
			}
			if lon, lat := d.ToWGS84(c.lon, c.lat); lon != c.lon || lat != c.lat {
				t.Errorf("%v.ToWGS84(%s) = (%v, %v), want unchanged", d, c.name, lon, lat)
			}
		}
	}
}

// chinaGrid calls fn on a grid of points over mainland China's longitudes and
// latitudes, kept a degree inside the GCJ-02 bounding box so that the
// forward image of every point is still inside it.
func chinaGrid(fn func(lon, lat float64)) int {
	n := 0
	for lon := 74.0; lon <= 135.0; lon += 0.731 {
		for lat := 18.0; lat <= 53.5; lat += 0.613 {
			fn(lon, lat)
			n++
		}
	}
	return n
}

func TestGCJRoundTrip(t *testing.T) {
	bad := 0
	n := chinaGrid(func(lon, lat float64) {
		g0, g1 := wgsToGCJ(lon, lat)
		w0, w1 := gcjToWGS(g0, g1)
		if math.Abs(w0-lon) > 1e-9 || math.Abs(w1-lat) > 1e-9 {
			if bad++; bad <= 5 {
				t.Errorf("gcjToWGS(wgsToGCJ(%v, %v)) = (%.12f, %.12f)", lon, lat, w0, w1)
			}
		}
		// And the other way: a GCJ-02 position back to itself.
		w0, w1 = GCJ02.ToWGS84(lon, lat)
		g0, g1 = GCJ02.FromWGS84(w0, w1)
		if math.Abs(g0-lon) > 1e-9 || math.Abs(g1-lat) > 1e-9 {
			if bad++; bad <= 5 {
				t.Errorf("FromWGS84(ToWGS84(%v, %v)) = (%.12f, %.12f) for GCJ-02", lon, lat, g0, g1)
			}
		}
	})
	if bad > 0 {
		t.Errorf("%d of %d round trips off by more than 1e-9°", bad, 2*n)
	}
}

func TestBDRoundTrip(t *testing.T) {
	bad := 0
	n := chinaGrid(func(lon, lat float64) {
		b0, b1 := BD09.FromWGS84(lon, lat)
		w0, w1 := BD09.ToWGS84(b0, b1)
		if math.Abs(w0-lon) > 1e-9 || math.Abs(w1-lat) > 1e-9 {
			if bad++; bad <= 5 {
				t.Errorf("BD09.ToWGS84(BD09.FromWGS84(%v, %v)) = (%.12f, %.12f)", lon, lat, w0, w1)
			}
		}
		// BD-09 ↔ GCJ-02 alone, both ways.
		c0, c1 := bdToGCJ(gcjToBD(lon, lat))
		if math.Abs(c0-lon) > 1e-9 || math.Abs(c1-lat) > 1e-9 {
			if bad++; bad <= 5 {
				t.Errorf("bdToGCJ(gcjToBD(%v, %v)) = (%.12f, %.12f)", lon, lat, c0, c1)
			}
		}
		d0, d1 := gcjToBD(bdToGCJ(lon, lat))
		if math.Abs(d0-lon) > 1e-9 || math.Abs(d1-lat) > 1e-9 {
			if bad++; bad <= 5 {
				t.Errorf("gcjToBD(bdToGCJ(%v, %v)) = (%.12f, %.12f)", lon, lat, d0, d1)
			}
		}
	})
	if bad > 0 {
		t.Errorf("%d of %d round trips off by more than 1e-9°", bad, 3*n)
	}
}

// TestBDOffset: BD-09 adds about (0.0065°, 0.006°) to GCJ-02, 750 to 1000 m.
func TestBDOffset(t *testing.T) {
	for _, c := range chineseCities {
		g0, g1 := GCJ02.FromWGS84(c.lon, c.lat)
		b0, b1 := BD09.FromWGS84(c.lon, c.lat)
		d := groundDistance(g0, g1, b0, b1)
		if d < 600 || d > 1100 {
			t.Errorf("%s: BD-09 is %.1f m from GCJ-02, want 600 to 1100 m", c.name, d)
		}
		if b0 <= g0 || b1 <= g1 {
			t.Errorf("%s: BD-09 (%v, %v) is not north-east of GCJ-02 (%v, %v)", c.name, b0, b1, g0, g1)
		}
	}
}
