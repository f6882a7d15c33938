package credentials

import (
	"context"
	"errors"
	"testing"

	"posthorn/internal/auth"
	"posthorn/internal/store"
	"posthorn/internal/store/sqlite"
	"posthorn/internal/testutil/scramtest"
)

func newSCRAMAuthenticator(t *testing.T) (*Authenticator, *sqlite.Store) {
	a, _, _ := newAuthenticator(t)
	st := a.store.(*sqlite.Store)
	if err := SetPassword(context.Background(), st, "alice@example.org", "right password"); err != nil {
		t.Fatal(err)
	}
	return a, st
}

func TestSCRAMAuthenticator(t *testing.T) {
	a, st := newSCRAMAuthenticator(t)
	ctx := context.Background()
	var got store.Account
	login := func(acc store.Account) { got = acc }
	scram := func(user, pass string) (*scramtest.Client, error) {
		got = store.Account{}
		s, err := a.SASL(ctx, "SCRAM-SHA-256", "submission", home, login)
		if err != nil {
			t.Fatal(err)
		}
		c := &scramtest.Client{Username: user, Password: pass}
		return c, scramtest.Run(s, c)
	}
	c, err := scram("alice@example.org", "right password")
	if err != nil || !c.Verified || got.Address != "alice@example.org" {
		t.Fatalf("right password: %v verified=%v account=%q", err, c.Verified, got.Address)
	}
	for _, tc := range [][2]string{{"alice@example.org", "wrong"}, {"nobody@example.org", "x"}} {
		if _, err := scram(tc[0], tc[1]); !errors.Is(err, auth.ErrInvalidCredentials) || got.ID != 0 {
			t.Errorf("%s/%s: %v, want ErrInvalidCredentials", tc[0], tc[1], err)
		}
	}
	// An app password works with SCRAM and with PLAIN; removing it stops both.
	app, err := AddAppPassword(ctx, st, "alice@example.org", "phone")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := scram("alice@example.org", app); err != nil || got.Address != "alice@example.org" {
		t.Fatalf("app password over SCRAM: %v", err)
	}
	if _, err := a.Login(ctx, "imap", "alice@example.org", app, home); err != nil {
		t.Fatalf("app password over Login: %v", err)
	}
	acc, _ := st.GetAccount(ctx, "alice@example.org")
	if err := st.RemoveAppPassword(ctx, acc.ID, "phone"); err != nil {
		t.Fatal(err)
	}
	if _, err := scram("alice@example.org", app); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("removed app password over SCRAM: %v", err)
	}
	if _, err := a.Login(ctx, "imap", "alice@example.org", app, home); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("removed app password over Login: %v", err)
	}
}

// A password set only as a hash (before SCRAM keys existed) fails SCRAM like a wrong one, and
// setting a new hash directly drops the keys of the old password.
func TestSCRAMWithoutKeys(t *testing.T) {
	a, st := newSCRAMAuthenticator(t)
	ctx := context.Background()
	hash, _ := auth.HashPassword("newer password")
	if err := st.SetPassword(ctx, "alice@example.org", hash); err != nil {
		t.Fatal(err)
	}
	for _, pass := range []string{"right password", "newer password"} {
		s, _ := a.SASL(ctx, auth.MechSCRAM, "imap", home, func(store.Account) { t.Error("logged in") })
		if err := scramtest.Run(s, &scramtest.Client{Username: "alice@example.org", Password: pass}); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Errorf("%q: %v, want ErrInvalidCredentials", pass, err)
		}
	}
	if _, err := a.Login(ctx, "imap", "alice@example.org", "newer password", home); err != nil {
		t.Fatalf("PLAIN-style login still works: %v", err)
	}
}

func TestSCRAMThrottled(t *testing.T) {
	a, _ := newSCRAMAuthenticator(t)
	ctx := context.Background()
	for range HardLimit {
		s, _ := a.SASL(ctx, auth.MechSCRAM, "imap", home, func(store.Account) {})
		_ = scramtest.Run(s, &scramtest.Client{Username: "alice@example.org", Password: "wrong"})
	}
	s, _ := a.SASL(ctx, auth.MechSCRAM, "imap", home, func(store.Account) {})
	if err := scramtest.Run(s, &scramtest.Client{Username: "alice@example.org", Password: "right password"}); !errors.Is(err, ErrThrottled) {
		t.Fatalf("after %d failures: %v, want ErrThrottled", HardLimit, err)
	}
}

func TestSCRAMRefusals(t *testing.T) {
	a, _ := newSCRAMAuthenticator(t)
	ctx := context.Background()
	for _, tc := range []struct {
		first string
		want  error
	}{
		{"p=tls-unique,,n=alice@example.org,r=abc", auth.ErrChannelBinding},
		{"x,,n=alice@example.org,r=abc", auth.ErrSASLSyntax},
		{"n,,m=ext,n=alice@example.org,r=abc", auth.ErrSASLSyntax},
		{"n,,n=al=ice,r=abc", auth.ErrSASLSyntax},
		{"n,a=bob@example.org,n=alice@example.org,r=abc", auth.ErrInvalidCredentials},
		{"n,,n=alice@example.org", auth.ErrSASLSyntax},
	} {
		s, _ := a.SASL(ctx, auth.MechSCRAM, "imap", home, func(store.Account) {})
		if _, _, err := s.Next([]byte(tc.first)); !errors.Is(err, tc.want) {
			t.Errorf("%q: %v, want %v", tc.first, err, tc.want)
		}
	}
	// A "y" flag is fine without channel binding; c= must then repeat "y,,".
	s, _ := a.SASL(ctx, auth.MechSCRAM, "imap", home, func(store.Account) {})
	if err := scramtest.Run(s, &scramtest.Client{Username: "alice@example.org", Password: "right password", GS2: "y,,"}); err != nil {
		t.Fatalf("gs2 flag y: %v", err)
	}
}

func TestLoginMechanism(t *testing.T) {
	a, _ := newSCRAMAuthenticator(t)
	ctx := context.Background()
	var got string
	s, _ := a.SASL(ctx, auth.MechLogin, "submission", home, func(acc store.Account) { got = acc.Address })
	for _, step := range []struct{ resp, challenge string }{{"", "Username:"}, {"alice@example.org", "Password:"}} {
		var resp []byte
		if step.resp != "" {
			resp = []byte(step.resp)
		}
		ch, done, err := s.Next(resp)
		if err != nil || done || string(ch) != step.challenge {
			t.Fatalf("after %q: %q %v %v", step.resp, ch, done, err)
		}
	}
	if _, done, err := s.Next([]byte("right password")); !done || err != nil || got != "alice@example.org" {
		t.Fatalf("password: done=%v err=%v account=%q", done, err, got)
	}
	s, _ = a.SASL(ctx, auth.MechLogin, "submission", home, func(store.Account) {})
	s.Next([]byte("alice@example.org")) // initial response: the username
	if _, _, err := s.Next([]byte("wrong")); !errors.Is(err, auth.ErrInvalidCredentials) {
		t.Fatalf("wrong password: %v", err)
	}
}
