package coverage

import (
	"context"
	"errors"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/civic-standards/coverage/coverage/geo"
	"github.com/civic-standards/coverage/coverage/geometry"
)

// The test area: a square about 2 km on a side centred in Changchun.
const (
	scLon    = 125.32
	scLat    = 43.88
	scRadius = 300.0
)

// scHalfLat and scHalfLon are about 1 km in degrees at the centre.
var (
	scHalfLat = 1000 / 111_132.0
	scHalfLon = 1000 / (111_320.0 * math.Cos(scLat*math.Pi/180))
)

type scLL = [2]float64

// scSquare is a closed counter-clockwise ring of the lat/lon cell around (lon, lat).
func scSquare(lon, lat, halfLon, halfLat float64) []scLL {
	return []scLL{
		{lon - halfLon, lat - halfLat}, {lon + halfLon, lat - halfLat},
		{lon + halfLon, lat + halfLat}, {lon - halfLon, lat + halfLat},
		{lon - halfLon, lat - halfLat},
	}
}

func scConvertRing(d geo.Datum, ring []scLL) []scLL {
	out := make([]scLL, len(ring))
	for i, p := range ring {
		lon, lat := d.FromWGS84(p[0], p[1])
		out[i] = scLL{lon, lat}
	}
	return out
}

func scReversed(ring []scLL) []scLL {
	out := slices.Clone(ring)
	slices.Reverse(out)
	return out
}

func scNum(x float64) string { return strconv.FormatFloat(x, 'g', -1, 64) }

