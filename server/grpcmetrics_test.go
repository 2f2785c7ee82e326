package server

import (
	"context"
	"fmt"
	"net"
	"slices"
	"strconv"
	"strings"
	"testing"

	grpcprom "github.com/grpc-ecosystem/go-grpc-middleware/providers/prometheus"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/types/known/emptypb"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// metricsServer serves the coverage service and the echo service of
// calllog_test.go with gRPC metrics: the go-grpc-middleware provider's
// (ref), as the server had them, or the server's own.
func metricsServer(t *testing.T, ref bool) (*grpc.ClientConn, prometheus.Gatherer) {
	t.Helper()
	var s *grpc.Server
	var reg *prometheus.Registry
	var initialize func()
	if ref {
		reg = prometheus.NewRegistry()
		pm := grpcprom.NewServerMetrics(grpcprom.WithServerHandlingTimeHistogram(grpcprom.WithHistogramBuckets(latencyBuckets)))
		reg.MustRegister(pm)
		s = grpc.NewServer(grpc.ChainUnaryInterceptor(pm.UnaryServerInterceptor()), grpc.ChainStreamInterceptor(pm.StreamServerInterceptor()))
		initialize = func() { pm.InitializeMetrics(s) }
	} else {
		m := newMetrics()
		reg = m.reg
		s = grpc.NewServer(grpc.ChainUnaryInterceptor(m.unaryInterceptor()), grpc.ChainStreamInterceptor(m.streamInterceptor()))
		initialize = func() { m.initialize(s) }
	}
	coveragev1.RegisterCoverageServiceServer(s, NewService(testCatalog(t)))
	s.RegisterService(&callLogTestDesc, struct{}{})
	initialize()
	lis := bufconn.Listen(1 << 20)
	done := make(chan struct{})
	go func() { defer close(done); _ = s.Serve(lis) }()
	t.Cleanup(func() { s.Stop(); <-done })
	conn, err := grpc.NewClient("passthrough:///metrics",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { conn.Close() })
	return conn, reg
}

// metricsCalls makes calls of every kind and outcome on conn: several
// messages on streams, every code, plain and context errors.
func metricsCalls(t *testing.T, conn *grpc.ClientConn) {
	t.Helper()
	ctx := context.Background()
	c := coveragev1.NewCoverageServiceClient(conn)
	for range 3 {
		if _, err := c.ListRulesets(ctx, &coveragev1.ListRulesetsRequest{}); err != nil {
			t.Fatal(err)
		}
	}
	_, _ = c.GetRuleset(ctx, &coveragev1.GetRulesetRequest{})
	_, _ = c.GetRuleset(ctx, &coveragev1.GetRulesetRequest{Id: "no-such-ruleset"})
	outcomes := []string{"eof", "plain", "canceled", "", "17", "40"}
	for code := range 17 {
		outcomes = append(outcomes, strconv.Itoa(code))
	}
	for _, o := range outcomes {
		ctx := metadata.AppendToOutgoingContext(ctx, "outcome", o)
		_ = conn.Invoke(ctx, "/calllog.test.Echo/Unary", &emptypb.Empty{}, &emptypb.Empty{})
		for _, sd := range callLogTestDesc.Streams {
			func() {
				ctx, cancel := context.WithCancel(ctx)
				defer cancel()
				cs, err := conn.NewStream(ctx, &sd, "/calllog.test.Echo/"+sd.StreamName)
				if err != nil {
					t.Fatal(err)
				}
				_ = cs.SendMsg(&emptypb.Empty{})
				_ = cs.CloseSend()
				for cs.RecvMsg(&emptypb.Empty{}) == nil {
				}
			}()
		}
	}
}

// grpcFamilies renders the grpc_* families of g, one line per series, with
// counts but no timings: help, type, labels, and a counter's value or a
// histogram's count and bounds.
//
// The server's handling-time histogram has a grpc_code label, which the
// provider's has not; with asProvider, its series are summed over the codes
// and its help given as the provider's, which is what a query that sums over
// grpc_code sees.
func grpcFamilies(t *testing.T, g prometheus.Gatherer, asProvider bool) []string {
	t.Helper()
	fams, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, f := range fams {
		if !strings.HasPrefix(f.GetName(), "grpc_") {
			continue
		}
		merge := asProvider && f.GetName() == "grpc_server_handling_seconds"
		help := f.GetHelp()
		if merge {
			help = strings.TrimSuffix(help, ", by code.") + "."
		}
		counts := map[string]uint64{}
		var order []string
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				if merge && l.GetName() == "grpc_code" {
					continue
				}
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			line := fmt.Sprintf("%s %s %q {%s}", f.GetName(), f.GetType(), help, strings.Join(labels, ","))
			switch f.GetType() {
			case dto.MetricType_COUNTER:
				line += fmt.Sprintf(" %g", m.GetCounter().GetValue())
			case dto.MetricType_HISTOGRAM:
				if _, seen := counts[line]; !seen {
					order = append(order, line)
				}
				counts[line] += m.GetHistogram().GetSampleCount()
				continue
			}
			out = append(out, line)
		}
		bounds := ""
		if len(f.GetMetric()) > 0 {
			for _, b := range f.GetMetric()[0].GetHistogram().GetBucket() {
				bounds += fmt.Sprintf(" %g", b.GetUpperBound())
			}
		}
		for _, line := range order {
			out = append(out, fmt.Sprintf("%s count %d bounds%s", line, counts[line], bounds))
		}
	}
	slices.Sort(out)
	return out
}

