// Package mailenv builds, for tests, what a mail access server runs on: a store with two
// accounts, a blob store, a delivery committer and a TLS configuration. It is apart from package
// testutil so that packages below it (store, message) can still use testutil.
package mailenv

import (
	"context"
	"crypto/tls"
	"io"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"posthorn/internal/auth"
	"posthorn/internal/blob"
	"posthorn/internal/certs"
	"posthorn/internal/config"
	"posthorn/internal/credentials"
	"posthorn/internal/delivery"
	"posthorn/internal/store"
	"posthorn/internal/store/sqlite"
)

// Password is the password of the accounts of an Env.
const Password = "correct horse battery"

// Env is what a mail access server needs, over a fresh data directory: a SQLite store with
// the domain example.org and the accounts alice and bob (password Password), a blob store, a
// delivery committer and a self-signed TLS configuration for Hostname. Everything is closed when
// the test ends.
type Env struct {
	t         testing.TB
	Dir       string
	Store     store.Store
	Blobs     *blob.FS
	Committer *delivery.Committer
	TLSConfig *tls.Config
	Logger    *slog.Logger // debug level to stderr with -v, otherwise discarded
	Alice     store.Account
	Bob       store.Account
	// Credentials is Store as package credentials sees it: accounts, SCRAM keys, app
	// passwords, login sources.
	Credentials credentials.Store
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

// New creates the environment in a temporary directory; hostname names the certificate.
func New(t testing.TB, hostname string) *Env {
	t.Helper()
	ctx := context.Background()
	e := &Env{t: t, Dir: t.TempDir()}
	st, err := sqlite.Open(ctx, filepath.Join(e.Dir, "posthorn.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	e.Store, e.Credentials = st, st
	if e.Blobs, err = blob.OpenFS(filepath.Join(e.Dir, "blobs")); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { e.Blobs.Close() })
	if _, err := st.AddDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	if e.Alice, err = st.AddAccount(ctx, "alice@example.org", PasswordHash(t)); err != nil {
		t.Fatal(err)
	}
	if e.Bob, err = st.AddAccount(ctx, "bob@example.org", PasswordHash(t)); err != nil {
		t.Fatal(err)
	}
	tlsSource, err := certs.Load(config.TLS{}, hostname, e.Dir)
	if err != nil {
		t.Fatal(err)
	}
	e.TLSConfig = tlsSource.Config
	e.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		e.Logger = slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	e.Committer = delivery.New(st, e.Blobs.Bodies(), e.Logger)
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
