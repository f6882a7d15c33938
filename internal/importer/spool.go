package importer

import (
	"bytes"
	"crypto/sha256"
	"errors"
	"fmt"
	"hash"
	"io"
	"os"
)

// spoolMemory is how much of a message a spool keeps in memory; the rest goes to a temporary
// file, so that a worker holds at most this much of any message.
const spoolMemory = 1 << 20

// spool holds one message between the source, which reads it once, and the worker that stores
// it: in memory up to spoolMemory, in a temporary file beyond. It hashes what it is given on
// the way in: the hash is the message's key in the import ledger. A spool is reused from one
// message to the next.
type spool struct {
	dir  string
	mem  bytes.Buffer
	file *os.File // nil until the message outgrows mem
	size int64
	sum  hash.Hash
}

func newSpool(dir string) *spool { return &spool{dir: dir, sum: sha256.New()} }

// reset empties the spool for the next message.
func (s *spool) reset() error {
	s.mem.Reset()
	s.size = 0
	s.sum.Reset()
	if s.file == nil {
		return nil
	}
	if err := s.file.Truncate(0); err != nil {
		return fmt.Errorf("reset spool file: %w", err)
	}
	_, err := s.file.Seek(0, io.SeekStart)
	return err
}

func (s *spool) Write(p []byte) (int, error) {
	s.sum.Write(p)
	s.size += int64(len(p))
	if s.file == nil && s.mem.Len()+len(p) <= spoolMemory {
		return s.mem.Write(p)
	}
	if s.file == nil {
		f, err := os.CreateTemp(s.dir, "posthorn-import-*")
		if err != nil {
			return 0, fmt.Errorf("create spool file: %w", err)
		}
		// The name goes at once: the open file is all the spool needs, and nothing is left
		// behind if the run is killed.
		if err := os.Remove(f.Name()); err != nil {
			return 0, errors.Join(fmt.Errorf("remove spool file name: %w", err), f.Close())
		}
		s.file = f
	}
	return s.file.Write(p)
}

// key is the message's key in the import ledger: the SHA-256 of its octets.
func (s *spool) key() []byte { return s.sum.Sum(nil) }

// writeTo copies the message, memory first then the file's part, into w.
func (s *spool) writeTo(w io.Writer) error {
	if _, err := w.Write(s.mem.Bytes()); err != nil {
		return err
	}
	if s.file == nil {
		return nil
	}
	if _, err := s.file.Seek(0, io.SeekStart); err != nil {
		return fmt.Errorf("rewind spool file: %w", err)
	}
	_, err := io.Copy(w, s.file)
	return err
}

// close removes the spool's file, if it has one.
func (s *spool) close() error {
	if s.file == nil {
		return nil
	}
	return s.file.Close()
}
