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

// The small pieces the files of the package share beside those in postgres.go: nullable times,
// rows changed, query parameters and row scanning.

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

// params collects a query's arguments: add appends one and returns its placeholder ("$3").
type params []any

func (p *params) add(v any) string {
	*p = append(*p, v)
	return "$" + strconv.Itoa(len(*p))
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
	return fromNanos(*n)
}

// deleteOne runs a DELETE that must remove one row.
func (s *Store) deleteOne(ctx context.Context, what, query string, args ...any) error {
	tag, err := s.pool.Exec(ctx, query, args...)
	if err := changedOne(tag, err); err != nil {
		return fmt.Errorf("%s: %w", what, err)
	}
	return nil
}
