package postgres

import (
	"testing"
	"time"
)

// TestGreylist: the first attempt of a triplet is refused, a retry before the delay too, one
// after it passes, and so do the next ones; a triplet not seen for the expiry starts again.
func TestGreylist(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const delay, expiry = 5 * time.Minute, 24 * time.Hour
	for _, step := range []struct {
		at   time.Duration
		pass bool
	}{
		{0, false},
		{time.Minute, false},
		{delay, true},
		{delay + time.Second, true},
		{delay + 2*expiry, false}, // expired: a new period
		{delay + 2*expiry + delay, true},
	} {
		pass, err := s.Greylist(ctx, "192.0.2.0/24/a@example.net/b@example.org", start.Add(step.at), delay, expiry)
		if err != nil || pass != step.pass {
			t.Errorf("attempt at +%v: pass %v, %v; want %v", step.at, pass, err, step.pass)
		}
	}
}

// TestGreylistTwoNodes: two nodes seeing a new triplet at once both refuse it without error,
// and a retry after the delay passes on either.
func TestGreylistTwoNodes(t *testing.T) {
	url := server.Database(t)
	nodes := []*Store{openURL(t, url), openURL(t, url)}
	ctx := t.Context()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	const triplet, delay, expiry = "192.0.2.0/24/a@example.net/b@example.org", 5 * time.Minute, 24 * time.Hour
	type result struct {
		pass bool
		err  error
	}
	results := make(chan result, 8)
	for i := range 8 {
		go func() {
			pass, err := nodes[i%2].Greylist(ctx, triplet, start, delay, expiry)
			results <- result{pass, err}
		}()
	}
	for range 8 {
		if r := <-results; r.err != nil || r.pass {
			t.Errorf("first attempts: pass %v, %v; want refused", r.pass, r.err)
		}
	}
	for _, n := range nodes {
		if pass, err := n.Greylist(ctx, triplet, start.Add(delay), delay, expiry); err != nil || !pass {
			t.Errorf("after the delay: pass %v, %v", pass, err)
		}
	}
}
