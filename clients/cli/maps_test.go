package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// squareCity is a MEDIUM-tier city (threshold 70%) whose ~5.4 km² central
// area has one stop in the middle: one gap, the area with a round hole.
const squareCity = `{"id":"c","kind":"SETTLEMENT_KIND_CITY","urbanPopulation":800000,
"centralArea":{"type":"Polygon","coordinates":[[[125.3,43.85],[125.33,43.85],[125.33,43.87],[125.3,43.87],[125.3,43.85]]]},
"busStops":{"type":"MultiPoint","coordinates":[[125.315,43.86]]}}`

type featureCollection struct {
	Type     string `json:"type"`
	Features []struct {
		Geometry struct {
			Type        string          `json:"type"`
			Coordinates json.RawMessage `json:"coordinates"`
		} `json:"geometry"`
		Properties map[string]any `json:"properties"`
	} `json:"features"`
}

func readFeatures(t *testing.T, path string) featureCollection {
	t.Helper()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	var fc featureCollection
	if err := json.Unmarshal(data, &fc); err != nil {
		t.Fatalf("%s is not GeoJSON: %v", path, err)
	}
	return fc
}

func TestGapsCommand(t *testing.T) {
	addr := startServer(t)
	out := filepath.Join(t.TempDir(), "gaps.geojson")
	r := run(t, squareCity, "--server", addr, "gaps", "--geojson", out, "--tolerance", "5")
	r.want(t, ExitOK)
	if !strings.Contains(r.stdout, "1 gaps, 5.08 km² uncovered (outlines within 5 m, WGS84)") || tableRow(r.stdout, "1") == nil {
		t.Errorf("gaps table:\n%s", r.stdout)
	}
	fc := readFeatures(t, out)
	if fc.Type != "FeatureCollection" || len(fc.Features) != 1 || fc.Features[0].Geometry.Type != "Polygon" || fc.Features[0].Properties["rank"] != 1.0 {
		t.Fatalf("gaps GeoJSON: %+v", fc)
	}
	var rings [][][2]float64
	if err := json.Unmarshal(fc.Features[0].Geometry.Coordinates, &rings); err != nil || len(rings) != 2 || rings[1][0] != rings[1][len(rings[1])-1] {
		t.Errorf("the gap should be the square with a closed round hole: %d rings (%v)", len(rings), err)
	}
	// An existing map is not replaced without --overwrite.
	run(t, squareCity, "--server", addr, "gaps", "--geojson", out).want(t, ExitUsage)
	run(t, squareCity, "--server", addr, "gaps", "--geojson", out, "--overwrite", "--crs", "gcj02").want(t, ExitOK)
	run(t, squareCity, "--server", addr, "gaps", "--crs", "mercator").want(t, ExitUsage)
	bad := run(t, squareCity, "--server", addr, "gaps", "--tolerance", "-1")
	bad.want(t, ExitInvalidData)
	if !strings.Contains(bad.stderr, "toleranceM") {
		t.Errorf("a bad tolerance should name toleranceM:\n%s", bad.stderr)
	}
}

func TestPlanCommand(t *testing.T) {
	addr := startServer(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "plan.geojson")
	r := run(t, squareCity, "--server", addr, "plan", "--geojson", out)
	r.want(t, ExitOK)
	if !strings.Contains(r.stdout, "13 stops take coverage from 5.28% to 70.21%; target 70%") || !strings.Contains(r.stdout, "target reached") {
		t.Errorf("plan summary:\n%s", r.stdout)
	}
	lines := strings.Split(strings.TrimSpace(r.stdout), "\n")
	if last := strings.Fields(lines[len(lines)-1]); len(last) != 5 || last[0] != "13" || last[3] != "70.21%" {
		t.Errorf("plan table's last row %v:\n%s", last, r.stdout)
	}
	fc := readFeatures(t, out)
	if len(fc.Features) != 13 || fc.Features[0].Geometry.Type != "Point" || fc.Features[12].Properties["order"] != 13.0 {
		t.Fatalf("plan GeoJSON: %d features", len(fc.Features))
	}

	// Sites given as GeoJSON: only they are chosen from.
	sites := writeFile(t, "sites.geojson", `{"type":"FeatureCollection","features":[
{"type":"Feature","properties":{},"geometry":{"type":"Point","coordinates":[125.306,43.855]}},
{"type":"Feature","properties":{},"geometry":{"type":"MultiPoint","coordinates":[[125.324,43.855],[125.315,43.86]]}}]}`)
	r = run(t, squareCity, "--server", addr, "plan", "--candidates", sites, "--target", "0.5")
	r.want(t, ExitOK)
	if !strings.Contains(r.stdout, "2 stops take coverage") || !strings.Contains(r.stdout, "no candidate adds coverage") || !strings.Contains(r.stdout, "these 3 candidates") {
		t.Errorf("plan from given sites:\n%s", r.stdout)
	}
	polygon := writeFile(t, "area.geojson", `{"type":"Polygon","coordinates":[[[125.3,43.85],[125.33,43.85],[125.3,43.87],[125.3,43.85]]]}`)
	bad := run(t, squareCity, "--server", addr, "plan", "--candidates", polygon)
	bad.want(t, ExitUsage)
	if !strings.Contains(bad.stderr, "--candidates") || !strings.Contains(bad.stderr, "Polygon") {
		t.Errorf("a polygon of candidates should be refused by name:\n%s", bad.stderr)
	}
	bad = run(t, squareCity, "--server", addr, "plan", "--target", "2")
	bad.want(t, ExitInvalidData)
	if !strings.Contains(bad.stderr, "targetShare") {
		t.Errorf("a target above 1 should name targetShare:\n%s", bad.stderr)
	}
	run(t, squareCity, "--server", addr, "plan", "--candidates-crs", "utm").want(t, ExitUsage)
}

// TestREADMECommandLine runs the commands of the README's "Command line"
// section against a server: each must succeed.
func TestREADMECommandLine(t *testing.T) {
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(readme)
	i := strings.Index(text, "## Command line")
	if i < 0 {
		t.Fatal("the README has no Command line section")
	}
	text = text[i:]
	block := text[strings.Index(text, "```\n")+4:]
	block = block[:strings.Index(block, "```")]
	addr := startServer(t)
	dir := t.TempDir()
	n := 0
	for _, line := range strings.Split(strings.TrimSpace(block), "\n") {
		args := strings.Fields(strings.TrimPrefix(line, "go run ./clients/cmd/coverage "))
		stdin := ""
		for k := 0; k < len(args); k++ {
			if strings.HasPrefix(args[k], "examples/") {
				args[k] = "../../" + args[k]
			}
			if args[k] == "--geojson" && k+1 < len(args) {
				args[k+1] = filepath.Join(dir, args[k+1])
			}
			if args[k] == "<" && k+1 < len(args) {
				data, err := os.ReadFile("../../" + args[k+1])
				if err != nil {
					t.Fatal(err)
				}
				stdin = string(data)
				args = args[:k]
			}
		}
		r := run(t, stdin, append([]string{"--server", addr}, args...)...)
		if r.code != ExitOK {
			t.Errorf("README: %s: exit %d\n%s", line, r.code, r.stderr)
		}
		n++
	}
	if n < 5 {
		t.Errorf("only %d commands in the README's Command line section", n)
	}
}
