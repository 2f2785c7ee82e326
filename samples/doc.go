// Package samples embeds ready-made settlement sets, so that a province can be
// audited without first assembling data: each set is a folder holding one
// coverage.v1.Settlement per line in settlements.jsonl, the same settlements
// as a flat settlements.csv with central areas and bus stops in side files
// (central-areas.geojson, bus-stops.csv), and a README.md that says which
// figures are real, with their sources and licences, and which are
// illustrative. The set "jilin" holds the cities, counties and key small towns
// that the Jilin Province New-type Urbanization Plan (2014–2020) names.
package samples
