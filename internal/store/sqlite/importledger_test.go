package sqlite

import (
	"errors"
	"testing"

	"posthorn/internal/store"
)

// TestImportLedger: a delivery with an import key records it in its transaction; the same key
// again in the same mailbox fails the delivery and stores nothing; another mailbox takes it;
// the rows go with their mailbox.
func TestImportLedger(t *testing.T) {
	s, alice := openWithAlice(t)
	ctx := t.Context()
	if _, err := s.CreateMailbox(ctx, alice.ID, "Old", ""); err != nil {
		t.Fatal(err)
	}
	key := []byte("0123456789abcdef0123456789abcdef")
	deliver := func(blob, mailbox string) error {
		_, err := s.Deliver(ctx, []store.Delivery{{BlobID: blob, Size: 10,
			Targets: []store.Target{{AccountID: alice.ID, Mailbox: mailbox, ImportKey: key}}}})
		return err
	}
	box := func(name string) store.Mailbox {
		mb, err := s.GetMailbox(ctx, alice.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		return mb
	}
	if ok, err := s.Imported(ctx, box("INBOX").ID, key); ok || err != nil {
		t.Fatalf("before: %v %v", ok, err)
	}
	if err := deliver("b1", "INBOX"); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Imported(ctx, box("INBOX").ID, key); !ok || err != nil {
		t.Fatalf("after: %v %v", ok, err)
	}
	if err := deliver("b2", "INBOX"); !errors.Is(err, store.ErrExists) {
		t.Fatalf("same key again: %v", err)
	}
	if n := box("INBOX").MessageCount; n != 1 {
		t.Fatalf("INBOX has %d messages", n)
	}
	if err := deliver("b3", "Old"); err != nil {
		t.Fatalf("another mailbox: %v", err)
	}
	old := box("Old")
	if _, err := s.DeleteMailbox(ctx, alice.ID, "Old"); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Imported(ctx, old.ID, key); ok || err != nil {
		t.Fatalf("deleted mailbox: %v %v", ok, err)
	}
}
