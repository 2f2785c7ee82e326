package server

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"net/http"
	"testing"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/protobuf/encoding/protojson"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// TestLargeRequests sends a city with 200,000 stops, well over gRPC's
// default 4 MiB message limit, over gRPC and as REST GeoJSON, and checks
// both answer the same exact figures.
func TestLargeRequests(t *testing.T) {
	if testing.Short() {
		t.Skip("large request")
	}
	srv := startTestServer(t)
	conn, err := grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(DefaultMaxMessageBytes)))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })

	const n = 200_000
	rng := rand.New(rand.NewPCG(1, 2))
	lon0, lat0 := 125.20, 43.80
	stops := make([]*coveragev1.LonLat, n)
	coords := make([][2]float64, n)
	for i := range stops {
		lon, lat := lon0+0.25*rng.Float64(), lat0+0.18*rng.Float64()
		stops[i] = &coveragev1.LonLat{Lon: lon, Lat: lat}
		coords[i] = [2]float64{lon, lat}
	}
	ring := []*coveragev1.LonLat{{Lon: lon0, Lat: lat0}, {Lon: lon0 + 0.25, Lat: lat0}, {Lon: lon0 + 0.25, Lat: lat0 + 0.18}, {Lon: lon0, Lat: lat0 + 0.18}, {Lon: lon0, Lat: lat0}}
	settlement := &coveragev1.Settlement{
		Id: "big", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_CITY, UrbanPopulation: ptr(int64(3_000_000)),
		CentralAreaPolygons: &coveragev1.MultiPolygon{Polygons: []*coveragev1.Polygon{{Rings: []*coveragev1.LinearRing{{Positions: ring}}}}},
		BusStopPositions:    &coveragev1.Positions{Positions: stops},
	}
	client := coveragev1.NewCoverageServiceClient(conn)
	viaGRPC, err := client.CheckBusStopCoverage(context.Background(), &coveragev1.CheckBusStopCoverageRequest{Settlement: settlement})
	if err != nil {
		t.Fatalf("gRPC with %d stops: %v", n, err)
	}
	if got := viaGRPC.GetCoverage().GetStopsGiven(); got != n {
		t.Fatalf("stops given %d, want %d", got, n)
	}

	area := map[string]any{"type": "Polygon", "coordinates": [][][2]float64{{{lon0, lat0}, {lon0 + 0.25, lat0}, {lon0 + 0.25, lat0 + 0.18}, {lon0, lat0 + 0.18}, {lon0, lat0}}}}
	body, err := json.Marshal(map[string]any{"settlement": map[string]any{
		"id": "big", "kind": "SETTLEMENT_KIND_CITY", "urbanPopulation": 3_000_000,
		"centralArea": area, "busStops": map[string]any{"type": "MultiPoint", "coordinates": coords},
	}})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post("http://"+srv.HTTPAddr()+"/v1/check/bus-stop-coverage", "application/json", bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var buf bytes.Buffer
	if _, err := buf.ReadFrom(resp.Body); err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("REST with %d stops (%d MB): HTTP %d: %.300s", n, len(body)>>20, resp.StatusCode, buf.String())
	}
	viaREST := &coveragev1.CheckBusStopCoverageResponse{}
	if err := protojson.Unmarshal(buf.Bytes(), viaREST); err != nil {
		t.Fatal(err)
	}
	g, r := viaGRPC.GetCoverage(), viaREST.GetCoverage()
	if g.GetCoverageShare() != r.GetCoverageShare() || g.GetCoveredAreaKm2() != r.GetCoveredAreaKm2() || g.GetDuplicatesMerged() != r.GetDuplicatesMerged() {
		t.Errorf("gRPC and REST differ: %v vs %v", fmt.Sprint(g), fmt.Sprint(r))
	}
	if g.GetCoverageShare() != 1 {
		t.Errorf("200,000 stops in %.0f km²: share %v, want 1", g.GetTotalAreaKm2(), g.GetCoverageShare())
	}
}

func ptr[T any](v T) *T { return &v }
