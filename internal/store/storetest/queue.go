package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"posthorn/internal/store"
)

// QueueBackend is a store with the outbound queue.
type QueueBackend interface {
	store.Store
	store.QueueStore
}

// RunQueue runs the outbound queue's conformance tests; open returns a new, empty store. It pins
// down: Deliver inserts one queue row per Outbound recipient in its transaction, each holding a
// blob reference (so Check's reference counts include them) and signalling QueueWake; DueQueue
// returns normal priority before bulk, oldest next attempt first, without held or excluded rows;
// QueueDone drops the references and reports the blobs left without any; unknown ids are
// store.ErrNotFound; RetryAllQueued leaves held rows alone; MTA-STS policies are cached per
// lower-cased domain, the last one set winning.
func RunQueue(t *testing.T, open func(t *testing.T) QueueBackend) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, QueueBackend)
	}{
		{"DeliverOutbound", testDeliverOutbound},
		{"DeliverOutboundInvalid", testDeliverOutboundInvalid},
		{"RetryAllQueued", testRetryAllQueued},
		{"MTASTSPolicyCache", testMTASTSPolicyCache},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// withAlice adds the domain example.org and its account alice.
func withAlice(t *testing.T, s store.Store) store.Account {
	t.Helper()
	if _, err := s.AddDomain(t.Context(), "example.org"); err != nil {
		t.Fatal(err)
	}
	a, err := s.AddAccount(t.Context(), "alice@example.org", "hash")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// checkClean fails the test if Check reports a problem.
func checkClean(t *testing.T, s store.Store) {
	t.Helper()
	problems, err := s.Check(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(problems) > 0 {
		t.Fatalf("check: %q", problems)
	}
}

func testDeliverOutbound(t *testing.T, s QueueBackend) {
	alice := withAlice(t, s)
	ctx := t.Context()
	select {
	case <-s.QueueWake():
		t.Fatal("woken before anything was queued")
	default:
	}
	_, err := s.Deliver(ctx, []store.Delivery{
		{BlobID: "both", Size: 10, Targets: []store.Target{{AccountID: alice.ID, Mailbox: "INBOX"}},
			Outbound: []store.Outbound{
				{Sender: "alice@example.org", Recipient: "bob@remote.example", Ret: "HDRS", EnvID: "e1",
					Notify: "FAILURE,DELAY", ORcpt: "rfc822;bob@remote.example", RequireTLS: true},
				{Sender: "alice@example.org", Recipient: "carol@Other.Example", Priority: store.PriorityBulk},
			}},
		{BlobID: "remote-only", Size: 20, Outbound: []store.Outbound{{Recipient: "dave@remote.example"}}},
	})
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-s.QueueWake():
	default:
		t.Fatal("not woken after queueing")
	}
	checkClean(t, s)

	all, err := s.ListQueue(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(all) != 3 {
		t.Fatalf("queue has %d rows, want 3", len(all))
	}
	first := all[0]
	if first.BlobID != "both" || first.Domain != "remote.example" || first.Ret != "HDRS" || first.EnvID != "e1" ||
		first.Notify != "FAILURE,DELAY" || !first.RequireTLS || first.State() != store.QueueReady {
		t.Errorf("first row = %+v", first)
	}
	if all[1].Domain != "other.example" || all[1].Priority != store.PriorityBulk {
		t.Errorf("second row = %+v", all[1])
	}

	// Due rows come normal priority first, and rows in flight are skipped.
	due, err := s.DueQueue(ctx, time.Now(), 10, map[int64]bool{all[0].ID: true})
	if err != nil {
		t.Fatal(err)
	}
	var ids []int64
	for _, q := range due {
		ids = append(ids, q.ID)
	}
	if want := []int64{all[2].ID, all[1].ID}; !slices.Equal(ids, want) {
		t.Errorf("due = %v, want %v", ids, want)
	}

	// Rows above an id, in id order.
	fresh, err := s.NewQueueRows(ctx, all[0].ID, 10)
	if err != nil || len(fresh) != 2 || fresh[0].ID != all[1].ID || fresh[1].ID != all[2].ID {
		t.Errorf("NewQueueRows after %d = %v, %v", all[0].ID, fresh, err)
	}

	// A failed attempt moves the row out of the due set.
	next := time.Now().Add(time.Hour)
	if err := s.QueueDeferred(ctx, all[2].ID, next, "451 try later"); err != nil {
		t.Fatal(err)
	}
	q, err := s.GetQueued(ctx, all[2].ID)
	if err != nil {
		t.Fatal(err)
	}
	if q.Attempts != 1 || q.LastError != "451 try later" || q.State() != store.QueueDeferred {
		t.Errorf("deferred row = %+v", q)
	}
	if at, err := s.NextQueueAttempt(ctx, time.Now()); err != nil || !at.Equal(time.Unix(0, next.UnixNano())) {
		t.Errorf("next attempt = %v, %v; want %v", at, err, next)
	}
	if err := s.SetQueueHeld(ctx, all[0].ID, true); err != nil {
		t.Fatal(err)
	}
	counts, err := s.QueueCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if counts[store.QueueHeld] != 1 || counts[store.QueueDeferred] != 1 || counts[store.QueueReady] != 1 {
		t.Errorf("counts = %v", counts)
	}
	if err := s.RetryQueued(ctx, all[2].ID, time.Now()); err != nil {
		t.Fatal(err)
	}

	// Deleting the last queue row of a blob without messages frees the blob.
	gone, err := s.QueueDone(ctx, all[2].ID)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gone, []string{"remote-only"}) {
		t.Errorf("unreferenced = %v, want [remote-only]", gone)
	}
	// The shared blob stays while INBOX holds the message.
	if gone, err = s.QueueDone(ctx, all[0].ID, all[1].ID); err != nil || len(gone) != 0 {
		t.Errorf("QueueDone = %v, %v; want nothing unreferenced", gone, err)
	}
	checkClean(t, s)
	if _, err := s.QueueDone(ctx, all[0].ID); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("QueueDone of a deleted row: %v, want ErrNotFound", err)
	}
	if err := s.SetQueueHeld(ctx, 999, true); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("hold of an unknown row: %v, want ErrNotFound", err)
	}
}

