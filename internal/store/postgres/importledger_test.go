package postgres

import (
	"errors"
	"slices"
	"testing"

	"posthorn/internal/store"
)

// TestImportLedger: a delivery with an import key records it in its transaction; the same key
// again in the same mailbox fails the whole delivery with store.ErrExists, leaving neither its
// message nor its blob row; another mailbox takes it; the rows go with their mailbox.
func TestImportLedger(t *testing.T) {
	s, alice := withAlice(t)
	ctx := t.Context()
	key := []byte("0123456789abcdef0123456789abcdef")
	deliver := func(blob, mailbox string) error {
		_, err := s.Deliver(ctx, []store.Delivery{{BlobID: blob, Size: 10,
			Targets: []store.Target{{AccountID: alice.ID, Mailbox: mailbox, ImportKey: key}}}})
		return err
	}
	box := func(name string) int64 {
		var id int64
		if err := s.pool.QueryRow(ctx, `SELECT id FROM mailboxes WHERE account_id = $1 AND name = $2`,
			alice.ID, name).Scan(&id); err != nil {
			t.Fatal(err)
		}
		return id
	}
	if ok, err := s.Imported(ctx, box("INBOX"), key); ok || err != nil {
		t.Fatalf("before: %v %v", ok, err)
	}
	if err := deliver("b1", "INBOX"); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Imported(ctx, box("INBOX"), key); !ok || err != nil {
		t.Fatalf("after: %v %v", ok, err)
	}
	if ok, err := s.Imported(ctx, box("INBOX"), []byte("another")); ok || err != nil {
		t.Fatalf("another key: %v %v", ok, err)
	}
	if err := deliver("b2", "INBOX"); !errors.Is(err, store.ErrExists) {
		t.Fatalf("same key again: %v", err)
	}
	if uids, err := s.ListUIDs(ctx, box("INBOX")); err != nil || !slices.Equal(uids, []uint32{1}) {
		t.Fatalf("INBOX after the refused import: %v, %v", uids, err)
	}
	if ok, err := s.HasBlob(ctx, "b2"); err != nil || ok {
		t.Fatalf("the refused import left its blob row: %t, %v", ok, err)
	}
	if err := deliver("b3", "Trash"); err != nil {
		t.Fatalf("another mailbox: %v", err)
	}
	trash := box("Trash")
	if _, err := s.pool.Exec(ctx, `DELETE FROM messages WHERE mailbox_id = $1`, trash); err != nil {
		t.Fatal(err)
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM mailboxes WHERE id = $1`, trash); err != nil {
		t.Fatal(err)
	}
	if ok, err := s.Imported(ctx, trash, key); ok || err != nil {
		t.Fatalf("deleted mailbox: %v %v", ok, err)
	}
}
