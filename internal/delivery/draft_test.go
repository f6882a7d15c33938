package delivery

import (
	"context"
	"errors"
	"io"
	"testing"
	"time"

	"posthorn/internal/bodystore"
	"posthorn/internal/message"
	"posthorn/internal/store"
)

const sample = "From: <x@example.net>\r\nSubject: hello\r\nMessage-ID: <m1@example.net>\r\n\r\nsearchable words\r\n"

// TestDraftCommit: the committed message is stored with its analysis, its body is readable
// through the store's Bodies, and only IndexText puts the text in the index at once.
func TestDraftCommit(t *testing.T) {
	c, st, blobs, accounts := setup(t)
	ctx := context.Background()
	for _, indexNow := range []bool{false, true} {
		d := draft(t, c, sample)
		got, err := d.Commit(ctx, Message{IndexText: indexNow,
			Targets: []store.Target{{AccountID: accounts[0].ID, Mailbox: "INBOX"}}})
		if err != nil {
			t.Fatal(err)
		}
		if got.BodyID != d.ID() || got.Size != int64(len(sample)) || got.MessageID != "m1@example.net" || len(got.Delivered) != 1 {
			t.Fatalf("committed %+v", got)
		}
		b, err := blobs.Bodies().Open(ctx, got.BodyID)
		if err != nil {
			t.Fatal(err)
		}
		size, err := b.Size()
		if err != nil {
			t.Fatal(err)
		}
		text, err := io.ReadAll(io.NewSectionReader(b, 0, size))
		if cerr := b.Close(); err == nil {
			err = cerr
		}
		if err != nil || string(text) != sample {
			t.Fatalf("stored body %q, %v", text, err)
		}
		unindexed, err := st.(store.TextBacklog).UnindexedBlobs(ctx, "", 100)
		if err != nil {
			t.Fatal(err)
		}
		inBacklog := false
		for _, id := range unindexed {
			inBacklog = inBacklog || id == got.BodyID
		}
		if inBacklog == indexNow {
			t.Errorf("IndexText %v: in the indexer's backlog: %v", indexNow, inBacklog)
		}
	}
	mb, err := st.GetMailbox(ctx, accounts[0].ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := st.ListMessages(ctx, mb.ID)
	if err != nil || len(msgs) != 2 {
		t.Fatalf("messages %d, %v", len(msgs), err)
	}
	env, err := message.UnmarshalEnvelope(msgs[0].Envelope)
	if err != nil || env.Subject != "hello" || env.MessageID != "<m1@example.net>" {
		t.Fatalf("stored envelope %+v, %v", env, err)
	}
	if msgs[0].InternalDate.IsZero() {
		t.Error("no internal date")
	}
}

// TestDraftAbortAfterPartialWrite: an aborted draft leaves no body behind, and cannot be
// written or committed any more.
func TestDraftAbortAfterPartialWrite(t *testing.T) {
	c, _, blobs, accounts := setup(t)
	d := draft(t, c, "From: <x@example.net>\r\nSubj")
	d.Abort()
	d.Abort() // idempotent
	if _, err := blobs.Open(d.ID()); !errors.Is(err, bodystore.ErrNotFound) {
		t.Fatalf("aborted body still there: %v", err)
	}
	if _, err := d.Write([]byte("x")); !errors.Is(err, ErrDraftDone) {
		t.Errorf("write after abort: %v", err)
	}
	_, err := d.Commit(context.Background(), Message{Targets: []store.Target{{AccountID: accounts[0].ID, Mailbox: "INBOX"}}})
	if !errors.Is(err, ErrDraftDone) {
		t.Errorf("commit after abort: %v", err)
	}
	if err := blobs.Walk(time.Time{}, func(id string, _ int64) error {
		if id == d.ID() {
			return errors.New("aborted body listed")
		}
		return nil
	}); err != nil {
		t.Fatal(err)
	}
}

// TestDraftAbortAfterCommit: Abort, deferred as the protocols do, leaves a committed message
// alone.
func TestDraftAbortAfterCommit(t *testing.T) {
	c, st, blobs, accounts := setup(t)
	d := draft(t, c, sample)
	if _, err := d.Commit(context.Background(), Message{Targets: []store.Target{{AccountID: accounts[0].ID, Mailbox: "INBOX"}}}); err != nil {
		t.Fatal(err)
	}
	d.Abort()
	f, err := blobs.Open(d.ID())
	if err != nil {
		t.Fatalf("committed body gone after Abort: %v", err)
	}
	f.Close()
	if n := count(t, st, accounts[0]); n != 1 {
		t.Fatalf("stored %d, want 1", n)
	}
}

// TestDraftFailedCommit: a commit the store refuses deletes the body; the deferred Abort then
// has nothing left to do.
func TestDraftFailedCommit(t *testing.T) {
	c, _, blobs, accounts := setup(t)
	d := draft(t, c, sample)
	_, err := d.Commit(context.Background(), Message{Targets: []store.Target{{AccountID: accounts[0].ID, Mailbox: "No Such Mailbox"}}})
	if err == nil {
		t.Fatal("commit to a missing mailbox succeeded")
	}
	d.Abort()
	if _, err := blobs.Open(d.ID()); !errors.Is(err, bodystore.ErrNotFound) {
		t.Fatalf("body of a failed commit still there: %v", err)
	}
}

// TestOpenMissingBody: the body store reports a body that is not there, or an id that cannot
// be one, as bodystore.ErrNotFound, which is what the protocols test for.
func TestOpenMissingBody(t *testing.T) {
	c, _, blobs, accounts := setup(t)
	ctx := context.Background()
	d := draft(t, c, sample)
	got, err := d.Commit(ctx, Message{Targets: []store.Target{{AccountID: accounts[0].ID, Mailbox: "INBOX"}}})
	if err != nil {
		t.Fatal(err)
	}
	bodies := blobs.Bodies()
	if err := bodies.Remove(ctx, got.BodyID); err != nil {
		t.Fatal(err)
	}
	if err := bodies.Remove(ctx, got.BodyID); err != nil {
		t.Errorf("second remove: %v", err)
	}
	for _, id := range []string{got.BodyID, "../../etc/passwd", ""} {
		if _, err := bodies.Open(ctx, id); !errors.Is(err, bodystore.ErrNotFound) {
			t.Errorf("Open(%q) = %v, want bodystore.ErrNotFound", id, err)
		}
	}
}
