// Package client is the Go client of the coverage.v1 API, for other Go
// programs and for the coverage CLI: Dial connects to one coverage server, a
// list of them, or a DNS name with several addresses, spreading calls and
// streams over every server round-robin; it takes optional TLS and a bearer
// token, applies a default deadline to every unary call, retries the calls
// (all read-only) on UNAVAILABLE, notices a server that vanished without
// closing its connections by keepalive pings, and returns errors, from calls
// and streams alike, as *Error with the field violations the server reported.
package client
