// Package pgbody keeps message bodies in PostgreSQL (github.com/jackc/pgx/v5 and its pgxpool),
// behind the interfaces of internal/bodystore: the body backend for several posthorn nodes
// sharing one database, beside the metadata of internal/store/postgres.
//
// Layout: a body is cut into chunks of ChunkSize octets (the last one shorter), one row each
// in body_chunks (body_id, seq from 0, data); a committed body has a row in bodies (id, size,
// chunk_size, created_at). Ids are bodystore.NewID's, the shape the file backend's are and
// the metadata's blob_id columns hold. The data column is stored uncompressed out of line
// (STORAGE EXTERNAL), so PostgreSQL reads a substring of it without reading the rest: a
// ReadAt reads only the chunks it spans, and of them only the octets it wants.
//
// Writing: Create makes an id and touches no row. Write fills a buffer of one chunk (grown as
// needed, so a small body holds little) and inserts each full chunk as soon as it is full,
// so memory stays bounded however large the body; Writer.ReadAt reads the inserted chunks
// back from the database and the rest from the buffer. SyncAll then, in one transaction for
// the whole batch, inserts every body's last chunk and its bodies row, and commits: one WAL
// flush for the batch (group commit).
//
// Durability: the chunks Write inserts are committed with synchronous_commit off (the pool's
// sessions run so), which costs no WAL flush of their own; SyncAll's transaction commits with
// synchronous_commit on. WAL is one sequence, and a synchronous commit flushes it up to its
// commit record, which lies after the records of every chunk inserted before SyncAll began: so
// when SyncAll returns, the batch's chunks are on disk as well as its rows.
//
// Visibility: a body is one that has a bodies row, so nothing is visible before SyncAll's
// commit; Open of an id without one is bodystore.ErrNotFound, chunks or not. Abort deletes
// the chunks (and the row, when the body was synced but its metadata commit failed).
// A crash leaves the chunks of bodies never synced: RemoveOrphans deletes those of past days.
// Remove deletes row and chunks in one statement; unlike an open file, a body removed while
// open is gone for its reader too, whose next ReadAt beyond what it read ahead is
// ErrNotFound.
//
// Reading: Open finds the row and reads the first 64 KiB (a window) in one query, since
// readers start at the beginning and most messages are smaller; a ReadAt smaller than a
// window that misses the one kept reads the next window ahead, so bufio's 4 KiB and io.Copy's
// 32 KiB reads cost a query per 64 KiB; a larger ReadAt reads straight into its buffer. A
// Body holds at most one window, given back at Close.
//
// Schema: the package creates its two tables itself at Open, when they are missing, under an
// advisory lock, so nodes that start together create them once; they live in the same
// database as the metadata but belong to no migration of internal/store/postgres.
//
// Nothing wires it in yet: internal/app opens internal/blob, as it opens the SQLite store.
package pgbody

import (
	"context"
	"fmt"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"posthorn/internal/bodystore"
)

// ChunkSize is the octets per body_chunks row: a ReadAt reads at most one partial chunk more
// than it wants, and a Writer buffers at most one.
const ChunkSize = 256 << 10

// window is the most a ReadAt smaller than it reads ahead, kept for the next ReadAt: readers
// go through bufio (4 KiB) or io.Copy (32 KiB), and one query per 64 KiB, not per 4 KiB,
// keeps the round trips few.
const window = 64 << 10

// schemaLock is the key of the advisory lock the tables are created under ("pgbodies" in
// ASCII), not internal/store/postgres's.
const schemaLock int64 = 0x7067626f64696573

// cleanupTimeout bounds the deletes of Abort and Close, which run even when the context of the
// body's creation is done (a client that went away).
const cleanupTimeout = 30 * time.Second

