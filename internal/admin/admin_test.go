package admin

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"posthorn/internal/blob"
	"posthorn/internal/delivery"
	"posthorn/internal/operr"
	"posthorn/internal/store"
	"posthorn/internal/store/sqlite"
)

// newAdmin returns an Admin over an empty data directory: a SQLite store and a blob store in
// t.TempDir(), closed when the test ends.
func newAdmin(t *testing.T) *Admin {
	t.Helper()
	return openAdmin(t, t.TempDir())
}

// openAdmin returns an Admin over the data directory dir.
func openAdmin(t *testing.T, dir string) *Admin {
	t.Helper()
	st, err := sqlite.Open(context.Background(), filepath.Join(dir, "posthorn.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	blobs, err := blob.OpenFS(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	return &Admin{Store: st, Credentials: st, Blobs: blobs}
}

// reopenBlobs closes the blob store, as a server stopping does (which removes its pool of
// empty files), and opens the one of dir in its place.
func reopenBlobs(t *testing.T, a *Admin, dir string) {
	t.Helper()
	if err := bodyFS(a).Close(); err != nil {
		t.Fatal(err)
	}
	blobs, err := blob.OpenFS(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	a.Blobs = blobs
}

// newDirectory returns an Admin whose store has the domain example.org and the accounts
// alice@ and bob@ of it.
func newDirectory(t *testing.T) *Admin {
	t.Helper()
	a := newAdmin(t)
	addDirectory(t, a)
	return a
}

// addDirectory adds the domain example.org and the accounts alice@ and bob@ of it.
func addDirectory(t *testing.T, a *Admin) {
	t.Helper()
	ctx := context.Background()
	if _, err := a.AddDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	for _, addr := range []string{"alice@example.org", "bob@example.org"} {
		if _, err := a.AddAccount(ctx, addr, "correct horse battery"); err != nil {
			t.Fatal(err)
		}
	}
}

// deliver commits text to the INBOX of the accounts at local and queues it for remote, as
// SMTP would, and returns its blob id.
func deliver(t *testing.T, a *Admin, text string, local []string, remote ...string) string {
	t.Helper()
	ctx := context.Background()
	c := delivery.New(a.Store, bodyFS(a).Bodies(), slog.New(slog.DiscardHandler))
	defer c.Close()
	w, err := c.NewDraft(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer w.Abort()
	if _, err := io.WriteString(w, text); err != nil {
		t.Fatal(err)
	}
	m := delivery.Message{InternalDate: time.Now()}
	for _, addr := range local {
		acc, err := a.Store.GetAccount(ctx, addr)
		if err != nil {
			t.Fatal(err)
		}
		m.Targets = append(m.Targets, store.Target{AccountID: acc.ID, Mailbox: "INBOX"})
	}
	for _, r := range remote {
		m.Outbound = append(m.Outbound, store.Outbound{Sender: "alice@example.org", Recipient: r})
	}
	committed, err := w.Commit(ctx, m)
	if err != nil {
		t.Fatal(err)
	}
	return committed.BodyID
}

// wantError checks that err is an *operr.Error with code and field, whose message is message.
func wantError(t *testing.T, what string, err error, code operr.Code, field, message string) {
	t.Helper()
	var e *operr.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: error %v (%T), want an *operr.Error", what, err, err)
	}
	if e.Code != code || e.Field != field || e.Message != message {
		t.Errorf("%s: code %q field %q message %q; want %q %q %q", what, e.Code, e.Field, e.Message, code, field, message)
	}
	if err.Error() != message {
		t.Errorf("%s: Error() %q, want %q", what, err.Error(), message)
	}
}

// blobExists reports whether the blob store has a body id.
func blobExists(t *testing.T, a *Admin, id string) bool {
	t.Helper()
	f, err := a.Blobs.Open(id)
	if errors.Is(err, blob.ErrNotFound) {
		return false
	}
	if err != nil {
		t.Fatal(err)
	}
	f.Close()
	return true
}

func TestParse(t *testing.T) {
	for _, c := range []struct {
		field, in, want string
		parse           func(string, string) (string, error)
		message         string
	}{
		{"address", "Alice@Example.ORG", "alice@example.org", operr.ParseAddress, ""},
		{"address", "alice.example.org", "", operr.ParseAddress, `invalid address "alice.example.org": want local@domain`},
		{"domain", "Example.ORG.", "example.org", ParseDomain, ""},
		{"domain", "bad_domain.example", "", ParseDomain, `domain "bad_domain.example": domain label "bad_domain" has invalid character '_'`},
		{"alias", "@Example.org", "@example.org", ParseAddressOrDomain, ""},
		{"alias", "Sales@example.org", "sales@example.org", ParseAddressOrDomain, ""},
		{"alias", "@bad_domain", "", ParseAddressOrDomain, `invalid address "@bad_domain": domain label "bad_domain" has invalid character '_'`},
	} {
		got, err := c.parse(c.field, c.in)
		if c.message != "" {
			wantError(t, c.in, err, operr.Invalid, c.field, c.message)
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("%s: %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

// bodyFS is the file store behind a's message bodies.
func bodyFS(a *Admin) *blob.FS { return a.Blobs.(*blob.FS) }
