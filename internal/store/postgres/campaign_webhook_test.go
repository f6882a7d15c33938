package postgres

import (
	"testing"
	"time"

	"posthorn/internal/store"
)

// TestEventsVisibleInIDOrder: while one node's insert of an event is not committed, another
// node's insert waits for it (campaignEventsLock), so the second event's id is larger and a
// webhook's cursor that has read the second cannot have passed over the first.
func TestEventsVisibleInIDOrder(t *testing.T) {
	url := server.Database(t)
	a, b := openURL(t, url), openURL(t, url)
	ctx := t.Context()
	c, err := a.CreateCampaign(ctx, store.Campaign{Name: "June"})
	if err != nil {
		t.Fatal(err)
	}
	tx, err := a.pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer tx.Rollback(ctx)
	if err := a.insertEvents(ctx, tx, []store.Event{{CampaignID: c.ID, Kind: store.EventOpen, LinkIndex: -1}}); err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() {
		done <- b.AddEvents(ctx, []store.Event{{CampaignID: c.ID, Kind: store.EventClick, LinkIndex: -1}})
	}()
	// Node b waits for the lock: its backend shows as waiting on an advisory lock.
	deadline := time.Now().Add(30 * time.Second)
	for {
		var waiting int
		if err := a.pool.QueryRow(ctx, `SELECT count(*) FROM pg_locks WHERE locktype = 'advisory' AND NOT granted
			AND database = (SELECT oid FROM pg_database WHERE datname = current_database())`).
			Scan(&waiting); err != nil {
			t.Fatal(err)
		}
		if waiting > 0 {
			break
		}
		select {
		case err := <-done:
			t.Fatalf("node b's insert finished (%v) while node a's was not committed", err)
		default:
		}
		if time.Now().After(deadline) {
			t.Fatal("node b's insert never waited for the lock")
		}
		time.Sleep(10 * time.Millisecond) // polling with a deadline
	}
	if got, err := b.EventsAfter(ctx, 0, 10); err != nil || len(got) != 0 {
		t.Fatalf("events before any commit: %v, %v", got, err)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	got, err := b.EventsAfter(ctx, 0, 10)
	if err != nil || len(got) != 2 || got[0].Kind != store.EventOpen || got[1].Kind != store.EventClick || got[0].ID >= got[1].ID {
		t.Fatalf("events = %+v, %v; want the open, then the click", got, err)
	}
}
