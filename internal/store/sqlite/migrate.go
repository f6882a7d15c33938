package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"io/fs"
	"path"
	"sort"
	"strconv"
	"strings"
	"time"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migration is one schema step: migrations/NNNN_name.sql.
type migration struct {
	version int
	name    string
	sql     string
}

// migrations returns the embedded migrations in version order. Versions must run 1, 2, 3...
// without gap, so that a file left out of a build cannot go unnoticed.
func migrations() ([]migration, error) {
	paths, err := fs.Glob(migrationFiles, "migrations/*.sql")
	if err != nil {
		return nil, err
	}
	var out []migration
	for _, p := range paths {
		base := strings.TrimSuffix(path.Base(p), ".sql")
		num, name, ok := strings.Cut(base, "_")
		version, err := strconv.Atoi(num)
		if !ok || err != nil || version <= 0 {
			return nil, fmt.Errorf("migration file %s: want NNNN_name.sql", p)
		}
		text, err := migrationFiles.ReadFile(p)
		if err != nil {
			return nil, err
		}
		out = append(out, migration{version: version, name: name, sql: string(text)})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].version < out[j].version })
	for i, m := range out {
		if m.version != i+1 {
			return nil, fmt.Errorf("migration %04d_%s: want version %d", m.version, m.name, i+1)
		}
	}
	return out, nil
}

// migrate applies the migrations the database lacks, all in one transaction: a failure leaves
// the schema as it was. The write pool begins transactions IMMEDIATE, so two processes opening
// the same new file take turns. Before it changes an existing database it copies it
// (preMigrationBackup) and returns the copy's path; a database newer than this program is
// refused before anything is written.
func migrate(ctx context.Context, db *sql.DB, dbPath string, now func() time.Time) (backup string, err error) {
	all, err := migrations()
	if err != nil {
		return "", err
	}
	current, err := appliedVersion(ctx, db)
	if err != nil {
		return "", fmt.Errorf("migrate: %w", err)
	}
	if err := checkNotNewer(current, len(all)); err != nil {
		return "", fmt.Errorf("migrate: %w", err)
	}
	if current > 0 && current < len(all) {
		if backup, err = preMigrationBackup(ctx, db, dbPath, current, now()); err != nil {
			return "", fmt.Errorf("migrate: %w", err)
		}
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		return backup, fmt.Errorf("migrate: %w", err)
	}
	if err := applyMigrations(ctx, tx, all, now); err != nil {
		return backup, fmt.Errorf("migrate: %w", joinRollback(err, tx))
	}
	if err := tx.Commit(); err != nil {
		return backup, fmt.Errorf("migrate: commit: %w", err)
	}
	return backup, nil
}

// appliedVersion is the schema version of the database, 0 for a new one (no schema_version
// table yet).
func appliedVersion(ctx context.Context, db *sql.DB) (int, error) {
	var tables int
	if err := db.QueryRowContext(ctx, `SELECT count(*) FROM sqlite_master WHERE type = 'table' AND name = 'schema_version'`).Scan(&tables); err != nil {
		return 0, fmt.Errorf("read schema version: %w", err)
	}
	if tables == 0 {
		return 0, nil
	}
	return schemaVersion(ctx, db)
}

// checkNotNewer refuses a database with migrations this program does not know: it would
// misread them.
func checkNotNewer(current, known int) error {
	if current > known {
		return fmt.Errorf("database schema version %d is newer than this program's %d: use a newer posthorn",
			current, known)
	}
	return nil
}

func applyMigrations(ctx context.Context, tx *sql.Tx, all []migration, now func() time.Time) error {
	if _, err := tx.ExecContext(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
		version    INTEGER PRIMARY KEY,
		name       TEXT NOT NULL,
		applied_at INTEGER NOT NULL
	) STRICT`); err != nil {
		return err
	}
	var current int
	if err := tx.QueryRowContext(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&current); err != nil {
		return err
	}
	if err := checkNotNewer(current, len(all)); err != nil {
		return err
	}
	for _, m := range all[current:] {
		if _, err := tx.ExecContext(ctx, m.sql); err != nil {
			return fmt.Errorf("apply %04d_%s: %w", m.version, m.name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)`,
			m.version, m.name, now().UnixNano()); err != nil {
			return fmt.Errorf("record %04d_%s: %w", m.version, m.name, err)
		}
	}
	return nil
}
