package server

import (
	"context"
	"encoding/hex"
	"log/slog"
	"math"
	"net/http"
	"strings"
	"testing"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// squareCity is a county-level city with a central area of n vertices
// around (125.3, 43.9) and the given stops inside it.
func squareCity(vertices, stops int) *coveragev1.Settlement {
	ring := &coveragev1.LinearRing{}
	for i := range vertices {
		a := 2 * math.Pi * float64(i) / float64(vertices)
		ring.Positions = append(ring.Positions, &coveragev1.LonLat{Lon: 125.3 + 0.02*math.Cos(a), Lat: 43.9 + 0.015*math.Sin(a)})
	}
	ring.Positions = append(ring.Positions, ring.Positions[0])
	s := &coveragev1.Settlement{
		Id: "city", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_COUNTY_LEVEL_CITY, UrbanPopulation: proto.Int64(300_000),
		CentralAreaPolygons: &coveragev1.MultiPolygon{Polygons: []*coveragev1.Polygon{{Rings: []*coveragev1.LinearRing{ring}}}},
		BusStopPositions:    &coveragev1.Positions{},
	}
	for i := range stops {
		s.BusStopPositions.Positions = append(s.BusStopPositions.Positions, &coveragev1.LonLat{
			Lon: 125.3 + 0.01*float64(i%100)/100, Lat: 43.9 + 0.01*float64(i/100%100)/100})
	}
	return s
}

// geoJSONPoints is a GeoJSON MultiPoint of n stops.
func geoJSONPoints(t *testing.T, n int) *structpb.Struct {
	t.Helper()
	coords := make([]any, n)
	for i := range coords {
		coords[i] = []any{125.3 + 0.0001*float64(i%50), 43.9 + 0.0001*float64(i/50)}
	}
	s, err := structpb.NewStruct(map[string]any{"type": "MultiPoint", "coordinates": coords})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestGeometryLimits: stops, population points and vertices beyond the
// configured limits are refused before any work, naming the field, over
// gRPC and REST; at the limit they are accepted.
func TestGeometryLimits(t *testing.T) {
	ts := startServer(t, Config{MaxStops: 20, MaxVertices: 12})
	ctx := rpcContext(t)
	area := squareCity(11, 0).GetCentralAreaPolygons() // 12 positions with the closing one
	cases := []struct {
		name  string
		s     *coveragev1.Settlement
		field string // "" when it must be accepted
	}{
		{"at both limits", squareCity(11, 20), ""},
		{"one stop too many", squareCity(11, 21), "settlement.busStopPositions"},
		{"one vertex too many", squareCity(12, 5), "settlement.centralAreaPolygons"},
		{"GeoJSON stops at the limit", &coveragev1.Settlement{Id: "g", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_CITY,
			UrbanPopulation: proto.Int64(300_000), CentralAreaPolygons: area, BusStops: geoJSONPoints(t, 20)}, ""},
		{"GeoJSON stops over the limit", &coveragev1.Settlement{Id: "g", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_CITY,
			UrbanPopulation: proto.Int64(300_000), CentralAreaPolygons: area, BusStops: geoJSONPoints(t, 21)}, "settlement.busStops"},
		{"population points over the limit", func() *coveragev1.Settlement {
			s := squareCity(11, 3)
			for range 21 {
				s.PopulationPoints = append(s.PopulationPoints, &coveragev1.PopulationPoint{Lon: 125.3, Lat: 43.9, Count: 1})
			}
			return s
		}(), "settlement.populationPoints"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := ts.client.CheckBusStopCoverage(ctx, &coveragev1.CheckBusStopCoverageRequest{Settlement: c.s})
			if c.field == "" {
				if err != nil {
					t.Fatalf("refused at the limit: %v", err)
				}
				return
			}
			wantInvalidField(t, err, c.field)
			body, _ := protojson.Marshal(&coveragev1.CheckBusStopCoverageRequest{Settlement: c.s})
			code, resp := ts.do(t, http.MethodPost, "/v1/check/bus-stop-coverage", string(body))
			if code != http.StatusBadRequest || !strings.Contains(string(resp), c.field) || !strings.Contains(string(resp), "the server's limit") {
				t.Errorf("REST: %d %s", code, resp)
			}
		})
	}
}

// deadlineService reports the deadline each ListRulesets call runs under.
type deadlineService struct {
	*Service
	seen chan time.Duration
}

func (s deadlineService) ListRulesets(ctx context.Context, req *coveragev1.ListRulesetsRequest) (*coveragev1.ListRulesetsResponse, error) {
	d, ok := ctx.Deadline()
	if !ok {
		s.seen <- -1
	} else {
		s.seen <- time.Until(d)
	}
	return s.Service.ListRulesets(ctx, req)
}

// TestDeadlines: a call without a deadline gets the default, a longer one is
// cut to the maximum, a shorter one is kept.
func TestDeadlines(t *testing.T) {
	catalog := testCatalog(t)
	svc := deadlineService{Service: NewService(catalog), seen: make(chan time.Duration, 1)}
	ts := startServer(t, Config{Catalog: catalog, service: svc, DefaultDeadline: 7 * time.Second, MaxDeadline: 20 * time.Second})
	for _, c := range []struct {
		name     string
		deadline time.Duration // 0: none
		lo, hi   time.Duration
	}{
		{"none: the default", 0, 6 * time.Second, 7 * time.Second},
		{"an hour: the maximum", time.Hour, 19 * time.Second, 20 * time.Second},
		{"two seconds: kept", 2 * time.Second, time.Second, 2 * time.Second},
	} {
		ctx := context.Background()
		if c.deadline > 0 {
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, c.deadline)
			defer cancel()
		}
		if _, err := ts.client.ListRulesets(ctx, &coveragev1.ListRulesetsRequest{}); err != nil {
			t.Fatal(err)
		}
		if got := <-svc.seen; got < c.lo || got > c.hi {
			t.Errorf("%s: the handler had %s, want %s to %s", c.name, got, c.lo, c.hi)
		}
	}
	if _, err := New(Config{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Catalog: catalog, DefaultDeadline: time.Hour, MaxDeadline: time.Minute}); err == nil {
		t.Error("a default deadline above the maximum was accepted")
	}
}

