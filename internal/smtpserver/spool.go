package smtpserver

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"sync/atomic"
)

// Spool memory: a message is held in memory up to memSpool octets while the server's
// spools hold less than spoolMemoryLimit in all, else in a temporary file. Most mail (a few
// KiB to a few hundred) then never touches the disk before its body is written, and the
// memory stays bounded however many sessions spool at once.
const (
	memSpool         = 1 << 20
	spoolMemoryLimit = 64 << 20
	// spoolMemoryChunk is the step in which a spool takes from the budget.
	spoolMemoryChunk = 64 << 10
)

// spoolMemory is the spool memory the sessions of one server share.
type spoolMemory struct{ used atomic.Int64 }

// take reserves n octets; false, reserving nothing, when that would pass the limit.
func (m *spoolMemory) take(n int64) bool {
	if m.used.Add(n) > spoolMemoryLimit {
		m.used.Add(-n)
		return false
	}
	return true
}

func (m *spoolMemory) give(n int64) { m.used.Add(-n) }

// spool holds a message while the inbound filter judges it, before it is written, with the
// filter's header fields on top, into its draft: in memory (see memSpool), beyond that in an
// unlinked temporary file, so a large message never sits whole in memory. A nil *spool is no
// spool.
type spool struct {
	dir    string
	memory *spoolMemory // the shared budget
	held   int64        // what this spool took of it
	mem    bytes.Buffer
	file   *os.File
	size   int64
}

// inMemory reports whether n octets in all may stay in memory, taking from the budget.
func (s *spool) inMemory(n int64) bool {
	if n > memSpool {
		return false
	}
	if n <= s.held {
		return true
	}
	step := (n - s.held + spoolMemoryChunk - 1) / spoolMemoryChunk * spoolMemoryChunk
	if !s.memory.take(step) {
		return false
	}
	s.held += step
	return true
}

// Write appends to the spool.
func (s *spool) Write(p []byte) (int, error) {
	if s.file == nil && !s.inMemory(int64(s.mem.Len()+len(p))) {
		f, err := os.CreateTemp(s.dir, "posthorn-spool-*")
		if err != nil {
			return 0, fmt.Errorf("spool message: %w", err)
		}
		_ = os.Remove(f.Name()) // unlinked: it goes away with the descriptor, even after a crash
		if _, err := f.Write(s.mem.Bytes()); err != nil {
			_ = f.Close()
			return 0, fmt.Errorf("spool message: %w", err)
		}
		s.file = f
		s.mem = bytes.Buffer{}
		s.memory.give(s.held)
		s.held = 0
	}
	var n int
	var err error
	if s.file != nil {
		n, err = s.file.Write(p)
	} else {
		n, err = s.mem.Write(p)
	}
	s.size += int64(n)
	return n, err
}

// ReadAt reads what was written.
func (s *spool) ReadAt(p []byte, off int64) (int, error) {
	if s.file != nil {
		return s.file.ReadAt(p, off)
	}
	return bytes.NewReader(s.mem.Bytes()).ReadAt(p, off)
}

// Size is the number of octets written.
func (s *spool) Size() int64 {
	if s == nil {
		return 0
	}
	return s.size
}

// Close releases the spool: its file, and its share of the memory budget.
func (s *spool) Close() {
	if s == nil {
		return
	}
	if s.file != nil {
		_ = s.file.Close()
		s.file = nil
	}
	s.mem = bytes.Buffer{}
	s.memory.give(s.held)
	s.held = 0
}

var _ io.ReaderAt = (*spool)(nil)
