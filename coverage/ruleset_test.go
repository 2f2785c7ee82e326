package coverage

import (
	"bytes"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strings"
	"testing"
)

func embeddedJilin(t testing.TB) []byte {
	t.Helper()
	data, err := embedded.ReadFile("rulesets/jilin-2014.json")
	if err != nil {
		t.Fatalf("reading the embedded ruleset: %v", err)
	}
	return data
}

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return data
}

func TestDefaultCatalog(t *testing.T) {
	c, err := DefaultCatalog()
	if err != nil {
		t.Fatalf("DefaultCatalog: %v", err)
	}
	if c.DefaultID() != "jilin-2014" {
		t.Errorf("default ID = %q", c.DefaultID())
	}
	rs, err := c.Ruleset("")
	if err != nil {
		t.Fatalf("Ruleset(\"\"): %v", err)
	}
	byID, err := c.Ruleset("jilin-2014")
	if err != nil || byID != rs {
		t.Errorf("Ruleset(jilin-2014) = %p, %v; want the default %p", byID, err, rs)
	}
	if rs.ID != "jilin-2014" || rs.Version != "2014.1.0" || rs.Title == "" || rs.Source.Title == "" {
		t.Errorf("ruleset header = %q %q %q %q", rs.ID, rs.Version, rs.Title, rs.Source.Title)
	}
	var ids []string
	for _, r := range rs.Rules {
		ids = append(ids, r.ID)
	}
	if !slices.Equal(ids, jilinRuleIDs) {
		t.Errorf("rule IDs = %q, want %q", ids, jilinRuleIDs)
	}
	if len(c.Rulesets()) == 0 || c.Rulesets()[0].ID > c.Rulesets()[len(c.Rulesets())-1].ID {
		t.Errorf("Rulesets() = %d, not ordered by ID", len(c.Rulesets()))
	}
	for _, id := range jilinRuleIDs {
		if rs.Rule(id) == nil {
			t.Errorf("Rule(%s) = nil", id)
		}
	}
	if rs.Rule("NOPE") != nil {
		t.Errorf("Rule(NOPE) != nil")
	}
}

func readStandards(t *testing.T) []byte {
	t.Helper()
	data, err := os.ReadFile(filepath.Join("..", "docs", "standards.md"))
	if err != nil {
		t.Fatalf("reading docs/standards.md: %v", err)
	}
	return data
}

var standardsIDPattern = regexp.MustCompile("`((?:T18|T19|G)-[A-Z0-9-]+)`")

// TestRulesetCoversStandardsDoc: every rule ID in docs/standards.md is a rule
// of jilin-2014.
func TestRulesetCoversStandardsDoc(t *testing.T) {
	rs := jilin(t)
	doc := readStandards(t)
	var ids []string
	for _, m := range standardsIDPattern.FindAllSubmatch(doc, -1) {
		if id := string(m[1]); !slices.Contains(ids, id) {
			ids = append(ids, id)
		}
	}
	if len(ids) < len(jilinRuleIDs) {
		t.Fatalf("found only %d rule IDs in docs/standards.md: %q", len(ids), ids)
	}
	for _, id := range ids {
		if rs.Rule(id) == nil {
			t.Errorf("rule %s of docs/standards.md is not in jilin-2014", id)
		}
	}
}

// TestRulesetCitesStandardsWording: each rule's citation holds the original
// wording docs/standards.md gives for it.
func TestRulesetCitesStandardsWording(t *testing.T) {
	rs := jilin(t)
	row := regexp.MustCompile("(?m)^\\| `((?:T18|T19|G)-[A-Z0-9-]+)` \\| ([^|]+) \\|")
	rows := row.FindAllSubmatch(readStandards(t), -1)
	if len(rows) < len(jilinRuleIDs) {
		t.Fatalf("found %d table rows in docs/standards.md", len(rows))
	}
	for _, m := range rows {
		id, original := string(m[1]), strings.Trim(strings.TrimSpace(string(m[2])), "…")
		t.Run(id, func(t *testing.T) {
			r := rs.Rule(id)
			if r == nil {
				t.Fatalf("no rule %s", id)
			}
			if !strings.Contains(r.Citation.OriginalText, original) {
				t.Errorf("citation %q does not contain the wording %q", r.Citation.OriginalText, original)
			}
		})
	}
}

func TestStandardsDocMatchesShared(t *testing.T) {
	shared, err := os.ReadFile(filepath.Join("..", "..", "shared", "standards.md"))
	if errors.Is(err, os.ErrNotExist) {
		t.Skip("../../shared/standards.md does not exist")
	}
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(readStandards(t), shared) {
		t.Errorf("docs/standards.md differs from ../shared/standards.md")
	}
}

