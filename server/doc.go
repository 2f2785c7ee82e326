// Package server adapts the coverage domain to the network: the
// coverage.v1.CoverageService over gRPC (with health checking, reflection,
// structured request logs with request IDs, limits and deadlines, optional
// TLS, mutual TLS and bearer tokens, Prometheus metrics and panic recovery)
// and the REST/JSON gateway in front of it, which calls the same gRPC server
// (through an in-memory connection) so that both kinds of traffic pass the
// same interceptors. Domain errors become gRPC codes and HTTP statuses in one
// place (errors.go), with field-level details for bad input.
package server
