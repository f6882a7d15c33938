package sqlite

import (
	"errors"
	"testing"

	"posthorn/internal/store"
	"posthorn/internal/store/storetest"
)

func TestLoginConformance(t *testing.T) {
	storetest.RunLogin(t, func(t *testing.T) storetest.LoginBackend {
		s, _ := openTemp(t)
		return s
	})
}

func TestFindAppPasswordByHash(t *testing.T) {
	s, alice := openWithAlice(t)
	ctx := t.Context()
	keys := store.SCRAMKeys{StoredKey: []byte("s"), ServerKey: []byte("v")}
	added, err := s.AddAppPassword(ctx, store.AppPassword{AccountID: alice.ID, Name: "phone", PasswordHash: "$hmac-sha256$abc", SCRAM: keys})
	if err != nil {
		t.Fatal(err)
	}
	if p, err := s.FindAppPassword(ctx, alice.ID, "$hmac-sha256$abc"); err != nil || p.ID != added.ID || p.Name != "phone" {
		t.Fatalf("find: %+v %v", p, err)
	}
	if _, err := s.FindAppPassword(ctx, alice.ID, "$hmac-sha256$abd"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another hash: %v", err)
	}
	if _, err := s.FindAppPassword(ctx, alice.ID+1, "$hmac-sha256$abc"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("another account: %v", err)
	}
	// The hash is replaced only while it is still the old one.
	if err := s.SetAppPasswordHash(ctx, added.ID, "stale", "$hmac-sha256$new"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("stale old hash: %v", err)
	}
	if err := s.SetAppPasswordHash(ctx, added.ID, "$hmac-sha256$abc", "$hmac-sha256$new"); err != nil {
		t.Fatal(err)
	}
	if _, err := s.FindAppPassword(ctx, alice.ID, "$hmac-sha256$new"); err != nil {
		t.Fatalf("after the rehash: %v", err)
	}
}
