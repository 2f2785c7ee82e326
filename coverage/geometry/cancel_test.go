package geometry_test

import (
	"context"
	"errors"
	"fmt"
	"math"
	"testing"
	"time"

	"github.com/civic-standards/coverage/bench/scenarios"
	"github.com/civic-standards/coverage/coverage/geometry"
	"github.com/civic-standards/coverage/internal/race"
)

// cancelBound is how soon after its context is done NewRegionContext must
// return: production's 100 ms, or under the race detector, which slows the
// work between checks tenfold, a bound that still tells a phase that checks
// from one that does not (which is late by a third of a second or more
// without the race detector, seconds with it).
func cancelBound() time.Duration {
	if race.Enabled {
		return time.Second
	}
	return 100 * time.Millisecond
}

// checkTimes is a context that is never done and records when it is asked.
type checkTimes struct {
	context.Context
	at []time.Time
}

func (c *checkTimes) Err() error {
	c.at = append(c.at, time.Now())
	return nil
}

// checkGaps builds the region with a context that is never done and returns
// the time between each check of the context and the one before (the first
// from the call, the last to the return).
func checkGaps(polys []geometry.Polygon) (*geometry.Region, []time.Duration, error) {
	ctx := &checkTimes{Context: context.Background()}
	start := time.Now()
	r, err := geometry.NewRegionContext(ctx, polys)
	end := time.Now()
	gaps := make([]time.Duration, 0, len(ctx.at)+1)
	last := start
	for _, t := range append(ctx.at, end) {
		gaps = append(gaps, t.Sub(last))
		last = t
	}
	return r, gaps, err
}

// sameRegion reports how b differs from a, the region NewRegion built.
func sameRegion(a, b *geometry.Region, probes []geometry.Point) error {
	if a.Area() != b.Area() || a.Vertices() != b.Vertices() {
		return fmt.Errorf("area %v, %d vertices; NewRegion: %v, %d", b.Area(), b.Vertices(), a.Area(), a.Vertices())
	}
	amin, amax := a.Bounds()
	bmin, bmax := b.Bounds()
	if amin != bmin || amax != bmax {
		return fmt.Errorf("bounds %v–%v; NewRegion: %v–%v", bmin, bmax, amin, amax)
	}
	for _, p := range probes {
		if a.Contains(p) != b.Contains(p) {
			return fmt.Errorf("Contains(%v) = %v; NewRegion: %v", p, b.Contains(p), a.Contains(p))
		}
	}
	ca, err := a.Cover(context.Background(), probes, 300)
	if err != nil {
		return err
	}
	cb, err := b.Cover(context.Background(), probes, 300)
	if err != nil {
		return err
	}
	if ca != cb {
		return fmt.Errorf("coverage %+v; NewRegion: %+v", cb, ca)
	}
	return nil
}

// probeGrid is n×n points over the region's bounding box and a little beyond.
func probeGrid(r *geometry.Region, n int) []geometry.Point {
	lo, hi := r.Bounds()
	w, h := hi.X-lo.X, hi.Y-lo.Y
	ps := make([]geometry.Point, 0, n*n)
	for i := range n {
		for j := range n {
			ps = append(ps, geometry.Point{X: lo.X - w/10 + 1.2*w*(float64(i)+0.37)/float64(n), Y: lo.Y - h/10 + 1.2*h*(float64(j)+0.61)/float64(n)})
		}
	}
	return ps
}

// TestNewRegionContextSameAsNewRegion: with a context that is never done,
// NewRegionContext builds the region NewRegion builds, and refuses what
// NewRegion refuses with the same error.
func TestNewRegionContextSameAsNewRegion(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	for _, name := range scenarios.Names() {
		if name == "stress1m" {
			continue // the area of stress50k
		}
		polys, _, err := scenarios.Area(name)
		if err != nil {
			t.Fatal(err)
		}
		a, err := geometry.NewRegion(polys)
		if err != nil {
			t.Fatalf("%s: NewRegion: %v", name, err)
		}
		b, err := geometry.NewRegionContext(ctx, polys)
		if err != nil {
			t.Fatalf("%s: NewRegionContext: %v", name, err)
		}
		if err := sameRegion(a, b, probeGrid(a, 60)); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}

	square := geometry.Ring{{X: 0, Y: 0}, {X: 1000, Y: 0}, {X: 1000, Y: 1000}, {X: 0, Y: 1000}}
	for _, tc := range []struct {
		name  string
		polys []geometry.Polygon
	}{
		{"bow tie", []geometry.Polygon{{{{X: 0, Y: 0}, {X: 1000, Y: 1000}, {X: 1000, Y: 0}, {X: 0, Y: 1000}}}}},
		{"hole outside", []geometry.Polygon{{square, {{X: 2000, Y: 0}, {X: 2000, Y: 500}, {X: 2500, Y: 500}}}}},
		{"overlapping polygons", []geometry.Polygon{{square}, {{{X: 500, Y: 500}, {X: 1500, Y: 500}, {X: 1500, Y: 1500}, {X: 500, Y: 1500}}}}},
		{"every edge shared", []geometry.Polygon{{square}, {{square[0], square[3], square[2], square[1]}}}},
		{"no polygon", nil},
	} {
		_, errA := geometry.NewRegion(tc.polys)
		_, errB := geometry.NewRegionContext(ctx, tc.polys)
		if errA == nil || errB == nil || errA.Error() != errB.Error() {
			t.Errorf("%s: NewRegionContext: %v; NewRegion: %v", tc.name, errB, errA)
		}
	}
}

