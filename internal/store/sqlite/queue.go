package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"posthorn/internal/address"
	"posthorn/internal/store"
)

var _ store.QueueStore = (*Store)(nil)

// queueColumns are the columns scanQueued reads, in its order.
const queueColumns = `SELECT id, blob_id, size, sender, recipient, domain, priority, ret, envid, notify, orcpt,
	requiretls, smtputf8, eightbit, queued_at, next_attempt, attempts, last_error, held, delay_notified,
	campaign_recipient_id FROM queue`

// newQueueRowsQuery reads the rows after an id. The unary + keeps held out of index queue_due:
// on held = 0 alone SQLite would take that index, read every row not held and sort them (the
// whole queue, each time the scheduler is told of new rows, which during a campaign is after
// every commit); on the rowid it reads only the rows asked for.
const newQueueRowsQuery = queueColumns + ` WHERE id > ? AND +held = 0 ORDER BY id LIMIT ?`

// enqueue inserts one queue row per outbound recipient of d, due at once; its blob row already
// counts them.
func (s *Store) enqueue(ctx context.Context, tx *sql.Tx, d store.Delivery, now int64) error {
	if len(d.Outbound) == 0 {
		return nil
	}
	insert, err := tx.PrepareContext(ctx, `INSERT INTO queue (blob_id, size, sender, recipient, domain,
		priority, ret, envid, notify, orcpt, requiretls, smtputf8, eightbit, queued_at, next_attempt,
		campaign_recipient_id) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer insert.Close()
	for _, o := range d.Outbound {
		rcpt, _ := address.Parse(o.Recipient) // store.ValidateOutbound checked it
		if _, err := insert.ExecContext(ctx, d.BlobID, d.Size, o.Sender, o.Recipient, rcpt.Domain,
			int(o.Priority), o.Ret, o.EnvID, o.Notify, o.ORcpt, o.RequireTLS, o.SMTPUTF8, o.EightBit,
			now, now, o.CampaignRecipient); err != nil {
			return fmt.Errorf("queue %s: %w", o.Recipient, err)
		}
		if o.CampaignRecipient != 0 {
			if err := markRecipientQueued(ctx, tx, o.CampaignRecipient, now); err != nil {
				return fmt.Errorf("queue %s: %w", o.Recipient, err)
			}
		}
	}
	return nil
}

// markRecipientQueued moves a campaign ledger row from pending to queued in the transaction
// that queues its message; a row that is not pending (already queued, skipped) is
// store.ErrConflict, so the delivery fails rather than queue it twice.
func markRecipientQueued(ctx context.Context, tx *sql.Tx, id, now int64) error {
	res, err := tx.ExecContext(ctx, `UPDATE campaign_recipients SET state = 'queued', updated_at = ?
		WHERE id = ? AND state = 'pending'`, now, id)
	if err != nil {
		return fmt.Errorf("campaign recipient %d: %w", id, err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return fmt.Errorf("campaign recipient %d: %w", id, err)
	} else if n != 1 {
		return fmt.Errorf("campaign recipient %d is not pending: %w", id, store.ErrConflict)
	}
	return nil
}

// wakeQueue signals QueueWake if any delivery queued a recipient.
func (s *Store) wakeQueue(deliveries []store.Delivery) {
	for _, d := range deliveries {
		if len(d.Outbound) > 0 {
			select {
			case s.queueWake <- struct{}{}:
			default:
			}
			return
		}
	}
}

// QueueWake is signalled after a commit of this Store that adds queue rows. Rows added by
// another process on the same file are not signalled: the scheduler also polls.
func (s *Store) QueueWake() <-chan struct{} { return s.queueWake }

func scanQueued(r scanner) (store.QueuedMessage, error) {
	var (
		q                  store.QueuedMessage
		prio               int
		queued, next       int64
		reqTLS, utf8, bits bool
	)
	err := r.Scan(&q.ID, &q.BlobID, &q.Size, &q.Sender, &q.Recipient, &q.Domain, &prio, &q.Ret, &q.EnvID,
		&q.Notify, &q.ORcpt, &reqTLS, &utf8, &bits, &queued, &next, &q.Attempts, &q.LastError, &q.Held,
		&q.DelayNotified, &q.CampaignRecipient)
	q.Priority = store.Priority(prio)
	q.RequireTLS, q.SMTPUTF8, q.EightBit = reqTLS, utf8, bits
	q.QueuedAt, q.NextAttempt = fromNanos(queued), fromNanos(next)
	return q, err
}

// DueQueue reads the due rows by index queue_due, a priority class at a time.
func (s *Store) DueQueue(ctx context.Context, now time.Time, limit int, exclude map[int64]bool) ([]store.QueuedMessage, error) {
	var out []store.QueuedMessage
	for _, prio := range []store.Priority{store.PriorityNormal, store.PriorityBulk} {
		if len(out) >= limit {
			break
		}
		// Rows in flight are skipped in Go: over-read by their number so a full page of due
		// rows still comes back.
		rows, err := s.read.QueryContext(ctx, queueColumns+` WHERE held = 0 AND priority = ? AND next_attempt <= ?
			ORDER BY next_attempt, id LIMIT ?`, int(prio), now.UnixNano(), limit-len(out)+len(exclude))
		if err != nil {
			return nil, fmt.Errorf("due queue: %w", err)
		}
		err = scanRows(rows, func(r scanner) error {
			q, err := scanQueued(r)
			if err != nil {
				return err
			}
			if !exclude[q.ID] && len(out) < limit {
				out = append(out, q)
			}
			return nil
		})
		if err != nil {
			return nil, fmt.Errorf("due queue: %w", err)
		}
	}
	return out, nil
}

// NewQueueRows returns rows above an id, by primary key.
func (s *Store) NewQueueRows(ctx context.Context, afterID int64, limit int) ([]store.QueuedMessage, error) {
	rows, err := s.read.QueryContext(ctx, newQueueRowsQuery, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("new queue rows: %w", err)
	}
	out, err := collect(rows, scanQueued)
	if err != nil {
		return nil, fmt.Errorf("new queue rows: %w", err)
	}
	return out, nil
}

// CountDueQueue counts the due rows, from index queue_due alone.
func (s *Store) CountDueQueue(ctx context.Context, now time.Time) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM queue WHERE held = 0 AND priority IN (0, 1)
		AND next_attempt <= ?`, now.UnixNano()).Scan(&n); err != nil {
		return 0, fmt.Errorf("count due queue: %w", err)
	}
	return n, nil
}

