// Package sqlite implements store.Store on an SQLite database file (modernc.org/sqlite, no cgo).
//
// Connections: a Store holds two pools on the same file. Writes go through a pool of exactly one
// connection whose transactions start with BEGIN IMMEDIATE, so writers queue in Go instead of
// failing with SQLITE_BUSY on a lock upgrade; reads use a separate pool of query-only
// connections, which WAL mode lets run beside the writer. Another process (the admin CLI next to
// the running server) takes the same write lock and waits for it up to busyTimeout.
//
// Durability: journal_mode=WAL with synchronous=FULL, so a commit returns only after the WAL is
// fsync'd; Deliver's caller may answer 250 once Deliver returns.
//
// Schema: migrations/NNNN_name.sql, embedded and applied in order at Open in one transaction;
// table schema_version records each applied file. A database whose version is newer than the
// newest embedded migration is refused rather than misread. Before Open migrates an existing
// database it copies it, with VACUUM INTO, to backups/pre-migration-schema-N-TIME.sqlite beside
// the database file (snapshot.go), and keeps the copy. Snapshot takes the same consistent copy
// for internal/backup while the server runs.
//
// Invariants kept here and verified by Check: a message's UID is below its mailbox's uidnext and
// unique in the mailbox; its MODSEQ is at most the mailbox's highestmodseq; a blob row's refs
// equals the number of message rows and outbound queue rows naming it, and a blob row whose count
// reaches zero is deleted in the transaction that removed its last message or queue row; an
// alias target names an existing account or alias (removing one removes the targets naming it,
// and an alias left without target goes too); UIDVALIDITY values come from a counter that only grows, so a mailbox created again under
// an old name never reuses one (RFC 9051 §2.3.1.1).
//
// Changes (RFC 7162): a mailbox's highestmodseq grows by one per command that changes it (Deliver:
// per message), and the messages changed take the new value. An expunge, or a move out, deletes
// (or re-homes) the message row and records its UID in table expunged with the new MODSEQ, for
// QRESYNC's VANISHED; a UID is never both expunged and present. Flags are one text column, the
// normal form of flags.go. Every write that changes a mailbox collects store.Change events and
// publishes them on the Store's store.Hub once the transaction has committed, so a subscriber
// woken by an event always reads the state it announces. The hub is in-process: changes made by
// another process on the same file are not announced.
//
// Usage (RFC 9208 QUOTA, RFC 8438 STATUS SIZE): a mailbox row counts its messages and their
// octets in message_count and message_bytes, kept by triggers on the messages table
// (migrations/0004_quota.sql), so AccountUsage and MailboxSize read a few rows whatever the
// number of messages; Check verifies them. An account's quota_bytes is NULL for the server's
// default.
//
// Full-text index (SEARCH BODY and TEXT): table message_text (FTS5, contentless, trigram
// tokenizer, see migrations/0003_fulltext.sql) holds one row per blob delivered with a
// store.Text, written in the delivering transaction; the blob row and each of its message rows
// carry its rowid in text_doc (NULL: no text, e.g. delivered before the index existed), copies
// included, and the row is deleted with the blob's last reference. Check verifies both.
//
// Bulk mail (campaign*.go, migrations/0012_campaign.sql): the audience, the suppression ledger,
// templates, campaigns, their send ledger (campaign_recipients), links and events. A queue row
// carries the ledger row it delivers in campaign_recipient_id; Deliver moves that row from
// pending to queued in its own transaction and fails on a row that is not pending, so after a
// crash the sender resumes at the first pending row and nothing is queued twice. FillRecipients
// and the statistics run as SQL over the whole audience, never row by row in Go. The token key
// is the server secret "campaign-key".
//
// Names: addresses and domains are stored lower-cased; the mailbox name INBOX is matched
// case-insensitively (RFC 9051 §5.1), other names exactly, as the UTF-8 the caller gives; the
// hierarchy separator is "/".
package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"path/filepath"
	"runtime"
	"strings"
	"time"

	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"posthorn/internal/store"
)

