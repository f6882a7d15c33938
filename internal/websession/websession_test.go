package websession

import (
	"context"
	"errors"
	"net/netip"
	"testing"
	"time"

	"posthorn/internal/admin"
	"posthorn/internal/auth"
	"posthorn/internal/credentials"
	"posthorn/internal/operr"
	"posthorn/internal/testutil/storeenv"
)

type testEnv struct {
	svc *Service
	ops *admin.Admin
	now *time.Time
}

var client = Client{Addr: netip.MustParseAddr("192.0.2.7"), UserAgent: "TestBrowser/1.0"}

func newEnv(t *testing.T) *testEnv {
	t.Helper()
	env := storeenv.New(t)
	ops := &admin.Admin{Store: env.Store, Credentials: env.Store, Blobs: env.Blobs}
	if _, err := ops.AddAccount(t.Context(), "alice@example.org", "correct horse battery"); err != nil {
		t.Fatal(err)
	}
	a := credentials.NewAuthenticator(env.Store, env.Logger, nil)
	a.SetSleep(func(context.Context, time.Duration) error { return nil })
	now := time.Now()
	svc := &Service{Store: env.Store, Auth: a, Passwords: ops, Issuer: "mail.example.org", Logger: env.Logger,
		Now: func() time.Time { return now }}
	return &testEnv{svc: svc, ops: ops, now: &now}
}

func (e *testEnv) login(t *testing.T, password string) (string, bool) {
	t.Helper()
	id, pending, err := e.svc.Login(t.Context(), "Alice@example.org", password, client)
	if err != nil {
		t.Fatalf("login: %v", err)
	}
	return id, pending
}

