package config

import (
	"fmt"
	"regexp"
	"strconv"
	"time"
)

// Backup configures scheduled backups (internal/backup, Job): archives written into Directory
// on Schedule, a full one every FullEveryDays days and incremental ones between, pruned by
// KeepDaily and KeepWeekly.
type Backup struct {
	// Directory the scheduled archives are written to and pruned in; a relative path is
	// relative to the configuration file. "" = no scheduled backups. Default: "".
	Directory string `toml:"directory"`
	// When they run: "HH:MM", daily at that time in the server's time zone, or an interval
	// such as "6h" or "30m" (at least 1m). With no archive in the directory the first runs at
	// start. Default: "03:00".
	Schedule string `toml:"schedule"`
	// A run makes a full archive when the newest full one is this many calendar days old or
	// more; the runs between make incremental ones, each from the archive before it.
	// 1 = every archive full. Default: 7.
	FullEveryDays int `toml:"full_every_days"`
	// Keep the newest archive of each of this many most recent days that have one. Default: 7.
	KeepDaily int `toml:"keep_daily"`
	// Keep the newest full archive of each of this many most recent weeks that have one.
	// Default: 4.
	KeepWeekly int `toml:"keep_weekly"`
}

// DefaultBackup returns the defaults of [backup].
func DefaultBackup() Backup {
	return Backup{Schedule: "03:00", FullEveryDays: 7, KeepDaily: 7, KeepWeekly: 4}
}

// BackupSchedule is Backup.Schedule parsed: daily at At after midnight, or every Every.
type BackupSchedule struct {
	Daily bool
	At    time.Duration
	Every time.Duration
}

var timeOfDay = regexp.MustCompile(`^([01][0-9]|2[0-3]):([0-5][0-9])$`)

// ParseSchedule parses Schedule (validated at load).
func (b Backup) ParseSchedule() (BackupSchedule, error) {
	if m := timeOfDay.FindStringSubmatch(b.Schedule); m != nil {
		h, _ := strconv.Atoi(m[1])
		min, _ := strconv.Atoi(m[2])
		return BackupSchedule{Daily: true, At: time.Duration(h)*time.Hour + time.Duration(min)*time.Minute}, nil
	}
	d, err := time.ParseDuration(b.Schedule)
	if err != nil || d < time.Minute {
		return BackupSchedule{}, fmt.Errorf("%q is neither a time of day HH:MM nor an interval of at least 1m such as 6h", b.Schedule)
	}
	return BackupSchedule{Every: d}, nil
}

func (b Backup) validate() error {
	if _, err := b.ParseSchedule(); err != nil {
		return fmt.Errorf("key backup.schedule: %w", err)
	}
	if b.FullEveryDays < 1 {
		return fmt.Errorf("key backup.full_every_days: must be at least 1 (every archive full), got %d", b.FullEveryDays)
	}
	if b.KeepDaily < 0 {
		return fmt.Errorf("key backup.keep_daily: must be 0 or more, got %d", b.KeepDaily)
	}
	if b.KeepWeekly < 0 {
		return fmt.Errorf("key backup.keep_weekly: must be 0 or more, got %d", b.KeepWeekly)
	}
	if b.KeepDaily == 0 && b.KeepWeekly == 0 {
		return fmt.Errorf("key backup.keep_daily and backup.keep_weekly: both 0 would keep only the newest archive; set one")
	}
	return nil
}
