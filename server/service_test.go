package server

import (
	"context"
	"errors"
	"math"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/grpc/test/bufconn"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/civic-standards/coverage/coverage"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// ---------------------------------------------------------------------------
// Helpers shared by service_test.go and server_test.go.
// ---------------------------------------------------------------------------

// testCatalog is the embedded catalog the server ships with.
func testCatalog(t testing.TB) *coverage.Catalog {
	t.Helper()
	c, err := coverage.DefaultCatalog()
	if err != nil {
		t.Fatalf("coverage.DefaultCatalog: %v", err)
	}
	return c
}

// rpcContext bounds every call so that a hung server fails the test instead of
// the whole run.
func rpcContext(t testing.TB) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// newBufconnClient serves svc on an in-memory listener and returns a client
// of the generated API connected to it.
func newBufconnClient(t *testing.T, svc coveragev1.CoverageServiceServer) coveragev1.CoverageServiceClient {
	t.Helper()
	lis := bufconn.Listen(1 << 20)
	srv := grpc.NewServer()
	coveragev1.RegisterCoverageServiceServer(srv, svc)
	served := make(chan error, 1)
	go func() { served <- srv.Serve(lis) }()

	conn, err := grpc.NewClient("passthrough:///bufnet",
		grpc.WithContextDialer(func(ctx context.Context, _ string) (net.Conn, error) { return lis.DialContext(ctx) }),
		grpc.WithTransportCredentials(insecure.NewCredentials()),
	)
	if err != nil {
		t.Fatalf("grpc.NewClient: %v", err)
	}
	t.Cleanup(func() {
		conn.Close()
		srv.Stop()
		if err := <-served; err != nil && !errors.Is(err, grpc.ErrServerStopped) {
			t.Errorf("grpc Serve: %v", err)
		}
	})
	return coveragev1.NewCoverageServiceClient(conn)
}

// wantCode fails unless err is a gRPC status error with the code.
func wantCode(t testing.TB, err error, want codes.Code) *status.Status {
	t.Helper()
	if err == nil {
		t.Fatalf("got no error, want %v", want)
	}
	st, ok := status.FromError(err)
	if !ok {
		t.Fatalf("error %v is not a gRPC status", err)
	}
	if st.Code() != want {
		t.Fatalf("code = %v (%q), want %v", st.Code(), st.Message(), want)
	}
	return st
}

// violationFields lists the fields of the google.rpc.BadRequest details of st.
func violationFields(st *status.Status) []string {
	var fields []string
	for _, d := range st.Details() {
		if br, ok := d.(*errdetails.BadRequest); ok {
			for _, v := range br.GetFieldViolations() {
				fields = append(fields, v.GetField())
			}
		}
	}
	return fields
}

// wantInvalidField fails unless err is InvalidArgument with a BadRequest
// field violation naming field.
func wantInvalidField(t testing.TB, err error, field string) {
	t.Helper()
	st := wantCode(t, err, codes.InvalidArgument)
	got := violationFields(st)
	if !slices.Contains(got, field) {
		t.Fatalf("BadRequest field violations = %q, want one for %q (message %q)", got, field, st.Message())
	}
}

func resultByID(results []*coveragev1.RuleResult, id string) *coveragev1.RuleResult {
	for _, r := range results {
		if r.GetRuleId() == id {
			return r
		}
	}
	return nil
}

func mustResult(t testing.TB, results []*coveragev1.RuleResult, id string) *coveragev1.RuleResult {
	t.Helper()
	r := resultByID(results, id)
	if r == nil {
		ids := make([]string, len(results))
		for i, r := range results {
			ids[i] = r.GetRuleId()
		}
		t.Fatalf("no result for %s; results: %v", id, ids)
	}
	return r
}

func nearlyEqual(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

// wantFloat fails unless p is set and holds want.
func wantFloat(t testing.TB, name string, p *float64, want float64) {
	t.Helper()
	if p == nil {
		t.Errorf("%s is absent, want %v", name, want)
		return
	}
	if !nearlyEqual(*p, want) {
		t.Errorf("%s = %v, want %v", name, *p, want)
	}
}

// wantStatus fails unless r has the status.
func wantStatus(t testing.TB, r *coveragev1.RuleResult, want coveragev1.Status) {
	t.Helper()
	if r.GetStatus() != want {
		t.Errorf("%s: status = %v, want %v (reason %q, missing %v)", r.GetRuleId(), r.GetStatus(), want, r.GetReason(), r.GetMissingFields())
	}
}

// testStruct converts a GeoJSON document given as Go values into a Struct.
func testStruct(t testing.TB, m map[string]any) *structpb.Struct {
	t.Helper()
	s, err := structpb.NewStruct(m)
	if err != nil {
		t.Fatalf("structpb.NewStruct: %v", err)
	}
	return s
}

func centralAreaPolygon(t testing.TB) *structpb.Struct {
	return testStruct(t, map[string]any{
		"type": "Polygon",
		"coordinates": []any{[]any{
			[]any{125.30, 43.85}, []any{125.35, 43.85}, []any{125.35, 43.90}, []any{125.30, 43.90}, []any{125.30, 43.85},
		}},
	})
}

func busStopPoints(t testing.TB) *structpb.Struct {
	return testStruct(t, map[string]any{
		"type":        "MultiPoint",
		"coordinates": []any{[]any{125.31, 43.86}, []any{125.33, 43.88}},
	})
}

// fullCity is a city with an input for every rule of jilin-2014.
func fullCity(t testing.TB) *coveragev1.Settlement {
	return &coveragev1.Settlement{
		Id: "220100", Name: "长春市", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_CITY,
		RegionalCentralCity:    proto.Bool(true),
		UrbanPopulation:        proto.Int64(2_500_000),
		ResidentPopulation:     proto.Int64(4_000_000),
		ElderlyPopulation:      proto.Int64(600_000),
		PreschoolAgePopulation: proto.Int64(100_000),
		UrbanisedPopulation:    proto.Int64(2_800_000),
		Facilities: &coveragev1.FacilityCounts{
			MaternalChildHealthHospitals: proto.Int64(1),
			Libraries:                    proto.Int64(2),
			CulturalCentres:              proto.Int64(1),
			Museums:                      proto.Int64(0),
		},
		ElderlyCareBeds:          proto.Int64(25_000),
		PreschoolEnrolment:       proto.Int64(85_000),
		VocationalSchoolIntake:   proto.Int64(20_000),
		GeneralHighSchoolIntake:  proto.Int64(25_000),
		RegisteredVehicles:       proto.Int64(1_000_000),
		PublicParkingSpaces:      proto.Int64(280_000),
		BusFleet:                 &coveragev1.PublicTransportFleet{StandardUnits: proto.Float64(4_000)},
		AverageBusSpeedKmh:       proto.Float64(16),
		BusDepotAreaM2:           proto.Float64(500_000),
		UrbanConstructionLandKm2: proto.Float64(300),

		RoadHierarchyMeetsStandard: proto.Bool(true),
		IntelligentTrafficSystem:   proto.Bool(false),

		CentralArea:    centralAreaPolygon(t),
		CentralAreaCrs: coveragev1.CoordinateSystem_COORDINATE_SYSTEM_WGS84,
		BusStops:       busStopPoints(t),
		BusStopsCrs:    coveragev1.CoordinateSystem_COORDINATE_SYSTEM_WGS84,
	}
}

// ---------------------------------------------------------------------------
// Catalog RPCs.
// ---------------------------------------------------------------------------

func TestListRulesets(t *testing.T) {
	client := newBufconnClient(t, NewService(testCatalog(t)))
	resp, err := client.ListRulesets(rpcContext(t), &coveragev1.ListRulesetsRequest{})
	if err != nil {
		t.Fatalf("ListRulesets: %v", err)
	}
	if got := resp.GetDefaultRulesetId(); got != "jilin-2014" {
		t.Errorf("default_ruleset_id = %q, want jilin-2014", got)
	}
	var jilin *coveragev1.Ruleset
	for _, rs := range resp.GetRulesets() {
		if rs.GetId() == "jilin-2014" {
			jilin = rs
		}
	}
	if jilin == nil {
		t.Fatalf("rulesets %v do not contain jilin-2014", resp.GetRulesets())
	}
	if got := len(jilin.GetRules()); got != 21 {
		t.Errorf("jilin-2014 has %d rules, want 21", got)
	}
	if jilin.GetVersion() == "" || jilin.GetSource().GetTitle() == "" {
		t.Errorf("jilin-2014 lacks a version or source title: version %q, source %v", jilin.GetVersion(), jilin.GetSource())
	}
	if got := len(jilin.GetTiers()); got != 3 {
		t.Errorf("jilin-2014 has %d tiers, want 3 (LARGE, MEDIUM, SMALL)", got)
	}
	for _, r := range jilin.GetRules() {
		c := r.GetCitation()
		if c.GetOriginalText() == "" || c.GetSection() == "" || c.GetDocument() == "" {
			t.Errorf("rule %s: citation %v lacks document, section or original_text", r.GetId(), c)
		}
		if r.GetTopic() == coveragev1.Topic_TOPIC_UNSPECIFIED || r.GetMetric() == coveragev1.Metric_METRIC_UNSPECIFIED ||
			r.GetComparison() == coveragev1.Comparison_COMPARISON_UNSPECIFIED {
			t.Errorf("rule %s: topic %v, metric %v, comparison %v: an enum did not map", r.GetId(), r.GetTopic(), r.GetMetric(), r.GetComparison())
		}
	}
}

func TestGetRuleset(t *testing.T) {
	client := newBufconnClient(t, NewService(testCatalog(t)))
	ctx := rpcContext(t)
	list, err := client.ListRulesets(ctx, &coveragev1.ListRulesetsRequest{})
	if err != nil {
		t.Fatalf("ListRulesets: %v", err)
	}
	tests := []struct {
		id        string
		wantCode  codes.Code
		wantField string
	}{
		{id: "jilin-2014", wantCode: codes.OK},
		{id: "nope", wantCode: codes.NotFound},
		{id: "", wantCode: codes.InvalidArgument, wantField: "id"},
	}
	for _, tc := range tests {
		t.Run("id="+tc.id, func(t *testing.T) {
			resp, err := client.GetRuleset(ctx, &coveragev1.GetRulesetRequest{Id: tc.id})
			if tc.wantCode != codes.OK {
				wantCode(t, err, tc.wantCode)
				if tc.wantField != "" {
					wantInvalidField(t, err, tc.wantField)
				}
				return
			}
			if err != nil {
				t.Fatalf("GetRuleset(%q): %v", tc.id, err)
			}
			rs := resp.GetRuleset()
			if rs.GetId() != tc.id || len(rs.GetRules()) != 21 {
				t.Fatalf("GetRuleset(%q) = ruleset %q with %d rules, want %q with 21", tc.id, rs.GetId(), len(rs.GetRules()), tc.id)
			}
			// The single ruleset is the one the catalog lists.
			for _, listed := range list.GetRulesets() {
				if listed.GetId() == tc.id && !proto.Equal(listed, rs) {
					t.Errorf("GetRuleset(%q) differs from the ruleset ListRulesets returns", tc.id)
				}
			}
		})
	}
}

// ---------------------------------------------------------------------------
// Topic checks.
// ---------------------------------------------------------------------------

func TestCheckElderlyCare(t *testing.T) {
	client := newBufconnClient(t, NewService(testCatalog(t)))
	resp, err := client.CheckElderlyCare(rpcContext(t), &coveragev1.CheckElderlyCareRequest{
		Settlement: &coveragev1.Settlement{
			Id: "t1", Name: "T", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_TOWN,
			ElderlyPopulation: proto.Int64(12000), ElderlyCareBeds: proto.Int64(300),
		},
	})
	if err != nil {
		t.Fatalf("CheckElderlyCare: %v", err)
	}
	r := resp.GetResult()
	if r.GetRuleId() != "T19-ELDERLY-BEDS" {
		t.Fatalf("result rule = %q, want T19-ELDERLY-BEDS", r.GetRuleId())
	}
	wantStatus(t, r, coveragev1.Status_STATUS_NON_COMPLIANT)
	wantFloat(t, "value", r.Value, 25)
	wantFloat(t, "threshold", r.Threshold, 36)
	wantFloat(t, "shortfall", r.Shortfall, 132) // ⌈36 × 12,000 ÷ 1,000⌉ − 300
	if r.GetShortfallUnit() != "beds" {
		t.Errorf("shortfall_unit = %q, want beds", r.GetShortfallUnit())
	}
	if !strings.Contains(r.GetCitation().GetSection(), "专栏19") {
		t.Errorf("citation.section = %q, want it to contain 专栏19", r.GetCitation().GetSection())
	}
	if r.GetCitation().GetOriginalText() == "" {
		t.Error("citation.original_text is empty")
	}
	if r.GetRulesetId() != "jilin-2014" || r.GetRulesetVersion() == "" {
		t.Errorf("ruleset = %q version %q, want jilin-2014 with a version", r.GetRulesetId(), r.GetRulesetVersion())
	}
	if items := r.GetShortfallItems(); len(items) != 1 || items[0].GetQuantity() != 132 || items[0].GetUnit() != "beds" {
		t.Errorf("shortfall_items = %v, want one item of 132 beds", items)
	}
	if len(resp.GetOtherResults()) != 0 {
		t.Errorf("other_results = %v, want none: jilin-2014 has one elderly-care rule", resp.GetOtherResults())
	}
}

// TestCheckElderlyCareOtherResults: with two elderly-care rules, the first is
// the result and the second comes in other_results.
func TestCheckElderlyCareOtherResults(t *testing.T) {
	rulesets, err := coverage.EmbeddedRulesets()
	if err != nil {
		t.Fatal(err)
	}
	rs := rulesets[slices.IndexFunc(rulesets, func(rs *coverage.Ruleset) bool { return rs.ID == "jilin-2014" })]
	i := slices.IndexFunc(rs.Rules, func(r coverage.Rule) bool { return r.ID == "T19-ELDERLY-BEDS" })
	second := rs.Rules[i]
	second.ID = "T19-ELDERLY-BEDS-LOW"
	second.Thresholds = []coverage.Threshold{{Value: 20}}
	rs.Rules = slices.Insert(rs.Rules, i+1, second)
	catalog, err := coverage.NewCatalog(rs.ID, rs)
	if err != nil {
		t.Fatal(err)
	}
	client := newBufconnClient(t, NewService(catalog))
	resp, err := client.CheckElderlyCare(rpcContext(t), &coveragev1.CheckElderlyCareRequest{Settlement: &coveragev1.Settlement{
		ElderlyPopulation: proto.Int64(12000), ElderlyCareBeds: proto.Int64(300),
	}})
	if err != nil {
		t.Fatalf("CheckElderlyCare: %v", err)
	}
	if r := resp.GetResult(); r.GetRuleId() != "T19-ELDERLY-BEDS" || r.GetStatus() != coveragev1.Status_STATUS_NON_COMPLIANT {
		t.Errorf("result = %s %v, want T19-ELDERLY-BEDS NON_COMPLIANT", r.GetRuleId(), r.GetStatus())
	}
	others := resp.GetOtherResults()
	if len(others) != 1 || others[0].GetRuleId() != "T19-ELDERLY-BEDS-LOW" || others[0].GetStatus() != coveragev1.Status_STATUS_COMPLIANT {
		t.Fatalf("other_results = %v, want only T19-ELDERLY-BEDS-LOW, COMPLIANT (25 ≥ 20)", others)
	}
	wantFloat(t, "other threshold", others[0].Threshold, 20)
}

func TestCheckHealthFacilities(t *testing.T) {
	client := newBufconnClient(t, NewService(testCatalog(t)))
	type want struct {
		rule      string
		status    coveragev1.Status
		shortfall *float64 // nil: no shortfall
	}
	tests := []struct {
		name             string
		settlement       *coveragev1.Settlement
		want             []want
		wantRequirements []*coveragev1.FacilityRequirement
	}{
		{
			name: "town of 35000 without a community health centre",
			settlement: &coveragev1.Settlement{
				Id: "town", Name: "Town", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_TOWN,
				ResidentPopulation: proto.Int64(35000),
				Facilities:         &coveragev1.FacilityCounts{CommunityHealthCentres: proto.Int64(0)},
			},
			want: []want{
				{rule: "T19-COMMUNITY-HEALTH-CENTRE", status: coveragev1.Status_STATUS_NON_COMPLIANT, shortfall: proto.Float64(1)},
				{rule: "T19-COUNTY-GENERAL-HOSPITAL", status: coveragev1.Status_STATUS_NOT_APPLICABLE},
				{rule: "T19-COMMUNITY-HEALTH-STATION", status: coveragev1.Status_STATUS_NOT_APPLICABLE},
				{rule: "T19-TOWNSHIP-HEALTH-CENTRE", status: coveragev1.Status_STATUS_INSUFFICIENT_DATA},
			},
			wantRequirements: []*coveragev1.FacilityRequirement{{
				RuleId:   "T19-COMMUNITY-HEALTH-CENTRE",
				Facility: coveragev1.FacilityType_FACILITY_TYPE_COMMUNITY_HEALTH_CENTRE,
				Required: 1, Present: proto.Int64(0), Missing: 1,
			}},
		},
		{
			name: "county-level city without a TCM hospital",
			settlement: &coveragev1.Settlement{
				Id: "clc", Name: "County-level city", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_COUNTY_LEVEL_CITY,
				Facilities: &coveragev1.FacilityCounts{TcmHospitals: proto.Int64(0), Level2GeneralHospitals: proto.Int64(1)},
			},
			want: []want{
				{rule: "T19-COUNTY-TCM-HOSPITAL", status: coveragev1.Status_STATUS_NON_COMPLIANT, shortfall: proto.Float64(1)},
				{rule: "T19-COUNTY-GENERAL-HOSPITAL", status: coveragev1.Status_STATUS_COMPLIANT},
				{rule: "T19-COMMUNITY-HEALTH-CENTRE", status: coveragev1.Status_STATUS_NOT_APPLICABLE},
			},
			wantRequirements: []*coveragev1.FacilityRequirement{
				{
					RuleId: "T19-COUNTY-GENERAL-HOSPITAL", Facility: coveragev1.FacilityType_FACILITY_TYPE_LEVEL2_GENERAL_HOSPITAL,
					Required: 1, Present: proto.Int64(1), Missing: 0,
				},
				{
					RuleId: "T19-COUNTY-TCM-HOSPITAL", Facility: coveragev1.FacilityType_FACILITY_TYPE_TCM_HOSPITAL,
					Required: 1, Present: proto.Int64(0), Missing: 1,
				},
			},
		},
	}
	ctx := rpcContext(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := client.CheckHealthFacilities(ctx, &coveragev1.CheckHealthFacilitiesRequest{Settlement: tc.settlement})
			if err != nil {
				t.Fatalf("CheckHealthFacilities: %v", err)
			}
			for _, r := range resp.GetResults() {
				if r.GetTopic() != coveragev1.Topic_TOPIC_HEALTH {
					t.Errorf("result %s has topic %v, want only TOPIC_HEALTH", r.GetRuleId(), r.GetTopic())
				}
			}
			for _, w := range tc.want {
				r := mustResult(t, resp.GetResults(), w.rule)
				wantStatus(t, r, w.status)
				if w.shortfall != nil {
					wantFloat(t, w.rule+" shortfall", r.Shortfall, *w.shortfall)
				} else if r.Shortfall != nil {
					t.Errorf("%s: shortfall = %v, want none", w.rule, *r.Shortfall)
				}
			}
			if got := resp.GetRequirements(); len(got) != len(tc.wantRequirements) {
				t.Errorf("requirements = %v, want %v", got, tc.wantRequirements)
			} else {
				for i := range got {
					if !proto.Equal(got[i], tc.wantRequirements[i]) {
						t.Errorf("requirements[%d] = %v, want %v", i, got[i], tc.wantRequirements[i])
					}
				}
			}
		})
	}
}