const schema = `
CREATE TABLE bodies (
	id         TEXT COLLATE "C" PRIMARY KEY,
	size       BIGINT NOT NULL CHECK (size >= 0),
	chunk_size INTEGER NOT NULL CHECK (chunk_size > 0),
	created_at BIGINT NOT NULL
);
CREATE TABLE body_chunks (
	body_id TEXT COLLATE "C" NOT NULL,
	seq     INTEGER NOT NULL CHECK (seq >= 0),
	data    BYTEA NOT NULL,
	PRIMARY KEY (body_id, seq)
);
ALTER TABLE body_chunks ALTER COLUMN data SET STORAGE EXTERNAL;
`

// Store is a body store in one PostgreSQL database. It implements bodystore.Store; its
// methods are safe for concurrent use.
type Store struct {
	pool    *pgxpool.Pool
	now     func() time.Time
	windows sync.Pool // of *[]byte, window octets: read-ahead buffers
}

var _ bodystore.Store = (*Store)(nil)

// Open connects to the database at url (a postgres:// URL or key=value string, as pgx reads
// it) and creates the tables when they are missing. The pool is the store's own: its sessions
// run with synchronous_commit off (see the package doc). Its size is the URL's pool_max_conns
// (pgxpool's default: the CPU count, at least 4); every Write of a full chunk, SyncAll, Open
// and window read holds a connection for one statement, never longer.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("open body store: parse url: %w", err)
	}
	cfg.ConnConfig.RuntimeParams["synchronous_commit"] = "off"
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("open body store: %w", err)
	}
	if err := createSchema(ctx, pool); err != nil {
		pool.Close()
		return nil, fmt.Errorf("open body store: %w", err)
	}
	return &Store{pool: pool, now: time.Now}, nil
}

// createSchema creates the tables in one transaction under the advisory lock schemaLock,
// unless they exist.
func createSchema(ctx context.Context, pool *pgxpool.Pool) error {
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, schemaLock); err != nil {
			return fmt.Errorf("take schema lock: %w", err)
		}
		var exists bool
		if err := tx.QueryRow(ctx, `SELECT to_regclass('body_chunks') IS NOT NULL`).Scan(&exists); err != nil {
			return fmt.Errorf("read schema: %w", err)
		}
		if exists {
			return nil
		}
		if _, err := tx.Exec(ctx, schema); err != nil {
			return fmt.Errorf("create tables: %w", err)
		}
		return nil
	})
}

// Close closes the pool, waiting for connections in use to be released.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// Create starts a new body; it writes nothing to the database yet. ctx bounds the Writer's
// inserts and reads.
func (s *Store) Create(ctx context.Context) (bodystore.Writer, error) {
	id, err := bodystore.NewID(s.now())
	if err != nil {
		return nil, err
	}
	return &Writer{s: s, ctx: ctx, id: id, rd: reader{s: s, ctx: ctx, id: id, chunkSize: ChunkSize}}, nil
}

// SyncAll inserts the last chunk and the bodies row of every body of batch and commits them in
// one transaction with synchronous_commit on: the batch and every chunk inserted before are
// durable and visible when it returns. A body synced already is skipped.
func (s *Store) SyncAll(ctx context.Context, batch []bodystore.Writer) error {
	writers := make([]*Writer, 0, len(batch))
	for _, bw := range batch {
		w, ok := bw.(*Writer)
		if !ok || w.s != s {
			return fmt.Errorf("sync body %s: not a body of this store", bw.ID())
		}
		if w.err != nil {
			return fmt.Errorf("sync body %s: %w", w.id, w.err)
		}
		if w.done {
			return fmt.Errorf("sync body %s: %w", w.id, errWriterDone)
		}
		if !w.synced {
			writers = append(writers, w)
		}
	}
	if len(writers) == 0 {
		return nil
	}
	now := s.now().UnixNano()
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var b pgx.Batch
		b.Queue(`SET LOCAL synchronous_commit = on`)
		for _, w := range writers {
			if len(w.buf) > 0 {
				b.Queue(`INSERT INTO body_chunks (body_id, seq, data) VALUES ($1, $2, $3)`, w.id, w.flushed, w.buf)
			}
			b.Queue(`INSERT INTO bodies (id, size, chunk_size, created_at) VALUES ($1, $2, $3, $4)`,
				w.id, w.size, ChunkSize, now)
		}
		return tx.SendBatch(ctx, &b).Close()
	})
	if err != nil {
		return fmt.Errorf("sync %d bodies: %w", len(writers), err)
	}
	for _, w := range writers {
		w.synced = true
	}
	return nil
}

