// Package blob stores message bodies, one immutable file per accepted message.
//
// On-disk layout: DIR/YYYYMMDD/ID, where ID is "YYYYMMDD-" followed by 24 random hex digits, so
// the day directory is derived from the id and the blobs written in one period share a directory.
//
// Durability is split in two steps so that concurrent deliveries can share the cost of fsync
// (group commit): Create returns a Writer whose bytes reach the page cache only; SyncAll then makes
// a whole batch durable together with one sync, whatever its size: syncfs(2) of the filesystem
// the store is on, which writes every dirty file of it (the batch's data and sizes, the new names
// in their directories) and commits its journal once. A batch of one body whose name is durable
// already takes fdatasync of that file instead, which writes nothing of other files. Nothing
// refers to a blob before SyncAll returns; the metadata commit follows it.
//
// syncfs writes what other programs left dirty on the same filesystem too, so the data
// directory is best on a filesystem of its own. It reports a write-back error of any file of the
// filesystem since the store's last syncfs (Linux 5.8 and later), not only of the batch's: and
// a failed write-back may have lost the pages of a body that a later batch would count on, so
// after one failure every later SyncAll fails too, until the store is opened again (as
// PostgreSQL stops on a failed fsync).
//
// Creating a file costs a directory update that must itself be made durable (fsync of the
// directory), and on a busy disk the create waits behind other syncs. So Create does not create:
// a background goroutine keeps a small pool of empty files created ahead of time, whose
// directory entries it has already made durable with one directory fsync per refill. A delivery
// takes a file from the pool, writes it, and SyncAll needs only fdatasync on the files.
//
// A crash leaves unused pool files and files whose commit never happened: nothing references
// them, and the server removes such orphans of recent days at start (`posthorn check --repair`
// removes all). Close removes the unused pool files.
//
// FS's own methods work with files, for the tools that want them (orphan sweep, check, the
// full-text indexer); Bodies (bodies.go) is the same store behind the backend-neutral
// interfaces of internal/bodystore, which delivery and the protocol servers use.
package blob

import (
	"context"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync"
	"time"

	"golang.org/x/sys/unix"

	"posthorn/internal/bodystore"
)

// ErrNotFound is returned when a blob id has no file. It is bodystore.ErrNotFound, so callers
// of either interface test for the same error.
var ErrNotFound = bodystore.ErrNotFound

// poolSize is how many empty files the pool keeps ready.
const poolSize = 64

// FS is a blob store in a directory of the local filesystem.
type FS struct {
	dir string
	now func() time.Time

	poolOnce sync.Once
	pool     chan *os.File
	quit     chan struct{}
	done     chan struct{}
	closing  sync.Once

	// root is dir, open from OpenFS on: syncfs through it reports the write-back errors of the
	// filesystem since it was opened or last synced.
	root     *os.File
	syncMu   sync.Mutex
	syncErr  error             // the first failed sync; every later SyncAll returns it
	syncCall func(name string) // tests: called at each sync system call of SyncAll
}

// OpenFS opens (creating if needed) a blob store rooted at dir.
func OpenFS(dir string) (*FS, error) {
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return nil, fmt.Errorf("create blob directory: %w", err)
	}
	root, err := os.Open(dir)
	if err != nil {
		return nil, fmt.Errorf("open blob directory: %w", err)
	}
	return &FS{dir: dir, now: time.Now, quit: make(chan struct{}), done: make(chan struct{}), root: root}, nil
}

// Close stops the pool and removes its unused files. Blobs in flight stay valid.
func (s *FS) Close() error {
	var errs []error
	s.closing.Do(func() {
		errs = append(errs, s.root.Close())
		close(s.quit)
		s.poolOnce.Do(func() {}) // a pool not started by now never starts
		if s.pool == nil {
			return
		}
		<-s.done
		for {
			select {
			case f := <-s.pool:
				errs = append(errs, f.Close(), os.Remove(f.Name()))
			default:
				return
			}
		}
	})
	return errors.Join(errs...)
}

