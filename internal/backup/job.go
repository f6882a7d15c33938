package backup

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Job is one scheduled backup run ([backup] in the configuration): it writes an archive into
// Dir, verifies it and prunes the archives the retention rules (Keep) no longer want.
//
// Full or incremental: a run writes a full archive when Dir has none, when the newest full one
// is FullEveryDays calendar days old or more, or when the chain of the newest archive is
// broken (an archive of it removed) or fails verification; otherwise an incremental one from
// the newest archive, so that a week of daily runs is one full archive and six small ones,
// each holding the bodies delivered since the run before.
type Job struct {
	Source        Source // Base and Now are set by each run
	Dir           string
	FullEveryDays int // default 7
	KeepDaily     int
	KeepWeekly    int
	Location      *time.Location // of days and weeks; default time.Local
	Metrics       *Metrics       // may be nil
	Logger        *slog.Logger
}

// Run makes one archive as of now and returns it.
func (j *Job) Run(ctx context.Context, now time.Time) (Archive, error) {
	start := time.Now()
	a, sum, err := j.run(ctx, now)
	if err != nil {
		j.Metrics.failed()
		j.logger().Error("scheduled backup failed", "dir", j.Dir, "err", err)
		return Archive{}, err
	}
	j.Metrics.succeeded(a.Created, time.Since(start), sum.ArchiveBytes)
	j.logger().Info("scheduled backup", "file", filepath.Join(j.Dir, a.Name), "full", a.Full,
		"entries", sum.Entries, "inherited", sum.Inherited, "archive_bytes", sum.ArchiveBytes, "elapsed", time.Since(start))
	return a, nil
}

func (j *Job) run(ctx context.Context, now time.Time) (Archive, Summary, error) {
	if err := os.MkdirAll(j.Dir, 0o750); err != nil {
		return Archive{}, Summary{}, err
	}
	if err := removePartials(j.Dir); err != nil {
		return Archive{}, Summary{}, err
	}
	archives, err := ListArchives(j.Dir)
	if err != nil {
		return Archive{}, Summary{}, err
	}
	now = now.UTC().Truncate(time.Second)
	if len(archives) > 0 && !now.After(archives[0].Created) {
		return Archive{}, Summary{}, fmt.Errorf("the newest archive %s is not older than now (%s)", archives[0].Name, now.Format(nameTime))
	}
	src := j.Source
	src.Now = func() time.Time { return now }
	a := Archive{Created: now, Full: true}
	if base, ok := j.base(archives, now); ok {
		a = Archive{Created: now, Base: base.Created}
		src.Base = filepath.Join(j.Dir, base.Name)
	}
	a.Name = ArchiveName(now, a.Base)
	sum, err := Create(ctx, src, filepath.Join(j.Dir, a.Name))
	if err != nil && src.Base != "" && !errors.Is(err, context.Canceled) {
		// A damaged base breaks the chain; a full archive starts a new one.
		j.logger().Warn("scheduled backup: incremental failed, making a full one", "base", src.Base, "err", err)
		a = Archive{Created: now, Full: true, Name: ArchiveName(now, time.Time{})}
		src.Base = ""
		sum, err = Create(ctx, src, filepath.Join(j.Dir, a.Name))
	}
	if err != nil {
		return Archive{}, Summary{}, err
	}
	if _, _, err := Verify(ctx, filepath.Join(j.Dir, a.Name), nil); err != nil {
		return Archive{}, Summary{}, fmt.Errorf("the new archive: %w", err)
	}
	return a, sum, j.prune(append([]Archive{a}, archives...))
}

// base returns the archive a run at now makes an incremental one from, if any.
func (j *Job) base(archives []Archive, now time.Time) (Archive, bool) {
	every := j.FullEveryDays
	if every == 0 {
		every = 7
	}
	if len(archives) == 0 {
		return Archive{}, false
	}
	var lastFull Archive
	for _, a := range archives {
		if a.Full {
			lastFull = a
			break
		}
	}
	if lastFull.Name == "" || calendarDays(lastFull.Created, now, j.location()) >= every {
		return Archive{}, false
	}
	// The newest archive's chain must reach a full archive through archives that are there.
	byTime := map[time.Time]Archive{}
	for _, a := range archives {
		byTime[a.Created] = a
	}
	for a := archives[0]; !a.Full; {
		base, ok := byTime[a.Base]
		if !ok {
			return Archive{}, false
		}
		a = base
	}
	return archives[0], true
}

