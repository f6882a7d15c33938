// Package operr is the one error type of the operations that every interface calls — the
// administrative operations (internal/admin) and bulk mail (internal/campaign): an operation
// refused because of its input says which input (Field), what value it had (Value) and what is
// wrong with it (Message), and classifies the refusal with a Code. Each interface turns that
// into its own answer without parsing messages: the CLI prints Message as one line, the JSON
// API answers {"error": {"code", "message", "field"}} with the HTTP status of Code.
//
// Errors that are not an *Error (a store that does not answer, a full disk) are faults of the
// server, not of the input: interfaces report them as internal errors.
package operr

import (
	"errors"
	"fmt"

	"posthorn/internal/address"
)

// Code classifies an *Error for an interface: an HTTP status, a message of its own.
type Code string

// The codes of *Error.
const (
	Invalid     Code = "invalid"     // the value of Field is malformed or out of range
	NotFound    Code = "not_found"   // Field names something that does not exist
	Exists      Code = "exists"      // what Field names exists already
	InUse       Code = "in_use"      // what Field names is still used by something else
	Forbidden   Code = "forbidden"   // the one asking may not do this with the value of Field
	Unsupported Code = "unsupported" // the store does not keep this kind of data
	// Unauthorized: the credential presented (an API token) is missing, malformed, unknown or
	// revoked. Its message never says which.
	Unauthorized Code = "unauthorized"
)

// Error is an operation refused because of its input (or of the store's kind).
type Error struct {
	Code  Code
	Field string // the input at fault: "domain", "address", "list", "name", "id", ...
	Value string // the value of Field, normalised where it was parsed
	// Message says what is wrong in a sentence that names the value, without naming any one
	// interface's commands.
	Message string
	Err     error // the cause (a store sentinel, a parse error), or nil
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause, so errors.Is(err, store.ErrNotFound) and the like keep working.
func (e *Error) Unwrap() error { return e.Err }

// New builds an *Error with a formatted message.
func New(code Code, field, value string, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Value: value, Message: fmt.Sprintf(format, args...), Err: cause}
}

// As returns err's *Error when it has one with code, and field if field is not empty.
func As(err error, code Code, field string) (*Error, bool) {
	var e *Error
	if !errors.As(err, &e) || e.Code != code || (field != "" && e.Field != field) {
		return nil, false
	}
	return e, true
}

// ParseAddress normalises an address given for field (address.Parse).
func ParseAddress(field, s string) (string, error) {
	a, err := address.Parse(s)
	if err != nil {
		return "", &Error{Code: Invalid, Field: field, Value: s, Message: err.Error(), Err: err}
	}
	return a.String(), nil
}
