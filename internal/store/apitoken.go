package store

import (
	"context"
	"time"
)

// APITokenScope is what a token of the JSON API may do.
type APITokenScope string

// The scopes of API tokens.
const (
	// ScopeAdmin may use every route of the API.
	ScopeAdmin APITokenScope = "admin"
	// ScopeAccount acts for one account: it may only send as it.
	ScopeAccount APITokenScope = "account"
)

// APIToken is a token of the JSON API. Its secret is never stored: SecretHash is its keyed
// hash.
type APIToken struct {
	ID    int64
	Name  string
	Scope APITokenScope
	// AccountID is the account a ScopeAccount token acts for (0 for ScopeAdmin); Account is
	// its address, filled in by the store when it reads a token.
	AccountID  int64
	Account    string
	SecretHash string
	CreatedAt  time.Time
	LastUsedAt time.Time // zero: never used
	RevokedAt  time.Time // zero: not revoked
}

// APIPrincipal is who a verified API token speaks for (admin.Tokens.Verify): the token and,
// for ScopeAccount, its account.
type APIPrincipal struct {
	TokenID   int64
	Name      string
	Scope     APITokenScope
	AccountID int64  // 0 for ScopeAdmin
	Account   string // the account's address
}

// Revoked reports whether the token has been revoked.
func (t APIToken) Revoked() bool { return !t.RevokedAt.IsZero() }

// APITokenStore keeps the tokens of the JSON API. Backends implement it beside Store; callers
// find it by type assertion. Ids are never handed out twice; a token of an account goes with
// the account.
type APITokenStore interface {
	// CreateAPIToken adds t (its ID, Account, LastUsedAt and RevokedAt are ignored) and returns
	// it as stored; ErrNotFound if t.AccountID names no account.
	CreateAPIToken(ctx context.Context, t APIToken) (APIToken, error)
	// GetAPIToken returns a token by id, revoked or not; ErrNotFound if there is none.
	GetAPIToken(ctx context.Context, id int64) (APIToken, error)
	// ListAPITokens returns every token, revoked ones included, in id order.
	ListAPITokens(ctx context.Context) ([]APIToken, error)
	// RecordAPITokenUse sets the token's last use to at, unless a later one is recorded;
	// ErrNotFound if there is no such token.
	RecordAPITokenUse(ctx context.Context, id int64, at time.Time) error
	// RevokeAPIToken revokes the token at at; a token revoked already keeps its first
	// revocation time. ErrNotFound if there is no such token.
	RevokeAPIToken(ctx context.Context, id int64, at time.Time) error
}