func TestCheckParking(t *testing.T) {
	client := newBufconnClient(t, NewService(testCatalog(t)))
	resp, err := client.CheckParking(rpcContext(t), &coveragev1.CheckParkingRequest{
		Settlement: &coveragev1.Settlement{
			Id: "c1", Name: "C", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_CITY,
			RegisteredVehicles: proto.Int64(100_000), PublicParkingSpaces: proto.Int64(20_000),
		},
	})
	if err != nil {
		t.Fatalf("CheckParking: %v", err)
	}
	r := resp.GetResult()
	if r.GetRuleId() != "T18-PARKING" {
		t.Fatalf("result rule = %q, want T18-PARKING", r.GetRuleId())
	}
	wantStatus(t, r, coveragev1.Status_STATUS_NON_COMPLIANT)
	wantFloat(t, "value", r.Value, 20)
	wantFloat(t, "threshold", r.Threshold, 25)
	wantFloat(t, "threshold_upper", r.ThresholdUpper, 30)
	wantFloat(t, "shortfall", r.Shortfall, 5000)
	if len(resp.GetOtherResults()) != 0 {
		t.Errorf("other_results = %v, want none: jilin-2014 has one parking rule", resp.GetOtherResults())
	}
	if !strings.Contains(r.GetCitation().GetSection(), "专栏18") {
		t.Errorf("citation.section = %q, want it to contain 专栏18", r.GetCitation().GetSection())
	}
}

