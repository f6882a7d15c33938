// Package postgres is the PostgreSQL backend of the store (github.com/jackc/pgx/v5 and its
// pgxpool), for several posthorn nodes sharing one database. It is being built: it connects,
// migrates and implements the interfaces beside store.Store (one file each: the outbound queue
// with its leases, the mail log, logins, API tokens, the web UI's sessions, the audit log, the
// import ledger, the dashboard's counts, greylisting, the spam classifier's storage, bulk mail,
// the send API and the campaign webhooks' cursor); store.Store itself is still to come, and
// nothing wires the backend in.
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
// reference counts change in blob id order; the queue is claimed with FOR UPDATE SKIP LOCKED
// and leased to the node that claimed it (queue.go, store.QueueLeaser). Writes that nodes could
// make at once are decided by the database: a row lock (SELECT ... FOR UPDATE, an upsert) or,
// where the order of a whole kind of write matters, a transaction-scoped advisory lock (the
// spam trainings, the inserts of campaign events, whose ids must become visible in order).
// Reads of several statements that must agree run in one REPEATABLE READ snapshot.
//
// Deliver (the mail store's) must call store.ValidateOutbound before its transaction, enqueue and, for
// a target with an ImportKey, recordImport inside it, and wakeQueue after its commit.
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
