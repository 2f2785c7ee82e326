package server

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	spb "google.golang.org/genproto/googleapis/rpc/status"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	reflectionpb "google.golang.org/grpc/reflection/grpc_reflection_v1"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// testServer is a Server serving on loopback ports, with a gRPC client
// connection and an HTTP client for it.
type testServer struct {
	srv    *Server
	conn   *grpc.ClientConn
	client coveragev1.CoverageServiceClient
	http   *http.Client
	base   string // "http://host:port"

	cancel   context.CancelFunc
	done     chan error // receives Serve's return value
	stopOnce sync.Once
	stopErr  error
}

// startServer builds the real server with New, serves it, waits until the
// gateway's /healthz answers 200, and stops it at the end of the test.
func startServer(t *testing.T, cfg Config) *testServer {
	t.Helper()
	cfg.GRPCAddr = "127.0.0.1:0"
	cfg.HTTPAddr = "127.0.0.1:0"
	if cfg.Catalog == nil {
		cfg.Catalog = testCatalog(t)
	}
	if cfg.ShutdownTimeout == 0 {
		cfg.ShutdownTimeout = 3 * time.Second
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ts := &testServer{
		srv:    srv,
		cancel: cancel,
		done:   make(chan error, 1),
		http:   &http.Client{Timeout: 5 * time.Second, Transport: &http.Transport{}},
		base:   "http://" + srv.HTTPAddr(),
	}
	go func() { ts.done <- srv.Serve(ctx) }()
	t.Cleanup(func() {
		if ts.conn != nil {
			ts.conn.Close()
		}
		ts.http.CloseIdleConnections()
		if err := ts.stop(); err != nil {
			t.Errorf("Serve: %v", err)
		}
	})

	// Wait until the gateway answers its health endpoint, which also proves
	// that the gateway reaches the gRPC port.
	deadline := time.Now().Add(5 * time.Second)
	probe := &http.Client{Timeout: 500 * time.Millisecond, Transport: &http.Transport{}}
	defer probe.CloseIdleConnections()
	for {
		resp, err := probe.Get(ts.base + "/healthz")
		if err == nil {
			io.Copy(io.Discard, resp.Body)
			resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				break
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("GET /healthz did not answer 200 within 5s (last error %v)", err)
		}
		select {
		case err := <-ts.done:
			ts.done <- err // for the cleanup's stop
			t.Fatalf("Serve returned early: %v", err)
		case <-time.After(20 * time.Millisecond):
		}
	}

	ts.conn, err = grpc.NewClient(srv.GRPCAddr(), grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatalf("grpc.NewClient(%s): %v", srv.GRPCAddr(), err)
	}
	ts.client = coveragev1.NewCoverageServiceClient(ts.conn)
	return ts
}

// stop cancels Serve's context and waits (bounded) for Serve to return.
func (ts *testServer) stop() error {
	ts.stopOnce.Do(func() {
		ts.cancel()
		select {
		case ts.stopErr = <-ts.done:
		case <-time.After(10 * time.Second):
			ts.stopErr = errors.New("Serve did not return within 10s of its context being cancelled")
		}
	})
	return ts.stopErr
}

// do sends an HTTP request to the gateway and returns the status and body.
func (ts *testServer) do(t *testing.T, method, path, body string) (int, []byte) {
	t.Helper()
	var r io.Reader
	if body != "" {
		r = strings.NewReader(body)
	}
	req, err := http.NewRequest(method, ts.base+path, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	resp, err := ts.http.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("%s %s: reading body: %v", method, path, err)
	}
	return resp.StatusCode, data
}

// viaGRPC turns a generated client method into a call that takes the request
// as protojson, so that the gRPC and the HTTP call carry the same request.
func viaGRPC[Req any, PReq interface {
	*Req
	proto.Message
}, Resp proto.Message](f func(context.Context, PReq, ...grpc.CallOption) (Resp, error)) func(context.Context, string) (proto.Message, error) {
	return func(ctx context.Context, body string) (proto.Message, error) {
		req := PReq(new(Req))
		if body != "" {
			if err := protojson.Unmarshal([]byte(body), req); err != nil {
				return nil, err
			}
		}
		resp, err := f(ctx, req)
		if err != nil {
			return nil, err
		}
		return resp, nil
	}
}

// httpError is the gateway's JSON error body (google.rpc.Status) as an HTTP
// client reads it.
type httpError struct {
	Code    int    `json:"code"`
	Message string `json:"message"`
	Details []struct {
		Type            string `json:"@type"`
		FieldViolations []struct {
			Field       string `json:"field"`
			Description string `json:"description"`
		} `json:"fieldViolations"`
	} `json:"details"`
}

func decodeHTTPError(t *testing.T, body []byte) httpError {
	t.Helper()
	var e httpError
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatalf("error body is not JSON: %v\n%s", err, body)
	}
	return e
}

