package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/store"
)

// The import ledger (migrations/0003_rest.sql, table imported_messages): the keys of the
// messages internal/importer delivered into each mailbox, written by Deliver in the delivery's
// own transaction (recordImport), so that a message is in the ledger exactly when it is in the
// mailbox, whenever a run is interrupted.

var _ store.ImportLedger = (*Store)(nil)

// Imported implements store.ImportLedger.
func (s *Store) Imported(ctx context.Context, mailboxID int64, key []byte) (bool, error) {
	var found bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM imported_messages WHERE mailbox_id = $1 AND key = $2)`,
		mailboxID, key).Scan(&found); err != nil {
		return false, fmt.Errorf("read import ledger: %w", err)
	}
	return found, nil
}

// recordImport adds key to the ledger of the mailbox, in Deliver's transaction for a target
// with an ImportKey; store.ErrExists if it is there, which fails the delivery: the message was
// imported already (by a run at the same time on this node or another).
func recordImport(ctx context.Context, tx pgx.Tx, mailboxID int64, key []byte) error {
	tag, err := tx.Exec(ctx, `INSERT INTO imported_messages (mailbox_id, key) VALUES ($1, $2)
		ON CONFLICT DO NOTHING`, mailboxID, key)
	if err != nil {
		return fmt.Errorf("record import: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("record import: %w", store.ErrExists)
	}
	return nil
}
