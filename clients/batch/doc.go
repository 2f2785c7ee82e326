// Package batch audits the settlements of a province (or a country) in one
// run: it reads them from JSONL, CSV or GeoJSON files, joins central areas
// and bus stops from side files by settlement ID, streams them through the
// AuditStream RPC on several streams spread over one or more servers, sends
// again what was in flight on a server that failed, and writes one result per
// settlement in input order, each appended whole, so that an interrupted run
// can be resumed without a torn, lost or doubled record. The summary over the
// batch, including the rules defined over a set of settlements, is computed
// from the results with the same domain code the server uses, so it covers
// every server and every resumed part of the run. The `coverage audit`
// command is a thin layer over Run; other Go programs can call it directly.
package batch
