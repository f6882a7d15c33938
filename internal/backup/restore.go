package backup

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"posthorn/internal/blob"
	"posthorn/internal/store/sqlite"
)

// Destination is where Restore puts an archive: the layout of a data directory.
type Destination struct {
	Dir      string // the data directory: empty or not existing
	Database string // the database file, inside Dir
	Bodies   string // the body store's directory, inside Dir
}

// Restore writes the archive into dst.Dir, which must be empty or not exist, checking the
// archive as it goes exactly as Verify does. On any failure it removes everything it wrote (and
// dst.Dir itself if it created it), so a failed restore leaves no data directory a server would
// start on. Bodies the manifest marks unreferenced are left out.
func Restore(ctx context.Context, file string, dst Destination, progress Progress) (Manifest, Summary, error) {
	return RestoreChain(ctx, file, nil, dst, progress)
}

// RestoreChain is Restore of an archive that may be incremental: the bodies it relies on are
// brought from its chain, found as VerifyChain finds them (the files of bases, then the files
// the chain names beside file), so that dst gets every body the database references. A body
// missing from the chain fails the restore, which then removes what it wrote.
func RestoreChain(ctx context.Context, file string, bases []string, dst Destination, progress Progress) (Manifest, Summary, error) {
	start := time.Now()
	created, err := prepareEmpty(dst.Dir)
	if err != nil {
		return Manifest{}, Summary{}, fmt.Errorf("restore %s: %w", file, err)
	}
	m, sum, err := restore(ctx, file, bases, dst, progress)
	sum.Elapsed = time.Since(start)
	if err != nil {
		if cerr := clean(dst.Dir, created); cerr != nil {
			err = errors.Join(err, fmt.Errorf("remove what the restore wrote: %w", cerr))
		}
		return Manifest{}, Summary{}, fmt.Errorf("restore %s into %s: %w", file, dst.Dir, err)
	}
	return m, sum, nil
}

func restore(ctx context.Context, file string, bases []string, dst Destination, progress Progress) (m Manifest, sum Summary, err error) {
	bodies, err := blob.OpenFS(dst.Bodies)
	if err != nil {
		return Manifest{}, Summary{}, err
	}
	defer func() {
		if cerr := bodies.Close(); err == nil && cerr != nil {
			err = cerr
		}
	}()
	m, sum, err = scan(ctx, file, progress, func(name string, r io.Reader) error {
		if name == databaseName {
			return writeFile(dst.Database, r)
		}
		id, _ := bodyID(name) // scan lets only well-formed names through
		_, err := bodies.Put(id, r)
		return err
	})
	if err != nil {
		return Manifest{}, Summary{}, err
	}
	known, err := sqlite.KnownSchemaVersion()
	if err != nil {
		return Manifest{}, Summary{}, err
	}
	if m.SchemaVersion > known {
		return Manifest{}, Summary{}, fmt.Errorf("the archive's schema version %d is newer than this program's %d: use a newer posthorn",
			m.SchemaVersion, known)
	}
	if m.Incremental() {
		err := readChain(ctx, file, m, bases, progress, func(id string, r io.Reader) error {
			_, err := bodies.Put(id, r)
			return err
		})
		if err != nil {
			return Manifest{}, Summary{}, err
		}
	}
	for _, e := range m.Entries {
		if id, ok := bodyID(e.Path); ok && e.Unreferenced {
			if err := bodies.Remove(id); err != nil {
				return Manifest{}, Summary{}, err
			}
			sum.Entries--
			sum.Bytes -= e.Size
		}
	}
	if err := bodies.SyncFilesystem(); err != nil {
		return Manifest{}, Summary{}, err
	}
	return m, sum, syncDir(dst.Dir)
}

// prepareEmpty makes sure dir is an empty directory, creating it if needed (created: it did).
func prepareEmpty(dir string) (created bool, err error) {
	entries, err := os.ReadDir(dir)
	if errors.Is(err, fs.ErrNotExist) {
		return true, os.MkdirAll(dir, 0o750)
	}
	if err != nil {
		return false, err
	}
	if len(entries) > 0 {
		return false, fmt.Errorf("data directory %s is not empty: restore only into an empty or new one", dir)
	}
	return false, nil
}

// clean removes what a failed restore wrote into dir, which was empty before.
func clean(dir string, created bool) error {
	if created {
		return os.RemoveAll(dir)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var errs []error
	for _, e := range entries {
		errs = append(errs, os.RemoveAll(filepath.Join(dir, e.Name())))
	}
	return errors.Join(errs...)
}

// writeFile writes a new file at path from r and syncs it.
func writeFile(path string, r io.Reader) error {
	f, err := os.OpenFile(path, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o640)
	if err != nil {
		return err
	}
	_, err = io.Copy(f, r)
	if err == nil {
		err = f.Sync()
	}
	return errors.Join(err, f.Close())
}