func TestCheckTransit(t *testing.T) {
	client := newBufconnClient(t, NewService(testCatalog(t)))
	fleet := func() *coveragev1.PublicTransportFleet {
		return &coveragev1.PublicTransportFleet{Vehicles: []*coveragev1.VehicleGroup{
			{VehicleClass: "LENGTH_10_13M", Count: 1000},
			{LengthM: proto.Float64(18.5), Count: 100},
		}}
	}
	tests := []struct {
		name          string
		urban         int64
		wantTier      string
		wantThreshold float64
		wantShortfall float64
	}{
		// 200万以上 includes the boundary: exactly 2,000,000 is LARGE.
		{name: "2000000 is LARGE", urban: 2_000_000, wantTier: "LARGE", wantThreshold: 15, wantShortfall: 1450},
		{name: "1999999 is MEDIUM", urban: 1_999_999, wantTier: "MEDIUM", wantThreshold: 12, wantShortfall: 850},
	}
	ctx := rpcContext(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := client.CheckTransit(ctx, &coveragev1.CheckTransitRequest{Settlement: &coveragev1.Settlement{
				Id: "c", Name: "City", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_CITY,
				UrbanPopulation: proto.Int64(tc.urban), BusFleet: fleet(),
			}})
			if err != nil {
				t.Fatalf("CheckTransit: %v", err)
			}
			if got := resp.GetTier(); got.GetId() != tc.wantTier || got.GetUrbanPopulation() != tc.urban {
				t.Errorf("tier = %v, want %s for urban population %d", got, tc.wantTier, tc.urban)
			}
			var ids []string
			for _, r := range resp.GetResults() {
				ids = append(ids, r.GetRuleId())
			}
			if want := []string{"T18-FLEET-PER-10K", "T18-BUS-SPEED", "T18-DEPOT-AREA"}; !slices.Equal(ids, want) {
				t.Errorf("results = %v, want %v in ruleset order", ids, want)
			}

			f := resp.GetFleet()
			if f == nil {
				t.Fatal("fleet summary is absent")
			}
			if !nearlyEqual(f.GetStandardUnits(), 1550) {
				t.Errorf("fleet.standard_units = %v, want 1550 (1000 × 1.3 + 100 × 2.5)", f.GetStandardUnits())
			}
			if f.Vehicles == nil || f.GetVehicles() != 1100 {
				t.Errorf("fleet.vehicles = %v, want 1100", f.Vehicles)
			}
			wantClasses := map[string]struct {
				count       int64
				coefficient float64
				units       float64
			}{
				"LENGTH_10_13M":   {1000, 1.3, 1300},
				"LENGTH_OVER_18M": {100, 2.5, 250},
			}
			if len(f.GetClasses()) != len(wantClasses) {
				t.Errorf("fleet.classes = %v, want %d classes", f.GetClasses(), len(wantClasses))
			}
			for _, c := range f.GetClasses() {
				w, ok := wantClasses[c.GetVehicleClass()]
				if !ok || c.GetCount() != w.count || !nearlyEqual(c.GetCoefficient(), w.coefficient) || !nearlyEqual(c.GetStandardUnits(), w.units) {
					t.Errorf("fleet class %v, want one of %v", c, wantClasses)
				}
			}

			r := mustResult(t, resp.GetResults(), "T18-FLEET-PER-10K")
			wantStatus(t, r, coveragev1.Status_STATUS_NON_COMPLIANT)
			if r.GetTier() != tc.wantTier {
				t.Errorf("result tier = %q, want %s", r.GetTier(), tc.wantTier)
			}
			wantFloat(t, "threshold", r.Threshold, tc.wantThreshold)
			wantFloat(t, "value", r.Value, 1550*10000/float64(tc.urban))
			// Shortfall in standard units: threshold × population ÷ 10,000 − fleet.
			wantFloat(t, "shortfall", r.Shortfall, tc.wantShortfall)

			// Speed and depot area were not given: insufficient data, naming them.
			speed := mustResult(t, resp.GetResults(), "T18-BUS-SPEED")
			wantStatus(t, speed, coveragev1.Status_STATUS_INSUFFICIENT_DATA)
			if !slices.Contains(speed.GetMissingFields(), "settlement.averageBusSpeedKmh") {
				t.Errorf("T18-BUS-SPEED missing_fields = %v, want settlement.averageBusSpeedKmh", speed.GetMissingFields())
			}
		})
	}
}

