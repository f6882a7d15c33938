package retention

import (
	"context"
	"time"
)

// The schedule of the job, in one place: Daily is what internal/app starts with the server, and
// the only code that decides when a run happens.

// Clock is what Daily waits with: the time now, and a channel that delivers once d has
// passed. SystemClock is the real one; tests pass their own.
type Clock interface {
	Now() time.Time
	After(d time.Duration) <-chan time.Time
}

// SystemClock is the Clock of time.Now and time.After.
type SystemClock struct{}

// Now is time.Now.
func (SystemClock) Now() time.Time { return time.Now() }

// After is time.After.
func (SystemClock) After(d time.Duration) <-chan time.Time { return time.After(d) }

// NextRun returns the first time after now that is offset past a midnight UTC.
func NextRun(now time.Time, offset time.Duration) time.Time {
	next := now.UTC().Truncate(24 * time.Hour).Add(offset)
	for !next.After(now) {
		next = next.Add(24 * time.Hour)
	}
	return next
}

// Daily calls run once a day, at offset past midnight UTC (config.Retention.RunAtOffset), until
// ctx ends. A run that takes longer than a day delays the next one; none is run twice to make
// up for it.
func Daily(ctx context.Context, clock Clock, offset time.Duration, run func(ctx context.Context)) {
	for {
		now := clock.Now()
		wait := NextRun(now, offset).Sub(now)
		select {
		case <-ctx.Done():
			return
		case <-clock.After(max(wait, 0)):
		}
		if ctx.Err() != nil {
			return
		}
		run(ctx)
	}
}