func scPositions(pts []scLL) string {
	parts := make([]string, len(pts))
	for i, p := range pts {
		parts[i] = "[" + scNum(p[0]) + "," + scNum(p[1]) + "]"
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// scPolygonJSON is a GeoJSON Polygon of the rings.
func scPolygonJSON(rings ...[]scLL) []byte {
	parts := make([]string, len(rings))
	for i, r := range rings {
		parts[i] = scPositions(r)
	}
	return []byte(`{"type":"Polygon","coordinates":[` + strings.Join(parts, ",") + `]}`)
}

// scMultiPolygonJSON is a GeoJSON MultiPolygon of single-ring polygons.
func scMultiPolygonJSON(rings ...[]scLL) []byte {
	parts := make([]string, len(rings))
	for i, r := range rings {
		parts[i] = "[" + scPositions(r) + "]"
	}
	return []byte(`{"type":"MultiPolygon","coordinates":[` + strings.Join(parts, ",") + `]}`)
}

func scMultiPointJSON(pts ...scLL) []byte {
	if len(pts) == 0 {
		return []byte(`{"type":"MultiPoint","coordinates":[]}`)
	}
	return []byte(`{"type":"MultiPoint","coordinates":` + scPositions(pts) + `}`)
}

func scSettlement(area, stops *Geometry) *Settlement {
	return &Settlement{Kind: KindCity, CentralArea: area, BusStops: stops}
}

// scGeoJSON is the area and stops as GeoJSON in the datum (converted from WGS-84).
func scGeoJSON(d Datum, crs CoordinateSystem, ring []scLL, stops ...scLL) *Settlement {
	for i, p := range stops {
		lon, lat := d.FromWGS84(p[0], p[1])
		stops[i] = scLL{lon, lat}
	}
	return scSettlement(
		&Geometry{GeoJSON: scPolygonJSON(scConvertRing(d, ring)), CRS: crs},
		&Geometry{GeoJSON: scMultiPointJSON(stops...), CRS: crs})
}

// Datum is geo.Datum, named here for brevity.
type Datum = geo.Datum

// scQ is the authalic q(φ) on WGS-84 (Snyder 3-12).
func scQ(phi float64) float64 {
	const f = 1 / 298.257223563
	e2 := f * (2 - f)
	e := math.Sqrt(e2)
	s := math.Sin(phi)
	return (1 - e2) * (s/(1-e2*s*s) + math.Atanh(e*s)/e)
}

// scCellArea is the exact WGS-84 area in m² of the lat/lon cell: (a²/2)·Δλ·(q(φ2) − q(φ1)).
func scCellArea(lon1, lat1, lon2, lat2 float64) float64 {
	const a = 6378137.0
	r := math.Pi / 180
	return a * a / 2 * (lon2 - lon1) * r * (scQ(lat2*r) - scQ(lat1*r))
}

func scRel(got, want float64) float64 { return math.Abs(got/want - 1) }

func scMeasure(t *testing.T, s *Settlement) *StopCoverage {
	t.Helper()
	sc, err := MeasureStopCoverage(context.Background(), s, scRadius)
	if err != nil {
		t.Fatalf("MeasureStopCoverage: %v", err)
	}
	return sc
}

// scInvalid asserts err is a CodeInvalid *Error whose violations name exactly
// the field, with a reason holding every fragment.
func scInvalid(t *testing.T, err error, field string, fragments ...string) {
	t.Helper()
	if err == nil {
		t.Fatalf("no error, want CodeInvalid on %s", field)
	}
	var e *Error
	if !errors.As(err, &e) {
		t.Fatalf("error %T %v is not an *Error", err, err)
	}
	if e.Code != CodeInvalid {
		t.Errorf("code = %v, want %v (%v)", e.Code, CodeInvalid, err)
	}
	var fields []string
	for _, v := range e.Violations {
		fields = append(fields, v.Field)
	}
	if len(fields) != 1 || fields[0] != field {
		t.Fatalf("violated fields = %q, want [%q] (error: %v)", fields, field, err)
	}
	for _, f := range fragments {
		if !strings.Contains(e.Violations[0].Reason, f) {
			t.Errorf("reason %q does not contain %q", e.Violations[0].Reason, f)
		}
	}
}

// TestStopCoverageOneStopInSquare: one stop in the middle of the 2 km square
// covers exactly π·300² m² (the projection is centred on the square, where its
// scale is 1 in every direction).
func TestStopCoverageOneStopInSquare(t *testing.T) {
	ring := scSquare(scLon, scLat, scHalfLon, scHalfLat)
	wantTotal := scCellArea(scLon-scHalfLon, scLat-scHalfLat, scLon+scHalfLon, scLat+scHalfLat)
	wantCovered := math.Pi * scRadius * scRadius
	for _, c := range []struct {
		name string
		s    *Settlement
	}{
		{"GeoJSON", scSettlement(
			&Geometry{GeoJSON: scPolygonJSON(ring)},
			&Geometry{GeoJSON: scMultiPointJSON(scLL{scLon, scLat})})},
		{"GeoJSON Feature and Point", scSettlement(
			&Geometry{GeoJSON: []byte(`{"type":"Feature","properties":{},"geometry":` + string(scPolygonJSON(ring)) + `}`), CRS: CRSWGS84},
			&Geometry{GeoJSON: []byte(`{"type":"Point","coordinates":[` + scNum(scLon) + `,` + scNum(scLat) + `]}`), CRS: CRSUnspecified})},
		{"typed", scSettlement(
			&Geometry{Polygons: [][][][2]float64{{ring}}, CRS: CRSWGS84},
			&Geometry{Points: [][2]float64{{scLon, scLat}}, CRS: CRSWGS84})},
		{"CGCS2000", scSettlement(
			&Geometry{Polygons: [][][][2]float64{{ring}}, CRS: CRSCGCS2000},
			&Geometry{Points: [][2]float64{{scLon, scLat}}, CRS: CRSCGCS2000})},
		{"clockwise ring", scSettlement(
			&Geometry{Polygons: [][][][2]float64{{scReversed(ring)}}},
			&Geometry{Points: [][2]float64{{scLon, scLat}}})},
	} {
		t.Run(c.name, func(t *testing.T) {
			sc := scMeasure(t, c.s)
			if rel := scRel(sc.CoveredKm2*1e6, wantCovered); rel > 1e-6 {
				t.Errorf("covered %.6f m², want π·300² = %.6f m² (relative %.3g)", sc.CoveredKm2*1e6, wantCovered, rel)
			}
			if rel := scRel(sc.TotalKm2*1e6, wantTotal); rel > 1e-6 {
				t.Errorf("total %.6f m², want the ellipsoidal cell area %.6f m² (relative %.3g)", sc.TotalKm2*1e6, wantTotal, rel)
			}
			if rel := scRel(sc.Share, wantCovered/wantTotal); rel > 1e-6 {
				t.Errorf("share %.12f, want %.12f", sc.Share, wantCovered/wantTotal)
			}
			if math.Abs(sc.UncoveredShare-(1-sc.Share)) > 1e-15 || math.Abs(sc.UncoveredKm2-(sc.TotalKm2-sc.CoveredKm2)) > 1e-12 {
				t.Errorf("uncovered %v / %v km² do not complement %v / %v", sc.UncoveredShare, sc.UncoveredKm2, sc.Share, sc.CoveredKm2)
			}
			if sc.StopsGiven != 1 || sc.StopsInside != 1 || sc.StopsUsed != 1 || sc.StopsOutsideNear != 0 || sc.StopsBeyond != 0 || sc.DuplicatesMerged != 0 {
				t.Errorf("stop counts given/inside/used/near/beyond/dup = %d/%d/%d/%d/%d/%d, want 1/1/1/0/0/0",
					sc.StopsGiven, sc.StopsInside, sc.StopsUsed, sc.StopsOutsideNear, sc.StopsBeyond, sc.DuplicatesMerged)
			}
			if sc.AreaVertices != 4 || sc.RadiusM != scRadius {
				t.Errorf("vertices %d radius %v, want 4 and 300", sc.AreaVertices, sc.RadiusM)
			}
			if sc.Method == "" || sc.Definition == "" || !strings.Contains(sc.Projection, "9820") {
				t.Errorf("method %q definition %q projection %q", sc.Method, sc.Definition, sc.Projection)
			}
			if sc.Threshold != nil || sc.Tier != "" || sc.ShortfallShare != nil || sc.Population != nil {
				t.Errorf("threshold/tier/shortfall/population set by MeasureStopCoverage: %+v", sc)
			}
			wantCRS := CRSWGS84
			if c.name == "CGCS2000" {
				wantCRS = CRSCGCS2000
			}
			if sc.AreaCRS != wantCRS || sc.StopsCRS != wantCRS {
				t.Errorf("CRS reported %q/%q, want %q", sc.AreaCRS, sc.StopsCRS, wantCRS)
			}
		})
	}
}

// TestStopCoverageDatums: the same ground positions given in GCJ-02 or BD-09
// give the same coverage as in WGS-84.
func TestStopCoverageDatums(t *testing.T) {
	ring := scSquare(scLon, scLat, scHalfLon, scHalfLat)
	stops := func() []scLL {
		return []scLL{{scLon, scLat}, {scLon - 0.8*scHalfLon, scLat + 0.9*scHalfLat}, {scLon + scHalfLon*1.2, scLat - scHalfLat*0.3}, {scLon + 0.5*scHalfLon, scLat + 0.1*scHalfLat}}
	}
	ref := scMeasure(t, scGeoJSON(geo.WGS84, CRSWGS84, ring, stops()...))
	if ref.Share <= 0.05 || ref.Share >= 0.5 {
		t.Fatalf("reference share %v is not a useful test value", ref.Share)
	}
	for _, c := range []struct {
		d   Datum
		crs CoordinateSystem
	}{{geo.GCJ02, CRSGCJ02}, {geo.BD09, CRSBD09}} {
		t.Run(c.d.String(), func(t *testing.T) {
			sc := scMeasure(t, scGeoJSON(c.d, c.crs, ring, stops()...))
			if math.Abs(sc.Share-ref.Share) > 1e-9 {
				t.Errorf("share %.12f in %v, %.12f in WGS-84", sc.Share, c.d, ref.Share)
			}
			if scRel(sc.TotalKm2, ref.TotalKm2) > 1e-9 || math.Abs(sc.CoveredKm2-ref.CoveredKm2) > 1e-9*ref.TotalKm2 {
				t.Errorf("areas %v/%v km² in %v, %v/%v in WGS-84", sc.CoveredKm2, sc.TotalKm2, c.d, ref.CoveredKm2, ref.TotalKm2)
			}
			if sc.AreaCRS != c.crs || sc.StopsCRS != c.crs {
				t.Errorf("CRS reported %q/%q, want %q", sc.AreaCRS, sc.StopsCRS, c.crs)
			}
			if sc.StopsInside != ref.StopsInside || sc.StopsOutsideNear != ref.StopsOutsideNear {
				t.Errorf("inside/near %d/%d, want %d/%d", sc.StopsInside, sc.StopsOutsideNear, ref.StopsInside, ref.StopsOutsideNear)
			}
		})
	}
	// Each geometry carries its own CRS: area in BD-09, stops in GCJ-02.
	t.Run("mixed", func(t *testing.T) {
		pts := stops()
		for i, p := range pts {
			lon, lat := geo.GCJ02.FromWGS84(p[0], p[1])
			pts[i] = scLL{lon, lat}
		}
		s := scSettlement(
			&Geometry{Polygons: [][][][2]float64{{scConvertRing(geo.BD09, ring)}}, CRS: CRSBD09},
			&Geometry{Points: pts, CRS: CRSGCJ02})
		sc := scMeasure(t, s)
		if math.Abs(sc.Share-ref.Share) > 1e-9 {
			t.Errorf("share %.12f with a BD-09 area and GCJ-02 stops, %.12f in WGS-84", sc.Share, ref.Share)
		}
	})
}

// TestStopCoverageMisdeclaredDatum: WGS-84 stops declared GCJ-02 are moved
// by the GCJ-02 offset (about 590 m in Changchun) relative to a WGS-84 area;
// near the edge that changes the coverage measurably.
func TestStopCoverageMisdeclaredDatum(t *testing.T) {
	ring := scSquare(scLon, scLat, scHalfLon, scHalfLat)
	// 200 m inside the west edge, and one in the middle.
	stops := [][2]float64{{scLon - 0.8*scHalfLon, scLat}, {scLon, scLat}}
	area := &Geometry{Polygons: [][][][2]float64{{ring}}, CRS: CRSWGS84}
	right := scMeasure(t, scSettlement(area, &Geometry{Points: stops, CRS: CRSWGS84}))
	wrong := scMeasure(t, scSettlement(area, &Geometry{Points: stops, CRS: CRSGCJ02}))
	if d := right.Share - wrong.Share; math.Abs(d) < 0.01 {
		t.Errorf("declaring WGS-84 stops as GCJ-02 changed the share by only %.3g (%.6f → %.6f)", d, right.Share, wrong.Share)
	}
	// Exactly what the stops converted from GCJ-02 by hand give.
	moved := make([][2]float64, len(stops))
	for i, p := range stops {
		lon, lat := geo.GCJ02.ToWGS84(p[0], p[1])
		moved[i] = [2]float64{lon, lat}
	}
	byHand := scMeasure(t, scSettlement(area, &Geometry{Points: moved, CRS: CRSWGS84}))
	if math.Abs(byHand.Share-wrong.Share) > 1e-12 {
		t.Errorf("share with stops declared GCJ-02 %.12f, with the stops converted by hand %.12f", wrong.Share, byHand.Share)
	}
	t.Logf("share %.6f with the stops' true datum, %.6f with them declared GCJ-02", right.Share, wrong.Share)
}

// TestStopCoverageStopOutsideNear: a stop d metres outside an edge covers the
// circular segment r²·acos(d/r) − d·√(r²−d²) of the area.
func TestStopCoverageStopOutsideNear(t *testing.T) {
	ring := scSquare(scLon, scLat, scHalfLon, scHalfLat)
	stop := [2]float64{scLon + scHalfLon + 100/(111_320.0*math.Cos(scLat*math.Pi/180)), scLat}
	// The distance to the east edge in the plane the engine uses: the
	// projection centred on the middle of the area's bounding box.
	proj := geo.NewLAEA(scLon, scLat, 0, 0)
	ax, ay := proj.Forward(ring[1][0], ring[1][1])
	bx, by := proj.Forward(ring[2][0], ring[2][1])
	px, py := proj.Forward(stop[0], stop[1])
	d := math.Abs((bx-ax)*(py-ay)-(by-ay)*(px-ax)) / math.Hypot(bx-ax, by-ay)
	want := scRadius*scRadius*math.Acos(d/scRadius) - d*math.Sqrt(scRadius*scRadius-d*d)
	far := [2]float64{scLon + 3*scHalfLon, scLat}
	sc := scMeasure(t, scSettlement(
		&Geometry{Polygons: [][][][2]float64{{ring}}},
		&Geometry{Points: [][2]float64{stop, far, stop}}))
	if rel := scRel(sc.CoveredKm2*1e6, want); rel > 1e-6 {
		t.Errorf("covered %.6f m² by a stop %.3f m outside the edge, want %.6f m² (relative %.3g)", sc.CoveredKm2*1e6, d, want, rel)
	}
	if sc.StopsGiven != 3 || sc.StopsInside != 0 || sc.StopsOutsideNear != 1 || sc.StopsBeyond != 1 || sc.DuplicatesMerged != 1 || sc.StopsUsed != 1 {
		t.Errorf("stop counts given/inside/near/beyond/dup/used = %d/%d/%d/%d/%d/%d, want 3/0/1/1/1/1",
			sc.StopsGiven, sc.StopsInside, sc.StopsOutsideNear, sc.StopsBeyond, sc.DuplicatesMerged, sc.StopsUsed)
	}
}

// scBowTie is a self-intersecting ring: its first and third edges cross.
func scBowTie() []scLL {
	w, e, s, n := scLon-scHalfLon, scLon+scHalfLon, scLat-scHalfLat, scLat+scHalfLat
	return []scLL{{w, s}, {e, n}, {e, s}, {w, scLat + 0.5*scHalfLat}, {w, s}}
}

// scBowTieCrossing is where the bow tie's edges cross, in degrees (straight
// lines in degrees and in the plane differ by far less than 1e-6° over 2 km).
func scBowTieCrossing() (float64, float64) {
	r := scBowTie()
	p, p2, q, q2 := r[0], r[1], r[2], r[3]
	d := (p2[0]-p[0])*(q2[1]-q[1]) - (p2[1]-p[1])*(q2[0]-q[0])
	u := ((q[0]-p[0])*(q2[1]-q[1]) - (q[1]-p[1])*(q2[0]-q[0])) / d
	return p[0] + u*(p2[0]-p[0]), p[1] + u*(p2[1]-p[1])
}

var scAtPattern = regexp.MustCompile(`at lon (-?[0-9.]+), lat (-?[0-9.]+)`)

// scAt returns the position an intersection reason names.
func scAt(t *testing.T, err error) (float64, float64) {
	t.Helper()
	m := scAtPattern.FindStringSubmatch(err.Error())
	if m == nil {
		t.Fatalf("error %q names no position", err)
	}
	lon, _ := strconv.ParseFloat(m[1], 64)
	lat, _ := strconv.ParseFloat(m[2], 64)
	return lon, lat
}

func TestStopCoverageAreaErrors(t *testing.T) {
	sq := scSquare(scLon, scLat, scHalfLon, scHalfLat)
	w, e, s, n := scLon-scHalfLon, scLon+scHalfLon, scLat-scHalfLat, scLat+scHalfLat
	// An asymmetric bow tie (a symmetric one has zero signed area) crossing at scBowTieCrossing.
	bowTie := scBowTie()
	for _, c := range []struct {
		name      string
		area      []byte
		field     string
		fragments []string
	}{
		{"unclosed ring", scPolygonJSON(sq[:4]), "settlement.centralArea.coordinates[0]", []string{"not closed"}},
		{"unclosed hole", scPolygonJSON(sq, []scLL{{scLon, scLat}, {scLon + 0.001, scLat}, {scLon, scLat + 0.001}, {scLon - 0.001, scLat}}),
			"settlement.centralArea.coordinates[1]", []string{"not closed"}},
		{"ring of 3 positions", scPolygonJSON([]scLL{{w, s}, {e, s}, {w, s}}), "settlement.centralArea.coordinates[0]", []string{"3 positions"}},
		{"empty ring", []byte(`{"type":"Polygon","coordinates":[[]]}`), "settlement.centralArea.coordinates[0]", []string{"empty"}},
		{"polygon without rings", []byte(`{"type":"Polygon","coordinates":[]}`), "settlement.centralArea.coordinates", []string{"no rings"}},
		{"longitude 200", scPolygonJSON([]scLL{{w, s}, {200, s}, {e, n}, {w, n}, {w, s}}), "settlement.centralArea.coordinates[0][1]", []string{"longitude 200"}},
		{"latitude -91", scPolygonJSON([]scLL{{w, s}, {e, s}, {e, -91}, {w, n}, {w, s}}), "settlement.centralArea.coordinates[0][2]", []string{"latitude -91"}},
		{"bow tie", scPolygonJSON(bowTie), "settlement.centralArea.coordinates[0]", []string{"intersects itself", "lon", "lat"}},
		{"symmetric bow tie", scPolygonJSON([]scLL{{w, s}, {e, n}, {e, s}, {w, n}, {w, s}}), "settlement.centralArea.coordinates[0]", []string{"intersects itself", "lon", "lat"}},
		{"bow tie as the second polygon", scMultiPolygonJSON(scSquare(scLon+0.1, scLat, scHalfLon, scHalfLat), bowTie),
			"settlement.centralArea.coordinates[1][0]", []string{"intersects itself"}},
		{"overlapping polygons", scMultiPolygonJSON(sq, scSquare(scLon+scHalfLon, scLat, scHalfLon, scHalfLat)),
			"settlement.centralArea.coordinates[0][0]", []string{"intersects settlement.centralArea.coordinates[1][0]"}},
		{"empty MultiPolygon", []byte(`{"type":"MultiPolygon","coordinates":[]}`), "settlement.centralArea", []string{"no polygon"}},
		{"zero-area ring", scPolygonJSON([]scLL{{scLon, s}, {scLon, scLat}, {scLon, n}, {scLon, s}}), "settlement.centralArea.coordinates[0]", []string{"zero area"}},
		{"antimeridian", scPolygonJSON([]scLL{{179.9, 10}, {-179.9, 10}, {-179.9, 10.1}, {179.9, 10.1}, {179.9, 10}}), "settlement.centralArea", []string{"antimeridian"}},
		{"700 km wide", scPolygonJSON(scSquare(scLon, scLat, 350_000/(111_320.0*math.Cos(scLat*math.Pi/180)), 0.05)), "settlement.centralArea", []string{"too wide"}},
		{"latitude 88", scPolygonJSON(scSquare(0, 88, 0.5, 0.1)), "settlement.centralArea", []string{"latitude 88.1", "85"}},
		{"latitude -88", scPolygonJSON(scSquare(0, -88, 0.5, 0.1)), "settlement.centralArea", []string{"latitude 88.1"}},
		{"a LineString", []byte(`{"type":"LineString","coordinates":[[125.3,43.8],[125.4,43.9]]}`), "settlement.centralArea.type", []string{"LineString"}},
		{"malformed", []byte(`{"type":"Polygon",`), "settlement.centralArea", []string{"not a GeoJSON object"}},
		{"feature without geometry", []byte(`{"type":"FeatureCollection","features":[{"type":"Feature","geometry":` + string(scPolygonJSON(sq)) + `},{"type":"Feature","geometry":null}]}`),
			"settlement.centralArea.features[1].geometry", []string{"without geometry"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			s := scSettlement(&Geometry{GeoJSON: c.area}, &Geometry{GeoJSON: scMultiPointJSON(scLL{scLon, scLat})})
			_, err := MeasureStopCoverage(context.Background(), s, scRadius)
			scInvalid(t, err, c.field, c.fragments...)
			if c.name == "bow tie" {
				lon, lat := scAt(t, err)
				wantLon, wantLat := scBowTieCrossing()
				if math.Abs(lon-wantLon) > 2e-6 || math.Abs(lat-wantLat) > 2e-6 {
					t.Errorf("intersection reported at (%v, %v), want about (%.6f, %.6f)", lon, lat, wantLon, wantLat)
				}
			}
		})
	}
}

// TestStopCoverageIntersectionInInputDatum: the position of a
// self-intersection is reported in the coordinates the caller sent.
func TestStopCoverageIntersectionInInputDatum(t *testing.T) {
	bowTie := scBowTie()
	crossLon, crossLat := scBowTieCrossing()
	for _, c := range []struct {
		d   Datum
		crs CoordinateSystem
	}{{geo.GCJ02, CRSGCJ02}, {geo.BD09, CRSBD09}} {
		ring := scConvertRing(c.d, bowTie)
		_, err := MeasureStopCoverage(context.Background(), scSettlement(
			&Geometry{Polygons: [][][][2]float64{{ring}}, CRS: c.crs},
			&Geometry{Points: [][2]float64{{scLon, scLat}}}), scRadius)
		scInvalid(t, err, "settlement.centralAreaPolygons.polygons[0].rings[0]", "intersects itself")
		lon, lat := scAt(t, err)
		wantLon, wantLat := c.d.FromWGS84(crossLon, crossLat)
		if math.Abs(lon-wantLon) > 2e-6 || math.Abs(lat-wantLat) > 2e-6 {
			t.Errorf("%v: intersection reported at (%v, %v), want the %v position (%.6f, %.6f)", c.d, lon, lat, c.d, wantLon, wantLat)
		}
	}
}

func TestStopCoverageTypedAreaErrors(t *testing.T) {
	sq := scSquare(scLon, scLat, scHalfLon, scHalfLat)
	stops := &Geometry{Points: [][2]float64{{scLon, scLat}}}
	for _, c := range []struct {
		name     string
		polygons [][][][2]float64
		field    string
		fragment string
	}{
		{"unclosed ring", [][][][2]float64{{sq}, {sq[:4]}}, "settlement.centralAreaPolygons.polygons[1].rings[0]", "not closed"},
		{"polygon without rings", [][][][2]float64{{}}, "settlement.centralAreaPolygons.polygons[0].rings", "no rings"},
		// As callers write it: polygons[i].rings[j].positions[k] (LinearRing.positions).
		{"longitude 200", [][][][2]float64{{{sq[0], {200, sq[1][1]}, sq[2], sq[3], sq[0]}}},
			"settlement.centralAreaPolygons.polygons[0].rings[0].positions[1]", "longitude 200"},
		{"empty list", [][][][2]float64{}, "settlement.centralAreaPolygons", "no polygon"},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := MeasureStopCoverage(context.Background(), scSettlement(&Geometry{Polygons: c.polygons}, stops), scRadius)
			scInvalid(t, err, c.field, c.fragment)
		})
	}
}

