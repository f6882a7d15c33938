package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"posthorn/internal/store"
)

// The import ledger (migrations/0019_import.sql): the keys of the messages internal/importer
// delivered into each mailbox, written by deliver in the delivery's own transaction, so that a
// message is in the ledger exactly when it is in the mailbox, whenever a run is interrupted.

// Imported implements store.ImportLedger.
func (s *Store) Imported(ctx context.Context, mailboxID int64, key []byte) (bool, error) {
	var one int
	err := s.read.QueryRowContext(ctx, `SELECT 1 FROM imported_messages WHERE mailbox_id = ? AND key = ?`,
		mailboxID, key).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("read import ledger: %w", err)
	}
	return true, nil
}

// recordImport adds key to the ledger of the mailbox; store.ErrExists if it is there, which
// fails the delivery: the message was imported already (by a run at the same time).
func recordImport(ctx context.Context, tx *sql.Tx, mailboxID int64, key []byte) error {
	res, err := tx.ExecContext(ctx, `INSERT INTO imported_messages (mailbox_id, key) VALUES (?, ?)
		ON CONFLICT DO NOTHING`, mailboxID, key)
	if err != nil {
		return fmt.Errorf("record import: %w", err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return fmt.Errorf("record import: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("record import: %w", store.ErrExists)
	}
	return nil
}