// NextQueueAttempt returns the earliest next attempt after the given time among rows not held.
func (s *Store) NextQueueAttempt(ctx context.Context, after time.Time) (time.Time, error) {
	var next sql.NullInt64
	// One index seek per priority class (index queue_due), not a scan of the deferred rows.
	if err := s.read.QueryRowContext(ctx, `SELECT min(n) FROM (
		SELECT * FROM (SELECT next_attempt AS n FROM queue WHERE held = 0 AND priority = 0 AND next_attempt > ?1
			ORDER BY next_attempt LIMIT 1)
		UNION ALL
		SELECT * FROM (SELECT next_attempt FROM queue WHERE held = 0 AND priority = 1 AND next_attempt > ?1
			ORDER BY next_attempt LIMIT 1))`, after.UnixNano()).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("next queue attempt: %w", err)
	}
	if !next.Valid {
		return time.Time{}, nil
	}
	return fromNanos(next.Int64), nil
}

// ListQueue returns every row, oldest first.
func (s *Store) ListQueue(ctx context.Context) ([]store.QueuedMessage, error) {
	rows, err := s.read.QueryContext(ctx, queueColumns+` ORDER BY queued_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list queue: %w", err)
	}
	out, err := collect(rows, scanQueued)
	if err != nil {
		return nil, fmt.Errorf("list queue: %w", err)
	}
	return out, nil
}

// GetQueued returns one row.
func (s *Store) GetQueued(ctx context.Context, id int64) (store.QueuedMessage, error) {
	q, err := scanQueued(s.read.QueryRowContext(ctx, queueColumns+` WHERE id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return q, fmt.Errorf("queue %d: %w", id, err)
	}
	return q, nil
}

