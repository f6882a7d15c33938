package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"posthorn/internal/store"
)

var _ store.GreylistStore = (*Store)(nil)

// Greylist implements store.GreylistStore on table greylist (migrations/0008_filter.sql).
func (s *Store) Greylist(ctx context.Context, triplet string, now time.Time, delay, expiry time.Duration) (bool, error) {
	// A triplet that passed and was seen lately passes without a write: its expiry is far.
	var last int64
	var passed bool
	err := s.read.QueryRowContext(ctx, `SELECT last_seen, passed FROM greylist WHERE triplet = ?`, triplet).Scan(&last, &passed)
	if err == nil && passed && now.Sub(time.Unix(0, last)) < expiry/100 {
		return true, nil
	}
	var pass bool
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		var first, last int64
		var passed bool
		err := tx.QueryRowContext(ctx, `SELECT first_seen, last_seen, passed FROM greylist WHERE triplet = ?`, triplet).
			Scan(&first, &last, &passed)
		expired := now.Add(-expiry).UnixNano()
		switch {
		case errors.Is(err, sql.ErrNoRows) || err == nil && last < expired:
			// A new period: forget every expired triplet (the index on last_seen finds them)
			// and start this one.
			if _, err := tx.ExecContext(ctx, `DELETE FROM greylist WHERE last_seen < ?`, expired); err != nil {
				return err
			}
			_, err = tx.ExecContext(ctx, `INSERT INTO greylist (triplet, first_seen, last_seen, passed) VALUES (?, ?, ?, 0)`,
				triplet, now.UnixNano(), now.UnixNano())
			return err
		case err != nil:
			return err
		}
		pass = passed || now.Sub(time.Unix(0, first)) >= delay
		_, err = tx.ExecContext(ctx, `UPDATE greylist SET last_seen = ?, passed = ? WHERE triplet = ?`, now.UnixNano(), pass, triplet)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("greylist %s: %w", triplet, err)
	}
	return pass, nil
}
