package coverage

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// Metric names a computation the code provides (coverage.v1.Metric names).
type Metric string

// The metrics.
const (
	MetricStopCoverageShare       Metric = "METRIC_STOP_COVERAGE_SHARE"
	MetricFleetUnitsPer10K        Metric = "METRIC_FLEET_UNITS_PER_10K"
	MetricAverageBusSpeed         Metric = "METRIC_AVERAGE_BUS_SPEED"
	MetricDepotAreaPerUnit        Metric = "METRIC_DEPOT_AREA_PER_UNIT"
	MetricParkingPer100Vehicles   Metric = "METRIC_PARKING_PER_100_VEHICLES"
	MetricDeclaredFact            Metric = "METRIC_DECLARED_FACT"
	MetricElderlyBedsPer1000      Metric = "METRIC_ELDERLY_BEDS_PER_1000"
	MetricFacilityCount           Metric = "METRIC_FACILITY_COUNT"
	MetricPreschoolEnrolmentRatio Metric = "METRIC_PRESCHOOL_ENROLMENT_RATIO"
	MetricVocationalIntakeRatio   Metric = "METRIC_VOCATIONAL_INTAKE_RATIO"
	MetricLandPerCapita           Metric = "METRIC_LAND_PER_CAPITA"
	MetricUrbanisationRate        Metric = "METRIC_URBANISATION_RATE"
)

// Comparison says how a value is held against a threshold.
type Comparison string

// The comparisons.
const (
	AtLeast    Comparison = "COMPARISON_AT_LEAST"
	AtMost     Comparison = "COMPARISON_AT_MOST"
	ReportOnly Comparison = "COMPARISON_REPORT_ONLY"
)

// Topic groups rules by service area.
type Topic string

// The topics.
const (
	TopicBusStopCoverage Topic = "TOPIC_BUS_STOP_COVERAGE"
	TopicTransit         Topic = "TOPIC_TRANSIT"
	TopicParking         Topic = "TOPIC_PARKING"
	TopicRoads           Topic = "TOPIC_ROADS"
	TopicElderlyCare     Topic = "TOPIC_ELDERLY_CARE"
	TopicHealth          Topic = "TOPIC_HEALTH"
	TopicEducation       Topic = "TOPIC_EDUCATION"
	TopicCulture         Topic = "TOPIC_CULTURE"
	TopicDevelopment     Topic = "TOPIC_DEVELOPMENT"
)

var topics = map[Topic]bool{
	TopicBusStopCoverage: true, TopicTransit: true, TopicParking: true, TopicRoads: true,
	TopicElderlyCare: true, TopicHealth: true, TopicEducation: true, TopicCulture: true, TopicDevelopment: true,
}

// PopulationBasis says which population selects a rule's threshold.
type PopulationBasis string

// The population bases.
const (
	BasisNone     PopulationBasis = "POPULATION_BASIS_UNSPECIFIED"
	BasisUrban    PopulationBasis = "POPULATION_BASIS_URBAN"
	BasisResident PopulationBasis = "POPULATION_BASIS_RESIDENT"
)

// Ruleset is one plan's standards as data. Its JSON form is the protojson
// encoding of coverage.v1.Ruleset, so the ruleset file and the catalog RPC
// speak the same structure.
type Ruleset struct {
	ID             string         `json:"id"`
	Title          string         `json:"title"`
	Version        string         `json:"version"`
	Source         Source         `json:"source"`
	Notes          []string       `json:"notes,omitempty"`
	Tiers          []Tier         `json:"tiers,omitempty"`
	VehicleClasses []VehicleClass `json:"vehicleClasses,omitempty"`
	FacilityNames  []FacilityName `json:"facilityNames,omitempty"`
	Rules          []Rule         `json:"rules"`
}

