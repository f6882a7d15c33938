package storetest

import (
	"bytes"
	"testing"
	"time"

	"posthorn/internal/store"
)

// WebBackend is a store that keeps the web UI's sessions and settings.
type WebBackend interface {
	store.Store
	store.WebStore
}

// RunWebSessions runs the conformance tests of the web UI's persistence; open returns a new,
// empty store. It pins down: a session reads back by its id's hash and its last use only moves
// forward; ending an account's other sessions keeps the one named; expiry by idle and by age;
// the admin flag and TOTP settings default to off and read back; a TOTP step is accepted once;
// a recovery code works once; the login history is bounded, most recent first; everything
// goes with the account.
func RunWebSessions(t *testing.T, open func(t *testing.T) WebBackend) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, WebBackend)
	}{
		{"Sessions", testWebSessions},
		{"Settings", testWebSettings},
		{"RecoveryAndLogins", testWebRecoveryLogins},
		{"GoesWithAccount", testWebAccountRemoved},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func testWebSessions(t *testing.T, s WebBackend) {
	ctx := t.Context()
	acc := tokenAccount(t, s)
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	a := store.WebSession{IDHash: []byte("hash-a"), AccountID: acc.ID, Pending: true, CreatedAt: at, LastSeen: at,
		Source: "192.0.2.1", UserAgent: "Firefox"}
	must(t, s.CreateWebSession(ctx, a))
	b := a
	b.IDHash, b.Pending = []byte("hash-b"), false
	must(t, s.CreateWebSession(ctx, b))
	got, err := s.GetWebSession(ctx, a.IDHash)
	must(t, err)
	if got.AccountID != acc.ID || !got.Pending || !got.CreatedAt.Equal(at) || !got.LastSeen.Equal(at) ||
		got.Source != "192.0.2.1" || got.UserAgent != "Firefox" || !bytes.Equal(got.IDHash, a.IDHash) {
		t.Errorf("session = %+v", got)
	}
	must(t, s.TouchWebSession(ctx, b.IDHash, at.Add(time.Hour)))
	must(t, s.TouchWebSession(ctx, b.IDHash, at.Add(time.Minute)))
	if got, err := s.GetWebSession(ctx, b.IDHash); err != nil || !got.LastSeen.Equal(at.Add(time.Hour)) || got.Pending {
		t.Errorf("touched session = %+v, %v", got, err)
	}
	wantErr(t, "touch of an unknown session", s.TouchWebSession(ctx, []byte("nope"), at), store.ErrNotFound)
	_, err = s.GetWebSession(ctx, []byte("nope"))
	wantErr(t, "get of an unknown session", err, store.ErrNotFound)
	wantErr(t, "session of an unknown account", s.CreateWebSession(ctx, store.WebSession{IDHash: []byte("x"),
		AccountID: acc.ID + 100, CreatedAt: at, LastSeen: at}), store.ErrNotFound)

	n, err := s.DeleteWebSessions(ctx, acc.ID, b.IDHash)
	must(t, err)
	if n != 1 {
		t.Errorf("ended %d other sessions, want 1", n)
	}
	if _, err := s.GetWebSession(ctx, b.IDHash); err != nil {
		t.Errorf("kept session: %v", err)
	}
	must(t, s.DeleteWebSession(ctx, b.IDHash))
	must(t, s.DeleteWebSession(ctx, b.IDHash))
	_, err = s.GetWebSession(ctx, b.IDHash)
	wantErr(t, "get of a deleted session", err, store.ErrNotFound)

	// Expiry: one idle too long, one too old, one fresh.
	for i, times := range [][2]time.Time{{at, at}, {at.Add(-13 * time.Hour), at.Add(time.Hour)}, {at.Add(time.Hour), at.Add(2 * time.Hour)}} {
		must(t, s.CreateWebSession(ctx, store.WebSession{IDHash: []byte{byte(i)}, AccountID: acc.ID,
			CreatedAt: times[0], LastSeen: times[1]}))
	}
	n, err = s.DeleteExpiredWebSessions(ctx, at.Add(time.Minute), at.Add(-12*time.Hour))
	must(t, err)
	if n != 2 {
		t.Errorf("expired %d sessions, want 2", n)
	}
	if _, err := s.GetWebSession(ctx, []byte{2}); err != nil {
		t.Errorf("fresh session: %v", err)
	}
}

func testWebSettings(t *testing.T, s WebBackend) {
	ctx := t.Context()
	acc := tokenAccount(t, s)
	wa, err := s.WebAccount(ctx, acc.ID)
	must(t, err)
	if wa != (store.WebAccount{AccountID: acc.ID}) {
		t.Errorf("new account's web settings = %+v", wa)
	}
	_, err = s.WebAccount(ctx, acc.ID+100)
	wantErr(t, "settings of an unknown account", err, store.ErrNotFound)
	wantErr(t, "admin flag of an unknown account", s.SetWebAdmin(ctx, acc.ID+100, true), store.ErrNotFound)

	must(t, s.SetWebAdmin(ctx, acc.ID, true))
	ids, err := s.WebAdmins(ctx)
	must(t, err)
	if len(ids) != 1 || ids[0] != acc.ID {
		t.Errorf("admins = %v", ids)
	}
	must(t, s.SetTOTP(ctx, acc.ID, "SECRET", false))
	wa, err = s.WebAccount(ctx, acc.ID)
	must(t, err)
	if !wa.Admin || wa.TOTPSecret != "SECRET" || wa.TOTPEnabled {
		t.Errorf("settings = %+v", wa)
	}
	must(t, s.SetTOTP(ctx, acc.ID, "SECRET", true))
	for _, tc := range []struct {
		step int64
		ok   bool
	}{{100, true}, {100, false}, {99, false}, {101, true}} {
		ok, err := s.UseTOTPStep(ctx, acc.ID, tc.step)
		must(t, err)
		if ok != tc.ok {
			t.Errorf("step %d accepted = %v, want %v", tc.step, ok, tc.ok)
		}
	}
	wa, err = s.WebAccount(ctx, acc.ID)
	must(t, err)
	if !wa.TOTPEnabled || wa.TOTPLastStep != 101 {
		t.Errorf("settings = %+v", wa)
	}
	must(t, s.SetWebAdmin(ctx, acc.ID, false))
	must(t, s.SetTOTP(ctx, acc.ID, "", true))
	wa, err = s.WebAccount(ctx, acc.ID)
	must(t, err)
	if wa != (store.WebAccount{AccountID: acc.ID}) {
		t.Errorf("settings after removal = %+v", wa)
	}
	if ids, err := s.WebAdmins(ctx); err != nil || len(ids) != 0 {
		t.Errorf("admins = %v, %v", ids, err)
	}
}

func testWebRecoveryLogins(t *testing.T, s WebBackend) {
	ctx := t.Context()
	acc := tokenAccount(t, s)
	must(t, s.SetRecoveryCodes(ctx, acc.ID, []string{"h1", "h2", "h3"}))
	must(t, s.SetRecoveryCodes(ctx, acc.ID, []string{"h4", "h5"}))
	for _, tc := range []struct {
		hash string
		ok   bool
	}{{"h1", false}, {"h4", true}, {"h4", false}} {
		ok, err := s.UseRecoveryCode(ctx, acc.ID, tc.hash)
		must(t, err)
		if ok != tc.ok {
			t.Errorf("code %s used = %v, want %v", tc.hash, ok, tc.ok)
		}
	}
	if n, err := s.RecoveryCodesLeft(ctx, acc.ID); err != nil || n != 1 {
		t.Errorf("codes left = %d, %v", n, err)
	}
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	for i := range 5 {
		must(t, s.RecordWebLogin(ctx, store.WebLogin{AccountID: acc.ID, At: at.Add(time.Duration(i) * time.Minute),
			Source: "192.0.2.1", UserAgent: string(rune('a' + i))}, 3))
	}
	logins, err := s.WebLogins(ctx, acc.ID)
	must(t, err)
	if len(logins) != 3 || logins[0].UserAgent != "e" || logins[2].UserAgent != "c" ||
		!logins[0].At.Equal(at.Add(4*time.Minute)) || logins[0].Source != "192.0.2.1" {
		t.Errorf("logins = %+v", logins)
	}
}

func testWebAccountRemoved(t *testing.T, s WebBackend) {
	ctx := t.Context()
	acc := tokenAccount(t, s)
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	must(t, s.CreateWebSession(ctx, store.WebSession{IDHash: []byte("h"), AccountID: acc.ID, CreatedAt: at, LastSeen: at}))
	must(t, s.SetWebAdmin(ctx, acc.ID, true))
	must(t, s.SetRecoveryCodes(ctx, acc.ID, []string{"c"}))
	must(t, s.RecordWebLogin(ctx, store.WebLogin{AccountID: acc.ID, At: at}, 10))
	if _, err := s.RemoveAccount(ctx, acc.Address); err != nil {
		t.Fatal(err)
	}
	_, err := s.GetWebSession(ctx, []byte("h"))
	wantErr(t, "session of a removed account", err, store.ErrNotFound)
	if ids, err := s.WebAdmins(ctx); err != nil || len(ids) != 0 {
		t.Errorf("admins = %v, %v", ids, err)
	}
	if n, err := s.RecoveryCodesLeft(ctx, acc.ID); err != nil || n != 0 {
		t.Errorf("codes left = %d, %v", n, err)
	}
	if l, err := s.WebLogins(ctx, acc.ID); err != nil || len(l) != 0 {
		t.Errorf("logins = %v, %v", l, err)
	}
}
