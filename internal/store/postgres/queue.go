package postgres

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/store"
)

// The outbound queue (store.QueueStore), shared by every node on the database, and its leases
// (store.QueueLeaser, migrations/0003_rest.sql): ClaimDueQueue picks the due rows with
// SELECT ... FOR UPDATE SKIP LOCKED, so two nodes claiming at once never wait for nor take the
// same row, and writes the node's name and the lease's end on them in the same statement. A
// row whose lease has ended is due again, for any node. DueQueue, NewQueueRows and
// CountDueQueue leave leased rows out, so a node that does not claim (one node alone, or the
// CLI) never sees rows another node is trying. An outcome ends the lease: QueueDone deletes the
// row, QueueDeferred clears it; so does SetQueueHeld (a held row is claimed by nobody, and the
// node trying it finds it lost at its next renewal). RetryQueued and RetryAllQueued leave a
// lease alone: the row is being tried already. Deliver inserts the rows in its own transaction
// (queueOutbound, mailbox.go); QueueDone drops their blob references as every writer does
// (dropBlobRefs, directory.go).

var (
	_ store.QueueStore  = (*Store)(nil)
	_ store.QueueLeaser = (*Store)(nil)
)

// queueColumns are the columns scanQueued reads, in its order.
const queueColumns = `SELECT id, blob_id, size, sender, recipient, domain, priority, ret, envid, notify, orcpt,
	requiretls, smtputf8, eightbit, queued_at, next_attempt, attempts, last_error, held, delay_notified,
	campaign_recipient_id FROM queue`

// queueReturning is queueColumns as an UPDATE's RETURNING list.
var queueReturning = strings.TrimSuffix(strings.TrimPrefix(queueColumns, "SELECT "), " FROM queue")

// wakeQueue signals QueueWake if any delivery queued a recipient; Deliver calls it after its
// commit.
func (s *Store) wakeQueue(deliveries []store.Delivery) {
	for _, d := range deliveries {
		if len(d.Outbound) > 0 {
			s.signalQueue()
			return
		}
	}
}

func (s *Store) signalQueue() {
	select {
	case s.queueWake <- struct{}{}:
	default:
	}
}

// QueueWake is signalled after a commit of this Store that adds or frees queue rows. Rows
// added by another node are not signalled: the scheduler also counts the due rows.
func (s *Store) QueueWake() <-chan struct{} { return s.queueWake }

func scanQueued(r pgx.Row) (store.QueuedMessage, error) {
	var (
		q            store.QueuedMessage
		prio         int
		queued, next int64
	)
	err := r.Scan(&q.ID, &q.BlobID, &q.Size, &q.Sender, &q.Recipient, &q.Domain, &prio, &q.Ret, &q.EnvID,
		&q.Notify, &q.ORcpt, &q.RequireTLS, &q.SMTPUTF8, &q.EightBit, &queued, &next, &q.Attempts, &q.LastError,
		&q.Held, &q.DelayNotified, &q.CampaignRecipient)
	q.Priority = store.Priority(prio)
	q.QueuedAt, q.NextAttempt = fromNanos(queued), fromNanos(next)
	return q, err
}

// queryQueued runs a query of queueColumns (or RETURNING queueReturning) and scans every row.
func queryQueued(ctx context.Context, q querier, sql string, args ...any) ([]store.QueuedMessage, error) {
	rows, err := q.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.QueuedMessage, error) { return scanQueued(r) })
}

// dueClass selects the due rows of one priority class ($1) at $2 that no lease holds, oldest
// next attempt first, at most $3.
const dueClass = ` WHERE NOT held AND priority = $1 AND next_attempt <= $2 AND lease_until <= $2
	ORDER BY next_attempt, id LIMIT $3`

