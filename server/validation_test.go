package server

import (
	"net/http"
	"slices"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// TestValidationBothTransports: every kind of bad input is refused before
// any work with INVALID_ARGUMENT and a field violation naming the field by
// its JSON path, identically over gRPC and over REST (HTTP 400 with the
// same details).
func TestValidationBothTransports(t *testing.T) {
	ts := startServer(t, Config{})
	town := func(edit func(s *coveragev1.Settlement)) *coveragev1.Settlement {
		s := &coveragev1.Settlement{Id: "t", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_TOWN,
			ResidentPopulation: proto.Int64(20_000), ElderlyPopulation: proto.Int64(3_000), ElderlyCareBeds: proto.Int64(90)}
		edit(s)
		return s
	}
	selfCrossing, _ := structpb.NewStruct(map[string]any{"type": "Polygon", "coordinates": []any{[]any{
		[]any{125.0, 43.0}, []any{125.1, 43.1}, []any{125.1, 43.0}, []any{125.0, 43.1}, []any{125.0, 43.0}}}})
	stops, _ := structpb.NewStruct(map[string]any{"type": "MultiPoint", "coordinates": []any{[]any{125.05, 43.05}}})
	cases := []struct {
		name    string
		ruleset string
		s       *coveragev1.Settlement
		field   string
	}{
		{"a negative count", "", town(func(s *coveragev1.Settlement) { s.ElderlyCareBeds = proto.Int64(-1) }), "settlement.elderlyCareBeds"},
		{"a negative population", "", town(func(s *coveragev1.Settlement) { s.ResidentPopulation = proto.Int64(-5) }), "settlement.residentPopulation"},
		{"more aged 60+ than residents", "", town(func(s *coveragev1.Settlement) { s.ElderlyPopulation = proto.Int64(20_001) }), "settlement.elderlyPopulation"},
		{"an unknown kind", "", town(func(s *coveragev1.Settlement) { s.Kind = 42 }), "settlement.kind"},
		{"an unknown coordinate system", "", town(func(s *coveragev1.Settlement) { s.CentralAreaCrs = 9 }), "settlement.centralAreaCrs"},
		{"a negative facility count", "", town(func(s *coveragev1.Settlement) {
			s.Facilities = &coveragev1.FacilityCounts{TownshipHealthCentres: proto.Int64(-2)}
		}), "settlement.facilities.townshipHealthCentres"},
		{"an unknown vehicle class", "", town(func(s *coveragev1.Settlement) {
			s.BusFleet = &coveragev1.PublicTransportFleet{Vehicles: []*coveragev1.VehicleGroup{{VehicleClass: "HOVERCRAFT", Count: 2}}}
		}), "settlement.busFleet.vehicles[0].vehicleClass"},
		{"an unknown ruleset", "no-such-plan", town(func(*coveragev1.Settlement) {}), "rulesetId"},
		{"a self-crossing central area", "", town(func(s *coveragev1.Settlement) {
			s.Kind = coveragev1.SettlementKind_SETTLEMENT_KIND_CITY
			s.UrbanPopulation = proto.Int64(600_000)
			s.ResidentPopulation = proto.Int64(800_000)
			s.CentralArea, s.BusStops = selfCrossing, stops
		}), "settlement.centralArea"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			req := &coveragev1.AuditRequest{RulesetId: c.ruleset, Settlement: c.s}
			_, err := ts.client.Audit(rpcContext(t), req)
			st := wantCode(t, err, 3) // INVALID_ARGUMENT
			fields := violationFields(st)
			if !slices.ContainsFunc(fields, func(f string) bool { return len(f) >= len(c.field) && f[:len(c.field)] == c.field }) {
				t.Fatalf("gRPC violations %v, want one on %s", fields, c.field)
			}
			body, err := protojson.Marshal(req)
			if err != nil {
				t.Fatal(err)
			}
			code, resp := ts.do(t, http.MethodPost, "/v1/audit", string(body))
			if code != http.StatusBadRequest {
				t.Fatalf("REST: HTTP %d, want 400\n%s", code, resp)
			}
			// The same violations, field and reason, whichever transport.
			var grpcViolations, restViolations []string
			for _, d := range st.Details() {
				if br, ok := d.(*errdetails.BadRequest); ok {
					for _, v := range br.GetFieldViolations() {
						grpcViolations = append(grpcViolations, v.GetField()+": "+v.GetDescription())
					}
				}
			}
			for _, d := range decodeHTTPError(t, resp).Details {
				for _, v := range d.FieldViolations {
					restViolations = append(restViolations, v.Field+": "+v.Description)
				}
			}
			if len(grpcViolations) == 0 || !slices.Equal(restViolations, grpcViolations) {
				t.Errorf("REST violations %q, gRPC's %q", restViolations, grpcViolations)
			}
		})
	}
}
