package server

import (
	"context"
	"sync"
	"time"

	"github.com/civic-standards/coverage/coverage"
	"github.com/civic-standards/coverage/internal/pbconv"
	coveragev1 "github.com/civic-standards/coverage/proto/coverage/v1"
)

// Service implements coverage.v1.CoverageService over a ruleset catalog. It
// holds no per-request state, so any number of replicas can serve the same
// traffic.
type Service struct {
	coveragev1.UnimplementedCoverageServiceServer
	catalog     *coverage.Catalog
	maxBatch    int
	maxStops    int
	maxVertices int
	// maxPlanStops caps the stops one plan may add.
	maxPlanStops int
	// itemTimeout bounds each settlement of a stream, which as a whole has no deadline.
	itemTimeout time.Duration
	// observeCoverage, when set, records the time of each audit that
	// measured bus-stop coverage, by input size.
	observeCoverage func(stops, vertices int, d time.Duration)
}

// DefaultMaxBatch is the default limit on settlements in one AuditBatch request.
const DefaultMaxBatch = 1000

// NewService returns a Service answering from the catalog, with the default batch limit.
func NewService(catalog *coverage.Catalog) *Service {
	return &Service{catalog: catalog, maxBatch: DefaultMaxBatch, maxStops: DefaultMaxStops, maxVertices: DefaultMaxVertices, maxPlanStops: coverage.DefaultPlanMaxStops, itemTimeout: DefaultDeadline}
}

var _ coveragev1.CoverageServiceServer = (*Service)(nil)

// ListRulesets returns the catalog.
func (s *Service) ListRulesets(context.Context, *coveragev1.ListRulesetsRequest) (*coveragev1.ListRulesetsResponse, error) {
	out := &coveragev1.ListRulesetsResponse{DefaultRulesetId: s.catalog.DefaultID()}
	for _, rs := range s.catalog.Rulesets() {
		out.Rulesets = append(out.Rulesets, rulesetToProto(rs))
	}
	return out, nil
}

// GetRuleset returns one ruleset.
func (s *Service) GetRuleset(_ context.Context, req *coveragev1.GetRulesetRequest) (*coveragev1.GetRulesetResponse, error) {
	if req.GetId() == "" {
		return nil, toStatus(coverage.InvalidFields(coverage.FieldViolation{Field: "id", Reason: "required"}))
	}
	rs, err := s.catalog.Ruleset(req.GetId())
	if err != nil {
		return nil, toStatus(err)
	}
	return &coveragev1.GetRulesetResponse{Ruleset: rulesetToProto(rs)}, nil
}

// settlementRequest is what every evaluation request carries.
type settlementRequest interface {
	GetRulesetId() string
	GetSettlement() *coveragev1.Settlement
}

func (s *Service) evaluate(ctx context.Context, req settlementRequest, topics ...coverage.Topic) (*coverage.Audit, error) {
	a := new(coverage.Audit)
	if err := s.evaluateInto(ctx, a, req, topics...); err != nil {
		return nil, err
	}
	return a, nil
}

// evaluateInto is evaluate writing into a (coverage.Ruleset.EvaluateInto).
func (s *Service) evaluateInto(ctx context.Context, a *coverage.Audit, req settlementRequest, topics ...coverage.Topic) error {
	rs, err := s.catalog.Select(req.GetRulesetId())
	if err != nil {
		return toStatus(err)
	}
	if err := s.auditInto(ctx, a, rs, req.GetSettlement(), topics...); err != nil {
		return toStatus(err)
	}
	return nil
}

// audit checks a settlement against the limits, converts it and evaluates it.
func (s *Service) audit(ctx context.Context, rs *coverage.Ruleset, p *coveragev1.Settlement, topics ...coverage.Topic) (*coverage.Audit, error) {
	a := new(coverage.Audit)
	if err := s.auditInto(ctx, a, rs, p, topics...); err != nil {
		return nil, err
	}
	return a, nil
}

// auditInto is audit writing into a (coverage.Ruleset.EvaluateInto).
func (s *Service) auditInto(ctx context.Context, a *coverage.Audit, rs *coverage.Ruleset, p *coveragev1.Settlement, topics ...coverage.Topic) error {
	if p != nil {
		if err := checkGeometrySize(p, s.maxStops, s.maxVertices); err != nil {
			return err
		}
	}
	settlement, err := settlementFromProto(p)
	if err != nil {
		return err
	}
	start := time.Now()
	err = rs.EvaluateInto(ctx, a, settlement, topics...)
	if err == nil && a.StopCoverage != nil && s.observeCoverage != nil {
		s.observeCoverage(a.StopCoverage.StopsGiven, a.StopCoverage.AreaVertices, time.Since(start))
	}
	return err
}

// Audit evaluates every rule.
func (s *Service) Audit(ctx context.Context, req *coveragev1.AuditRequest) (*coveragev1.AuditResponse, error) {
	a := audits.Get().(*coverage.Audit)
	defer releaseAudit(a)
	if err := s.evaluateInto(ctx, a, req); err != nil {
		return nil, err
	}
	out := auditResponse(ctx, a)
	applyView(req.GetView(), out)
	return out, nil
}