// DueQueue reads the due rows by index queue_due, a priority class at a time.
func (s *Store) DueQueue(ctx context.Context, now time.Time, limit int, exclude map[int64]bool) ([]store.QueuedMessage, error) {
	var out []store.QueuedMessage
	for _, prio := range []store.Priority{store.PriorityNormal, store.PriorityBulk} {
		if len(out) >= limit {
			break
		}
		// Rows in flight are skipped here: over-read by their number so a full page of due
		// rows still comes back.
		rows, err := queryQueued(ctx, s.pool, queueColumns+dueClass, int(prio), now.UnixNano(), limit-len(out)+len(exclude))
		if err != nil {
			return nil, fmt.Errorf("due queue: %w", err)
		}
		for _, q := range rows {
			if !exclude[q.ID] && len(out) < limit {
				out = append(out, q)
			}
		}
	}
	return out, nil
}

// ClaimDueQueue leases due rows to node, a priority class at a time, in one transaction.
func (s *Store) ClaimDueQueue(ctx context.Context, node string, now, until time.Time, limit int) ([]store.QueuedMessage, error) {
	if node == "" {
		return nil, fmt.Errorf("claim queue: empty node name")
	}
	if !until.After(now) {
		return nil, fmt.Errorf("claim queue: lease ends at %v, not after %v", until, now)
	}
	var out []store.QueuedMessage
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		out = nil
		for _, prio := range []store.Priority{store.PriorityNormal, store.PriorityBulk} {
			if len(out) >= limit {
				break
			}
			// SKIP LOCKED passes over the rows another claim is taking right now; a row
			// another node claimed since this statement's snapshot is read again as it is
			// now (READ COMMITTED re-checks the WHERE of a locked row) and left out.
			rows, err := queryQueued(ctx, tx, `UPDATE queue SET claimed_by = $4, lease_until = $5
				WHERE id IN (SELECT id FROM queue`+dueClass+` FOR UPDATE SKIP LOCKED) RETURNING `+queueReturning,
				int(prio), now.UnixNano(), limit-len(out), node, until.UnixNano())
			if err != nil {
				return err
			}
			slices.SortFunc(rows, func(a, b store.QueuedMessage) int {
				if c := a.NextAttempt.Compare(b.NextAttempt); c != 0 {
					return c
				}
				return int(a.ID - b.ID)
			})
			out = append(out, rows...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim queue for %s: %w", node, err)
	}
	return out, nil
}

// RenewQueueLeases extends node's leases on ids.
func (s *Store) RenewQueueLeases(ctx context.Context, node string, ids []int64, until time.Time) ([]int64, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	rows, err := s.pool.Query(ctx, `UPDATE queue SET lease_until = $1 WHERE id = ANY($2) AND claimed_by = $3
		RETURNING id`, until.UnixNano(), ids, node)
	if err != nil {
		return nil, fmt.Errorf("renew queue leases of %s: %w", node, err)
	}
	held := make(map[int64]bool, len(ids))
	var id int64
	if _, err := pgx.ForEachRow(rows, []any{&id}, func() error {
		held[id] = true
		return nil
	}); err != nil {
		return nil, fmt.Errorf("renew queue leases of %s: %w", node, err)
	}
	var lost []int64
	for _, id := range ids {
		if !held[id] {
			lost = append(lost, id)
		}
	}
	return lost, nil
}

// ReleaseQueueLeases ends node's leases on ids.
func (s *Store) ReleaseQueueLeases(ctx context.Context, node string, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := s.pool.Exec(ctx, `UPDATE queue SET claimed_by = '', lease_until = 0
		WHERE id = ANY($1) AND claimed_by = $2`, ids, node); err != nil {
		return fmt.Errorf("release queue leases of %s: %w", node, err)
	}
	s.signalQueue()
	return nil
}

// NewQueueRows returns rows above an id, by primary key, without the leased ones.
func (s *Store) NewQueueRows(ctx context.Context, afterID int64, limit int) ([]store.QueuedMessage, error) {
	out, err := queryQueued(ctx, s.pool, queueColumns+` WHERE id > $1 AND NOT held AND lease_until <= $2
		ORDER BY id LIMIT $3`, afterID, s.now().UnixNano(), limit)
	if err != nil {
		return nil, fmt.Errorf("new queue rows: %w", err)
	}
	return out, nil
}

// CountDueQueue counts the due rows no lease holds.
func (s *Store) CountDueQueue(ctx context.Context, now time.Time) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM queue WHERE NOT held AND priority IN (0, 1)
		AND next_attempt <= $1 AND lease_until <= $1`, now.UnixNano()).Scan(&n); err != nil {
		return 0, fmt.Errorf("count due queue: %w", err)
	}
	return n, nil
}

// NextQueueAttempt returns the earliest next attempt after the given time among rows not held.
func (s *Store) NextQueueAttempt(ctx context.Context, after time.Time) (time.Time, error) {
	var next *int64
	// One index seek per priority class (index queue_due), not a scan of the deferred rows.
	if err := s.pool.QueryRow(ctx, `SELECT min(n) FROM (
		(SELECT next_attempt AS n FROM queue WHERE NOT held AND priority = 0 AND next_attempt > $1
			ORDER BY next_attempt LIMIT 1)
		UNION ALL
		(SELECT next_attempt FROM queue WHERE NOT held AND priority = 1 AND next_attempt > $1
			ORDER BY next_attempt LIMIT 1)) AS firsts`, after.UnixNano()).Scan(&next); err != nil {
		return time.Time{}, fmt.Errorf("next queue attempt: %w", err)
	}
	if next == nil {
		return time.Time{}, nil
	}
	return fromNanos(*next), nil
}

// ListQueue returns every row, oldest first.
func (s *Store) ListQueue(ctx context.Context) ([]store.QueuedMessage, error) {
	out, err := queryQueued(ctx, s.pool, queueColumns+` ORDER BY queued_at, id`)
	if err != nil {
		return nil, fmt.Errorf("list queue: %w", err)
	}
	return out, nil
}

// GetQueued returns one row.
func (s *Store) GetQueued(ctx context.Context, id int64) (store.QueuedMessage, error) {
	q, err := scanQueued(s.pool.QueryRow(ctx, queueColumns+` WHERE id = $1`, id))
	if err != nil {
		return q, fmt.Errorf("queue %d: %w", id, notFound(err))
	}
	return q, nil
}

// QueueDone deletes the rows and drops their blob references in one transaction, with a few
// statements whatever the number of rows: it is the write between a remote 250 and the end of
// the window in which a crash duplicates a message, so it must be short. The blob rows are
// locked (their counts changed, in id order) before the queue rows are deleted, the order of
// every writer (see dropBlobRefs).
func (s *Store) QueueDone(ctx context.Context, ids ...int64) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var unreferenced []string
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		// A row's blob never changes, and the rows can only go meanwhile (found missing below).
		rows, _ := tx.Query(ctx, `SELECT blob_id, count(*) FROM queue WHERE id = ANY($1) GROUP BY blob_id`, ids)
		refs, err := pgx.CollectRows(rows, scanBlobRef)
		if err != nil {
			return err
		}
		var found int64
		for _, r := range refs {
			found += r.n
		}
		if found != int64(len(ids)) {
			return fmt.Errorf("queue ids %v: %w", ids, store.ErrNotFound)
		}
		unreferenced, err = dropBlobRefs(ctx, tx, refs, func() error {
			tag, err := tx.Exec(ctx, `DELETE FROM queue WHERE id = ANY($1)`, ids)
			if err == nil && tag.RowsAffected() != int64(len(ids)) {
				err = fmt.Errorf("queue ids %v: %w", ids, store.ErrNotFound)
			}
			return err
		})
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("queue done: %w", err)
	}
	return unreferenced, nil
}

// QueueDeferred records a failed attempt and ends the row's lease.
func (s *Store) QueueDeferred(ctx context.Context, id int64, next time.Time, lastError string) error {
	return s.updateQueued(ctx, id, `UPDATE queue SET attempts = attempts + 1, next_attempt = $1, last_error = $2,
		claimed_by = '', lease_until = 0 WHERE id = $3`, next.UnixNano(), lastError, id)
}

// QueueDelayNotified marks rows whose delay DSN went out.
func (s *Store) QueueDelayNotified(ctx context.Context, ids ...int64) error {
	if len(ids) == 0 {
		return nil
	}
	if _, err := s.pool.Exec(ctx, `UPDATE queue SET delay_notified = true WHERE id = ANY($1)`, ids); err != nil {
		return fmt.Errorf("queue delay notified: %w", err)
	}
	return nil
}

// SetQueueHeld holds or releases a row, and ends its lease: the node trying a row the operator
// holds finds it lost at its next renewal.
func (s *Store) SetQueueHeld(ctx context.Context, id int64, held bool) error {
	return s.updateQueued(ctx, id, `UPDATE queue SET held = $1, claimed_by = '', lease_until = 0 WHERE id = $2`, held, id)
}

// RetryQueued makes a row due at now and releases it. A lease stays: the row is being tried
// already, and ending the lease would let another node try it at the same time.
func (s *Store) RetryQueued(ctx context.Context, id int64, now time.Time) error {
	err := s.updateQueued(ctx, id, `UPDATE queue SET held = false, next_attempt = $1 WHERE id = $2`, now.UnixNano(), id)
	if err == nil {
		s.signalQueue()
	}
	return err
}

// RetryAllQueued makes every row not held due at now; leases stay (a leased row is being
// tried already).
func (s *Store) RetryAllQueued(ctx context.Context, now time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE queue SET next_attempt = $1 WHERE NOT held AND next_attempt > $1`, now.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("retry queue: %w", err)
	}
	s.signalQueue()
	return tag.RowsAffected(), nil
}

