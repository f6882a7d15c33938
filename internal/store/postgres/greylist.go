package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/store"
)

var _ store.GreylistStore = (*Store)(nil)

// Greylist implements store.GreylistStore on table greylist. Nodes share the triplets: the
// row is taken FOR UPDATE, so two attempts of one triplet at once are decided one after the
// other, and a triplet first seen by two nodes at once starts once (the insert is an upsert).
func (s *Store) Greylist(ctx context.Context, triplet string, now time.Time, delay, expiry time.Duration) (bool, error) {
	// A triplet that passed and was seen lately passes without a write: its expiry is far.
	var last int64
	var passed bool
	err := s.pool.QueryRow(ctx, `SELECT last_seen, passed FROM greylist WHERE triplet = $1`, triplet).Scan(&last, &passed)
	if err == nil && passed && now.Sub(time.Unix(0, last)) < expiry/100 {
		return true, nil
	}
	var pass bool
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var first, last int64
		var passed bool
		err := tx.QueryRow(ctx, `SELECT first_seen, last_seen, passed FROM greylist WHERE triplet = $1 FOR UPDATE`,
			triplet).Scan(&first, &last, &passed)
		expired := now.Add(-expiry).UnixNano()
		switch {
		case err == pgx.ErrNoRows || err == nil && last < expired:
			// A new period: forget every expired triplet (the index on last_seen finds them)
			// and start this one.
			if _, err := tx.Exec(ctx, `DELETE FROM greylist WHERE last_seen < $1`, expired); err != nil {
				return err
			}
			_, err = tx.Exec(ctx, `INSERT INTO greylist (triplet, first_seen, last_seen, passed) VALUES ($1, $2, $2, false)
				ON CONFLICT (triplet) DO UPDATE SET last_seen = greatest(greylist.last_seen, excluded.last_seen)`,
				triplet, now.UnixNano())
			return err
		case err != nil:
			return err
		}
		pass = passed || now.Sub(time.Unix(0, first)) >= delay
		_, err = tx.Exec(ctx, `UPDATE greylist SET last_seen = $1, passed = $2 WHERE triplet = $3`, now.UnixNano(), pass, triplet)
		return err
	})
	if err != nil {
		return false, fmt.Errorf("greylist %s: %w", triplet, err)
	}
	return pass, nil
}
