package geometry

import (
	"bytes"
	"context"
	"math"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
)

// coverFuzzCorpus reads the inputs FuzzCoverInvariants has kept
// (testdata/fuzz): they decode to the same star polygons and stops, so they
// seed FuzzGaps with the configurations that once broke Cover.
func coverFuzzCorpus(tb testing.TB) [][]byte {
	tb.Helper()
	files, _ := filepath.Glob(filepath.Join("testdata", "fuzz", "FuzzCoverInvariants", "*"))
	var out [][]byte
	for _, f := range files {
		data, err := os.ReadFile(f)
		if err != nil {
			tb.Fatal(err)
		}
		lines := bytes.Split(data, []byte("\n"))
		if len(lines) < 2 || string(lines[0]) != "go test fuzz v1" {
			continue
		}
		lit, ok := bytes.CutPrefix(bytes.TrimSpace(lines[1]), []byte("[]byte("))
		if !ok {
			continue
		}
		s, err := strconv.Unquote(string(bytes.TrimSuffix(lit, []byte(")"))))
		if err != nil {
			continue
		}
		out = append(out, []byte(s))
	}
	return out
}

// FuzzGaps maps the gaps of decoded star polygons (see decodeFuzzCase),
// before and after a rigid motion, at a tolerance taken from the input, and
// checks that nothing panics and that gapProblems finds nothing: above all
// that the gaps' areas add up to Area() − CoveredArea (to 1e-9 of the
// region's area), and that the outlines hold the right sample points.
func FuzzGaps(f *testing.F) {
	f.Add([]byte{}, uint8(10))
	f.Add([]byte{5, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 1, 80, 80, 90, 90, 60, 0, 4, 3, 9, 9, 9, 9}, uint8(1))
	f.Add([]byte{17, 200, 13, 50, 99, 7, 7, 240, 1, 3, 3, 100, 100, 100, 100, 1, 40, 40, 0, 4, 1, 1, 3, 2, 1, 1, 0, 20, 20, 20, 20, 128, 0, 128, 0, 31, 31, 200, 1}, uint8(200))
	f.Add([]byte{3, 255, 255, 255, 255, 0, 0, 0, 0, 128, 128, 128, 128, 0, 8, 0, 0, 8, 0, 0, 8, 0, 0, 8, 2, 0, 1, 255, 255, 0, 7, 50, 50, 50, 50, 255, 255, 0, 0, 0, 0}, uint8(0))
	f.Add([]byte{8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 5, 1, 0, 0, 1, 1, 1, 1, 1, 2, 1, 2, 0}, uint8(255))
	for k, data := range coverFuzzCorpus(f) {
		f.Add(data, uint8(k*37))
	}
	f.Fuzz(func(t *testing.T, data []byte, tol uint8) {
		c := decodeFuzzCase(data)
		// 1 cm to about 65 m.
		tolerance := 0.01 * math.Pow(1.035, float64(tol))
		mp, ms := c.moved()
		for _, in := range []struct {
			name  string
			poly  Polygon
			stops []Point
		}{{"as decoded", c.poly, c.stops}, {"moved", mp, ms}} {
			reg, err := NewRegion([]Polygon{in.poly})
			if err != nil {
				t.Fatalf("NewRegion rejected a simple star polygon: %v", err)
			}
			ctx := context.Background()
			gaps, stats, err := reg.gaps(ctx, in.stops, c.radius, tolerance)
			if err != nil {
				t.Fatalf("Gaps: %v", err)
			}
			rng := rand.New(rand.NewPCG(uint64(len(data)), uint64(tol)))
			for _, p := range gapProblems(reg, []Polygon{in.poly}, in.stops, c.radius, tolerance, gaps, 64, rng) {
				t.Errorf("%s: %s (radius %v, tolerance %v, stops %#v, chaining %+v)", in.name, p, c.radius, tolerance, in.stops, stats)
			}
		}
	})
}
