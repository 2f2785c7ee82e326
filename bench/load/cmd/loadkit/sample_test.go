package main

import (
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// writeSamples writes a soak's samples file: one row every 10 s for the
// given seconds, RSS (KiB) and goroutines from the functions of the time,
// in the columns of the soaks recorded before the live heap was sampled.
func writeSamples(t *testing.T, seconds int, rss, goroutines func(s int) float64) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("elapsed_s,rss_kib,threads,goroutines,goroutines_source,heap_inuse_bytes,heap_idle_bytes,heap_released_bytes,next_gc_bytes,stack_inuse_bytes\n")
	for s := 0; s <= seconds; s += 10 {
		fmt.Fprintf(&b, "%d,%.0f,9,%.0f,metrics,0,0,0,0,0\n", s, rss(s), goroutines(s))
	}
	return writeFile(t, b.String())
}

// writeSamplesLive writes samples in the sampler's present columns, every
// 5 s, with the heap's live bytes (KiB) from a function of the time too.
func writeSamplesLive(t *testing.T, seconds int, rss, live func(s int) float64) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("elapsed_s,rss_kib,threads,goroutines,goroutines_source,heap_inuse_bytes,heap_idle_bytes,heap_released_bytes,next_gc_bytes,stack_inuse_bytes," +
		"rss_anon_kib,rss_file_kib,sys_bytes,gc_sys_bytes,other_sys_bytes,mspan_sys_bytes,heap_live_bytes,heap_goal_bytes\n")
	for s := 0; s <= seconds; s += 5 {
		l := live(s) * 1024
		fmt.Fprintf(&b, "%d,%.0f,9,89,metrics,0,0,0,0,0,0,16000,0,0,0,0,%.0f,%.0f\n", s, rss(s), l, 5*l)
	}
	return writeFile(t, b.String())
}

func writeFile(t *testing.T, content string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "samples.txt")
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestSoakFlatness: the flatness test reads a collected heap's sawtooth by
// its levels, so a low sample after the first minute, a high last one or a
// spike late in the soak does not decide it, while growth does.
func TestSoakFlatness(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	sawtooth := func(level float64) func(int) float64 {
		return func(int) float64 { return level + 10*1024*rng.Float64() } // 10 MiB of collection cycle, as at --gogc 400
	}
	steady := func(int) float64 { return 89 }
	cases := []struct {
		name       string
		rss, gor   func(int) float64
		flat       bool
		whyContain string
	}{
		{"a steady sawtooth", sawtooth(50 * 1024), steady, true, ""},
		{"the lowest sample at the first minute, the highest at the end", func(s int) float64 {
			switch s {
			case 60:
				return 50 * 1024
			case 600:
				return 72 * 1024
			}
			return 52*1024 + 8*1024*rng.Float64()
		}, steady, true, ""},
		{"a spike late in the second half", func(s int) float64 {
			if s == 480 || s == 490 {
				return 95 * 1024
			}
			return 55*1024 + 6*1024*rng.Float64()
		}, steady, true, ""},
		{"growth of 3 MiB a minute", func(s int) float64 { return 50*1024 + float64(s)/60*3*1024 + 4*1024*rng.Float64() }, steady,
			false, "RSS"},
		{"a step up of 20 MiB that stays", func(s int) float64 {
			if s > 400 {
				return 75 * 1024
			}
			return 55 * 1024
		}, steady, false, "RSS grew"},
		{"goroutines that grow", sawtooth(50 * 1024), func(s int) float64 { return 89 + float64(s) }, false, "goroutines"},
		{"goroutines high in the last sample alone", sawtooth(50 * 1024), func(s int) float64 {
			if s == 600 {
				return 300
			}
			return 89
		}, true, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := summariseSamples(writeSamples(t, 600, c.rss, c.gor))
			if err != nil {
				t.Fatal(err)
			}
			if s.Flat != c.flat || !strings.Contains(s.Why, c.whyContain) {
				t.Errorf("flat %v (%s), want %v (%q)", s.Flat, s.Why, c.flat, c.whyContain)
			}
		})
	}
}

// TestSoakFlatnessLiveHeap: the heap's live bytes, when sampled, must end
// where they were too. A leak the collector's sawtooth hides in RSS is
// caught there, and the in-flight calls' own wobble is not taken for one.
func TestSoakFlatnessLiveHeap(t *testing.T) {
	rng := rand.New(rand.NewPCG(3, 4))
	rss := func(int) float64 { return 52*1024 + 8*1024*rng.Float64() }
	cases := []struct {
		name       string
		live       func(int) float64
		flat       bool
		whyContain string
	}{
		{"steady, with the spikes of small backlogs", func(s int) float64 {
			if s%85 == 0 {
				return 12 * 1024
			}
			return 5.3*1024 + 0.8*1024*rng.Float64()
		}, true, "live heap 5."},
		{"up 0.7 MiB after a slow minute, as measured", func(s int) float64 {
			if s > 240 {
				return 6.0*1024 + 0.6*1024*rng.Float64()
			}
			return 5.3*1024 + 0.6*1024*rng.Float64()
		}, true, ""},
		{"a leak of 4 KiB a second", func(s int) float64 { return 5.3*1024 + 4*float64(s) + 0.5*1024*rng.Float64() }, false, "live heap grew"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s, err := summariseSamples(writeSamplesLive(t, 600, rss, c.live))
			if err != nil {
				t.Fatal(err)
			}
			if s.Flat != c.flat || !strings.Contains(s.Why, c.whyContain) {
				t.Errorf("flat %v (%s), want %v (%q)", s.Flat, s.Why, c.flat, c.whyContain)
			}
			if s.Samples != 121 {
				t.Errorf("%d samples, want 121", s.Samples)
			}
		})
	}
}

// TestSoakFlatnessRecorded: the verdicts on the soaks recorded under
// bench/results, which docs/benchmarks.md gives.
func TestSoakFlatnessRecorded(t *testing.T) {
	want := map[string]bool{
		"load-run9": true, "load-run12": true, "load-run14": false, "load-soak-14b": true,
		"load-soak-20m": true, "load-soak-30m": true, "load-soak-3a": false, "load-soak-3b": false,
		"load-soak-gogc200": true, "load-soak-gogc400": true, ".": true,
		// With the live heap, every 5 s; stall-* with a slow minute put in.
		"load-soak-15": true, "load-soak-stall-early": true, "load-soak-stall-late": false,
		"load-soak-stall-late-s100": true, "load-run15": true,
	}
	for dir, flat := range want {
		path := filepath.Join("../../../results", dir, "load-soak-samples.txt")
		s, err := summariseSamples(path)
		if err != nil {
			t.Fatal(err)
		}
		if s.Flat != flat {
			t.Errorf("%s: flat %v (%s), want %v", dir, s.Flat, s.Why, flat)
		}
	}
}
