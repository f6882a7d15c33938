package postgres

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"posthorn/internal/store"
	"posthorn/internal/store/storetest"
)

// queueBackend is a conformance case's store: the embedded interfaces keep to their own
// methods, so *Store's Ping and Close do not collide with store.Store's.
func TestQueueConformance(t *testing.T) {
	storetest.RunQueue(t, func(t *testing.T) storetest.QueueBackend {
		return openStore(t)
	})
}

// queueRows delivers n remote recipients of one blob and returns the rows' ids.
func queueRows(t *testing.T, s *Store, blob string, n int) []int64 {
	t.Helper()
	var out []store.Outbound
	for i := range n {
		out = append(out, store.Outbound{Sender: "alice@example.org", Recipient: fmt.Sprintf("r%d@remote.example", i)})
	}
	if _, err := s.Deliver(t.Context(), []store.Delivery{{BlobID: blob, Size: 10, Outbound: out}}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.ListQueue(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, q := range rows {
		if q.BlobID == blob {
			ids = append(ids, q.ID)
		}
	}
	return ids
}

func idsOf(rows []store.QueuedMessage) []int64 {
	var ids []int64
	for _, q := range rows {
		ids = append(ids, q.ID)
	}
	return ids
}

// TestQueueClaimTwoNodes: two stores on one database (two pools: two nodes) claim the due
// rows at once, in small batches, until none is left: every row is claimed exactly once.
func TestQueueClaimTwoNodes(t *testing.T) {
	url := server.Database(t)
	a, b := openURL(t, url), openURL(t, url)
	const total = 300
	queueRows(t, a, "blob", total)
	now := time.Now()
	until := now.Add(10 * time.Minute)

	var mu sync.Mutex
	claimedBy := map[int64]string{}
	var wg sync.WaitGroup
	errs := make(chan error, 2)
	start := make(chan struct{})
	for _, n := range []struct {
		name string
		s    *Store
	}{{"node-a", a}, {"node-b", b}} {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			for {
				rows, err := n.s.ClaimDueQueue(t.Context(), n.name, now, until, 7)
				if err != nil {
					errs <- err
					return
				}
				if len(rows) == 0 {
					return
				}
				mu.Lock()
				for _, q := range rows {
					if other, ok := claimedBy[q.ID]; ok {
						errs <- fmt.Errorf("row %d claimed by %s and by %s", q.ID, other, n.name)
					}
					claimedBy[q.ID] = n.name
				}
				mu.Unlock()
			}
		}()
	}
	close(start)
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	if len(claimedBy) != total {
		t.Errorf("%d rows claimed, want %d", len(claimedBy), total)
	}
	perNode := map[string]int{}
	for _, n := range claimedBy {
		perNode[n]++
	}
	t.Logf("claims per node: %v", perNode)
	// Leased rows are due for nobody, whichever way they are read.
	for _, s := range []*Store{a, b} {
		if due, err := s.DueQueue(t.Context(), now, 10, nil); err != nil || len(due) != 0 {
			t.Errorf("DueQueue with every row leased = %d rows, %v", len(due), err)
		}
		if n, err := s.CountDueQueue(t.Context(), now); err != nil || n != 0 {
			t.Errorf("CountDueQueue with every row leased = %d, %v", n, err)
		}
		if rows, err := s.NewQueueRows(t.Context(), 0, 10); err != nil || len(rows) != 0 {
			t.Errorf("NewQueueRows with every row leased = %d rows, %v", len(rows), err)
		}
	}
}

// TestQueueLeaseExpires: a node's lease keeps its rows from the other node until it ends;
// then the other node claims them (the first is taken for dead), the first node's renewal
// reports them lost, and only the new holder renews. An outcome ends a lease.
func TestQueueLeaseExpires(t *testing.T) {
	url := server.Database(t)
	a, b := openURL(t, url), openURL(t, url)
	ctx := t.Context()
	ids := queueRows(t, a, "blob", 3)
	now := time.Now()
	lease := time.Minute

	got, err := a.ClaimDueQueue(ctx, "node-a", now, now.Add(lease), 2)
	if err != nil || !slices.Equal(idsOf(got), ids[:2]) {
		t.Fatalf("node-a claimed %v, %v; want %v", idsOf(got), err, ids[:2])
	}
	// Within the lease, node-b gets only the row node-a left.
	got, err = b.ClaimDueQueue(ctx, "node-b", now.Add(lease/2), now.Add(lease/2+lease), 10)
	if err != nil || !slices.Equal(idsOf(got), ids[2:]) {
		t.Fatalf("node-b claimed %v, %v; want %v", idsOf(got), err, ids[2:])
	}
	// Node-a dies. Once its lease has ended, node-b claims its rows.
	later := now.Add(lease)
	got, err = b.ClaimDueQueue(ctx, "node-b", later, later.Add(lease), 10)
	if err != nil || !slices.Equal(idsOf(got), ids[:2]) {
		t.Fatalf("after node-a's lease: node-b claimed %v, %v; want %v", idsOf(got), err, ids[:2])
	}
	// Node-a comes back: its renewal reports both rows lost; node-b's renewal keeps them.
	lost, err := a.RenewQueueLeases(ctx, "node-a", ids[:2], later.Add(2*lease))
	if err != nil || !slices.Equal(lost, ids[:2]) {
		t.Errorf("node-a's renewal lost %v, %v; want %v", lost, err, ids[:2])
	}
	lost, err = b.RenewQueueLeases(ctx, "node-b", ids, later.Add(2*lease))
	if err != nil || len(lost) != 0 {
		t.Errorf("node-b's renewal lost %v, %v", lost, err)
	}
	// Renewed: not claimable after the first lease would have ended.
	if got, err := a.ClaimDueQueue(ctx, "node-a", later.Add(lease), later.Add(3*lease), 10); err != nil || len(got) != 0 {
		t.Errorf("claim during the renewed lease = %v, %v", idsOf(got), err)
	}

	// Outcomes: a deferral ends the lease (the row is due at its next attempt for anyone),
	// a release hands the row back at once, a delivery deletes it.
	if err := b.QueueDeferred(ctx, ids[0], now, "451 later"); err != nil {
		t.Fatal(err)
	}
	if err := b.ReleaseQueueLeases(ctx, "node-b", ids[1]); err != nil {
		t.Fatal(err)
	}
	if err := a.ReleaseQueueLeases(ctx, "node-a", ids[2]); err != nil { // not node-a's: no effect
		t.Fatal(err)
	}
	if n, err := a.CountDueQueue(ctx, now); err != nil || n != 2 {
		t.Errorf("due after deferral and release = %d, %v; want 2", n, err)
	}
	// The deferred row is due at now, after the released one's first attempt: it comes second.
	got, err = a.ClaimDueQueue(ctx, "node-a", now, now.Add(lease), 10)
	if want := []int64{ids[1], ids[0]}; err != nil || !slices.Equal(idsOf(got), want) {
		t.Fatalf("node-a claimed %v, %v; want %v", idsOf(got), err, want)
	}
	if got[1].Attempts != 1 || got[1].LastError != "451 later" {
		t.Errorf("claimed row = %+v", got[1])
	}
	if _, err := b.QueueDone(ctx, ids[2]); err != nil {
		t.Fatal(err)
	}
	if lost, err := b.RenewQueueLeases(ctx, "node-b", ids[2:], later); err != nil || !slices.Equal(lost, ids[2:]) {
		t.Errorf("renewal of a delivered row lost %v, %v", lost, err)
	}
	// The operator's retry of a row in flight keeps its lease; a hold ends it, and the node
	// trying the row finds it lost.
	if err := a.RetryQueued(ctx, ids[0], now); err != nil {
		t.Fatal(err)
	}
	if got, err := b.ClaimDueQueue(ctx, "node-b", now, now.Add(lease), 10); err != nil || len(got) != 0 {
		t.Errorf("claim of a retried row in flight = %v, %v; want none", idsOf(got), err)
	}
	if err := b.SetQueueHeld(ctx, ids[0], true); err != nil {
		t.Fatal(err)
	}
	if lost, err := a.RenewQueueLeases(ctx, "node-a", ids[:2], now.Add(2*lease)); err != nil || !slices.Equal(lost, ids[:1]) {
		t.Errorf("renewal after a hold lost %v, %v; want %v", lost, err, ids[:1])
	}
	if _, err := a.ClaimDueQueue(ctx, "", now, now.Add(lease), 1); err == nil {
		t.Error("a claim without a node name succeeded")
	}
	if _, err := a.ClaimDueQueue(ctx, "node-a", now, now, 1); err == nil {
		t.Error("a claim of a lease ending at once succeeded")
	}
}

// TestQueueClaimOrder: a claim takes normal priority before bulk, skips held rows and rows
// not yet due, and stops at its limit.
func TestQueueClaimOrder(t *testing.T) {
	s := openStore(t)
	ctx := t.Context()
	if _, err := s.Deliver(ctx, []store.Delivery{{BlobID: "b", Size: 1, Outbound: []store.Outbound{
		{Recipient: "bulk@remote.example", Priority: store.PriorityBulk},
		{Recipient: "held@remote.example"},
		{Recipient: "later@remote.example"},
		{Recipient: "normal@remote.example"},
	}}}); err != nil {
		t.Fatal(err)
	}
	rows, err := s.ListQueue(ctx)
	if err != nil || len(rows) != 4 {
		t.Fatalf("queue = %v, %v", rows, err)
	}
	bulk, held, later, normal := rows[0].ID, rows[1].ID, rows[2].ID, rows[3].ID
	now := time.Now()
	if err := s.SetQueueHeld(ctx, held, true); err != nil {
		t.Fatal(err)
	}
	if err := s.QueueDeferred(ctx, later, now.Add(time.Hour), "451"); err != nil {
		t.Fatal(err)
	}
	got, err := s.ClaimDueQueue(ctx, "node-a", now, now.Add(time.Minute), 1)
	if err != nil || !slices.Equal(idsOf(got), []int64{normal}) {
		t.Fatalf("first claim = %v, %v; want the normal row %d", idsOf(got), err, normal)
	}
	got, err = s.ClaimDueQueue(ctx, "node-a", now, now.Add(time.Minute), 10)
	if err != nil || !slices.Equal(idsOf(got), []int64{bulk}) {
		t.Fatalf("second claim = %v, %v; want the bulk row %d", idsOf(got), err, bulk)
	}
}
