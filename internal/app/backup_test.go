package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"posthorn/internal/backup"
	"posthorn/internal/config"
)

// TestScheduledBackupAtStart: a server with [backup] and no archive yet makes one at start,
// which verifies, and /metrics reports it.
func TestScheduledBackupAtStart(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "backups")
	_, listening := startWith(t, func(cfg *config.Config) {
		cfg.Backup.Directory = dir
		cfg.Backup.Schedule = "6h"
	})
	deadline := time.Now().Add(30 * time.Second)
	var scrape string
	for {
		resp, err := http.Get("http://" + listening.HTTP + "/metrics")
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		scrape = string(body)
		if strings.Contains(scrape, "posthorn_backup_last_size_bytes ") && !strings.Contains(scrape, "posthorn_backup_last_size_bytes 0\n") {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("no scheduled backup reported within 30s:\n%s", grepLines(scrape, "posthorn_backup_"))
		}
		time.Sleep(20 * time.Millisecond) // polling for the condition, with the deadline above
	}
	if !strings.Contains(scrape, "posthorn_backup_scheduled 1\n") {
		t.Errorf("metrics:\n%s", grepLines(scrape, "posthorn_backup_"))
	}
	archives, err := backup.ListArchives(dir)
	if err != nil || len(archives) != 1 || !archives[0].Full {
		t.Fatalf("archives %+v, %v; want one full archive", archives, err)
	}
	if _, _, err := backup.Verify(t.Context(), filepath.Join(dir, archives[0].Name), nil); err != nil {
		t.Fatal(err)
	}
}

func grepLines(text, prefix string) string {
	var out []string
	for _, line := range strings.Split(text, "\n") {
		if strings.HasPrefix(line, prefix) {
			out = append(out, line)
		}
	}
	return strings.Join(out, "\n")
}

// TestBackupDirectoryInsideBodies: archives among the message bodies are refused at start.
func TestBackupDirectoryInsideBodies(t *testing.T) {
	cfg := config.Default()
	cfg.DataDir = t.TempDir()
	cfg.Backup.Directory = filepath.Join(BodiesDir(cfg.DataDir), "backups")
	cfg.Listen = config.Listen{HTTP: "127.0.0.1:0"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, _, err := Start(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err == nil {
		_ = s.Shutdown()
		t.Fatal("started with backup.directory among the bodies")
	}
	if !strings.Contains(err.Error(), "key backup.directory") {
		t.Errorf("error %q does not name backup.directory", err)
	}
}
