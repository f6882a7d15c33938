package queue

import (
	"context"
	"errors"
	"net"
	"sync"
	"testing"
	"time"

	"posthorn/internal/store"
)

func TestStuckRule(t *testing.T) {
	now := time.Date(2026, 1, 2, 12, 0, 0, 0, time.UTC)
	after := 15 * time.Minute
	old, recent := now.Add(-after), now.Add(-time.Minute)
	for _, tc := range []struct {
		name                   string
		oldestDue, lastAttempt time.Time
		want                   bool
	}{
		{"empty queue", time.Time{}, old, false},
		{"nothing due yet", now.Add(time.Minute), old, false},
		{"due recently", recent, old, false},
		{"due long, attempt recently", old, recent, false},
		{"due long, no attempt since", old, old, true},
		{"due long, never an attempt", now.Add(-time.Hour), time.Time{}, true},
	} {
		if got := stuck(now, tc.oldestDue, tc.lastAttempt, after); got != tc.want {
			t.Errorf("%s: stuck = %v, want %v", tc.name, got, tc.want)
		}
	}
}

// testClock is a clock that moves only when told.
type testClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *testClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *testClock) Advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

// TestStuckWhileConnectionsHang: a due row whose connection never finishes makes the queue
// stuck once StuckAfter has passed on the scheduler's clock; the attempt's end (a deferral)
// makes it unstuck.
func TestStuckWhileConnectionsHang(t *testing.T) {
	h := newHarness(t, 25, map[string][]string{
		"remote.example.": {"remote.example. 300 IN A 127.0.0.1"},
	})
	h.enqueue("alice@example.org", "hang", store.Outbound{Recipient: "bob@remote.example"})
	clock := &testClock{now: time.Now()}
	dialled, release := make(chan struct{}, 1), make(chan struct{})
	h.sched.Now = clock.Now
	h.sched.Dial = func(ctx context.Context, _, _ string) (net.Conn, error) {
		select {
		case dialled <- struct{}{}:
		default:
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil, errors.New("connection refused")
	}
	h.start()
	var once sync.Once
	unhang := func() { once.Do(func() { close(release) }) }
	t.Cleanup(unhang) // before the scheduler's shutdown
	select {
	case <-dialled:
	case <-time.After(15 * time.Second):
		t.Fatal("the scheduler never dialled")
	}
	isStuck := func() bool {
		got, err := h.sched.Stuck(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		return got
	}
	if isStuck() {
		t.Fatal("stuck at once")
	}
	if h.sched.StuckAfter != DefaultStuckAfter {
		t.Fatalf("StuckAfter = %v, want the default %v", h.sched.StuckAfter, DefaultStuckAfter)
	}
	clock.Advance(h.sched.StuckAfter - time.Second)
	if isStuck() {
		t.Fatal("stuck before StuckAfter")
	}
	clock.Advance(2 * time.Second)
	if !isStuck() {
		t.Fatal("not stuck after StuckAfter with the connection hanging")
	}
	unhang()
	h.waitFor("the deferral to count as progress", func() bool { return !isStuck() })
}