// Open opens the committed body id. The query that finds its row reads its first window of
// octets too: readers start at the beginning, and most messages fit in it.
func (s *Store) Open(ctx context.Context, id string) (bodystore.Body, error) {
	if !bodystore.ValidID(id) {
		return nil, fmt.Errorf("open body %q: %w", id, bodystore.ErrNotFound)
	}
	b := &Body{rd: reader{s: s, ctx: ctx, id: id}}
	if err := b.open(); err != nil {
		b.rd.release()
		return nil, fmt.Errorf("open body %s: %w", id, err)
	}
	return b, nil
}

func (b *Body) open() error {
	r := &b.rd
	rows, err := r.s.pool.Query(r.ctx, `SELECT b.size, b.chunk_size, substring(c.data FROM 1 FOR $2)
		FROM bodies b LEFT JOIN body_chunks c ON c.body_id = b.id AND c.seq = 0 WHERE b.id = $1`, r.id, window)
	if err != nil {
		return err
	}
	defer rows.Close()
	if !rows.Next() {
		if err := rows.Err(); err != nil {
			return err
		}
		return bodystore.ErrNotFound
	}
	if err := rows.Scan(&b.size, &r.chunkSize, nil); err != nil {
		return err
	}
	if b.size == 0 {
		return nil
	}
	win := r.s.getWindow()
	n, ok, err := copyBytes(rows, 2, win)
	if err != nil || !ok || int64(n) != min(window, b.size, r.chunkSize) {
		r.s.putWindow(win)
		if err == nil {
			err = errChunkMissing
		}
		return err
	}
	r.win, r.winOff = win[:n], 0
	return rows.Err()
}

// Remove deletes the body id, its row and its chunks, in one statement. An unknown id is no
// error; a malformed one is bodystore.ErrNotFound.
func (s *Store) Remove(ctx context.Context, id string) error {
	if !bodystore.ValidID(id) {
		return fmt.Errorf("remove body %q: %w", id, bodystore.ErrNotFound)
	}
	if err := s.remove(ctx, id); err != nil {
		return fmt.Errorf("remove body %s: %w", id, err)
	}
	return nil
}

func (s *Store) remove(ctx context.Context, id string) error {
	_, err := s.pool.Exec(ctx, `WITH chunks AS (DELETE FROM body_chunks WHERE body_id = $1)
		DELETE FROM bodies WHERE id = $1`, id)
	return err
}

// RemoveOrphans deletes the chunks of bodies never synced whose ids are of a day before
// before's (UTC): what a crash, or a failed delete, left of uncommitted bodies. Bodies of
// before's day are left alone, since they may be being written. It returns the chunks deleted.
func (s *Store) RemoveOrphans(ctx context.Context, before time.Time) (int64, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM body_chunks c WHERE c.body_id < $1
		AND NOT EXISTS (SELECT 1 FROM bodies b WHERE b.id = c.body_id)`, before.UTC().Format("20060102"))
	if err != nil {
		return 0, fmt.Errorf("remove orphaned body chunks: %w", err)
	}
	return tag.RowsAffected(), nil
}

// getWindow and putWindow lend and take back a read-ahead buffer.
func (s *Store) getWindow() []byte {
	if p, ok := s.windows.Get().(*[]byte); ok {
		return *p
	}
	return make([]byte, window)
}

func (s *Store) putWindow(b []byte) {
	if cap(b) == window {
		b = b[:window]
		s.windows.Put(&b)
	}
}
