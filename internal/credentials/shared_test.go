package credentials

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/auth"
	"posthorn/internal/store/postgres"
	"posthorn/internal/testutil/pgtest"
)

// openPostgres starts a PostgreSQL server for one test and opens n Stores (n nodes) on one
// new database.
func openPostgres(t *testing.T, n int) []*postgres.Store {
	t.Helper()
	url := pgtest.StartForTest(t).Database(t)
	var stores []*postgres.Store
	for range n {
		s, err := postgres.Open(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		stores = append(stores, s)
	}
	return stores
}

// TestThrottleSharedByTwoNodes: two Authenticators (two nodes) keeping their counts in two
// PostgreSQL Stores on one database: failures from one source split between the nodes
// reach HardLimit together, and then both refuse even the right password; the delays grow
// with the failures of both.
func TestThrottleSharedByTwoNodes(t *testing.T) {
	a, slept, _, path := newAuthenticatorAt(t)
	b := NewAuthenticator(otherProcess(t, path), slog.New(slog.NewTextHandler(io.Discard, nil)), prometheus.NewRegistry())
	var sleptB []time.Duration
	b.sleep = func(_ context.Context, d time.Duration) error { sleptB = append(sleptB, d); return nil }
	pg := openPostgres(t, 2)
	a.SetSharedThrottle(pg[0])
	b.SetSharedThrottle(pg[1])
	ctx := context.Background()

	nodes := []*Authenticator{a, b}
	for i := range HardLimit {
		if _, err := nodes[i%2].Login(ctx, "imap", "alice@example.org", "guess", home); !errors.Is(err, auth.ErrInvalidCredentials) {
			t.Fatalf("guess %d on node %d: %v", i, i%2, err)
		}
	}
	// Each node saw HardLimit/2 failures of its own; the delays follow the shared count.
	if len(*slept)+len(sleptB) != HardLimit-FreeFailures {
		t.Errorf("%d + %d attempts waited, want %d", len(*slept), len(sleptB), HardLimit-FreeFailures)
	}
	// Node b's first wait follows 3 failures (two on node a), node a's 4 (two on node b).
	if len(sleptB) == 0 || sleptB[0] != BaseDelay {
		t.Errorf("node b's waits %v, want the first %v", sleptB, BaseDelay)
	}
	if len(*slept) == 0 || (*slept)[0] != 2*BaseDelay {
		t.Errorf("node a's waits %v, want the first %v", *slept, 2*BaseDelay)
	}
	for i, n := range nodes {
		if _, err := n.Login(ctx, "imap", "alice@example.org", "right password", home); !errors.Is(err, ErrThrottled) {
			t.Errorf("node %d after %d failures across both: %v, want ErrThrottled", i, HardLimit, err)
		}
	}
	// Another source is not refused, and its success gives its place back.
	other := home.Next()
	if _, err := b.Login(ctx, "imap", "alice@example.org", "right password", other); err != nil {
		t.Errorf("another source: %v", err)
	}
}