// TestRulesetTiers: 以上 includes the boundary, 以下 excludes it.
func TestRulesetTiers(t *testing.T) {
	rs := jilin(t)
	cases := []struct {
		p    int64
		tier string
	}{
		{0, "SMALL"}, {499_999, "SMALL"}, {500_000, "MEDIUM"}, {1_999_999, "MEDIUM"},
		{2_000_000, "LARGE"}, {1 << 62, "LARGE"},
	}
	for _, c := range cases {
		t.Run(group(c.p), func(t *testing.T) {
			tier := rs.TierFor(c.p)
			if tier == nil || tier.ID != c.tier {
				t.Errorf("TierFor(%d) = %+v, want %s", c.p, tier, c.tier)
			}
		})
	}
}

// TestRulesetVehicleClasses: the 标台 table of docs/standards.md, as data.
func TestRulesetVehicleClasses(t *testing.T) {
	rs := jilin(t)
	want := []struct {
		id       string
		min, max *float64
		coef     float64
	}{
		{"LENGTH_UP_TO_5M", nil, Float64(5), 0.5},
		{"LENGTH_5_7M", Float64(5), Float64(7), 0.7},
		{"LENGTH_7_10M", Float64(7), Float64(10), 1.0},
		{"LENGTH_10_13M", Float64(10), Float64(13), 1.3},
		{"LENGTH_13_16M", Float64(13), Float64(16), 1.7},
		{"LENGTH_16_18M", Float64(16), Float64(18), 2.0},
		{"LENGTH_OVER_18M", Float64(18), nil, 2.5},
		{"DOUBLE_DECKER", nil, nil, 1.9},
		{"METRO_CAR", nil, nil, 2.5},
	}
	if len(rs.VehicleClasses) != len(want) {
		t.Fatalf("%d vehicle classes, want %d", len(rs.VehicleClasses), len(want))
	}
	for i, w := range want {
		t.Run(w.id, func(t *testing.T) {
			g := rs.VehicleClasses[i]
			if g.ID != w.id || g.Coefficient != w.coef || !reflect.DeepEqual(g.MinLengthM, w.min) || !reflect.DeepEqual(g.MaxLengthM, w.max) {
				t.Errorf("class %d = {%s %s–%s %v}, want {%s %s–%s %v}", i, g.ID, ptrString(g.MinLengthM), ptrString(g.MaxLengthM), g.Coefficient,
					w.id, ptrString(w.min), ptrString(w.max), w.coef)
			}
		})
	}
}

// TestParseRulesetRoundTrip: the parsed ruleset encodes to JSON that parses
// to the same ruleset (the file and the catalog RPC speak one structure).
func TestParseRulesetRoundTrip(t *testing.T) {
	rs, err := ParseRuleset("embedded:rulesets/jilin-2014.json", embeddedJilin(t))
	if err != nil {
		t.Fatal(err)
	}
	data, err := json.Marshal(rs)
	if err != nil {
		t.Fatal(err)
	}
	again, err := ParseRuleset("round-trip.json", data)
	if err != nil {
		t.Fatalf("re-parsing: %v", err)
	}
	if !reflect.DeepEqual(rs, again) {
		t.Errorf("round trip changed the ruleset")
	}
}

func TestParseRulesetAccepts(t *testing.T) {
	cases := []struct {
		name string
		data []byte
	}{
		{"embedded", embeddedJilin(t)},
		{"trailing whitespace", append(slices.Clone(embeddedJilin(t)), " \n\t\r\n"...)},
		{"leading whitespace", append([]byte("\n  "), embeddedJilin(t)...)},
		{"fixture", readTestdata(t, "extra-ruleset.json")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			if _, err := ParseRuleset(c.name+".json", c.data); err != nil {
				t.Errorf("ParseRuleset: %v", err)
			}
		})
	}
}

// mutateJilin decodes the embedded ruleset into generic JSON, applies f and
// encodes it again.
func mutateJilin(t *testing.T, f func(doc map[string]any)) []byte {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(embeddedJilin(t)))
	dec.UseNumber()
	var doc map[string]any
	if err := dec.Decode(&doc); err != nil {
		t.Fatal(err)
	}
	f(doc)
	data, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return data
}

type jsonObj = map[string]any

func ruleObj(doc jsonObj, id string) jsonObj {
	for _, r := range doc["rules"].([]any) {
		if r.(jsonObj)["id"] == id {
			return r.(jsonObj)
		}
	}
	panic("no rule " + id)
}

func thresholdObj(doc jsonObj, id string, i int) jsonObj {
	return ruleObj(doc, id)["thresholds"].([]any)[i].(jsonObj)
}

func actionObj(doc jsonObj, id string) jsonObj {
	return ruleObj(doc, id)["action"].(jsonObj)
}

