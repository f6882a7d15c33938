// Package admin holds the administrative operations of a posthorn data directory: domains (with
// their DKIM keys), accounts, passwords and app passwords, send-as addresses and sending
// limits, quotas, aliases, the outbound queue, the spam classifier's training and lists, the
// first domain and postmaster of a new installation, the consistency check, and the JSON API's
// tokens (tokens.go: created once, kept as a keyed hash, verified, revoked). Every interface
// an operator uses calls these, never the store directly: the command line (internal/cli),
// the JSON API (internal/web/api) and the web UI (internal/web/ui), so each operation behaves
// the same whichever one asks.
//
// An Admin is a store and its message bodies. Operations take ctx first and plain, typed
// inputs (addresses as strings, parsed and normalised here; ids as numbers), print nothing and
// return values for the caller to show. An operation refused because of its input returns an
// *operr.Error: a Code (invalid, not_found, exists, in_use, unsupported), the Field at fault and a
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
	"context"
	"fmt"
	"os"
	"strings"
	"time"

	"posthorn/internal/address"
	"posthorn/internal/audit"
	"posthorn/internal/credentials"
	"posthorn/internal/dns"
	"posthorn/internal/filter/spam"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// Admin runs the operations on one data directory.
type Admin struct {
	Store store.Store
	// Credentials is Store as package credentials sees it (accounts, passwords, app passwords).
	Credentials credentials.Store
	Blobs       BodyFiles
	// Spam and Resolver are what ExplainSpam scores with: the classifier's configuration and
	// the resolver of its DNS lists, as the MX has them.
	Spam     spam.Config
	Resolver dns.Resolver
}

// BodyFiles is what the operations need of the message bodies' files (blob.FS): an
// interface, so that the protocols calling the operations (the JSON API, the web UI) do not
// depend on the body store's backend.
type BodyFiles interface {
	Open(id string) (*os.File, error)
	Remove(id string) error
	Walk(since time.Time, fn func(id string, size int64) error) error
}

// ParseDomain normalises a domain name given for field (address.ParseDomain).
func ParseDomain(field, s string) (string, error) {
	d, err := address.ParseDomain(s)
	if err != nil {
		return "", operr.New(operr.Invalid, field, s, err, "domain %q: %v", s, err)
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
			return "", &operr.Error{Code: operr.Invalid, Field: field, Value: s, Message: cause.Error(), Err: cause}
		}
		return "@" + d, nil
	}
	return operr.ParseAddress(field, s)
}

// record writes one entry of the audit log for an operation that succeeded (audit.Log.Record,
// the actor taken from ctx). An operation whose entry cannot be written reports it: the change
// is made, but the caller must learn that it went unrecorded.
func (a *Admin) record(ctx context.Context, action, target string, details audit.Details) error {
	return record(ctx, a.Store, action, target, details)
}

func record(ctx context.Context, s store.Store, action, target string, details audit.Details) error {
	log, err := audit.For(s)
	if err == nil {
		err = log.Record(ctx, action, target, details)
	}
	if err != nil {
		return fmt.Errorf("%s %s done, but not recorded in the audit log: %w", action, target, err)
	}
	return nil
}

// Audit returns the audit log of the data directory.
func (a *Admin) Audit() (*audit.Log, error) { return audit.For(a.Store) }
