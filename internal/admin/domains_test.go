package admin

import (
	"context"
	"errors"
	"slices"
	"testing"

	"posthorn/internal/auth"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

func TestDomains(t *testing.T) {
	ctx := context.Background()
	a := newAdmin(t)
	keys, err := a.AddDomain(ctx, "Example.ORG")
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) == 0 {
		t.Fatal("AddDomain made no DKIM keys")
	}
	again, err := a.DomainKeys(ctx, "example.org")
	if err != nil || len(again) != len(keys) || again[0].Selector != keys[0].Selector {
		t.Errorf("DomainKeys: %v, %v; want the keys AddDomain made", again, err)
	}
	_, err = a.AddDomain(ctx, "example.org")
	wantError(t, "add twice", err, operr.Exists, "domain", "domain example.org already exists")
	if !errors.Is(err, store.ErrExists) {
		t.Errorf("add twice: %v is not store.ErrExists", err)
	}
	_, err = a.AddDomain(ctx, "bad_domain.example")
	wantError(t, "add bad", err, operr.Invalid, "domain", `domain "bad_domain.example": domain label "bad_domain" has invalid character '_'`)
	_, err = a.DomainKeys(ctx, "unknown.example")
	wantError(t, "keys of unknown", err, operr.NotFound, "domain", "unknown domain unknown.example")

	if _, err := a.AddAccount(ctx, "alice@example.org", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	err = a.RemoveDomain(ctx, "example.org")
	wantError(t, "remove in use", err, operr.InUse, "domain", "domain example.org still has accounts or aliases; remove them first")
	if err := a.RemoveAccount(ctx, "alice@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := a.RemoveDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	err = a.RemoveDomain(ctx, "example.org")
	wantError(t, "remove unknown", err, operr.NotFound, "domain", "unknown domain example.org")
	if domains, err := a.ListDomains(ctx); err != nil || len(domains) != 0 {
		t.Errorf("ListDomains after removal: %v, %v", domains, err)
	}
}

func TestEnsureDKIMKeys(t *testing.T) {
	ctx := context.Background()
	a := newAdmin(t)
	// A domain added before DKIM signing existed: no keys.
	if _, err := a.Store.AddDomain(ctx, "old.example"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.AddDomain(ctx, "new.example"); err != nil {
		t.Fatal(err)
	}
	generated, err := a.EnsureDKIMKeys(ctx)
	if err != nil || !slices.Equal(generated, []string{"old.example"}) {
		t.Fatalf("EnsureDKIMKeys: %v, %v; want [old.example]", generated, err)
	}
	if generated, err := a.EnsureDKIMKeys(ctx); err != nil || len(generated) != 0 {
		t.Errorf("EnsureDKIMKeys again: %v, %v; want none", generated, err)
	}
}

func TestBootstrap(t *testing.T) {
	ctx := context.Background()
	a := newAdmin(t)
	_, err := a.Bootstrap(ctx, "bad_domain")
	wantError(t, "bad domain", err, operr.Invalid, "domain", `bootstrap domain "bad_domain": domain label "bad_domain" has invalid character '_'`)
	password, err := a.Bootstrap(ctx, "Example.org")
	if err != nil || password == "" {
		t.Fatalf("Bootstrap: %q, %v", password, err)
	}
	acc, err := a.Store.GetAccount(ctx, "postmaster@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := auth.CheckPassword(acc.PasswordHash, password); !ok || err != nil {
		t.Errorf("the password Bootstrap returned does not log in: %v, %v", ok, err)
	}
	if keys, err := a.DomainKeys(ctx, "example.org"); err != nil || len(keys) == 0 {
		t.Errorf("DKIM keys of the bootstrap domain: %v, %v", keys, err)
	}
	if again, err := a.Bootstrap(ctx, "other.example"); again != "" || err != nil {
		t.Errorf("Bootstrap with a domain present: %q, %v; want nothing done", again, err)
	}
	if _, err := a.Store.GetDomain(ctx, "other.example"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("second Bootstrap added its domain: %v", err)
	}
}
