package credentials

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"posthorn/internal/auth"
	"posthorn/internal/store"
	"posthorn/internal/store/sqlite"
)

// otherProcess opens the authenticator's database a second time, as the CLI does while the
// server runs: what it writes is not seen through the server's Store object or its memory.
func otherProcess(t *testing.T, path string) *sqlite.Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// loginHashes logs in and returns how many argon2id hashes it cost and its error.
func loginHashes(a *Authenticator, user, password string, from netip.Addr) (int, error) {
	before := testutil.ToFloat64(a.hashes)
	_, err := a.Login(context.Background(), "imap", user, password, from)
	return int(testutil.ToFloat64(a.hashes) - before), err
}

func TestCachedLogin(t *testing.T) {
	a, _, now := newAuthenticator(t)
	if n, err := loginHashes(a, "alice@example.org", "right password", home); err != nil || n != 1 {
		t.Fatalf("first login: %v, %d hashes", err, n)
	}
	for _, user := range []string{"alice@example.org", "ALICE@example.org"} {
		if n, err := loginHashes(a, user, "right password", home); err != nil || n != 0 {
			t.Fatalf("repeated login as %s: %v, %d hashes, want 0", user, err, n)
		}
	}
	// A wrong password is never served from the cache, and no failure is remembered.
	for range 2 {
		if n, err := loginHashes(a, "alice@example.org", "wrong password", home); !errors.Is(err, auth.ErrInvalidCredentials) || n != 1 {
			t.Fatalf("wrong password: %v, %d hashes, want 1", err, n)
		}
	}
	*now = now.Add(DefaultCacheTTL + time.Second)
	if n, err := loginHashes(a, "alice@example.org", "right password", home); err != nil || n != 1 {
		t.Fatalf("after the TTL: %v, %d hashes, want 1", err, n)
	}
}

func TestCacheOff(t *testing.T) {
	a, _, _ := newAuthenticator(t)
	a.SetCacheTTL(0)
	for range 2 {
		if n, err := loginHashes(a, "alice@example.org", "right password", home); err != nil || n != 1 {
			t.Fatalf("without cache: %v, %d hashes, want 1", err, n)
		}
	}
}

// TestCacheDroppedByAnotherProcess: a password change, an app password removal or the account's
// removal, written by another process, ends a cached login at once.
func TestCacheDroppedByAnotherProcess(t *testing.T) {
	a, _, _, path := newAuthenticatorAt(t)
	ctx := context.Background()
	cli := otherProcess(t, path)
	login := func(password string) error {
		_, err := a.Login(ctx, "imap", "alice@example.org", password, home)
		return err
	}
	if err := errors.Join(login("right password"), login("right password")); err != nil {
		t.Fatal(err)
	}
	if err := SetPassword(ctx, cli, "alice@example.org", "new password"); err != nil {
		t.Fatal(err)
	}
	if err := login("right password"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("old password after a change: %v, want ErrInvalidCredentials", err)
	}
	if err := errors.Join(login("new password"), login("new password")); err != nil {
		t.Fatalf("new password: %v", err)
	}

	app, err := AddAppPassword(ctx, cli, "alice@example.org", "phone")
	if err != nil {
		t.Fatal(err)
	}
	if err := errors.Join(login(app), login(app)); err != nil {
		t.Fatalf("app password: %v", err)
	}
	acc, _ := cli.GetAccount(ctx, "alice@example.org")
	if err := cli.RemoveAppPassword(ctx, acc.ID, "phone"); err != nil {
		t.Fatal(err)
	}
	if err := login(app); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("removed app password: %v, want ErrInvalidCredentials", err)
	}

	if _, err := cli.RemoveAccount(ctx, "alice@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := login("new password"); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("removed account: %v, want ErrInvalidCredentials", err)
	}
	// The same address and password again are a new account: verified anew.
	if _, err := AddAccount(ctx, cli, "alice@example.org", "new password"); err != nil {
		t.Fatal(err)
	}
	if n, err := loginHashes(a, "alice@example.org", "new password", home); err != nil || n != 1 {
		t.Fatalf("account made again: %v, %d hashes, want 1", err, n)
	}
}

