package pgbody

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/bodystore"
)

// Body is a committed body open for reading. Its ReadAt may be called concurrently.
type Body struct {
	rd   reader
	size int64
}

var _ bodystore.Body = (*Body)(nil)

// Size is the body's length, read with its row at Open: it costs nothing.
func (b *Body) Size() (int64, error) { return b.size, nil }

// ReadAt reads len(p) octets from off, as os.File does: fewer only at the end, with io.EOF.
func (b *Body) ReadAt(p []byte, off int64) (int, error) { return b.rd.readAt(p, off, b.size) }

// Close gives back the read-ahead buffer.
func (b *Body) Close() error {
	b.rd.release()
	return nil
}

// reader reads the chunks of one body, with a window of read-ahead.
type reader struct {
	s         *Store
	ctx       context.Context
	id        string
	chunkSize int64

	mu     sync.Mutex
	win    []byte // octets from winOff, nil: none yet
	winOff int64
}

// readAt reads p from off of a body whose first end octets are in the database, with the
// semantics of io.ReaderAt.
func (r *reader) readAt(p []byte, off, end int64) (int, error) {
	if off < 0 {
		return 0, fmt.Errorf("read body %s: negative offset %d", r.id, off)
	}
	if len(p) == 0 {
		return 0, nil
	}
	if off >= end {
		return 0, io.EOF
	}
	n := int(min(int64(len(p)), end-off))
	if err := r.read(p[:n], off, end); err != nil {
		return 0, err
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// read fills p, which lies within the first end octets, through the window when p is smaller.
func (r *reader) read(p []byte, off, end int64) error {
	if len(p) >= window {
		return r.fetch(p, off)
	}
	r.mu.Lock()
	if r.win != nil && off >= r.winOff && off+int64(len(p)) <= r.winOff+int64(len(r.win)) {
		copy(p, r.win[off-r.winOff:])
		r.mu.Unlock()
		return nil
	}
	r.mu.Unlock()
	win := r.s.getWindow()[:min(window, end-off)]
	if err := r.fetch(win, off); err != nil {
		r.s.putWindow(win)
		return err
	}
	copy(p, win)
	r.mu.Lock()
	old := r.win
	r.win, r.winOff = win, off
	r.mu.Unlock()
	if old != nil {
		r.s.putWindow(old)
	}
	return nil
}

func (r *reader) release() {
	r.mu.Lock()
	win := r.win
	r.win = nil
	r.mu.Unlock()
	if win != nil {
		r.s.putWindow(win)
	}
}

// errChunkMissing is the error of a read that found fewer octets than the body has: it was
// removed while open.
var errChunkMissing = fmt.Errorf("chunk missing (removed while open): %w", bodystore.ErrNotFound)

// fetch reads exactly p from off, in one query: of each chunk p spans, only the substring it
// wants.
func (r *reader) fetch(p []byte, off int64) error {
	cs := r.chunkSize
	first, last := off/cs, (off+int64(len(p))-1)/cs
	rows, err := r.s.pool.Query(r.ctx, `SELECT seq, substring(data
			FROM (greatest($2 - seq::bigint * $4, 0) + 1)::integer
			FOR (least($2 + $3 - seq::bigint * $4, $4) - greatest($2 - seq::bigint * $4, 0))::integer)
		FROM body_chunks WHERE body_id = $1 AND seq BETWEEN $5 AND $6 ORDER BY seq`,
		r.id, off, int64(len(p)), cs, first, last)
	if err != nil {
		return fmt.Errorf("read body %s: %w", r.id, err)
	}
	defer rows.Close()
	got, want := 0, first
	for rows.Next() {
		var seq int64
		if err := rows.Scan(&seq, nil); err != nil {
			return fmt.Errorf("read body %s: %w", r.id, err)
		}
		n, ok, err := copyBytes(rows, 1, p[got:])
		if err != nil {
			return fmt.Errorf("read body %s: %w", r.id, err)
		}
		if seq != want || !ok || n == 0 {
			return fmt.Errorf("read body %s at %d: %w", r.id, off, errChunkMissing)
		}
		got += n
		want++
	}
	if err := rows.Err(); err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return fmt.Errorf("read body %s: %w", r.id, err)
	}
	if got != len(p) {
		return fmt.Errorf("read body %s at %d: %w", r.id, off, errChunkMissing)
	}
	return nil
}

// copyBytes copies the bytea column i of rows' current row into dst, without the copy Scan
// would allocate, and reports whether it fitted. A NULL is 0 octets.
func copyBytes(rows pgx.Rows, i int, dst []byte) (int, bool, error) {
	if rows.FieldDescriptions()[i].Format == pgx.BinaryFormatCode {
		raw := rows.RawValues()[i] // binary bytea: the octets themselves
		return copy(dst, raw), len(raw) <= len(dst), nil
	}
	var data []byte
	dest := make([]any, len(rows.FieldDescriptions()))
	dest[i] = &data
	if err := rows.Scan(dest...); err != nil {
		return 0, false, err
	}
	return copy(dst, data), len(data) <= len(dst), nil
}
