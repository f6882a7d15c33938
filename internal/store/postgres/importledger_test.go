package postgres

import (
	"errors"
	"testing"

	"posthorn/internal/store"
)

// TestImportLedger: a delivery with an import key records it in its transaction; the same key
// again in the same mailbox fails the delivery (store.ErrExists from recordImport); another
// mailbox takes it; the rows go with their mailbox.
func TestImportLedger(t *testing.T) {
	s, alice := withAlice(t)
	ctx := t.Context()
	key := []byte("0123456789abcdef0123456789abcdef")
	deliver := func(blob, mailbox string) error {
		_, err := core(s).Deliver(ctx, []store.Delivery{{BlobID: blob, Size: 10,
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
	if err := deliver("b2", "INBOX"); !errors.Is(err, store.ErrExists) {
		t.Fatalf("same key again: %v", err)
	}
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT message_count FROM mailboxes WHERE id = $1`, box("INBOX")).Scan(&n); err != nil || n != 1 {
		t.Fatalf("INBOX has %d messages (%v), want 1", n, err)
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