// firstViolationField is details[0].fieldViolations[0].field, or fails.
func firstViolationField(t *testing.T, body []byte) string {
	t.Helper()
	e := decodeHTTPError(t, body)
	if len(e.Details) == 0 || len(e.Details[0].FieldViolations) == 0 {
		t.Fatalf("error body has no details[0].fieldViolations[0]: %s", body)
	}
	if e.Details[0].Type != "type.googleapis.com/google.rpc.BadRequest" {
		t.Errorf("details[0].@type = %q, want type.googleapis.com/google.rpc.BadRequest", e.Details[0].Type)
	}
	return e.Details[0].FieldViolations[0].Field
}

const elderlyAcceptanceBody = `{"settlement":{"id":"t1","name":"T","kind":"SETTLEMENT_KIND_TOWN","elderlyPopulation":12000,"elderlyCareBeds":300}}`

// TestGRPCAndHTTPAgree calls every RPC over gRPC and over the REST gateway
// and requires the same answer from both.
func TestGRPCAndHTTPAgree(t *testing.T) {
	ts := startServer(t, Config{})
	c := ts.client
	tests := []struct {
		name     string
		method   string
		path     string
		body     string
		grpc     func(context.Context, string) (proto.Message, error)
		wantHTTP int
		wantCode codes.Code
	}{
		{
			name: "ListRulesets", method: http.MethodGet, path: "/v1/rulesets",
			grpc: viaGRPC(c.ListRulesets), wantHTTP: http.StatusOK,
		},
		{
			name: "GetRuleset", method: http.MethodGet, path: "/v1/rulesets/jilin-2014",
			grpc: func(ctx context.Context, _ string) (proto.Message, error) {
				return c.GetRuleset(ctx, &coveragev1.GetRulesetRequest{Id: "jilin-2014"})
			},
			wantHTTP: http.StatusOK,
		},
		{
			name: "GetRuleset not found", method: http.MethodGet, path: "/v1/rulesets/nope",
			grpc: func(ctx context.Context, _ string) (proto.Message, error) {
				return c.GetRuleset(ctx, &coveragev1.GetRulesetRequest{Id: "nope"})
			},
			wantHTTP: http.StatusNotFound, wantCode: codes.NotFound,
		},
		{
			name: "Audit", method: http.MethodPost, path: "/v1/audit",
			body: `{"rulesetId":"jilin-2014","settlement":{"id":"220100","name":"长春市","kind":"SETTLEMENT_KIND_CITY",
				"regionalCentralCity":true,"urbanPopulation":2500000,"residentPopulation":4000000,"elderlyPopulation":600000,
				"elderlyCareBeds":25000,"registeredVehicles":1000000,"publicParkingSpaces":280000,
				"facilities":{"maternalChildHealthHospitals":1,"libraries":2,"culturalCentres":1,"museums":0},
				"busFleet":{"vehicles":[{"vehicleClass":"LENGTH_10_13M","count":2000},{"lengthM":18.5,"count":300}]},
				"averageBusSpeedKmh":16,"busDepotAreaM2":500000,"roadHierarchyMeetsStandard":true,
				"centralArea":{"type":"Polygon","coordinates":[[[125.3,43.85],[125.35,43.85],[125.35,43.9],[125.3,43.85]]]},
				"centralAreaCrs":"COORDINATE_SYSTEM_GCJ02",
				"busStops":{"type":"MultiPoint","coordinates":[[125.31,43.86]]}}}`,
			grpc: viaGRPC(c.Audit), wantHTTP: http.StatusOK,
		},
		{
			name: "Audit of an empty settlement", method: http.MethodPost, path: "/v1/audit",
			body: `{"settlement":{}}`,
			grpc: viaGRPC(c.Audit), wantHTTP: http.StatusOK,
		},
		{
			name: "CheckElderlyCare", method: http.MethodPost, path: "/v1/check/elderly-care",
			body: elderlyAcceptanceBody,
			grpc: viaGRPC(c.CheckElderlyCare), wantHTTP: http.StatusOK,
		},
		{
			name: "CheckHealthFacilities", method: http.MethodPost, path: "/v1/check/health-facilities",
			body: `{"settlement":{"id":"t2","name":"Town","kind":"SETTLEMENT_KIND_TOWN","residentPopulation":35000,
				"facilities":{"communityHealthCentres":0,"townshipHealthCentres":1}}}`,
			grpc: viaGRPC(c.CheckHealthFacilities), wantHTTP: http.StatusOK,
		},
		{
			name: "CheckParking", method: http.MethodPost, path: "/v1/check/parking",
			body: `{"rulesetId":"jilin-2014","settlement":{"id":"c1","name":"C","kind":"SETTLEMENT_KIND_CITY",
				"registeredVehicles":100000,"publicParkingSpaces":20000}}`,
			grpc: viaGRPC(c.CheckParking), wantHTTP: http.StatusOK,
		},
		{
			name: "CheckTransit", method: http.MethodPost, path: "/v1/check/transit",
			body: `{"settlement":{"id":"c2","name":"City","kind":"SETTLEMENT_KIND_CITY","urbanPopulation":2000000,
				"busFleet":{"vehicles":[{"vehicleClass":"LENGTH_10_13M","count":1000},{"lengthM":18.5,"count":100}]},
				"averageBusSpeedKmh":14.5}}`,
			grpc: viaGRPC(c.CheckTransit), wantHTTP: http.StatusOK,
		},
		{
			name: "CheckBusStopCoverage", method: http.MethodPost, path: "/v1/check/bus-stop-coverage",
			body: `{"settlement":{"id":"c3","name":"City","kind":"SETTLEMENT_KIND_CITY","urbanPopulation":800000,
				"centralArea":{"type":"Polygon","coordinates":[[[125.3,43.85],[125.35,43.85],[125.35,43.9],[125.3,43.85]]]},
				"busStops":{"type":"MultiPoint","coordinates":[[125.31,43.86]]}}}`,
			grpc: viaGRPC(c.CheckBusStopCoverage), wantHTTP: http.StatusOK,
		},
		{
			name: "CheckBusStopCoverage with typed geometry", method: http.MethodPost, path: "/v1/check/bus-stop-coverage",
			body: `{"settlement":{"id":"c4","kind":"SETTLEMENT_KIND_COUNTY_LEVEL_CITY","urbanPopulation":300000,
				"centralAreaPolygons":{"polygons":[{"rings":[{"positions":[{"lon":125.3,"lat":43.85},{"lon":125.32,"lat":43.85},
					{"lon":125.32,"lat":43.87},{"lon":125.3,"lat":43.87},{"lon":125.3,"lat":43.85}]}]}]},
				"busStopPositions":{"positions":[{"lon":125.31,"lat":43.86},{"lon":125.305,"lat":43.855}]},"busStopsCrs":"COORDINATE_SYSTEM_BD09"}}`,
			grpc: viaGRPC(c.CheckBusStopCoverage), wantHTTP: http.StatusOK,
		},
		{
			name: "CheckBusStopCoverage unknown ruleset", method: http.MethodPost, path: "/v1/check/bus-stop-coverage",
			body: `{"rulesetId":"nope","settlement":{"id":"c3"}}`,
			grpc: viaGRPC(c.CheckBusStopCoverage), wantHTTP: http.StatusBadRequest, wantCode: codes.InvalidArgument,
		},
		{
			name: "CheckElderlyCare negative count", method: http.MethodPost, path: "/v1/check/elderly-care",
			body: `{"settlement":{"elderlyPopulation":-1,"elderlyCareBeds":300}}`,
			grpc: viaGRPC(c.CheckElderlyCare), wantHTTP: http.StatusBadRequest, wantCode: codes.InvalidArgument,
		},
	}
	ctx := rpcContext(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			grpcResp, grpcErr := tc.grpc(ctx, tc.body)
			code, body := ts.do(t, tc.method, tc.path, tc.body)
			if code != tc.wantHTTP {
				t.Fatalf("HTTP %s %s = %d, want %d\n%s", tc.method, tc.path, code, tc.wantHTTP, body)
			}
			if tc.wantCode != codes.OK {
				st := wantCode(t, grpcErr, tc.wantCode)
				// The HTTP error body is the same google.rpc.Status.
				var httpSt spb.Status
				if err := protojson.Unmarshal(body, &httpSt); err != nil {
					t.Fatalf("HTTP error body is not a google.rpc.Status: %v\n%s", err, body)
				}
				got := status.FromProto(&httpSt)
				if got.Code() != st.Code() || got.Message() != st.Message() {
					t.Errorf("HTTP status %v %q, gRPC status %v %q", got.Code(), got.Message(), st.Code(), st.Message())
				}
				gd, wd := got.Details(), st.Details()
				if len(gd) != len(wd) {
					t.Fatalf("HTTP details %v, gRPC details %v", gd, wd)
				}
				for i := range wd {
					gm, ok1 := gd[i].(proto.Message)
					wm, ok2 := wd[i].(proto.Message)
					if !ok1 || !ok2 || !proto.Equal(gm, wm) {
						t.Errorf("details[%d]: HTTP %v, gRPC %v", i, gd[i], wd[i])
					}
				}
				return
			}
			if grpcErr != nil {
				t.Fatalf("gRPC: %v", grpcErr)
			}
			httpResp := grpcResp.ProtoReflect().New().Interface()
			if err := protojson.Unmarshal(body, httpResp); err != nil {
				t.Fatalf("HTTP body does not decode as %T: %v\n%s", httpResp, err, body)
			}
			if !proto.Equal(grpcResp, httpResp) {
				t.Errorf("HTTP and gRPC responses differ\ngRPC: %v\nHTTP: %v", grpcResp, httpResp)
			}
		})
	}
}

