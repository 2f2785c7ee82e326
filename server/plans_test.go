package server

import (
	"encoding/json"
	"math"
	"net/http"
	"strings"
	"testing"

	"google.golang.org/grpc/codes"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/civic-standards/coverage/coverage/geo"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// planCity is a medium city (threshold 70%) whose ~2.4 km × 2.2 km central
// area has one stop at its centre.
func planCity(t testing.TB) *coveragev1.Settlement {
	const lon, lat = 125.315, 43.86
	return &coveragev1.Settlement{
		Id: "c", Name: "City", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_CITY,
		UrbanPopulation: proto.Int64(800_000),
		CentralArea:     squareArea(t, lon, lat, 0.015, 0.01),
		BusStops:        stopsAt(t, [2]float64{lon, lat}),
	}
}

func TestMapBusStopGaps(t *testing.T) {
	client := newBufconnClient(t, NewService(testCatalog(t)))
	ctx := rpcContext(t)
	resp, err := client.MapBusStopGaps(ctx, &coveragev1.MapBusStopGapsRequest{Settlement: planCity(t)})
	if err != nil {
		t.Fatalf("MapBusStopGaps: %v", err)
	}
	cov := resp.GetCoverage()
	total := cov.GetTotalAreaKm2() * 1e6
	// One disk wholly inside the square: a single gap, the square with a round hole.
	if len(resp.GetGaps()) != 1 || resp.GetGapsTotal() != 1 {
		t.Fatalf("%d gaps (total %d), want 1", len(resp.GetGaps()), resp.GetGapsTotal())
	}
	g := resp.GetGaps()[0]
	want := total - math.Pi*300*300
	if math.Abs(g.GetAreaM2()-want) > 1e-6*want {
		t.Errorf("gap area %.3f m², want %.3f (square − πr²)", g.GetAreaM2(), want)
	}
	if math.Abs(resp.GetUncoveredAreaM2()-cov.GetUncoveredAreaKm2()*1e6) > 1e-6*want {
		t.Errorf("uncovered %.3f m² differs from the coverage's %.3f", resp.GetUncoveredAreaM2(), cov.GetUncoveredAreaKm2()*1e6)
	}
	if g.GetRank() != 1 || g.GetHoles() != 1 || math.Abs(g.GetShareOfArea()-want/total) > 1e-9 {
		t.Errorf("gap rank %d holes %d share %v", g.GetRank(), g.GetHoles(), g.GetShareOfArea())
	}
	if math.Abs(g.GetCentroid().GetLon()-125.315) > 1e-4 || math.Abs(g.GetCentroid().GetLat()-43.86) > 1e-4 {
		t.Errorf("centroid %v, want the centre of the square", g.GetCentroid())
	}
	if cov.GetThreshold() != 0.7 || cov.GetTier() != "MEDIUM" {
		t.Errorf("coverage threshold %v tier %q, want the MEDIUM tier's 0.7", cov.GetThreshold(), cov.GetTier())
	}
	u := resp.GetUncovered().AsMap()
	if u["type"] != "MultiPolygon" {
		t.Fatalf("uncovered type %v", u["type"])
	}
	polys := u["coordinates"].([]any)
	rings := polys[0].([]any)
	if len(polys) != 1 || len(rings) != 2 {
		t.Fatalf("uncovered has %d polygons, the first %d rings; want 1 and 2", len(polys), len(rings))
	}
	hole := rings[1].([]any)
	if first, last := hole[0].([]any), hole[len(hole)-1].([]any); first[0] != last[0] || first[1] != last[1] {
		t.Errorf("hole ring not closed: %v … %v", first, last)
	}
	// A hole traced at 1 m tolerance around a 300 m circle has about 2π/(2·acos(1 − 1/300)) ≈ 39 chords.
	if n := len(hole) - 1; n < 30 || n > 80 {
		t.Errorf("hole has %d vertices", n)
	}

	// The same map in GCJ-02: every position is the WGS-84 one moved by the datum.
	gcj, err := client.MapBusStopGaps(ctx, &coveragev1.MapBusStopGapsRequest{Settlement: planCity(t), OutputCrs: coveragev1.CoordinateSystem_COORDINATE_SYSTEM_GCJ02})
	if err != nil {
		t.Fatal(err)
	}
	if gcj.GetCrs() != coveragev1.CoordinateSystem_COORDINATE_SYSTEM_GCJ02 || resp.GetCrs() != coveragev1.CoordinateSystem_COORDINATE_SYSTEM_WGS84 {
		t.Errorf("crs %v and %v", resp.GetCrs(), gcj.GetCrs())
	}
	wlon, wlat := geo.GCJ02.FromWGS84(g.GetCentroid().GetLon(), g.GetCentroid().GetLat())
	if c := gcj.GetGaps()[0].GetCentroid(); math.Abs(c.GetLon()-wlon) > 1e-7 || math.Abs(c.GetLat()-wlat) > 1e-7 {
		t.Errorf("GCJ-02 centroid %v, want %v %v", c, wlon, wlat)
	}

	// No stops: the whole area is one gap without holes.
	bare := planCity(t)
	bare.BusStops = nil
	bare.BusStopPositions = &coveragev1.Positions{}
	none, err := client.MapBusStopGaps(ctx, &coveragev1.MapBusStopGapsRequest{Settlement: bare})
	if err != nil {
		t.Fatal(err)
	}
	if len(none.GetGaps()) != 1 || none.GetGaps()[0].GetHoles() != 0 || math.Abs(none.GetGaps()[0].GetAreaM2()-total) > 1e-6*total {
		t.Errorf("without stops: %v", none.GetGaps())
	}
}

func TestMapBusStopGapsSplitsAndLimits(t *testing.T) {
	client := newBufconnClient(t, NewService(testCatalog(t)))
	ctx := rpcContext(t)
	// A row of stops across the middle of a 2.4 km × 1.2 km area, 0.3 km off
	// centre, cuts it into two gaps of unequal size.
	const lon, lat = 125.315, 43.86
	var stops [][2]float64
	for x := -0.016; x <= 0.016; x += 0.002 {
		stops = append(stops, [2]float64{lon + x, lat + 0.0027})
	}
	s := planCity(t)
	s.CentralArea = squareArea(t, lon, lat, 0.015, 0.0054)
	s.BusStops = stopsAt(t, stops...)
	all, err := client.MapBusStopGaps(ctx, &coveragev1.MapBusStopGapsRequest{Settlement: s})
	if err != nil {
		t.Fatal(err)
	}
	if all.GetGapsTotal() != 2 || len(all.GetGaps()) != 2 {
		t.Fatalf("%d gaps, want 2", all.GetGapsTotal())
	}
	a, b := all.GetGaps()[0], all.GetGaps()[1]
	if !(a.GetAreaM2() > b.GetAreaM2()) || a.GetCentroid().GetLat() > lat || b.GetCentroid().GetLat() < lat {
		t.Errorf("gaps not largest first, or on the wrong sides: %v, %v", a, b)
	}
	one, err := client.MapBusStopGaps(ctx, &coveragev1.MapBusStopGapsRequest{Settlement: s, MaxGaps: 1})
	if err != nil {
		t.Fatal(err)
	}
	if one.GetGapsTotal() != 2 || len(one.GetGaps()) != 1 || len(one.GetUncovered().AsMap()["coordinates"].([]any)) != 1 ||
		math.Abs(one.GetUncoveredAreaM2()-all.GetUncoveredAreaM2()) > 1e-6 {
		t.Errorf("maxGaps 1: %d of %d gaps, uncovered %v", len(one.GetGaps()), one.GetGapsTotal(), one.GetUncoveredAreaM2())
	}
}

func TestPlanBusStops(t *testing.T) {
	client := newBufconnClient(t, NewService(testCatalog(t)))
	ctx := rpcContext(t)
	resp, err := client.PlanBusStops(ctx, &coveragev1.PlanBusStopsRequest{Settlement: planCity(t)})
	if err != nil {
		t.Fatalf("PlanBusStops: %v", err)
	}
	if !resp.GetReached() || resp.GetTargetShare() != 0.7 || resp.GetFinalShare() < 0.7 || resp.GetStopped() != "target reached" {
		t.Fatalf("plan: reached %v target %v final %v stopped %q", resp.GetReached(), resp.GetTargetShare(), resp.GetFinalShare(), resp.GetStopped())
	}
	if !strings.Contains(resp.GetTargetReason(), "T18-STOP-COVERAGE-300M") || resp.GetGuarantee() == "" {
		t.Errorf("target reason %q guarantee %q", resp.GetTargetReason(), resp.GetGuarantee())
	}
	n := int(resp.GetStopsAdded())
	if n != len(resp.GetAddedStops()) || n == 0 || int(resp.GetLowerBound()) > n || resp.GetLowerBound() < 1 {
		t.Fatalf("%d stops added, %d listed, lower bound %d", n, len(resp.GetAddedStops()), resp.GetLowerBound())
	}
	// The area is 5.3 km² and one disk is 0.28 km²: at least 70% needs ⌈(0.7·5.3 − 0.28)/0.28⌉ = 13 more.
	if resp.GetLowerBound() < 12 {
		t.Errorf("lower bound %d is weaker than the area bound", resp.GetLowerBound())
	}
	prev := resp.GetBefore().GetCoverageShare()
	stops := [][2]float64{{125.315, 43.86}}
	for i, s := range resp.GetAddedStops() {
		if len(s.GetPosition()) != 2 || s.GetCoverageShare() <= prev || s.GetGainM2() <= 0 {
			t.Fatalf("stop %d: %v after %v", i, s, prev)
		}
		prev = s.GetCoverageShare()
		stops = append(stops, [2]float64{s.GetPosition()[0], s.GetPosition()[1]})
	}
	if math.Abs(prev-resp.GetFinalShare()) > 1e-9 {
		t.Errorf("last stop's share %v, final share %v", prev, resp.GetFinalShare())
	}
	// Independently: the check with the planned stops added measures the final share.
	s := planCity(t)
	s.BusStops = stopsAt(t, stops...)
	check, err := client.CheckBusStopCoverage(ctx, &coveragev1.CheckBusStopCoverageRequest{Settlement: s})
	if err != nil {
		t.Fatal(err)
	}
	// Positions are rounded to 1e-8° (about a millimetre) on the way out.
	if got := check.GetCoverage().GetCoverageShare(); math.Abs(got-resp.GetFinalShare()) > 1e-6 {
		t.Errorf("check with the planned stops: share %v, plan says %v", got, resp.GetFinalShare())
	}
	if check.GetResult().GetStatus() != coveragev1.Status_STATUS_COMPLIANT {
		t.Errorf("check with the planned stops: %v", check.GetResult().GetStatus())
	}

	// A cap of two stops stops short.
	capped, err := client.PlanBusStops(ctx, &coveragev1.PlanBusStopsRequest{Settlement: planCity(t), MaxStops: 2})
	if err != nil {
		t.Fatal(err)
	}
	if capped.GetStopsAdded() != 2 || capped.GetReached() || capped.GetStopped() != "stop cap reached" || capped.GetMaxStops() != 2 {
		t.Errorf("capped: %d stops, reached %v, stopped %q", capped.GetStopsAdded(), capped.GetReached(), capped.GetStopped())
	}
	// Given candidates, only they are chosen from; the one at the covered
	// centre adds nothing and is never chosen.
	cands := &coveragev1.Positions{Positions: []*coveragev1.LonLat{{Lon: 125.315, Lat: 43.86}, {Lon: 125.305, Lat: 43.855}, {Lon: 125.325, Lat: 43.865}}}
	given, err := client.PlanBusStops(ctx, &coveragev1.PlanBusStopsRequest{Settlement: planCity(t), Candidates: cands})
	if err != nil {
		t.Fatal(err)
	}
	if given.GetStopsAdded() != 2 || given.GetReached() || given.GetStopped() != "no candidate adds coverage" || given.GetGridSpacingM() != 0 || given.GetCandidates() != 3 {
		t.Errorf("given candidates: %d stops, stopped %q, spacing %v, candidates %d", given.GetStopsAdded(), given.GetStopped(), given.GetGridSpacingM(), given.GetCandidates())
	}
	// A target already met adds nothing.
	met, err := client.PlanBusStops(ctx, &coveragev1.PlanBusStopsRequest{Settlement: planCity(t), TargetShare: proto.Float64(0.01)})
	if err != nil {
		t.Fatal(err)
	}
	if met.GetStopsAdded() != 0 || !met.GetReached() || met.GetLowerBound() != 0 {
		t.Errorf("target met: %d stops, reached %v, bound %d", met.GetStopsAdded(), met.GetReached(), met.GetLowerBound())
	}
}

func TestPlanAndGapErrors(t *testing.T) {
	client := newBufconnClient(t, NewService(testCatalog(t)))
	ctx := rpcContext(t)
	town := planCity(t)
	town.Kind = coveragev1.SettlementKind_SETTLEMENT_KIND_TOWN
	noUrban := planCity(t)
	noUrban.UrbanPopulation = nil
	noArea := planCity(t)
	noArea.CentralArea = nil
	planCases := []struct {
		name  string
		req   *coveragev1.PlanBusStopsRequest
		field string
	}{
		{"no settlement", &coveragev1.PlanBusStopsRequest{}, "settlement"},
		{"a town has no threshold", &coveragev1.PlanBusStopsRequest{Settlement: town}, "targetShare"},
		{"no tier", &coveragev1.PlanBusStopsRequest{Settlement: noUrban}, "settlement.urbanPopulation"},
		{"no central area", &coveragev1.PlanBusStopsRequest{Settlement: noArea}, "settlement.centralArea"},
		{"target above 1", &coveragev1.PlanBusStopsRequest{Settlement: planCity(t), TargetShare: proto.Float64(1.5)}, "targetShare"},
		{"target 0", &coveragev1.PlanBusStopsRequest{Settlement: planCity(t), TargetShare: proto.Float64(0)}, "targetShare"},
		{"grid too fine", &coveragev1.PlanBusStopsRequest{Settlement: planCity(t), GridSpacingM: 1}, "gridSpacingM"},
		{"negative spacing", &coveragev1.PlanBusStopsRequest{Settlement: planCity(t), GridSpacingM: -100}, "gridSpacingM"},
		{"negative cap", &coveragev1.PlanBusStopsRequest{Settlement: planCity(t), MaxStops: -1}, "maxStops"},
		{"cap over the limit", &coveragev1.PlanBusStopsRequest{Settlement: planCity(t), MaxStops: 1_000_000}, "maxStops"},
		{"bad candidate", &coveragev1.PlanBusStopsRequest{Settlement: planCity(t), Candidates: &coveragev1.Positions{Positions: []*coveragev1.LonLat{{Lon: 125, Lat: 43}, {Lon: 200, Lat: 43}}}}, "candidates.positions[1]"},
		{"unknown output system", &coveragev1.PlanBusStopsRequest{Settlement: planCity(t), OutputCrs: 9}, "outputCrs"},
		{"unknown candidate system", &coveragev1.PlanBusStopsRequest{Settlement: planCity(t), CandidatesCrs: 9}, "candidatesCrs"},
	}
	for _, c := range planCases {
		t.Run("plan/"+c.name, func(t *testing.T) {
			_, err := client.PlanBusStops(ctx, c.req)
			wantInvalidField(t, err, c.field)
		})
	}
	gapCases := []struct {
		name  string
		req   *coveragev1.MapBusStopGapsRequest
		field string
	}{
		{"no settlement", &coveragev1.MapBusStopGapsRequest{}, "settlement"},
		{"no central area", &coveragev1.MapBusStopGapsRequest{Settlement: noArea}, "settlement.centralArea"},
		{"negative tolerance", &coveragev1.MapBusStopGapsRequest{Settlement: planCity(t), ToleranceM: -1}, "toleranceM"},
		{"tolerance too fine", &coveragev1.MapBusStopGapsRequest{Settlement: planCity(t), ToleranceM: 0.001}, "toleranceM"},
		{"NaN tolerance", &coveragev1.MapBusStopGapsRequest{Settlement: planCity(t), ToleranceM: math.NaN()}, "toleranceM"},
		{"negative max gaps", &coveragev1.MapBusStopGapsRequest{Settlement: planCity(t), MaxGaps: -1}, "maxGaps"},
		{"unknown output system", &coveragev1.MapBusStopGapsRequest{Settlement: planCity(t), OutputCrs: 9}, "outputCrs"},
	}
	for _, c := range gapCases {
		t.Run("gaps/"+c.name, func(t *testing.T) {
			_, err := client.MapBusStopGaps(ctx, c.req)
			wantInvalidField(t, err, c.field)
		})
	}
	// A ruleset without the coverage rule cannot map or plan.
	other := newBufconnClient(t, NewService(catalogWithoutStopCoverage(t)))
	_, err := other.MapBusStopGaps(ctx, &coveragev1.MapBusStopGapsRequest{RulesetId: "no-coverage", Settlement: planCity(t)})
	wantCode(t, err, codes.Unimplemented)
	_, err = other.PlanBusStops(ctx, &coveragev1.PlanBusStopsRequest{RulesetId: "no-coverage", Settlement: planCity(t)})
	wantCode(t, err, codes.Unimplemented)
}

func TestSamples(t *testing.T) {
	client := newBufconnClient(t, NewService(testCatalog(t)))
	ctx := rpcContext(t)
	list, err := client.ListSamples(ctx, &coveragev1.ListSamplesRequest{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.GetSets()) == 0 || list.GetSets()[0].GetName() != "jilin" {
		t.Fatalf("sets %v", list.GetSets())
	}
	var changchun *coveragev1.SampleSettlement
	for _, s := range list.GetSets()[0].GetSettlements() {
		if s.GetId() == "changchun" {
			changchun = s
		}
	}
	if changchun == nil || !changchun.GetHasCentralArea() || changchun.GetBusStops() != 17824 || changchun.GetKind() != coveragev1.SettlementKind_SETTLEMENT_KIND_CITY {
		t.Fatalf("changchun listed as %v", changchun)
	}
	got, err := client.GetSampleSettlement(ctx, &coveragev1.GetSampleSettlementRequest{Set: "jilin", SettlementId: "changchun"})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(got.GetSettlement().GetBusStopPositions().GetPositions()); n != 17824 || got.GetSettlement().GetCentralAreaPolygons() == nil {
		t.Errorf("changchun has %d stops", n)
	}
	_, err = client.GetSampleSettlement(ctx, &coveragev1.GetSampleSettlementRequest{Set: "jilin", SettlementId: "nowhere"})
	wantCode(t, err, codes.NotFound)
	_, err = client.GetSampleSettlement(ctx, &coveragev1.GetSampleSettlementRequest{Set: "../jilin", SettlementId: "changchun"})
	wantCode(t, err, codes.NotFound)
	_, err = client.GetSampleSettlement(ctx, &coveragev1.GetSampleSettlementRequest{})
	wantInvalidField(t, err, "set")
}

// TestPlansOverREST: the routes and JSON names other systems code against.
func TestPlansOverREST(t *testing.T) {
	ts := startServer(t, Config{})
	body, err := protojson.Marshal(&coveragev1.CheckBusStopCoverageRequest{Settlement: planCity(t)})
	if err != nil {
		t.Fatal(err)
	}
	code, out := ts.do(t, http.MethodPost, "/v1/plan/bus-stops", string(body))
	if code != http.StatusOK {
		t.Fatalf("POST /v1/plan/bus-stops: HTTP %d %s", code, out)
	}
	var plan struct {
		AddedStops []struct {
			Position      []float64 `json:"position"`
			CoverageShare float64   `json:"coverageShare"`
		} `json:"addedStops"`
		FinalShare  float64 `json:"finalShare"`
		TargetShare float64 `json:"targetShare"`
		Reached     bool    `json:"reached"`
	}
	if err := json.Unmarshal(out, &plan); err != nil {
		t.Fatal(err)
	}
	if len(plan.AddedStops) == 0 || len(plan.AddedStops[0].Position) != 2 || !plan.Reached || plan.FinalShare < plan.TargetShare ||
		math.Abs(plan.AddedStops[len(plan.AddedStops)-1].CoverageShare-plan.FinalShare) > 1e-9 {
		t.Errorf("plan over REST: %s", out)
	}
	if lon, lat := plan.AddedStops[0].Position[0], plan.AddedStops[0].Position[1]; math.Abs(lon-125.315) > 0.02 || math.Abs(lat-43.86) > 0.02 {
		t.Errorf("first stop at %v %v, outside the area", lon, lat)
	}

	code, out = ts.do(t, http.MethodPost, "/v1/gaps/bus-stop-coverage", string(body))
	if code != http.StatusOK {
		t.Fatalf("POST /v1/gaps/bus-stop-coverage: HTTP %d %s", code, out)
	}
	var gaps struct {
		Uncovered struct {
			Type        string          `json:"type"`
			Coordinates [][][][]float64 `json:"coordinates"`
		} `json:"uncovered"`
		Gaps []struct {
			AreaM2   float64 `json:"areaM2"`
			Centroid struct{ Lon, Lat float64 }
		} `json:"gaps"`
		ToleranceM float64 `json:"toleranceM"`
	}
	if err := json.Unmarshal(out, &gaps); err != nil {
		t.Fatal(err)
	}
	if gaps.Uncovered.Type != "MultiPolygon" || len(gaps.Uncovered.Coordinates) != 1 || len(gaps.Gaps) != 1 || gaps.ToleranceM != 1 {
		t.Errorf("gaps over REST: %.300s", out)
	}

	code, out = ts.do(t, http.MethodPost, "/v1/plan/bus-stops", `{"settlement":{"kind":"SETTLEMENT_KIND_TOWN"},"targetShare":2}`)
	if code != http.StatusBadRequest || !strings.Contains(string(out), `"targetShare"`) {
		t.Errorf("bad plan over REST: HTTP %d %s", code, out)
	}
	code, out = ts.do(t, http.MethodGet, "/v1/samples/jilin/settlements/town-erdaobaihe", "")
	if code != http.StatusOK || !strings.Contains(string(out), `"busStopPositions"`) {
		t.Errorf("GET sample: HTTP %d %.200s", code, out)
	}
	code, _ = ts.do(t, http.MethodGet, "/v1/samples/jilin/settlements/nowhere", "")
	if code != http.StatusNotFound {
		t.Errorf("GET missing sample: HTTP %d", code)
	}
}

// TestWebMount: the web client is served at "/" while the API keeps its routes.
func TestWebMount(t *testing.T) {
	web := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html")
		_, _ = w.Write([]byte("page " + r.URL.Path))
	})
	ts := startServer(t, Config{Web: web})
	for path, want := range map[string]string{
		"/":                "page /",
		"/app.js":          "page /app.js",
		"/v1/rulesets":     `"jilin-2014"`,
		"/healthz":         `SERVING`,
		"/openapi.json":    `"swagger"`,
		"/v1/nothing/here": `Not Found`,
	} {
		_, out := ts.do(t, http.MethodGet, path, "")
		if !strings.Contains(string(out), want) {
			t.Errorf("GET %s: %.200s, want %s", path, out, want)
		}
	}
}
