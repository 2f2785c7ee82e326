package server

import (
	"io"
	"net/http"
	"strings"
	"testing"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// TestMetricsEndpoint: the real server serves /metrics, open, with the
// gRPC, HTTP and coverage series moving as requests come in over both
// transports.
func TestMetricsEndpoint(t *testing.T) {
	ts := startServer(t, Config{})
	ctx := rpcContext(t)
	if _, err := ts.client.CheckBusStopCoverage(ctx, &coveragev1.CheckBusStopCoverageRequest{Settlement: squareCity(40, 300)}); err != nil {
		t.Fatal(err)
	}
	if code, body := ts.do(t, http.MethodGet, "/v1/rulesets/jilin-2014", ""); code != http.StatusOK {
		t.Fatalf("GET ruleset: %d %s", code, body)
	}
	if code, _ := ts.do(t, http.MethodGet, "/v1/rulesets/nope", ""); code != http.StatusNotFound {
		t.Fatalf("GET unknown ruleset: %d", code)
	}
	resp, err := ts.http.Get(ts.base + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	text := string(data)
	for _, want := range []string{
		`grpc_server_handled_total{grpc_code="OK",grpc_method="CheckBusStopCoverage",grpc_service="coverage.v1.CoverageService",grpc_type="unary"} 1`,
		`grpc_server_handled_total{grpc_code="NotFound",grpc_method="GetRuleset",grpc_service="coverage.v1.CoverageService",grpc_type="unary"} 1`,
		`coverage_http_requests_total{code="200",method="GET",route="/v1/rulesets/{id}"} 1`,
		`coverage_http_requests_total{code="404",method="GET",route="/v1/rulesets/{id}"} 1`,
		`coverage_stop_coverage_seconds_count{stops_class="<=1k",vertices_class="<=100"} 1`,
		`coverage_grpc_streams_in_flight`,
		`go_goroutines`,
		`process_resident_memory_bytes`,
	} {
		if !strings.Contains(text, want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}
