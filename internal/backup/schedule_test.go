package backup

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"posthorn/internal/bodystore"
	"posthorn/internal/testutil/mailenv"
)

func TestScheduleNext(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	if err != nil {
		t.Fatal(err)
	}
	at := func(s string, loc *time.Location) time.Time {
		tm, err := time.ParseInLocation("2006-01-02 15:04", s, loc)
		if err != nil {
			t.Fatal(err)
		}
		return tm
	}
	daily := Schedule{Daily: true, At: 3 * time.Hour, Location: time.UTC}
	for _, c := range []struct {
		name      string
		s         Schedule
		last, now string
		want      string
	}{
		{"first run at once", daily, "", "2026-12-08 10:00", "2026-12-08 10:00"},
		{"after a run before the time: the same day", daily, "2026-12-08 01:00", "2026-12-08 01:00", "2026-12-08 03:00"},
		{"after the day's run: the next day", daily, "2026-12-08 03:00", "2026-12-08 03:00", "2026-12-09 03:00"},
		{"missed while down: due, so now", daily, "2026-12-01 03:00", "2026-12-08 10:00", "2026-12-02 03:00"},
		{"interval", Schedule{Every: 6 * time.Hour}, "2026-12-08 03:00", "2026-12-08 04:00", "2026-12-08 09:00"},
	} {
		var last time.Time
		if c.last != "" {
			last = at(c.last, time.UTC)
		}
		if got := c.s.Next(last, at(c.now, time.UTC)); !got.Equal(at(c.want, time.UTC)) {
			t.Errorf("%s: Next = %s, want %s", c.name, got.UTC(), c.want)
		}
	}
	// Summer time ends on 2026-10-25 in Berlin: 03:00 stays 03:00 on the clock.
	s := Schedule{Daily: true, At: 3 * time.Hour, Location: berlin}
	if got := s.Next(at("2026-10-24 03:00", berlin), at("2026-10-24 03:00", berlin)); !got.Equal(at("2026-10-25 03:00", berlin)) {
		t.Errorf("across the end of summer time: %s", got)
	}
}

// failingBodies fails every Open while fail is set, as a broken disk would.
type failingBodies struct {
	bodystore.Bodies
	mu   sync.Mutex
	fail bool
}

func (b *failingBodies) Open(ctx context.Context, id string) (bodystore.Body, error) {
	b.mu.Lock()
	fail := b.fail
	b.mu.Unlock()
	if fail {
		return nil, errors.New("disk on fire")
	}
	return b.Bodies.Open(ctx, id)
}

func (b *failingBodies) setFail(v bool) {
	b.mu.Lock()
	b.fail = v
	b.mu.Unlock()
}

// fakeClock is a clock the test moves: After hands the wait to the test, which advances the
// time and fires it.
type fakeClock struct {
	mu    sync.Mutex
	now   time.Time
	waits chan time.Duration
	fire  chan time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) After(d time.Duration) <-chan time.Time {
	c.waits <- d
	return c.fire
}

// wait returns the scheduler's next wait: it has finished the run before it.
func (c *fakeClock) wait(t *testing.T) time.Duration {
	t.Helper()
	select {
	case d := <-c.waits:
		return d
	case <-time.After(time.Minute):
		t.Fatal("the scheduler did not come back to wait")
		return 0
	}
}

// advance moves the clock by d and fires the scheduler's wait.
func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	now := c.now
	c.mu.Unlock()
	c.fire <- now
}