// Source is the document a ruleset is drawn from.
type Source struct {
	Title     string `json:"title"`
	TitleEn   string `json:"titleEn,omitempty"`
	Issuer    string `json:"issuer,omitempty"`
	Period    string `json:"period,omitempty"`
	Reference string `json:"reference,omitempty"`
}

// Tier is a city-size class selected by urban population: min inclusive, max exclusive.
type Tier struct {
	ID            string `json:"id"`
	Label         string `json:"label,omitempty"`
	MinPopulation *int64 `json:"minPopulation,omitempty"`
	MaxPopulation *int64 `json:"maxPopulation,omitempty"`
}

// VehicleClass is a row of the standard-unit conversion table: lengths above
// MinLengthM (exclusive) up to MaxLengthM (inclusive).
type VehicleClass struct {
	ID          string   `json:"id"`
	Label       string   `json:"label,omitempty"`
	MinLengthM  *float64 `json:"minLengthM,omitempty"`
	MaxLengthM  *float64 `json:"maxLengthM,omitempty"`
	Coefficient float64  `json:"coefficient"`
}

// FacilityName is how a ruleset's Chinese texts name a facility type. The
// English nouns are the service's (FacilityType.Noun); the Chinese ones are
// data because a plan's own wording (所, 座, 个) is what its readers expect.
type FacilityName struct {
	Facility FacilityType `json:"facility"`
	NameZh   string       `json:"nameZh"`
	// UnitZh is the measure word (所, 座, 个); when empty the action's unitZh is used.
	UnitZh string `json:"unitZh,omitempty"`
}

// Citation points to the wording a rule comes from.
type Citation struct {
	Document     string `json:"document"`
	Section      string `json:"section"`
	SectionEn    string `json:"sectionEn,omitempty"`
	OriginalText string `json:"originalText"`
	EnglishText  string `json:"englishText,omitempty"`
}

// Applicability says which settlements a rule applies to.
type Applicability struct {
	Kinds                   []Kind `json:"kinds,omitempty"`
	RegionalCentralCityOnly bool   `json:"regionalCentralCityOnly,omitempty"`
}

// Threshold is the value required of one tier or population band.
type Threshold struct {
	Tier              string   `json:"tier,omitempty"`
	MinPopulation     *int64   `json:"minPopulation,omitempty"`
	MaxPopulation     *int64   `json:"maxPopulation,omitempty"`
	Label             string   `json:"label,omitempty"`
	Value             float64  `json:"value"`
	Upper             *float64 `json:"upper,omitempty"`
	PopulationPerUnit *int64   `json:"populationPerUnit,omitempty"`
	Interpretation    bool     `json:"interpretation,omitempty"`
	Note              string   `json:"note,omitempty"`
}

// Rule is one standard.
type Rule struct {
	ID                string          `json:"id"`
	Title             string          `json:"title"`
	Topic             Topic           `json:"topic"`
	Citation          Citation        `json:"citation"`
	Metric            Metric          `json:"metric"`
	Unit              string          `json:"unit,omitempty"`
	ShortfallUnit     string          `json:"shortfallUnit,omitempty"`
	Comparison        Comparison      `json:"comparison"`
	AppliesTo         Applicability   `json:"appliesTo"`
	PopulationBasis   PopulationBasis `json:"populationBasis,omitempty"`
	Tiered            bool            `json:"tiered,omitempty"`
	Thresholds        []Threshold     `json:"thresholds"`
	Facilities        []FacilityType  `json:"facilities,omitempty"`
	DeclaredFact      DeclaredFact    `json:"declaredFact,omitempty"`
	RadiusM           *float64        `json:"radiusM,omitempty"`
	AggregateMinShare *float64        `json:"aggregateMinShare,omitempty"`
	Notes             []string        `json:"notes,omitempty"`
	Action            *ActionSpec     `json:"action,omitempty"`
}

// Rule returns the rule with the ID, or nil.
func (rs *Ruleset) Rule(id string) *Rule {
	for i := range rs.Rules {
		if rs.Rules[i].ID == id {
			return &rs.Rules[i]
		}
	}
	return nil
}

