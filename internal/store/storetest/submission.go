package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"posthorn/internal/store"
)

// SubmissionBackend is a store with what authenticated submission needs.
type SubmissionBackend interface {
	store.Store
	store.SubmissionStore
}

// RunSubmission runs the conformance tests of store.SubmissionStore; open returns a new, empty
// store. It pins down: an account's SCRAM salt, once stored, stays; its credentials are its
// password's keys (dropped when the password hash changes without them) then its app
// passwords'; app password names and send-as addresses (lower-cased) are unique per account;
// limits default to store.LimitDefault; SentSince sums what was recorded since; DKIM keys are
// newest first, unique per selector, refused for an unknown domain and gone with the domain;
// and everything goes with its account.
func RunSubmission(t *testing.T, open func(t *testing.T) SubmissionBackend) {
	t.Run("SCRAMCredentials", func(t *testing.T) { testSCRAMCredentials(t, open(t)) })
	t.Run("SendAsAndLimits", func(t *testing.T) { testSendAsAndLimits(t, open(t)) })
	t.Run("DKIMKeys", func(t *testing.T) { testDKIMKeys(t, open(t)) })
}

func testSCRAMCredentials(t *testing.T, s SubmissionBackend) {
	alice := withAlice(t, s)
	ctx := t.Context()
	if _, _, err := s.SCRAMCredentials(ctx, alice.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("no salt yet: %v", err)
	}
	salt, err := s.EnsureSCRAMSalt(ctx, alice.ID, store.SCRAMSalt{Salt: []byte("salt1"), Iterations: 4096})
	if err != nil || string(salt.Salt) != "salt1" {
		t.Fatalf("first salt: %v %v", salt, err)
	}
	// The salt, once made, stays.
	if salt, _ = s.EnsureSCRAMSalt(ctx, alice.ID, store.SCRAMSalt{Salt: []byte("salt2"), Iterations: 1}); string(salt.Salt) != "salt1" || salt.Iterations != 4096 {
		t.Fatalf("second salt: %v", salt)
	}
	keys := store.SCRAMKeys{StoredKey: []byte("stored"), ServerKey: []byte("server")}
	if err := s.SetAccountSCRAM(ctx, alice.ID, keys); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddAppPassword(ctx, store.AppPassword{AccountID: alice.ID, Name: "phone", PasswordHash: "h",
		SCRAM: store.SCRAMKeys{StoredKey: []byte("app"), ServerKey: []byte("appserver")}}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddAppPassword(ctx, store.AppPassword{AccountID: alice.ID, Name: "phone", PasswordHash: "h",
		SCRAM: keys}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("same name twice: %v", err)
	}
	_, got, err := s.SCRAMCredentials(ctx, alice.ID)
	if err != nil || len(got) != 2 || !bytes.Equal(got[0].StoredKey, []byte("stored")) || !bytes.Equal(got[1].StoredKey, []byte("app")) {
		t.Fatalf("credentials: %v %v", got, err)
	}
	// A new password hash set without keys drops the old keys; the app password stays.
	if err := s.SetPassword(ctx, "alice@example.org", "new hash"); err != nil {
		t.Fatal(err)
	}
	if _, got, _ = s.SCRAMCredentials(ctx, alice.ID); len(got) != 1 || !bytes.Equal(got[0].StoredKey, []byte("app")) {
		t.Fatalf("after a password change: %v", got)
	}
	if err := s.RemoveAppPassword(ctx, alice.ID, "phone"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveAppPassword(ctx, alice.ID, "phone"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("remove twice: %v", err)
	}
	// Removing the account removes everything of it.
	if err := errors.Join(s.AddSendAs(ctx, alice.ID, "@Other.example"), s.RecordSent(ctx, store.SentRecord{AccountID: alice.ID, Recipients: 3, At: time.Now()}),
		s.SetSendLimits(ctx, alice.ID, store.SendLimits{PerHour: 1, PerDay: 2})); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RemoveAccount(ctx, "alice@example.org"); err != nil {
		t.Fatal(err)
	}
	if problems, err := s.Check(ctx); err != nil || len(problems) > 0 {
		t.Fatalf("check: %v %v", problems, err)
	}
}

func testSendAsAndLimits(t *testing.T, s SubmissionBackend) {
	alice := withAlice(t, s)
	ctx := t.Context()
	for _, a := range []string{"Boss@Example.net", "@partner.example"} {
		if err := s.AddSendAs(ctx, alice.ID, a); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddSendAs(ctx, alice.ID, "boss@example.net"); !errors.Is(err, store.ErrExists) {
		t.Fatalf("twice: %v", err)
	}
	if got, _ := s.ListSendAs(ctx, alice.ID); len(got) != 2 || got[0] != "@partner.example" || got[1] != "boss@example.net" {
		t.Fatalf("list: %v", got)
	}
	if err := s.RemoveSendAs(ctx, alice.ID, "@partner.example"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveSendAs(ctx, alice.ID, "@partner.example"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("remove twice: %v", err)
	}

	if l, err := s.GetSendLimits(ctx, alice.ID); err != nil || l.PerHour != store.LimitDefault || l.PerDay != store.LimitDefault {
		t.Fatalf("default limits: %v %v", l, err)
	}
	if err := s.SetSendLimits(ctx, alice.ID, store.SendLimits{PerHour: 0, PerDay: 10}); err != nil {
		t.Fatal(err)
	}
	if l, _ := s.GetSendLimits(ctx, alice.ID); l.PerHour != 0 || l.PerDay != 10 {
		t.Fatalf("limits: %v", l)
	}
	now := time.Now()
	if err := s.RecordSent(ctx, store.SentRecord{AccountID: alice.ID, Recipients: 5, At: now.Add(-25 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if err := s.RecordSent(ctx, store.SentRecord{AccountID: alice.ID, Recipients: 2, At: now.Add(-2 * time.Hour)},
		store.SentRecord{AccountID: alice.ID, Recipients: 3, At: now.Add(-time.Minute)}); err != nil {
		t.Fatal(err)
	}
	hour, _ := s.SentSince(ctx, alice.ID, now.Add(-time.Hour))
	day, _ := s.SentSince(ctx, alice.ID, now.Add(-24*time.Hour))
	if hour != 3 || day != 5 {
		t.Fatalf("sent in the hour %d (want 3), in the day %d (want 5)", hour, day)
	}
}

func testDKIMKeys(t *testing.T, s SubmissionBackend) {
	withAlice(t, s)
	ctx := t.Context()
	if _, err := s.AddDKIMKey(ctx, store.DKIMKey{Domain: "nowhere.example", Selector: "a", Algorithm: "rsa", PrivateKey: []byte{1}}); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("unknown domain: %v", err)
	}
	// Added in this order: "new" is the newer (a later time, or the same and a later id).
	for _, sel := range []string{"old", "new"} {
		if _, err := s.AddDKIMKey(ctx, store.DKIMKey{Domain: "Example.org", Selector: sel, Algorithm: "ed25519", PrivateKey: []byte(sel)}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.AddDKIMKey(ctx, store.DKIMKey{Domain: "example.org", Selector: "new", Algorithm: "rsa", PrivateKey: []byte{1}}); !errors.Is(err, store.ErrExists) {
		t.Fatalf("selector taken: %v", err)
	}
	keys, err := s.DKIMKeys(ctx, "example.org")
	if err != nil || len(keys) != 2 || keys[0].Selector != "new" || keys[0].Domain != "example.org" {
		t.Fatalf("keys: %+v %v", keys, err)
	}
	// A domain removed takes its keys along.
	if _, err := s.RemoveAccount(ctx, "alice@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	if keys, _ := s.DKIMKeys(ctx, "example.org"); len(keys) != 0 {
		t.Fatalf("keys left: %v", keys)
	}
}