// TestCancelledNewRegionStopsPromptly: building the region of the largest
// central area the server accepts (1,000,000 vertices, about a second of
// work) returns the context's error within 100 ms of its cancellation,
// whichever phase it is in, and otherwise builds the region NewRegion builds.
func TestCancelledNewRegionStopsPromptly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds regions of 1,000,000 vertices")
	}
	polys, _ := millionVertexArea()
	if race.Enabled {
		// Every fifth vertex: 200,000, which take about as long under the
		// race detector as the million do without it.
		ring := polys[0][0]
		small := make(geometry.Ring, 0, len(ring)/5)
		for i := 0; i < len(ring); i += 5 {
			small = append(small, ring[i])
		}
		polys = []geometry.Polygon{{small}}
	}
	bound := cancelBound()

	start := time.Now()
	want, err := geometry.NewRegion(polys)
	if err != nil {
		t.Fatal(err)
	}
	whole := time.Since(start)

	// Already done: nothing is built.
	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel2()
	for _, tc := range []struct {
		ctx  context.Context
		want error
	}{{cancelled, context.Canceled}, {expired, context.DeadlineExceeded}} {
		start := time.Now()
		r, err := geometry.NewRegionContext(tc.ctx, polys)
		if took := time.Since(start); r != nil || !errors.Is(err, tc.want) || took > bound {
			t.Errorf("with a context already done: a region %v, error %v after %v; want none, %v at once", r != nil, err, took, tc.want)
		}
	}

	// Every phase checks: the longest stretch of work without a look at
	// the context is the longest a cancellation can wait. The checks come
	// at the same points of the work in every run, so each stretch is
	// timed three times and the shortest kept: on a loaded machine the
	// goroutine may wait to be scheduled, or the collector take its turn,
	// in the middle of any stretch, but a phase without checks (the sort
	// alone is a third of a second) is long every time.
	var shortest []time.Duration
	for run := range 3 {
		got, gaps, err := checkGaps(polys)
		if err != nil {
			t.Fatalf("NewRegionContext, never cancelled: %v", err)
		}
		if run == 0 {
			if err := sameRegion(want, got, probeGrid(want, 50)); err != nil {
				t.Fatalf("never cancelled: %v", err)
			}
			shortest = gaps
			continue
		}
		if len(gaps) != len(shortest) {
			t.Fatalf("%d checks of the context, %d in the first run: not at the same points of the work", len(gaps)-1, len(shortest)-1)
		}
		for i, g := range gaps {
			shortest[i] = min(shortest[i], g)
		}
	}
	longest, at := time.Duration(0), 0
	for i, g := range shortest {
		if g > longest {
			longest, at = g, i
		}
	}
	t.Logf("%d vertices, whole build %v: %d checks of the context; the longest stretch without one, number %d, %v",
		want.Vertices(), whole.Round(time.Millisecond), len(shortest)-1, at, longest.Round(100*time.Microsecond))
	// A quarter of the bound: a cancellation waits for the stretch, then
	// for the unwinding and the scheduler.
	if longest > bound/4 {
		t.Errorf("NewRegionContext ran %v without checking its context (stretch %d of %d), want under %v", longest.Round(100*time.Microsecond), at, len(shortest), bound/4)
	}

	// And a real cancellation, a third and two thirds of the way through.
	for _, after := range []time.Duration{whole / 3, whole * 2 / 3} {
		var lags []time.Duration
		best := time.Duration(math.MaxInt64)
		for range 3 {
			ctx, cancel := context.WithCancel(context.Background())
			cancelledAt := make(chan time.Time, 1)
			timer := time.AfterFunc(after, func() { cancelledAt <- time.Now(); cancel() })
			r, err := geometry.NewRegionContext(ctx, polys)
			returned := time.Now()
			timer.Stop()
			cancel()
			select {
			case at := <-cancelledAt:
				// A region and no error when the cancellation came in the
				// last stretch, after the last check; the return is still
				// when the work stopped.
				if (err == nil) != (r != nil) || (err != nil && !errors.Is(err, context.Canceled)) {
					t.Fatalf("cancelled after %v: a region %v, error %v; want none, context.Canceled", after, r != nil, err)
				}
				lag := returned.Sub(at)
				lags = append(lags, lag.Round(100*time.Microsecond))
				best = min(best, lag)
			default:
				if err != nil {
					t.Fatalf("not cancelled: %v", err)
				}
			}
			if best <= bound {
				break
			}
		}
		t.Logf("cancelled after %v: returned %v later", after.Round(time.Millisecond), lags)
		if len(lags) > 0 && best > bound {
			t.Errorf("cancelled after %v: returned %v later, want under %v", after.Round(time.Millisecond), lags, bound)
		}
	}
}