// TierFor returns the tier whose population range holds p, or nil.
func (rs *Ruleset) TierFor(p int64) *Tier {
	for i := range rs.Tiers {
		if inRange(p, rs.Tiers[i].MinPopulation, rs.Tiers[i].MaxPopulation) {
			return &rs.Tiers[i]
		}
	}
	return nil
}

func inRange(p int64, min, max *int64) bool {
	return (min == nil || p >= *min) && (max == nil || p < *max)
}

var idPattern = regexp.MustCompile(`^[A-Za-z0-9][A-Za-z0-9._-]*$`)

// ParseRuleset decodes and validates a ruleset file. Unknown fields are
// rejected, and every error names the file, the rule and the field.
func ParseRuleset(name string, data []byte) (*Ruleset, error) {
	// The rules are decoded one by one so that a decoding error names its rule.
	var head struct {
		Ruleset
		Rules []json.RawMessage `json:"rules"`
	}
	if err := decodeStrict(data, &head); err != nil {
		return nil, fmt.Errorf("ruleset %s: %w", name, err)
	}
	rs := head.Ruleset
	rs.Rules = make([]Rule, len(head.Rules))
	for i, raw := range head.Rules {
		if err := decodeStrict(raw, &rs.Rules[i]); err != nil {
			var id struct {
				ID string `json:"id"`
			}
			where := fmt.Sprintf("rules[%d]", i)
			if json.Unmarshal(raw, &id) == nil && id.ID != "" {
				where = "rule " + id.ID
			}
			return nil, fmt.Errorf("ruleset %s: %s: %w", name, where, err)
		}
	}
	if err := rs.validate(); err != nil {
		return nil, fmt.Errorf("ruleset %s: %w", name, err)
	}
	return &rs, nil
}

// decodeStrict decodes one JSON value, rejecting unknown fields and trailing data.
func decodeStrict(data []byte, v any) error {
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(v); err != nil {
		return err
	}
	if _, err := dec.Token(); err != io.EOF {
		return errors.New("unexpected data after the ruleset object")
	}
	return nil
}

