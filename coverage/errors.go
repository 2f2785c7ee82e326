package coverage

import (
	"errors"
	"fmt"
	"strings"
)

// ErrorCode classifies domain errors; server/ maps each code to one gRPC code
// and HTTP status.
type ErrorCode int

const (
	// CodeInvalid: the caller's input is wrong; Violations say where.
	CodeInvalid ErrorCode = iota + 1
	// CodeNotFound: a named ruleset (or other resource) does not exist.
	CodeNotFound
	// CodeUnimplemented: the request is valid but this version cannot answer it.
	CodeUnimplemented
	// CodeInternal: a fault of the service, never of the caller.
	CodeInternal
)

// String names the code.
func (c ErrorCode) String() string {
	switch c {
	case CodeInvalid:
		return "invalid"
	case CodeNotFound:
		return "not found"
	case CodeUnimplemented:
		return "unimplemented"
	case CodeInternal:
		return "internal"
	}
	return fmt.Sprintf("code(%d)", int(c))
}

// FieldViolation names one bad input field and why it is bad. Field is a JSON
// path as callers write it, for example "settlement.elderlyPopulation".
type FieldViolation struct {
	Field  string
	Reason string
}

// Error is the single error type of the domain.
type Error struct {
	Code       ErrorCode
	Message    string
	Violations []FieldViolation
}

func (e *Error) Error() string {
	if len(e.Violations) == 0 {
		return e.Message
	}
	parts := make([]string, len(e.Violations))
	for i, v := range e.Violations {
		parts[i] = v.Field + ": " + v.Reason
	}
	return e.Message + ": " + strings.Join(parts, "; ")
}

// Errorf returns an *Error with the code and a formatted message.
func Errorf(code ErrorCode, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}

// InvalidFields returns a CodeInvalid error listing the violations.
func InvalidFields(violations ...FieldViolation) *Error {
	return &Error{Code: CodeInvalid, Message: "invalid argument", Violations: violations}
}

// AsError returns the *Error in err's chain, or wraps err as CodeInternal.
func AsError(err error) *Error {
	if err == nil {
		return nil
	}
	var e *Error
	if errors.As(err, &e) {
		return e
	}
	return &Error{Code: CodeInternal, Message: err.Error()}
}

// violations collects field violations while validating.
type violations []FieldViolation

func (v *violations) add(field, format string, args ...any) {
	*v = append(*v, FieldViolation{Field: field, Reason: fmt.Sprintf(format, args...)})
}

func (v violations) err() error {
	if len(v) == 0 {
		return nil
	}
	return InvalidFields(v...)
}
