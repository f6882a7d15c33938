package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"fmt"
	"time"

	"posthorn/internal/store/schema"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrations returns the embedded migrations in version order (schema.Load).
func migrations() ([]schema.Step, error) { return schema.Load(migrationFiles) }

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

func applyMigrations(ctx context.Context, tx *sql.Tx, all []schema.Step, now func() time.Time) error {
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
		if _, err := tx.ExecContext(ctx, m.SQL); err != nil {
			return fmt.Errorf("apply %04d_%s: %w", m.Version, m.Name, err)
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES (?, ?, ?)`,
			m.Version, m.Name, now().UnixNano()); err != nil {
			return fmt.Errorf("record %04d_%s: %w", m.Version, m.Name, err)
		}
	}
	return nil
}
