// Command genscenarios writes the benchmark scenarios of bench/scenarios to
// files, one <name>.json per scenario (a GeoJSON MultiPolygon area and
// MultiPoint stops in planar metres; see scenarios.File), so that the Go
// engine and GEOS time the very same inputs.
//
//	go run ./bench/cmd/genscenarios -out /tmp/scenarios [-only town,mid]
package main

import (
	"flag"
	"fmt"
	"log"
	"os"
	"path/filepath"
	"slices"
	"strings"

	"github.com/civic-standards/coverage/bench/scenarios"
)

func main() {
	out := flag.String("out", "", "directory to write <scenario>.json files into (created if missing)")
	only := flag.String("only", "", "comma-separated scenario names (default: all of "+strings.Join(scenarios.Names(), ",")+")")
	flag.Parse()
	if *out == "" {
		log.Fatal("genscenarios: -out DIR is required")
	}
	names := scenarios.Names()
	if *only != "" {
		names = strings.Split(*only, ",")
		for _, n := range names {
			if !slices.Contains(scenarios.Names(), n) {
				log.Fatalf("genscenarios: unknown scenario %q (have %v)", n, scenarios.Names())
			}
		}
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		log.Fatal(err)
	}
	for _, n := range names {
		s, err := scenarios.Get(n)
		if err != nil {
			log.Fatal(err)
		}
		path := filepath.Join(*out, n+".json")
		f, err := os.Create(path)
		if err != nil {
			log.Fatal(err)
		}
		if err := s.Write(f); err != nil {
			log.Fatal(err)
		}
		if err := f.Close(); err != nil {
			log.Fatal(err)
		}
		fmt.Printf("%s\t%d stops\t%d vertices\t%.1f km²\t%s\n", path, len(s.Stops), s.Vertices(), s.AreaM2/1e6, s.Description)
	}
}
