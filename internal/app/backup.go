package app

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"
	"time"

	"posthorn/internal/backup"
	"posthorn/internal/metrics"
)

// startBackups runs the scheduled backups of [backup] (internal/backup: Scheduler and Job)
// in the background: archives of the live data into backup.directory, verified and pruned.
// Its metrics are registered whether backups are scheduled or not. A backend that takes no
// snapshot runs none; with backups configured, that is a start-up error.
//
// This is the one place where a scheduled backup starts: a setup of several nodes would
// take a lease here, so that one node makes each run.
func (s *Server) startBackups(registry *metrics.Registry) error {
	m := backup.NewMetrics(registry)
	cfg := s.cfg.Backup
	if cfg.Directory == "" {
		return nil
	}
	if inside(cfg.Directory, BodiesDir(s.cfg.DataDir)) {
		return fmt.Errorf("key backup.directory: %s is inside the message bodies' directory %s", cfg.Directory, BodiesDir(s.cfg.DataDir))
	}
	snap, ok := s.data.Store.(backup.Snapshotter)
	if !ok {
		return fmt.Errorf("backup.directory: the store %T takes no snapshot", s.data.Store)
	}
	sched, err := cfg.ParseSchedule()
	if err != nil {
		return fmt.Errorf("key backup.schedule: %w", err) // validated at load
	}
	logger := s.logger.With("component", "backup")
	sc := &backup.Scheduler{
		Job: &backup.Job{
			Source:        backup.Source{Database: snap, Bodies: s.data.Blobs.Bodies(), TempDir: s.cfg.DataDir},
			Dir:           cfg.Directory,
			FullEveryDays: cfg.FullEveryDays,
			KeepDaily:     cfg.KeepDaily,
			KeepWeekly:    cfg.KeepWeekly,
			Location:      time.Local,
			Metrics:       m,
			Logger:        logger,
		},
		Schedule: backup.Schedule{Daily: sched.Daily, At: sched.At, Every: sched.Every, Location: time.Local},
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		_ = sc.Run(ctx)
	}()
	logger.Info("scheduled backups", "directory", cfg.Directory, "schedule", cfg.Schedule,
		"full_every_days", cfg.FullEveryDays, "keep_daily", cfg.KeepDaily, "keep_weekly", cfg.KeepWeekly)
	// Shutdown: a run in progress is cancelled (its .partial removed), before the store closes.
	s.stopBackups = func() {
		cancel()
		<-done
	}
	return nil
}

// inside reports whether path is dir or below it.
func inside(path, dir string) bool {
	p, err1 := filepath.Abs(path)
	d, err2 := filepath.Abs(dir)
	if err1 != nil || err2 != nil {
		return false
	}
	rel, err := filepath.Rel(d, p)
	return err == nil && rel != ".." && !strings.HasPrefix(rel, ".."+string(filepath.Separator))
}
