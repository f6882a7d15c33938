package storetest

import (
	"testing"
	"time"

	"posthorn/internal/store"
)

// WebhookBackend is a bulk-mail store that keeps the webhooks' cursors.
type WebhookBackend interface {
	CampaignBackend
	store.CampaignWebhookStore
}

// RunCampaignWebhooks runs the conformance tests of the webhooks' persistence; open returns a
// new, empty store. It pins down: events come in id order with the campaign's name, the
// recipient's address (none when anonymous) and the link's URL; a new webhook's cursor starts
// at the newest event; the cursor never moves back; ids are never handed out again, even
// after the newest events are deleted with their campaign.
func RunCampaignWebhooks(t *testing.T, open func(t *testing.T) WebhookBackend) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, WebhookBackend)
	}{
		{"EventsAfter", testEventsAfter},
		{"WebhookState", testWebhookState},
		{"IDsNeverReused", testEventIDsNeverReused},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func testEventsAfter(t *testing.T, s WebhookBackend) {
	ctx := t.Context()
	c, _ := audience(t, s)
	_, err := s.FillRecipients(ctx, c.ID)
	must(t, err)
	rs := ledger(t, s, c.ID)
	must(t, s.SetCampaignLinks(ctx, c.ID, []string{"https://example.org/honeypot", "https://example.org/a"}))
	anon, err := s.CreateCampaign(ctx, store.Campaign{Name: "quiet", Anonymous: true, ListIDs: c.ListIDs})
	must(t, err)
	_, err = s.FillRecipients(ctx, anon.ID)
	must(t, err)
	anonRows := ledger(t, s, anon.ID)
	at := time.Date(2026, 6, 1, 10, 15, 0, 0, time.UTC)
	must(t, s.AddEvents(ctx, []store.Event{
		{CampaignID: c.ID, RecipientID: rs[0].ID, Kind: store.EventOpen, LinkIndex: -1, At: at},
		{CampaignID: c.ID, RecipientID: rs[1].ID, Kind: store.EventClick, LinkIndex: 1, Machine: true,
			Reason: "scanner agent", At: at.Add(time.Second)},
		{CampaignID: c.ID, Kind: store.EventOpen, LinkIndex: -1, At: at.Add(2 * time.Second)},
		// A ledger row of an anonymous campaign still names nobody.
		{CampaignID: anon.ID, RecipientID: anonRows[0].ID, Kind: store.EventDelivered, LinkIndex: -1, At: at},
	}))
	all, err := s.EventsAfter(ctx, 0, 10)
	must(t, err)
	if len(all) != 4 {
		t.Fatalf("events = %+v", all)
	}
	for i := 1; i < len(all); i++ {
		if all[i].ID <= all[i-1].ID {
			t.Errorf("events out of order: %+v", all)
		}
	}
	first, click := all[0], all[1]
	if first.Kind != store.EventOpen || first.CampaignName != "c" || first.Address != rs[0].Address ||
		first.LinkIndex != -1 || first.LinkURL != "" || !first.At.Equal(at) {
		t.Errorf("open = %+v", first)
	}
	if click.Kind != store.EventClick || click.LinkIndex != 1 || click.LinkURL != "https://example.org/a" ||
		!click.Machine || click.Reason != "scanner agent" || click.Address != rs[1].Address {
		t.Errorf("click = %+v", click)
	}
	if all[2].Address != "" || all[3].Address != "" || all[3].CampaignName != "quiet" {
		t.Errorf("anonymous events = %+v, %+v", all[2], all[3])
	}
	page, err := s.EventsAfter(ctx, all[0].ID, 2)
	must(t, err)
	if len(page) != 2 || page[0].ID != all[1].ID || page[1].ID != all[2].ID {
		t.Errorf("page after %d = %+v", all[0].ID, page)
	}
	rest, err := s.EventsAfter(ctx, all[3].ID, 10)
	must(t, err)
	if len(rest) != 0 {
		t.Errorf("events after the last = %+v", rest)
	}
}

func testWebhookState(t *testing.T, s WebhookBackend) {
	ctx := t.Context()
	now := time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC)
	empty, err := s.WebhookState(ctx, "https://hooks.example/empty", now)
	must(t, err)
	if empty.AfterID != 0 || empty.Failures != 0 || !empty.NextAttempt.IsZero() {
		t.Errorf("state on an empty store = %+v", empty)
	}
	c, err := s.CreateCampaign(ctx, store.Campaign{Name: "c"})
	must(t, err)
	must(t, s.AddEvents(ctx, []store.Event{{CampaignID: c.ID, Kind: store.EventOpen, LinkIndex: -1},
		{CampaignID: c.ID, Kind: store.EventOpen, LinkIndex: -1}}))
	evs, err := s.EventsAfter(ctx, 0, 10)
	must(t, err)
	newest := evs[len(evs)-1].ID
	st, err := s.WebhookState(ctx, "https://hooks.example/new", now)
	must(t, err)
	if st.AfterID != newest || st.Name != "https://hooks.example/new" {
		t.Errorf("new webhook = %+v, want the cursor at %d", st, newest)
	}
	// The first one keeps its own cursor.
	again, err := s.WebhookState(ctx, "https://hooks.example/empty", now)
	must(t, err)
	if again.AfterID != 0 {
		t.Errorf("existing webhook = %+v", again)
	}
	retry := now.Add(4 * time.Second)
	must(t, s.SaveWebhookState(ctx, store.WebhookState{Name: "https://hooks.example/empty", AfterID: evs[0].ID,
		Failures: 3, NextAttempt: retry, LastError: "503 Service Unavailable", UpdatedAt: now}))
	got, err := s.WebhookState(ctx, "https://hooks.example/empty", now)
	must(t, err)
	if got.AfterID != evs[0].ID || got.Failures != 3 || !got.NextAttempt.Equal(retry) ||
		got.LastError != "503 Service Unavailable" || !got.UpdatedAt.Equal(now) {
		t.Errorf("saved state = %+v", got)
	}
	must(t, s.SaveWebhookState(ctx, store.WebhookState{Name: "https://hooks.example/empty", AfterID: 0}))
	got, err = s.WebhookState(ctx, "https://hooks.example/empty", now)
	must(t, err)
	if got.AfterID != evs[0].ID || got.Failures != 0 || !got.NextAttempt.IsZero() {
		t.Errorf("state after a save with an older cursor = %+v", got)
	}
	err = s.SaveWebhookState(ctx, store.WebhookState{Name: "https://hooks.example/unknown"})
	wantErr(t, "save of an unknown webhook", err, store.ErrNotFound)
}