// TestHTTPElderlyCareAcceptance is the acceptance request exactly as a REST
// caller sends it, read back as plain JSON.
func TestHTTPElderlyCareAcceptance(t *testing.T) {
	ts := startServer(t, Config{})
	code, body := ts.do(t, http.MethodPost, "/v1/check/elderly-care", elderlyAcceptanceBody)
	if code != http.StatusOK {
		t.Fatalf("status %d, want 200\n%s", code, body)
	}
	var got struct {
		Result struct {
			RuleID        string   `json:"ruleId"`
			Status        string   `json:"status"`
			Value         *float64 `json:"value"`
			Threshold     *float64 `json:"threshold"`
			Shortfall     *float64 `json:"shortfall"`
			ShortfallUnit string   `json:"shortfallUnit"`
			Citation      struct {
				Section      string `json:"section"`
				OriginalText string `json:"originalText"`
			} `json:"citation"`
		} `json:"result"`
	}
	if err := json.Unmarshal(body, &got); err != nil {
		t.Fatalf("body is not JSON: %v\n%s", err, body)
	}
	r := got.Result
	if r.RuleID != "T19-ELDERLY-BEDS" || r.Status != "STATUS_NON_COMPLIANT" {
		t.Errorf("result %s %s, want T19-ELDERLY-BEDS STATUS_NON_COMPLIANT", r.RuleID, r.Status)
	}
	wantFloat(t, "value", r.Value, 25)
	wantFloat(t, "threshold", r.Threshold, 36)
	wantFloat(t, "shortfall", r.Shortfall, 132)
	if r.ShortfallUnit != "beds" {
		t.Errorf("shortfallUnit = %q, want beds", r.ShortfallUnit)
	}
	if !strings.Contains(r.Citation.Section, "专栏19") || r.Citation.OriginalText == "" {
		t.Errorf("citation = %+v, want section 专栏19 with its original text", r.Citation)
	}
}

