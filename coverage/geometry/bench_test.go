package geometry_test

// Benchmarks of the coverage engine on the synthetic scenarios of
// bench/scenarios and, when the reference data is present, on real Hangzhou
// stops. See docs/benchmarks.md for the commands and the measured numbers.

import (
	"bufio"
	"context"
	"encoding/json"
	"flag"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/civic-standards/coverage/bench/scenarios"
	"github.com/civic-standards/coverage/coverage/geo"
	"github.com/civic-standards/coverage/coverage/geometry"
)

var (
	benchScenarioMu    sync.Mutex
	benchScenarioCache = map[string]*scenarios.Scenario{}
)

// benchScenario generates a scenario once per process (stress1m takes about
// a second to generate), so -count N does not regenerate it.
func benchScenario(tb testing.TB, name string) *scenarios.Scenario {
	tb.Helper()
	benchScenarioMu.Lock()
	defer benchScenarioMu.Unlock()
	if s, ok := benchScenarioCache[name]; ok {
		return s
	}
	s, err := scenarios.Get(name)
	if err != nil {
		tb.Fatal(err)
	}
	benchScenarioCache[name] = s
	return s
}

// skipHeavy skips the 1,000,000-stop scenario under -short and whenever the
// process is not explicitly benchmarking (no -test.bench pattern, e.g. when a
// benchmark function is called through testing.Benchmark from a test).
func skipHeavy(b *testing.B, name string) {
	if name != "stress1m" {
		return
	}
	if testing.Short() {
		b.Skip("stress1m is skipped under -short")
	}
	if f := flag.Lookup("test.bench"); f == nil || f.Value.String() == "" {
		b.Skip("stress1m runs only when benchmarking explicitly (-bench)")
	}
}

