package coverage

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"github.com/civic-standards/coverage/coverage/geo"
	"github.com/civic-standards/coverage/coverage/geometry"
)

// PopulationPoint is a number of residents at a position, for
// population-weighted coverage.
type PopulationPoint struct {
	Lon, Lat float64
	Count    float64
}

// StopCoverage is the measured bus-stop coverage of a central area.
type StopCoverage struct {
	// Share is covered ÷ total area, in [0, 1].
	Share          float64
	UncoveredShare float64
	CoveredKm2     float64
	TotalKm2       float64
	UncoveredKm2   float64

	// Threshold, Tier and the shortfall against it, when a tier applies.
	Threshold      *float64
	Tier           string
	ShortfallShare *float64
	ShortfallKm2   *float64

	StopsGiven       int
	StopsUsed        int // inside the area, or outside but within the radius
	StopsInside      int
	StopsOutsideNear int
	StopsBeyond      int // farther than the radius from the area
	DuplicatesMerged int
	AreaVertices     int

	RadiusM    float64
	Method     string
	Definition string
	Projection string
	AreaCRS    CoordinateSystem
	StopsCRS   CoordinateSystem

	Population *PopulationCoverage
}

// PopulationCoverage is the share of residents within the radius of a stop,
// reported beside (never instead of) the area share.
type PopulationCoverage struct {
	Points        int
	PointsOutside int // outside the central area: not counted
	Total         float64
	Covered       float64
	Share         float64
}

// Method and definition strings reported with every coverage result.
const (
	coverageMethod = "exact: Green's-theorem integration over circle arcs and polygon edges " +
		"(no polygonal approximation of circles), on an ellipsoidal Lambert azimuthal equal-area projection centred on the area"
	coverageDefinition = "area(∪ disks of the radius around the stops ∩ central area) ÷ area(central area); straight-line distance, overlapping disks counted once"
)

// Limits on the area, beyond which one local equal-area plane no longer keeps
// the radius true to about 2e-5.
const (
	maxHalfExtentM = 250_000 // the area must fit in a 500 km × 500 km square around its centre
	maxAbsLatitude = 85.0
)

func datumOf(c CoordinateSystem) geo.Datum {
	switch c {
	case CRSGCJ02:
		return geo.GCJ02
	case CRSBD09:
		return geo.BD09
	case CRSCGCS2000:
		return geo.CGCS2000
	}
	return geo.WGS84
}

// cancelCheckEvery is how many positions are prepared between checks for
// cancellation: a few milliseconds of work.
const cancelCheckEvery = 16384

// cancelledAt is ctx's error when position n is one at which to check
// (every cancelCheckEvery, from the first), and nil otherwise.
func cancelledAt(ctx context.Context, n int) error {
	if n%cancelCheckEvery != 0 {
		return nil
	}
	return ctx.Err()
}

// MeasureStopCoverage measures the share of the settlement's central area
// within radius metres of its bus stops. Geometry errors are CodeInvalid and
// name the field, the ring and the problem.
func MeasureStopCoverage(ctx context.Context, s *Settlement, radius float64) (*StopCoverage, error) {
	sc, _, _, err := measureStopCoverage(ctx, s, radius)
	return sc, err
}

// measureStopCoverage is MeasureStopCoverage that also returns the projected
// area and stops, for the maps and plans drawn on the same measurement.
func measureStopCoverage(ctx context.Context, s *Settlement, radius float64) (*StopCoverage, *preparedArea, []geometry.Point, error) {
	if s.CentralArea == nil || s.BusStops == nil {
		return nil, nil, nil, Errorf(CodeInvalid, "a central area and bus stops are required")
	}
	area, err := prepareArea(ctx, s.CentralArea)
	if err != nil {
		return nil, nil, nil, err
	}
	stops, err := prepareStops(ctx, s.BusStops, area.proj)
	if err != nil {
		return nil, nil, nil, err
	}
	cov, err := area.region.Cover(ctx, stops, radius)
	if err != nil {
		return nil, nil, nil, err
	}
	sc := &StopCoverage{
		Share:            cov.Share(),
		CoveredKm2:       cov.CoveredArea / 1e6,
		TotalKm2:         cov.TotalArea / 1e6,
		StopsGiven:       cov.Stops,
		StopsInside:      cov.Inside,
		StopsOutsideNear: cov.OutsideNear,
		StopsUsed:        cov.Inside + cov.OutsideNear,
		StopsBeyond:      cov.Far,
		DuplicatesMerged: cov.Duplicates,
		AreaVertices:     area.region.Vertices(),
		RadiusM:          radius,
		Method:           coverageMethod,
		Definition:       coverageDefinition,
		Projection:       area.proj.String(),
		AreaCRS:          normalCRS(s.CentralArea.CRS),
		StopsCRS:         normalCRS(s.BusStops.CRS),
	}
	sc.UncoveredShare = 1 - sc.Share
	sc.UncoveredKm2 = math.Max(0, sc.TotalKm2-sc.CoveredKm2)

	if len(s.PopulationPoints) > 0 {
		pc, err := populationCoverage(ctx, s, area, stops, radius)
		if err != nil {
			return nil, nil, nil, err
		}
		sc.Population = pc
	}
	return sc, area, stops, nil
}

