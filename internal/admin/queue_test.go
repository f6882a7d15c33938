package admin

import (
	"context"
	"testing"
	"time"

	"posthorn/internal/operr"
	"posthorn/internal/store"
)

func TestQueue(t *testing.T) {
	ctx := context.Background()
	a := newDirectory(t)
	body := deliver(t, a, "Subject: out\r\n\r\nto two\r\n", nil, "carol@remote.example", "dave@remote.example")
	rows, err := a.ListQueue(ctx)
	if err != nil || len(rows) != 2 {
		t.Fatalf("ListQueue: %v, %v; want two rows", rows, err)
	}
	first, second := rows[0].ID, rows[1].ID

	if err := a.HoldQueued(ctx, first, true); err != nil {
		t.Fatal(err)
	}
	if q, err := a.GetQueued(ctx, first); err != nil || q.State() != store.QueueHeld {
		t.Errorf("after HoldQueued: %v, %v; want held", q.State(), err)
	}
	// Both failed once and wait for their next attempt in an hour.
	qs := a.Store.(store.QueueStore)
	for _, id := range []int64{first, second} {
		if err := qs.QueueDeferred(ctx, id, time.Now().Add(time.Hour), "451 try later"); err != nil {
			t.Fatal(err)
		}
	}
	if n, err := a.RetryAllQueued(ctx); err != nil || n != 1 {
		t.Errorf("RetryAllQueued: %d, %v; want the one not held", n, err)
	}
	if err := a.RetryQueued(ctx, first); err != nil {
		t.Fatal(err)
	}
	q, err := a.GetQueued(ctx, first)
	if err != nil || q.State() != store.QueueDeferred || q.NextAttempt.After(time.Now()) {
		t.Errorf("after RetryQueued: %v due %v, %v; want deferred and due", q.State(), q.NextAttempt, err)
	}

	if err := a.DeleteQueued(ctx, first); err != nil {
		t.Fatal(err)
	}
	if !blobExists(t, a, body) {
		t.Error("deleting one row removed the body the other row needs")
	}
	if err := a.DeleteQueued(ctx, second); err != nil {
		t.Fatal(err)
	}
	if blobExists(t, a, body) {
		t.Error("the body of the last row deleted is still there")
	}

	_, err = a.GetQueued(ctx, first)
	wantError(t, "deleted", err, operr.NotFound, "id", "no queued message with id 1 (delivered, bounced or deleted?)")
	err = a.HoldQueued(ctx, 0, true)
	wantError(t, "id 0", err, operr.Invalid, "id", "queue id 0: want a positive number")
}
