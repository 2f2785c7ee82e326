package main

import (
	"math"
	"math/bits"
	"strconv"
	"sync/atomic"
	"time"
)

// hist is a log-linear latency histogram in microseconds: exact below
// 128 µs, then 64 buckets per power of two, so a percentile read from it is
// at most 1/64 (1.6%) above the true value. Safe for concurrent use.
type hist struct {
	counts [nBuckets]atomic.Uint64
	n      atomic.Uint64
	sumUS  atomic.Uint64
	maxUS  atomic.Uint64
}

const (
	subBuckets = 64
	nBuckets   = 2 * subBuckets * 40 // to 2^40 µs, far beyond any timeout
)

func bucketOf(us uint64) int {
	if us < 2*subBuckets {
		return int(us)
	}
	e := bits.Len64(us) - 7 // us>>e is in [64, 128)
	i := 2*subBuckets + (e-1)*subBuckets + int(us>>e) - subBuckets
	return min(i, nBuckets-1)
}

// upperUS is the exclusive upper bound of bucket i, in microseconds.
func upperUS(i int) uint64 {
	if i < 2*subBuckets {
		return uint64(i) + 1
	}
	e := (i-2*subBuckets)/subBuckets + 1
	m := uint64((i-2*subBuckets)%subBuckets + subBuckets)
	return (m + 1) << e
}

func (h *hist) add(d time.Duration) {
	us := uint64(max(d, 0) / time.Microsecond)
	h.counts[bucketOf(us)].Add(1)
	h.n.Add(1)
	h.sumUS.Add(us)
	for {
		m := h.maxUS.Load()
		if us <= m || h.maxUS.CompareAndSwap(m, us) {
			break
		}
	}
}

// quantile returns the upper bound of the bucket holding the q-quantile, in
// milliseconds (NaN when empty).
func (h *hist) quantile(q float64) float64 {
	n := h.n.Load()
	if n == 0 {
		return math.NaN()
	}
	rank := uint64(math.Ceil(q * float64(n)))
	rank = max(rank, 1)
	var cum uint64
	for i := range h.counts {
		cum += h.counts[i].Load()
		if cum >= rank {
			return math.Min(float64(upperUS(i)), float64(h.maxUS.Load())+1) / 1000
		}
	}
	return float64(h.maxUS.Load()) / 1000
}

type summary struct {
	Count  uint64  `json:"count"`
	MeanMS float64 `json:"mean"`
	P50    float64 `json:"p50"`
	P90    float64 `json:"p90"`
	P95    float64 `json:"p95"`
	P99    float64 `json:"p99"`
	P999   float64 `json:"p99_9"`
	MaxMS  float64 `json:"max"`
}

func (h *hist) summary() summary {
	n := h.n.Load()
	s := summary{Count: n, P50: h.quantile(0.50), P90: h.quantile(0.90), P95: h.quantile(0.95),
		P99: h.quantile(0.99), P999: h.quantile(0.999), MaxMS: float64(h.maxUS.Load()) / 1000}
	if n > 0 {
		s.MeanMS = float64(h.sumUS.Load()) / float64(n) / 1000
	}
	return s
}

// bucketCount is one histogram bucket: Count latencies below Lt ms (and at
// or above the previous bucket's bound).
type bucketCount struct {
	Lt    string `json:"lt_ms"`
	Count uint64 `json:"count"`
}

// coarse returns the histogram folded onto fixed bounds (ms), for reading.
func (h *hist) coarse(boundsMS []float64) []bucketCount {
	out := make([]bucketCount, len(boundsMS)+1)
	for i := range boundsMS {
		out[i].Lt = strconv.FormatFloat(boundsMS[i], 'g', -1, 64)
	}
	out[len(boundsMS)].Lt = "+Inf"
	for i := range h.counts {
		c := h.counts[i].Load()
		if c == 0 {
			continue
		}
		up := float64(upperUS(i)) / 1000
		j := 0
		for j < len(boundsMS) && up > boundsMS[j] {
			j++
		}
		out[j].Count += c
	}
	return out
}
