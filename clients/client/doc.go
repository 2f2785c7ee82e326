// Package client is the Go client of the coverage.v1 API, for other Go
// programs and for the coverage CLI: Dial connects to a coverage server with
// optional TLS and a bearer token, applies a default deadline to every call,
// retries the idempotent calls on UNAVAILABLE, and returns errors as *Error
// with the field violations the server reported.
package client