// squareArea is a GeoJSON Polygon: the rectangle of half-widths dLon, dLat
// degrees around (lon, lat).
func squareArea(t testing.TB, lon, lat, dLon, dLat float64) *structpb.Struct {
	return testStruct(t, map[string]any{
		"type": "Polygon",
		"coordinates": []any{[]any{
			[]any{lon - dLon, lat - dLat}, []any{lon + dLon, lat - dLat}, []any{lon + dLon, lat + dLat},
			[]any{lon - dLon, lat + dLat}, []any{lon - dLon, lat - dLat},
		}},
	})
}

// stopsAt is a GeoJSON MultiPoint.
func stopsAt(t testing.TB, points ...[2]float64) *structpb.Struct {
	coords := make([]any, len(points))
	for i, p := range points {
		coords[i] = []any{p[0], p[1]}
	}
	return testStruct(t, map[string]any{"type": "MultiPoint", "coordinates": coords})
}

// catalogWithoutStopCoverage holds jilin-2014 and a copy of it, "no-coverage",
// that lacks the bus-stop coverage rule.
func catalogWithoutStopCoverage(t testing.TB) *coverage.Catalog {
	t.Helper()
	rulesets, err := coverage.EmbeddedRulesets()
	if err != nil {
		t.Fatal(err)
	}
	var jilin *coverage.Ruleset
	for _, rs := range rulesets {
		if rs.ID == "jilin-2014" {
			jilin = rs
		}
	}
	if jilin == nil {
		t.Fatal("jilin-2014 is not embedded")
	}
	other := *jilin
	other.ID = "no-coverage"
	other.Rules = slices.DeleteFunc(slices.Clone(jilin.Rules), func(r coverage.Rule) bool { return r.Topic == coverage.TopicBusStopCoverage })
	if len(other.Rules) != len(jilin.Rules)-1 {
		t.Fatalf("expected exactly one bus-stop coverage rule in jilin-2014")
	}
	c, err := coverage.NewCatalog("jilin-2014", jilin, &other)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// stopDiskKm2 is the area of one 300 m disk in km².
const stopDiskKm2 = math.Pi * 0.3 * 0.3

func TestCheckBusStopCoverage(t *testing.T) {
	client := newBufconnClient(t, NewService(testCatalog(t)))
	const lon, lat = 125.315, 43.86
	city := func(urban int64, area, stops *structpb.Struct) *coveragev1.Settlement {
		return &coveragev1.Settlement{
			Id: "c", Name: "City", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_CITY,
			UrbanPopulation: proto.Int64(urban), CentralArea: area, BusStops: stops,
		}
	}
	tests := []struct {
		name          string
		settlement    *coveragev1.Settlement
		wantStatus    coveragev1.Status
		wantTier      string
		wantThreshold float64
		// For measured results: the covered area, and the share when it is
		// known exactly (a negative value means check covered ÷ total only).
		wantCoveredKm2 float64
		wantShare      float64
		wantMissing    []string
	}{
		{
			// A 300 m disk wholly inside a ~2.4 km × 2.2 km area: covered is πr².
			name:       "one stop in a large area",
			settlement: city(800_000, squareArea(t, lon, lat, 0.015, 0.01), stopsAt(t, [2]float64{lon, lat})),
			wantStatus: coveragev1.Status_STATUS_NON_COMPLIANT, wantTier: "MEDIUM", wantThreshold: 0.7,
			wantCoveredKm2: stopDiskKm2, wantShare: -1,
		},
		{
			// A ~160 m × 180 m area around one stop is wholly within 300 m of it.
			name:       "one stop covering a small area",
			settlement: city(800_000, squareArea(t, lon, lat, 0.001, 0.0008), stopsAt(t, [2]float64{lon, lat})),
			wantStatus: coveragev1.Status_STATUS_COMPLIANT, wantTier: "MEDIUM", wantThreshold: 0.7,
			wantCoveredKm2: -1, wantShare: 1,
		},
		{
			name:       "no stops given",
			settlement: city(3_000_000, squareArea(t, lon, lat, 0.01, 0.01), nil),
			wantStatus: coveragev1.Status_STATUS_INSUFFICIENT_DATA, wantTier: "LARGE", wantThreshold: 1,
			wantMissing: []string{"settlement.busStops"},
		},
		{
			name: "a town",
			settlement: &coveragev1.Settlement{Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_TOWN,
				CentralArea: squareArea(t, lon, lat, 0.01, 0.01), BusStops: stopsAt(t, [2]float64{lon, lat})},
			wantStatus: coveragev1.Status_STATUS_NOT_APPLICABLE,
		},
	}
	ctx := rpcContext(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := client.CheckBusStopCoverage(ctx, &coveragev1.CheckBusStopCoverageRequest{Settlement: tc.settlement})
			if err != nil {
				t.Fatalf("CheckBusStopCoverage: %v", err)
			}
			r := resp.GetResult()
			if r.GetRuleId() != "T18-STOP-COVERAGE-300M" {
				t.Fatalf("result rule = %q, want T18-STOP-COVERAGE-300M", r.GetRuleId())
			}
			wantStatus(t, r, tc.wantStatus)
			if !strings.Contains(r.GetCitation().GetSection(), "专栏18") {
				t.Errorf("citation.section = %q, want 专栏18", r.GetCitation().GetSection())
			}

			// The audit reports the same verdict and measurement.
			audit, err := client.Audit(ctx, &coveragev1.AuditRequest{Settlement: tc.settlement})
			if err != nil {
				t.Fatalf("Audit: %v", err)
			}
			if ar := mustResult(t, audit.GetResults(), r.GetRuleId()); !proto.Equal(ar, r) {
				t.Errorf("Audit's result differs from CheckBusStopCoverage's\naudit: %v\ncheck: %v", ar, r)
			}
			if !proto.Equal(audit.GetBusStopCoverage(), resp.GetCoverage()) {
				t.Errorf("Audit's bus_stop_coverage differs from CheckBusStopCoverage's\naudit: %v\ncheck: %v", audit.GetBusStopCoverage(), resp.GetCoverage())
			}

			measured := tc.wantStatus == coveragev1.Status_STATUS_COMPLIANT || tc.wantStatus == coveragev1.Status_STATUS_NON_COMPLIANT
			if !measured {
				// No measurement: no value, no shortfall, nothing made up.
				if r.Value != nil || r.Shortfall != nil || resp.GetCoverage() != nil {
					t.Errorf("unmeasured result carries value %v, shortfall %v, coverage %v", r.Value, r.Shortfall, resp.GetCoverage())
				}
				for _, f := range tc.wantMissing {
					if !slices.Contains(r.GetMissingFields(), f) {
						t.Errorf("missing_fields = %v, want %s", r.GetMissingFields(), f)
					}
				}
				return
			}

			if r.GetTier() != tc.wantTier {
				t.Errorf("tier = %q, want %s", r.GetTier(), tc.wantTier)
			}
			wantFloat(t, "threshold", r.Threshold, tc.wantThreshold)
			cov := resp.GetCoverage()
			if cov == nil {
				t.Fatal("coverage is absent for a measured result")
			}
			wantFloat(t, "value", r.Value, cov.GetCoverageShare())
			if s := cov.GetCoverageShare(); s < 0 || s > 1 {
				t.Errorf("coverage_share = %v, want within [0, 1]", s)
			}
			if !nearlyEqual(cov.GetCoverageShare(), cov.GetCoveredAreaKm2()/cov.GetTotalAreaKm2()) {
				t.Errorf("coverage_share %v ≠ covered %v ÷ total %v", cov.GetCoverageShare(), cov.GetCoveredAreaKm2(), cov.GetTotalAreaKm2())
			}
			if !nearlyEqual(cov.GetUncoveredShare(), 1-cov.GetCoverageShare()) {
				t.Errorf("uncovered_share %v ≠ 1 − %v", cov.GetUncoveredShare(), cov.GetCoverageShare())
			}
			if tc.wantCoveredKm2 >= 0 && math.Abs(cov.GetCoveredAreaKm2()-tc.wantCoveredKm2) > 1e-4*tc.wantCoveredKm2 {
				t.Errorf("covered_area_km2 = %v, want %v (πr² for r = 300 m)", cov.GetCoveredAreaKm2(), tc.wantCoveredKm2)
			}
			if tc.wantShare >= 0 && math.Abs(cov.GetCoverageShare()-tc.wantShare) > 1e-9 {
				t.Errorf("coverage_share = %v, want %v", cov.GetCoverageShare(), tc.wantShare)
			}
			if cov.GetRadiusM() != 300 || cov.GetTier() != tc.wantTier || cov.GetStopsGiven() != 1 || cov.GetStopsInside() != 1 {
				t.Errorf("coverage radius %v tier %q stops given %d inside %d, want 300 %s 1 1",
					cov.GetRadiusM(), cov.GetTier(), cov.GetStopsGiven(), cov.GetStopsInside(), tc.wantTier)
			}
			wantFloat(t, "coverage.threshold", cov.Threshold, tc.wantThreshold)
			if cov.GetMethod() == "" || cov.GetDefinition() == "" {
				t.Errorf("coverage does not say how it was computed: method %q, definition %q", cov.GetMethod(), cov.GetDefinition())
			}
			if cov.GetCentralAreaCrs() != coveragev1.CoordinateSystem_COORDINATE_SYSTEM_WGS84 {
				t.Errorf("central_area_crs = %v, want WGS84 for an unspecified system", cov.GetCentralAreaCrs())
			}
			if tc.wantStatus == coveragev1.Status_STATUS_NON_COMPLIANT {
				short := tc.wantThreshold - cov.GetCoverageShare()
				wantFloat(t, "shortfall", r.Shortfall, short)
				wantFloat(t, "coverage.shortfall_share", cov.ShortfallShare, short)
				wantFloat(t, "coverage.shortfall_km2", cov.ShortfallKm2, short*cov.GetTotalAreaKm2())
			} else if r.Shortfall != nil {
				t.Errorf("shortfall = %v for a compliant result", *r.Shortfall)
			}
		})
	}
}

