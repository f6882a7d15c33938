package app

import (
	"context"
	"log/slog"
	"testing"

	"posthorn/internal/config"
)

// TestRetentionJobStartsWithARule: the server schedules the retention job when [retention]
// sets a period, and not without one; Shutdown stops it.
func TestRetentionJobStartsWithARule(t *testing.T) {
	for _, junkDays := range []int{0, 30} {
		cfg := config.Default()
		cfg.DataDir = t.TempDir()
		cfg.Listen = config.Listen{HTTP: "127.0.0.1:0"}
		cfg.Retention.JunkDays = junkDays
		if err := cfg.Validate(); err != nil {
			t.Fatal(err)
		}
		s, _, err := Start(context.Background(), cfg, slog.New(slog.DiscardHandler))
		if err != nil {
			t.Fatal(err)
		}
		if started := s.stopRetention != nil; started != (junkDays > 0) {
			t.Errorf("junk_days = %d: job started %v", junkDays, started)
		}
		if err := s.Shutdown(); err != nil {
			t.Error(err)
		}
	}
}
