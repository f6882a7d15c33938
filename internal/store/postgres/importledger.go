package postgres

import (
	"context"
	"fmt"

	"posthorn/internal/store"
)

var _ store.ImportLedger = (*Store)(nil)

// Imported implements store.ImportLedger (table imported_messages, migrations/0002_core.sql).
// Deliver writes the row of a target with an ImportKey in the delivery's own transaction, so a
// message is in the ledger exactly when it is in the mailbox, however a run is interrupted; a key
// there already fails the delivery with store.ErrExists (imported by a run at the same time, on
// this node or another).
func (s *Store) Imported(ctx context.Context, mailboxID int64, key []byte) (bool, error) {
	var ok bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM imported_messages WHERE mailbox_id = $1 AND key = $2)`,
		mailboxID, key).Scan(&ok); err != nil {
		return false, fmt.Errorf("read import ledger: %w", err)
	}
	return ok, nil
}
