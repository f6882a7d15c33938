package pgbody

import (
	"context"
	"errors"
	"fmt"
	"io"

	"posthorn/internal/bodystore"
)

// errWriterDone is the error of a Writer used after Abort or Close.
var errWriterDone = errors.New("body already closed or aborted")

// Writer receives one new body: full chunks go to the database as they fill, the last one at
// SyncAll. It is used by one goroutine at a time.
type Writer struct {
	s   *Store
	ctx context.Context
	id  string
	rd  reader // reads back the chunks inserted

	buf     []byte // the octets after the inserted chunks, fewer than ChunkSize
	flushed int    // chunks inserted
	size    int64
	err     error // the first failed insert: the body is lost
	synced  bool  // SyncAll committed its row
	done    bool  // closed or aborted
}

var _ bodystore.Writer = (*Writer)(nil)

// ID is the new body's id.
func (w *Writer) ID() string { return w.id }

// Size is the number of octets written so far.
func (w *Writer) Size() int64 { return w.size }

// Write appends p, inserting every chunk it fills.
func (w *Writer) Write(p []byte) (int, error) {
	if w.err != nil {
		return 0, w.err
	}
	if w.done || w.synced {
		return 0, fmt.Errorf("write body %s: %w", w.id, errWriterDone)
	}
	written := 0
	for len(p) > 0 {
		if len(w.buf) == 0 && len(p) >= ChunkSize {
			// A whole chunk: inserted from p, not copied.
			if err := w.insert(p[:ChunkSize]); err != nil {
				return written, err
			}
			p = p[ChunkSize:]
			written += ChunkSize
			w.size += ChunkSize
			continue
		}
		k := min(ChunkSize-len(w.buf), len(p))
		w.grow(k)
		w.buf = append(w.buf, p[:k]...)
		p = p[k:]
		written += k
		w.size += int64(k)
		if len(w.buf) == ChunkSize {
			if err := w.insert(w.buf); err != nil {
				return written, err
			}
			w.buf = w.buf[:0]
		}
	}
	return written, nil
}

// grow makes room in buf for n more octets, never beyond ChunkSize.
func (w *Writer) grow(n int) {
	if len(w.buf)+n <= cap(w.buf) {
		return
	}
	c := min(ChunkSize, max(2*cap(w.buf), len(w.buf)+n, 4096))
	buf := make([]byte, len(w.buf), c)
	copy(buf, w.buf)
	w.buf = buf
}

// insert inserts the next chunk; a failure is the Writer's for good.
func (w *Writer) insert(chunk []byte) error {
	_, err := w.s.pool.Exec(w.ctx, `INSERT INTO body_chunks (body_id, seq, data) VALUES ($1, $2, $3)`,
		w.id, w.flushed, chunk)
	if err != nil {
		w.err = fmt.Errorf("write body %s: %w", w.id, err)
		return w.err
	}
	w.flushed++
	return nil
}

// ReadAt reads back what was written: the inserted chunks from the database, the rest from
// the buffer.
func (w *Writer) ReadAt(p []byte, off int64) (int, error) {
	if w.done {
		return 0, fmt.Errorf("read body %s: %w", w.id, errWriterDone)
	}
	inserted := int64(w.flushed) * ChunkSize
	if w.synced {
		inserted = w.size
	}
	if off < 0 || off >= w.size || len(p) == 0 {
		return w.rd.readAt(p, off, w.size) // the error or the empty read, without a query
	}
	n := 0
	if off < inserted {
		var err error
		if n, err = w.rd.readAt(p, off, inserted); err != nil && err != io.EOF {
			return n, err
		}
	}
	if n < len(p) && !w.synced {
		n += copy(p[n:], w.buf[off+int64(n)-inserted:])
	}
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// Close releases a synced body, which stays. A body never synced is deleted, as by Abort:
// nothing will refer to it.
func (w *Writer) Close() error {
	if w.done {
		return nil
	}
	if !w.synced {
		return w.Abort()
	}
	w.done = true
	w.buf = nil
	w.rd.release()
	return nil
}

// Abort deletes the body: the chunks inserted, and its row when it was synced (its metadata
// commit failed). It runs even when the context of Create is done.
func (w *Writer) Abort() error {
	if w.done {
		return nil
	}
	w.done = true
	w.buf = nil
	w.rd.release()
	if w.flushed == 0 && !w.synced {
		return nil // nothing in the database
	}
	ctx, cancel := context.WithTimeout(context.WithoutCancel(w.ctx), cleanupTimeout)
	defer cancel()
	if err := w.s.remove(ctx, w.id); err != nil {
		return fmt.Errorf("abort body %s: %w", w.id, err)
	}
	return nil
}