func TestStopCoverageStopErrors(t *testing.T) {
	area := &Geometry{GeoJSON: scPolygonJSON(scSquare(scLon, scLat, scHalfLon, scHalfLat))}
	good := scLL{scLon, scLat}
	for _, c := range []struct {
		name      string
		stops     *Geometry
		field     string
		fragments []string
	}{
		{"bad latitude at index 3 of a MultiPoint", &Geometry{GeoJSON: scMultiPointJSON(good, good, good, scLL{scLon, 95}, good)},
			"settlement.busStops.coordinates[3]", []string{"latitude 95"}},
		{"bad longitude in a FeatureCollection", &Geometry{GeoJSON: []byte(`{"type":"FeatureCollection","features":[` +
			`{"type":"Feature","geometry":{"type":"Point","coordinates":[125.32,43.88]}},` +
			`{"type":"Feature","geometry":{"type":"Point","coordinates":[-181,43.88]}}]}`)},
			"settlement.busStops.features[1].geometry.coordinates", []string{"longitude -181"}},
		{"typed stop at index 2", &Geometry{Points: [][2]float64{good, good, {200, scLat}}},
			"settlement.busStopPositions.positions[2]", []string{"longitude 200"}},
		{"typed NaN", &Geometry{Points: [][2]float64{{math.NaN(), scLat}}},
			"settlement.busStopPositions.positions[0]", []string{"not a finite number"}},
		{"a Polygon for stops", &Geometry{GeoJSON: scPolygonJSON(scSquare(scLon, scLat, 0.001, 0.001))},
			"settlement.busStops.type", []string{"Polygon"}},
		{"malformed stops", &Geometry{GeoJSON: []byte(`[`)}, "settlement.busStops", []string{"not a GeoJSON object"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			_, err := MeasureStopCoverage(context.Background(), scSettlement(area, c.stops), scRadius)
			scInvalid(t, err, c.field, c.fragments...)
		})
	}
}

