package admin

import (
	"strings"
	"testing"
	"time"

	"posthorn/internal/operr"
	"posthorn/internal/store"
)

func TestTokens(t *testing.T) {
	a := newDirectory(t)
	ctx := t.Context()
	now := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	toks := a.Tokens()
	toks.Now = func() time.Time { return now }

	admin, row, err := toks.Create(ctx, TokenInput{Name: "deploy", Scope: store.ScopeAdmin})
	if err != nil {
		t.Fatal(err)
	}
	id, secret, ok := splitToken(admin)
	if !ok || id != row.ID || len(secret) != 52 || strings.Trim(secret, "abcdefghijklmnopqrstuvwxyz234567") != "" {
		t.Fatalf("token %q (row %+v)", admin, row)
	}
	if strings.Contains(row.SecretHash, secret) {
		t.Errorf("the secret is stored: %q", row.SecretHash)
	}
	p, err := toks.Verify(ctx, admin)
	if err != nil || p.TokenID != row.ID || p.Scope != store.ScopeAdmin || p.Name != "deploy" {
		t.Fatalf("verify = %+v, %v", p, err)
	}
	user, _, err := toks.Create(ctx, TokenInput{Name: "app", Scope: store.ScopeAccount, Account: "Alice@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	p, err = toks.Verify(ctx, user)
	if err != nil || p.Scope != store.ScopeAccount || p.Account != "alice@example.org" || p.AccountID == 0 {
		t.Fatalf("verify account token = %+v, %v", p, err)
	}

	// Every bad token fails alike.
	for _, bad := range []string{"", "ph_", "nonsense", "ph_x_y", admin + "x", "ph_999_" + secret,
		strings.Replace(admin, secret[:4], "aaaa", 1), "Bearer " + admin} {
		if _, err := toks.Verify(ctx, bad); err == nil {
			t.Errorf("verify %q passed", bad)
		} else if e, ok := operr.As(err, operr.Unauthorized, "token"); !ok || e.Message != "invalid or revoked API token" {
			t.Errorf("verify %q: %v", bad, err)
		}
	}

	// The last use is written at most once a minute.
	used := func() time.Time {
		t.Helper()
		list, err := toks.List(ctx)
		if err != nil {
			t.Fatal(err)
		}
		return list[0].LastUsedAt
	}
	if got := used(); !got.Equal(now) {
		t.Errorf("last use %v, want %v", got, now)
	}
	now = now.Add(30 * time.Second)
	if _, err := toks.Verify(ctx, admin); err != nil {
		t.Fatal(err)
	}
	if got := used(); !got.Equal(now.Add(-30 * time.Second)) {
		t.Errorf("last use written again after 30s: %v", got)
	}
	now = now.Add(31 * time.Second)
	if _, err := toks.Verify(ctx, admin); err != nil {
		t.Fatal(err)
	}
	if got := used(); !got.Equal(now) {
		t.Errorf("last use %v, want %v", got, now)
	}

	if err := toks.Revoke(ctx, row.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := toks.Verify(ctx, admin); err == nil {
		t.Error("a revoked token passed")
	}
	list, err := toks.List(ctx)
	if err != nil || len(list) != 2 || !list[0].Revoked() || list[1].Revoked() {
		t.Errorf("list = %+v, %v", list, err)
	}
	// Another Tokens on the same store (another process) reads the same key.
	if _, err := (&Tokens{Store: a.Store}).Verify(ctx, user); err != nil {
		t.Errorf("verify with a fresh Tokens: %v", err)
	}
}

func TestTokenErrors(t *testing.T) {
	a := newDirectory(t)
	ctx := t.Context()
	toks := a.Tokens()
	for _, tc := range []struct {
		in    TokenInput
		code  operr.Code
		field string
	}{
		{TokenInput{Name: "", Scope: store.ScopeAdmin}, operr.Invalid, "name"},
		{TokenInput{Name: "a\nb", Scope: store.ScopeAdmin}, operr.Invalid, "name"},
		{TokenInput{Name: "x", Scope: "root"}, operr.Invalid, "scope"},
		{TokenInput{Name: "x", Scope: store.ScopeAdmin, Account: "alice@example.org"}, operr.Invalid, "account"},
		{TokenInput{Name: "x", Scope: store.ScopeAccount, Account: "not an address"}, operr.Invalid, "account"},
		{TokenInput{Name: "x", Scope: store.ScopeAccount, Account: "nobody@example.org"}, operr.NotFound, "account"},
	} {
		if _, _, err := toks.Create(ctx, tc.in); err == nil {
			t.Errorf("create %+v passed", tc.in)
		} else if _, ok := operr.As(err, tc.code, tc.field); !ok {
			t.Errorf("create %+v: %v, want %s of %s", tc.in, err, tc.code, tc.field)
		}
	}
	if _, ok := operr.As(toks.Revoke(ctx, 42), operr.NotFound, "id"); !ok {
		t.Error("revoke of an unknown token")
	}
}