func TestHTTPErrors(t *testing.T) {
	ts := startServer(t, Config{})
	tests := []struct {
		name       string
		method     string
		path       string
		body       string
		wantStatus int
		wantField  string // details[0].fieldViolations[0].field, when set; a trailing * matches a prefix
	}{
		{
			name: "negative count", method: http.MethodPost, path: "/v1/check/elderly-care",
			body:       `{"settlement":{"id":"t1","kind":"SETTLEMENT_KIND_TOWN","elderlyPopulation":-1,"elderlyCareBeds":300}}`,
			wantStatus: http.StatusBadRequest, wantField: "settlement.elderlyPopulation",
		},
		{
			name: "unknown ruleset", method: http.MethodPost, path: "/v1/check/parking",
			body:       `{"rulesetId":"nope","settlement":{"registeredVehicles":1,"publicParkingSpaces":1}}`,
			wantStatus: http.StatusBadRequest, wantField: "rulesetId",
		},
		{
			name: "missing settlement", method: http.MethodPost, path: "/v1/audit",
			body:       `{"rulesetId":"jilin-2014"}`,
			wantStatus: http.StatusBadRequest, wantField: "settlement",
		},
		{
			name: "undefined kind number", method: http.MethodPost, path: "/v1/check/elderly-care",
			body:       `{"settlement":{"kind":99,"elderlyPopulation":10,"elderlyCareBeds":1}}`,
			wantStatus: http.StatusBadRequest, wantField: "settlement.kind",
		},
		{
			name: "both fleet forms", method: http.MethodPost, path: "/v1/check/transit",
			body:       `{"settlement":{"kind":"SETTLEMENT_KIND_CITY","urbanPopulation":600000,"busFleet":{"standardUnits":10,"vehicles":[{"vehicleClass":"LENGTH_10_13M","count":1}]}}}`,
			wantStatus: http.StatusBadRequest, wantField: "settlement.busFleet",
		},
		{
			name: "malformed JSON", method: http.MethodPost, path: "/v1/check/elderly-care",
			body:       `{"settlement":`,
			wantStatus: http.StatusBadRequest, wantField: "body",
		},
		{
			name: "unknown field", method: http.MethodPost, path: "/v1/check/elderly-care",
			body:       `{"settlement":{"id":"t1","elderlyPopulaton":12000,"elderlyCareBeds":300}}`,
			wantStatus: http.StatusBadRequest, wantField: "elderlyPopulaton",
		},
		{
			name: "wrong type", method: http.MethodPost, path: "/v1/check/elderly-care",
			body:       `{"settlement":{"id":"t1","elderlyPopulation":"abc","elderlyCareBeds":300}}`,
			wantStatus: http.StatusBadRequest, wantField: "elderlyPopulation",
		},
		{
			name: "unknown ruleset by path", method: http.MethodGet, path: "/v1/rulesets/nope",
			wantStatus: http.StatusNotFound,
		},
		{
			name: "bad geometry", method: http.MethodPost, path: "/v1/check/bus-stop-coverage",
			body: `{"settlement":{"kind":"SETTLEMENT_KIND_CITY","urbanPopulation":800000,
				"centralArea":{"type":"Polygon","coordinates":[[[125.3,43.85],[125.35,43.85],[125.35,43.9]]]},
				"busStops":{"type":"MultiPoint","coordinates":[[125.31,43.86]]}}}`,
			wantStatus: http.StatusBadRequest, wantField: "settlement.centralArea*",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := ts.do(t, tc.method, tc.path, tc.body)
			if code != tc.wantStatus {
				t.Fatalf("%s %s = %d, want %d\n%s", tc.method, tc.path, code, tc.wantStatus, body)
			}
			e := decodeHTTPError(t, body)
			if e.Code == 0 || e.Message == "" {
				t.Errorf("error body lacks code or message: %s", body)
			}
			if tc.wantField != "" {
				got := firstViolationField(t, body)
				if prefix, ok := strings.CutSuffix(tc.wantField, "*"); ok && strings.HasPrefix(got, prefix) {
					// A field under the path, such as one ring of the area.
				} else if got != tc.wantField {
					t.Errorf("details[0].fieldViolations[0].field = %q, want %q\n%s", got, tc.wantField, body)
				}
				if d := e.Details[0].FieldViolations[0].Description; d == "" {
					t.Errorf("field violation has no description: %s", body)
				}
			}
		})
	}
}

