package credentials

import (
	"context"
	"errors"
	"testing"

	"posthorn/internal/auth"
	"posthorn/internal/store"
)

// LoginPassword takes the account's password and refuses its app passwords, which Login takes.
func TestLoginPasswordRefusesAppPasswords(t *testing.T) {
	a, _, _ := newAuthenticator(t)
	ctx := context.Background()
	app, err := AddAppPassword(ctx, a.store, "alice@example.org", "phone")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.Login(ctx, "imap", "alice@example.org", app, home); err != nil {
		t.Fatalf("app password over IMAP: %v", err)
	}
	if _, err := a.LoginPassword(ctx, "web", "alice@example.org", app, home); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("app password on the web: %v, want invalid credentials", err)
	}
	acc, err := a.LoginPassword(ctx, "web", "alice@example.org", "right password", home)
	if err != nil || acc.Address != "alice@example.org" {
		t.Fatalf("password on the web: %+v, %v", acc, err)
	}
}

// A second factor's failures count like failed passwords, up to the refusal.
func TestSecondFactorIsThrottled(t *testing.T) {
	a, _, _ := newAuthenticator(t)
	ctx := context.Background()
	calls := 0
	wrong := func(context.Context, store.Account) (bool, error) { calls++; return false, nil }
	for i := range HardLimit {
		if _, err := a.CheckSecondFactor(ctx, "web", "alice@example.org", home, wrong); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("attempt %d: %v", i, err)
		}
	}
	right := func(context.Context, store.Account) (bool, error) { calls++; return true, nil }
	if _, err := a.CheckSecondFactor(ctx, "web", "alice@example.org", home, right); !errors.Is(err, ErrThrottled) {
		t.Fatalf("after %d failures: %v, want throttled", HardLimit, err)
	}
	if calls != HardLimit {
		t.Errorf("verify called %d times, want %d", calls, HardLimit)
	}
	if _, err := a.LoginPassword(ctx, "web", "alice@example.org", "right password", home); !errors.Is(err, ErrThrottled) {
		t.Errorf("password after the second factor's failures: %v, want throttled", err)
	}
}
