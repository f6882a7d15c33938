package admin

import (
	"context"
	"testing"

	"posthorn/internal/auth"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

func TestAccounts(t *testing.T) {
	ctx := context.Background()
	a := newDirectory(t)
	_, err := a.AddAccount(ctx, "carol@unknown.example", "correct horse battery")
	wantError(t, "unknown domain", err, operr.NotFound, "domain", "unknown domain unknown.example")
	if e, ok := operr.As(err, operr.NotFound, "domain"); !ok || e.Value != "unknown.example" {
		t.Errorf("unknown domain: %#v, want the domain as Value", e)
	}
	_, err = a.AddAccount(ctx, "Alice@example.org", "correct horse battery")
	wantError(t, "exists", err, operr.Exists, "address", "alice@example.org already exists (as an account or alias)")
	_, err = a.AddAccount(ctx, "carol.example.org", "correct horse battery")
	wantError(t, "bad address", err, operr.Invalid, "address", `invalid address "carol.example.org": want local@domain`)
	_, err = a.AddAccount(ctx, "carol@example.org", "short")
	wantError(t, "short password", err, operr.Invalid, "password", "password must be at least 8 characters")

	if err := a.SetPassword(ctx, "alice@example.org", "a new password"); err != nil {
		t.Fatal(err)
	}
	acc, err := a.Store.GetAccount(ctx, "alice@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if ok, _ := auth.CheckPassword(acc.PasswordHash, "a new password"); !ok {
		t.Error("SetPassword: the new password does not pass")
	}
	err = a.SetPassword(ctx, "nobody@example.org", "a new password")
	wantError(t, "passwd unknown", err, operr.NotFound, "address", "unknown user nobody@example.org")

	accounts, err := a.ListAccounts(ctx, "Example.org")
	if err != nil || len(accounts) != 2 || accounts[0].Address != "alice@example.org" {
		t.Errorf("ListAccounts: %v, %v", accounts, err)
	}
	_, err = a.ListAccounts(ctx, "bad_domain")
	wantError(t, "list bad domain", err, operr.Invalid, "domain", `domain "bad_domain": domain label "bad_domain" has invalid character '_'`)

	err = a.RemoveAccount(ctx, "nobody@example.org")
	wantError(t, "remove unknown", err, operr.NotFound, "address", "unknown user nobody@example.org")
}

func TestQuota(t *testing.T) {
	ctx := context.Background()
	a := newDirectory(t)
	text := "Subject: hi\r\n\r\nhello\r\n"
	deliver(t, a, text, []string{"alice@example.org"})
	q, err := a.Quota(ctx, "alice@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if q.QuotaBytes != store.QuotaDefault || q.Messages != 1 || q.UsedBytes != int64(len(text)) {
		t.Errorf("Quota: %+v; want the default, 1 message of %d octets", q, len(text))
	}
	if err := a.SetQuota(ctx, "alice@example.org", 5<<20); err != nil {
		t.Fatal(err)
	}
	if q, err := a.Quota(ctx, "alice@example.org"); err != nil || q.QuotaBytes != 5<<20 {
		t.Errorf("Quota after SetQuota: %+v, %v", q, err)
	}
	err = a.SetQuota(ctx, "alice@example.org", -5)
	wantError(t, "negative quota", err, operr.Invalid, "quota",
		"quota -5: want a size in octets from 0 (none) to 1152921504606846976, or the default")
	err = a.SetQuota(ctx, "nobody@example.org", 0)
	wantError(t, "quota of unknown", err, operr.NotFound, "address", "unknown user nobody@example.org")
	_, err = a.Quota(ctx, "nobody@example.org")
	wantError(t, "show unknown", err, operr.NotFound, "address", "unknown user nobody@example.org")
}

// TestRemoveAccountBodies: removing an account deletes the bodies only it referenced, and
// keeps those other mailboxes or the queue still need.
func TestRemoveAccountBodies(t *testing.T) {
	ctx := context.Background()
	a := newDirectory(t)
	own := deliver(t, a, "Subject: own\r\n\r\nonly alice\r\n", []string{"alice@example.org"})
	shared := deliver(t, a, "Subject: shared\r\n\r\nboth\r\n", []string{"alice@example.org", "bob@example.org"})
	queued := deliver(t, a, "Subject: out\r\n\r\nalso remote\r\n", []string{"alice@example.org"}, "carol@remote.example")
	if err := a.RemoveAccount(ctx, "Alice@example.org"); err != nil {
		t.Fatal(err)
	}
	if blobExists(t, a, own) {
		t.Error("the body only alice had is still there")
	}
	if !blobExists(t, a, shared) || !blobExists(t, a, queued) {
		t.Error("a body bob's INBOX or the queue still needs was removed")
	}
	if _, err := a.Store.GetAccount(ctx, "alice@example.org"); err == nil {
		t.Error("the account is still there")
	}
}