// TestStreamItemDeadline: on a stream, a settlement that outlives its own
// deadline is that item's error, and the stream goes on.
func TestStreamItemDeadline(t *testing.T) {
	svc := NewService(testCatalog(t))
	svc.itemTimeout = 2 * time.Millisecond
	big := squareCity(2000, 200_000)
	// On a fast machine the big city may finish inside the budget; measure first.
	start := time.Now()
	if _, err := svc.CheckBusStopCoverage(context.Background(), &coveragev1.CheckBusStopCoverageRequest{Settlement: big}); err != nil {
		t.Fatal(err)
	}
	if time.Since(start) < 20*time.Millisecond {
		t.Skipf("the big city takes only %s here", time.Since(start))
	}
	client := newBufconnClient(t, svc)
	stream, err := client.AuditStream(rpcContext(t))
	if err != nil {
		t.Fatal(err)
	}
	for _, s := range []*coveragev1.Settlement{big, batchTown("after", 1)} {
		if err := stream.Send(&coveragev1.AuditStreamRequest{Settlement: s}); err != nil {
			t.Fatal(err)
		}
	}
	_ = stream.CloseSend()
	first, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if e := first.GetResult().GetError(); e.GetCode() != "DEADLINE_EXCEEDED" || !strings.Contains(e.GetMessage(), "per settlement") {
		t.Errorf("the slow settlement's item: %v", first.GetResult())
	}
	second, err := stream.Recv()
	if err != nil {
		t.Fatal(err)
	}
	if second.GetResult().GetAudit() == nil {
		t.Errorf("the settlement after it was not audited: %v", second.GetResult())
	}
}

