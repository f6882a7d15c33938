package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"time"
)

// Snapshot writes a consistent copy of the whole database to path, which must not exist, while
// other connections and processes go on reading and writing: VACUUM INTO runs in one read
// transaction, so the copy is the state of one commit (WAL mode lets writers continue beside it).
// It runs on the write connection (VACUUM is refused on query-only ones) without taking the
// write lock.
func (s *Store) Snapshot(ctx context.Context, path string) error {
	return vacuumInto(ctx, s.write, path)
}

func vacuumInto(ctx context.Context, db *sql.DB, path string) error {
	if _, err := db.ExecContext(ctx, `VACUUM INTO ?`, path); err != nil {
		return fmt.Errorf("snapshot database into %s: %w", path, err)
	}
	return nil
}

// SchemaVersion is the schema version of the open database: the number of migrations applied.
func (s *Store) SchemaVersion(ctx context.Context) (int, error) {
	return schemaVersion(ctx, s.read)
}

func schemaVersion(ctx context.Context, db *sql.DB) (int, error) {
	var v int
	if err := db.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&v); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	return v, nil
}

// KnownSchemaVersion is the schema version this program creates and reads: its newest migration.
func KnownSchemaVersion() (int, error) {
	all, err := migrations()
	if err != nil {
		return 0, err
	}
	return len(all), nil
}

// SnapshotBody is a message body a database snapshot references: its blob id and size.
type SnapshotBody struct {
	ID   string
	Size int64
}

// SnapshotInfo is what a backup needs to know of a snapshot file.
type SnapshotInfo struct {
	SchemaVersion int
	// Bodies are the blobs the snapshot's messages and queue rows reference, in id order.
	Bodies []SnapshotBody
}

// ReadSnapshot opens the database file at path read-only (immutable: it creates no WAL or
// shared-memory file beside it) and returns its schema version and the bodies it references.
func ReadSnapshot(ctx context.Context, path string) (SnapshotInfo, error) {
	db, err := openReadOnly(path, true)
	if err != nil {
		return SnapshotInfo{}, err
	}
	info, err := readSnapshot(ctx, db)
	if cerr := db.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return SnapshotInfo{}, fmt.Errorf("read snapshot %s: %w", path, err)
	}
	return info, nil
}

func readSnapshot(ctx context.Context, db *sql.DB) (SnapshotInfo, error) {
	var info SnapshotInfo
	var err error
	if info.SchemaVersion, err = schemaVersion(ctx, db); err != nil {
		return info, err
	}
	rows, err := db.QueryContext(ctx, `SELECT id, size FROM blobs ORDER BY id`)
	if err != nil {
		return info, err
	}
	err = scanRows(rows, func(r scanner) error {
		var b SnapshotBody
		err := r.Scan(&b.ID, &b.Size)
		info.Bodies = append(info.Bodies, b)
		return err
	})
	return info, err
}

// DatabaseSchemaVersion reads the schema version of the database file at path without changing
// it (no migration); exists is false when there is no file.
func DatabaseSchemaVersion(ctx context.Context, path string) (version int, exists bool, err error) {
	if _, err := os.Stat(path); errors.Is(err, fs.ErrNotExist) {
		return 0, false, nil
	} else if err != nil {
		return 0, false, fmt.Errorf("schema version of %s: %w", path, err)
	}
	db, err := openReadOnly(path, false)
	if err != nil {
		return 0, true, err
	}
	version, err = schemaVersion(ctx, db)
	if cerr := db.Close(); err == nil && cerr != nil {
		err = cerr
	}
	if err != nil {
		return 0, true, fmt.Errorf("schema version of %s: %w", path, err)
	}
	return version, true, nil
}

// openReadOnly opens the file at path for reading only; immutable for a file no one else
// writes (a snapshot), which then needs no lock and no WAL.
func openReadOnly(path string, immutable bool) (*sql.DB, error) {
	abs, err := filepath.Abs(path)
	if err != nil {
		return nil, err
	}
	q := url.Values{"mode": {"ro"}}
	if immutable {
		q.Set("immutable", "1")
	}
	db, err := sql.Open("sqlite", dsn(abs, q))
	if err != nil {
		return nil, err
	}
	db.SetMaxOpenConns(1)
	return db, nil
}

// preMigrationBackup copies the database at its current schema version into
// DIR/backups/pre-migration-schema-N-TIME.sqlite (DIR: the database's directory) before
// migrations change it, and returns the copy's path. The copies are kept: removing them is the
// operator's decision.
func preMigrationBackup(ctx context.Context, db *sql.DB, dbPath string, version int, now time.Time) (string, error) {
	dir := filepath.Join(filepath.Dir(dbPath), "backups")
	if err := os.MkdirAll(dir, 0o750); err != nil {
		return "", fmt.Errorf("pre-migration backup: %w", err)
	}
	path := filepath.Join(dir, fmt.Sprintf("pre-migration-schema-%d-%s.sqlite", version, now.UTC().Format("20060102T150405Z")))
	if err := vacuumInto(ctx, db, path); err != nil {
		return "", fmt.Errorf("pre-migration backup: %w", err)
	}
	f, err := os.Open(path)
	if err != nil {
		return "", fmt.Errorf("pre-migration backup: %w", err)
	}
	serr := f.Sync()
	if err := errors.Join(serr, f.Close()); err != nil {
		return "", fmt.Errorf("pre-migration backup: sync %s: %w", path, err)
	}
	return path, nil
}
