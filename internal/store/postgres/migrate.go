package postgres

import (
	"context"
	"embed"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"posthorn/internal/store/schema"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// migrationLock is the key of the advisory lock that migrations run under: nodes that start
// together take turns, and the second finds the schema up to date ("posthorn" in ASCII).
const migrationLock int64 = 0x706f7374686f726e

// migrations returns the embedded migrations in version order (schema.Load).
func migrations() ([]schema.Step, error) { return schema.Load(migrationFiles) }

// migrate applies the migrations the database lacks in one transaction, under the
// transaction-scoped advisory lock migrationLock: a failure leaves the schema as it was, and
// of several nodes opening the same database at once one migrates while the others wait for
// its commit and then find nothing left to do. A database newer than this program is refused.
// It returns how many migrations it applied.
func migrate(ctx context.Context, pool *pgxpool.Pool, now func() time.Time) (int, error) {
	all, err := migrations()
	if err != nil {
		return 0, err
	}
	applied := 0
	err = pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, migrationLock); err != nil {
			return fmt.Errorf("take migration lock: %w", err)
		}
		if _, err := tx.Exec(ctx, `CREATE TABLE IF NOT EXISTS schema_version (
			version    INTEGER PRIMARY KEY,
			name       TEXT NOT NULL,
			applied_at BIGINT NOT NULL
		)`); err != nil {
			return err
		}
		var current int
		if err := tx.QueryRow(ctx, `SELECT coalesce(max(version), 0) FROM schema_version`).Scan(&current); err != nil {
			return fmt.Errorf("read schema version: %w", err)
		}
		if current > len(all) {
			return fmt.Errorf("database schema version %d is newer than this program's %d: use a newer posthorn",
				current, len(all))
		}
		for _, m := range all[current:] {
			if _, err := tx.Exec(ctx, m.SQL); err != nil {
				return fmt.Errorf("apply %04d_%s: %w", m.Version, m.Name, err)
			}
			if _, err := tx.Exec(ctx, `INSERT INTO schema_version (version, name, applied_at) VALUES ($1, $2, $3)`,
				m.Version, m.Name, now().UnixNano()); err != nil {
				return fmt.Errorf("record %04d_%s: %w", m.Version, m.Name, err)
			}
			applied++
		}
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("migrate: %w", err)
	}
	return applied, nil
}