func tierObj(doc jsonObj, id string) jsonObj {
	for _, tr := range doc["tiers"].([]any) {
		if tr.(jsonObj)["id"] == id {
			return tr.(jsonObj)
		}
	}
	panic("no tier " + id)
}

func TestParseRulesetRejects(t *testing.T) {
	const unknownFieldBug = "ParseRuleset (ruleset.go, dec.Decode) passes encoding/json's decode error through, which names neither the rule nor its index (\"json: unknown field \\\"bogus\\\"\", \"Go struct field Rule.rules.radiusM\"), although its doc comment promises every error names the file, the rule and the field"
	cases := []struct {
		name string
		data func(t *testing.T) []byte
		// want are substrings of the error after "ruleset <file>: ".
		want []string
		// rule, when set, must be named as "rule <ID>" (a separate assertion so
		// a known bug can skip just this part).
		rule     string
		knownBug string
	}{
		{"unknown top-level field", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { d["bogus"] = 1 })
		}, []string{`unknown field "bogus"`}, "", ""},
		{"unknown rule field", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { ruleObj(d, "T18-PARKING")["bogus"] = 1 })
		}, []string{`unknown field "bogus"`}, "T18-PARKING", unknownFieldBug},
		{"unknown threshold field", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { thresholdObj(d, "T19-ELDERLY-BEDS", 0)["bogus"] = 1 })
		}, []string{`unknown field "bogus"`}, "T19-ELDERLY-BEDS", unknownFieldBug},
		{"unknown rule field (fixture)", func(t *testing.T) []byte {
			return readTestdata(t, "broken-unknown-rule-field.json")
		}, []string{`unknown field "threshold"`}, "X-ELDERLY-BEDS-40", unknownFieldBug},
		{"wrong type", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { ruleObj(d, "T18-STOP-COVERAGE-300M")["radiusM"] = "300" })
		}, []string{"radiusM"}, "T18-STOP-COVERAGE-300M", unknownFieldBug},
		{"tiered rule missing a tier's threshold", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) {
				r := ruleObj(d, "T18-BUS-SPEED")
				r["thresholds"] = r["thresholds"].([]any)[:2]
			})
		}, []string{"thresholds: no threshold for tier SMALL"}, "T18-BUS-SPEED", ""},
		{"threshold for an unknown tier", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { thresholdObj(d, "T18-FLEET-PER-10K", 0)["tier"] = "HUGE" })
		}, []string{`thresholds[0].tier: unknown tier "HUGE"`, "no threshold for tier LARGE"}, "T18-FLEET-PER-10K", ""},
		{"tiered threshold without a tier", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { delete(thresholdObj(d, "T18-FLEET-PER-10K", 1), "tier") })
		}, []string{"thresholds[1].tier: a tiered rule needs a tier on every threshold"}, "T18-FLEET-PER-10K", ""},
		{"tier on a rule that is not tiered", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { thresholdObj(d, "T18-DEPOT-AREA", 0)["tier"] = "LARGE" })
		}, []string{"thresholds[0].tier: the rule is not tiered"}, "T18-DEPOT-AREA", ""},
		{"tiered rule on the resident population", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) {
				ruleObj(d, "T18-STOP-COVERAGE-300M")["populationBasis"] = "POPULATION_BASIS_RESIDENT"
			})
		}, []string{"populationBasis"}, "T18-STOP-COVERAGE-300M", ""},
		{"overlapping tiers", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { tierObj(d, "MEDIUM")["minPopulation"] = 400000 })
		}, []string{"tiers: a population of", "falls in 2 tiers"}, "", ""},
		{"gap between tiers", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { tierObj(d, "MEDIUM")["minPopulation"] = 600000 })
		}, []string{"tiers: a population of", "falls in 0 tiers"}, "", ""},
		{"gap at the top", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { tierObj(d, "LARGE")["minPopulation"] = 2000001 })
		}, []string{"tiers: a population of 2000000 falls in 0 tiers"}, "", ""},
		{"duplicate tier", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { tierObj(d, "SMALL")["id"] = "MEDIUM" })
		}, []string{`tiers[2].id: duplicate tier "MEDIUM"`}, "", ""},
		{"unknown metric", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { ruleObj(d, "T19-VOCATIONAL")["metric"] = "METRIC_BOGUS" })
		}, []string{`metric: unknown metric "METRIC_BOGUS"`}, "T19-VOCATIONAL", ""},
		{"unknown kind in appliesTo", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) {
				a := ruleObj(d, "T18-PARKING")["appliesTo"].(jsonObj)
				a["kinds"] = append(a["kinds"].([]any), "SETTLEMENT_KIND_VILLAGE")
			})
		}, []string{`appliesTo.kinds[3]: unknown settlement kind "SETTLEMENT_KIND_VILLAGE"`}, "T18-PARKING", ""},
		{"negative threshold", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { thresholdObj(d, "T19-ELDERLY-BEDS", 0)["value"] = -36 })
		}, []string{"thresholds[0].value: must not be negative"}, "T19-ELDERLY-BEDS", ""},
		{"upper below value", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { thresholdObj(d, "T18-PARKING", 0)["upper"] = 20 })
		}, []string{"thresholds[0].upper: must be at least value"}, "T18-PARKING", ""},
		{"empty population band", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { thresholdObj(d, "T19-COMMUNITY-HEALTH-STATION", 0)["minPopulation"] = 20000 })
		}, []string{"thresholds[0]: minPopulation must be below maxPopulation"}, "T19-COMMUNITY-HEALTH-STATION", ""},
		{"population bands without a basis", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { delete(ruleObj(d, "T19-COMMUNITY-HEALTH-STATION"), "populationBasis") })
		}, []string{"thresholds[0]: population bands need the rule's populationBasis"}, "T19-COMMUNITY-HEALTH-STATION", ""},
		{"zero population per unit", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { thresholdObj(d, "T19-COMMUNITY-HEALTH-CENTRE", 1)["populationPerUnit"] = 0 })
		}, []string{"thresholds[1].populationPerUnit: must be positive"}, "T19-COMMUNITY-HEALTH-CENTRE", ""},
		{"no thresholds", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { ruleObj(d, "T19-VOCATIONAL")["thresholds"] = []any{} })
		}, []string{"thresholds: at least one is required"}, "T19-VOCATIONAL", ""},
		{"duplicate rule IDs", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { ruleObj(d, "T18-ITS")["id"] = "T18-ROAD-HIERARCHY" })
		}, []string{"duplicate rule ID"}, "T18-ROAD-HIERARCHY", ""},
		{"invalid rule ID", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { ruleObj(d, "T18-ITS")["id"] = "T18 ITS" })
		}, []string{`id: "T18 ITS" is not a valid rule ID`}, "T18 ITS", ""},
		{"unknown topic", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { ruleObj(d, "T18-ITS")["topic"] = "TOPIC_WEATHER" })
		}, []string{`topic: unknown topic "TOPIC_WEATHER"`}, "T18-ITS", ""},
		{"unknown comparison", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { ruleObj(d, "T18-ITS")["comparison"] = "COMPARISON_ABOUT" })
		}, []string{`comparison: unknown comparison "COMPARISON_ABOUT"`}, "T18-ITS", ""},
		{"missing citation wording", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { ruleObj(d, "G-URBANISATION")["citation"].(jsonObj)["originalText"] = "" })
		}, []string{"citation: document, section, originalText and englishText are required"}, "G-URBANISATION", ""},
		{"missing title", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { ruleObj(d, "G-URBANISATION")["title"] = " " })
		}, []string{"title: required"}, "G-URBANISATION", ""},
		{"unknown facility type", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { ruleObj(d, "T19-CULTURE")["facilities"].([]any)[2] = "FACILITY_TYPE_ZOO" })
		}, []string{`facilities[2]: unknown facility type "FACILITY_TYPE_ZOO"`}, "T19-CULTURE", ""},
		{"facility rule without facilities", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { delete(ruleObj(d, "T19-MCH-HOSPITAL"), "facilities") })
		}, []string{"facilities: a facility-count rule names at least one facility type"}, "T19-MCH-HOSPITAL", ""},
		{"facilities on another metric", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { ruleObj(d, "T18-BUS-SPEED")["facilities"] = []any{"FACILITY_TYPE_MUSEUM"} })
		}, []string{"facilities: only facility-count rules name facilities"}, "T18-BUS-SPEED", ""},
		{"declared-fact rule without a fact", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { delete(ruleObj(d, "T18-ITS"), "declaredFact") })
		}, []string{"declaredFact: required for, and only for, METRIC_DECLARED_FACT"}, "T18-ITS", ""},
		{"unknown declared fact", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { ruleObj(d, "T18-ITS")["declaredFact"] = "DECLARED_FACT_NOPE" })
		}, []string{`declaredFact: unknown fact "DECLARED_FACT_NOPE"`}, "T18-ITS", ""},
		{"coverage rule without a radius", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { delete(ruleObj(d, "T18-STOP-COVERAGE-300M"), "radiusM") })
		}, []string{"radiusM: a coverage rule needs a positive radius in metres"}, "T18-STOP-COVERAGE-300M", ""},
		{"radius on another rule", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { ruleObj(d, "T18-BUS-SPEED")["radiusM"] = 300 })
		}, []string{"radiusM: only coverage rules have a radius"}, "T18-BUS-SPEED", ""},
		{"aggregate share above 1", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { ruleObj(d, "T19-KINDERGARTEN")["aggregateMinShare"] = 1.5 })
		}, []string{"aggregateMinShare: must be in (0, 1], got 1.5"}, "T19-KINDERGARTEN", ""},
		{"no vehicle classes for fleet rules", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { delete(d, "vehicleClasses") })
		}, []string{"rule T18-FLEET-PER-10K: metric: fleet rules need the ruleset's vehicleClasses table",
			"rule T18-DEPOT-AREA: metric: fleet rules need the ruleset's vehicleClasses table"}, "", ""},
		{"zero coefficient", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { d["vehicleClasses"].([]any)[0].(jsonObj)["coefficient"] = 0 })
		}, []string{"vehicleClasses[0] (LENGTH_UP_TO_5M).coefficient: must be a positive number"}, "", ""},
		{"overlapping length bands", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { d["vehicleClasses"].([]any)[1].(jsonObj)["minLengthM"] = 4 })
		}, []string{"vehicleClasses: length bands of LENGTH_UP_TO_5M and LENGTH_5_7M overlap"}, "", ""},
		{"action: unknown vehicle class", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { actionObj(d, "T18-FLEET-PER-10K")["vehicleClass"] = "LENGTH_12M" })
		}, []string{`action.vehicleClass: unknown vehicle class "LENGTH_12M"; the ruleset's vehicleClasses are: LENGTH_UP_TO_5M, LENGTH_5_7M, LENGTH_7_10M, LENGTH_10_13M,`}, "T18-FLEET-PER-10K", ""},
		{"action: vehicle class on another metric", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { actionObj(d, "T18-DEPOT-AREA")["vehicleClass"] = "LENGTH_10_13M" })
		}, []string{"action.vehicleClass: only a fleet rule (METRIC_FLEET_UNITS_PER_10K) converts its shortfall to vehicles"}, "T18-DEPOT-AREA", ""},
		{"action: missing kind", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { delete(actionObj(d, "T19-ELDERLY-BEDS"), "kind") })
		}, []string{"action.kind: required"}, "T19-ELDERLY-BEDS", ""},
		{"action: kind not an ID", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { actionObj(d, "T19-ELDERLY-BEDS")["kind"] = "add beds" })
		}, []string{`action.kind: "add beds" is not a valid action kind`}, "T19-ELDERLY-BEDS", ""},
		{"action: missing units", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) {
				a := actionObj(d, "T18-PARKING")
				delete(a, "unit")
				a["unitZh"] = " "
			})
		}, []string{"action.unit: required", "action.unitZh: required"}, "T18-PARKING", ""},
		{"action: missing texts", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) {
				a := actionObj(d, "T18-BUS-SPEED")
				delete(a, "text")
				a["textZh"] = ""
			})
		}, []string{"action.text: required", "action.textZh: required"}, "T18-BUS-SPEED", ""},
		{"action: unknown placeholder", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { actionObj(d, "T19-ELDERLY-BEDS")["text"] = "add {beds} elderly-care beds" })
		}, []string{"action.text: unknown placeholder {beds}; a METRIC_ELDERLY_BEDS_PER_1000 rule may use {quantity}, {unit}"}, "T19-ELDERLY-BEDS", ""},
		{"action: placeholder of another metric", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) {
				actionObj(d, "T18-PARKING")["textZh"] = "新增{facility}{quantity}个，半径{radiusM}米"
			})
		}, []string{"action.textZh: placeholder {facility} has no value for a METRIC_PARKING_PER_100_VEHICLES rule",
			"action.textZh: placeholder {radiusM} has no value"}, "T18-PARKING", ""},
		{"action: standard units without a vehicle class", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { delete(actionObj(d, "T18-FLEET-PER-10K"), "vehicleClass") })
		}, []string{"action.text: placeholder {standardUnits} has no value for a METRIC_FLEET_UNITS_PER_10K rule without action.vehicleClass"}, "T18-FLEET-PER-10K", ""},
		{"action: unclosed placeholder", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { actionObj(d, "T18-PARKING")["text"] = "add {quantity public parking spaces" })
		}, []string{`action.text: unclosed placeholder at "{quantity public parking spaces"`}, "T18-PARKING", ""},
		{"action: on a report-only rule", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) {
				ruleObj(d, "T19-VOCATIONAL")["action"] = jsonObj{"kind": "ADD_PLACES", "unit": "places", "unitZh": "个", "text": "add {quantity} places", "textZh": "新增{quantity}个"}
			})
		}, []string{"action: a report-only rule has no shortfall to act on"}, "T19-VOCATIONAL", ""},
		{"action: facility types not named", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { actionObj(d, "T19-CULTURE")["text"] = "build {quantity} cultural facilities" })
		}, []string{"action.text: a rule on 3 facility types must name the type ({facility})"}, "T19-CULTURE", ""},
		{"action: facility without a Chinese name", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { d["facilityNames"] = d["facilityNames"].([]any)[:9] })
		}, []string{"rule T19-CULTURE: action.textZh: {facility} needs the Chinese name of FACILITY_TYPE_MUSEUM in the ruleset's facilityNames"}, "", ""},
		{"action: one kind in two units", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { actionObj(d, "T19-KINDERGARTEN")["unitZh"] = "个" })
		}, []string{`rule T19-KINDERGARTEN: action: kind BUILD_FACILITY has unit "facilities" / "所", vehicle class "" in rule T19-COUNTY-GENERAL-HOSPITAL but "facilities" / "个", "" here`}, "", ""},
		{"action: unknown field", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { actionObj(d, "T18-ITS")["quantity"] = 1 })
		}, []string{`unknown field "quantity"`}, "T18-ITS", ""},
		{"facility names: unknown, duplicate, unnamed", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) {
				names := d["facilityNames"].([]any)
				names[0].(jsonObj)["facility"] = "FACILITY_TYPE_ZOO"
				names[2].(jsonObj)["facility"] = "FACILITY_TYPE_TCM_HOSPITAL"
				names[3].(jsonObj)["nameZh"] = ""
			})
		}, []string{`facilityNames[0].facility: unknown facility type "FACILITY_TYPE_ZOO"`,
			"facilityNames[2].facility: FACILITY_TYPE_TCM_HOSPITAL is named twice",
			"facilityNames[3] (FACILITY_TYPE_COMMUNITY_HEALTH_CENTRE).nameZh: required"}, "", ""},
		{"invalid ruleset ID", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { d["id"] = "jilin 2014" })
		}, []string{`id: "jilin 2014" is not a valid ruleset ID`}, "", ""},
		{"missing version", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { delete(d, "version") })
		}, []string{"version: required"}, "", ""},
		{"no rules", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) { d["rules"] = []any{} })
		}, []string{"rules: a ruleset needs at least one rule"}, "", ""},
		{"several problems reported together", func(t *testing.T) []byte {
			return mutateJilin(t, func(d jsonObj) {
				ruleObj(d, "T19-VOCATIONAL")["metric"] = "METRIC_BOGUS"
				thresholdObj(d, "T19-ELDERLY-BEDS", 0)["value"] = -1
			})
		}, []string{"rule T19-VOCATIONAL: metric", "rule T19-ELDERLY-BEDS: thresholds[0].value"}, "", ""},
		{"trailing object", func(t *testing.T) []byte {
			return append(slices.Clone(embeddedJilin(t)), "{}"...)
		}, []string{"unexpected data after the ruleset object"}, "", ""},
		{"trailing garbage", func(t *testing.T) []byte {
			return append(slices.Clone(embeddedJilin(t)), "\nx"...)
		}, []string{"unexpected data after the ruleset object"}, "", ""},
		{"trailing brace", func(t *testing.T) []byte {
			return append(slices.Clone(embeddedJilin(t)), "}"...)
		}, []string{"unexpected data after the ruleset object"}, "", ""},
		{"trailing second ruleset (fixture)", func(t *testing.T) []byte {
			return readTestdata(t, "broken-trailing-data.json")
		}, []string{"unexpected data after the ruleset object"}, "", ""},
		{"empty file", func(t *testing.T) []byte { return nil }, []string{"EOF"}, "", ""},
		{"not an object", func(t *testing.T) []byte { return []byte("[]") }, []string{"cannot unmarshal array"}, "", ""},
		{"null", func(t *testing.T) []byte { return []byte("null") }, []string{"id:", "title: required", "rules:"}, "", ""},
		{"truncated", func(t *testing.T) []byte {
			d := embeddedJilin(t)
			return d[:len(d)/2]
		}, []string{"unexpected EOF"}, "", ""},
	}
	for i, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			file := filepath.Join("testdata", "case-"+group(int64(i))+".json")
			rs, err := ParseRuleset(file, c.data(t))
			if err == nil {
				t.Fatalf("ParseRuleset accepted the ruleset (%d rules)", len(rs.Rules))
			}
			if rs != nil {
				t.Errorf("ParseRuleset returned a ruleset with the error")
			}
			msg := err.Error()
			if !strings.HasPrefix(msg, "ruleset "+file+": ") {
				t.Errorf("error %q does not start by naming the file %s", msg, file)
			}
			for _, w := range c.want {
				if !strings.Contains(msg, w) {
					t.Errorf("error %q does not contain %q", msg, w)
				}
			}
			if c.rule == "" {
				return
			}
			if !strings.Contains(msg, "rule "+c.rule) {
				t.Errorf("error %q does not name rule %s", msg, c.rule)
			}
		})
	}
}