// busyTimeout is how long a connection waits for a lock held by another connection or process.
const busyTimeout = 10 * time.Second

// Store is a store.Store on one SQLite file. Its methods are safe for concurrent use, also
// beside other processes using the same file.
type Store struct {
	write *sql.DB // one connection: every write transaction
	read  *sql.DB // query-only connections
	stmts writeStmts
	reads readStmts
	hub   *store.Hub // the change feed: what this process commits, published after the commit
	now   func() time.Time
	// queueWake is signalled after a commit that adds outbound queue rows (see QueueWake).
	queueWake chan struct{}
	// preMigrationBackup is the copy of the database Open took before migrating it ("": none).
	preMigrationBackup string
}

// PreMigrationBackup is the path of the copy of the database that Open took before it applied
// migrations to it, "" when it applied none to an existing database.
func (s *Store) PreMigrationBackup() string { return s.preMigrationBackup }

var _ store.Store = (*Store)(nil)

// writeStmts are the statements of the hot paths (Deliver, and the per-message steps of flag
// changes, expunge, copy and move), prepared once on the write connection and bound to each
// transaction with Tx.StmtContext.
type writeStmts struct {
	findMailbox   *sql.Stmt
	updateMailbox *sql.Stmt
	setKeywords   *sql.Stmt
	insertBlob    *sql.Stmt
	insertMessage *sql.Stmt
	setFlags      *sql.Stmt
	deleteMessage *sql.Stmt
	addExpunged   *sql.Stmt
	copyMessage   *sql.Stmt
	moveMessage   *sql.Stmt
	addBlobRefs   *sql.Stmt
	insertText    *sql.Stmt
	deleteText    *sql.Stmt
}

// queries pairs each statement with its SQL.
func (w *writeStmts) queries() []struct {
	stmt  **sql.Stmt
	query string
} {
	return []struct {
		stmt  **sql.Stmt
		query string
	}{
		{&w.findMailbox, `SELECT id, uidnext, highestmodseq, keywords FROM mailboxes
			WHERE account_id = ? AND name = ?`},
		{&w.updateMailbox, `UPDATE mailboxes SET uidnext = ?, highestmodseq = ? WHERE id = ?`},
		{&w.setKeywords, `UPDATE mailboxes SET keywords = ? WHERE id = ?`},
		{&w.insertBlob, `INSERT INTO blobs (id, size, refs, text_doc) VALUES (?, ?, ?, ?)
			ON CONFLICT (id) DO UPDATE SET refs = refs + excluded.refs RETURNING text_doc`},
		{&w.insertMessage, `INSERT INTO messages
			(mailbox_id, uid, modseq, flags, internal_date, size, blob_id, envelope, structure, text_doc)
			VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)`},
		{&w.setFlags, `UPDATE messages SET flags = ?, modseq = ? WHERE id = ?`},
		{&w.deleteMessage, `DELETE FROM messages WHERE id = ?`},
		{&w.addExpunged, `INSERT INTO expunged (mailbox_id, uid, modseq) VALUES (?, ?, ?)
			ON CONFLICT (mailbox_id, uid) DO UPDATE SET modseq = excluded.modseq`},
		{&w.copyMessage, `INSERT INTO messages
			(mailbox_id, uid, modseq, flags, internal_date, size, blob_id, envelope, structure, text_doc)
			SELECT ?, ?, ?, flags, internal_date, size, blob_id, envelope, structure, text_doc
			FROM messages WHERE id = ?`},
		{&w.moveMessage, `UPDATE messages SET mailbox_id = ?, uid = ?, modseq = ? WHERE id = ?`},
		{&w.addBlobRefs, `UPDATE blobs SET refs = refs + ? WHERE id = ?`},
		{&w.insertText, `INSERT INTO message_text (header, body) VALUES (?, ?)`},
		{&w.deleteText, `DELETE FROM message_text WHERE rowid = ?`},
	}
}

