package server

import (
	"context"
	"fmt"
	"sync"

	"google.golang.org/protobuf/types/known/structpb"

	"github.com/civic-standards/coverage/coverage"
	"github.com/civic-standards/coverage/internal/pbconv"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
	"github.com/civic-standards/coverage/samples"
)

// MapBusStopGaps draws the uncovered parts of a central area.
func (s *Service) MapBusStopGaps(ctx context.Context, req *coveragev1.MapBusStopGapsRequest) (*coveragev1.MapBusStopGapsResponse, error) {
	rs, settlement, err := s.settlementFor(req)
	if err != nil {
		return nil, toStatus(err)
	}
	m, err := rs.MapStopGaps(ctx, settlement, coverage.GapOptions{
		ToleranceM: req.GetToleranceM(),
		OutputCRS:  crsFromProto(req.GetOutputCrs()),
		MaxGaps:    int(req.GetMaxGaps()),
	})
	if err != nil {
		return nil, toStatus(err)
	}
	out := &coveragev1.MapBusStopGapsResponse{
		Coverage:        stopCoverageToProto(m.Coverage),
		Crs:             crsToProto(m.CRS),
		ToleranceM:      m.ToleranceM,
		GapsTotal:       int32(m.GapsTotal),
		UncoveredAreaM2: m.UncoveredM2,
		Gaps:            make([]*coveragev1.CoverageGap, len(m.Gaps)),
	}
	polygons := make([]any, len(m.Gaps))
	for i, g := range m.Gaps {
		out.Gaps[i] = &coveragev1.CoverageGap{
			Rank:        int32(g.Rank),
			AreaM2:      g.AreaM2,
			ShareOfArea: g.ShareOfArea,
			Centroid:    &coveragev1.LonLat{Lon: g.Centroid[0], Lat: g.Centroid[1]},
			Vertices:    int32(g.Vertices),
			Holes:       int32(len(g.Rings) - 1),
		}
		rings := make([]any, len(g.Rings))
		for k, ring := range g.Rings {
			pos := make([]any, len(ring))
			for j, p := range ring {
				pos[j] = []any{p[0], p[1]}
			}
			rings[k] = pos
		}
		polygons[i] = rings
	}
	uncovered, err := structpb.NewStruct(map[string]any{"type": "MultiPolygon", "coordinates": polygons})
	if err != nil {
		return nil, toStatus(coverage.Errorf(coverage.CodeInternal, "encoding the gap map: %v", err))
	}
	out.Uncovered = uncovered
	return out, nil
}

// PlanBusStops proposes the stops that bring a central area to its threshold.
func (s *Service) PlanBusStops(ctx context.Context, req *coveragev1.PlanBusStopsRequest) (*coveragev1.PlanBusStopsResponse, error) {
	candidates := req.GetCandidates().GetPositions()
	var bad []coverage.FieldViolation
	if len(candidates) > s.maxStops {
		bad = append(bad, coverage.FieldViolation{Field: "candidates.positions", Reason: fmt.Sprintf("more than %d candidate sites, the server's limit", s.maxStops)})
	}
	if n := req.GetMaxStops(); n > int32(s.maxPlanStops) {
		bad = append(bad, coverage.FieldViolation{Field: "maxStops", Reason: fmt.Sprintf("more than %d stops, the server's limit", s.maxPlanStops)})
	}
	if len(bad) > 0 {
		return nil, toStatus(coverage.InvalidFields(bad...))
	}
	rs, settlement, err := s.settlementFor(req)
	if err != nil {
		return nil, toStatus(err)
	}
	opt := coverage.StopPlanOptions{
		Target:        req.TargetShare,
		CandidatesCRS: crsFromProto(req.GetCandidatesCrs()),
		GridSpacingM:  req.GetGridSpacingM(),
		MaxStops:      int(req.GetMaxStops()),
		OutputCRS:     crsFromProto(req.GetOutputCrs()),
	}
	if opt.MaxStops == 0 {
		opt.MaxStops = s.maxPlanStops
	}
	if len(candidates) > 0 {
		opt.Candidates = make([][2]float64, len(candidates))
		for i, c := range candidates {
			opt.Candidates[i] = [2]float64{c.GetLon(), c.GetLat()}
		}
	}
	p, err := rs.PlanStops(ctx, settlement, opt)
	if err != nil {
		return nil, toStatus(err)
	}
	out := &coveragev1.PlanBusStopsResponse{
		Before:       stopCoverageToProto(p.Before),
		AddedStops:   make([]*coveragev1.PlannedStop, len(p.Added)),
		StopsAdded:   int32(len(p.Added)),
		FinalShare:   p.FinalShare,
		TargetShare:  p.TargetShare,
		TargetReason: p.TargetReason,
		Reached:      p.Reached,
		Stopped:      p.Stopped,
		Candidates:   int32(p.Candidates),
		LowerBound:   int32(p.LowerBound),
		Guarantee:    coverage.PlanGuarantee,
		Crs:          crsToProto(p.CRS),
		GridSpacingM: p.GridSpacingM,
		MaxStops:     int32(p.MaxStops),
	}
	for i, a := range p.Added {
		out.AddedStops[i] = &coveragev1.PlannedStop{Position: []float64{a.Position[0], a.Position[1]}, CoverageShare: a.Share, GainM2: a.GainM2}
	}
	return out, nil
}

