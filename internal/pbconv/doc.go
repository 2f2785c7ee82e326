// Package pbconv converts between the domain types of package coverage and
// the coverage.v1 protobuf messages where both the server and the clients
// need the same conversion: a batch summary is built by the server for a
// stream and by the batch client for a whole run (over several servers and
// resumed runs), and the two must agree field for field.
package pbconv
