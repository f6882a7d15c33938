// Package blob stores message bodies, one immutable file per accepted message.
//
// On-disk layout: DIR/YYYYMMDD/ID, where ID is "YYYYMMDD-" followed by 24 random hex digits, so
// the day directory is derived from the id and the blobs written in one period share a directory.
//
// Durability is split in two steps so that concurrent deliveries can share the cost of fsync
// (group commit): Create returns a Writer whose bytes reach the page cache only; SyncAll then makes
// a whole batch durable together: fdatasync on every file in parallel (the kernel joins them in one
// journal commit) and one fsync per day directory, so the new names survive a crash too. Nothing
// refers to a blob before SyncAll returns; the metadata commit follows it.
//
// A crash between Create and the metadata commit leaves an orphan file that nothing references;
// Orphans finds them (the server removes those of recent days at start, `posthorn check` all).
package blob

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// ErrNotFound is returned when a blob id has no file.
var ErrNotFound = errors.New("blob not found")

// maxParallelSyncs bounds the goroutines of one SyncAll.
const maxParallelSyncs = 32

// FS is a blob store in a directory of the local filesystem.
type FS struct {
	dir string
	now func() time.Time
}

// OpenFS opens (creating if needed) a blob store rooted at dir.
func OpenFS(dir string) (*FS, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create blob directory: %w", err)
	}
	return &FS{dir: dir, now: time.Now}, nil
}

// Writer receives the bytes of one new blob.
type Writer struct {
	id   string
	f    *os.File
	size int64
}

// Create starts a new blob. The caller writes it, then passes it to SyncAll, or calls Abort.
func (s *FS) Create() (*Writer, error) {
	var random [12]byte
	if _, err := rand.Read(random[:]); err != nil {
		return nil, fmt.Errorf("blob id: %w", err)
	}
	day := s.now().UTC().Format("20060102")
	id := day + "-" + hex.EncodeToString(random[:])
	dayDir := filepath.Join(s.dir, day)
	f, err := os.OpenFile(filepath.Join(dayDir, id), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
	if errors.Is(err, fs.ErrNotExist) {
		if err := os.MkdirAll(dayDir, 0o750); err != nil {
			return nil, fmt.Errorf("create blob directory: %w", err)
		}
		if err := syncDir(s.dir); err != nil {
			return nil, err
		}
		f, err = os.OpenFile(filepath.Join(dayDir, id), os.O_RDWR|os.O_CREATE|os.O_EXCL, 0o640)
	}
	if err != nil {
		return nil, fmt.Errorf("create blob: %w", err)
	}
	return &Writer{id: id, f: f}, nil
}

// ID is the new blob's id.
func (w *Writer) ID() string { return w.id }

// Size is the number of bytes written so far.
func (w *Writer) Size() int64 { return w.size }

// Write appends to the blob.
func (w *Writer) Write(p []byte) (int, error) {
	n, err := w.f.Write(p)
	w.size += int64(n)
	return n, err
}

// ReadAt reads back what was written, for parsing before the commit.
func (w *Writer) ReadAt(p []byte, off int64) (int, error) { return w.f.ReadAt(p, off) }

// Close releases the file after SyncAll; the blob stays.
func (w *Writer) Close() error { return w.f.Close() }

// Abort closes and deletes a blob that will not be committed.
func (w *Writer) Abort() error {
	cerr := w.f.Close()
	if err := os.Remove(w.f.Name()); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("abort blob %s: %w", w.id, err)
	}
	return cerr
}

// SyncAll makes every blob of the batch durable: data, size and directory entry.
func (s *FS) SyncAll(ctx context.Context, batch []*Writer) error {
	errs := make([]error, len(batch))
	sem := make(chan struct{}, maxParallelSyncs)
	var wg sync.WaitGroup
	dirs := map[string]bool{}
	for i, w := range batch {
		dirs[filepath.Dir(w.f.Name())] = true
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer func() { <-sem; wg.Done() }()
			// fdatasync also writes the metadata needed to read the data back (the size).
			if err := unix.Fdatasync(int(w.f.Fd())); err != nil {
				errs[i] = fmt.Errorf("sync blob %s: %w", w.id, err)
			}
		}()
	}
	wg.Wait()
	for dir := range dirs {
		if err := syncDir(dir); err != nil {
			errs = append(errs, err)
		}
	}
	if err := ctx.Err(); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// Open opens a committed blob for reading.
func (s *FS) Open(id string) (*os.File, error) {
	path, err := s.path(id)
	if err != nil {
		return nil, err
	}
	f, err := os.Open(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("open blob %s: %w", id, ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("open blob %s: %w", id, err)
	}
	return f, nil
}

// Remove deletes a blob whose last reference went away. A missing blob is not an error.
func (s *FS) Remove(id string) error {
	path, err := s.path(id)
	if err != nil {
		return err
	}
	if err := os.Remove(path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("remove blob %s: %w", id, err)
	}
	return nil
}

// Walk calls fn with the id of every blob file, day directories in order. With since set, only
// day directories from since's day on are read.
func (s *FS) Walk(since time.Time, fn func(id string) error) error {
	days, err := os.ReadDir(s.dir)
	if err != nil {
		return fmt.Errorf("read blob directory: %w", err)
	}
	first := ""
	if !since.IsZero() {
		first = since.UTC().Format("20060102")
	}
	for _, day := range days {
		if !day.IsDir() || day.Name() < first {
			continue
		}
		entries, err := os.ReadDir(filepath.Join(s.dir, day.Name()))
		if err != nil {
			return fmt.Errorf("read blob directory: %w", err)
		}
		for _, e := range entries {
			if validID(e.Name()) {
				if err := fn(e.Name()); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (s *FS) path(id string) (string, error) {
	if !validID(id) {
		return "", fmt.Errorf("blob id %q: %w", id, ErrNotFound)
	}
	return filepath.Join(s.dir, id[:8], id), nil
}

// validID accepts exactly the ids Create makes, so no id can name a path outside the store.
func validID(id string) bool {
	day, random, ok := strings.Cut(id, "-")
	if !ok || len(day) != 8 || len(random) != 24 {
		return false
	}
	for _, c := range day + random {
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f') {
			return false
		}
	}
	return true
}

func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return fmt.Errorf("sync directory: %w", err)
	}
	serr := d.Sync()
	cerr := d.Close()
	if serr != nil {
		return fmt.Errorf("sync directory %s: %w", dir, serr)
	}
	return cerr
}