func TestLoginLookupExpiry(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	if _, _, err := e.svc.Login(ctx, "alice@example.org", "wrong password", client); !errors.Is(err, ErrInvalid) {
		t.Fatalf("wrong password: %v", err)
	}
	app, err := e.ops.AddAppPassword(ctx, "alice@example.org", "phone")
	if err != nil {
		t.Fatal(err)
	}
	if _, _, err := e.svc.Login(ctx, "alice@example.org", app, client); !errors.Is(err, ErrInvalid) {
		t.Fatalf("app password: %v, want refused", err)
	}
	id, pending := e.login(t, "correct horse battery")
	if pending || len(id) != 43 {
		t.Fatalf("id %q pending %v", id, pending)
	}
	sess, err := e.svc.Lookup(ctx, id)
	if err != nil || sess.Account.Address != "alice@example.org" || sess.Admin || sess.Pending {
		t.Fatalf("lookup: %+v, %v", sess, err)
	}
	logins, err := e.svc.RecentLogins(ctx, sess.Account.ID)
	if err != nil || len(logins) != 1 || logins[0].Source != "192.0.2.7" || logins[0].UserAgent != "TestBrowser/1.0" {
		t.Fatalf("logins: %+v, %v", logins, err)
	}
	// Used within the idle time, the session lasts up to its absolute limit.
	for range 6 {
		*e.now = e.now.Add(IdleTimeout - time.Minute)
		if _, err := e.svc.Lookup(ctx, id); err != nil {
			t.Fatalf("lookup after %v: %v", time.Since(sess.Created), err)
		}
	}
	*e.now = e.now.Add(IdleTimeout - time.Minute)
	if _, err := e.svc.Lookup(ctx, id); !errors.Is(err, ErrNoSession) {
		t.Fatalf("lookup past the absolute limit: %v", err)
	}
	id, _ = e.login(t, "correct horse battery")
	*e.now = e.now.Add(IdleTimeout + time.Second)
	if _, err := e.svc.Lookup(ctx, id); !errors.Is(err, ErrNoSession) {
		t.Fatalf("lookup after the idle time: %v", err)
	}
	id, _ = e.login(t, "correct horse battery")
	if err := e.svc.Logout(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Lookup(ctx, id); !errors.Is(err, ErrNoSession) {
		t.Fatalf("lookup after logout: %v", err)
	}
}

func TestTOTPLogin(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	id, _ := e.login(t, "correct horse battery")
	sess, err := e.svc.Lookup(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.ConfirmTOTP(ctx, sess, "123456"); err == nil {
		t.Fatal("confirmed without a secret")
	}
	if err := e.svc.BeginTOTP(ctx, sess); err != nil {
		t.Fatal(err)
	}
	st, err := e.svc.TOTP(ctx, sess)
	if err != nil || st.Enabled || st.Secret == "" || st.KeyURI == "" {
		t.Fatalf("state after begin: %+v, %v", st, err)
	}
	key, err := auth.DecodeTOTPSecret(st.Secret)
	if err != nil {
		t.Fatal(err)
	}
	wrong := auth.TOTP(key, e.now.Add(-time.Hour))
	if _, err := e.svc.ConfirmTOTP(ctx, sess, wrong); !isOperr(err, "code") {
		t.Fatalf("wrong confirming code: %v", err)
	}
	codes, err := e.svc.ConfirmTOTP(ctx, sess, auth.TOTP(key, *e.now))
	if err != nil || len(codes) != RecoveryCodes {
		t.Fatalf("confirm: %v, %v", codes, err)
	}
	if err := e.svc.BeginTOTP(ctx, sess); !isOperr(err, "totp") {
		t.Fatalf("begin while on: %v", err)
	}

	pendingID, pending := e.login(t, "correct horse battery")
	if !pending {
		t.Fatal("login with TOTP on is not pending")
	}
	if s, err := e.svc.Lookup(ctx, pendingID); err != nil || !s.Pending {
		t.Fatalf("pending lookup: %+v, %v", s, err)
	}
	// The confirming code was used up; the next step's code logs in, once.
	if _, err := e.svc.SecondFactor(ctx, pendingID, auth.TOTP(key, *e.now), client); !errors.Is(err, ErrInvalid) {
		t.Fatalf("confirming code again: %v", err)
	}
	*e.now = e.now.Add(auth.TOTPStep)
	code := auth.TOTP(key, *e.now)
	full, err := e.svc.SecondFactor(ctx, pendingID, code, client)
	if err != nil || full == pendingID {
		t.Fatalf("second factor: %q, %v", full, err)
	}
	if _, err := e.svc.Lookup(ctx, pendingID); !errors.Is(err, ErrNoSession) {
		t.Fatalf("the pending session lives on: %v", err)
	}
	if s, err := e.svc.Lookup(ctx, full); err != nil || s.Pending {
		t.Fatalf("full session: %+v, %v", s, err)
	}
	pendingID, _ = e.login(t, "correct horse battery")
	if _, err := e.svc.SecondFactor(ctx, pendingID, code, client); !errors.Is(err, ErrInvalid) {
		t.Fatalf("replayed code: %v", err)
	}
	if _, err := e.svc.SecondFactor(ctx, pendingID, codes[0], client); err != nil {
		t.Fatalf("recovery code: %v", err)
	}
	pendingID, _ = e.login(t, "correct horse battery")
	if _, err := e.svc.SecondFactor(ctx, pendingID, codes[0], client); !errors.Is(err, ErrInvalid) {
		t.Fatalf("recovery code twice: %v", err)
	}
	if st, _ := e.svc.TOTP(ctx, sess); !st.Enabled || st.RecoveryLeft != RecoveryCodes-1 {
		t.Fatalf("state: %+v", st)
	}
	// A pending session expires quickly.
	*e.now = e.now.Add(PendingTimeout + time.Second)
	if _, err := e.svc.SecondFactor(ctx, pendingID, codes[1], client); !errors.Is(err, ErrNoSession) {
		t.Fatalf("late second factor: %v", err)
	}
	if err := e.svc.DisableTOTP(ctx, sess, "wrong password", client); !errors.Is(err, ErrInvalid) {
		t.Fatalf("disable with a wrong password: %v", err)
	}
	if err := e.svc.DisableTOTP(ctx, sess, "correct horse battery", client); err != nil {
		t.Fatal(err)
	}
	if _, pending := e.login(t, "correct horse battery"); pending {
		t.Fatal("pending after TOTP was turned off")
	}
}

func TestChangePassword(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	here, _ := e.login(t, "correct horse battery")
	other, _ := e.login(t, "correct horse battery")
	sess, err := e.svc.Lookup(ctx, here)
	if err != nil {
		t.Fatal(err)
	}
	if err := e.svc.ChangePassword(ctx, sess, "not it at all", "a new passphrase", client); !errors.Is(err, ErrInvalid) {
		t.Fatalf("wrong current password: %v", err)
	}
	if err := e.svc.ChangePassword(ctx, sess, "correct horse battery", "short", client); !isOperr(err, "password") {
		t.Fatalf("weak password: %v", err)
	}
	if err := e.svc.ChangePassword(ctx, sess, "correct horse battery", "a new passphrase", client); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Lookup(ctx, here); err != nil {
		t.Errorf("this session ended: %v", err)
	}
	if _, err := e.svc.Lookup(ctx, other); !errors.Is(err, ErrNoSession) {
		t.Errorf("other session: %v", err)
	}
	e.login(t, "a new passphrase")
}

func TestToken(t *testing.T) {
	e := newEnv(t)
	ctx := t.Context()
	tok, err := e.svc.Token(ctx, "csrf", "session")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		purpose, value, token string
		ok                    bool
	}{{"csrf", "session", tok, true}, {"csrf", "other", tok, false}, {"login", "session", tok, false}, {"csrf", "session", "", false}} {
		if ok, err := e.svc.CheckToken(ctx, tc.purpose, tc.value, tc.token); err != nil || ok != tc.ok {
			t.Errorf("%+v: %v, %v", tc, ok, err)
		}
	}
}

func isOperr(err error, field string) bool {
	var oe *operr.Error
	return errors.As(err, &oe) && oe.Field == field
}