func TestStopCoverageMissingGeometry(t *testing.T) {
	area := &Geometry{GeoJSON: scPolygonJSON(scSquare(scLon, scLat, scHalfLon, scHalfLat))}
	stops := &Geometry{GeoJSON: scMultiPointJSON(scLL{scLon, scLat})}
	for _, s := range []*Settlement{scSettlement(nil, stops), scSettlement(area, nil), {}} {
		_, err := MeasureStopCoverage(context.Background(), s, scRadius)
		var e *Error
		if !errors.As(err, &e) || e.Code != CodeInvalid {
			t.Errorf("MeasureStopCoverage without area or stops: %v, want CodeInvalid", err)
		}
	}
}

// TestStopCoverageNoStops: an empty MultiPoint is a valid answer: coverage 0.
func TestStopCoverageNoStops(t *testing.T) {
	area := &Geometry{GeoJSON: scPolygonJSON(scSquare(scLon, scLat, scHalfLon, scHalfLat))}
	for _, stops := range []*Geometry{
		{GeoJSON: scMultiPointJSON()},
		{GeoJSON: []byte(`{"type":"FeatureCollection","features":[]}`)},
		{Points: [][2]float64{}},
	} {
		sc := scMeasure(t, scSettlement(area, stops))
		if sc.Share != 0 || sc.CoveredKm2 != 0 || sc.UncoveredShare != 1 || sc.StopsGiven != 0 || sc.StopsUsed != 0 {
			t.Errorf("no stops: share %v covered %v uncovered %v given %d used %d, want 0, 0, 1, 0, 0",
				sc.Share, sc.CoveredKm2, sc.UncoveredShare, sc.StopsGiven, sc.StopsUsed)
		}
		if sc.TotalKm2 < 3.9 || sc.TotalKm2 > 4.1 {
			t.Errorf("no stops: total %v km², want about 4", sc.TotalKm2)
		}
	}
}

