package store

import (
	"context"
	"time"
)

// LoginSource is a source an account has logged in from: an IPv4 address or an IPv6 /64, in
// prefix form ("192.0.2.1/32", "2001:db8::/64"), with the time of its last successful login.
type LoginSource struct {
	Source      string
	LastSuccess time.Time
}

// LoginStore is what the authenticator keeps besides the credentials: a server secret, app
// passwords found by their keyed hash, and the sources each account has logged in from. Backends
// implement it beside Store; callers find it by type assertion.
type LoginStore interface {
	// ServerSecret returns the secret called name, first storing want when there is none, so
	// that every process sharing the store uses the same one.
	ServerSecret(ctx context.Context, name string, want []byte) ([]byte, error)
	// FindAppPassword returns the account's app password whose PasswordHash is hash exactly;
	// ErrNotFound if it has none.
	FindAppPassword(ctx context.Context, accountID int64, hash string) (AppPassword, error)
	// SetAppPasswordHash replaces the PasswordHash of the app password id, only if it is still
	// old (so a concurrent change wins); ErrNotFound otherwise.
	SetAppPasswordHash(ctx context.Context, id int64, old, hash string) error

	// LoginSourceSeen returns when the account last logged in from source, and whether it ever
	// did (as far as the kept history goes).
	LoginSourceSeen(ctx context.Context, accountID int64, source string) (time.Time, bool, error)
	// RecordLoginSource notes a successful login of the account from source at at, and keeps
	// only the keep most recent sources of the account.
	RecordLoginSource(ctx context.Context, accountID int64, source string, at time.Time, keep int) error
	// LoginSources returns the account's sources, most recent first.
	LoginSources(ctx context.Context, accountID int64) ([]LoginSource, error)
}
