package server

import (
	"context"
	"fmt"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/civic-standards/coverage/coverage"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// Default limits; each is a Config field and a server flag.
const (
	// DefaultMaxStops bounds the bus stops (and population points) of one
	// settlement: a million is a national capital's whole network and takes
	// about 2 s to cover.
	DefaultMaxStops = 1_000_000
	// DefaultMaxVertices bounds the vertices of one central area.
	DefaultMaxVertices = 1_000_000
	// DefaultDeadline is the deadline of a call that comes without one, and
	// of each settlement audited on a stream.
	DefaultDeadline = 60 * time.Second
	// DefaultMaxDeadline caps the deadline a caller may ask for.
	DefaultMaxDeadline = 5 * time.Minute
	// DefaultMaxConcurrentStreams bounds the calls and streams in flight on
	// one connection. It is HTTP/2's recommended least (RFC 9113, 6.5.2):
	// two cores gain nothing from more calls at once, and a backlog the
	// server does not admit waits at the client instead of holding memory
	// and goroutines here. Measured with a slow minute in a soak, 100
	// against 256: the server's in-flight goroutines peaked at 96 against
	// 458, RSS at 78 against 131 MiB, and p99 over the soak was 15 ms
	// against 62 (docs/benchmarks.md, Load, (e)).
	DefaultMaxConcurrentStreams = 100
)

// deadlines gives a unary call without a deadline the default one, and cuts
// a longer one to the maximum, so that no request can hold a worker forever.
// Streams are not bounded as a whole (a national audit streams for an hour);
// each settlement on them gets the default deadline instead.
func deadlines(def, maxD time.Duration) grpc.UnaryServerInterceptor {
	return func(ctx context.Context, req any, _ *grpc.UnaryServerInfo, handler grpc.UnaryHandler) (any, error) {
		d, ok := ctx.Deadline()
		switch {
		case !ok:
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, def)
			defer cancel()
		case time.Until(d) > maxD:
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, maxD)
			defer cancel()
		}
		return handler(ctx, req)
	}
}

// checkGeometrySize refuses a settlement whose geometry exceeds the limits
// before any of it is decoded or projected: counting the positions of a
// message already in memory is cheap, measuring them is not.
func checkGeometrySize(p *coveragev1.Settlement, maxStops, maxVertices int) error {
	var bad []coverage.FieldViolation
	over := func(field, what string, limit int) {
		bad = append(bad, coverage.FieldViolation{Field: field,
			Reason: fmt.Sprintf("more than %d %s, the server's limit", limit, what)})
	}
	if len(p.GetBusStopPositions().GetPositions()) > maxStops {
		over(coverage.FieldBusStopPositions, "bus stops", maxStops)
	}
	if p.GetBusStops() != nil && countPositions(structpb.NewStructValue(p.GetBusStops()), maxStops) > maxStops {
		over(coverage.FieldBusStops, "bus stops", maxStops)
	}
	if len(p.GetPopulationPoints()) > maxStops {
		over("settlement.populationPoints", "population points", maxStops)
	}
	vertices := 0
	for _, poly := range p.GetCentralAreaPolygons().GetPolygons() {
		for _, ring := range poly.GetRings() {
			vertices += len(ring.GetPositions())
		}
	}
	if vertices > maxVertices {
		over(coverage.FieldCentralAreaPolygons, "vertices", maxVertices)
	}
	if p.GetCentralArea() != nil && countPositions(structpb.NewStructValue(p.GetCentralArea()), maxVertices) > maxVertices {
		over(coverage.FieldCentralArea, "vertices", maxVertices)
	}
	if len(bad) > 0 {
		return coverage.InvalidFields(bad...)
	}
	return nil
}

// countPositions counts the GeoJSON positions (arrays of numbers) in v,
// stopping once it passes limit.
func countPositions(v *structpb.Value, limit int) int {
	n := 0
	var walk func(v *structpb.Value)
	walk = func(v *structpb.Value) {
		if n > limit {
			return
		}
		switch k := v.GetKind().(type) {
		case *structpb.Value_StructValue:
			for _, f := range k.StructValue.GetFields() {
				walk(f)
			}
		case *structpb.Value_ListValue:
			vals := k.ListValue.GetValues()
			if len(vals) > 0 {
				if _, isNumber := vals[0].GetKind().(*structpb.Value_NumberValue); isNumber {
					n++
					return
				}
			}
			for _, e := range vals {
				walk(e)
			}
		}
	}
	walk(v)
	return n
}
