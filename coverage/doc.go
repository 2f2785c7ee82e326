// Package coverage is the domain of the public-service coverage calculator:
// settlements, rulesets and the evaluation of one against the other. A ruleset
// is data (thresholds, tiers, citations, conversion tables, the actions that
// close a shortfall) loaded from a JSON file, with the jilin-2014 ruleset
// embedded as the default; the code here computes the metrics each rule names,
// holds them against the thresholds the ruleset sets, and turns shortfalls
// into the actions the ruleset describes. The package is plain Go with no
// transport concerns, so a batch job can use it in-process; the gRPC and REST
// adapters live in server/.
package coverage
