package lease

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"posthorn/internal/store"
	"posthorn/internal/store/postgres"
	"posthorn/internal/store/sqlite"
	"posthorn/internal/testutil/pgtest"
)

var server *pgtest.Server

func TestMain(m *testing.M) {
	os.Exit(pgtest.Main(m, func(s *pgtest.Server) { server = s }))
}

var discard = slog.New(slog.NewTextHandler(io.Discard, nil))

// node is a Store whose node can die: from then on every call fails, as for a node cut off
// or gone, and its lease is renewed no more.
type node struct {
	store.Leases
	dead atomic.Bool
}

var errDead = errors.New("node is dead")

func (n *node) TryAcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if n.dead.Load() {
		return false, errDead
	}
	return n.Leases.TryAcquireLease(ctx, name, holder, ttl)
}

func (n *node) RenewLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if n.dead.Load() {
		return false, errDead
	}
	return n.Leases.RenewLease(ctx, name, holder, ttl)
}

// waitFor polls cond until it holds, failing the test after a deadline.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// TestTwoNodesTakeTurns: two Runners on two PostgreSQL Stores of one database run the job
// one at a time; when the one running it stops renewing (its node dies), the other takes
// over after the TTL, and never do both run it at once.
func TestTwoNodesTakeTurns(t *testing.T) {
	url := server.Database(t)
	var nodes [2]*node
	for i := range nodes {
		s, err := postgres.Open(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		nodes[i] = &node{Leases: s}
	}
	const ttl = 900 * time.Millisecond
	var running, most atomic.Int32
	var runs [2]atomic.Int32
	ctx, cancel := context.WithCancel(t.Context())
	var wg sync.WaitGroup
	for i, n := range nodes {
		r := &Runner{Leases: n, Name: "retention", TTL: ttl, Logger: discard}
		wg.Go(func() {
			err := r.Run(ctx, func(ctx context.Context) {
				runs[i].Add(1)
				now := running.Add(1)
				for m := most.Load(); now > m && !most.CompareAndSwap(m, now); m = most.Load() {
				}
				<-ctx.Done()
				running.Add(-1)
			})
			if !errors.Is(err, context.Canceled) {
				t.Errorf("node %d: Run = %v", i, err)
			}
		})
	}
	defer func() {
		cancel()
		wg.Wait()
	}()
	waitFor(t, "one node to run the job", func() bool { return running.Load() == 1 })
	first := 0
	if runs[1].Load() == 1 {
		first = 1
	}
	other := 1 - first
	// Several renewals later the other node still waits.
	deadline := time.Now().Add(2 * ttl)
	for time.Now().Before(deadline) {
		if runs[other].Load() != 0 {
			t.Fatalf("node %d ran the job while node %d held the lease", other, first)
		}
		time.Sleep(ttl / 10)
	}
	nodes[first].dead.Store(true)
	died := time.Now()
	waitFor(t, "the other node to take over", func() bool { return runs[other].Load() == 1 })
	if took := time.Since(died); took < ttl/2 {
		t.Errorf("the other node took over %v after the holder died, before the lease could expire (TTL %v)", took, ttl)
	}
	if m := most.Load(); m != 1 {
		t.Errorf("%d nodes ran the job at once", m)
	}
	if n := runs[first].Load(); n != 1 {
		t.Errorf("the dead node ran the job %d times", n)
	}
}

// TestJobEndsReleases: on SQLite, one node alone takes the lease at once; a job that returns
// by itself ends Run and frees the lease for the next holder at once.
func TestJobEndsReleases(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	r := &Runner{Leases: s, Name: "backup", Holder: "a", TTL: time.Hour, Logger: discard}
	ran := false
	if err := r.Run(t.Context(), func(ctx context.Context) { ran = true }); err != nil || !ran {
		t.Fatalf("Run = %v, job ran: %v", err, ran)
	}
	if ok, err := s.TryAcquireLease(t.Context(), "backup", "b", time.Hour); err != nil || !ok {
		t.Errorf("another holder after the job ended: %v, %v", ok, err)
	}
}
