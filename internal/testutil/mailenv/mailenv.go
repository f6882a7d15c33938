// Package mailenv builds, for tests, what a mail server runs on: the storage of package
// storeenv with two accounts, a delivery committer and a TLS configuration. It is apart from
// package testutil so that packages below it (store, message) can still use testutil, and
// apart from storeenv because it imports delivery, whose own tests use storeenv.
package mailenv

import (
	"context"
	"crypto/tls"
	"io"
	"net"
	"sync"
	"testing"
	"time"

	"posthorn/internal/auth"
	"posthorn/internal/certs"
	"posthorn/internal/config"
	"posthorn/internal/delivery"
	"posthorn/internal/store"
	"posthorn/internal/testutil/storeenv"
)

// Password is the password of the accounts of an Env made by New.
const Password = "correct horse battery"

// Env is what a mail server needs, over a fresh data directory: the storage of storeenv (its
// Store, Blobs, Dir and Logger) with the accounts alice and bob of example.org, a delivery
// committer and a self-signed TLS configuration for the hostname. Everything is closed when
// the test ends.
type Env struct {
	*storeenv.Env
	t         testing.TB
	Committer *delivery.Committer
	TLSConfig *tls.Config
	Alice     store.Account
	Bob       store.Account
}

var (
	hashOnce sync.Once
	hashed   string
	hashErr  error
)

// PasswordHash is Password hashed, once per test binary: argon2id is slow on purpose.
func PasswordHash(t testing.TB) string {
	t.Helper()
	hashOnce.Do(func() { hashed, hashErr = auth.HashPassword(Password) })
	if hashErr != nil {
		t.Fatal(hashErr)
	}
	return hashed
}

// New creates the environment in a temporary directory, alice and bob with the password
// Password; hostname names the certificate.
func New(t testing.TB, hostname string) *Env {
	t.Helper()
	return NewWithPasswordHash(t, hostname, PasswordHash(t))
}

// NewWithPasswordHash is New with alice and bob given passwordHash, for tests that log in
// otherwise or not at all and need not pay for argon2id.
func NewWithPasswordHash(t testing.TB, hostname, passwordHash string) *Env {
	t.Helper()
	e := &Env{Env: storeenv.New(t), t: t}
	e.Alice = e.AddAccount("alice@example.org", passwordHash)
	e.Bob = e.AddAccount("bob@example.org", passwordHash)
	tlsSource, err := certs.Load(config.TLS{}, hostname, e.Dir)
	if err != nil {
		t.Fatal(err)
	}
	e.TLSConfig = tlsSource.Config
	e.Committer = delivery.New(e.Store, e.Blobs.Bodies(), e.Logger)
	t.Cleanup(e.Committer.Close)
	return e
}

// Deliver stores a message in a mailbox of acc as SMTP delivery would (the text as given, no
// Received header), and returns its UID. It may be called from several goroutines.
func (e *Env) Deliver(acc store.Account, mailbox, text string, flags ...string) uint32 {
	e.t.Helper()
	draft, err := e.Committer.NewDraft(context.Background())
	if err != nil {
		e.t.Fatal(err)
	}
	defer draft.Abort()
	if _, err := io.WriteString(draft, text); err != nil {
		e.t.Fatal(err)
	}
	d, err := draft.Commit(context.Background(), delivery.Message{
		InternalDate: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Targets:      []store.Target{{AccountID: acc.ID, Mailbox: mailbox, Flags: flags}},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	return d.Delivered[0].UID
}

// Serve starts two loopback listeners, plain connections on one served by serve and implicit
// TLS on the other by serveTLS, and returns their addresses. The caller shuts the server down.
func (e *Env) Serve(serve, serveTLS func(net.Listener) error) (addr, tlsAddr string) {
	e.t.Helper()
	var addrs [2]string
	for i, f := range []func(net.Listener) error{serve, serveTLS} {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			e.t.Fatal(err)
		}
		addrs[i] = l.Addr().String()
		go f(l)
	}
	return addrs[0], addrs[1]
}
