// Package cli implements the coverage command line: one-off checks of a
// settlement against a server and a look at its ruleset catalog. The main
// package in clients/cmd/coverage only wires it to the process.
package cli
