// Package postgres is the PostgreSQL backend of the store (github.com/jackc/pgx/v5 and its
// pgxpool), for several posthorn nodes sharing one database. It is being built: so far it
// connects and migrates; it implements none of the store interfaces yet and nothing wires it in.
//
// Schema: migrations/NNNN_name.sql, embedded and applied at Open in one transaction under an
// advisory lock (migrate.go), so nodes that start together migrate once; table schema_version
// records each applied file, and a database newer than the program is refused. The schema is
// the SQLite backend's (store/sqlite), table for table and column for column: times are unix
// nanoseconds, flags one text column, text compared bytewise (COLLATE "C") whatever the
// database's locale.
//
// The plan for concurrency: transactions at READ COMMITTED; every write that assigns UIDs or
// MODSEQs first locks the mailbox rows it touches with SELECT ... FOR UPDATE in ascending id
// order, so assignment is serialised per mailbox across nodes without deadlocks; blob
// reference counts change in blob id order; the queue is claimed with FOR UPDATE SKIP LOCKED.
package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
)

// Store is a connection pool on one PostgreSQL database whose schema is up to date.
type Store struct {
	pool     *pgxpool.Pool
	now      func() time.Time
	migrated int // migrations Open applied

	queueWake chan struct{} // QueueWake's channel (queue.go)
}

// Open connects to the database at url (a postgres:// URL or key=value string, as pgx reads
// it) and brings its schema up to date.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open store: parse url: %w", err)
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{pool: pool, now: time.Now, queueWake: make(chan struct{}, 1)}
	if s.migrated, err = migrate(ctx, pool, s.now); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	return s, nil
}

// Migrated reports how many migrations Open applied (0: the schema was up to date).
func (s *Store) Migrated() int { return s.migrated }

// Ping runs a trivial query.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.pool.QueryRow(ctx, "SELECT 1").Scan(&one)
}

// Close closes the pool, waiting for connections in use to be released.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}
