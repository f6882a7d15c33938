// Package postgres is the PostgreSQL backend of the store (github.com/jackc/pgx/v5 and its
// pgxpool), for several posthorn nodes sharing one database. It implements store.Store
// (directory, mailboxes, messages, flags, delivery, blob reference counts, Check),
// store.TextBacklog, and the interfaces beside it, one file each: the outbound queue with its
// leases (store.QueueLeaser), the mail log, logins, API tokens, the web UI's sessions, the
// audit log, the import ledger, the dashboard's counts, greylisting, the spam classifier's
// storage, bulk mail, the send API, the campaign webhooks' cursor, authenticated submission's
// credentials, grants, limits and DKIM keys (store.SubmissionStore, with store.SendAsLister)
// and the retention job's legal holds and pruning (store.RetentionStore). Not yet implemented:
// store.GDPRStore; nothing wires it into the application yet.
//
// Schema: migrations/NNNN_name.sql, embedded and applied at Open in one transaction under an
// advisory lock (migrate.go), so nodes that start together migrate once; table schema_version
// records each applied file, and a database newer than the program is refused. The schema is
// the SQLite backend's (store/sqlite), table for table and column for column: times are unix
// nanoseconds, flags one text column (store.JoinFlags), text compared bytewise (COLLATE "C")
// whatever the database's locale. The invariants are those of store/sqlite's package doc, and
// Check verifies the same list.
//
// Concurrency: transactions at READ COMMITTED; every write that assigns UIDs or MODSEQs, or
// removes messages, first locks the mailbox rows it touches with SELECT ... FOR UPDATE in
// ascending id order (lockMailboxes), and reads UIDNEXT and HIGHESTMODSEQ from the locked rows,
// so assignment is serialised per mailbox across nodes and two writers of the same mailboxes
// cannot deadlock; blob reference counts change in blob id order (Deliver's new references,
// CopyMessages's and dropBlobRefs's). Locks are taken mailbox rows first, then blob rows, then
// message and queue rows, on every path (IndexTexts, which locks no mailbox, and QueueDone,
// which locks a message's blob before deleting its queue rows, included), so no two writers
// wait for each other in a cycle.
//
// The outbound queue is claimed with FOR UPDATE SKIP LOCKED and leased to the node that claimed
// it (queue.go, store.QueueLeaser). Deliver validates the outbound recipients before its
// transaction (store.ValidDelivery), inserts the queue rows and the import ledger rows inside
// it, and signals QueueWake after its commit. Other writes that nodes could make at once are
// decided by the database: a row lock (SELECT ... FOR UPDATE, an upsert) or, where the order of
// a whole kind of write matters, a transaction-scoped advisory lock (the spam trainings, the
// inserts of campaign events, whose ids must become visible in order). Reads of several
// statements that must agree run in one REPEATABLE READ snapshot.
//
// Round trips: a write sends its statements in pipelined batches (pgx.Batch), the rows of many
// messages as arrays in one statement (unnest), and its change notification in its last batch;
// a Deliver of any number of messages takes about five round trips, a read one. The mailbox
// counters (message_count, message_bytes) are kept by statement-level triggers over transition
// tables (migrations/0002_core.sql), so a statement writes each mailbox row once whatever the
// number of its message rows.
//
// Change feed: every write collects store.Change events and publishes them on the Store's
// store.Hub after its commit, as store/sqlite does. Across nodes, the same transaction sends
// each event with pg_notify on channel "posthorn_changes" (delivered at commit, not before),
// and every Store LISTENs on one connection of its own and publishes what other Stores sent
// (notify.go), so an IMAP IDLE session on one node hears of a delivery on another.
//
// Lost connections: the pool replaces them by itself. When all are cut at once (a restart of
// the server, a failover), the first call fails with a temporary error (store.IsTemporary, which
// the servers answer "try again later" to) and the pool then checks every connection it hands
// out for a few seconds, so the next calls get live ones (health.go); the listening connection
// connects again by itself (notify.go). Nothing needs the Store to be opened anew.
//
// Full-text index (SEARCH BODY and TEXT): table message_text holds one row per blob delivered
// with a store.Text, lower-cased (Go's Unicode case folding), linked from the blob and message
// rows by text_doc as in store/sqlite; SearchText matches with LIKE on the lower-cased query,
// its wildcards escaped, helped by pg_trgm GIN indexes when the server has the extension
// (migrations/0002_core.sql creates them if it can, and works without).
package postgres

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"posthorn/internal/store"
)

