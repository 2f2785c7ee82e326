package main

import (
	"math"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

// Every value falls in a bucket whose bounds hold it, and the buckets are
// contiguous and at most 1/64 wide relative to their lower bound.
func TestBuckets(t *testing.T) {
	var lower uint64
	for i := 0; i < bucketOf(1<<36); i++ {
		up := upperUS(i)
		if up <= lower {
			t.Fatalf("bucket %d: upper %d not above lower %d", i, up, lower)
		}
		if lower >= 128 && float64(up-lower)/float64(lower) > 1.0/64+1e-12 {
			t.Fatalf("bucket %d: [%d, %d) wider than 1/64", i, lower, up)
		}
		for _, v := range []uint64{lower, up - 1} {
			if b := bucketOf(v); b != i {
				t.Fatalf("value %d: bucket %d, want %d", v, b, i)
			}
		}
		lower = up
	}
}

// Quantiles read from the histogram are at most 1.6% above the exact ones
// and never below them.
func TestQuantiles(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var h hist
	var exact []float64
	for range 100_000 {
		d := time.Duration(math.Exp(rng.NormFloat64()*1.5) * float64(time.Millisecond))
		h.add(d)
		exact = append(exact, float64(d/time.Microsecond)/1000)
	}
	slices.Sort(exact)
	for _, q := range []float64{0.5, 0.9, 0.99, 0.999} {
		want := exact[int(math.Ceil(q*float64(len(exact))))-1]
		got := h.quantile(q)
		if got < want || got > want*(1+1.0/64)+0.001 {
			t.Errorf("q%.3f: got %.4f ms, exact %.4f ms", q, got, want)
		}
	}
	if s := h.summary(); s.Count != 100_000 || s.MaxMS != exact[len(exact)-1] {
		t.Errorf("summary %+v, max %.3f", s, exact[len(exact)-1])
	}
}
