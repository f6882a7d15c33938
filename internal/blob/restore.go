package blob

import (
	"fmt"
	"io"
	"os"
	"path/filepath"

	"golang.org/x/sys/unix"
)

// Put writes the body id with the bytes of r, as a restore brings it back: under its own id,
// which must be one Create could have made and must not exist yet. It is not durable until
// SyncFilesystem returns.
func (s *FS) Put(id string, r io.Reader) (int64, error) {
	path, err := s.path(id)
	if err != nil {
		return 0, err
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o750); err != nil {
		return 0, fmt.Errorf("put blob %s: %w", id, err)
	}
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return 0, fmt.Errorf("put blob %s: %w", id, err)
	}
	n, err := io.Copy(f, r)
	if cerr := f.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return n, fmt.Errorf("put blob %s: %w", id, err)
	}
	return n, nil
}

// SyncFilesystem makes everything written on the store's filesystem durable with one syncfs(2):
// the bodies Put wrote, their names and their directories.
func (s *FS) SyncFilesystem() error {
	if err := unix.Syncfs(int(s.root.Fd())); err != nil {
		return fmt.Errorf("sync blob filesystem of %s: %w", s.dir, err)
	}
	return nil
}

// ValidID reports whether id is one Create could have made, so that a name from outside (an
// archive) can be checked before it becomes a path.
func ValidID(id string) bool { return validID(id) }