// validateGeometry checks the geometry and population points of a settlement
// whose coverage rule was not measured (a town, or a check of another
// topic): bad input is refused whether or not it is used. Validating a large
// area is most of the work of measuring it, so it too stops with the
// context's error once ctx is done.
func validateGeometry(ctx context.Context, s *Settlement) error {
	var proj *geo.LAEA
	if s.CentralArea != nil {
		area, err := prepareArea(ctx, s.CentralArea)
		if err != nil {
			return err
		}
		proj = area.proj
	}
	if proj == nil {
		proj = geo.NewLAEA(0, 0, 0, 0) // positions are checked, not measured
	}
	if s.BusStops != nil {
		if _, err := prepareStops(ctx, s.BusStops, proj); err != nil {
			return err
		}
	}
	if len(s.PopulationPoints) > 0 {
		if _, err := preparePopulation(ctx, s, proj); err != nil {
			return err
		}
	}
	return nil
}

// preparedArea is a central area validated, converted to WGS-84 and
// projected into its own equal-area plane.
type preparedArea struct {
	region *geometry.Region
	proj   *geo.LAEA
}

// prepareArea validates, converts and projects the area and builds its
// region: about a second for a million vertices, checking ctx throughout
// (every cancelCheckEvery positions here, and in geometry.NewRegionContext)
// and returning its error, unwrapped, once it is done. Decoding GeoJSON is
// the one step that is not interrupted.
func prepareArea(ctx context.Context, g *Geometry) (*preparedArea, error) {
	field := FieldCentralArea
	posFmt := "%s[%d]"
	if g.Polygons != nil {
		field, posFmt = FieldCentralAreaPolygons, "%s.positions[%d]"
	}
	polys, paths, err := g.polygons()
	if err != nil {
		return nil, geoError(field, err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	if len(polys) == 0 {
		return nil, InvalidFields(FieldViolation{Field: field, Reason: "the area has no polygon"})
	}
	datum := datumOf(g.CRS)
	var v violations
	positions := 0 // counted across rings, for the checks for cancellation
	// Validate positions, convert to WGS-84 and find the extent.
	minLon, maxLon, minLat, maxLat := math.Inf(1), math.Inf(-1), math.Inf(1), math.Inf(-1)
	wgs := make([]geo.PolygonLL, len(polys))
	for pi, poly := range polys {
		if len(poly) == 0 {
			v.add(field+"."+paths[pi], "polygon has no rings")
			continue
		}
		wgs[pi] = make(geo.PolygonLL, len(poly))
		for ri, ring := range poly {
			path := fmt.Sprintf("%s.%s[%d]", field, paths[pi], ri)
			if msg := checkRingLL(ring); msg != "" {
				v.add(path, "%s", msg)
				continue
			}
			out := make([]geo.LonLat, 0, len(ring)-1)
			for k, p := range ring[:len(ring)-1] {
				positions++
				if err := cancelledAt(ctx, positions); err != nil {
					return nil, err
				}
				if msg := geo.CheckPosition(p); msg != "" {
					v.add(fmt.Sprintf(posFmt, path, k), "%s", msg)
					continue
				}
				lon, lat := datum.ToWGS84(p[0], p[1])
				q := geo.LonLat{lon, lat}
				// Consecutive repeats are common in real boundaries and change nothing.
				if len(out) > 0 && out[len(out)-1] == q {
					continue
				}
				out = append(out, q)
				minLon, maxLon = math.Min(minLon, lon), math.Max(maxLon, lon)
				minLat, maxLat = math.Min(minLat, lat), math.Max(maxLat, lat)
			}
			if len(out) > 1 && out[len(out)-1] == out[0] {
				out = out[:len(out)-1]
			}
			wgs[pi][ri] = out
		}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	switch {
	case maxLon-minLon > 180:
		return nil, InvalidFields(FieldViolation{Field: field,
			Reason: fmt.Sprintf("the area spans longitudes %.4f to %.4f: it crosses the antimeridian or is wider than half the globe; split it", minLon, maxLon)})
	case math.Max(math.Abs(minLat), math.Abs(maxLat)) > maxAbsLatitude:
		return nil, InvalidFields(FieldViolation{Field: field,
			Reason: fmt.Sprintf("the area reaches latitude %.4f, too close to a pole for a local equal-area plane (limit ±%v°)", math.Max(math.Abs(minLat), math.Abs(maxLat)), maxAbsLatitude)})
	}
	proj := geo.NewLAEA((minLon+maxLon)/2, (minLat+maxLat)/2, 0, 0)
	planar := make([]geometry.Polygon, len(wgs))
	for pi, poly := range wgs {
		planar[pi] = make(geometry.Polygon, len(poly))
		for ri, ring := range poly {
			pr := make(geometry.Ring, len(ring))
			for k, p := range ring {
				positions++
				if err := cancelledAt(ctx, positions); err != nil {
					return nil, err
				}
				x, y := proj.Forward(p[0], p[1])
				if math.Abs(x) > maxHalfExtentM || math.Abs(y) > maxHalfExtentM {
					return nil, InvalidFields(FieldViolation{Field: field,
						Reason: fmt.Sprintf("the area is too wide: it reaches %.0f km from its centre, beyond the %d km a local equal-area plane measures to about 2e-5; split it", math.Hypot(x, y)/1000, maxHalfExtentM/1000)})
				}
				pr[k] = geometry.Point{X: x, Y: y}
			}
			planar[pi][ri] = pr
		}
	}
	region, err := geometry.NewRegionContext(ctx, planar)
	if err != nil {
		var ie *geometry.InvalidError
		if !errors.As(err, &ie) {
			return nil, err
		}
		where := field
		if ie.Polygon >= 0 && ie.Polygon < len(paths) {
			where = fmt.Sprintf("%s.%s", field, paths[ie.Polygon])
			if ie.Ring >= 0 {
				where += fmt.Sprintf("[%d]", ie.Ring)
			}
		}
		reason := ie.Reason
		if ie.At != nil {
			lon, lat := proj.Inverse(ie.At.X, ie.At.Y)
			lon, lat = datum.FromWGS84(lon, lat)
			reason = fmt.Sprintf("%s at lon %.6f, lat %.6f", ie.Reason, lon, lat)
		}
		if ie.OtherPolygon >= 0 && ie.OtherPolygon < len(paths) && (ie.OtherPolygon != ie.Polygon || ie.OtherRing != ie.Ring) {
			reason = strings.Replace(reason, fmt.Sprintf("polygon %d ring %d", ie.OtherPolygon, ie.OtherRing),
				fmt.Sprintf("%s.%s[%d]", field, paths[ie.OtherPolygon], ie.OtherRing), 1)
		}
		return nil, InvalidFields(FieldViolation{Field: where, Reason: reason})
	}
	return &preparedArea{region: region, proj: proj}, nil
}

func prepareStops(ctx context.Context, g *Geometry, proj *geo.LAEA) ([]geometry.Point, error) {
	field := FieldBusStops
	if g.Points != nil {
		field = FieldBusStopPositions
	}
	points, path, err := g.points()
	if err != nil {
		return nil, geoError(field, err)
	}
	datum := datumOf(g.CRS)
	var v violations
	stops := make([]geometry.Point, 0, len(points))
	for k, p := range points {
		if err := cancelledAt(ctx, k); err != nil {
			return nil, err
		}
		if msg := geo.CheckPosition(p); msg != "" {
			v.add(field+path(k), "%s", msg)
			continue
		}
		lon, lat := datum.ToWGS84(p[0], p[1])
		x, y := proj.Forward(lon, lat)
		if math.IsNaN(x) || math.IsNaN(y) || math.IsInf(x, 0) || math.IsInf(y, 0) {
			// The far side of the globe: it covers nothing here.
			x, y = math.MaxFloat64, math.MaxFloat64
		}
		stops = append(stops, geometry.Point{X: x, Y: y})
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return stops, nil
}

func populationCoverage(ctx context.Context, s *Settlement, area *preparedArea, stops []geometry.Point, radius float64) (*PopulationCoverage, error) {
	qs, err := preparePopulation(ctx, s, area.proj)
	if err != nil {
		return nil, err
	}
	near := geometry.WithinRadius(stops, radius, qs)
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	pc := &PopulationCoverage{Points: len(qs)}
	for i, p := range s.PopulationPoints {
		if err := cancelledAt(ctx, i); err != nil {
			return nil, err
		}
		// Residents outside the central area are outside the standard's scope.
		if !area.region.Contains(qs[i]) {
			pc.PointsOutside++
			continue
		}
		pc.Total += p.Count
		if near[i] {
			pc.Covered += p.Count
		}
	}
	if pc.Total > 0 {
		pc.Share = pc.Covered / pc.Total
	}
	return pc, nil
}

// preparePopulation validates the population points and projects them.
func preparePopulation(ctx context.Context, s *Settlement, proj *geo.LAEA) ([]geometry.Point, error) {
	var v violations
	switch s.PopulationCRS {
	case "", CRSUnspecified, CRSWGS84, CRSCGCS2000, CRSGCJ02, CRSBD09:
	default:
		v.add("settlement.populationPointsCrs", "unknown coordinate system %q", string(s.PopulationCRS))
	}
	d := datumOf(s.PopulationCRS)
	qs := make([]geometry.Point, len(s.PopulationPoints))
	for i, p := range s.PopulationPoints {
		if err := cancelledAt(ctx, i); err != nil {
			return nil, err
		}
		// The path is written only for a point that is refused: a city may
		// send a million.
		path := func() string { return "settlement.populationPoints[" + strconv.Itoa(i) + "]" }
		if msg := geo.CheckPosition(geo.LonLat{p.Lon, p.Lat}); msg != "" {
			v.add(path(), "%s", msg)
			continue
		}
		if math.IsNaN(p.Count) || math.IsInf(p.Count, 0) || p.Count < 0 || p.Count > maxCount {
			v.add(path()+".count", "must be a finite number from 0 to %d, got %v", int64(maxCount), p.Count)
		}
		lon, lat := d.ToWGS84(p.Lon, p.Lat)
		x, y := proj.Forward(lon, lat)
		qs[i] = geometry.Point{X: x, Y: y}
	}
	if err := v.err(); err != nil {
		return nil, err
	}
	return qs, nil
}

func normalCRS(c CoordinateSystem) CoordinateSystem {
	if c == "" || c == CRSUnspecified {
		return CRSWGS84
	}
	return c
}

func checkRingLL(ring []geo.LonLat) string {
	switch {
	case len(ring) == 0:
		return "empty ring"
	case len(ring) < 4:
		return fmt.Sprintf("ring has %d positions; a closed ring needs at least 4", len(ring))
	case ring[0] != ring[len(ring)-1]:
		return fmt.Sprintf("ring is not closed: the first position %v differs from the last %v", ring[0], ring[len(ring)-1])
	}
	return ""
}

func geoError(field string, err error) error {
	var ge *geo.Error
	if errors.As(err, &ge) {
		if ge.Path != "" {
			field += "." + ge.Path
		}
		return InvalidFields(FieldViolation{Field: field, Reason: ge.Reason})
	}
	return InvalidFields(FieldViolation{Field: field, Reason: err.Error()})
}

// polygons returns the area's polygons in degrees with the path of each.
func (g *Geometry) polygons() ([]geo.PolygonLL, []string, error) {
	if g.Polygons != nil {
		paths := make([]string, len(g.Polygons))
		for i := range paths {
			paths[i] = fmt.Sprintf("polygons[%d].rings", i)
		}
		return g.Polygons, paths, nil
	}
	return geo.DecodeArea(g.GeoJSON)
}

// points returns the positions and, for error messages, a function naming
// the path of each: made only for the few positions that are wrong, since a
// city's million stops would otherwise cost a million strings.
func (g *Geometry) points() ([]geo.LonLat, func(int) string, error) {
	if g.Points != nil {
		return g.Points, func(i int) string { return fmt.Sprintf(".positions[%d]", i) }, nil
	}
	pts, paths, err := geo.DecodePoints(g.GeoJSON)
	return pts, func(i int) string { return "." + paths[i] }, err
}