// TestStopCoveragePopulation: population-weighted coverage beside the area figure.
func TestStopCoveragePopulation(t *testing.T) {
	area := &Geometry{GeoJSON: scPolygonJSON(scSquare(scLon, scLat, scHalfLon, scHalfLat))}
	stops := &Geometry{GeoJSON: scMultiPointJSON(scLL{scLon, scLat})}
	mPerDegLon := 111_320.0 * math.Cos(scLat*math.Pi/180)
	points := []PopulationPoint{
		{Lon: scLon, Lat: scLat + 100/111_132.0, Count: 120},      // 100 m north
		{Lon: scLon + 250/mPerDegLon, Lat: scLat, Count: 80},      // 250 m east
		{Lon: scLon - 330/mPerDegLon, Lat: scLat, Count: 300},     // 330 m west: outside the radius
		{Lon: scLon + 5*scHalfLon, Lat: scLat + 0.2, Count: 12.5}, // far outside the area
	}
	s := scSettlement(area, stops)
	s.PopulationPoints = points
	sc := scMeasure(t, s)
	p := sc.Population
	if p == nil {
		t.Fatal("no population coverage")
	}
	// The point far outside the central area is outside the standard's scope.
	const total, covered = 120.0 + 80 + 300, 120.0 + 80
	if p.Points != 4 || p.PointsOutside != 1 || p.Total != total || p.Covered != covered || math.Abs(p.Share-covered/total) > 1e-15 {
		t.Errorf("population = %+v, want 4 points (1 outside the area), total %v, covered %v, share %v", *p, total, covered, covered/total)
	}
	// The area figure is unchanged by population points.
	plain := scMeasure(t, scSettlement(area, stops))
	if plain.Share != sc.Share || plain.Population != nil {
		t.Errorf("share %v with population points, %v without; population %v", sc.Share, plain.Share, plain.Population)
	}

	// The same points in GCJ-02.
	gcj := slices.Clone(points)
	for i := range gcj {
		gcj[i].Lon, gcj[i].Lat = geo.GCJ02.FromWGS84(gcj[i].Lon, gcj[i].Lat)
	}
	s.PopulationPoints, s.PopulationCRS = gcj, CRSGCJ02
	if p := scMeasure(t, s).Population; p == nil || p.Covered != covered {
		t.Errorf("population in GCJ-02 = %+v, want %v covered", p, covered)
	}

	for _, c := range []struct {
		name  string
		edit  func([]PopulationPoint)
		field string
		frag  string
	}{
		{"negative count", func(ps []PopulationPoint) { ps[1].Count = -5 }, "settlement.populationPoints[1].count", "from 0"},
		{"NaN count", func(ps []PopulationPoint) { ps[2].Count = math.NaN() }, "settlement.populationPoints[2].count", "finite"},
		{"latitude 95", func(ps []PopulationPoint) { ps[0].Lat = 95 }, "settlement.populationPoints[0]", "latitude 95"},
	} {
		t.Run(c.name, func(t *testing.T) {
			ps := slices.Clone(points)
			c.edit(ps)
			s := scSettlement(area, stops)
			s.PopulationPoints = ps
			_, err := MeasureStopCoverage(context.Background(), s, scRadius)
			scInvalid(t, err, c.field, c.frag)
		})
	}

	// Zero people in all: share 0, not NaN.
	s = scSettlement(area, stops)
	s.PopulationPoints = []PopulationPoint{{Lon: scLon, Lat: scLat, Count: 0}}
	if p := scMeasure(t, s).Population; p == nil || p.Share != 0 || p.Total != 0 {
		t.Errorf("population of zero = %+v, want share 0", p)
	}
}

func TestStopCoverageCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	var stops [][2]float64
	for i := range 50 {
		for j := range 50 {
			stops = append(stops, [2]float64{scLon - scHalfLon + float64(i)*scHalfLon/25, scLat - scHalfLat + float64(j)*scHalfLat/25})
		}
	}
	for _, pts := range [][][2]float64{stops, {{scLon, scLat}}, {}} {
		s := scSettlement(&Geometry{GeoJSON: scPolygonJSON(scSquare(scLon, scLat, scHalfLon, scHalfLat))}, &Geometry{Points: pts})
		sc, err := MeasureStopCoverage(ctx, s, scRadius)
		if !errors.Is(err, context.Canceled) {
			t.Errorf("%d stops with a cancelled context: %v, %v; want context.Canceled", len(pts), sc, err)
		}
	}
}

// TestCancelledGeometryValidation: a settlement whose coverage is not
// measured (here, only parking is checked) still has its geometry
// validated, which for a large area is most of the work of measuring it; a
// request whose context is done gets the context's error, not an audit.
func TestCancelledGeometryValidation(t *testing.T) {
	rs := jilin(t)
	area := &Geometry{Polygons: []geo.PolygonLL{{scSquare(scLon, scLat, scHalfLon, scHalfLat)}}}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel2()
	for _, s := range []*Settlement{
		scSettlement(area, nil), // the area alone: its preparation must check
		scSettlement(area, &Geometry{Points: []geo.LonLat{{scLon, scLat}}}),
	} {
		if _, err := rs.EvaluateContext(context.Background(), s, TopicParking); err != nil {
			t.Fatalf("never cancelled: %v", err)
		}
		for _, c := range []struct {
			ctx  context.Context
			want error
		}{{cancelled, context.Canceled}, {expired, context.DeadlineExceeded}} {
			if a, err := rs.EvaluateContext(c.ctx, s, TopicParking); !errors.Is(err, c.want) {
				t.Errorf("only parking, stops %v, the context done: an audit %v, error %v; want %v", s.BusStops != nil, a != nil, err, c.want)
			}
		}
	}
}