// TestHTTPUnimplemented: a ruleset without a bus-stop coverage rule cannot
// answer the check, which REST callers see as 501.
func TestHTTPUnimplemented(t *testing.T) {
	ts := startServer(t, Config{Catalog: catalogWithoutStopCoverage(t)})
	body := `{"rulesetId":"no-coverage","settlement":{"id":"c","kind":"SETTLEMENT_KIND_CITY","urbanPopulation":800000}}`
	code, data := ts.do(t, http.MethodPost, "/v1/check/bus-stop-coverage", body)
	if code != http.StatusNotImplemented {
		t.Fatalf("POST /v1/check/bus-stop-coverage = %d, want 501\n%s", code, data)
	}
	if e := decodeHTTPError(t, data); e.Code != int(codes.Unimplemented) || e.Message == "" {
		t.Errorf("error body = %s, want code %d with a message", data, codes.Unimplemented)
	}
	_, err := viaGRPC(ts.client.CheckBusStopCoverage)(rpcContext(t), body)
	wantCode(t, err, codes.Unimplemented)
	// The default ruleset still answers on the same server.
	if code, data := ts.do(t, http.MethodPost, "/v1/check/bus-stop-coverage", `{"settlement":{"id":"c"}}`); code != http.StatusOK {
		t.Errorf("POST /v1/check/bus-stop-coverage with the default ruleset = %d, want 200\n%s", code, data)
	}
}

