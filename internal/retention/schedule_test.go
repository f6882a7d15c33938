package retention

import (
	"context"
	"sync"
	"testing"
	"time"
)

func TestNextRun(t *testing.T) {
	at := 4 * time.Hour
	day := time.Date(2026, 6, 1, 0, 0, 0, 0, time.UTC)
	for _, tc := range []struct{ now, want time.Time }{
		{day.Add(3 * time.Hour), day.Add(4 * time.Hour)},
		{day.Add(4 * time.Hour), day.Add(28 * time.Hour)}, // exactly at the time: the next day's
		{day.Add(5 * time.Hour), day.Add(28 * time.Hour)},
		{day.Add(23*time.Hour + 59*time.Minute), day.Add(28 * time.Hour)},
		// Another time zone: the same instants.
		{day.Add(3 * time.Hour).In(time.FixedZone("UTC+9", 9*3600)), day.Add(4 * time.Hour)},
	} {
		if got := NextRun(tc.now, at); !got.Equal(tc.want) {
			t.Errorf("NextRun(%v) = %v, want %v", tc.now, got, tc.want)
		}
	}
}

// stepClock is a clock that moves when the test fires the wait Daily asked for.
type stepClock struct {
	mu    sync.Mutex
	now   time.Time
	waits chan time.Duration
	fire  chan time.Time
}

func (c *stepClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.now }

func (c *stepClock) After(d time.Duration) <-chan time.Time {
	c.waits <- d
	return c.fire
}

// advance moves the clock by d and ends the wait.
func (c *stepClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	c.mu.Unlock()
	c.fire <- now
}

func TestDailyRunsOnceADayAtItsTime(t *testing.T) {
	clock := &stepClock{now: time.Date(2026, 6, 1, 1, 30, 0, 0, time.UTC), waits: make(chan time.Duration), fire: make(chan time.Time)}
	runs := make(chan time.Time, 10)
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() {
		defer close(done)
		Daily(ctx, clock, 4*time.Hour, func(context.Context) { runs <- clock.Now() })
	}()
	wait := func() time.Duration {
		t.Helper()
		select {
		case d := <-clock.waits:
			return d
		case <-time.After(10 * time.Second):
			t.Fatal("Daily asked for no wait")
			return 0
		}
	}
	if d := wait(); d != 150*time.Minute {
		t.Fatalf("first wait = %v, want 2h30m (until 04:00)", d)
	}
	clock.advance(150 * time.Minute)
	if at := <-runs; !at.Equal(time.Date(2026, 6, 1, 4, 0, 0, 0, time.UTC)) {
		t.Errorf("ran at %v", at)
	}
	if d := wait(); d != 24*time.Hour {
		t.Fatalf("second wait = %v, want a day", d)
	}
	clock.advance(24 * time.Hour)
	if at := <-runs; !at.Equal(time.Date(2026, 6, 2, 4, 0, 0, 0, time.UTC)) {
		t.Errorf("second run at %v", at)
	}
	wait()
	cancel()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		t.Fatal("Daily did not return when its context ended")
	}
	if len(runs) != 0 {
		t.Errorf("%d runs more than due", len(runs))
	}
}
