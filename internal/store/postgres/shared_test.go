package postgres

import (
	"testing"
	"time"

	"posthorn/internal/store"
	"posthorn/internal/store/storetest"
)

// TestSharedState runs the shared state's conformance suite on a new database per subtest.
func TestSharedState(t *testing.T) {
	storetest.RunSharedState(t, func(t *testing.T) storetest.SharedStateBackend {
		return openURL(t, server.Database(t))
	})
}

// TestTwoNodesSharedState: two Stores (two nodes) on one database share the throttle counts
// (adds on both count together), the sending limits' counts (recorded on one, read on the
// other) and the leases (held on one, refused on the other, taken over once the holder stops
// renewing).
func TestTwoNodesSharedState(t *testing.T) {
	a, b, acc := twoNodes(t)
	ctx := t.Context()

	var last int64
	for i := range 10 {
		n, _, err := []*Store{a, b}[i%2].ThrottleAdd(ctx, "login-source:192.0.2.1/32", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		last = n
	}
	if last != 10 {
		t.Errorf("10 adds split across two nodes count %d", last)
	}

	now := time.Now()
	if err := a.RecordSent(ctx, store.SentRecord{AccountID: acc.ID, Recipients: 4, At: now}); err != nil {
		t.Fatal(err)
	}
	if err := b.RecordSent(ctx, store.SentRecord{AccountID: acc.ID, Recipients: 3, At: now}); err != nil {
		t.Fatal(err)
	}
	for i, s := range []*Store{a, b} {
		if n, err := s.SentSince(ctx, acc.ID, now.Add(-time.Hour)); err != nil || n != 7 {
			t.Errorf("node %d: sent %d, %v; want 7 (4 on a, 3 on b)", i, n, err)
		}
	}

	const ttl = 300 * time.Millisecond
	if ok, err := a.TryAcquireLease(ctx, "retention", "node-a", ttl); err != nil || !ok {
		t.Fatalf("node a acquires: %v, %v", ok, err)
	}
	if ok, err := b.TryAcquireLease(ctx, "retention", "node-b", ttl); err != nil || ok {
		t.Fatalf("node b acquires node a's lease: %v, %v", ok, err)
	}
	// Node a renews for a while: node b stays out.
	deadline := time.Now().Add(3 * ttl)
	for time.Now().Before(deadline) {
		if ok, err := a.RenewLease(ctx, "retention", "node-a", ttl); err != nil || !ok {
			t.Fatalf("node a renews: %v, %v", ok, err)
		}
		if ok, err := b.TryAcquireLease(ctx, "retention", "node-b", ttl); err != nil || ok {
			t.Fatalf("node b acquires a renewed lease: %v, %v", ok, err)
		}
		time.Sleep(ttl / 6)
	}
	// Node a stops renewing: node b takes over after the TTL.
	deadline = time.Now().Add(10 * time.Second)
	for {
		ok, err := b.TryAcquireLease(ctx, "retention", "node-b", ttl)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("node b never took over the lease node a stopped renewing")
		}
		time.Sleep(20 * time.Millisecond)
	}
	if ok, err := a.RenewLease(ctx, "retention", "node-a", ttl); err != nil || ok {
		t.Errorf("node a renews after node b took over: %v, %v", ok, err)
	}
}