// settlementFor selects the ruleset and converts the settlement, within the
// server's geometry limits.
func (s *Service) settlementFor(req settlementRequest) (*coverage.Ruleset, *coverage.Settlement, error) {
	rs, err := s.catalog.Select(req.GetRulesetId())
	if err != nil {
		return nil, nil, err
	}
	p := req.GetSettlement()
	if p == nil {
		return nil, nil, coverage.InvalidFields(coverage.FieldViolation{Field: "settlement", Reason: "required"})
	}
	if err := checkGeometrySize(p, s.maxStops, s.maxVertices); err != nil {
		return nil, nil, err
	}
	settlement, err := settlementFromProto(p)
	if err != nil {
		return nil, nil, err
	}
	return rs, settlement, nil
}

func crsToProto(c coverage.CoordinateSystem) coveragev1.CoordinateSystem {
	return pbconv.EnumValue[coveragev1.CoordinateSystem](coveragev1.CoordinateSystem_value, string(c))
}

// sampleSets are the bundled samples, read once: a city's line holds every
// one of its stops, and the page asks for it on each visit.
var sampleSets = sync.OnceValues(func() (map[string][]*coveragev1.Settlement, error) {
	out := map[string][]*coveragev1.Settlement{}
	for _, name := range samples.Names() {
		set, err := samples.Settlements(name)
		if err != nil {
			return nil, err
		}
		out[name] = set
	}
	return out, nil
})

// ListSamples lists the bundled sample sets.
func (s *Service) ListSamples(context.Context, *coveragev1.ListSamplesRequest) (*coveragev1.ListSamplesResponse, error) {
	sets, err := sampleSets()
	if err != nil {
		return nil, toStatus(coverage.Errorf(coverage.CodeInternal, "reading the samples: %v", err))
	}
	out := &coveragev1.ListSamplesResponse{}
	for _, name := range samples.Names() {
		set := &coveragev1.SampleSet{Name: name}
		for _, st := range sets[name] {
			set.Settlements = append(set.Settlements, &coveragev1.SampleSettlement{
				Id:             st.GetId(),
				Name:           st.GetName(),
				Kind:           st.GetKind(),
				HasCentralArea: st.GetCentralAreaPolygons() != nil || st.GetCentralArea() != nil,
				BusStops:       int32(len(st.GetBusStopPositions().GetPositions())),
			})
		}
		out.Sets = append(out.Sets, set)
	}
	return out, nil
}

// GetSampleSettlement returns one settlement of a sample set.
func (s *Service) GetSampleSettlement(_ context.Context, req *coveragev1.GetSampleSettlementRequest) (*coveragev1.GetSampleSettlementResponse, error) {
	var bad []coverage.FieldViolation
	if req.GetSet() == "" {
		bad = append(bad, coverage.FieldViolation{Field: "set", Reason: "required"})
	}
	if req.GetSettlementId() == "" {
		bad = append(bad, coverage.FieldViolation{Field: "settlementId", Reason: "required"})
	}
	if len(bad) > 0 {
		return nil, toStatus(coverage.InvalidFields(bad...))
	}
	sets, err := sampleSets()
	if err != nil {
		return nil, toStatus(coverage.Errorf(coverage.CodeInternal, "reading the samples: %v", err))
	}
	set, ok := sets[req.GetSet()]
	if !ok {
		return nil, toStatus(coverage.Errorf(coverage.CodeNotFound, "no sample set %q (see GET /v1/samples)", req.GetSet()))
	}
	for _, st := range set {
		if st.GetId() == req.GetSettlementId() {
			return &coveragev1.GetSampleSettlementResponse{Settlement: st}, nil
		}
	}
	return nil, toStatus(coverage.Errorf(coverage.CodeNotFound, "sample set %q has no settlement %q", req.GetSet(), req.GetSettlementId()))
}