// validate checks the ruleset as a whole; it reports every problem, not just the first.
func (rs *Ruleset) validate() error {
	var problems []string
	bad := func(format string, args ...any) { problems = append(problems, fmt.Sprintf(format, args...)) }

	if !idPattern.MatchString(rs.ID) {
		bad("id: %q is not a valid ruleset ID (letters, digits, '.', '_', '-')", rs.ID)
	}
	if strings.TrimSpace(rs.Title) == "" {
		bad("title: required")
	}
	if strings.TrimSpace(rs.Version) == "" {
		bad("version: required")
	}
	if strings.TrimSpace(rs.Source.Title) == "" {
		bad("source.title: required")
	}
	tierIDs := map[string]bool{}
	for i, t := range rs.Tiers {
		switch {
		case t.ID == "":
			bad("tiers[%d].id: required", i)
		case tierIDs[t.ID]:
			bad("tiers[%d].id: duplicate tier %q", i, t.ID)
		}
		tierIDs[t.ID] = true
		if t.MinPopulation != nil && t.MaxPopulation != nil && *t.MinPopulation >= *t.MaxPopulation {
			bad("tiers[%d] (%s): minPopulation %d must be below maxPopulation %d", i, t.ID, *t.MinPopulation, *t.MaxPopulation)
		}
	}
	// Tiers must partition the population axis so that every city has exactly one.
	if len(rs.Tiers) > 0 {
		for _, p := range tierBoundaries(rs.Tiers) {
			n := 0
			for _, t := range rs.Tiers {
				if inRange(p, t.MinPopulation, t.MaxPopulation) {
					n++
				}
			}
			if n != 1 {
				bad("tiers: a population of %d falls in %d tiers; tiers must cover every population exactly once", p, n)
			}
		}
	}
	classIDs := map[string]bool{}
	for i, c := range rs.VehicleClasses {
		switch {
		case c.ID == "":
			bad("vehicleClasses[%d].id: required", i)
		case classIDs[c.ID]:
			bad("vehicleClasses[%d].id: duplicate class %q", i, c.ID)
		}
		classIDs[c.ID] = true
		if !(c.Coefficient > 0) || math.IsInf(c.Coefficient, 0) {
			bad("vehicleClasses[%d] (%s).coefficient: must be a positive number, got %v", i, c.ID, c.Coefficient)
		}
		if c.MinLengthM != nil && c.MaxLengthM != nil && *c.MinLengthM >= *c.MaxLengthM {
			bad("vehicleClasses[%d] (%s): minLengthM must be below maxLengthM", i, c.ID)
		}
	}
	for i, a := range rs.VehicleClasses {
		for _, b := range rs.VehicleClasses[i+1:] {
			if lengthBandsOverlap(a, b) {
				bad("vehicleClasses: length bands of %s and %s overlap", a.ID, b.ID)
			}
		}
	}
	classList := make([]string, len(rs.VehicleClasses))
	for i, c := range rs.VehicleClasses {
		classList[i] = c.ID
	}
	namedZh := map[FacilityType]bool{}
	for i, n := range rs.FacilityNames {
		switch {
		case !n.Facility.valid():
			bad("facilityNames[%d].facility: unknown facility type %q", i, string(n.Facility))
		case namedZh[n.Facility]:
			bad("facilityNames[%d].facility: %s is named twice", i, n.Facility)
		}
		namedZh[n.Facility] = true
		if strings.TrimSpace(n.NameZh) == "" {
			bad("facilityNames[%d] (%s).nameZh: required", i, n.Facility)
		}
	}
	ruleIDs := map[string]bool{}
	for i := range rs.Rules {
		r := &rs.Rules[i]
		where := fmt.Sprintf("rules[%d]", i)
		if r.ID != "" {
			where = fmt.Sprintf("rule %s", r.ID)
		}
		for _, p := range r.validate(tierIDs, len(rs.VehicleClasses) > 0) {
			bad("%s: %s", where, p)
		}
		for _, p := range r.validateAction(classList, namedZh) {
			bad("%s: %s", where, p)
		}
		if r.ID != "" && ruleIDs[r.ID] {
			bad("%s: duplicate rule ID", where)
		}
		ruleIDs[r.ID] = true
	}
	problems = append(problems, rs.validateActionKinds()...)
	if len(rs.Rules) == 0 {
		bad("rules: a ruleset needs at least one rule")
	}
	if len(problems) > 0 {
		return errors.New(strings.Join(problems, "; "))
	}
	return nil
}

func tierBoundaries(tiers []Tier) []int64 {
	ps := []int64{0}
	for _, t := range tiers {
		if t.MinPopulation != nil {
			ps = append(ps, *t.MinPopulation, *t.MinPopulation-1)
		}
		if t.MaxPopulation != nil {
			ps = append(ps, *t.MaxPopulation, *t.MaxPopulation-1)
		}
	}
	ps = append(ps, math.MaxInt64)
	return ps
}

func lengthBandsOverlap(a, b VehicleClass) bool {
	if (a.MinLengthM == nil && a.MaxLengthM == nil) || (b.MinLengthM == nil && b.MaxLengthM == nil) {
		return false // classes by type (double-decker, metro car), not by length
	}
	lo := func(c VehicleClass) float64 {
		if c.MinLengthM == nil {
			return math.Inf(-1)
		}
		return *c.MinLengthM
	}
	hi := func(c VehicleClass) float64 {
		if c.MaxLengthM == nil {
			return math.Inf(1)
		}
		return *c.MaxLengthM
	}
	return lo(a) < hi(b) && lo(b) < hi(a)
}