// TestCheckBusStopCoverageUnimplemented: a ruleset without a coverage rule
// cannot answer the check.
func TestCheckBusStopCoverageUnimplemented(t *testing.T) {
	client := newBufconnClient(t, NewService(catalogWithoutStopCoverage(t)))
	ctx := rpcContext(t)
	s := &coveragev1.Settlement{Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_CITY, UrbanPopulation: proto.Int64(800_000),
		CentralArea: centralAreaPolygon(t), BusStops: busStopPoints(t)}
	resp, err := client.CheckBusStopCoverage(ctx, &coveragev1.CheckBusStopCoverageRequest{RulesetId: "no-coverage", Settlement: s})
	wantCode(t, err, codes.Unimplemented)
	if resp != nil {
		t.Errorf("response = %v, want none with UNIMPLEMENTED", resp)
	}
	// The same ruleset audits fine, without the rule.
	audit, err := client.Audit(ctx, &coveragev1.AuditRequest{RulesetId: "no-coverage", Settlement: s})
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	if len(audit.GetResults()) != 20 || resultByID(audit.GetResults(), "T18-STOP-COVERAGE-300M") != nil || audit.GetBusStopCoverage() != nil {
		t.Errorf("audit of no-coverage: %d results, coverage %v; want 20 without the coverage rule", len(audit.GetResults()), audit.GetBusStopCoverage())
	}
}

