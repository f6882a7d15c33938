package postgres

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"posthorn/internal/store"
)

// The small pieces every file of the package shares: stored times, rows not found, rows
// changed.

// timeOf turns a stored time (unix nanoseconds) back into a time.Time.
func timeOf(n int64) time.Time { return time.Unix(0, n) }

// timeOrZero is timeOf, except that 0 (never) is the zero time.
func timeOrZero(n int64) time.Time {
	if n == 0 {
		return time.Time{}
	}
	return time.Unix(0, n)
}

// nanosOrZero is the stored form of a time that may be zero (never): 0.
func nanosOrZero(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixNano()
}

// notFound turns pgx.ErrNoRows into store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// changedOne returns store.ErrNotFound unless the command changed a row.
func changedOne(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// isForeignKey reports whether err is a foreign key violation (SQLSTATE 23503): a row naming
// an account, a campaign... that does not exist.
func isForeignKey(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23503"
}

// isUnique reports whether err is a unique violation (SQLSTATE 23505).
func isUnique(err error) bool {
	var pe *pgconn.PgError
	return errors.As(err, &pe) && pe.Code == "23505"
}

// wrapf wraps a non-nil err with a lower-case context, as fmt.Errorf("...: %w").
func wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}

// params collects a query's arguments: add appends one and returns its placeholder ("$3").
type params []any

func (p *params) add(v any) string {
	*p = append(*p, v)
	return "$" + strconv.Itoa(len(*p))
}

// readSnapshot runs fn in a read-only transaction that sees one snapshot of the database
// (REPEATABLE READ), for reads of several statements that must agree.
func (s *Store) readSnapshot(ctx context.Context, fn func(pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}