var metricNeeds = map[Metric]struct {
	basis      bool // needs a population basis when thresholds are banded
	facilities bool
	fact       bool
	radius     bool
}{
	MetricStopCoverageShare:       {radius: true},
	MetricFleetUnitsPer10K:        {},
	MetricAverageBusSpeed:         {},
	MetricDepotAreaPerUnit:        {},
	MetricParkingPer100Vehicles:   {},
	MetricDeclaredFact:            {fact: true},
	MetricElderlyBedsPer1000:      {},
	MetricFacilityCount:           {facilities: true},
	MetricPreschoolEnrolmentRatio: {},
	MetricVocationalIntakeRatio:   {},
	MetricLandPerCapita:           {},
	MetricUrbanisationRate:        {},
}

func (r *Rule) validate(tierIDs map[string]bool, haveVehicleClasses bool) []string {
	var p []string
	bad := func(format string, args ...any) { p = append(p, fmt.Sprintf(format, args...)) }
	if !idPattern.MatchString(r.ID) {
		bad("id: %q is not a valid rule ID", r.ID)
	}
	if strings.TrimSpace(r.Title) == "" {
		bad("title: required")
	}
	if !topics[r.Topic] {
		bad("topic: unknown topic %q", string(r.Topic))
	}
	if r.Citation.Document == "" || r.Citation.Section == "" || r.Citation.OriginalText == "" || r.Citation.EnglishText == "" {
		bad("citation: document, section, originalText and englishText are required")
	}
	if strings.TrimSpace(r.Unit) == "" {
		bad("unit: required")
	}
	if r.ShortfallUnit == "" && r.Comparison != ReportOnly && r.Metric != MetricDeclaredFact {
		bad("shortfallUnit: required for a rule with a shortfall")
	}
	needs, known := metricNeeds[r.Metric]
	if !known {
		bad("metric: unknown metric %q", string(r.Metric))
	}
	switch r.Comparison {
	case AtLeast, AtMost, ReportOnly:
	default:
		bad("comparison: unknown comparison %q", string(r.Comparison))
	}
	for j, k := range r.AppliesTo.Kinds {
		if !k.valid() {
			bad("appliesTo.kinds[%d]: unknown settlement kind %q", j, string(k))
		}
	}
	switch r.PopulationBasis {
	case "", BasisNone, BasisUrban, BasisResident:
	default:
		bad("populationBasis: unknown basis %q", string(r.PopulationBasis))
	}
	if r.Tiered {
		if len(tierIDs) == 0 {
			bad("tiered: the ruleset defines no tiers")
		}
		if r.PopulationBasis != BasisUrban {
			bad("populationBasis: a tiered rule is tiered by urban population, so the basis must be POPULATION_BASIS_URBAN")
		}
	}
	if len(r.Thresholds) == 0 {
		bad("thresholds: at least one is required")
	}
	for j, t := range r.Thresholds {
		where := fmt.Sprintf("thresholds[%d]", j)
		if math.IsNaN(t.Value) || math.IsInf(t.Value, 0) {
			bad("%s.value: must be finite", where)
		}
		if t.Value < 0 {
			bad("%s.value: must not be negative", where)
		}
		if t.Upper != nil && !(*t.Upper >= t.Value) {
			bad("%s.upper: must be at least value", where)
		}
		if t.Tier != "" {
			if !r.Tiered {
				bad("%s.tier: the rule is not tiered", where)
			} else if !tierIDs[t.Tier] {
				bad("%s.tier: unknown tier %q", where, t.Tier)
			}
		} else if r.Tiered {
			bad("%s.tier: a tiered rule needs a tier on every threshold", where)
		}
		if (t.MinPopulation != nil || t.MaxPopulation != nil || t.PopulationPerUnit != nil) && (r.PopulationBasis == "" || r.PopulationBasis == BasisNone) {
			bad("%s: population bands need the rule's populationBasis", where)
		}
		if t.MinPopulation != nil && t.MaxPopulation != nil && *t.MinPopulation >= *t.MaxPopulation {
			bad("%s: minPopulation must be below maxPopulation", where)
		}
		if t.PopulationPerUnit != nil && *t.PopulationPerUnit <= 0 {
			bad("%s.populationPerUnit: must be positive", where)
		}
	}
	if r.Tiered {
		covered := map[string]bool{}
		for _, t := range r.Thresholds {
			covered[t.Tier] = true
		}
		for id := range tierIDs {
			if !covered[id] {
				bad("thresholds: no threshold for tier %s", id)
			}
		}
	}
	if needs.facilities != (len(r.Facilities) > 0) {
		if needs.facilities {
			bad("facilities: a facility-count rule names at least one facility type")
		} else {
			bad("facilities: only facility-count rules name facilities")
		}
	}
	for j, f := range r.Facilities {
		if !f.valid() {
			bad("facilities[%d]: unknown facility type %q", j, string(f))
		}
	}
	if needs.fact != (r.DeclaredFact != "") {
		bad("declaredFact: required for, and only for, METRIC_DECLARED_FACT")
	} else if needs.fact && !r.DeclaredFact.valid() {
		bad("declaredFact: unknown fact %q", string(r.DeclaredFact))
	}
	if needs.radius {
		if r.RadiusM == nil || !(*r.RadiusM > 0) || math.IsInf(*r.RadiusM, 0) {
			bad("radiusM: a coverage rule needs a positive radius in metres")
		}
	} else if r.RadiusM != nil {
		bad("radiusM: only coverage rules have a radius")
	}
	if r.Metric == MetricFleetUnitsPer10K || r.Metric == MetricDepotAreaPerUnit {
		if !haveVehicleClasses {
			bad("metric: fleet rules need the ruleset's vehicleClasses table")
		}
	}
	if a := r.AggregateMinShare; a != nil && !(*a > 0 && *a <= 1) {
		bad("aggregateMinShare: must be in (0, 1], got %v", *a)
	}
	return p
}