// TestBusStopGeometryErrors: bad geometry is the caller's error, naming the field.
func TestBusStopGeometryErrors(t *testing.T) {
	client := newBufconnClient(t, NewService(testCatalog(t)))
	ctx := rpcContext(t)
	city := func(mod func(*coveragev1.Settlement)) *coveragev1.Settlement {
		s := &coveragev1.Settlement{Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_CITY, UrbanPopulation: proto.Int64(800_000),
			CentralArea: centralAreaPolygon(t), BusStops: busStopPoints(t)}
		mod(s)
		return s
	}
	tests := []struct {
		name        string
		settlement  *coveragev1.Settlement
		fieldPrefix string
	}{
		{
			name: "ring not closed",
			settlement: city(func(s *coveragev1.Settlement) {
				s.CentralArea = testStruct(t, map[string]any{"type": "Polygon", "coordinates": []any{[]any{
					[]any{125.30, 43.85}, []any{125.35, 43.85}, []any{125.35, 43.90}, []any{125.30, 43.90},
				}}})
			}),
			fieldPrefix: "settlement.centralArea",
		},
		{
			name:        "stops that are not points",
			settlement:  city(func(s *coveragev1.Settlement) { s.BusStops = centralAreaPolygon(t) }),
			fieldPrefix: "settlement.busStops",
		},
		{
			name: "both area forms",
			settlement: city(func(s *coveragev1.Settlement) {
				s.CentralAreaPolygons = &coveragev1.MultiPolygon{Polygons: []*coveragev1.Polygon{{Rings: []*coveragev1.LinearRing{{
					Positions: []*coveragev1.LonLat{{Lon: 125.3, Lat: 43.85}, {Lon: 125.35, Lat: 43.85}, {Lon: 125.35, Lat: 43.9}, {Lon: 125.3, Lat: 43.85}},
				}}}}}
			}),
			fieldPrefix: "settlement.centralAreaPolygons",
		},
	}
	for _, tc := range tests {
		for _, rpc := range []string{"CheckBusStopCoverage", "Audit"} {
			t.Run(tc.name+"/"+rpc, func(t *testing.T) {
				var err error
				if rpc == "Audit" {
					_, err = client.Audit(ctx, &coveragev1.AuditRequest{Settlement: tc.settlement})
				} else {
					_, err = client.CheckBusStopCoverage(ctx, &coveragev1.CheckBusStopCoverageRequest{Settlement: tc.settlement})
				}
				st := wantCode(t, err, codes.InvalidArgument)
				fields := violationFields(st)
				if len(fields) == 0 || !strings.HasPrefix(fields[0], tc.fieldPrefix) {
					t.Errorf("field violations %q, want one under %s (message %q)", fields, tc.fieldPrefix, st.Message())
				}
			})
		}
	}
}

func TestAudit(t *testing.T) {
	catalog := testCatalog(t)
	client := newBufconnClient(t, NewService(catalog))
	rs, err := catalog.Ruleset("jilin-2014")
	if err != nil {
		t.Fatal(err)
	}
	var wantOrder []string
	for _, r := range rs.Rules {
		wantOrder = append(wantOrder, r.ID)
	}

	tests := []struct {
		name       string
		settlement *coveragev1.Settlement
		wantTier   string
	}{
		{name: "large city with every input", settlement: fullCity(t), wantTier: "LARGE"},
		{name: "small town", settlement: &coveragev1.Settlement{
			Id: "t", Name: "Town", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_TOWN,
			UrbanPopulation: proto.Int64(40_000), ResidentPopulation: proto.Int64(45_000),
		}, wantTier: "SMALL"},
		{name: "nothing but an ID", settlement: &coveragev1.Settlement{Id: "x"}, wantTier: ""},
	}
	ctx := rpcContext(t)
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			resp, err := client.Audit(ctx, &coveragev1.AuditRequest{RulesetId: "jilin-2014", Settlement: tc.settlement})
			if err != nil {
				t.Fatalf("Audit: %v", err)
			}
			if resp.GetRulesetId() != "jilin-2014" || resp.GetRulesetVersion() != rs.Version {
				t.Errorf("ruleset = %q %q, want jilin-2014 %q", resp.GetRulesetId(), resp.GetRulesetVersion(), rs.Version)
			}
			if resp.GetSettlementId() != tc.settlement.GetId() || resp.GetSettlementName() != tc.settlement.GetName() {
				t.Errorf("settlement = %q %q, want %q %q", resp.GetSettlementId(), resp.GetSettlementName(), tc.settlement.GetId(), tc.settlement.GetName())
			}
			var got []string
			tally := map[coveragev1.Status]int32{}
			for _, r := range resp.GetResults() {
				got = append(got, r.GetRuleId())
				tally[r.GetStatus()]++
				if r.GetStatus() == coveragev1.Status_STATUS_UNSPECIFIED {
					t.Errorf("%s: status unspecified", r.GetRuleId())
				}
				if r.GetCitation().GetOriginalText() == "" {
					t.Errorf("%s: no citation original_text", r.GetRuleId())
				}
				if r.GetStatus() == coveragev1.Status_STATUS_NOT_COMPUTED && (r.Value != nil || r.Shortfall != nil) {
					t.Errorf("%s: NOT_COMPUTED with a value or shortfall: nothing may be made up", r.GetRuleId())
				}
				if r.GetStatus() == coveragev1.Status_STATUS_INSUFFICIENT_DATA && len(r.GetMissingFields()) == 0 {
					t.Errorf("%s: INSUFFICIENT_DATA without missing_fields", r.GetRuleId())
				}
			}
			if len(got) != 21 || !slices.Equal(got, wantOrder) {
				t.Errorf("results = %v (%d), want the 21 rules in ruleset order %v", got, len(got), wantOrder)
			}
			c := resp.GetCounts()
			sum := c.GetCompliant() + c.GetNonCompliant() + c.GetNotApplicable() + c.GetInsufficientData() + c.GetInformational() + c.GetNotComputed()
			if sum != 21 {
				t.Errorf("counts %v sum to %d, want 21", c, sum)
			}
			wantCounts := &coveragev1.StatusCounts{
				Compliant:        tally[coveragev1.Status_STATUS_COMPLIANT],
				NonCompliant:     tally[coveragev1.Status_STATUS_NON_COMPLIANT],
				NotApplicable:    tally[coveragev1.Status_STATUS_NOT_APPLICABLE],
				InsufficientData: tally[coveragev1.Status_STATUS_INSUFFICIENT_DATA],
				Informational:    tally[coveragev1.Status_STATUS_INFORMATIONAL],
				NotComputed:      tally[coveragev1.Status_STATUS_NOT_COMPUTED],
			}
			if !proto.Equal(c, wantCounts) {
				t.Errorf("counts = %v, want the tally of the results %v", c, wantCounts)
			}
			tier := resp.GetTier()
			if tier.GetId() != tc.wantTier {
				t.Errorf("tier = %v, want %q", tier, tc.wantTier)
			}
			if tier.GetReason() == "" {
				t.Error("tier.reason is empty")
			}
			if up := tc.settlement.UrbanPopulation; up != nil && tier.GetUrbanPopulation() != *up {
				t.Errorf("tier.urban_population = %d, want %d", tier.GetUrbanPopulation(), *up)
			}
		})
	}

	// Spot checks on the full city, where every input is present.
	resp, err := client.Audit(ctx, &coveragev1.AuditRequest{Settlement: fullCity(t)})
	if err != nil {
		t.Fatalf("Audit: %v", err)
	}
	if resp.GetRulesetId() != "jilin-2014" {
		t.Errorf("an empty ruleset_id selected %q, want the default jilin-2014", resp.GetRulesetId())
	}
	if c := resp.GetCounts(); c.GetInsufficientData() != 0 {
		for _, r := range resp.GetResults() {
			if r.GetStatus() == coveragev1.Status_STATUS_INSUFFICIENT_DATA {
				t.Errorf("%s: INSUFFICIENT_DATA for a city with every input (missing %v)", r.GetRuleId(), r.GetMissingFields())
			}
		}
	}
	for id, st := range map[string]coveragev1.Status{
		"T18-STOP-COVERAGE-300M": coveragev1.Status_STATUS_NON_COMPLIANT, // two stops in ~22 km² at the LARGE tier
		"T18-FLEET-PER-10K":      coveragev1.Status_STATUS_COMPLIANT,     // 16 standard units per 10,000 ≥ 15
		"T18-BUS-SPEED":          coveragev1.Status_STATUS_COMPLIANT,     // 16 km/h ≥ 15
		"T18-DEPOT-AREA":         coveragev1.Status_STATUS_NON_COMPLIANT, // 125 m² per unit < 150
		"T18-PARKING":            coveragev1.Status_STATUS_COMPLIANT,     // 28 per 100 vehicles
		"T18-ROAD-HIERARCHY":     coveragev1.Status_STATUS_COMPLIANT,     // declared yes
		"T18-ITS":                coveragev1.Status_STATUS_NON_COMPLIANT, // declared no
		"T19-ELDERLY-BEDS":       coveragev1.Status_STATUS_COMPLIANT,     // 41.67 per 1,000 ≥ 36
		"T19-MCH-HOSPITAL":       coveragev1.Status_STATUS_COMPLIANT,
		"T19-CULTURE":            coveragev1.Status_STATUS_NON_COMPLIANT, // no museum
		"T19-VOCATIONAL":         coveragev1.Status_STATUS_INFORMATIONAL,
		"T19-COMPULSORY-BALANCE": coveragev1.Status_STATUS_NOT_APPLICABLE, // not for cities
		"T19-KINDERGARTEN":       coveragev1.Status_STATUS_NOT_APPLICABLE, // towns only
		"G-LAND-PER-CAPITA":      coveragev1.Status_STATUS_NON_COMPLIANT,  // 120 m² > 115
	} {
		wantStatus(t, mustResult(t, resp.GetResults(), id), st)
	}
}