func writeFile(t *testing.T, dir, name string, data []byte) string {
	t.Helper()
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, data, 0o644); err != nil {
		t.Fatal(err)
	}
	return p
}

func TestLoadCatalog(t *testing.T) {
	t.Run("embedded only", func(t *testing.T) {
		c, replaced, err := LoadCatalog("", "")
		if err != nil {
			t.Fatal(err)
		}
		if len(replaced) != 0 || c.DefaultID() != "jilin-2014" {
			t.Errorf("replaced %q, default %q", replaced, c.DefaultID())
		}
		if _, err := c.Ruleset("jilin-2014"); err != nil {
			t.Error(err)
		}
	})
	t.Run("extra ruleset added", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "extra.json", readTestdata(t, "extra-ruleset.json"))
		c, replaced, err := LoadCatalog("", dir)
		if err != nil {
			t.Fatal(err)
		}
		if len(replaced) != 0 {
			t.Errorf("replaced = %q, want none", replaced)
		}
		var ids []string
		for _, rs := range c.Rulesets() {
			ids = append(ids, rs.ID)
		}
		if !slices.Equal(ids, []string{"jilin-2014", "test-extra"}) {
			t.Errorf("rulesets = %q", ids)
		}
		if def, _ := c.Ruleset(""); def == nil || def.ID != "jilin-2014" {
			t.Errorf("default = %+v", def)
		}
		extra, err := c.Ruleset("test-extra")
		if err != nil {
			t.Fatal(err)
		}
		// The loaded ruleset evaluates with its own threshold.
		a, err := extra.Evaluate(&Settlement{Kind: KindTown, ElderlyPopulation: Int64(12000), ElderlyCareBeds: Int64(300)})
		if err != nil {
			t.Fatal(err)
		}
		if len(a.Results) != 1 || a.RulesetID != "test-extra" {
			t.Fatalf("audit = %+v", a)
		}
		r := a.Results[0]
		if r.Status != StatusNonCompliant || *r.Threshold != 40 || *r.Shortfall != 180 {
			t.Errorf("result = %s threshold %s shortfall %s, want non-compliant 40 / 180", r.Status, ptrString(r.Threshold), ptrString(r.Shortfall))
		}
	})
	t.Run("extra ruleset as default", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "extra.json", readTestdata(t, "extra-ruleset.json"))
		c, _, err := LoadCatalog("test-extra", dir)
		if err != nil {
			t.Fatal(err)
		}
		if def, _ := c.Ruleset(""); c.DefaultID() != "test-extra" || def == nil || def.ID != "test-extra" {
			t.Errorf("default = %q", c.DefaultID())
		}
	})
	t.Run("jilin-2014 replaced", func(t *testing.T) {
		dir := t.TempDir()
		data := mutateJilin(t, func(d jsonObj) {
			d["version"] = "2014.1.1-local"
			thresholdObj(d, "T19-ELDERLY-BEDS", 0)["value"] = 35
		})
		writeFile(t, dir, "jilin-local.json", data)
		c, replaced, err := LoadCatalog("", dir)
		if err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(replaced, []string{"jilin-2014"}) {
			t.Errorf("replaced = %q, want [jilin-2014]", replaced)
		}
		if len(c.Rulesets()) != 1 {
			t.Errorf("%d rulesets, want 1", len(c.Rulesets()))
		}
		rs, err := c.Ruleset("")
		if err != nil {
			t.Fatal(err)
		}
		if rs.Version != "2014.1.1-local" || rs.Rule("T19-ELDERLY-BEDS").Thresholds[0].Value != 35 {
			t.Errorf("default ruleset is version %q, not the replacement", rs.Version)
		}
		// The embedded catalog itself is unchanged.
		def, _ := DefaultCatalog()
		if orig, _ := def.Ruleset(""); orig.Version != "2014.1.0" {
			t.Errorf("embedded version = %q", orig.Version)
		}
	})
	t.Run("invalid file names its path", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "a-extra.json", readTestdata(t, "extra-ruleset.json"))
		bad := writeFile(t, dir, "broken.json", readTestdata(t, "broken-unknown-rule-field.json"))
		c, _, err := LoadCatalog("", dir)
		if err == nil {
			t.Fatalf("LoadCatalog accepted %s (%d rulesets)", bad, len(c.Rulesets()))
		}
		if !strings.Contains(err.Error(), bad) {
			t.Errorf("error %q does not name %s", err, bad)
		}
	})
	t.Run("the same ID twice", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "one.json", readTestdata(t, "extra-ruleset.json"))
		writeFile(t, dir, "two.json", readTestdata(t, "extra-ruleset.json"))
		if _, _, err := LoadCatalog("", dir); err == nil || !strings.Contains(err.Error(), "test-extra") {
			t.Errorf("err = %v, want one naming test-extra", err)
		}
	})
	t.Run("empty directory", func(t *testing.T) {
		dir := t.TempDir()
		writeFile(t, dir, "README.txt", []byte("not a ruleset"))
		if _, _, err := LoadCatalog("", dir); err == nil || !strings.Contains(err.Error(), dir) {
			t.Errorf("err = %v, want one naming %s", err, dir)
		}
	})
	t.Run("missing directory", func(t *testing.T) {
		dir := filepath.Join(t.TempDir(), "nope")
		if _, _, err := LoadCatalog("", dir); err == nil {
			t.Errorf("LoadCatalog accepted a missing directory")
		}
	})
	t.Run("unknown default", func(t *testing.T) {
		if _, _, err := LoadCatalog("nope", ""); err == nil || !strings.Contains(err.Error(), "nope") {
			t.Errorf("err = %v, want one naming nope", err)
		}
	})
}