// TestCachedLoginIsThrottled: a throttled source stays throttled for a password the cache
// knows.
func TestCachedLoginIsThrottled(t *testing.T) {
	a, _, _ := newAuthenticator(t)
	if _, err := loginHashes(a, "alice@example.org", "right password", home); err != nil {
		t.Fatal(err)
	}
	for range HardLimit {
		loginHashes(a, "nobody@example.org", "guess", home)
	}
	if n, err := loginHashes(a, "alice@example.org", "right password", home); !errors.Is(err, ErrThrottled) || n != 0 {
		t.Fatalf("cached password from a throttled source: %v, %d hashes, want ErrThrottled", err, n)
	}
}

// TestAppPasswordsAreKeyed: an app password is stored as a keyed hash and found by it, without
// argon2id; a wrong password costs one argon2id however many app passwords the account has.
func TestAppPasswordsAreKeyed(t *testing.T) {
	a, _, _, path := newAuthenticatorAt(t)
	ctx := context.Background()
	a.SetCacheTTL(0)
	cli := otherProcess(t, path)
	var apps []string
	for _, name := range []string{"phone", "laptop"} {
		app, err := AddAppPassword(ctx, cli, "alice@example.org", name)
		if err != nil {
			t.Fatal(err)
		}
		apps = append(apps, app)
	}
	acc, _ := cli.GetAccount(ctx, "alice@example.org")
	list, err := cli.ListAppPasswords(ctx, acc.ID)
	if err != nil || len(list) != 2 {
		t.Fatal(list, err)
	}
	for _, p := range list {
		if !auth.IsKeyed(p.PasswordHash) {
			t.Fatalf("app password %s stored as %.20q, want the keyed form", p.Name, p.PasswordHash)
		}
	}
	for _, app := range apps {
		if n, err := loginHashes(a, "alice@example.org", app, home); err != nil || n != 0 {
			t.Fatalf("app password: %v, %d hashes, want 0", err, n)
		}
	}
	for _, user := range []string{"alice@example.org", "nobody@example.org", "alice@unknown.example", "not an address"} {
		if n, err := loginHashes(a, user, "wrong password", home); !errors.Is(err, auth.ErrInvalidCredentials) || n != 1 {
			t.Fatalf("wrong login as %s: %v, %d hashes, want 1", user, err, n)
		}
	}
}

// TestLegacyAppPassword: an app password stored as argon2id (before keyed hashes) still works,
// and is rewritten in the keyed form by its first use.
func TestLegacyAppPassword(t *testing.T) {
	a, _, _ := newAuthenticator(t)
	ctx := context.Background()
	a.SetCacheTTL(0)
	st := a.store.(*sqlite.Store)
	acc, _ := st.GetAccount(ctx, "alice@example.org")
	const legacy = "an old app password"
	hash, _ := auth.HashPassword(legacy)
	if _, err := st.AddAppPassword(ctx, store.AppPassword{AccountID: acc.ID, Name: "old", PasswordHash: hash,
		SCRAM: store.SCRAMKeys{StoredKey: []byte("k"), ServerKey: []byte("k")}}); err != nil {
		t.Fatal(err)
	}
	// Until it is used, a wrong password costs its argon2id too.
	if n, err := loginHashes(a, "alice@example.org", "wrong password", home); !errors.Is(err, auth.ErrInvalidCredentials) || n != 2 {
		t.Fatalf("wrong password beside a legacy app password: %v, %d hashes, want 2", err, n)
	}
	if n, err := loginHashes(a, "alice@example.org", legacy, home); err != nil || n != 2 {
		t.Fatalf("legacy app password: %v, %d hashes, want 2", err, n)
	}
	list, _ := st.ListAppPasswords(ctx, acc.ID)
	if len(list) != 1 || !auth.IsKeyed(list[0].PasswordHash) {
		t.Fatalf("after its use: %+v, want the keyed form", list)
	}
	if n, err := loginHashes(a, "alice@example.org", legacy, home); err != nil || n != 0 {
		t.Fatalf("rehashed app password: %v, %d hashes, want 0", err, n)
	}
	if n, err := loginHashes(a, "alice@example.org", "wrong password", home); !errors.Is(err, auth.ErrInvalidCredentials) || n != 1 {
		t.Fatalf("wrong password after the rehash: %v, %d hashes, want 1", err, n)
	}
}
