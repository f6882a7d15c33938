package storetest

import (
	"slices"
	"sync"
	"testing"
	"time"

	"posthorn/internal/store"
)

// SharedStateBackend is a store that keeps the state nodes share: throttle counts, leases
// and the sending limits' counts.
type SharedStateBackend interface {
	store.Store
	store.ThrottleStore
	store.Leases
	store.SendCounter
}

// RunSharedState runs the conformance tests of the shared state; open returns a new, empty
// store. It pins down: ThrottleAdd counts 1, 2, 3 within one window, atomically under
// concurrent adds, and starts again at 1 once the window has passed; ThrottleRefund takes one
// back only within the window it names, never below zero; a lease is held by one holder at a
// time, re-acquired and renewed by it, refused to others, released only by its holder, and
// taken by another once it expires; SentSince sums the recipients recorded since a time.
func RunSharedState(t *testing.T, open func(t *testing.T) SharedStateBackend) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, SharedStateBackend)
	}{
		{"ThrottleCounts", testThrottleCounts},
		{"ThrottleConcurrent", testThrottleConcurrent},
		{"ThrottleWindow", testThrottleWindow},
		{"Leases", testLeases},
		{"LeaseExpiry", testLeaseExpiry},
		{"SendCounter", testSendCounter},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func testThrottleCounts(t *testing.T, s SharedStateBackend) {
	ctx := t.Context()
	const w = time.Hour
	var start time.Time
	for want := int64(1); want <= 3; want++ {
		n, st, err := s.ThrottleAdd(ctx, "src:192.0.2.1/32", w)
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Fatalf("add %d: count %d", want, n)
		}
		if want == 1 {
			start = st
		} else if !st.Equal(start) {
			t.Fatalf("add %d: window starts at %v, the first at %v", want, st, start)
		}
	}
	if err := s.ThrottleRefund(ctx, "src:192.0.2.1/32", start); err != nil {
		t.Fatal(err)
	}
	// A refund naming another window does nothing; neither does one of an unknown key.
	if err := s.ThrottleRefund(ctx, "src:192.0.2.1/32", start.Add(-time.Second)); err != nil {
		t.Fatal(err)
	}
	if err := s.ThrottleRefund(ctx, "nobody", start); err != nil {
		t.Fatal(err)
	}
	if n, _, err := s.ThrottleAdd(ctx, "src:192.0.2.1/32", w); err != nil || n != 3 {
		t.Fatalf("after one refund: count %d, %v; want 3", n, err)
	}
	// Other keys count apart.
	n, other, err := s.ThrottleAdd(ctx, "acct:alice@example.org", w)
	if err != nil || n != 1 {
		t.Fatalf("another key: count %d, %v; want 1", n, err)
	}
	for range 3 {
		if err := s.ThrottleRefund(ctx, "acct:alice@example.org", other); err != nil {
			t.Fatal(err)
		}
	}
	if n, _, err := s.ThrottleAdd(ctx, "acct:alice@example.org", w); err != nil || n != 1 {
		t.Fatalf("refunds below zero: count %d, %v; want 1", n, err)
	}
}

func testThrottleConcurrent(t *testing.T, s SharedStateBackend) {
	const adds = 20
	got := make([]int64, adds)
	var wg sync.WaitGroup
	for i := range adds {
		wg.Go(func() {
			n, _, err := s.ThrottleAdd(t.Context(), "k", time.Hour)
			if err != nil {
				t.Error(err)
			}
			got[i] = n
		})
	}
	wg.Wait()
	slices.Sort(got)
	for i, n := range got {
		if n != int64(i+1) {
			t.Fatalf("concurrent adds returned %v, want 1..%d each once", got, adds)
		}
	}
}

