package scenarios

import (
	"bytes"
	"context"
	"encoding/json"
	"math"
	"slices"
	"testing"

	"github.com/civic-standards/coverage/coverage/geometry"
)

func TestScenarios(t *testing.T) {
	want := map[string]struct {
		stops, vertices, polygons, holes int
		km2                              float64
	}{
		"town":      {40, 30, 1, 0, 5},
		"mid":       {1200, 348, 1, 1, 120},
		"large":     {5000, 2000, 3, 2, 500},
		"stress50k": {50_000, 1100, 1, 1, 1500},
		"stress1m":  {1_000_000, 1100, 1, 1, 1500},
	}
	for _, name := range Names() {
		t.Run(name, func(t *testing.T) {
			w := want[name]
			if testing.Short() && w.stops > 50_000 {
				t.Skip("a million stops under -short")
			}
			s, err := Get(name)
			if err != nil {
				t.Fatal(err)
			}
			if len(s.Stops) != w.stops || s.Vertices() != w.vertices || len(s.Polygons) != w.polygons {
				t.Errorf("got %d stops, %d vertices, %d polygons; want %d, %d, %d",
					len(s.Stops), s.Vertices(), len(s.Polygons), w.stops, w.vertices, w.polygons)
			}
			holes := 0
			for _, p := range s.Polygons {
				holes += len(p) - 1
			}
			if holes != w.holes {
				t.Errorf("got %d holes, want %d", holes, w.holes)
			}
			region, err := geometry.NewRegion(s.Polygons)
			if err != nil {
				t.Fatalf("invalid area: %v", err)
			}
			if math.Abs(region.Area()/1e6-w.km2) > 1e-9*w.km2 || math.Abs(s.AreaM2-region.Area()) > 1e-6*region.Area() {
				t.Errorf("area %.9f km² (declared %.9f), want %v", region.Area()/1e6, s.AreaM2/1e6, w.km2)
			}
			// Area() is the polygons of Get().
			polys, _, err := Area(name)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.EqualFunc(polys, s.Polygons, func(a, b geometry.Polygon) bool {
				return slices.EqualFunc(a, b, func(x, y geometry.Ring) bool { return slices.Equal(x, y) })
			}) {
				t.Error("Area differs from Get().Polygons")
			}
			if w.stops > 50_000 {
				return // Cover on a million stops is a benchmark, not a test
			}
			// Mixed as described: some duplicates, some far away, some
			// outside but near, most inside.
			cov, err := region.Cover(context.Background(), s.Stops, s.Radius)
			if err != nil {
				t.Fatal(err)
			}
			if cov.Duplicates < 1 || cov.Far < 1 || cov.Inside < len(s.Stops)/2 || cov.OutsideNear < 1 && w.stops > 40 {
				t.Errorf("unexpected mix: %+v", cov)
			}
			t.Logf("%s: %d stops, %d vertices, %.1f km², covered %.2f%% (inside %d, outside-near %d, far %d, duplicates %d)",
				name, len(s.Stops), s.Vertices(), region.Area()/1e6, 100*cov.Share(), cov.Inside, cov.OutsideNear, cov.Far, cov.Duplicates)
		})
	}
}

func TestDeterministic(t *testing.T) {
	a, b := MustGet("large"), MustGet("large")
	if !slices.Equal(a.Stops, b.Stops) || a.AreaM2 != b.AreaM2 {
		t.Fatal("two generations of large differ")
	}
	for pi := range a.Polygons {
		for ri := range a.Polygons[pi] {
			if !slices.Equal(a.Polygons[pi][ri], b.Polygons[pi][ri]) {
				t.Fatalf("ring %d/%d differs between two generations", pi, ri)
			}
		}
	}
}

func TestNonConvexTown(t *testing.T) {
	r := MustGet("town").Polygons[0][0]
	reflex := 0
	for i := range r {
		a, b, c := r[(i+len(r)-1)%len(r)], r[i], r[(i+1)%len(r)]
		if (b.X-a.X)*(c.Y-a.Y)-(b.Y-a.Y)*(c.X-a.X) < 0 {
			reflex++
		}
	}
	if reflex == 0 {
		t.Fatal("town polygon is convex")
	}
}

func TestUnknown(t *testing.T) {
	if _, err := Get("nope"); err == nil {
		t.Fatal("want an error")
	}
}

func TestWriteReadRoundTrip(t *testing.T) {
	for _, name := range []string{"town", "large"} {
		s := MustGet(name)
		var buf bytes.Buffer
		if err := s.Write(&buf); err != nil {
			t.Fatal(err)
		}
		if !json.Valid(buf.Bytes()) {
			t.Fatalf("%s: not valid JSON", name)
		}
		got, err := Read(&buf)
		if err != nil {
			t.Fatal(err)
		}
		if got.Name != s.Name || got.Radius != s.Radius || got.AreaM2 != s.AreaM2 || !slices.Equal(got.Stops, s.Stops) || got.Vertices() != s.Vertices() {
			t.Fatalf("%s: round trip changed the scenario", name)
		}
		for pi := range s.Polygons {
			for ri := range s.Polygons[pi] {
				if !slices.Equal(got.Polygons[pi][ri], s.Polygons[pi][ri]) {
					t.Fatalf("%s: ring %d/%d changed", name, pi, ri)
				}
			}
		}
	}
}