func TestOpenAPI(t *testing.T) {
	ts := startServer(t, Config{})
	code, body := ts.do(t, http.MethodGet, "/openapi.json", "")
	if code != http.StatusOK {
		t.Fatalf("GET /openapi.json = %d, want 200", code)
	}
	var spec struct {
		Swagger string                     `json:"swagger"`
		Paths   map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(body, &spec); err != nil {
		t.Fatalf("/openapi.json is not JSON: %v", err)
	}
	if spec.Swagger != "2.0" {
		t.Errorf(`"swagger" = %q, want "2.0"`, spec.Swagger)
	}
	for _, p := range []string{
		"/v1/audit", "/v1/rulesets", "/v1/rulesets/{id}", "/v1/check/elderly-care", "/v1/check/health-facilities",
		"/v1/check/parking", "/v1/check/transit", "/v1/check/bus-stop-coverage",
	} {
		if _, ok := spec.Paths[p]; !ok {
			t.Errorf("spec has no path %s", p)
		}
	}
}

func TestHealthAndReflection(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := rpcContext(t)

	health := healthpb.NewHealthClient(ts.conn)
	for _, svc := range []string{"", coveragev1.CoverageService_ServiceDesc.ServiceName} {
		resp, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: svc})
		if err != nil {
			t.Fatalf("health Check(%q): %v", svc, err)
		}
		if resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
			t.Errorf("health Check(%q) = %v, want SERVING", svc, resp.GetStatus())
		}
	}
	_, err := health.Check(ctx, &healthpb.HealthCheckRequest{Service: "no.such.Service"})
	wantCode(t, err, codes.NotFound)

	code, body := ts.do(t, http.MethodGet, "/healthz?service=coverage.v1.CoverageService", "")
	if code != http.StatusOK {
		t.Errorf("GET /healthz?service=coverage.v1.CoverageService = %d, want 200\n%s", code, body)
	}

	// Reflection lists the service. The stream is closed before the test
	// ends so that it does not hold up the graceful stop.
	sctx, cancel := context.WithCancel(ctx)
	defer cancel()
	stream, err := reflectionpb.NewServerReflectionClient(ts.conn).ServerReflectionInfo(sctx)
	if err != nil {
		t.Fatalf("ServerReflectionInfo: %v", err)
	}
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_ListServices{ListServices: ""},
	}); err != nil {
		t.Fatalf("reflection Send: %v", err)
	}
	resp, err := stream.Recv()
	if err != nil {
		t.Fatalf("reflection Recv: %v", err)
	}
	var names []string
	for _, s := range resp.GetListServicesResponse().GetService() {
		names = append(names, s.GetName())
	}
	for _, want := range []string{"coverage.v1.CoverageService", "grpc.health.v1.Health"} {
		if !slices.Contains(names, want) {
			t.Errorf("reflection lists %v, want %s among them", names, want)
		}
	}
	// The file descriptors are reachable too, so tools like grpcurl can
	// describe the API.
	if err := stream.Send(&reflectionpb.ServerReflectionRequest{
		MessageRequest: &reflectionpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: "coverage.v1.CoverageService"},
	}); err != nil {
		t.Fatalf("reflection Send: %v", err)
	}
	resp, err = stream.Recv()
	if err != nil {
		t.Fatalf("reflection Recv: %v", err)
	}
	if len(resp.GetFileDescriptorResponse().GetFileDescriptorProto()) == 0 {
		t.Errorf("FileContainingSymbol(coverage.v1.CoverageService) returned %v", resp.GetMessageResponse())
	}
	if err := stream.CloseSend(); err != nil {
		t.Fatalf("reflection CloseSend: %v", err)
	}
	if _, err := stream.Recv(); err != io.EOF {
		t.Errorf("reflection stream after CloseSend: %v, want io.EOF", err)
	}
}

// panickingService is the real service with an Audit that panics.
type panickingService struct{ *Service }

func (panickingService) Audit(context.Context, *coveragev1.AuditRequest) (*coveragev1.AuditResponse, error) {
	panic("audit exploded")
}