//go:embed rulesets/*.json
var embedded embed.FS

// DefaultRulesetID is the ruleset used when a request names none.
const DefaultRulesetID = "jilin-2014"

// Catalog is a set of rulesets by ID. It is read-only after construction and
// safe for concurrent use.
type Catalog struct {
	byID      map[string]*Ruleset
	ordered   []*Ruleset
	defaultID string
}

// NewCatalog builds a catalog; the default ruleset must be among the rulesets.
func NewCatalog(defaultID string, rulesets ...*Ruleset) (*Catalog, error) {
	c := &Catalog{byID: map[string]*Ruleset{}, defaultID: defaultID}
	for _, rs := range rulesets {
		if _, dup := c.byID[rs.ID]; dup {
			return nil, fmt.Errorf("ruleset %s is loaded twice", rs.ID)
		}
		c.byID[rs.ID] = rs
		c.ordered = append(c.ordered, rs)
	}
	sort.Slice(c.ordered, func(i, j int) bool { return c.ordered[i].ID < c.ordered[j].ID })
	if _, ok := c.byID[defaultID]; !ok {
		return nil, fmt.Errorf("default ruleset %q is not loaded", defaultID)
	}
	return c, nil
}

// EmbeddedRulesets parses the rulesets compiled into the binary.
func EmbeddedRulesets() ([]*Ruleset, error) {
	return parseDir(embedded, "rulesets", "embedded:")
}

// LoadRulesetDir parses every *.json file in dir.
func LoadRulesetDir(dir string) ([]*Ruleset, error) {
	if info, err := os.Stat(dir); err != nil {
		return nil, fmt.Errorf("ruleset directory: %w", err)
	} else if !info.IsDir() {
		return nil, fmt.Errorf("ruleset directory %s is not a directory", dir)
	}
	return parseDir(os.DirFS(dir), ".", dir+string(filepath.Separator))
}