// TestGRPCMetricsMatchProvider: the server's gRPC series are those of the
// go-grpc-middleware Prometheus provider it used to run: the same families,
// help, labels and series from the start, and the same counts after calls of
// every kind and outcome.
func TestGRPCMetricsMatchProvider(t *testing.T) {
	refConn, refReg := metricsServer(t, true)
	newConn, newReg := metricsServer(t, false)
	want, got := grpcFamilies(t, refReg, false), grpcFamilies(t, newReg, true)
	if !slices.Equal(got, want) {
		t.Errorf("before any call:\n got %s\nwant %s", strings.Join(got, "\n     "), strings.Join(want, "\n     "))
	}
	metricsCalls(t, refConn)
	metricsCalls(t, newConn)
	// By code, every call handled is timed under the code it was counted
	// under.
	fams, err := newReg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	timed := map[string]uint64{}
	handled := map[string]float64{}
	for _, f := range fams {
		for _, m := range f.GetMetric() {
			var labels []string
			for _, l := range m.GetLabel() {
				labels = append(labels, l.GetName()+"="+l.GetValue())
			}
			key := strings.Join(labels, ",")
			switch f.GetName() {
			case "grpc_server_handling_seconds":
				timed[key] = m.GetHistogram().GetSampleCount()
			case "grpc_server_handled_total":
				if v := m.GetCounter().GetValue(); v > 0 {
					handled[key] = v
				}
			}
		}
	}
	codesSeen := map[string]bool{}
	for key, n := range handled {
		if float64(timed[key]) != n {
			t.Errorf("handled {%s} %g, timed %d", key, n, timed[key])
		}
		for _, l := range strings.Split(key, ",") {
			if code, ok := strings.CutPrefix(l, "grpc_code="); ok {
				codesSeen[code] = true
			}
		}
	}
	if len(codesSeen) < 17 {
		t.Errorf("calls timed under %d codes, want all 17: %v", len(codesSeen), codesSeen)
	}
	want, got = grpcFamilies(t, refReg, false), grpcFamilies(t, newReg, true)
	if len(want) < 100 {
		t.Fatalf("only %d series", len(want))
	}
	if !slices.Equal(got, want) {
		for _, l := range got {
			if !slices.Contains(want, l) {
				t.Errorf("unexpected: %s", l)
			}
		}
		for _, l := range want {
			if !slices.Contains(got, l) {
				t.Errorf("missing:    %s", l)
			}
		}
	}
}
