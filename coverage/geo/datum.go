package geo

import "math"

// Datum is the coordinate system of longitude/latitude input.
type Datum int

// The datums.
const (
	WGS84    Datum = iota // WGS-84, and the GeoJSON default
	CGCS2000              // China Geodetic Coordinate System 2000, within centimetres of WGS-84
	GCJ02                 // the obfuscated datum of Amap and Tencent
	BD09                  // Baidu's datum, a further offset of GCJ-02
)

func (d Datum) String() string {
	switch d {
	case WGS84:
		return "WGS-84"
	case CGCS2000:
		return "CGCS2000"
	case GCJ02:
		return "GCJ-02"
	case BD09:
		return "BD-09"
	}
	return "unknown datum"
}

// ToWGS84 converts a position in the datum to WGS-84.
//
// GCJ-02 has no published inverse: its forward formula (WGS-84 → GCJ-02, the
// widely reproduced reconstruction with the Krasovsky ellipsoid parameters) is
// inverted by fixed-point iteration until the forward image of the result is
// within 1e-10° (about 0.01 mm) of the input, which takes 3 to 5 steps. The
// forward formula itself reproduces the official offsets to about 1 m; outside
// China (the usual bounding-box test) GCJ-02 equals WGS-84. BD-09 → GCJ-02 is
// Baidu's published closed-form inverse, refined the same way against the
// forward formula.
func (d Datum) ToWGS84(lon, lat float64) (float64, float64) {
	switch d {
	case GCJ02:
		return gcjToWGS(lon, lat)
	case BD09:
		return gcjToWGS(bdToGCJ(lon, lat))
	}
	return lon, lat
}

// FromWGS84 converts a WGS-84 position to the datum.
func (d Datum) FromWGS84(lon, lat float64) (float64, float64) {
	switch d {
	case GCJ02:
		return wgsToGCJ(lon, lat)
	case BD09:
		return gcjToBD(wgsToGCJ(lon, lat))
	}
	return lon, lat
}

const (
	gcjA  = 6378245.0              // Krasovsky 1940 semi-major axis
	gcjEE = 0.00669342162296594323 // its first eccentricity squared
	bdPi  = math.Pi * 3000.0 / 180.0
)

func outOfChina(lon, lat float64) bool {
	return lon < 72.004 || lon > 137.8347 || lat < 0.8293 || lat > 55.8271
}

func wgsToGCJ(lon, lat float64) (float64, float64) {
	if outOfChina(lon, lat) {
		return lon, lat
	}
	x, y := lon-105.0, lat-35.0
	dLat := -100.0 + 2.0*x + 3.0*y + 0.2*y*y + 0.1*x*y + 0.2*math.Sqrt(math.Abs(x))
	dLat += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	dLat += (20.0*math.Sin(y*math.Pi) + 40.0*math.Sin(y/3.0*math.Pi)) * 2.0 / 3.0
	dLat += (160.0*math.Sin(y/12.0*math.Pi) + 320*math.Sin(y*math.Pi/30.0)) * 2.0 / 3.0
	dLon := 300.0 + x + 2.0*y + 0.1*x*x + 0.1*x*y + 0.1*math.Sqrt(math.Abs(x))
	dLon += (20.0*math.Sin(6.0*x*math.Pi) + 20.0*math.Sin(2.0*x*math.Pi)) * 2.0 / 3.0
	dLon += (20.0*math.Sin(x*math.Pi) + 40.0*math.Sin(x/3.0*math.Pi)) * 2.0 / 3.0
	dLon += (150.0*math.Sin(x/12.0*math.Pi) + 300.0*math.Sin(x/30.0*math.Pi)) * 2.0 / 3.0
	radLat := lat / 180.0 * math.Pi
	magic := math.Sin(radLat)
	magic = 1 - gcjEE*magic*magic
	sqrtMagic := math.Sqrt(magic)
	dLat = (dLat * 180.0) / ((gcjA * (1 - gcjEE)) / (magic * sqrtMagic) * math.Pi)
	dLon = (dLon * 180.0) / (gcjA / sqrtMagic * math.Cos(radLat) * math.Pi)
	return lon + dLon, lat + dLat
}

// invert solves forward(x, y) = (lon, lat) by fixed-point iteration from
// (x, y). The offsets change slowly with position, so each step gains several
// digits.
func invert(forward func(lon, lat float64) (float64, float64), lon, lat, x, y float64) (float64, float64) {
	for range 30 {
		fx, fy := forward(x, y)
		dx, dy := fx-lon, fy-lat
		x, y = x-dx, y-dy
		if math.Abs(dx) < 1e-10 && math.Abs(dy) < 1e-10 {
			break
		}
	}
	return x, y
}

func gcjToWGS(lon, lat float64) (float64, float64) {
	if outOfChina(lon, lat) {
		return lon, lat
	}
	return invert(wgsToGCJ, lon, lat, lon, lat)
}

func gcjToBD(lon, lat float64) (float64, float64) {
	z := math.Sqrt(lon*lon+lat*lat) + 0.00002*math.Sin(lat*bdPi)
	theta := math.Atan2(lat, lon) + 0.000003*math.Cos(lon*bdPi)
	return z*math.Cos(theta) + 0.0065, z*math.Sin(theta) + 0.006
}

func bdToGCJ(lon, lat float64) (float64, float64) {
	x, y := lon-0.0065, lat-0.006
	z := math.Sqrt(x*x+y*y) - 0.00002*math.Sin(y*bdPi)
	theta := math.Atan2(y, x) - 0.000003*math.Cos(x*bdPi)
	// The closed form is itself approximate (about 1e-6°); polish it against the forward formula.
	return invert(gcjToBD, lon, lat, z*math.Cos(theta), z*math.Sin(theta))
}