// Store is a store.Store on one PostgreSQL database whose schema is up to date. Its methods are
// safe for concurrent use, also beside other Stores (nodes) on the same database.
type Store struct {
	pool      *pgxpool.Pool
	now       func() time.Time
	migrated  int           // migrations Open applied
	hub       *store.Hub    // the change feed of this Store's subscribers
	node      string        // this Store's name in the notifications it sends (notify.go)
	listener  *listener     // feeds hub with the changes other Stores commit
	queueWake chan struct{} // QueueWake's channel (queue.go)
}

var (
	_ store.Store       = (*Store)(nil)
	_ store.TextBacklog = (*Store)(nil)
)

// Open connects to the database at url (a postgres:// URL or key=value string, as pgx reads
// it), brings its schema up to date and starts listening for the changes other nodes commit.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open store: parse url: %w", err)
	}
	listenConfig := cfg.ConnConfig.Copy()
	(&connHealth{}).install(cfg)
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open store: %w", err)
	}
	s := &Store{pool: pool, now: time.Now, hub: store.NewHub(), queueWake: make(chan struct{}, 1)}
	if s.migrated, err = migrate(ctx, pool, s.now); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open store: %w", err)
	}
	if err := s.listen(ctx, listenConfig); err != nil {
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

// Close stops listening and closes the pool, waiting for connections in use to be released.
func (s *Store) Close() error {
	var err error
	if s.listener != nil {
		err = s.listener.stop()
	}
	s.pool.Close()
	if err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// Subscribe returns the changes to one account's mailboxes, committed by this Store or by
// another on the same database.
func (s *Store) Subscribe(accountID int64) (<-chan store.Change, func()) {
	return s.hub.Subscribe(accountID)
}

// inTx runs fn in a transaction at READ COMMITTED, committed if fn returns nil and rolled back
// otherwise.
func (s *Store) inTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginFunc(ctx, s.pool, fn)
}

// inTxPublish runs fn in a transaction like inTx; fn notes the changes it makes in its
// changeLog. They are sent to the other nodes in the transaction (pg_notify, delivered at
// commit) and published on this Store's hub once the commit has succeeded, never before.
func (s *Store) inTxPublish(ctx context.Context, fn func(tx pgx.Tx, changes *changeLog) error) error {
	var changes changeLog
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		changes = changeLog{node: s.node}
		if err := fn(tx, &changes); err != nil {
			return err
		}
		var b pgx.Batch
		changes.queueNotify(&b)
		return sendBatch(ctx, tx, &b)
	})
	if err != nil {
		return err
	}
	for _, c := range changes.all {
		s.hub.Publish(c)
	}
	return nil
}

// inReadTx runs fn in a read-only REPEATABLE READ transaction, so that its queries see one
// snapshot.
func (s *Store) inReadTx(ctx context.Context, fn func(tx pgx.Tx) error) error {
	return pgx.BeginTxFunc(ctx, s.pool, pgx.TxOptions{IsoLevel: pgx.RepeatableRead, AccessMode: pgx.ReadOnly}, fn)
}

// nowNanos returns the current time as stored: unix nanoseconds.
func (s *Store) nowNanos() int64 { return s.now().UnixNano() }

// fromNanos turns a stored time back into a time.Time.
func fromNanos(n int64) time.Time { return time.Unix(0, n) }

// uniqueViolation reports whether err is PostgreSQL's unique_violation (SQLSTATE 23505).
func uniqueViolation(err error) bool {
	var pg *pgconn.PgError
	return errors.As(err, &pg) && pg.Code == "23505"
}

// notFound turns pgx.ErrNoRows into store.ErrNotFound.
func notFound(err error) error {
	if errors.Is(err, pgx.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

// exists runs a SELECT EXISTS query and returns store.ErrNotFound if it is false.
func exists(ctx context.Context, q querier, query string, args ...any) error {
	var ok bool
	if err := q.QueryRow(ctx, query, args...).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return store.ErrNotFound
	}
	return nil
}

// querier is what a pool and a transaction have in common.
type querier interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	QueryRow(ctx context.Context, sql string, args ...any) pgx.Row
}

// affectedOne returns store.ErrNotFound unless the command changed a row.
func affectedOne(tag pgconn.CommandTag, err error) error {
	if err != nil {
		return err
	}
	if tag.RowsAffected() == 0 {
		return store.ErrNotFound
	}
	return nil
}

// scanString reads one text column.
func scanString(r pgx.CollectableRow) (string, error) {
	var v string
	return v, r.Scan(&v)
}

// scanInt64 reads one bigint column.
func scanInt64(r pgx.CollectableRow) (int64, error) {
	var v int64
	return v, r.Scan(&v)
}

// scanUID reads one UID column.
func scanUID(r pgx.CollectableRow) (uint32, error) {
	var v int64
	err := r.Scan(&v)
	return uint32(v), err
}