// fill keeps the pool full: it creates files in batches and makes their names durable with one
// directory fsync per batch before offering them.
func (s *FS) fill() {
	defer close(s.done)
	for {
		var batch []*os.File
		for len(batch) < poolSize/4 {
			f, err := s.create()
			if err != nil {
				break
			}
			batch = append(batch, f)
		}
		if len(batch) == 0 || syncDir(filepath.Dir(batch[0].Name())) != nil {
			for _, f := range batch {
				_ = f.Close()
				_ = os.Remove(f.Name())
			}
			// The create path in Create reports the error to a caller; retry later.
			select {
			case <-time.After(time.Second):
				continue
			case <-s.quit:
				return
			}
		}
		for i, f := range batch {
			select {
			case s.pool <- f:
			case <-s.quit:
				for _, g := range batch[i:] {
					_ = g.Close()
					_ = os.Remove(g.Name())
				}
				return
			}
		}
	}
}

// Writer receives the bytes of one new blob.
type Writer struct {
	id      string
	f       *os.File
	size    int64
	newName bool // created on demand: its directory entry is not durable yet
}

// Create starts a new blob. The caller writes it, then passes it to SyncAll, or calls Abort.
func (s *FS) Create() (*Writer, error) {
	s.poolOnce.Do(func() {
		s.pool = make(chan *os.File, poolSize)
		go s.fill()
	})
	select {
	case f := <-s.pool:
		return &Writer{id: filepath.Base(f.Name()), f: f}, nil
	default:
	}
	// The pool is empty (a burst): create one here and make its name durable in SyncAll.
	f, err := s.create()
	if err != nil {
		return nil, err
	}
	return &Writer{id: filepath.Base(f.Name()), f: f, newName: true}, nil
}

// create makes a new empty file with a fresh id in the day directory.
func (s *FS) create() (*os.File, error) {
	id, err := bodystore.NewID(s.now())
	if err != nil {
		return nil, err
	}
	day := id[:8]
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
	return f, nil
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

// SyncAll makes every blob of the batch durable: data, size and directory entry, with one sync
// (see the package doc).
func (s *FS) SyncAll(ctx context.Context, batch []*Writer) error {
	if len(batch) == 0 {
		return nil
	}
	s.syncMu.Lock()
	defer s.syncMu.Unlock()
	if s.syncErr != nil {
		return s.syncErr
	}
	var err error
	if w := batch[0]; len(batch) == 1 && !w.newName {
		// fdatasync also writes the metadata needed to read the data back (the size).
		s.called("fdatasync")
		if err = unix.Fdatasync(int(w.f.Fd())); err != nil {
			err = fmt.Errorf("sync blob %s: %w", w.id, err)
		}
	} else {
		s.called("syncfs")
		if err = unix.Syncfs(int(s.root.Fd())); err != nil {
			err = fmt.Errorf("sync blob filesystem of %s: %w", s.dir, err)
		}
	}
	if err != nil {
		s.syncErr = fmt.Errorf("%w (no blob is made durable after a failed sync until the store is reopened)", err)
		return s.syncErr
	}
	return ctx.Err()
}

func (s *FS) called(name string) {
	if s.syncCall != nil {
		s.syncCall(name)
	}
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

// Walk calls fn with the id and size of every blob file, day directories in order. With since
// set, only day directories from since's day on are read. Empty files are pool files (or bodies
// just being written): callers that run beside a server must not take them for orphans.
func (s *FS) Walk(since time.Time, fn func(id string, size int64) error) error {
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
			if !validID(e.Name()) {
				continue
			}
			info, err := e.Info()
			if errors.Is(err, fs.ErrNotExist) {
				continue // taken and aborted, or removed, while we read the directory
			}
			if err != nil {
				return fmt.Errorf("read blob directory: %w", err)
			}
			if err := fn(e.Name(), info.Size()); err != nil {
				return err
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

// validID accepts exactly the ids Create makes (bodystore.ValidID), so no id can name a path
// outside the store.
func validID(id string) bool { return bodystore.ValidID(id) }

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