// syncBuffer is a bytes.Buffer safe for the server's concurrent log writes.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestPanicRecovery(t *testing.T) {
	logs := &syncBuffer{}
	catalog := testCatalog(t)
	ts := startServer(t, Config{
		Catalog: catalog,
		Logger:  slog.New(slog.NewTextHandler(logs, nil)),
		service: panickingService{NewService(catalog)},
	})
	ctx := rpcContext(t)
	req := &coveragev1.AuditRequest{Settlement: &coveragev1.Settlement{Id: "x"}}

	_, err := ts.client.Audit(ctx, req)
	st := wantCode(t, err, codes.Internal)
	if strings.Contains(st.Message(), "audit exploded") {
		t.Errorf("INTERNAL message %q leaks the panic value to the caller", st.Message())
	}
	if !strings.Contains(logs.String(), "audit exploded") {
		t.Errorf("the panic was not logged; logs:\n%s", logs.String())
	}

	// The server goes on serving, on the same connection.
	if _, err := ts.client.ListRulesets(ctx, &coveragev1.ListRulesetsRequest{}); err != nil {
		t.Fatalf("ListRulesets after a panic: %v", err)
	}
	if _, err := ts.client.Audit(ctx, req); status.Code(err) != codes.Internal {
		t.Fatalf("second panicking Audit: %v, want INTERNAL", err)
	}

	// Over HTTP the panic is a 500, and the gateway goes on serving too.
	code, body := ts.do(t, http.MethodPost, "/v1/audit", `{"settlement":{"id":"x"}}`)
	if code != http.StatusInternalServerError {
		t.Errorf("POST /v1/audit with a panicking handler = %d, want 500\n%s", code, body)
	}
	if e := decodeHTTPError(t, body); e.Code != int(codes.Internal) {
		t.Errorf("error body code = %d, want %d", e.Code, codes.Internal)
	}
	if code, body := ts.do(t, http.MethodGet, "/v1/rulesets", ""); code != http.StatusOK {
		t.Errorf("GET /v1/rulesets after a panic = %d, want 200\n%s", code, body)
	}
	if code, body := ts.do(t, http.MethodPost, "/v1/check/elderly-care", elderlyAcceptanceBody); code != http.StatusOK {
		t.Errorf("POST /v1/check/elderly-care after a panic = %d, want 200\n%s", code, body)
	}
}

// blockingService is the real service with a ListRulesets that waits for
// release, to hold a call in flight across shutdown.
type blockingService struct {
	*Service
	entered chan struct{}
	release chan struct{}
}

