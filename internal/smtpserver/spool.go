package smtpserver

import (
	"bytes"
	"fmt"
	"io"
	"os"
)

// memSpool is how much of a message a spool holds in memory; the rest goes to a temporary file.
const memSpool = 64 << 10

// spool holds a message while the inbound filter judges it, before it is written, with the
// filter's header fields on top, into its draft: in memory up to memSpool octets, beyond that in
// an unlinked temporary file, so a large message never sits whole in memory. A nil *spool is
// no spool.
type spool struct {
	dir  string
	mem  bytes.Buffer
	file *os.File
	size int64
}

// Write appends to the spool.
func (s *spool) Write(p []byte) (int, error) {
	if s.file == nil && s.mem.Len()+len(p) > memSpool {
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

// Close releases the spool.
func (s *spool) Close() {
	if s != nil && s.file != nil {
		_ = s.file.Close()
		s.file = nil
	}
}

var _ io.ReaderAt = (*spool)(nil)