// readStmts are the lookups every SMTP recipient makes (store.Resolve), prepared once on the
// read pool (database/sql prepares them again on each connection that first runs them).
type readStmts struct {
	getDomain  *sql.Stmt
	getAccount *sql.Stmt
}

func (r *readStmts) queries() []struct {
	stmt  **sql.Stmt
	query string
} {
	return []struct {
		stmt  **sql.Stmt
		query string
	}{
		{&r.getDomain, `SELECT id, name, created_at FROM domains WHERE name = ?`},
		{&r.getAccount, accountColumns + ` WHERE address = ?`},
	}
}

// Open opens (creating if needed) the database at path and brings its schema up to date.
func Open(ctx context.Context, path string) (*Store, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("open store %s: %w", path, err)
	}
	s := &Store{hub: store.NewHub(), now: time.Now, queueWake: make(chan struct{}, 1)}
	if err := s.open(ctx, abs); err != nil {
		return nil, errors.Join(fmt.Errorf("open store %s: %w", path, err), s.Close())
	}
	return s, nil
}

// Ping runs a trivial query on the read pool.
func (s *Store) Ping(ctx context.Context) error {
	var one int
	return s.read.QueryRowContext(ctx, "SELECT 1").Scan(&one)
}

func (s *Store) open(ctx context.Context, path string) error {
	var err error
	s.write, err = sql.Open("sqlite", dsn(path, url.Values{
		"_txlock":       {"immediate"},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"FULL"},
	}))
	if err != nil {
		return err
	}
	s.write.SetMaxOpenConns(1)
	s.write.SetMaxIdleConns(1)
	s.write.SetConnMaxLifetime(0)
	s.write.SetConnMaxIdleTime(0)

	var mode string
	if err := s.write.QueryRowContext(ctx, "PRAGMA journal_mode").Scan(&mode); err != nil {
		return err
	}
	if !strings.EqualFold(mode, "wal") {
		// WAL is what lets readers run beside the writer; a filesystem without it (some
		// network filesystems) would bring SQLITE_BUSY errors under load.
		return fmt.Errorf("journal mode is %q, not WAL: is the file on a local filesystem?", mode)
	}
	if s.preMigrationBackup, err = migrate(ctx, s.write, path, s.now); err != nil {
		return err
	}

	s.read, err = sql.Open("sqlite", dsn(path, url.Values{"_query_only": {"1"}}))
	if err != nil {
		return err
	}
	n := max(4, runtime.GOMAXPROCS(0))
	s.read.SetMaxOpenConns(n)
	s.read.SetMaxIdleConns(n)
	if err := s.read.PingContext(ctx); err != nil {
		return err
	}
	return s.prepare(ctx)
}

// dsn builds a modernc.org/sqlite data source name for the file at the absolute path, with the
// settings every connection needs and the extra ones given.
func dsn(path string, extra url.Values) string {
	q := url.Values{
		"_busy_timeout": {fmt.Sprint(busyTimeout.Milliseconds())},
		"_foreign_keys": {"1"},
	}
	for k, v := range extra {
		q[k] = v
	}
	// A file: URI, so that a path with '?' or '#' in it survives.
	u := url.URL{Scheme: "file", Path: path, RawQuery: q.Encode()}
	return u.String()
}

func (s *Store) prepare(ctx context.Context) error {
	for _, p := range s.stmts.queries() {
		st, err := s.write.PrepareContext(ctx, p.query)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", p.query, err)
		}
		*p.stmt = st
	}
	for _, p := range s.reads.queries() {
		st, err := s.read.PrepareContext(ctx, p.query)
		if err != nil {
			return fmt.Errorf("prepare %q: %w", p.query, err)
		}
		*p.stmt = st
	}
	return nil
}