func (s blockingService) ListRulesets(ctx context.Context, req *coveragev1.ListRulesetsRequest) (*coveragev1.ListRulesetsResponse, error) {
	select {
	case s.entered <- struct{}{}:
	default:
	}
	select {
	case <-s.release:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return s.Service.ListRulesets(ctx, req)
}

func TestGracefulShutdown(t *testing.T) {
	catalog := testCatalog(t)
	svc := blockingService{Service: NewService(catalog), entered: make(chan struct{}, 1), release: make(chan struct{})}
	ts := startServer(t, Config{Catalog: catalog, service: svc, ShutdownTimeout: 5 * time.Second})
	ctx := rpcContext(t)

	// A client watching health sees SERVING, then NOT_SERVING at shutdown.
	wctx, wcancel := context.WithTimeout(ctx, 3*time.Second)
	defer wcancel()
	watch, err := healthpb.NewHealthClient(ts.conn).Watch(wctx, &healthpb.HealthCheckRequest{Service: coveragev1.CoverageService_ServiceDesc.ServiceName})
	if err != nil {
		t.Fatalf("health Watch: %v", err)
	}
	if resp, err := watch.Recv(); err != nil || resp.GetStatus() != healthpb.HealthCheckResponse_SERVING {
		t.Fatalf("health Watch first update = %v, %v; want SERVING", resp, err)
	}

	// A call in flight when shutdown starts.
	type result struct {
		resp *coveragev1.ListRulesetsResponse
		err  error
	}
	inflight := make(chan result, 1)
	go func() {
		resp, err := ts.client.ListRulesets(ctx, &coveragev1.ListRulesetsRequest{})
		inflight <- result{resp, err}
	}()
	select {
	case <-svc.entered:
	case <-time.After(5 * time.Second):
		t.Fatal("the in-flight call never reached the handler")
	}

	ts.cancel()

	// Health turns NOT_SERVING first. (The open Watch stream keeps the
	// connection up, so NOT_SERVING is the only correct news it can get.)
	resp, err := watch.Recv()
	if err != nil {
		t.Errorf("health Watch after shutdown began: %v, want a NOT_SERVING update", err)
	} else if resp.GetStatus() != healthpb.HealthCheckResponse_NOT_SERVING {
		t.Errorf("health Watch update after shutdown began = %v, want NOT_SERVING", resp.GetStatus())
	}
	wcancel() // a well-behaved watcher leaves once told NOT_SERVING

	// Serve drains: it has not returned while the call is in flight.
	select {
	case err := <-ts.done:
		ts.done <- err // for the cleanup's stop
		t.Fatalf("Serve returned (%v) while a call was still in flight", err)
	case <-time.After(100 * time.Millisecond):
	}
	close(svc.release)
	select {
	case r := <-inflight:
		if r.err != nil {
			t.Errorf("in-flight call failed during graceful shutdown: %v", r.err)
		} else if len(r.resp.GetRulesets()) == 0 {
			t.Errorf("in-flight call returned no rulesets")
		}
	case <-time.After(5 * time.Second):
		t.Fatal("the in-flight call did not finish")
	}
	if err := ts.stop(); err != nil {
		t.Fatalf("Serve after cancel: %v, want nil", err)
	}

	// Both ports are closed now.
	_, err = healthpb.NewHealthClient(ts.conn).Check(ctx, &healthpb.HealthCheckRequest{})
	if err == nil {
		t.Error("health Check after shutdown succeeded; want the connection refused")
	} else if code := status.Code(err); code != codes.Unavailable {
		t.Errorf("health Check after shutdown: %v, want UNAVAILABLE", err)
	}
	probe := &http.Client{Timeout: time.Second, Transport: &http.Transport{}}
	if resp, err := probe.Get(ts.base + "/healthz"); err == nil {
		resp.Body.Close()
		t.Errorf("GET /healthz after shutdown answered %d; want the connection refused", resp.StatusCode)
	}
}

func TestNew(t *testing.T) {
	if _, err := New(Config{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0"}); err == nil {
		t.Error("New without a catalog succeeded")
	}

	// A taken port is an error.
	taken, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer taken.Close()
	if _, err := New(Config{GRPCAddr: "127.0.0.1:0", HTTPAddr: taken.Addr().String(), Catalog: testCatalog(t)}); err == nil {
		t.Error("New with a taken HTTP address succeeded")
	}
	if _, err := New(Config{GRPCAddr: taken.Addr().String(), HTTPAddr: "127.0.0.1:0", Catalog: testCatalog(t)}); err == nil {
		t.Error("New with a taken gRPC address succeeded")
	}

	// New binds: the addresses are resolved before Serve, and Close frees them.
	s, err := New(Config{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Catalog: testCatalog(t)})
	if err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{s.GRPCAddr(), s.HTTPAddr()} {
		if strings.HasSuffix(addr, ":0") {
			t.Errorf("address %s was not resolved", addr)
		}
	}
	s.Close()
	for _, addr := range []string{s.GRPCAddr(), s.HTTPAddr()} {
		l, err := net.Listen("tcp", addr)
		if err != nil {
			t.Errorf("%s still bound after Close: %v", addr, err)
			continue
		}
		l.Close()
	}
}

// TestHealthChecksNotLogged: orchestrators probe health every few seconds,
// over gRPC or at /healthz; those calls stay out of the log, and the others
// are in it.
func TestHealthChecksNotLogged(t *testing.T) {
	logs := &syncBuffer{}
	ts := startServer(t, Config{Catalog: testCatalog(t), Logger: slog.New(slog.NewTextHandler(logs, nil))})
	ctx := rpcContext(t)
	for range 3 {
		if _, err := healthpb.NewHealthClient(ts.conn).Check(ctx, &healthpb.HealthCheckRequest{}); err != nil {
			t.Fatal(err)
		}
		resp, err := ts.http.Get(ts.base + "/healthz")
		if err != nil {
			t.Fatal(err)
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			t.Fatalf("GET /healthz: HTTP %d", resp.StatusCode)
		}
	}
	if _, err := ts.client.ListRulesets(ctx, &coveragev1.ListRulesetsRequest{}); err != nil {
		t.Fatal(err)
	}
	resp, err := ts.http.Get(ts.base + "/v1/rulesets")
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	// The access log's line is written once the response has gone, so it
	// may follow the client's read by a moment.
	var got string
	for deadline := time.Now().Add(5 * time.Second); ; time.Sleep(10 * time.Millisecond) {
		got = logs.String()
		if strings.Contains(got, "http.path=/v1/rulesets") || time.Now().After(deadline) {
			break
		}
	}
	if strings.Contains(got, "grpc.health.v1") || strings.Contains(got, "/healthz") {
		t.Errorf("health checks were logged:\n%s", got)
	}
	if !strings.Contains(got, "ListRulesets") || !strings.Contains(got, "http.path=/v1/rulesets") {
		t.Errorf("ListRulesets was not logged over gRPC and REST:\n%s", got)
	}
}