// QueueDone deletes the rows and drops their blob references in one transaction, with a few
// statements over lists of ids rather than some per row: it is the write between a remote 250
// and the end of the window in which a crash duplicates a message, so it must be short.
func (s *Store) QueueDone(ctx context.Context, ids ...int64) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var unreferenced []string
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		refs := map[string]int64{}
		var order []string
		deleted := 0
		for chunk := range slices.Chunk(ids, 500) {
			rows, err := tx.QueryContext(ctx, `DELETE FROM queue WHERE id IN (`+placeholders(len(chunk))+
				`) RETURNING blob_id`, int64Args(chunk)...)
			if err != nil {
				return err
			}
			err = scanRows(rows, func(r scanner) error {
				var blobID string
				if err := r.Scan(&blobID); err != nil {
					return err
				}
				if refs[blobID] == 0 {
					order = append(order, blobID)
				}
				refs[blobID]++
				deleted++
				return nil
			})
			if err != nil {
				return err
			}
		}
		if deleted != len(ids) {
			return fmt.Errorf("queue ids %v: %w", ids, store.ErrNotFound)
		}
		var err error
		unreferenced, err = dropQueueRefs(ctx, tx, refs, order)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("queue done: %w", err)
	}
	return unreferenced, nil
}

// dropQueueRefs takes refs[id] references away from each blob, with one UPDATE per list of
// blobs losing the same number, then deletes the rows left without reference and their text
// index rows. It returns the deleted blob ids, sorted.
func dropQueueRefs(ctx context.Context, tx *sql.Tx, refs map[string]int64, order []string) ([]string, error) {
	byCount := map[int64][]any{}
	var counts []int64
	for _, id := range order {
		n := refs[id]
		if byCount[n] == nil {
			counts = append(counts, n)
		}
		byCount[n] = append(byCount[n], id)
	}
	var gone []string
	var goneArgs, docs []any
	for _, n := range counts {
		for chunk := range slices.Chunk(byCount[n], 500) {
			rows, err := tx.QueryContext(ctx, `UPDATE blobs SET refs = refs - ? WHERE id IN (`+
				placeholders(len(chunk))+`) RETURNING id, refs, text_doc`, append([]any{n}, chunk...)...)
			if err != nil {
				return nil, err
			}
			err = scanRows(rows, func(r scanner) error {
				var id string
				var left int64
				var doc sql.NullInt64
				if err := r.Scan(&id, &left, &doc); err != nil {
					return err
				}
				if left <= 0 {
					gone = append(gone, id)
					goneArgs = append(goneArgs, id)
					if doc.Valid {
						docs = append(docs, doc.Int64)
					}
				}
				return nil
			})
			if err != nil {
				return nil, err
			}
		}
	}
	for chunk := range slices.Chunk(goneArgs, 500) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM blobs WHERE id IN (`+placeholders(len(chunk))+`)`, chunk...); err != nil {
			return nil, err
		}
	}
	for chunk := range slices.Chunk(docs, 500) {
		if _, err := tx.ExecContext(ctx, `DELETE FROM message_text WHERE rowid IN (`+placeholders(len(chunk))+`)`,
			chunk...); err != nil {
			return nil, fmt.Errorf("drop text index rows: %w", err)
		}
	}
	slices.Sort(gone)
	return gone, nil
}

// placeholders returns "?, ?, ..." with n marks.
func placeholders(n int) string {
	return "?" + strings.Repeat(", ?", n-1)
}

func int64Args(ids []int64) []any {
	out := make([]any, len(ids))
	for i, id := range ids {
		out[i] = id
	}
	return out
}

// QueueDeferred records a failed attempt.
func (s *Store) QueueDeferred(ctx context.Context, id int64, next time.Time, lastError string) error {
	return s.updateQueued(ctx, id, `UPDATE queue SET attempts = attempts + 1, next_attempt = ?, last_error = ?
		WHERE id = ?`, next.UnixNano(), lastError, id)
}

// QueueDelayNotified marks rows whose delay DSN went out.
func (s *Store) QueueDelayNotified(ctx context.Context, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for chunk := range slices.Chunk(ids, 500) {
			if _, err := tx.ExecContext(ctx, `UPDATE queue SET delay_notified = 1 WHERE id IN (`+
				placeholders(len(chunk))+`)`, int64Args(chunk)...); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("queue delay notified: %w", err)
	}
	return nil
}

// SetQueueHeld holds or releases a row.
func (s *Store) SetQueueHeld(ctx context.Context, id int64, held bool) error {
	return s.updateQueued(ctx, id, `UPDATE queue SET held = ? WHERE id = ?`, held, id)
}

// RetryQueued makes a row due at now and releases it.
func (s *Store) RetryQueued(ctx context.Context, id int64, now time.Time) error {
	err := s.updateQueued(ctx, id, `UPDATE queue SET held = 0, next_attempt = ? WHERE id = ?`, now.UnixNano(), id)
	if err == nil {
		select {
		case s.queueWake <- struct{}{}:
		default:
		}
	}
	return err
}

// RetryAllQueued makes every row not held due at now.
func (s *Store) RetryAllQueued(ctx context.Context, now time.Time) (int64, error) {
	var n int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE queue SET next_attempt = ? WHERE held = 0 AND next_attempt > ?`,
			now.UnixNano(), now.UnixNano())
		if err != nil {
			return err
		}
		n, err = res.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("retry queue: %w", err)
	}
	select {
	case s.queueWake <- struct{}{}:
	default:
	}
	return n, nil
}