// TestSchedulerRuns: the scheduler with a clock of the test's: a full archive at start, daily
// incrementals at 03:00, a full one every seven days, a failed run tried again an hour later,
// and after two weeks and a bit exactly the archives the rules keep; every one verifies with
// its chain, and the newest restores to the live mailbox.
func TestSchedulerRuns(t *testing.T) {
	e := mailenv.NewWithPasswordHash(t, "mx.example.org", "x")
	fillMail(t, e, 10)
	bodies := &failingBodies{Bodies: e.Blobs.Bodies()}
	dir := filepath.Join(t.TempDir(), "backups")
	reg := prometheus.NewRegistry()
	metrics := NewMetrics(reg)
	job := &Job{Source: source(t, e, bodies), Dir: dir, FullEveryDays: 7, KeepDaily: 3, KeepWeekly: 2,
		Location: time.UTC, Metrics: metrics}
	start := time.Date(2026, 11, 30, 10, 0, 0, 0, time.UTC) // a Monday
	clock := &fakeClock{now: start, waits: make(chan time.Duration), fire: make(chan time.Time)}
	s := &Scheduler{Job: job, Schedule: Schedule{Daily: true, At: 3 * time.Hour, Location: time.UTC},
		Now: clock.Now, After: clock.After}
	ctx, cancel := context.WithCancel(t.Context())
	done := make(chan error, 1)
	go func() { done <- s.Run(ctx) }()
	defer func() {
		cancel()
		if err := <-done; !errors.Is(err, context.Canceled) {
			t.Errorf("Run: %v", err)
		}
	}()

	// At start, without an archive: one at once, full.
	if d := clock.wait(t); d != 17*time.Hour {
		t.Fatalf("after the first run, a wait of %s, want 17h (to 03:00)", d)
	}
	if got := names(t, dir); !slices.Equal(got, []string{"posthorn-20261130T100000Z-full.tar.zst"}) {
		t.Fatalf("archives after the first run: %v", got)
	}
	if got := promtest.ToFloat64(metrics.lastSuccess); got != float64(start.Unix()) {
		t.Errorf("last success %v, want %d", got, start.Unix())
	}
	if promtest.ToFloat64(metrics.size) <= 0 || promtest.ToFloat64(metrics.scheduled) != 1 {
		t.Errorf("size %v, scheduled %v", promtest.ToFloat64(metrics.size), promtest.ToFloat64(metrics.scheduled))
	}

	// 12-01: the run fails, and is tried again an hour later.
	bodies.setFail(true)
	e.Deliver(e.Alice, "INBOX", "Subject: d0\r\n\r\nday 0\r\n")
	clock.advance(17 * time.Hour)
	if d := clock.wait(t); d != time.Hour {
		t.Fatalf("after a failed run, a wait of %s, want an hour", d)
	}
	if promtest.ToFloat64(metrics.failures) != 1 || len(names(t, dir)) != 1 {
		t.Fatalf("failures %v, archives %v", promtest.ToFloat64(metrics.failures), names(t, dir))
	}
	bodies.setFail(false)
	clock.advance(time.Hour)
	if d := clock.wait(t); d != 23*time.Hour {
		t.Fatalf("after the retry, a wait of %s, want 23h", d)
	}
	if got := names(t, dir)[0]; got != "posthorn-20261201T040000Z-incr-20261130T100000Z.tar.zst" {
		t.Fatalf("the retry made %s", got)
	}
	// Mail arrives while the scheduler waits, so that each run has new bodies (the clock
	// fires the run: mail delivered after that would race it).
	e.Deliver(e.Alice, "INBOX", "Subject: d2\r\n\r\nday 2\r\n")
	clock.advance(23 * time.Hour) // 12-02 03:00

	for day := 2; day <= 15; day++ {
		if d := clock.wait(t); d != 24*time.Hour {
			t.Fatalf("day %d: a wait of %s", day, d)
		}
		newest := names(t, dir)[0]
		a, _ := ParseArchiveName(newest)
		// Fulls: 11-30, then 12-07 and 12-14 (seven calendar days later).
		if wantFull := day == 7 || day == 14; a.Full != wantFull || a.Created.Day() != day {
			t.Fatalf("day %d: newest archive %s", day, newest)
		}
		m, _, err := VerifyChain(t.Context(), filepath.Join(dir, newest), nil, nil)
		if err != nil {
			t.Fatalf("day %d: %v", day, err)
		}
		// An incremental holds the day's one new body and the database.
		if !a.Full && len(m.Entries) != 2 {
			t.Errorf("day %d: the incremental holds %d entries, want 2", day, len(m.Entries))
		}
		if day < 15 {
			e.Deliver(e.Alice, "INBOX", fmt.Sprintf("Subject: d%d\r\n\r\nday %d\r\n", day+1, day+1))
			clock.advance(24 * time.Hour)
		}
	}
	want := []string{
		"posthorn-20261215T030000Z-incr-20261214T030000Z.tar.zst",
		"posthorn-20261214T030000Z-full.tar.zst",
		"posthorn-20261213T030000Z-incr-20261212T030000Z.tar.zst",
		"posthorn-20261212T030000Z-incr-20261211T030000Z.tar.zst",
		"posthorn-20261211T030000Z-incr-20261210T030000Z.tar.zst",
		"posthorn-20261210T030000Z-incr-20261209T030000Z.tar.zst",
		"posthorn-20261209T030000Z-incr-20261208T030000Z.tar.zst",
		"posthorn-20261208T030000Z-incr-20261207T030000Z.tar.zst",
		"posthorn-20261207T030000Z-full.tar.zst",
	}
	// Three days (12-15, 12-14, 12-13 and the chain of 12-13 down to 12-07), two weekly fulls
	// (12-14, 12-07); the first week is gone.
	if got := names(t, dir); !slices.Equal(got, want) {
		t.Fatalf("after two weeks the archives are\n%v\nwant\n%v", got, want)
	}
	for _, name := range want {
		if _, _, err := VerifyChain(t.Context(), filepath.Join(dir, name), nil, nil); err != nil {
			t.Errorf("%s: %v", name, err)
		}
	}
	live := readMailbox(t, e.Store, e.Blobs.Bodies(), e.Alice, "INBOX")
	// An incremental in the middle of a chain of six restores too.
	if _, err := restoreChainInto(t, filepath.Join(dir, want[2]), nil, filepath.Join(t.TempDir(), "restored")); err != nil {
		t.Fatal(err)
	}
	restored2 := filepath.Join(t.TempDir(), "restored")
	if _, err := restoreChainInto(t, filepath.Join(dir, want[0]), nil, restored2); err != nil {
		t.Fatal(err)
	}
	checkRestored(t, restored2, live)
}

