package main

import (
	"bufio"
	"bytes"
	"encoding/json"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"

	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/civic-standards/coverage/bench/scenarios"
	"github.com/civic-standards/coverage/coverage/geo"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// The mid-size city is placed around Changchun: the scenario's planar metres
// are turned into longitude/latitude with the inverse of the same kind of
// equal-area projection the server measures on, so the server measures the
// scenario's 120 km² back (to about 1e-5: its projection is centred on the
// area's bounding box, not on this point).
const midLon0, midLat0 = 125.3245, 43.8868

func payloadsCmd(args []string) error {
	fs := flag.NewFlagSet("payloads", flag.ContinueOnError)
	out := fs.String("out", "", "directory to write the payloads into (created if missing)")
	example := fs.String("settlement", "examples/town-health-facilities.json", "REST body of the non-spatial audit (an AuditRequest with a settlement)")
	streamN := fs.Int("stream", 10_000, "settlements in stream.jsonl")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *out == "" {
		return fmt.Errorf("-out is required")
	}
	if err := os.MkdirAll(*out, 0o755); err != nil {
		return err
	}

	// (a), (c): the settlement of an example REST body, as the REST body and
	// as the binary AuditRequest ghz sends.
	data, err := os.ReadFile(*example)
	if err != nil {
		return err
	}
	audit := &coveragev1.AuditRequest{}
	if err := protojson.Unmarshal(data, audit); err != nil {
		return fmt.Errorf("%s: %w", *example, err)
	}
	if audit.GetSettlement() == nil {
		return fmt.Errorf("%s has no settlement", *example)
	}
	if err := writeBoth(*out, "audit", audit); err != nil {
		return err
	}
	// The REST body is the example itself, compacted.
	var body bytes.Buffer
	if err := json.Compact(&body, data); err != nil {
		return fmt.Errorf("%s: %w", *example, err)
	}
	if err := os.WriteFile(filepath.Join(*out, "audit.json"), append(body.Bytes(), '\n'), 0o644); err != nil {
		return err
	}

	// The same with RESULT_VIEW_BASIC: the verdicts and figures without the
	// title, citation and notes of each rule (which GetRuleset holds).
	basic := proto.Clone(audit).(*coveragev1.AuditRequest)
	basic.View = coveragev1.ResultView_RESULT_VIEW_BASIC
	if err := writeBoth(*out, "audit-basic", basic); err != nil {
		return err
	}
	var fields map[string]json.RawMessage
	if err := json.Unmarshal(data, &fields); err != nil {
		return err
	}
	fields["view"] = json.RawMessage(`"RESULT_VIEW_BASIC"`)
	basicBody, err := json.Marshal(fields)
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(*out, "audit-basic.json"), append(basicBody, '\n'), 0o644); err != nil {
		return err
	}

	// (b): the mid scenario of bench/scenarios as a city.
	mid, err := midCity()
	if err != nil {
		return err
	}
	if err := writeBoth(*out, "coverage-mid", mid); err != nil {
		return err
	}

	// (d): towns for the batch stream.
	if err := writeTowns(filepath.Join(*out, "stream.jsonl"), *streamN); err != nil {
		return err
	}
	fmt.Printf("payloads in %s: audit.{bin,json} and audit-basic.{bin,json} (%s, %s), coverage-mid.{bin,json} (%d stops, %d vertices), stream.jsonl (%d towns)\n",
		*out, audit.GetSettlement().GetId(), audit.GetSettlement().GetKind(),
		len(mid.GetSettlement().GetBusStopPositions().GetPositions()), vertices(mid), *streamN)
	return nil
}

func writeBoth(dir, name string, m proto.Message) error {
	bin, err := proto.Marshal(m)
	if err != nil {
		return err
	}
	js, err := protojson.Marshal(m)
	if err != nil {
		return err
	}
	var compact bytes.Buffer // protojson varies its spacing on purpose
	if err := json.Compact(&compact, js); err != nil {
		return err
	}
	js = compact.Bytes()
	if err := os.WriteFile(filepath.Join(dir, name+".bin"), bin, 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, name+".json"), append(js, '\n'), 0o644)
}

func midCity() (*coveragev1.CheckBusStopCoverageRequest, error) {
	sc, err := scenarios.Get("mid")
	if err != nil {
		return nil, err
	}
	proj := geo.NewLAEA(midLon0, midLat0, 0, 0)
	ll := func(x, y float64) *coveragev1.LonLat {
		lon, lat := proj.Inverse(x, y)
		return &coveragev1.LonLat{Lon: lon, Lat: lat}
	}
	area := &coveragev1.MultiPolygon{}
	for _, p := range sc.Polygons {
		pp := &coveragev1.Polygon{}
		for _, r := range p {
			ring := &coveragev1.LinearRing{}
			for _, q := range r {
				ring.Positions = append(ring.Positions, ll(q.X, q.Y))
			}
			ring.Positions = append(ring.Positions, ll(r[0].X, r[0].Y)) // closed
			pp.Rings = append(pp.Rings, ring)
		}
		area.Polygons = append(area.Polygons, pp)
	}
	stops := &coveragev1.Positions{}
	for _, s := range sc.Stops {
		stops.Positions = append(stops.Positions, ll(s.X, s.Y))
	}
	urban := int64(800_000) // MEDIUM tier: 70% required
	return &coveragev1.CheckBusStopCoverageRequest{Settlement: &coveragev1.Settlement{
		Id: "mid", Name: "Mid-size city (synthetic: bench/scenarios mid)", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_CITY,
		UrbanPopulation: &urban, CentralAreaPolygons: area, CentralAreaCrs: coveragev1.CoordinateSystem_COORDINATE_SYSTEM_WGS84,
		BusStopPositions: stops, BusStopsCrs: coveragev1.CoordinateSystem_COORDINATE_SYSTEM_WGS84,
	}}, nil
}

func vertices(m *coveragev1.CheckBusStopCoverageRequest) int {
	n := 0
	for _, p := range m.GetSettlement().GetCentralAreaPolygons().GetPolygons() {
		for _, r := range p.GetRings() {
			n += len(r.GetPositions()) - 1
		}
	}
	return n
}

// writeTowns writes n towns without geometry, one JSON settlement a line, of
// varied size and provision (seeded: every run audits the same batch).
func writeTowns(path string, n int) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriterSize(f, 1<<20)
	rng := rand.New(rand.NewPCG(2014, 2020))
	for i := range n {
		resident := 5000 + rng.IntN(60000)
		elderly := resident * (12 + rng.IntN(14)) / 100
		fmt.Fprintf(w, `{"id":"town-%06d","name":"Town %d","kind":"SETTLEMENT_KIND_TOWN","urbanPopulation":%d,"residentPopulation":%d,"elderlyPopulation":%d,"elderlyCareBeds":%d,"facilities":{"standardKindergartens":%d,"communityHealthCentres":%d,"communityHealthStations":%d,"townshipHealthCentres":1}}`+"\n",
			i, i, resident*8/10, resident, elderly, elderly*rng.IntN(50)/1000, rng.IntN(3), rng.IntN(2), rng.IntN(2))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	return f.Close()
}