func BenchmarkNewRegion(b *testing.B) {
	for _, name := range scenarios.Names() {
		if name == "stress1m" {
			continue // the same area as stress50k
		}
		b.Run(name, func(b *testing.B) {
			polys, _, err := scenarios.Area(name)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := geometry.NewRegion(polys); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

func BenchmarkCover(b *testing.B) {
	for _, name := range scenarios.Names() {
		b.Run(name, func(b *testing.B) {
			skipHeavy(b, name)
			s := benchScenario(b, name)
			region, err := geometry.NewRegion(s.Polygons)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var cov geometry.Coverage
			b.ReportAllocs()
			for b.Loop() {
				cov, err = region.Cover(ctx, s.Stops, s.Radius)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(100*cov.Share(), "%covered")
		})
	}
}

// TestCoverNoGrowth checks that repeated calls do not accumulate memory:
// the live heap after a GC must not grow between the 10th and 50th call.
func TestCoverNoGrowth(t *testing.T) {
	s := benchScenario(t, "mid")
	region, err := geometry.NewRegion(s.Polygons)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	heap := func() uint64 {
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return m.HeapAlloc
	}
	var at10 uint64
	var first geometry.Coverage
	for i := 1; i <= 50; i++ {
		cov, err := region.Cover(ctx, s.Stops, s.Radius)
		if err != nil {
			t.Fatal(err)
		}
		if i == 1 {
			first = cov
		} else if cov != first {
			t.Fatalf("call %d gave %+v, call 1 gave %+v", i, cov, first)
		}
		if i == 10 {
			at10 = heap()
		}
	}
	at50 := heap()
	const limit = 4 << 20
	t.Logf("HeapAlloc after call 10: %d B, after call 50: %d B", at10, at50)
	if at50 > at10+limit {
		t.Fatalf("live heap grew by %d B between call 10 and call 50 (limit %d B)", at50-at10, limit)
	}
}

// ---- real data: Hangzhou ----

// realDataDir is the shared reference data, outside the repository (see its
// SOURCES.md); the real-data benchmarks skip when it is absent.
func realDataDir(tb testing.TB) string {
	tb.Helper()
	dir, err := filepath.Abs(filepath.Join("..", "..", "..", "shared", "realdata"))
	if err != nil {
		tb.Skip(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "hzdatasets_Busstop.csv")); err != nil {
		tb.Skipf("real data not present: %v", err)
	}
	return dir
}

// hangzhouStopsWGS84 reads hzdatasets_Busstop.csv: `;`-separated, no header,
// lon;lat in columns 3 and 4, in GCJ-02 shifted twice (SOURCES.md), so
// GCJ-02 → WGS-84 is applied twice. Rows without coordinates are skipped; the
// three copies of every stop in the file are kept (the engine merges them).
func hangzhouStopsWGS84(tb testing.TB, dir string) [][2]float64 {
	tb.Helper()
	f, err := os.Open(filepath.Join(dir, "hzdatasets_Busstop.csv"))
	if err != nil {
		tb.Fatal(err)
	}
	defer f.Close()
	var out [][2]float64
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		cols := strings.Split(strings.TrimRight(sc.Text(), "\r"), ";")
		if len(cols) < 4 {
			continue
		}
		lon, err1 := strconv.ParseFloat(cols[2], 64)
		lat, err2 := strconv.ParseFloat(cols[3], 64)
		if err1 != nil || err2 != nil {
			continue
		}
		lon, lat = geo.GCJ02.ToWGS84(lon, lat)
		lon, lat = geo.GCJ02.ToWGS84(lon, lat)
		out = append(out, [2]float64{lon, lat})
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return out
}

// hangzhouDistricts reads the DataV GeoJSON (GCJ-02) of Hangzhou's districts
// and returns each district's polygons in WGS-84, by name.
func hangzhouDistricts(tb testing.TB, dir string) map[string][]geo.PolygonLL {
	tb.Helper()
	data, err := os.ReadFile(filepath.Join(dir, "datav_330100_full.json"))
	if err != nil {
		tb.Fatal(err)
	}
	var fc struct {
		Features []struct {
			Properties struct {
				Adcode int    `json:"adcode"`
				Name   string `json:"name"`
			} `json:"properties"`
			Geometry json.RawMessage `json:"geometry"`
		} `json:"features"`
	}
	if err := json.Unmarshal(data, &fc); err != nil {
		tb.Fatal(err)
	}
	out := map[string][]geo.PolygonLL{}
	for _, f := range fc.Features {
		polys, _, err := geo.DecodeArea(f.Geometry)
		if err != nil {
			tb.Fatalf("%s: %v", f.Properties.Name, err)
		}
		for _, p := range polys {
			for _, r := range p {
				for i, q := range r {
					r[i][0], r[i][1] = geo.GCJ02.ToWGS84(q[0], q[1])
				}
			}
		}
		out[strconv.Itoa(f.Properties.Adcode)] = polys
	}
	return out
}

// project maps the area and stops to the plane the way MeasureStopCoverage
// does: an LAEA centred on the area's bounding box, closing vertices and
// consecutive repeats dropped.
func project(area []geo.PolygonLL, stops [][2]float64) ([]geometry.Polygon, []geometry.Point) {
	minLon, minLat, maxLon, maxLat := 180.0, 90.0, -180.0, -90.0
	for _, p := range area {
		for _, q := range p[0] {
			minLon, maxLon = min(minLon, q[0]), max(maxLon, q[0])
			minLat, maxLat = min(minLat, q[1]), max(maxLat, q[1])
		}
	}
	proj := geo.NewLAEA((minLon+maxLon)/2, (minLat+maxLat)/2, 0, 0)
	polys := make([]geometry.Polygon, len(area))
	for pi, p := range area {
		for _, r := range p {
			var ring geometry.Ring
			for _, q := range r {
				x, y := proj.Forward(q[0], q[1])
				pt := geometry.Point{X: x, Y: y}
				if len(ring) > 0 && ring[len(ring)-1] == pt {
					continue
				}
				ring = append(ring, pt)
			}
			if len(ring) > 1 && ring[len(ring)-1] == ring[0] {
				ring = ring[:len(ring)-1]
			}
			polys[pi] = append(polys[pi], ring)
		}
	}
	pts := make([]geometry.Point, len(stops))
	for i, s := range stops {
		x, y := proj.Forward(s[0], s[1])
		pts[i] = geometry.Point{X: x, Y: y}
	}
	return polys, pts
}

// BenchmarkCoverRealHangzhou measures the 2015 Hangzhou stops (5,589 rows,
// 5,490 with coordinates, 1,823 distinct positions: every stop is listed three
// times) over each of the six urban districts of the pre-2021 DataV
// boundaries, at 300 m. All the stops are passed each time, most of them
// outside the district, as a caller with a city-wide stop list would.
func BenchmarkCoverRealHangzhou(b *testing.B) {
	dir := realDataDir(b)
	stops := hangzhouStopsWGS84(b, dir)
	districts := hangzhouDistricts(b, dir)
	for _, d := range []struct{ adcode, name string }{
		{"330102", "Shangcheng"},
		{"330103", "Xiacheng"},
		{"330104", "Jianggan"},
		{"330105", "Gongshu"},
		{"330106", "Xihu"},
		{"330108", "Binjiang"},
	} {
		b.Run(d.name, func(b *testing.B) {
			area, ok := districts[d.adcode]
			if !ok {
				b.Skipf("district %s not in the file", d.adcode)
			}
			polys, pts := project(area, stops)
			region, err := geometry.NewRegion(polys)
			if err != nil {
				b.Skipf("district boundary rejected: %v", err)
			}
			ctx := context.Background()
			var cov geometry.Coverage
			b.ReportAllocs()
			for b.Loop() {
				cov, err = region.Cover(ctx, pts, scenarios.Radius)
				if err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(100*cov.Share(), "%covered")
			b.ReportMetric(float64(region.Vertices()), "vertices")
			b.ReportMetric(region.Area()/1e6, "km2")
			b.ReportMetric(float64(cov.Inside+cov.OutsideNear), "stops-used")
		})
	}
}

// millionVertexArea is a star-shaped polygon of 1,000,000 vertices over about
// 1,500 km² (radius 20–24 km, jittered), with 50,000 stops spread over it:
// the "up to 1,000,000 vertices" input size.
func millionVertexArea() ([]geometry.Polygon, []geometry.Point) {
	const n = 1_000_000
	ring := make(geometry.Ring, n)
	for k := range ring {
		th := 2 * math.Pi * float64(k) / n
		rad := 22_000 + 2_000*math.Sin(7*th) + 300*math.Sin(1_000*th)
		ring[k] = geometry.Point{X: rad * math.Cos(th), Y: rad * math.Sin(th)}
	}
	rng := rand.New(rand.NewPCG(7, 7))
	stops := make([]geometry.Point, 50_000)
	for i := range stops {
		r, th := 24_000*math.Sqrt(rng.Float64()), 2*math.Pi*rng.Float64()
		stops[i] = geometry.Point{X: r * math.Cos(th), Y: r * math.Sin(th)}
	}
	return []geometry.Polygon{{ring}}, stops
}

// BenchmarkMillionVertices builds and covers an area of 1,000,000 vertices.
func BenchmarkMillionVertices(b *testing.B) {
	if testing.Short() {
		b.Skip("1,000,000 vertices is skipped under -short")
	}
	polys, stops := millionVertexArea()
	b.Run("NewRegion", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			if _, err := geometry.NewRegion(polys); err != nil {
				b.Fatal(err)
			}
		}
	})
	b.Run("Cover50kStops", func(b *testing.B) {
		r, err := geometry.NewRegion(polys)
		if err != nil {
			b.Fatal(err)
		}
		b.ReportAllocs()
		for b.Loop() {
			cov, err := r.Cover(context.Background(), stops, 300)
			if err != nil {
				b.Fatal(err)
			}
			b.ReportMetric(100*cov.Share(), "%covered")
		}
	})
}