func parseDir(fsys fs.FS, dir, prefix string) ([]*Ruleset, error) {
	names, err := fs.Glob(fsys, pathJoin(dir, "*.json"))
	if err != nil {
		return nil, err
	}
	if len(names) == 0 {
		return nil, fmt.Errorf("no *.json ruleset files in %s", strings.TrimSuffix(prefix, string(filepath.Separator)))
	}
	var out []*Ruleset
	for _, name := range names {
		data, err := fs.ReadFile(fsys, name)
		if err != nil {
			return nil, err
		}
		rs, err := ParseRuleset(prefix+strings.TrimPrefix(name, "./"), data)
		if err != nil {
			return nil, err
		}
		out = append(out, rs)
	}
	return out, nil
}

func pathJoin(dir, name string) string {
	if dir == "." {
		return name
	}
	return dir + "/" + name
}

// DefaultCatalog is the catalog of the embedded rulesets with jilin-2014 as default.
func DefaultCatalog() (*Catalog, error) {
	rs, err := EmbeddedRulesets()
	if err != nil {
		return nil, err
	}
	return NewCatalog(DefaultRulesetID, rs...)
}

// Ruleset returns the ruleset with the ID, the default one for an empty ID,
// or a CodeNotFound error.
func (c *Catalog) Ruleset(id string) (*Ruleset, error) {
	if id == "" {
		id = c.defaultID
	}
	rs, ok := c.byID[id]
	if !ok {
		known := make([]string, len(c.ordered))
		for i, r := range c.ordered {
			known[i] = r.ID
		}
		return nil, Errorf(CodeNotFound, "no ruleset %q is loaded; loaded: %s", id, strings.Join(known, ", "))
	}
	return rs, nil
}

// Select returns the ruleset a request names (the default for an empty ID).
// Unlike Ruleset, an unknown ID is the caller's bad argument (CodeInvalid on
// field rulesetId), not a missing resource.
func (c *Catalog) Select(id string) (*Ruleset, error) {
	rs, err := c.Ruleset(id)
	if err != nil {
		return nil, InvalidFields(FieldViolation{Field: "rulesetId", Reason: AsError(err).Message})
	}
	return rs, nil
}

// Rulesets returns every ruleset ordered by ID.
func (c *Catalog) Rulesets() []*Ruleset { return c.ordered }

// DefaultID is the ID of the default ruleset.
func (c *Catalog) DefaultID() string { return c.defaultID }

// LoadCatalog builds a catalog of the embedded rulesets plus, when dir is not
// empty, every *.json ruleset in dir. A file in dir replaces an embedded
// ruleset of the same ID (so an office can correct a ruleset without a new
// release); the IDs replaced are returned so the caller can log them. An empty
// defaultID means DefaultRulesetID.
func LoadCatalog(defaultID, dir string) (*Catalog, []string, error) {
	if defaultID == "" {
		defaultID = DefaultRulesetID
	}
	base, err := EmbeddedRulesets()
	if err != nil {
		return nil, nil, err
	}
	var replaced []string
	if dir != "" {
		extra, err := LoadRulesetDir(dir)
		if err != nil {
			return nil, nil, err
		}
		seen := map[string]bool{}
		for _, rs := range extra {
			if seen[rs.ID] {
				return nil, nil, fmt.Errorf("ruleset %s is defined by more than one file in %s", rs.ID, dir)
			}
			seen[rs.ID] = true
		}
		kept := base[:0]
		for _, rs := range base {
			if seen[rs.ID] {
				replaced = append(replaced, rs.ID)
				continue
			}
			kept = append(kept, rs)
		}
		base = append(kept, extra...)
	}
	c, err := NewCatalog(defaultID, base...)
	return c, replaced, err
}
