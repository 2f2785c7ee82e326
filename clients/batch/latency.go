package batch

import (
	"time"

	"github.com/HdrHistogram/hdrhistogram-go"
)

// Latency is how long the settlements of a run waited on their stream: from
// just before a settlement was sent to the receipt of its result. A
// settlement sent again after its server was lost counts once, by the attempt
// that was answered; settlements rejected while reading, or found already
// done in a resumed output, are not sent and not counted. The quantiles come
// from an HDR histogram of three significant digits (within 0.1%) over 1 µs
// to 1 h; a longer wait counts as 1 h.
type Latency struct {
	// Count is the number of settlements answered.
	Count int64
	// P50, P95 and P99 are Quantile(0.50), (0.95) and (0.99); Max is the
	// longest wait. All are 0 when Count is 0.
	P50, P95, P99, Max time.Duration

	h *hdrhistogram.Histogram
}

// Quantile is the latency that a share q (0 to 1) of the settlements did not
// exceed (the upper bound of its histogram bucket, at most Max); 0 when
// none was answered.
func (l Latency) Quantile(q float64) time.Duration {
	if l.h == nil || l.Count == 0 {
		return 0
	}
	return min(time.Duration(l.h.ValueAtQuantile(100*q)), l.Max)
}

// Bounds of the histograms, in nanoseconds.
const (
	latencyLowest  = int64(time.Microsecond)
	latencyHighest = int64(time.Hour)
	latencyDigits  = 3
)

// latencyRecorder is the histogram of one worker. It takes no lock: only the
// receiver of the worker's current stream records into it (a stream returns
// only once its receiver has stopped, so two never overlap), and the run
// reads it once every worker has returned.
type latencyRecorder struct {
	h   *hdrhistogram.Histogram
	max time.Duration
}

func newLatencyRecorder() *latencyRecorder {
	return &latencyRecorder{h: hdrhistogram.New(latencyLowest, latencyHighest, latencyDigits)}
}

func (l *latencyRecorder) record(d time.Duration) {
	d = min(max(d, 0), time.Duration(latencyHighest))
	_ = l.h.RecordValue(int64(d)) // in range: clamped above
	l.max = max(l.max, d)
}

// mergeLatency sums the workers' histograms; call it once they have returned.
func mergeLatency(recs []*latencyRecorder) Latency {
	h := hdrhistogram.New(latencyLowest, latencyHighest, latencyDigits)
	var l Latency
	for _, r := range recs {
		h.Merge(r.h)
		l.Max = max(l.Max, r.max)
	}
	l.h, l.Count = h, h.TotalCount()
	l.P50, l.P95, l.P99 = l.Quantile(0.50), l.Quantile(0.95), l.Quantile(0.99)
	return l
}
