// Package campaign is posthorn's bulk mail service: the audience (lists, subscribers and their
// subscriptions with consent records), CSV import and export, and the suppression ledger, with
// campaigns, sending, events and statistics built on the same store (store.CampaignStore).
//
// A Service is a store.CampaignStore and a clock. Operations take ctx first and typed inputs
// (addresses as strings, normalised here with internal/address; lists by name), print nothing
// and return values for the caller to show, the way internal/admin does: an operation refused
// because of its input returns an *Error with a Code, the Field at fault and a message naming
// the value, which the CLI prints as one line and an API turns into {"error":{...}}; the
// store's sentinel errors stay reachable through errors.Is.
//
// The audience. A subscriber is one address with a name and free attributes (a JSON object),
// shared by every list. A name is one line of printable text (no CR, LF or other control
// character, so it can never add a header field), an attribute key an identifier
// ([A-Za-z_][A-Za-z0-9_]*), so that templates can name it. A subscription to a single opt-in
// list is confirmed at once; to a double opt-in list it stays unconfirmed until the person
// follows the confirmation link (or the operator says the consent was given elsewhere). Every
// subscription carries its consent record: when, how (import, form, api, cli), the source IP
// truncated (IPv4 to /24, IPv6 to /48) and the text the person agreed to. An import never
// re-subscribes a person who unsubscribed.
//
// CSV import streams: rows are read one at a time, checked (address, name, attributes,
// duplicates within the file) and imported in batches of ImportBatch, each batch checked
// against the suppression ledger in one query and written in one transaction. Memory is the
// batch plus, per distinct address of the file, a 64-bit hash and a line number (to report
// duplicates), never the rows themselves. Every rejected row is reported with its line number
// and reason through a callback, so a file of a million bad rows costs nothing either.
// Export streams a list's subscriptions page by page in subscriber id order.
//
// The suppression ledger (address, reason, source, time, optional expiry) is checked by every
// sending path; here it is managed (add, remove, list, import from a file of addresses).
//
// The public side — the open pixel, tracked links, the view in a browser, unsubscribe and
// preferences by token, the subscription form and its confirmation — is the Tracker
// (track.go says how it treats hostile input, subscribe.go how the form avoids mailing
// strangers), which internal/web serves.
package campaign

import (
	"errors"
	"fmt"
	"time"

	"posthorn/internal/address"
	"posthorn/internal/store"
)

// Service runs the bulk mail operations on one store.
type Service struct {
	Store store.CampaignStore
	// Now is the clock; nil is time.Now.
	Now func() time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// Code classifies an *Error for an interface: an HTTP status, a message of its own.
type Code string

// The codes of *Error, the same as internal/admin's.
const (
	CodeInvalid  Code = "invalid"   // the value of Field is malformed or out of range
	CodeNotFound Code = "not_found" // Field names something that does not exist
	CodeExists   Code = "exists"    // what Field names exists already
)

// Error is an operation refused because of its input.
type Error struct {
	Code    Code
	Field   string // the input at fault: "list", "address", "name", "attributes", "reason", ...
	Value   string // the value of Field, normalised where it was parsed
	Message string // what is wrong, in a sentence that names the value
	Err     error  // the cause (a store sentinel, a parse error), or nil
}

func (e *Error) Error() string { return e.Message }

// Unwrap returns the cause, so errors.Is(err, store.ErrNotFound) and the like keep working.
func (e *Error) Unwrap() error { return e.Err }

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

// ParseAddress normalises an address given for field.
func ParseAddress(field, s string) (string, error) {
	a, err := address.Parse(s)
	if err != nil {
		return "", &Error{Code: CodeInvalid, Field: field, Value: s, Message: err.Error(), Err: err}
	}
	return a.String(), nil
}
