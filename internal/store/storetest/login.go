package storetest

import (
	"bytes"
	"fmt"
	"testing"
	"time"

	"posthorn/internal/store"
)

// LoginBackend is a store with what the authenticator keeps besides the credentials.
type LoginBackend interface {
	store.Store
	store.LoginStore
}

// RunLogin runs the conformance tests of store.LoginStore's secrets and login sources; open
// returns a new, empty store. It pins down: the first secret stored under a name is kept; an
// account keeps its keep most recent login sources, an older success never moves a source's
// time back, and the sources go with the account. (App passwords need the submission store to
// be made, so each backend tests FindAppPassword on its own.)
func RunLogin(t *testing.T, open func(t *testing.T) LoginBackend) {
	t.Run("ServerSecret", func(t *testing.T) { testServerSecret(t, open(t)) })
	t.Run("LoginSources", func(t *testing.T) { testLoginSources(t, open(t)) })
}

func testServerSecret(t *testing.T, s LoginBackend) {
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

func testLoginSources(t *testing.T, s LoginBackend) {
	alice := withAlice(t, s)
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