// audits holds domain audits whose arrays of results the next unary audits
// reuse: the response is made of copies, so the domain audit is done with
// once it is converted.
var audits = sync.Pool{New: func() any { return new(coverage.Audit) }}

func releaseAudit(a *coverage.Audit) {
	// The results' strings and slices would otherwise stay reachable from
	// the pool until the array is next used. Beyond len the array was
	// cleared by an earlier release or never written.
	clear(a.Results)
	*a = coverage.Audit{Results: a.Results[:0]}
	audits.Put(a)
}

func auditToProto(a *coverage.Audit) *coveragev1.AuditResponse {
	out := new(coveragev1.AuditResponse)
	fillAudit(out, a, resultsToProto(a.Results))
	return out
}

// fillAudit writes a into out, with its results already converted.
func fillAudit(out *coveragev1.AuditResponse, a *coverage.Audit, results []*coveragev1.RuleResult) {
	*out = coveragev1.AuditResponse{
		RulesetId:       a.RulesetID,
		RulesetVersion:  a.RulesetVersion,
		SettlementId:    a.SettlementID,
		SettlementName:  a.SettlementName,
		Tier:            tierToProto(a.Tier),
		Results:         results,
		Counts:          pbconv.Counts(a.Counts),
		BusStopCoverage: stopCoverageToProto(a.StopCoverage),
	}
}

// topicResults answers the single-rule checks: the first result of the
// topic, and the others for rulesets with more than one rule in it.
func (s *Service) topicResults(ctx context.Context, req settlementRequest, topic coverage.Topic) (*coveragev1.RuleResult, []*coveragev1.RuleResult, error) {
	a, err := s.evaluate(ctx, req, topic)
	if err != nil {
		return nil, nil, err
	}
	if len(a.Results) == 0 {
		return nil, nil, toStatus(coverage.Errorf(coverage.CodeUnimplemented, "ruleset %s has no %s rule", a.RulesetID, topic))
	}
	all := resultsToProto(a.Results)
	return all[0], all[1:], nil
}

// CheckElderlyCare evaluates the elderly-care rules.
func (s *Service) CheckElderlyCare(ctx context.Context, req *coveragev1.CheckElderlyCareRequest) (*coveragev1.CheckElderlyCareResponse, error) {
	first, others, err := s.topicResults(ctx, req, coverage.TopicElderlyCare)
	if err != nil {
		return nil, err
	}
	return &coveragev1.CheckElderlyCareResponse{Result: first, OtherResults: others}, nil
}

// CheckParking evaluates the parking rules.
func (s *Service) CheckParking(ctx context.Context, req *coveragev1.CheckParkingRequest) (*coveragev1.CheckParkingResponse, error) {
	first, others, err := s.topicResults(ctx, req, coverage.TopicParking)
	if err != nil {
		return nil, err
	}
	return &coveragev1.CheckParkingResponse{Result: first, OtherResults: others}, nil
}

// CheckHealthFacilities evaluates the health-facility rules.
func (s *Service) CheckHealthFacilities(ctx context.Context, req *coveragev1.CheckHealthFacilitiesRequest) (*coveragev1.CheckHealthFacilitiesResponse, error) {
	a, err := s.evaluate(ctx, req, coverage.TopicHealth)
	if err != nil {
		return nil, err
	}
	return &coveragev1.CheckHealthFacilitiesResponse{
		Results:      resultsToProto(a.Results),
		Requirements: requirementsToProto(a.Requirements),
	}, nil
}

// CheckTransit evaluates the public-transport rules.
func (s *Service) CheckTransit(ctx context.Context, req *coveragev1.CheckTransitRequest) (*coveragev1.CheckTransitResponse, error) {
	a, err := s.evaluate(ctx, req, coverage.TopicTransit)
	if err != nil {
		return nil, err
	}
	return &coveragev1.CheckTransitResponse{
		Results: resultsToProto(a.Results),
		Tier:    tierToProto(a.Tier),
		Fleet:   fleetToProto(a.Fleet),
	}, nil
}

// CheckBusStopCoverage measures the bus-stop coverage of the central area.
func (s *Service) CheckBusStopCoverage(ctx context.Context, req *coveragev1.CheckBusStopCoverageRequest) (*coveragev1.CheckBusStopCoverageResponse, error) {
	a, err := s.evaluate(ctx, req, coverage.TopicBusStopCoverage)
	if err != nil {
		return nil, err
	}
	if len(a.Results) == 0 {
		return nil, toStatus(coverage.Errorf(coverage.CodeUnimplemented, "ruleset %s has no bus-stop coverage rule", a.RulesetID))
	}
	return &coveragev1.CheckBusStopCoverageResponse{
		Result:   resultToProto(&a.Results[0]),
		Coverage: stopCoverageToProto(a.StopCoverage),
	}, nil
}
