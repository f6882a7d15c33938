package backup

import (
	"context"
	"time"
)

// Schedule says when scheduled backups run: daily at a time of day, or at an interval.
type Schedule struct {
	// Daily runs once a day at At after midnight in Location; otherwise a run is due Every
	// after the last one.
	Daily    bool
	At       time.Duration
	Every    time.Duration
	Location *time.Location // default time.Local
}

// Next returns when the run after the one at last is due; with no run yet (last zero) that
// is now, so that a directory without an archive gets one at start. A due time in the past
// (the server was down at the time) means a run now.
func (s Schedule) Next(last, now time.Time) time.Time {
	if last.IsZero() {
		return now
	}
	if !s.Daily {
		return last.Add(s.Every)
	}
	loc := s.Location
	if loc == nil {
		loc = time.Local
	}
	l := last.In(loc)
	y, m, d := l.Date()
	for day := 0; ; day++ {
		// Hours and minutes on the clock, so that a change to or from summer time moves
		// nothing.
		at := time.Date(y, m, d+day, int(s.At/time.Hour), int(s.At%time.Hour/time.Minute), 0, 0, loc)
		if at.After(l) {
			return at
		}
	}
}

// Scheduler runs Job on Schedule until its context ends; a failed run is tried again after
// RetryAfter (default one hour, or the interval when it is shorter). It is the one loop of
// scheduled backups: where a multi-node setup would take a lease before each run.
type Scheduler struct {
	Job        *Job
	Schedule   Schedule
	RetryAfter time.Duration
	// Now and After are the clock, time.Now and time.After by default (tests set their own).
	Now   func() time.Time
	After func(time.Duration) <-chan time.Time
}

// Run loops until ctx ends. The last run's time is the newest archive's in Job.Dir.
func (s *Scheduler) Run(ctx context.Context) error {
	now, after := s.Now, s.After
	if now == nil {
		now = time.Now
	}
	if after == nil {
		after = time.After
	}
	retry := s.RetryAfter
	if retry == 0 {
		retry = time.Hour
		if !s.Schedule.Daily && s.Schedule.Every < retry {
			retry = s.Schedule.Every
		}
	}
	var last, failed time.Time
	if archives, err := ListArchives(s.Job.Dir); err == nil && len(archives) > 0 {
		last = archives[0].Created
	}
	s.Job.Metrics.Scheduled(last)
	for {
		t := now()
		due := s.Schedule.Next(last, t)
		if !failed.IsZero() {
			due = failed.Add(retry)
		}
		if due.After(t) {
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-after(due.Sub(t)):
			}
			continue
		}
		a, err := s.Job.Run(ctx, t)
		if ctx.Err() != nil {
			return ctx.Err()
		}
		if err != nil {
			failed = t
			continue
		}
		last, failed = a.Created, time.Time{}
	}
}
