// Package web is the browser client of the coverage service: a page, its
// scripts and its styles, embedded in the binary and served by Handler beside
// the REST gateway, so that a planner can pick a ruleset, load a settlement
// from the bundled samples, a form or a file, audit it, and read the verdicts
// and the bus-stop coverage map without installing anything. The page calls
// only the REST routes under /v1 on its own origin, draws the map itself in a
// local projection (no tile server, no script from elsewhere), and speaks
// English and Chinese.
package web