func TestCatalogLookup(t *testing.T) {
	c, err := DefaultCatalog()
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name   string
		lookup func(string) (*Ruleset, error)
		id     string
		code   ErrorCode // 0: success
		field  string
	}{
		{"Select empty is default", c.Select, "", 0, ""},
		{"Select jilin-2014", c.Select, "jilin-2014", 0, ""},
		{"Select unknown", c.Select, "nope", CodeInvalid, "rulesetId"},
		{"Ruleset empty is default", c.Ruleset, "", 0, ""},
		{"Ruleset unknown", c.Ruleset, "nope", CodeNotFound, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rs, err := tc.lookup(tc.id)
			if tc.code == 0 {
				if err != nil || rs == nil || rs.ID != "jilin-2014" {
					t.Errorf("= %v, %v; want jilin-2014", rs, err)
				}
				return
			}
			var e *Error
			if !errors.As(err, &e) {
				t.Fatalf("error %T %v, want *Error", err, err)
			}
			if rs != nil || e.Code != tc.code {
				t.Errorf("code = %v, want %v", e.Code, tc.code)
			}
			if !strings.Contains(e.Error(), "nope") || !strings.Contains(e.Error(), "jilin-2014") {
				t.Errorf("error %q should name the unknown ID and the loaded ones", e.Error())
			}
			var fields []string
			for _, v := range e.Violations {
				fields = append(fields, v.Field)
			}
			if tc.field == "" && len(fields) != 0 || tc.field != "" && !slices.Equal(fields, []string{tc.field}) {
				t.Errorf("violations = %q, want [%s]", fields, tc.field)
			}
		})
	}
}

