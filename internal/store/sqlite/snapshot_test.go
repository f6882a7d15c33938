package sqlite

import (
	"database/sql"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// olderDatabase creates a database at path with every migration but the last applied, as a
// previous release left it, and returns that version.
func olderDatabase(t *testing.T, path string) int {
	t.Helper()
	all, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(path, url.Values{"_journal_mode": {"WAL"}}))
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	tx, err := db.BeginTx(t.Context(), nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := applyMigrations(t.Context(), tx, all[:len(all)-1], time.Now); err != nil {
		t.Fatal(err)
	}
	if err := tx.Commit(); err != nil {
		t.Fatal(err)
	}
	return len(all) - 1
}

// TestPreMigrationBackup: opening a database of an older schema copies it, under its version,
// before migrating it; a new database and an up-to-date one get no copy.
func TestPreMigrationBackup(t *testing.T) {
	ctx := t.Context()
	dir := t.TempDir()
	path := filepath.Join(dir, "posthorn.db")
	old := olderDatabase(t, path)

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	backup := s.PreMigrationBackup()
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	wantPrefix := filepath.Join(dir, "backups", fmt.Sprintf("pre-migration-schema-%d-", old))
	if !strings.HasPrefix(backup, wantPrefix) || !strings.HasSuffix(backup, ".sqlite") {
		t.Fatalf("pre-migration backup %q, want %s*.sqlite", backup, wantPrefix)
	}
	v, exists, err := DatabaseSchemaVersion(ctx, backup)
	if err != nil || !exists || v != old {
		t.Fatalf("schema version of the backup: %d, %v, %v; want %d", v, exists, err, old)
	}
	known, err := KnownSchemaVersion()
	if err != nil {
		t.Fatal(err)
	}
	if v, _, err := DatabaseSchemaVersion(ctx, path); err != nil || v != known {
		t.Fatalf("schema version after Open: %d, %v; want %d", v, err, known)
	}

	// Up to date now: a second Open copies nothing.
	s, err = Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if b := s.PreMigrationBackup(); b != "" {
		t.Errorf("second Open took a backup %s", b)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	entries, err := os.ReadDir(filepath.Join(dir, "backups"))
	if err != nil || len(entries) != 1 {
		t.Fatalf("backups directory: %v entries, %v; want the one copy", len(entries), err)
	}

	// A new database has nothing to keep.
	fresh, _ := openTemp(t)
	if b := fresh.PreMigrationBackup(); b != "" {
		t.Errorf("a new database got a pre-migration backup %s", b)
	}
}

// TestNewerSchemaRefusedNamesVersions: the refusal names both versions and writes nothing.
func TestNewerSchemaRefusedNamesVersions(t *testing.T) {
	ctx := t.Context()
	s, path := openTemp(t)
	if _, err := s.write.ExecContext(ctx, `INSERT INTO schema_version (version, name, applied_at)
		VALUES (9999, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	known, err := KnownSchemaVersion()
	if err != nil {
		t.Fatal(err)
	}
	_, err = Open(ctx, path)
	want := fmt.Sprintf("database schema version 9999 is newer than this program's %d", known)
	if err == nil || !strings.Contains(err.Error(), want) {
		t.Fatalf("Open of a newer schema: %v, want %q", err, want)
	}
	if _, err := os.Stat(filepath.Join(filepath.Dir(path), "backups")); !os.IsNotExist(err) {
		t.Errorf("a refused Open made a backups directory: %v", err)
	}
}

// TestSnapshotWhileWriting: a snapshot is a database of the same schema with the bodies the
// source referenced at that moment.
func TestSnapshotWhileWriting(t *testing.T) {
	ctx := t.Context()
	s, path := openTemp(t)
	if _, err := s.write.ExecContext(ctx, `INSERT INTO blobs (id, size, refs) VALUES ('20260101-000000000000000000000001', 5, 1)`); err != nil {
		t.Fatal(err)
	}
	snap := filepath.Join(filepath.Dir(path), "snap.db")
	if err := s.Snapshot(ctx, snap); err != nil {
		t.Fatal(err)
	}
	info, err := ReadSnapshot(ctx, snap)
	if err != nil {
		t.Fatal(err)
	}
	known, _ := KnownSchemaVersion()
	if info.SchemaVersion != known || len(info.Bodies) != 1 || info.Bodies[0].Size != 5 {
		t.Fatalf("snapshot info %+v, want schema %d and the one body", info, known)
	}
	if err := s.Snapshot(ctx, snap); err == nil {
		t.Error("Snapshot over an existing file succeeded")
	}
}