func (s *Store) updateQueued(ctx context.Context, id int64, query string, args ...any) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, query, args...)
		if err != nil {
			return err
		}
		return affectedOne(res)
	})
	if err != nil {
		return fmt.Errorf("queue %d: %w", id, err)
	}
	return nil
}

// QueueCounts counts rows per state.
func (s *Store) QueueCounts(ctx context.Context) (map[store.QueueState]int64, error) {
	out := map[store.QueueState]int64{store.QueueReady: 0, store.QueueDeferred: 0, store.QueueHeld: 0}
	rows, err := s.read.QueryContext(ctx, `SELECT CASE WHEN held = 1 THEN 'held' WHEN attempts > 0 THEN 'deferred'
		ELSE 'ready' END, count(*) FROM queue GROUP BY 1`)
	if err != nil {
		return nil, fmt.Errorf("queue counts: %w", err)
	}
	err = scanRows(rows, func(r scanner) error {
		var state string
		var n int64
		if err := r.Scan(&state, &n); err != nil {
			return err
		}
		out[store.QueueState(state)] = n
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("queue counts: %w", err)
	}
	return out, nil
}

// MTASTSPolicy returns a cached MTA-STS policy.
func (s *Store) MTASTSPolicy(ctx context.Context, domain string) (string, string, time.Time, error) {
	var policy, id string
	var fetched int64
	err := s.read.QueryRowContext(ctx, `SELECT policy, policy_id, fetched_at FROM mtasts_policies WHERE domain = ?`,
		strings.ToLower(domain)).Scan(&policy, &id, &fetched)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return "", "", time.Time{}, fmt.Errorf("mta-sts policy of %s: %w", domain, err)
	}
	return policy, id, fromNanos(fetched), nil
}

// SetMTASTSPolicy caches a domain's policy.
func (s *Store) SetMTASTSPolicy(ctx context.Context, domain, policy, id string, fetched time.Time) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		_, err := tx.ExecContext(ctx, `INSERT INTO mtasts_policies (domain, policy_id, policy, fetched_at)
			VALUES (?, ?, ?, ?) ON CONFLICT (domain) DO UPDATE SET policy_id = excluded.policy_id,
			policy = excluded.policy, fetched_at = excluded.fetched_at`,
			strings.ToLower(domain), id, policy, fetched.UnixNano())
		return err
	})
	if err != nil {
		return fmt.Errorf("cache mta-sts policy of %s: %w", domain, err)
	}
	return nil
}
