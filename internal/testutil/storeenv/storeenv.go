// Package storeenv builds, for tests, the storage a mail server runs on: a metadata store and
// a body store over a fresh temporary directory, with the local domain example.org. OpenStore
// is the one place where the tests of delivery and of the protocol servers choose the store's
// backend, SQLite today: a second backend runs every one of their suites by changing it.
//
// It imports nothing that builds on the store (delivery, the servers), so that their own
// in-package tests can use it; package mailenv adds accounts, a TLS configuration and a
// delivery committer on top, and each suite adds its own fixtures on top of either.
package storeenv

import (
	"context"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"testing"

	"posthorn/internal/blob"
	"posthorn/internal/store"
	"posthorn/internal/store/sqlite"
)

// Store is what the tests ask of a backend: the metadata store, what submission reads beside
// it, the login sources, bulk mail's store, the API tokens and the web UI's sessions; with these it is also a credentials.Store, without this package
// importing credentials (whose tests may then use it). Interfaces a backend offers beyond
// these (the queue's, greylisting's) are found by type assertion, as the servers find them.
type Store interface {
	store.Store
	store.SubmissionStore
	store.LoginStore
	store.CampaignStore
	store.APITokenStore
	store.MailEventStore
	store.WebStore
}

// Env is the storage of one test: Store holds the domain example.org and nothing else yet,
// Blobs the message bodies. Everything is closed when the test ends.
type Env struct {
	t      testing.TB
	Dir    string // the data directory, removed at the end of the test
	Store  Store
	Blobs  *blob.FS
	Logger *slog.Logger // see Logger
}

// New creates the storage in a temporary directory and adds the domain example.org.
func New(t testing.TB) *Env {
	t.Helper()
	e := &Env{t: t, Dir: t.TempDir(), Logger: Logger()}
	e.Store = OpenStore(t, filepath.Join(e.Dir, "posthorn.db"))
	blobs, err := blob.OpenFS(filepath.Join(e.Dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	e.Blobs = blobs
	e.AddDomain("example.org")
	return e
}

// OpenStore opens the store at path (created empty when missing), closed when the test ends.
// It is the one function that names the backend.
func OpenStore(t testing.TB, path string) Store {
	t.Helper()
	st, err := sqlite.Open(context.Background(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	return st
}

// Logger is the logger of a test: debug level to stderr with -v, otherwise discarded.
func Logger() *slog.Logger {
	if testing.Verbose() {
		return slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	return slog.New(slog.NewTextHandler(io.Discard, nil))
}

// AddDomain adds a local domain.
func (e *Env) AddDomain(name string) store.Domain {
	e.t.Helper()
	d, err := e.Store.AddDomain(context.Background(), name)
	if err != nil {
		e.t.Fatal(err)
	}
	return d
}

// AddAccount adds an account of a local domain with the password hash given.
func (e *Env) AddAccount(address, passwordHash string) store.Account {
	e.t.Helper()
	acc, err := e.Store.AddAccount(context.Background(), address, passwordHash)
	if err != nil {
		e.t.Fatal(err)
	}
	return acc
}

// AddAlias adds an alias (or, for "@domain", a catch-all) of local addresses.
func (e *Env) AddAlias(address string, targets ...string) store.Alias {
	e.t.Helper()
	a, err := e.Store.AddAlias(context.Background(), address, targets)
	if err != nil {
		e.t.Fatal(err)
	}
	return a
}

// Mailbox returns the texts of the messages in one mailbox of acc, in UID order; the test
// fails if a message's recorded size is not its body's.
func (e *Env) Mailbox(acc store.Account, name string) []string {
	e.t.Helper()
	ctx := context.Background()
	mb, err := e.Store.GetMailbox(ctx, acc.ID, name)
	if err != nil {
		e.t.Fatal(err)
	}
	msgs, err := e.Store.ListMessages(ctx, mb.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	var out []string
	for _, m := range msgs {
		f, err := e.Blobs.Open(m.BlobID)
		if err != nil {
			e.t.Fatal(err)
		}
		b, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			e.t.Fatal(err)
		}
		if int64(len(b)) != m.Size {
			e.t.Fatalf("message size %d, body has %d bytes", m.Size, len(b))
		}
		out = append(out, string(b))
	}
	return out
}
