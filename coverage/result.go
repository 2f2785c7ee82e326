package coverage

// Status is the verdict of one rule (coverage.v1.Status names).
type Status string

// The statuses.
const (
	StatusCompliant        Status = "STATUS_COMPLIANT"
	StatusNonCompliant     Status = "STATUS_NON_COMPLIANT"
	StatusNotApplicable    Status = "STATUS_NOT_APPLICABLE"
	StatusInsufficientData Status = "STATUS_INSUFFICIENT_DATA"
	StatusInformational    Status = "STATUS_INFORMATIONAL"
	StatusNotComputed      Status = "STATUS_NOT_COMPUTED"
)

// Shortfall is one item of what a settlement lacks, in a unit a planner acts on.
type Shortfall struct {
	Quantity float64
	Unit     string
	Facility FacilityType // for facility rules
	Action   string
}

// Result is the verdict of one rule for one settlement.
type Result struct {
	RuleID         string
	Title          string
	Topic          Topic
	RulesetID      string
	RulesetVersion string
	Status         Status

	Value          *float64
	Unit           string
	Threshold      *float64
	ThresholdUpper *float64
	Comparison     Comparison

	Tier            string
	SizeClass       string
	ThresholdReason string

	Shortfall      *float64
	ShortfallUnit  string
	ShortfallItems []Shortfall
	// Actions close the shortfall, one per missing facility type on a
	// facility rule; only non-compliant results of rules whose ruleset gives
	// an action have them.
	Actions []Action

	Citation      Citation
	Notes         []string
	MissingFields []string
	Reason        string
}

// FacilityRequirement is one facility type a settlement must have.
type FacilityRequirement struct {
	RuleID   string
	Facility FacilityType
	Required int64
	Present  *int64
	Missing  int64
}

// FleetClassCount is the standard-unit conversion of one vehicle class.
type FleetClassCount struct {
	VehicleClass  string
	Count         int64
	Coefficient   float64
	StandardUnits float64
}

// FleetSummary is a fleet converted to standard units.
type FleetSummary struct {
	StandardUnits float64
	Vehicles      *int64
	Classes       []FleetClassCount
}

// TierAssignment is the city-size tier a settlement falls in.
type TierAssignment struct {
	ID              string
	Label           string
	UrbanPopulation *int64
	Reason          string
}

// StatusCounts counts results by status.
type StatusCounts map[Status]int

// Audit is the evaluation of a ruleset's rules for one settlement.
type Audit struct {
	RulesetID      string
	RulesetVersion string
	SettlementID   string
	SettlementName string
	Tier           TierAssignment
	Results        []Result
	Counts         StatusCounts
	// Requirements lists the facilities the evaluated facility rules require.
	Requirements []FacilityRequirement
	// Fleet is the fleet in standard units, when one was given.
	Fleet *FleetSummary
	// StopCoverage is the measured bus-stop coverage, when it was computed.
	StopCoverage *StopCoverage
}
