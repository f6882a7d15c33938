package app

import (
	"context"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"posthorn/internal/admin"
	"posthorn/internal/store/sqlite"
)

// sweepOrphans deletes the blobs of the last two days that no row references: bodies written
// before a crash whose commit never happened. At start nothing is in flight, so every
// unreferenced blob is such an orphan. `posthorn check --repair` sweeps all days.
func sweepOrphans(ctx context.Context, ops *admin.Admin, logger *slog.Logger) error {
	removed, err := ops.RemoveOrphans(ctx, time.Now().AddDate(0, 0, -1))
	if err != nil {
		return fmt.Errorf("sweep orphan message bodies: %w", err)
	}
	if removed > 0 {
		logger.Info("removed message bodies of uncommitted deliveries", "count", removed)
	}
	return nil
}

// ensureDKIMKeys gives every domain without DKIM keys its pair (admin.EnsureDKIMKeys).
func ensureDKIMKeys(ctx context.Context, ops *admin.Admin, logger *slog.Logger) error {
	generated, err := ops.EnsureDKIMKeys(ctx)
	for _, d := range generated {
		logger.Info("generated DKIM keys", "domain", d)
	}
	return err
}

// DatabaseFile is the database of the data directory dataDir.
func DatabaseFile(dataDir string) string { return filepath.Join(dataDir, "posthorn.db") }

// BodiesDir is the message bodies' directory of the data directory dataDir.
func BodiesDir(dataDir string) string { return filepath.Join(dataDir, "blobs") }

// SchemaVersions are the schema version this program knows and the one of the database in
// dataDir, if there is one, read without changing it.
type SchemaVersions struct {
	Program  int
	Data     int
	HasData  bool // a database exists in the data directory
	Database string
}

// ReadSchemaVersions reads the schema versions of this program and of dataDir's database.
func ReadSchemaVersions(ctx context.Context, dataDir string) (SchemaVersions, error) {
	v := SchemaVersions{Database: DatabaseFile(dataDir)}
	var err error
	if v.Program, err = sqlite.KnownSchemaVersion(); err != nil {
		return v, err
	}
	v.Data, v.HasData, err = sqlite.DatabaseSchemaVersion(ctx, v.Database)
	return v, err
}