// names lists the scheduled archives in dir, newest first.
func names(t *testing.T, dir string) []string {
	t.Helper()
	archives, err := ListArchives(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, a := range archives {
		out = append(out, a.Name)
	}
	return out
}

// TestJobStartsNewChain: a damaged newest archive, or a chain with an archive removed, makes
// the next run a full archive rather than an incremental that could not be restored.
func TestJobStartsNewChain(t *testing.T) {
	e := mailenv.NewWithPasswordHash(t, "mx.example.org", "x")
	fillMail(t, e, 5)
	dir := t.TempDir()
	job := &Job{Source: source(t, e, e.Blobs.Bodies()), Dir: dir, FullEveryDays: 7, KeepDaily: 30, Location: time.UTC}
	day := time.Date(2026, 12, 1, 3, 0, 0, 0, time.UTC)
	run := func(n int, wantFull bool) Archive {
		t.Helper()
		e.Deliver(e.Alice, "INBOX", fmt.Sprintf("Subject: run %d\r\n\r\nrun %d\r\n", n, n))
		a, err := job.Run(t.Context(), day.AddDate(0, 0, n))
		if err != nil {
			t.Fatalf("run %d: %v", n, err)
		}
		if a.Full != wantFull {
			t.Fatalf("run %d made %s, want full %v", n, a.Name, wantFull)
		}
		return a
	}
	run(0, true)
	incr := run(1, false)
	// A flipped byte in the newest archive: the next run cannot build on it.
	path := filepath.Join(dir, incr.Name)
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	data[len(data)/2] ^= 1
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	full := run(2, true)
	run(3, false)
	// The full archive of run 2 removed by hand: run 4's chain would lack it.
	if err := os.Remove(filepath.Join(dir, full.Name)); err != nil {
		t.Fatal(err)
	}
	run(4, true)
	run(5, false)
	// A .partial left by a killed run is removed by the next.
	partial := filepath.Join(dir, ArchiveName(day.AddDate(0, 0, 5).Add(time.Hour), time.Time{})+".partial")
	if err := os.WriteFile(partial, []byte("half"), 0o600); err != nil {
		t.Fatal(err)
	}
	run(6, false)
	if _, err := os.Stat(partial); !os.IsNotExist(err) {
		t.Errorf("the .partial is still there: %v", err)
	}
}
