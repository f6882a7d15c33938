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

// scanner is a row to scan: a pgx.Row, or the current row of pgx.Rows.
type scanner = pgx.Row

// collect scans every row with scan and closes rows.
func collect[T any](rows pgx.Rows, scan func(scanner) (T, error)) ([]T, error) {
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (T, error) { return scan(r) })
}

// scanRows calls fn for every row and closes rows.
func scanRows(rows pgx.Rows, fn func(scanner) error) error {
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return err
		}
	}
	return rows.Err()
}

// nanosOrNil stores a zero time as NULL.
func nanosOrNil(t time.Time) *int64 {
	if t.IsZero() {
		return nil
	}
	n := t.UnixNano()
	return &n
}

// nullTime turns a nullable stored time into a time.Time, zero for NULL.
func nullTime(n *int64) time.Time {
	if n == nil {
		return time.Time{}
	}
	return timeOf(*n)
}

// deleteOne runs a DELETE that must remove one row.
func (s *Store) deleteOne(ctx context.Context, what, query string, args ...any) error {
	tag, err := s.pool.Exec(ctx, query, args...)
	if err := changedOne(tag, err); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
