package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/store"
)

// What the retention job reads and removes (store.RetentionStore,
// migrations/0005_retention.sql): the legal holds of accounts, the messages older than a
// date, and old records, removed pruneBatch rows per transaction so that other writers wait
// at most for one batch's row locks.

var _ store.RetentionStore = (*Store)(nil)

// pruneBatch is how many rows one transaction of PruneRecords removes.
const pruneBatch = 2000

// SetLegalHold implements store.RetentionStore. The account row is share-locked, so it cannot
// be removed before the hold is written.
func (s *Store) SetLegalHold(ctx context.Context, accountID int64, on bool, at time.Time) error {
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if err := accountExists(ctx, tx, accountID); err != nil {
			return err
		}
		if !on {
			_, err := tx.Exec(ctx, `DELETE FROM legal_holds WHERE account_id = $1`, accountID)
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO legal_holds (account_id, since) VALUES ($1, $2)
			ON CONFLICT (account_id) DO NOTHING`, accountID, at.UnixNano())
		if isForeignKey(err) {
			return store.ErrNotFound
		}
		return err
	})
	if err != nil {
		return fmt.Errorf("set legal hold of account %d: %w", accountID, err)
	}
	return nil
}

// LegalHolds implements store.RetentionStore.
func (s *Store) LegalHolds(ctx context.Context) ([]store.LegalHold, error) {
	rows, err := s.pool.Query(ctx, `SELECT account_id, since FROM legal_holds ORDER BY account_id`)
	if err != nil {
		return nil, fmt.Errorf("list legal holds: %w", err)
	}
	holds, err := collect(rows, func(r scanner) (store.LegalHold, error) {
		var h store.LegalHold
		var since int64
		err := r.Scan(&h.AccountID, &since)
		h.Since = fromNanos(since).UTC()
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("list legal holds: %w", err)
	}
	return holds, nil
}

// MessagesBefore implements store.RetentionStore.
func (s *Store) MessagesBefore(ctx context.Context, mailboxID int64, before time.Time) ([]uint32, error) {
	var uids []uint32
	err := s.inReadTx(ctx, func(tx pgx.Tx) error {
		if err := exists(ctx, tx, `SELECT EXISTS (SELECT 1 FROM mailboxes WHERE id = $1)`, mailboxID); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT uid FROM messages WHERE mailbox_id = $1 AND internal_date < $2
			ORDER BY uid`, mailboxID, before.UnixNano())
		if err != nil {
			return err
		}
		uids, err = pgx.CollectRows(rows, scanUID)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("messages of mailbox %d before %s: %w", mailboxID, before.UTC().Format(time.RFC3339), err)
	}
	return uids, nil
}

// heldAddresses is a CTE of the addresses of the accounts under legal hold.
const heldAddresses = `WITH held (address) AS (SELECT a.address FROM legal_holds h JOIN accounts a ON a.id = h.account_id) `

// The rows each kind of PruneRecords removes, with the time as $1: the table, its key and the
// query selecting the keys of the rows to remove.
var pruneKinds = []struct {
	name, table, key, selected string
}{
	{"mail events", "mail_events", "id", heldAddresses + `SELECT e.id FROM mail_events e WHERE e.time < $1
		AND lower(e.sender) NOT IN (SELECT address FROM held)
		AND NOT EXISTS (SELECT 1 FROM mail_event_rcpts r WHERE r.event_id = e.id AND lower(r.address) IN (SELECT address FROM held))
		AND NOT EXISTS (SELECT 1 FROM mail_event_mailboxes m WHERE m.event_id = e.id AND lower(m.account) IN (SELECT address FROM held))`},
	{"tracking events", "campaign_events", "id", `SELECT id FROM campaign_events WHERE at < $1 AND kind IN ('open', 'click')`},
	{"login sources", "login_sources", "(account_id, source)", `SELECT account_id, source FROM login_sources WHERE last_success < $1
		AND account_id NOT IN (SELECT account_id FROM legal_holds)`},
	{"web logins", "web_logins", "id", `SELECT id FROM web_logins WHERE at < $1
		AND account_id NOT IN (SELECT account_id FROM legal_holds)`},
}

// PruneRecords implements store.RetentionStore.
func (s *Store) PruneRecords(ctx context.Context, p store.Prune) (store.Pruned, error) {
	var out store.Pruned
	counts := []*int64{&out.MailEvents, &out.TrackingEvents, &out.LoginSources, &out.WebLogins}
	befores := []time.Time{p.MailEventsBefore, p.TrackingBefore, p.LoginsBefore, p.LoginsBefore}
	for i, k := range pruneKinds {
		if befores[i].IsZero() {
			continue
		}
		n, err := s.prune(ctx, k.table, k.key, k.selected, befores[i].UnixNano(), p.DryRun)
		if err != nil {
			return out, fmt.Errorf("remove %s before %s: %w", k.name, befores[i].UTC().Format(time.RFC3339), err)
		}
		*counts[i] = n
	}
	return out, nil
}

// prune removes (or, dryRun, counts) the rows of table whose key selected selects, a batch
// per transaction (each statement its own).
func (s *Store) prune(ctx context.Context, table, key, selected string, before int64, dryRun bool) (int64, error) {
	if dryRun {
		var n int64
		err := s.pool.QueryRow(ctx, `SELECT count(*) FROM (`+selected+`) AS pruned`, before).Scan(&n)
		return n, err
	}
	del := `DELETE FROM ` + table + ` WHERE ` + key + ` IN (` + selected + ` LIMIT $2)`
	var total int64
	for {
		tag, err := s.pool.Exec(ctx, del, before, pruneBatch)
		if err != nil {
			return total, err
		}
		n := tag.RowsAffected()
		total += n
		if n < pruneBatch {
			return total, nil
		}
	}
}
