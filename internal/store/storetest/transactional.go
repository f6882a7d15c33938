package storetest

import (
	"slices"
	"testing"

	"posthorn/internal/store"
)

// testTransactional pins down the sends of the send API: a send is a finished campaign of kind
// transactional with a pending ledger row per recipient, kept out of ListCampaigns; the same
// principal and key give back the first send without writing anything, another principal or
// no key makes a new one; its rows move pending -> queued with their queue row like a
// campaign's.
func testTransactional(t *testing.T, s CampaignBackend) {
	ctx := t.Context()
	send := store.TransactionalSend{
		Principal: "token:1", IdempotencyKey: "order-17", RequestHash: []byte{1, 2, 3},
		Campaign:   store.Campaign{Name: "receipts", Subject: "Your order", Text: "Thanks", From: "shop@example.org", Tracking: true},
		Recipients: []string{"a@remote.example", "b@remote.example"},
		Suppressed: []string{"gone@remote.example"},
	}
	first, created, err := s.CreateTransactional(ctx, send)
	must(t, err)
	if !created || first.ID == 0 || first.Campaign.ID == 0 || first.Campaign.Kind != store.CampaignTransactional ||
		first.Campaign.Status != store.CampaignFinished {
		t.Fatalf("first send = %+v, created %v", first, created)
	}
	c, err := s.GetCampaign(ctx, first.Campaign.ID)
	must(t, err)
	if c.Kind != store.CampaignTransactional || c.Subject != "Your order" || !c.Tracking || c.StartedAt.IsZero() {
		t.Errorf("campaign = %+v", c)
	}
	all, err := s.ListCampaigns(ctx)
	must(t, err)
	if len(all) != 0 {
		t.Errorf("ListCampaigns lists a transactional send: %+v", all)
	}
	rows, err := s.CampaignRecipients(ctx, c.ID, 10)
	must(t, err)
	if len(rows) != 2 || rows[0].Address != "a@remote.example" || rows[1].Address != "b@remote.example" ||
		rows[0].State != store.RecipientPending || !rows[0].Tracking || rows[0].SubscriberID != 0 {
		t.Fatalf("ledger = %+v", rows)
	}

	again := send
	again.RequestHash = []byte{9}
	again.Recipients = []string{"other@remote.example"}
	replay, created, err := s.CreateTransactional(ctx, again)
	must(t, err)
	if created || replay.ID != first.ID || replay.Campaign.ID != c.ID || string(replay.RequestHash) != "\x01\x02\x03" ||
		!slices.Equal(replay.Recipients, send.Recipients) || !slices.Equal(replay.Suppressed, send.Suppressed) ||
		replay.Campaign.Subject != "Your order" {
		t.Errorf("replay = %+v, created %v", replay, created)
	}
	if rows, _ := s.CampaignRecipients(ctx, c.ID, 10); len(rows) != 2 {
		t.Errorf("a replay wrote rows: %+v", rows)
	}

	other := send
	other.Principal = "token:2"
	if o, created, err := s.CreateTransactional(ctx, other); err != nil || !created || o.ID == first.ID {
		t.Errorf("another principal's key = %+v, %v, %v", o, created, err)
	}
	for range 2 {
		unkeyed := send
		unkeyed.IdempotencyKey = ""
		if u, created, err := s.CreateTransactional(ctx, unkeyed); err != nil || !created || u.ID == first.ID {
			t.Errorf("a send without key = %+v, %v, %v", u, created, err)
		}
	}

	out := store.Outbound{Sender: "bounce+x@example.org", Recipient: rows[0].Address, CampaignRecipient: rows[0].ID}
	_, err = s.Deliver(ctx, []store.Delivery{{BlobID: "t1", Size: 10, Outbound: []store.Outbound{out}}})
	must(t, err)
	if r, err := s.GetRecipient(ctx, rows[0].ID); err != nil || r.State != store.RecipientQueued {
		t.Errorf("ledger row after Deliver = %+v, %v", r, err)
	}
	_, err = s.Deliver(ctx, []store.Delivery{{BlobID: "t2", Size: 10, Outbound: []store.Outbound{out}}})
	wantErr(t, "second Deliver of a transactional row", err, store.ErrConflict)
}