func TestNewCatalog(t *testing.T) {
	rs := jilin(t)
	if _, err := NewCatalog("jilin-2014", rs, rs); err == nil {
		t.Errorf("NewCatalog accepted a ruleset twice")
	}
	if _, err := NewCatalog("other", rs); err == nil {
		t.Errorf("NewCatalog accepted an unknown default")
	}
	if c, err := NewCatalog("jilin-2014", rs); err != nil || c.DefaultID() != "jilin-2014" {
		t.Errorf("NewCatalog = %v", err)
	}
}

func TestErrorHelpers(t *testing.T) {
	cases := []struct {
		name string
		err  error
		code ErrorCode
		text string
	}{
		{"nil", nil, 0, ""},
		{"domain", Errorf(CodeNotFound, "no %s", "x"), CodeNotFound, "no x"},
		{"wrapped domain", errors.Join(errors.New("ctx"), InvalidFields(FieldViolation{"f", "bad"})), CodeInvalid, "invalid argument: f: bad"},
		{"foreign", errors.New("disk on fire"), CodeInternal, "disk on fire"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			e := AsError(c.err)
			if c.err == nil {
				if e != nil {
					t.Errorf("AsError(nil) = %v", e)
				}
				return
			}
			if e.Code != c.code || e.Error() != c.text {
				t.Errorf("AsError = %v %q, want %v %q", e.Code, e.Error(), c.code, c.text)
			}
		})
	}
	names := map[ErrorCode]string{CodeInvalid: "invalid", CodeNotFound: "not found", CodeUnimplemented: "unimplemented", CodeInternal: "internal", 99: "code(99)"}
	for code, want := range names {
		if code.String() != want {
			t.Errorf("%d.String() = %q, want %q", int(code), code.String(), want)
		}
	}
}