// TestRequestIDs: every call gets an ID, the caller's own when it sends a
// sane one; it comes back in the response header and is in the log lines of
// the call, for gRPC and for REST (where the gateway passes it to gRPC, so
// the HTTP and gRPC log lines of one request carry the same ID).
func TestRequestIDs(t *testing.T) {
	logs := &syncBuffer{}
	ts := startServer(t, Config{Catalog: testCatalog(t), Logger: slog.New(slog.NewJSONHandler(logs, nil))})

	call := func(sent string) string {
		ctx := rpcContext(t)
		if sent != "" {
			ctx = metadata.AppendToOutgoingContext(ctx, requestIDKey, sent)
		}
		var header metadata.MD
		if _, err := ts.client.ListRulesets(ctx, &coveragev1.ListRulesetsRequest{}, grpc.Header(&header)); err != nil {
			t.Fatal(err)
		}
		got := header.Get(requestIDKey)
		if len(got) != 1 {
			t.Fatalf("response header %v", header)
		}
		return got[0]
	}
	generated := call("")
	if _, err := hex.DecodeString(generated); err != nil || len(generated) != 24 {
		t.Errorf("generated ID %q", generated)
	}
	if other := call(""); other == generated {
		t.Error("two calls got the same ID")
	}
	if got := call("caller-7f3a"); got != "caller-7f3a" {
		t.Errorf("the caller's ID came back as %q", got)
	}
	for _, bad := range []string{strings.Repeat("x", 129), "two words"} {
		if got := call(bad); got == bad {
			t.Errorf("unsafe ID %q was kept", bad)
		}
	}
	if !strings.Contains(logs.String(), `"request_id":"caller-7f3a"`) {
		t.Errorf("the gRPC log lacks the request ID:\n%s", logs.String())
	}

	req, _ := http.NewRequest(http.MethodGet, ts.base+"/v1/rulesets", nil)
	req.Header.Set(requestIDHeader, "rest-42")
	resp, err := ts.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if got := resp.Header.Values(requestIDHeader); len(got) != 1 || got[0] != "rest-42" {
		t.Errorf("REST response X-Request-Id %v", got)
	}
	// The access log line is written after the response has gone out.
	var httpLine, grpcLine bool
	for deadline := time.Now().Add(2 * time.Second); !(httpLine && grpcLine) && time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		for _, line := range strings.Split(logs.String(), "\n") {
			if strings.Contains(line, `"request_id":"rest-42"`) {
				httpLine = httpLine || strings.Contains(line, "finished HTTP request")
				grpcLine = grpcLine || strings.Contains(line, "finished call")
			}
		}
	}
	if !httpLine || !grpcLine {
		t.Errorf("REST request ID in HTTP log %v, in gRPC log %v:\n%s", httpLine, grpcLine, logs.String())
	}
	resp, err = ts.http.Get(ts.base + "/v1/rulesets/nope")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if id := resp.Header.Get(requestIDHeader); id == "" {
		t.Error("an error response has no X-Request-Id")
	}
}

// TestCORS: off unless origins are configured; then only those origins.
func TestCORS(t *testing.T) {
	preflight := func(ts *testServer, origin string) http.Header {
		req, _ := http.NewRequest(http.MethodOptions, ts.base+"/v1/audit", nil)
		req.Header.Set("Origin", origin)
		req.Header.Set("Access-Control-Request-Method", "POST")
		req.Header.Set("Access-Control-Request-Headers", "authorization,content-type") // as browsers send it: sorted, lower case
		resp, err := ts.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.Header
	}
	off := startServer(t, Config{})
	if h := preflight(off, "https://plan.example"); h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("CORS answered without configuration: %v", h)
	}
	on := startServer(t, Config{CORSOrigins: []string{"https://plan.example"}})
	if h := preflight(on, "https://plan.example"); h.Get("Access-Control-Allow-Origin") != "https://plan.example" ||
		!strings.Contains(strings.ToLower(h.Get("Access-Control-Allow-Headers")), "authorization") {
		t.Errorf("allowed origin's preflight: %v", h)
	}
	if h := preflight(on, "https://elsewhere.example"); h.Get("Access-Control-Allow-Origin") != "" {
		t.Errorf("another origin was allowed: %v", h)
	}
	req, _ := http.NewRequest(http.MethodGet, on.base+"/v1/rulesets", nil)
	req.Header.Set("Origin", "https://plan.example")
	resp, err := on.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.Header.Get("Access-Control-Allow-Origin") != "https://plan.example" || !strings.Contains(resp.Header.Get("Access-Control-Expose-Headers"), requestIDHeader) {
		t.Errorf("GET with an allowed origin: %v", resp.Header)
	}
}
