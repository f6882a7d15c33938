package app

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"posthorn/internal/admin"
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