// Close closes the statements and both pools. It is safe on a partly opened Store.
func (s *Store) Close() error {
	var errs []error
	for _, p := range append(s.stmts.queries(), s.reads.queries()...) {
		if *p.stmt != nil {
			errs = append(errs, (*p.stmt).Close())
		}
	}
	for _, db := range []*sql.DB{s.read, s.write} {
		if db != nil {
			errs = append(errs, db.Close())
		}
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("close store: %w", err)
	}
	return nil
}

// inTx runs fn in a write transaction, committed if fn returns nil and rolled back otherwise.
func (s *Store) inTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.write.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return joinRollback(err, tx)
	}
	return tx.Commit()
}

// inTxPublish runs fn in a write transaction like inTx; fn notes the changes it makes with
// add, and they are published on the hub once the commit has succeeded, never before.
func (s *Store) inTxPublish(ctx context.Context, fn func(tx *sql.Tx, add func(store.Change)) error) error {
	var changes []store.Change
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		return fn(tx, func(c store.Change) { changes = append(changes, c) })
	})
	if err != nil {
		return err
	}
	for _, c := range changes {
		s.hub.Publish(c)
	}
	return nil
}

// Subscribe returns the changes this Store commits to one account's mailboxes. Changes made by
// another process on the same file (the admin CLI) are not seen.
func (s *Store) Subscribe(accountID int64) (<-chan store.Change, func()) {
	return s.hub.Subscribe(accountID)
}

// inReadTx runs fn in a read transaction, so that its queries see one snapshot.
func (s *Store) inReadTx(ctx context.Context, fn func(tx *sql.Tx) error) error {
	tx, err := s.read.BeginTx(ctx, &sql.TxOptions{ReadOnly: true})
	if err != nil {
		return err
	}
	if err := fn(tx); err != nil {
		return joinRollback(err, tx)
	}
	return rollback(tx)
}

// joinRollback rolls tx back after err, adding the rollback's own failure if any.
func joinRollback(err error, tx *sql.Tx) error {
	if rerr := rollback(tx); rerr != nil {
		return errors.Join(err, rerr)
	}
	return err
}

func rollback(tx *sql.Tx) error {
	if err := tx.Rollback(); err != nil && !errors.Is(err, sql.ErrTxDone) {
		return fmt.Errorf("rollback: %w", err)
	}
	return nil
}

// nowNanos returns the current time as stored: unix nanoseconds.
func (s *Store) nowNanos() int64 { return s.now().UnixNano() }

// fromNanos turns a stored time back into a time.Time.
func fromNanos(n int64) time.Time { return time.Unix(0, n) }

// splitAddress is store.SplitAddress.
func splitAddress(address string, catchAll bool) (addr, domain string, err error) {
	return store.SplitAddress(address, catchAll)
}

// mailboxName is store.MailboxName: INBOX is case-insensitive (RFC 9051 §5.1).
func mailboxName(name string) string { return store.MailboxName(name) }

// scanner is what *sql.Row and *sql.Rows have in common.
type scanner interface {
	Scan(dest ...any) error
}

// collect scans every row with scan and closes rows.
func collect[T any](rows *sql.Rows, scan func(scanner) (T, error)) ([]T, error) {
	var out []T
	err := scanRows(rows, func(r scanner) error {
		v, err := scan(r)
		out = append(out, v)
		return err
	})
	return out, err
}

func scanString(r scanner) (string, error) {
	var v string
	return v, r.Scan(&v)
}

// scanRows calls fn for every row and closes rows.
func scanRows(rows *sql.Rows, fn func(scanner) error) error {
	for rows.Next() {
		if err := fn(rows); err != nil {
			return errors.Join(err, rows.Close())
		}
	}
	return errors.Join(rows.Err(), rows.Close())
}

// affectedOne returns store.ErrNotFound unless res changed a row.
func affectedOne(res sql.Result) error {
	n, err := res.RowsAffected()
	if err != nil {
		return err
	}
	if n == 0 {
		return store.ErrNotFound
	}
	return nil
}