// calendarDays is the number of midnights in loc between from and to.
func calendarDays(from, to time.Time, loc *time.Location) int {
	day := func(t time.Time) time.Time {
		y, m, d := t.In(loc).Date()
		return time.Date(y, m, d, 0, 0, 0, 0, time.UTC)
	}
	return int(day(to).Sub(day(from)).Hours() / 24)
}

func (j *Job) prune(archives []Archive) error {
	keep := map[string]bool{}
	for _, name := range Keep(archives, j.KeepDaily, j.KeepWeekly, j.location()) {
		keep[name] = true
	}
	var errs []error
	for _, a := range archives {
		if keep[a.Name] {
			continue
		}
		if err := os.Remove(filepath.Join(j.Dir, a.Name)); err != nil {
			errs = append(errs, fmt.Errorf("prune: %w", err))
			continue
		}
		j.logger().Info("scheduled backup: pruned", "file", filepath.Join(j.Dir, a.Name))
	}
	return errors.Join(errs...)
}

// removePartials removes what a run killed in the middle left in dir.
func removePartials(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		if name, ok := strings.CutSuffix(e.Name(), ".partial"); ok {
			if _, ok := ParseArchiveName(name); ok {
				if err := os.Remove(filepath.Join(dir, e.Name())); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

func (j *Job) location() *time.Location {
	if j.Location == nil {
		return time.Local
	}
	return j.Location
}

func (j *Job) logger() *slog.Logger {
	if j.Logger == nil {
		return slog.New(slog.DiscardHandler)
	}
	return j.Logger
}

// Metrics are the scheduled backups' metrics.
type Metrics struct {
	scheduled   prometheus.Gauge
	lastSuccess prometheus.Gauge
	duration    prometheus.Gauge
	size        prometheus.Gauge
	failures    prometheus.Counter
}

// NewMetrics registers the backup metrics in reg: registered whether backups are scheduled or
// not, so that the list of metrics does not depend on the configuration.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		scheduled: prometheus.NewGauge(prometheus.GaugeOpts{Name: "posthorn_backup_scheduled",
			Help: "1 when scheduled backups are configured ([backup] directory), else 0."}),
		lastSuccess: prometheus.NewGauge(prometheus.GaugeOpts{Name: "posthorn_backup_last_success_timestamp_seconds",
			Help: "When the newest scheduled archive was made, in seconds since the epoch (at start: the newest in the directory); 0 = none."}),
		duration: prometheus.NewGauge(prometheus.GaugeOpts{Name: "posthorn_backup_last_duration_seconds",
			Help: "How long the last successful scheduled backup took, creation and verification."}),
		size: prometheus.NewGauge(prometheus.GaugeOpts{Name: "posthorn_backup_last_size_bytes",
			Help: "Size of the archive file of the last successful scheduled backup."}),
		failures: prometheus.NewCounter(prometheus.CounterOpts{Name: "posthorn_backup_failures_total",
			Help: "Scheduled backups that failed (nothing kept of them; tried again an hour later)."}),
	}
	reg.MustRegister(m.scheduled, m.lastSuccess, m.duration, m.size, m.failures)
	return m
}

// Scheduled sets posthorn_backup_scheduled, and the last success to newest's time (none: zero).
func (m *Metrics) Scheduled(newest time.Time) {
	if m == nil {
		return
	}
	m.scheduled.Set(1)
	if !newest.IsZero() {
		m.lastSuccess.Set(float64(newest.Unix()))
	}
}

func (m *Metrics) succeeded(at time.Time, took time.Duration, size int64) {
	if m == nil {
		return
	}
	m.lastSuccess.Set(float64(at.Unix()))
	m.duration.Set(took.Seconds())
	m.size.Set(float64(size))
}

func (m *Metrics) failed() {
	if m != nil {
		m.failures.Inc()
	}
}
