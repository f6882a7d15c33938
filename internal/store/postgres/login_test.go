package postgres

import (
	"bytes"
	"errors"
	"sync"
	"testing"

	"posthorn/internal/store"
	"posthorn/internal/store/storetest"
)

// withAlice opens a new database with the domain example.org and its account alice.
func withAlice(t *testing.T) (*Store, store.Account) {
	t.Helper()
	s := openStore(t)
	if _, err := s.AddDomain(t.Context(), "example.org"); err != nil {
		t.Fatal(err)
	}
	a, err := s.AddAccount(t.Context(), "alice@example.org", "hash")
	if err != nil {
		t.Fatal(err)
	}
	return s, a
}

func TestLoginConformance(t *testing.T) {
	storetest.RunLogin(t, func(t *testing.T) storetest.LoginBackend {
		return openStore(t)
	})
}

// TestServerSecretTwoNodes: the first secret stored wins, on this node and on another that
// asks at the same time.
func TestServerSecretTwoNodes(t *testing.T) {
	url := server.Database(t)
	a, b := openURL(t, url), openURL(t, url)
	ctx := t.Context()
	var wg sync.WaitGroup
	got := make([][]byte, 8)
	errs := make([]error, 8)
	for i := range got {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := a
			if i%2 == 1 {
				s = b
			}
			got[i], errs[i] = s.ServerSecret(ctx, "k", []byte{byte('a' + i)})
		}()
	}
	wg.Wait()
	for i := range got {
		if errs[i] != nil || !bytes.Equal(got[i], got[0]) {
			t.Fatalf("secret %d = %q, %v; want %q, as every other", i, got[i], errs[i], got[0])
		}
	}
	if again, err := a.ServerSecret(ctx, "k", []byte("two")); err != nil || !bytes.Equal(again, got[0]) {
		t.Fatalf("again: %q %v, want the first kept", again, err)
	}
	if other, _ := b.ServerSecret(ctx, "other", []byte("three")); string(other) != "three" {
		t.Fatalf("another name: %q", other)
	}
}

func TestFindAppPasswordByHash(t *testing.T) {
	s, alice := withAlice(t)
	ctx := t.Context()
	var id int64
	if err := s.pool.QueryRow(ctx, `INSERT INTO app_passwords (account_id, name, password_hash, stored_key, server_key,
		created_at) VALUES ($1, 'phone', '$hmac-sha256$abc', 's', 'v', 1) RETURNING id`, alice.ID).Scan(&id); err != nil {
		t.Fatal(err)
	}
	p, err := s.FindAppPassword(ctx, alice.ID, "$hmac-sha256$abc")
	if err != nil || p.ID != id || p.Name != "phone" || string(p.SCRAM.StoredKey) != "s" || string(p.SCRAM.ServerKey) != "v" {
		t.Fatalf("find: %+v %v", p, err)
	}
	if _, err := s.FindAppPassword(ctx, alice.ID, "$hmac-sha256$abd"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another hash: %v", err)
	}
	if _, err := s.FindAppPassword(ctx, alice.ID+1, "$hmac-sha256$abc"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account: %v", err)
	}
	// The hash is replaced only while it is still the old one.
	if err := s.SetAppPasswordHash(ctx, id, "stale", "$hmac-sha256$new"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("stale old hash: %v", err)
	}
	if err := s.SetAppPasswordHash(ctx, id, "$hmac-sha256$abc", "$hmac-sha256$new"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindAppPassword(ctx, alice.ID, "$hmac-sha256$new"); err != nil {
		t.Fatalf("after the rehash: %v", err)
	}
}
