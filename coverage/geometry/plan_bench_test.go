package geometry_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/civic-standards/coverage/coverage/geometry"
)

// planCases are the plans benchmarked, on the scenarios of BenchmarkCover:
// mid (1,200 stops over 120 km², 66% covered) brought to 80%; large (5,000
// stops over a 500 km² MultiPolygon, 61% covered) brought to 70%, a large
// city's plan to comply; large brought to 90% from a grid twice as fine,
// some 700 stops chosen among 78,000 sites; and large brought to 100%, the
// LARGE tier's threshold, which takes the rounds of sites in the gaps the
// grid cannot reach.
var planCases = []struct {
	scenario string
	target   float64
	spacing  float64
}{
	{"mid", 0.8, 100},
	{"large", 0.7, 100},
	{"large", 0.9, 50},
	{"large", 1, 100},
}

func BenchmarkPlanStops(b *testing.B) {
	for _, pc := range planCases {
		b.Run(fmt.Sprintf("%s/target=%g/grid=%gm", pc.scenario, pc.target, pc.spacing), func(b *testing.B) {
			s := benchScenario(b, pc.scenario)
			region, err := geometry.NewRegion(s.Polygons)
			if err != nil {
				b.Fatal(err)
			}
			opt := geometry.PlanOptions{Target: pc.target, Spacing: pc.spacing, MaxStops: 100_000}
			ctx := context.Background()
			var plan geometry.Plan
			b.ReportAllocs()
			for b.Loop() {
				plan, err = region.PlanStops(ctx, s.Stops, s.Radius, opt)
				if err != nil {
					b.Fatal(err)
				}
			}
			if !plan.Reached {
				b.Fatalf("plan stopped with %q at %.4f", plan.Stopped, plan.Share)
			}
			b.ReportMetric(100*plan.Before.Share(), "%before")
			b.ReportMetric(100*plan.Share, "%after")
			b.ReportMetric(float64(len(plan.Added)), "stops-added")
			b.ReportMetric(float64(plan.LowerBound), "lower-bound")
			b.ReportMetric(float64(plan.Candidates), "candidates")
		})
	}
}

// TestPlanStopsCancelLatency cancels the largest benchmarked plan at several
// points of its run and checks that it returns within 100 ms of the
// cancellation.
func TestPlanStopsCancelLatency(t *testing.T) {
	s := benchScenario(t, "large")
	region, err := geometry.NewRegion(s.Polygons)
	if err != nil {
		t.Fatal(err)
	}
	opt := geometry.PlanOptions{Target: 0.99, Spacing: 50, MaxStops: 100_000}
	for _, after := range []time.Duration{time.Millisecond, 20 * time.Millisecond, 100 * time.Millisecond, 300 * time.Millisecond, 700 * time.Millisecond} {
		ctx, cancel := context.WithCancel(context.Background())
		cancelled := make(chan time.Time, 1)
		timer := time.AfterFunc(after, func() { cancelled <- time.Now(); cancel() })
		_, err := region.PlanStops(ctx, s.Stops, s.Radius, opt)
		returned := time.Now()
		timer.Stop()
		cancel()
		if err == nil {
			t.Logf("finished within %v, before the cancellation", after)
			continue
		}
		if !errors.Is(err, context.Canceled) {
			t.Fatalf("cancelled after %v: error %v, want context.Canceled", after, err)
		}
		// Only the timer cancels, and it sends first.
		if lag := returned.Sub(<-cancelled); lag > 100*time.Millisecond {
			t.Errorf("cancelled after %v: returned %v later, want within 100 ms", after, lag)
		} else {
			t.Logf("cancelled after %v: returned %v later", after, lag)
		}
	}
}