func testThrottleWindow(t *testing.T, s SharedStateBackend) {
	const w = 50 * time.Millisecond
	if _, _, err := s.ThrottleAdd(t.Context(), "k", w); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		n, _, err := s.ThrottleAdd(t.Context(), "k", w)
		if err != nil {
			t.Fatal(err)
		}
		if n == 1 {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("count %d long after its window of %v", n, w)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func testLeases(t *testing.T, s SharedStateBackend) {
	ctx := t.Context()
	const ttl = time.Hour
	must := func(ok bool, err error, want bool, what string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		if ok != want {
			t.Fatalf("%s: %v, want %v", what, ok, want)
		}
	}
	ok, err := s.TryAcquireLease(ctx, "job", "a", ttl)
	must(ok, err, true, "a acquires a free lease")
	ok, err = s.TryAcquireLease(ctx, "job", "b", ttl)
	must(ok, err, false, "b acquires a's lease")
	ok, err = s.TryAcquireLease(ctx, "job", "a", ttl)
	must(ok, err, true, "a acquires its own lease again")
	ok, err = s.RenewLease(ctx, "job", "a", ttl)
	must(ok, err, true, "a renews")
	ok, err = s.RenewLease(ctx, "job", "b", ttl)
	must(ok, err, false, "b renews a's lease")
	ok, err = s.TryAcquireLease(ctx, "other", "b", ttl)
	must(ok, err, true, "b acquires another name")
	if err := s.ReleaseLease(ctx, "job", "b"); err != nil {
		t.Fatal(err)
	}
	ok, err = s.RenewLease(ctx, "job", "a", ttl)
	must(ok, err, true, "a renews after b's release of a's lease")
	if err := s.ReleaseLease(ctx, "job", "a"); err != nil {
		t.Fatal(err)
	}
	ok, err = s.RenewLease(ctx, "job", "a", ttl)
	must(ok, err, false, "a renews a released lease")
	ok, err = s.TryAcquireLease(ctx, "job", "b", ttl)
	must(ok, err, true, "b acquires a released lease")
}

func testLeaseExpiry(t *testing.T, s SharedStateBackend) {
	ctx := t.Context()
	if ok, err := s.TryAcquireLease(ctx, "job", "a", 100*time.Millisecond); err != nil || !ok {
		t.Fatalf("a acquires: %v, %v", ok, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		ok, err := s.TryAcquireLease(ctx, "job", "b", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if ok {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("b never acquired the lease a let expire")
		}
		time.Sleep(10 * time.Millisecond)
	}
	if ok, err := s.RenewLease(ctx, "job", "a", time.Hour); err != nil || ok {
		t.Fatalf("a renews the lease b took over: %v, %v", ok, err)
	}
	if ok, err := s.TryAcquireLease(ctx, "job", "a", time.Hour); err != nil || ok {
		t.Fatalf("a acquires b's lease: %v, %v", ok, err)
	}
}

func testSendCounter(t *testing.T, s SharedStateBackend) {
	ctx := t.Context()
	if _, err := s.AddDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	acc, err := s.AddAccount(ctx, "alice@example.org", "hash")
	if err != nil {
		t.Fatal(err)
	}
	t0 := time.Unix(1_700_000_000, 0)
	if err := s.RecordSent(ctx,
		store.SentRecord{AccountID: acc.ID, Recipients: 2, At: t0},
		store.SentRecord{AccountID: acc.ID, Recipients: 3, At: t0.Add(time.Minute)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		since time.Time
		want  int64
	}{{t0, 5}, {t0.Add(time.Second), 3}, {t0.Add(time.Hour), 0}} {
		if n, err := s.SentSince(ctx, acc.ID, tc.since); err != nil || n != tc.want {
			t.Errorf("SentSince(%v) = %d, %v; want %d", tc.since, n, err, tc.want)
		}
	}
	// A record a day later forgets the rows older than a day before it.
	if err := s.RecordSent(ctx, store.SentRecord{AccountID: acc.ID, Recipients: 1, At: t0.Add(25 * time.Hour)}); err != nil {
		t.Fatal(err)
	}
	if n, err := s.SentSince(ctx, acc.ID, t0); err != nil || n != 1 {
		t.Errorf("after a day: SentSince = %d, %v; want 1", n, err)
	}
}
