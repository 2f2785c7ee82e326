package server

import (
	"context"
	"errors"
	"testing"

	"google.golang.org/protobuf/proto"

	"github.com/civic-standards/coverage/coverage"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// FuzzSettlement feeds arbitrary protobuf bytes through what every request
// goes through before the domain sees it — decoding, the geometry limits,
// the conversion — and then the audit: whatever the bytes, the outcome is a
// result or an invalid-input error naming a field, never a panic or an
// internal error.
func FuzzSettlement(f *testing.F) {
	for _, s := range []*coveragev1.Settlement{
		batchTown("t", 1),
		squareCity(8, 12),
		{Id: "c", Kind: coveragev1.SettlementKind_SETTLEMENT_KIND_CITY, UrbanPopulation: proto.Int64(2_000_000),
			BusFleet: &coveragev1.PublicTransportFleet{Vehicles: []*coveragev1.VehicleGroup{{VehicleClass: "LENGTH_10_13M", Count: 3}}}},
	} {
		data, err := proto.Marshal(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(data)
	}
	svc := NewService(testCatalog(f))
	svc.maxStops, svc.maxVertices = 2000, 2000
	rs, err := svc.catalog.Select("")
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p := &coveragev1.Settlement{}
		if proto.Unmarshal(data, p) != nil {
			return
		}
		_, err := svc.audit(context.Background(), rs, p)
		if err == nil {
			return
		}
		var e *coverage.Error
		if !errors.As(err, &e) || e.Code != coverage.CodeInvalid || len(e.Violations) == 0 {
			t.Fatalf("error %v (%T), want invalid input naming a field", err, err)
		}
		for _, v := range e.Violations {
			if v.Field == "" || v.Reason == "" {
				t.Fatalf("violation without field or reason: %+v", v)
			}
		}
	})
}