func testEventIDsNeverReused(t *testing.T, s WebhookBackend) {
	ctx := t.Context()
	keep, err := s.CreateCampaign(ctx, store.Campaign{Name: "keep"})
	must(t, err)
	gone, err := s.CreateCampaign(ctx, store.Campaign{Name: "gone"})
	must(t, err)
	must(t, s.AddEvents(ctx, []store.Event{{CampaignID: keep.ID, Kind: store.EventOpen, LinkIndex: -1},
		{CampaignID: gone.ID, Kind: store.EventOpen, LinkIndex: -1}}))
	evs, err := s.EventsAfter(ctx, 0, 10)
	must(t, err)
	cursor := evs[len(evs)-1].ID
	must(t, s.DeleteCampaign(ctx, gone.ID))
	must(t, s.AddEvents(ctx, []store.Event{{CampaignID: keep.ID, Kind: store.EventClick, LinkIndex: -1}}))
	after, err := s.EventsAfter(ctx, cursor, 10)
	must(t, err)
	if len(after) != 1 || after[0].Kind != store.EventClick {
		t.Errorf("events after the deleted campaign's = %+v", after)
	}
	st, err := s.WebhookState(ctx, "https://hooks.example/late", time.Now())
	must(t, err)
	if st.AfterID != after[0].ID {
		t.Errorf("new webhook's cursor %d, want %d", st.AfterID, after[0].ID)
	}
}
