package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"posthorn/internal/store"
)

var (
	_ store.ThrottleStore = (*Store)(nil)
	_ store.Leases        = (*Store)(nil)
)

// ThrottleAdd implements store.ThrottleStore (table throttle_counts, 0021_shared_state.sql):
// one upsert on the write connection, so it is atomic. Counts whose window ended are
// deleted whenever a new window begins (the index on started_at finds them).
func (s *Store) ThrottleAdd(ctx context.Context, key string, window time.Duration) (int64, time.Time, error) {
	now := s.nowNanos()
	var count, started int64
	err := s.write.QueryRowContext(ctx, `INSERT INTO throttle_counts (key, count, started_at) VALUES (?, 1, ?)
		ON CONFLICT (key) DO UPDATE SET
			count = CASE WHEN throttle_counts.started_at <= ?3 - ?4 THEN 1 ELSE throttle_counts.count + 1 END,
			started_at = CASE WHEN throttle_counts.started_at <= ?3 - ?4 THEN ?3 ELSE throttle_counts.started_at END
		RETURNING count, started_at`, key, now, now, window.Nanoseconds()).Scan(&count, &started)
	if err != nil {
		return 0, time.Time{}, fmt.Errorf("add to throttle count: %w", err)
	}
	if count == 1 && started == now { // a new window: drop the ended ones
		if _, err := s.write.ExecContext(ctx, `DELETE FROM throttle_counts WHERE started_at <= ?`,
			now-window.Nanoseconds()); err != nil {
			return 0, time.Time{}, fmt.Errorf("prune throttle counts: %w", err)
		}
	}
	return count, time.Unix(0, started), nil
}

// ThrottleRefund implements store.ThrottleStore.
func (s *Store) ThrottleRefund(ctx context.Context, key string, start time.Time) error {
	if _, err := s.write.ExecContext(ctx, `UPDATE throttle_counts SET count = count - 1
		WHERE key = ? AND started_at = ? AND count > 0`, key, start.UnixNano()); err != nil {
		return fmt.Errorf("refund throttle count: %w", err)
	}
	return nil
}

// TryAcquireLease implements store.Leases (table leases, 0021_shared_state.sql).
func (s *Store) TryAcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	now := s.nowNanos()
	var got string
	err := s.write.QueryRowContext(ctx, `INSERT INTO leases (name, holder, expires_at) VALUES (?, ?, ?)
		ON CONFLICT (name) DO UPDATE SET holder = excluded.holder, expires_at = excluded.expires_at
			WHERE leases.holder = excluded.holder OR leases.expires_at <= ?
		RETURNING holder`, name, holder, now+ttl.Nanoseconds(), now).Scan(&got)
	if errors.Is(err, sql.ErrNoRows) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("acquire lease %s: %w", name, err)
	}
	return got == holder, nil
}

// RenewLease implements store.Leases.
func (s *Store) RenewLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	now := s.nowNanos()
	res, err := s.write.ExecContext(ctx, `UPDATE leases SET expires_at = ? WHERE name = ? AND holder = ? AND expires_at > ?`,
		now+ttl.Nanoseconds(), name, holder, now)
	if err != nil {
		return false, fmt.Errorf("renew lease %s: %w", name, err)
	}
	n, err := res.RowsAffected()
	if err != nil {
		return false, fmt.Errorf("renew lease %s: %w", name, err)
	}
	return n == 1, nil
}

// ReleaseLease implements store.Leases.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM leases WHERE name = ? AND holder = ?`, name, holder); err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
}
