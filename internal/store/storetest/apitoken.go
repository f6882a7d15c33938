package storetest

import (
	"testing"
	"time"

	"posthorn/internal/store"
)

// APITokenBackend is a store that keeps the JSON API's tokens.
type APITokenBackend interface {
	store.Store
	store.APITokenStore
}

// RunAPITokens runs the conformance tests of the API tokens' persistence; open returns a new,
// empty store. It pins down: a token reads back as created, with its account's address; an
// unknown account is ErrNotFound; the last use only moves forward; a revocation keeps its
// first time; a revoked token stays listed; a token goes with its account.
func RunAPITokens(t *testing.T, open func(t *testing.T) APITokenBackend) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, APITokenBackend)
	}{
		{"CreateGetList", testAPITokenCreate},
		{"UseAndRevoke", testAPITokenUseRevoke},
		{"GoesWithAccount", testAPITokenAccountRemoved},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func tokenAccount(t *testing.T, s store.Store) store.Account {
	t.Helper()
	_, err := s.AddDomain(t.Context(), "example.org")
	must(t, err)
	acc, err := s.AddAccount(t.Context(), "Alice@Example.org", "hash")
	must(t, err)
	return acc
}

func testAPITokenCreate(t *testing.T, s APITokenBackend) {
	ctx := t.Context()
	acc := tokenAccount(t, s)
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	admin, err := s.CreateAPIToken(ctx, store.APIToken{Name: "deploy", Scope: store.ScopeAdmin, SecretHash: "h1", CreatedAt: at})
	must(t, err)
	user, err := s.CreateAPIToken(ctx, store.APIToken{Name: "app", Scope: store.ScopeAccount, AccountID: acc.ID,
		SecretHash: "h2", CreatedAt: at.Add(time.Second)})
	must(t, err)
	if admin.ID == 0 || user.ID <= admin.ID {
		t.Fatalf("ids %d, %d", admin.ID, user.ID)
	}
	if admin.Name != "deploy" || admin.Scope != store.ScopeAdmin || admin.AccountID != 0 || admin.Account != "" ||
		admin.SecretHash != "h1" || !admin.CreatedAt.Equal(at) || !admin.LastUsedAt.IsZero() || admin.Revoked() {
		t.Errorf("admin token = %+v", admin)
	}
	got, err := s.GetAPIToken(ctx, user.ID)
	must(t, err)
	if got.Scope != store.ScopeAccount || got.AccountID != acc.ID || got.Account != "alice@example.org" ||
		got.SecretHash != "h2" || !got.CreatedAt.Equal(at.Add(time.Second)) {
		t.Errorf("account token = %+v", got)
	}
	all, err := s.ListAPITokens(ctx)
	must(t, err)
	if len(all) != 2 || all[0].ID != admin.ID || all[1].ID != user.ID {
		t.Errorf("list = %+v", all)
	}
	_, err = s.GetAPIToken(ctx, user.ID+100)
	wantErr(t, "get of an unknown token", err, store.ErrNotFound)
	_, err = s.CreateAPIToken(ctx, store.APIToken{Name: "x", Scope: store.ScopeAccount, AccountID: acc.ID + 100, SecretHash: "h3"})
	wantErr(t, "token of an unknown account", err, store.ErrNotFound)
}

func testAPITokenUseRevoke(t *testing.T, s APITokenBackend) {
	ctx := t.Context()
	tok, err := s.CreateAPIToken(ctx, store.APIToken{Name: "ci", Scope: store.ScopeAdmin, SecretHash: "h"})
	must(t, err)
	used := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	must(t, s.RecordAPITokenUse(ctx, tok.ID, used))
	must(t, s.RecordAPITokenUse(ctx, tok.ID, used.Add(-time.Hour))) // an older use does not move it back
	got, err := s.GetAPIToken(ctx, tok.ID)
	must(t, err)
	if !got.LastUsedAt.Equal(used) {
		t.Errorf("last use %v, want %v", got.LastUsedAt, used)
	}
	revoked := used.Add(time.Minute)
	must(t, s.RevokeAPIToken(ctx, tok.ID, revoked))
	must(t, s.RevokeAPIToken(ctx, tok.ID, revoked.Add(time.Hour)))
	got, err = s.GetAPIToken(ctx, tok.ID)
	must(t, err)
	if !got.Revoked() || !got.RevokedAt.Equal(revoked) {
		t.Errorf("revoked at %v, want %v", got.RevokedAt, revoked)
	}
	all, err := s.ListAPITokens(ctx)
	must(t, err)
	if len(all) != 1 || !all[0].Revoked() {
		t.Errorf("list after revoke = %+v", all)
	}
	wantErr(t, "revoke of an unknown token", s.RevokeAPIToken(ctx, tok.ID+1, revoked), store.ErrNotFound)
	wantErr(t, "use of an unknown token", s.RecordAPITokenUse(ctx, tok.ID+1, used), store.ErrNotFound)
}

func testAPITokenAccountRemoved(t *testing.T, s APITokenBackend) {
	ctx := t.Context()
	acc := tokenAccount(t, s)
	tok, err := s.CreateAPIToken(ctx, store.APIToken{Name: "app", Scope: store.ScopeAccount, AccountID: acc.ID, SecretHash: "h"})
	must(t, err)
	_, err = s.RemoveAccount(ctx, acc.Address)
	must(t, err)
	_, err = s.GetAPIToken(ctx, tok.ID)
	wantErr(t, "token of a removed account", err, store.ErrNotFound)
}