// TestStopCoverageSpikeIsHarmless: a ring that runs out along an edge and
// straight back (a zero-width spike, common in hand-edited boundaries) has
// the area of the ring without it; the spike's two edges cancel.
func TestStopCoverageSpikeIsHarmless(t *testing.T) {
	w, e := scLon-scHalfLon, scLon+scHalfLon
	s, n := scLat-scHalfLat, scLat+scHalfLat
	spiked := scPolygonJSON([]scLL{{w, s}, {e, s}, {e, n}, {e, s}, {w, n}, {w, s}})
	plain := scPolygonJSON([]scLL{{w, s}, {e, s}, {w, n}, {w, s}})
	stops := scMultiPointJSON(scLL{scLon, scLat})
	a, err := MeasureStopCoverage(context.Background(), scSettlement(&Geometry{GeoJSON: spiked}, &Geometry{GeoJSON: stops}), 300)
	if err != nil {
		t.Fatalf("spiked ring refused: %v", err)
	}
	b, err := MeasureStopCoverage(context.Background(), scSettlement(&Geometry{GeoJSON: plain}, &Geometry{GeoJSON: stops}), 300)
	if err != nil {
		t.Fatal(err)
	}
	if math.Abs(a.TotalKm2-b.TotalKm2) > 1e-12 || math.Abs(a.CoveredKm2-b.CoveredKm2) > 1e-12 {
		t.Errorf("spiked ring: total %v covered %v km²; without the spike: %v, %v", a.TotalKm2, a.CoveredKm2, b.TotalKm2, b.CoveredKm2)
	}
}

