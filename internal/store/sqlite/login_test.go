package sqlite

import (
	"bytes"
	"errors"
	"fmt"
	"testing"
	"time"

	"posthorn/internal/store"
)

func TestServerSecretIsMadeOnce(t *testing.T) {
	s, _ := openWithAlice(t)
	ctx := t.Context()
	first, err := s.ServerSecret(ctx, "k", []byte("one"))
	if err != nil || string(first) != "one" {
		t.Fatalf("first: %q %v", first, err)
	}
	if again, err := s.ServerSecret(ctx, "k", []byte("two")); err != nil || !bytes.Equal(again, first) {
		t.Fatalf("second: %q %v, want the first kept", again, err)
	}
	if other, _ := s.ServerSecret(ctx, "other", []byte("three")); string(other) != "three" {
		t.Fatalf("another name: %q", other)
	}
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

func TestLoginSourcesAreBounded(t *testing.T) {
	s, alice := openWithAlice(t)
	ctx := t.Context()
	if _, ok, err := s.LoginSourceSeen(ctx, alice.ID, "192.0.2.1/32"); err != nil || ok {
		t.Fatalf("before any login: %v %v", ok, err)
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const keep = 3
	for i := range 5 {
		if err := s.RecordLoginSource(ctx, alice.ID, fmt.Sprintf("192.0.2.%d/32", i), start.Add(time.Duration(i)*time.Hour), keep); err != nil {
			t.Fatal(err)
		}
	}
	// An older success does not move a source's last success back.
	if err := s.RecordLoginSource(ctx, alice.ID, "192.0.2.4/32", start, keep); err != nil {
		t.Fatal(err)
	}
	got, err := s.LoginSources(ctx, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, l := range got {
		names = append(names, l.Source)
	}
	if fmt.Sprint(names) != "[192.0.2.4/32 192.0.2.3/32 192.0.2.2/32]" {
		t.Fatalf("sources %v, want the 3 most recent", names)
	}
	at, ok, err := s.LoginSourceSeen(ctx, alice.ID, "192.0.2.4/32")
	if err != nil || !ok || !at.Equal(start.Add(4*time.Hour)) {
		t.Fatalf("seen: %v %v %v", at, ok, err)
	}
	if _, ok, _ := s.LoginSourceSeen(ctx, alice.ID, "192.0.2.0/32"); ok {
		t.Fatal("the oldest source was kept")
	}
	if _, err := s.RemoveAccount(ctx, "alice@example.org"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.LoginSources(ctx, alice.ID); len(got) != 0 {
		t.Fatalf("sources of a removed account: %v", got)
	}
}