func (s *Store) updateQueued(ctx context.Context, id int64, query string, args ...any) error {
	tag, err := s.pool.Exec(ctx, query, args...)
	if err := changedOne(tag, err); err != nil {
		return fmt.Errorf("queue %d: %w", id, err)
	}
	return nil
}

// QueueCounts counts rows per state.
func (s *Store) QueueCounts(ctx context.Context) (map[store.QueueState]int64, error) {
	out := map[store.QueueState]int64{store.QueueReady: 0, store.QueueDeferred: 0, store.QueueHeld: 0}
	rows, err := s.pool.Query(ctx, `SELECT CASE WHEN held THEN 'held' WHEN attempts > 0 THEN 'deferred'
		ELSE 'ready' END, count(*) FROM queue GROUP BY 1`)
	if err != nil {
		return nil, fmt.Errorf("queue counts: %w", err)
	}
	var state string
	var n int64
	if _, err := pgx.ForEachRow(rows, []any{&state, &n}, func() error {
		out[store.QueueState(state)] = n
		return nil
	}); err != nil {
		return nil, fmt.Errorf("queue counts: %w", err)
	}
	return out, nil
}

// MTASTSPolicy returns a cached MTA-STS policy.
func (s *Store) MTASTSPolicy(ctx context.Context, domain string) (string, string, time.Time, error) {
	var policy, id string
	var fetched int64
	err := s.pool.QueryRow(ctx, `SELECT policy, policy_id, fetched_at FROM mtasts_policies WHERE domain = $1`,
		strings.ToLower(domain)).Scan(&policy, &id, &fetched)
	if err != nil {
		return "", "", time.Time{}, fmt.Errorf("mta-sts policy of %s: %w", domain, notFound(err))
	}
	return policy, id, fromNanos(fetched), nil
}

// SetMTASTSPolicy caches a domain's policy.
func (s *Store) SetMTASTSPolicy(ctx context.Context, domain, policy, id string, fetched time.Time) error {
	if _, err := s.pool.Exec(ctx, `INSERT INTO mtasts_policies (domain, policy_id, policy, fetched_at)
		VALUES ($1, $2, $3, $4) ON CONFLICT (domain) DO UPDATE SET policy_id = excluded.policy_id,
		policy = excluded.policy, fetched_at = excluded.fetched_at`,
		strings.ToLower(domain), id, policy, fetched.UnixNano()); err != nil {
		return fmt.Errorf("cache mta-sts policy of %s: %w", domain, err)
	}
	return nil
}
