package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func TestBackupErrorsNameTheKey(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct{ name, toml, want string }{
		{"schedule not a time", "[backup]\ndirectory = \"b\"\nschedule = \"3am\"", "key backup.schedule"},
		{"schedule hour 24", "[backup]\nschedule = \"24:00\"", "key backup.schedule"},
		{"schedule too often", "[backup]\nschedule = \"10s\"", "key backup.schedule"},
		{"full every 0 days", "[backup]\nfull_every_days = 0", "key backup.full_every_days"},
		{"negative keep_daily", "[backup]\nkeep_daily = -1", "key backup.keep_daily"},
		{"negative keep_weekly", "[backup]\nkeep_weekly = -2", "key backup.keep_weekly"},
		{"keep nothing", "[backup]\nkeep_daily = 0\nkeep_weekly = 0", "key backup.keep_daily and backup.keep_weekly"},
		{"the data directory", "data_dir = \"d\"\n[backup]\ndirectory = \"d/\"", "key backup.directory"},
		{"unknown key", "[backup]\nkeep_monthly = 3", "unknown key backup.keep_monthly"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(dir, strings.ReplaceAll(tc.name, " ", "_")+".toml")
			if err := os.WriteFile(path, []byte(tc.toml), 0o600); err != nil {
				t.Fatal(err)
			}
			if _, err := Load(path); err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Load(%q) error = %v, want it to contain %q", tc.toml, err, tc.want)
			}
		})
	}
}

func TestBackupSchedule(t *testing.T) {
	for _, tc := range []struct {
		schedule string
		want     BackupSchedule
	}{
		{"03:00", BackupSchedule{Daily: true, At: 3 * time.Hour}},
		{"00:00", BackupSchedule{Daily: true}},
		{"23:45", BackupSchedule{Daily: true, At: 23*time.Hour + 45*time.Minute}},
		{"6h", BackupSchedule{Every: 6 * time.Hour}},
		{"90m", BackupSchedule{Every: 90 * time.Minute}},
	} {
		got, err := Backup{Schedule: tc.schedule}.ParseSchedule()
		if err != nil || got != tc.want {
			t.Errorf("ParseSchedule(%q) = %+v, %v; want %+v", tc.schedule, got, err, tc.want)
		}
	}
}

func TestBackupDirectoryRelative(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "posthorn.toml")
	if err := os.WriteFile(path, []byte("[backup]\ndirectory = \"backups\"\nschedule = \"6h\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if c.Backup.Directory != filepath.Join(dir, "backups") {
		t.Errorf("backup.directory %q, want it beside the file", c.Backup.Directory)
	}
}