// TestCancelledPopulationWeighting: projecting and weighting the population
// points, up to a million of them, stops at the context's end like the rest
// of the measurement, and without it gives the same figures.
func TestCancelledPopulationWeighting(t *testing.T) {
	area := &Geometry{Polygons: []geo.PolygonLL{{scSquare(scLon, scLat, scHalfLon, scHalfLat)}}}
	s := scSettlement(area, &Geometry{Points: []geo.LonLat{{scLon, scLat}}})
	for i := range 3 * cancelCheckEvery {
		s.PopulationPoints = append(s.PopulationPoints, PopulationPoint{
			Lon: scLon + scHalfLon*float64(i%200-100)/100, Lat: scLat + scHalfLat*float64(i/200%200-100)/100, Count: 1,
		})
	}
	prepared, err := prepareArea(context.Background(), s.CentralArea)
	if err != nil {
		t.Fatal(err)
	}
	x, y := prepared.proj.Forward(scLon, scLat)
	stops := []geometry.Point{{X: x, Y: y}}
	pc, err := populationCoverage(context.Background(), s, prepared, stops, 300)
	if err != nil || pc.Points != len(s.PopulationPoints) || pc.Total == 0 {
		t.Fatalf("never cancelled: %+v, %v", pc, err)
	}
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	if pc, err := populationCoverage(cancelled, s, prepared, stops, 300); !errors.Is(err, context.Canceled) {
		t.Errorf("cancelled: %+v, %v; want context.Canceled", pc, err)
	}
	if _, err := preparePopulation(cancelled, s, prepared.proj); !errors.Is(err, context.Canceled) {
		t.Errorf("projecting, cancelled: %v; want context.Canceled", err)
	}
}