// ---------------------------------------------------------------------------
// Bad input.
// ---------------------------------------------------------------------------

// settlementRPC calls one of the RPCs that take a settlement.
type settlementRPC struct {
	name string
	call func(ctx context.Context, c coveragev1.CoverageServiceClient, rulesetID string, s *coveragev1.Settlement) error
}

var settlementRPCs = []settlementRPC{
	{"Audit", func(ctx context.Context, c coveragev1.CoverageServiceClient, id string, s *coveragev1.Settlement) error {
		_, err := c.Audit(ctx, &coveragev1.AuditRequest{RulesetId: id, Settlement: s})
		return err
	}},
	{"CheckElderlyCare", func(ctx context.Context, c coveragev1.CoverageServiceClient, id string, s *coveragev1.Settlement) error {
		_, err := c.CheckElderlyCare(ctx, &coveragev1.CheckElderlyCareRequest{RulesetId: id, Settlement: s})
		return err
	}},
	{"CheckHealthFacilities", func(ctx context.Context, c coveragev1.CoverageServiceClient, id string, s *coveragev1.Settlement) error {
		_, err := c.CheckHealthFacilities(ctx, &coveragev1.CheckHealthFacilitiesRequest{RulesetId: id, Settlement: s})
		return err
	}},
	{"CheckParking", func(ctx context.Context, c coveragev1.CoverageServiceClient, id string, s *coveragev1.Settlement) error {
		_, err := c.CheckParking(ctx, &coveragev1.CheckParkingRequest{RulesetId: id, Settlement: s})
		return err
	}},
	{"CheckTransit", func(ctx context.Context, c coveragev1.CoverageServiceClient, id string, s *coveragev1.Settlement) error {
		_, err := c.CheckTransit(ctx, &coveragev1.CheckTransitRequest{RulesetId: id, Settlement: s})
		return err
	}},
	{"CheckBusStopCoverage", func(ctx context.Context, c coveragev1.CoverageServiceClient, id string, s *coveragev1.Settlement) error {
		_, err := c.CheckBusStopCoverage(ctx, &coveragev1.CheckBusStopCoverageRequest{RulesetId: id, Settlement: s})
		return err
	}},
}

func TestInvalidArguments(t *testing.T) {
	client := newBufconnClient(t, NewService(testCatalog(t)))
	town := func(mod func(*coveragev1.Settlement)) *coveragev1.Settlement {
		s := &coveragev1.Settlement{Id: "t1", Name: "T", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_TOWN,
			ElderlyPopulation: proto.Int64(12000), ElderlyCareBeds: proto.Int64(300)}
		if mod != nil {
			mod(s)
		}
		return s
	}
	tests := []struct {
		name       string
		rulesetID  string
		settlement *coveragev1.Settlement
		wantField  string
	}{
		{
			name:       "negative elderly population",
			settlement: town(func(s *coveragev1.Settlement) { s.ElderlyPopulation = proto.Int64(-1) }),
			wantField:  "settlement.elderlyPopulation",
		},
		{
			name:      "unknown ruleset",
			rulesetID: "no-such-ruleset", settlement: town(nil),
			wantField: "rulesetId",
		},
		{
			name:       "missing settlement",
			settlement: nil,
			wantField:  "settlement",
		},
		{
			name:       "undefined kind",
			settlement: town(func(s *coveragev1.Settlement) { s.Kind = coveragev1.SettlementKind(99) }),
			wantField:  "settlement.kind",
		},
		{
			name: "both fleet forms",
			settlement: town(func(s *coveragev1.Settlement) {
				s.BusFleet = &coveragev1.PublicTransportFleet{
					StandardUnits: proto.Float64(100),
					Vehicles:      []*coveragev1.VehicleGroup{{VehicleClass: "LENGTH_10_13M", Count: 10}},
				}
			}),
			wantField: "settlement.busFleet",
		},
		{
			name:       "negative facility count",
			settlement: town(func(s *coveragev1.Settlement) { s.Facilities = &coveragev1.FacilityCounts{Museums: proto.Int64(-2)} }),
			wantField:  "settlement.facilities.museums",
		},
		{
			name: "unknown vehicle class",
			settlement: town(func(s *coveragev1.Settlement) {
				s.BusFleet = &coveragev1.PublicTransportFleet{Vehicles: []*coveragev1.VehicleGroup{{VehicleClass: "TRAM", Count: 1}}}
			}),
			wantField: "settlement.busFleet.vehicles[0].vehicleClass",
		},
		{
			name: "undefined coordinate system",
			settlement: town(func(s *coveragev1.Settlement) {
				s.CentralArea = centralAreaPolygon(t)
				s.CentralAreaCrs = coveragev1.CoordinateSystem(42)
			}),
			wantField: "settlement.centralAreaCrs",
		},
	}
	ctx := rpcContext(t)
	for _, tc := range tests {
		for _, rpc := range settlementRPCs {
			t.Run(tc.name+"/"+rpc.name, func(t *testing.T) {
				err := rpc.call(ctx, client, tc.rulesetID, tc.settlement)
				wantInvalidField(t, err, tc.wantField)
			})
		}
	}
}

// TestInvalidArgumentDetails pins the exact shape of one error: a single
// violation, with a reason, and the message naming the field.
func TestInvalidArgumentDetails(t *testing.T) {
	client := newBufconnClient(t, NewService(testCatalog(t)))
	_, err := client.CheckElderlyCare(rpcContext(t), &coveragev1.CheckElderlyCareRequest{Settlement: &coveragev1.Settlement{
		ElderlyPopulation: proto.Int64(-5), ElderlyCareBeds: proto.Int64(1),
	}})
	st := wantCode(t, err, codes.InvalidArgument)
	var brs []*errdetails.BadRequest
	for _, d := range st.Details() {
		switch d := d.(type) {
		case *errdetails.BadRequest:
			brs = append(brs, d)
		case error:
			t.Errorf("undecodable status detail: %v", d)
		}
	}
	if len(brs) != 1 {
		t.Fatalf("status details = %v, want exactly one google.rpc.BadRequest", st.Details())
	}
	fv := brs[0].GetFieldViolations()
	if len(fv) != 1 || fv[0].GetField() != "settlement.elderlyPopulation" || fv[0].GetDescription() == "" {
		t.Fatalf("field violations = %v, want one for settlement.elderlyPopulation with a description", fv)
	}
	if !strings.Contains(st.Message(), "settlement.elderlyPopulation") {
		t.Errorf("message %q does not name the field", st.Message())
	}
}