func testDeliverOutboundInvalid(t *testing.T, s QueueBackend) {
	withAlice(t, s)
	_, err := s.Deliver(t.Context(), []store.Delivery{{BlobID: "b", Size: 1,
		Outbound: []store.Outbound{{Recipient: "not an address"}}}})
	if err == nil {
		t.Fatal("an invalid recipient was queued")
	}
}

func testMTASTSPolicyCache(t *testing.T, s QueueBackend) {
	ctx := t.Context()
	if _, _, _, err := s.MTASTSPolicy(ctx, "example.com"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("empty cache: %v", err)
	}
	at := time.Unix(1700000000, 0)
	for _, id := range []string{"1", "2"} {
		if err := s.SetMTASTSPolicy(ctx, "Example.com", "version: STSv1\nmode: enforce\n", id, at); err != nil {
			t.Fatal(err)
		}
	}
	policy, id, fetched, err := s.MTASTSPolicy(ctx, "example.com")
	if err != nil || id != "2" || !fetched.Equal(at) || policy == "" {
		t.Errorf("policy = %q %q %v %v", policy, id, fetched, err)
	}
}

func testRetryAllQueued(t *testing.T, s QueueBackend) {
	withAlice(t, s)
	ctx := t.Context()
	if _, err := s.Deliver(ctx, []store.Delivery{{BlobID: "b", Size: 1, Outbound: []store.Outbound{
		{Recipient: "a@remote.example"}, {Recipient: "b@remote.example"}, {Recipient: "c@remote.example"}}}}); err != nil {
		t.Fatal(err)
	}
	rows, _ := s.ListQueue(ctx)
	later := time.Now().Add(time.Hour)
	for _, q := range rows {
		if err := s.QueueDeferred(ctx, q.ID, later, "451"); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.SetQueueHeld(ctx, rows[2].ID, true); err != nil {
		t.Fatal(err)
	}
	n, err := s.RetryAllQueued(ctx, time.Now())
	if err != nil || n != 2 {
		t.Fatalf("RetryAllQueued = %d, %v; want 2 (the held row stays)", n, err)
	}
	due, _ := s.DueQueue(ctx, time.Now(), 10, nil)
	if len(due) != 2 {
		t.Errorf("%d due, want 2", len(due))
	}
	if n, err := s.CountDueQueue(ctx, time.Now()); err != nil || n != 2 {
		t.Errorf("CountDueQueue = %d, %v; want 2", n, err)
	}
}
