package geometry_test

import (
	"context"
	"math"
	"testing"

	"github.com/civic-standards/coverage/bench/scenarios"
	"github.com/civic-standards/coverage/coverage/geometry"
)

// gapTolerance is the outline tolerance of the gap-map benchmarks: the
// service's default.
const gapTolerance = 1.0

// BenchmarkGaps maps the gaps of the synthetic scenarios at a 1 m
// tolerance. stress1m leaves no gap worth drawing and costs what Cover
// costs, so it is left out.
func BenchmarkGaps(b *testing.B) {
	for _, name := range scenarios.Names() {
		if name == "stress1m" {
			continue
		}
		b.Run(name, func(b *testing.B) {
			s := benchScenario(b, name)
			region, err := geometry.NewRegion(s.Polygons)
			if err != nil {
				b.Fatal(err)
			}
			ctx := context.Background()
			var gaps []geometry.Gap
			b.ReportAllocs()
			for b.Loop() {
				gaps, err = region.Gaps(ctx, s.Stops, s.Radius, gapTolerance)
				if err != nil {
					b.Fatal(err)
				}
			}
			vertices := 0
			for _, g := range gaps {
				for _, r := range g.Polygon {
					vertices += len(r)
				}
			}
			b.ReportMetric(float64(len(gaps)), "gaps")
			b.ReportMetric(float64(vertices), "vertices")
		})
	}
}

// TestGapsScenarios checks the gap maps of the synthetic scenarios: their
// areas add up to what Cover leaves uncovered, and the large city's map is
// drawn well within a second.
func TestGapsScenarios(t *testing.T) {
	for _, name := range []string{"town", "mid", "large", "stress50k"} {
		if name == "stress50k" && testing.Short() {
			continue
		}
		s := benchScenario(t, name)
		region, err := geometry.NewRegion(s.Polygons)
		if err != nil {
			t.Fatal(err)
		}
		ctx := context.Background()
		gaps, err := region.Gaps(ctx, s.Stops, s.Radius, gapTolerance)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		cov, err := region.Cover(ctx, s.Stops, s.Radius)
		if err != nil {
			t.Fatal(err)
		}
		var sum float64
		holes, vertices := 0, 0
		for k, g := range gaps {
			sum += g.Area
			holes += len(g.Polygon) - 1
			for _, r := range g.Polygon {
				vertices += len(r)
			}
			if k > 0 && g.Area > gaps[k-1].Area {
				t.Errorf("%s: gap %d is larger than gap %d", name, k, k-1)
			}
		}
		want := region.Area() - cov.CoveredArea
		if d := math.Abs(sum - want); d > 1e-9*region.Area() {
			t.Errorf("%s: Σ gap areas %.12g, Area() − CoveredArea %.12g (diff %.3g m²)", name, sum, want, d)
		}
		t.Logf("%s: %d gaps, %d holes, %d vertices, uncovered %.6g m²", name, len(gaps), holes, vertices, sum)
	}
}
