package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/store"
)

var (
	_ store.ThrottleStore = (*Store)(nil)
	_ store.Leases        = (*Store)(nil)
	_ store.SendCounter   = (*Store)(nil)
	_ store.SharedStore   = (*Store)(nil)
)

// dbNow is the database's clock in Unix nanoseconds: the nodes sharing a count or a lease
// read one clock, whatever their own say.
const dbNow = `(extract(epoch FROM clock_timestamp()) * 1000000000)::bigint`

// ThrottleAdd implements store.ThrottleStore (table throttle_counts, migrations
// 0004_shared_state.sql): one upsert, atomic across nodes (the row is locked by the
// conflict). Counts whose window ended are deleted whenever a new window begins.
func (s *Store) ThrottleAdd(ctx context.Context, key string, window time.Duration) (int64, time.Time, error) {
	var count, started int64
	var fresh bool
	err := s.pool.QueryRow(ctx, `WITH now AS (SELECT `+dbNow+` AS t)
		INSERT INTO throttle_counts AS c (key, count, started_at) SELECT $1, 1, t FROM now
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN c.started_at <= excluded.started_at - $2 THEN 1 ELSE c.count + 1 END,
			started_at = CASE WHEN c.started_at <= excluded.started_at - $2 THEN excluded.started_at ELSE c.started_at END
		RETURNING count, started_at, started_at = (SELECT t FROM now)`, key, window.Nanoseconds()).Scan(&count, &started, &fresh)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("add to throttle count: %w", err)
	}
	if count == 1 && fresh {
		if _, err := s.pool.Exec(ctx, `DELETE FROM throttle_counts WHERE started_at <= $1`,
			started-window.Nanoseconds()); err != nil {
			return 0, time.Time{}, fmt.Errorf("prune throttle counts: %w", err)
		}
	}
	return count, time.Unix(0, started), nil
}

// ThrottleRefund implements store.ThrottleStore.
func (s *Store) ThrottleRefund(ctx context.Context, key string, start time.Time) error {
	if _, err := s.pool.Exec(ctx, `UPDATE throttle_counts SET count = count - 1
		WHERE key = $1 AND started_at = $2 AND count > 0`, key, start.UnixNano()); err != nil {
		return fmt.Errorf("refund throttle count: %w", err)
	}
	return nil
}

// TryAcquireLease implements store.Leases (table leases, migrations 0004_shared_state.sql):
// one upsert that takes the row when it is free, expired or the holder's own.
func (s *Store) TryAcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	var got string
	err := s.pool.QueryRow(ctx, `INSERT INTO leases AS l (name, holder, expires_at) VALUES ($1, $2, `+dbNow+` + $3)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
			WHERE l.holder = excluded.holder OR l.expires_at <= `+dbNow+`
		RETURNING holder`, name, holder, ttl.Nanoseconds()).Scan(&got)
	if errors.Is(err, pgx.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	return got == holder, nil
}

// RenewLease implements store.Leases.
func (s *Store) RenewLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE leases SET expires_at = `+dbNow+` + $3
		WHERE name = $1 AND holder = $2 AND expires_at > `+dbNow, name, holder, ttl.Nanoseconds())
	if err != nil {
		return false, fmt.Errorf("renew lease %s: %w", name, err)
	}
	return tag.RowsAffected() == 1, nil
}

// ReleaseLease implements store.Leases.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM leases WHERE name = $1 AND holder = $2`, name, holder); err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}

// sentLogKept is how long the sending limits' rows are kept: the longest period they count.
const sentLogKept = 24 * time.Hour

// RecordSent implements store.SendCounter (table sent_log), as the SQLite store does: the
// rows in one transaction, then each account's rows older than a day before its latest.
func (s *Store) RecordSent(ctx context.Context, records ...store.SentRecord) error {
	if len(records) == 0 {
		return nil
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var b pgx.Batch
		latest := map[int64]time.Time{}
		for _, r := range records {
			b.Queue(`INSERT INTO sent_log (account_id, at, recipients) VALUES ($1, $2, $3)`,
				r.AccountID, r.At.UnixNano(), r.Recipients)
			if r.At.After(latest[r.AccountID]) {
				latest[r.AccountID] = r.At
			}
		}
		for id, at := range latest {
			b.Queue(`DELETE FROM sent_log WHERE account_id = $1 AND at < $2`, id, at.Add(-sentLogKept).UnixNano())
		}
		return tx.SendBatch(ctx, &b).Close()
	})
	if err != nil {
		return fmt.Errorf("record %d sent messages: %w", len(records), err)
	}
	return nil
}

// SentSince implements store.SendCounter.
func (s *Store) SentSince(ctx context.Context, accountID int64, since time.Time) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT coalesce(sum(recipients), 0)::bigint FROM sent_log
		WHERE account_id = $1 AND at >= $2`, accountID, since.UnixNano()).Scan(&n); err != nil {
		return 0, fmt.Errorf("sent by account %d: %w", accountID, err)
	}
	return n, nil
}

// SharedByNodes implements store.SharedStore: several nodes share one database.
func (s *Store) SharedByNodes() bool { return true }
