// Package admin holds the administrative operations of a posthorn data directory: domains (with
// their DKIM keys), accounts, passwords and app passwords, send-as addresses and sending
// limits, quotas, aliases, the outbound queue, the spam classifier's training and lists, the
// first domain and postmaster of a new installation, and the consistency check. Every interface
// an operator uses calls these, never the store directly: the command line (internal/cli)
// today, the JSON API and the web UI (internal/web) later, so each operation behaves the same
// whichever one asks.
//
// An Admin is a store and its message bodies. Operations take ctx first and plain, typed
// inputs (addresses as strings, parsed and normalised here; ids as numbers), print nothing and
// return values for the caller to show. An operation refused because of its input returns an
// *Error: a Code (invalid, not_found, exists, in_use, unsupported), the Field at fault and a
// message that names the value, which the CLI prints as it is and an API turns into
// {"error":{"code","message","field"}}. The store's sentinel errors stay reachable through
// errors.Is. Other errors (I/O, the database) are returned wrapped.
//
// The operations work whether the server runs or not: SQLite's WAL lets the CLI and the server
// share one database, and the server re-reads what an operation changes (queue rows within a
// quarter of a second, accounts and quotas at their next use). One operation is the exception:
// RemoveOrphans must run while nothing delivers, so at start or with the server stopped.
package admin

import (
	"errors"
	"fmt"
	"strings"

	"posthorn/internal/address"
	"posthorn/internal/blob"
	"posthorn/internal/credentials"
	"posthorn/internal/dns"
	"posthorn/internal/filter/spam"
	"posthorn/internal/store"
)

// Admin runs the operations on one data directory.
type Admin struct {
	Store store.Store
	// Credentials is Store as package credentials sees it (accounts, passwords, app passwords).
	Credentials credentials.Store
	Blobs       *blob.FS
	// Spam and Resolver are what ExplainSpam scores with: the classifier's configuration and
	// the resolver of its DNS lists, as the MX has them.
	Spam     spam.Config
	Resolver dns.Resolver
}

// Code classifies an *Error for an interface: an HTTP status, a message of its own.
type Code string

// The codes of *Error.
const (
	CodeInvalid     Code = "invalid"     // the value of Field is malformed or out of range
	CodeNotFound    Code = "not_found"   // Field names something that does not exist
	CodeExists      Code = "exists"      // what Field names exists already
	CodeInUse       Code = "in_use"      // what Field names is still used by something else
	CodeUnsupported Code = "unsupported" // the store does not keep this kind of data
)

// Error is an operation refused because of its input (or of the store's kind).
type Error struct {
	Code  Code
	Field string // the input at fault: "domain", "address", "alias", "targets", "name", "id", ...
	Value string // the value of Field, normalised where it was parsed
	// Message says what is wrong in a sentence that names the value, without naming any one
	// interface's commands.
	Message string
	Err     error // the cause (a store sentinel, a parse error), or nil
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause, so errors.Is(err, store.ErrNotFound) and the like keep working.
func (e *Error) Unwrap() error { return e.Err }

// errorf builds an *Error with a formatted message.
func errorf(code Code, field, value string, cause error, format string, args ...any) *Error {
	return &Error{Code: code, Field: field, Value: value, Message: fmt.Sprintf(format, args...), Err: cause}
}

// AsError returns err's *Error when it has one with code, and field if field is not empty.
func AsError(err error, code Code, field string) (*Error, bool) {
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
		return "", &Error{Code: CodeInvalid, Field: field, Value: s, Message: err.Error(), Err: err}
	}
	return a.String(), nil
}

// ParseDomain normalises a domain name given for field (address.ParseDomain).
func ParseDomain(field, s string) (string, error) {
	d, err := address.ParseDomain(s)
	if err != nil {
		return "", errorf(CodeInvalid, field, s, err, "domain %q: %v", s, err)
	}
	return d, nil
}

// ParseAddressOrDomain normalises an address or "@domain" (an alias's catch-all, a whole
// domain on a spam list) given for field.
func ParseAddressOrDomain(field, s string) (string, error) {
	if strings.HasPrefix(s, "@") {
		d, err := address.ParseDomain(s[1:])
		if err != nil {
			cause := fmt.Errorf("%w %q: %v", address.ErrInvalid, s, err)
			return "", &Error{Code: CodeInvalid, Field: field, Value: s, Message: cause.Error(), Err: cause}
		}
		return "@" + d, nil
	}
	return ParseAddress(field, s)
}
