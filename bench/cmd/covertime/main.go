// Command covertime times the exact engine (geometry.NewRegion and
// (*Region).Cover) on scenario files written by genscenarios, and prints one
// JSON object per scenario: best-of-N wall times in milliseconds and the
// covered area. bench/compare_geos.sh runs it beside the GEOS timing.
//
//	go run ./bench/cmd/covertime -dir /tmp/scenarios [-runs 5] [-only town,mid]
package main

import (
	"context"
	"encoding/json"
	"flag"
	"log"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	"github.com/civic-standards/coverage/bench/scenarios"
	"github.com/civic-standards/coverage/coverage/geometry"
)

// Result is one scenario's timing.
type Result struct {
	Name        string  `json:"name"`
	Stops       int     `json:"stops"`
	Vertices    int     `json:"vertices"`
	RadiusM     float64 `json:"radius_m"`
	Runs        int     `json:"runs"`
	NewRegionMs float64 `json:"newregion_ms"` // best of Runs
	CoverMs     float64 `json:"cover_ms"`     // best of Runs
	CoverMedMs  float64 `json:"cover_median_ms"`
	AreaM2      float64 `json:"area_m2"`
	CoveredM2   float64 `json:"covered_m2"`
	Inside      int     `json:"inside"`
	OutsideNear int     `json:"outside_near"`
	Far         int     `json:"far"`
	Duplicates  int     `json:"duplicates"`
	GOMAXPROCS  int     `json:"gomaxprocs"`
	GoVersion   string  `json:"go_version"`
}

func main() {
	dir := flag.String("dir", "", "directory of <scenario>.json files")
	runs := flag.Int("runs", 5, "minimum timed runs per scenario (best and median reported)")
	minSeconds := flag.Float64("min-seconds", 1, "keep repeating a scenario for at least this long")
	maxSeconds := flag.Float64("max-seconds", 60, "stop repeating a scenario after this much time (at least one run)")
	only := flag.String("only", "", "comma-separated scenario names (default: every scenario file present)")
	flag.Parse()
	if *dir == "" {
		log.Fatal("covertime: -dir is required")
	}
	names := scenarios.Names()
	if *only != "" {
		names = strings.Split(*only, ",")
	}
	enc := json.NewEncoder(os.Stdout)
	for _, name := range names {
		path := filepath.Join(*dir, name+".json")
		f, err := os.Open(path)
		if os.IsNotExist(err) && *only == "" {
			continue
		}
		if err != nil {
			log.Fatal(err)
		}
		s, err := scenarios.Read(f)
		f.Close()
		if err != nil {
			log.Fatalf("%s: %v", path, err)
		}
		res := Result{Name: s.Name, Stops: len(s.Stops), Vertices: s.Vertices(), RadiusM: s.Radius,
			GOMAXPROCS: runtime.GOMAXPROCS(0), GoVersion: runtime.Version()}
		var region *geometry.Region
		var covers []float64
		start := time.Now()
		for i := 0; ; i++ {
			runtime.GC()
			t0 := time.Now()
			region, err = geometry.NewRegion(s.Polygons)
			t1 := time.Now()
			if err != nil {
				log.Fatalf("%s: %v", path, err)
			}
			cov, err := region.Cover(context.Background(), s.Stops, s.Radius)
			t2 := time.Now()
			if err != nil {
				log.Fatalf("%s: %v", path, err)
			}
			nr, cv := ms(t1.Sub(t0)), ms(t2.Sub(t1))
			if i == 0 || nr < res.NewRegionMs {
				res.NewRegionMs = nr
			}
			covers = append(covers, cv)
			res.Runs++
			res.AreaM2, res.CoveredM2 = cov.TotalArea, cov.CoveredArea
			res.Inside, res.OutsideNear, res.Far, res.Duplicates = cov.Inside, cov.OutsideNear, cov.Far, cov.Duplicates
			if el := time.Since(start).Seconds(); el > *maxSeconds || (res.Runs >= *runs && el >= *minSeconds) {
				break
			}
		}
		res.CoverMs, res.CoverMedMs = minMedian(covers)
		if err := enc.Encode(res); err != nil {
			log.Fatal(err)
		}
	}
}

func ms(d time.Duration) float64 { return float64(d.Nanoseconds()) / 1e6 }

func minMedian(xs []float64) (float64, float64) {
	s := append([]float64(nil), xs...)
	for i := 1; i < len(s); i++ {
		for j := i; j > 0 && s[j] < s[j-1]; j-- {
			s[j], s[j-1] = s[j-1], s[j]
		}
	}
	return s[0], s[len(s)/2]
}