// TestCancelledEvaluation: a request whose context ends during the coverage
// computation reports the context's code, not INTERNAL. The handler is
// called directly, because over a connection the client would report its own
// cancellation whatever the server answered.
func TestCancelledEvaluation(t *testing.T) {
	svc := NewService(testCatalog(t))
	s := &coveragev1.Settlement{Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_CITY, UrbanPopulation: proto.Int64(800_000),
		CentralArea: centralAreaPolygon(t), BusStops: busStopPoints(t)}

	cancelled, cancel := context.WithCancel(context.Background())
	cancel()
	expired, cancel2 := context.WithDeadline(context.Background(), time.Unix(0, 0))
	defer cancel2()

	for _, tc := range []struct {
		name string
		ctx  context.Context
		want codes.Code
	}{
		{"cancelled", cancelled, codes.Canceled},
		{"deadline exceeded", expired, codes.DeadlineExceeded},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := svc.Audit(tc.ctx, &coveragev1.AuditRequest{Settlement: s})
			wantCode(t, err, tc.want)
			_, err = svc.CheckBusStopCoverage(tc.ctx, &coveragev1.CheckBusStopCoverageRequest{Settlement: s})
			wantCode(t, err, tc.want)
		})
	}
}

// TestResponsesDoNotAliasCatalog: a response belongs to its caller. Changing
// one (as an in-process caller of *Service, or an interceptor, may) must not
// change the catalog, which is shared, read-only state: later answers stay
// the same, and concurrent requests do not race on it.
func TestResponsesDoNotAliasCatalog(t *testing.T) {
	svc := NewService(testCatalog(t))
	ctx := context.Background()
	list := func() *coveragev1.ListRulesetsResponse {
		resp, err := svc.ListRulesets(ctx, &coveragev1.ListRulesetsRequest{})
		if err != nil {
			t.Fatalf("ListRulesets: %v", err)
		}
		return resp
	}
	parkingReq := &coveragev1.CheckParkingRequest{Settlement: &coveragev1.Settlement{
		Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_CITY, RegisteredVehicles: proto.Int64(100_000), PublicParkingSpaces: proto.Int64(20_000)}}
	parking := func() *coveragev1.CheckParkingResponse {
		resp, err := svc.CheckParking(ctx, parkingReq)
		if err != nil {
			t.Fatalf("CheckParking: %v", err)
		}
		return resp
	}
	transitTier := func() string {
		resp, err := svc.CheckTransit(ctx, &coveragev1.CheckTransitRequest{Settlement: &coveragev1.Settlement{
			Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_CITY, UrbanPopulation: proto.Int64(600_000)}})
		if err != nil {
			t.Fatalf("CheckTransit: %v", err)
		}
		return resp.GetTier().GetId()
	}
	wantCatalog := proto.Clone(list())
	wantParking := proto.Clone(parking())

	// Scribble over everything the responses point to.
	for _, rs := range list().GetRulesets() {
		for i := range rs.Notes {
			rs.Notes[i] = "scribbled"
		}
		for _, tier := range rs.GetTiers() {
			if tier.MinPopulation != nil {
				*tier.MinPopulation = 1
			}
			if tier.MaxPopulation != nil {
				*tier.MaxPopulation = 2
			}
		}
		for _, c := range rs.GetVehicleClasses() {
			if c.MinLengthM != nil {
				*c.MinLengthM = 99
			}
			if c.MaxLengthM != nil {
				*c.MaxLengthM = 100
			}
		}
		for _, r := range rs.GetRules() {
			for i := range r.Notes {
				r.Notes[i] = "scribbled"
			}
			if r.RadiusM != nil {
				*r.RadiusM = 1
			}
			if r.AggregateMinShare != nil {
				*r.AggregateMinShare = 0.01
			}
			for _, th := range r.GetThresholds() {
				if th.Upper != nil {
					*th.Upper = 1e6
				}
				if th.MinPopulation != nil {
					*th.MinPopulation = 7
				}
				if th.MaxPopulation != nil {
					*th.MaxPopulation = 8
				}
				if th.PopulationPerUnit != nil {
					*th.PopulationPerUnit = 9
				}
			}
		}
	}
	if r := parking().GetResult(); r.ThresholdUpper != nil {
		*r.ThresholdUpper = 99
	}

	if got := list(); !proto.Equal(got, wantCatalog) {
		t.Errorf("changing a ListRulesets response changed the catalog served to later callers")
	}
	if got := parking(); !proto.Equal(got, wantParking) {
		t.Errorf("changing a CheckParking response changed later answers: threshold_upper %v, want %v",
			got.GetResult().GetThresholdUpper(), wantParking.(*coveragev1.CheckParkingResponse).GetResult().GetThresholdUpper())
	}
	if got := transitTier(); got != "MEDIUM" {
		t.Errorf("after a ListRulesets response was changed, an urban population of 600,000 falls in tier %q, want MEDIUM", got)
	}
}

// TestAuditConcurrentReuse sends audits of different settlements and views
// from several goroutines at once, so that each call's domain audit is one a
// different settlement's call used before (Service.Audit reuses their
// arrays). Every answer must be the one the settlement gets on its own, from
// the domain's Evaluate converted directly; under -race a result shared
// between calls also fails.
func TestAuditConcurrentReuse(t *testing.T) {
	catalog := testCatalog(t)
	svc := NewService(catalog)
	rs, err := catalog.Ruleset("jilin-2014")
	if err != nil {
		t.Fatal(err)
	}
	town := &coveragev1.Settlement{
		Id: "t", Name: "Town", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_TOWN,
		UrbanPopulation: proto.Int64(40_000), ResidentPopulation: proto.Int64(45_000), ElderlyPopulation: proto.Int64(9_000),
		ElderlyCareBeds: proto.Int64(100),
	}
	requests := []*coveragev1.AuditRequest{
		{Settlement: fullCity(t)},
		{Settlement: town},
		{Settlement: town, View: coveragev1.ResultView_RESULT_VIEW_BASIC},
		{Settlement: &coveragev1.Settlement{Id: "x"}},
		{Settlement: &coveragev1.Settlement{Id: "bad", ElderlyPopulation: proto.Int64(-1)}},
	}
	want := make([]*coveragev1.AuditResponse, len(requests))
	for i, req := range requests {
		s, err := settlementFromProto(req.GetSettlement())
		if err != nil {
			t.Fatal(err)
		}
		a, err := rs.Evaluate(s)
		if err != nil {
			continue // the call must fail too
		}
		want[i] = auditToProto(a)
		applyView(req.GetView(), want[i])
	}
	if want[len(want)-1] != nil {
		t.Fatal("the invalid settlement was accepted")
	}
	ctx := rpcContext(t)
	var wg sync.WaitGroup
	for g := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for n := range 150 {
				i := (g + n) % len(requests)
				got, err := svc.Audit(ctx, requests[i])
				if want[i] == nil {
					if status.Code(err) != codes.InvalidArgument {
						t.Errorf("request %d: error %v, want InvalidArgument", i, err)
					}
					continue
				}
				if err != nil {
					t.Errorf("request %d: %v", i, err)
					return
				}
				if !proto.Equal(got, want[i]) {
					t.Errorf("request %d: the answer differs from the settlement's own audit", i)
					return
				}
			}
		}()
	}
	wg.Wait()
}
