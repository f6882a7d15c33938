package storetest

import (
	"slices"
	"testing"
	"time"

	"posthorn/internal/store"
)

// audience makes two lists with overlapping, unsubscribed, unconfirmed and suppressed
// subscribers, and a campaign to both; it returns the campaign and the addresses its ledger
// must hold, in ledger order.
func audience(t *testing.T, s CampaignBackend) (store.Campaign, []string) {
	t.Helper()
	ctx := t.Context()
	news, alerts := newList(t, s, "news"), newList(t, s, "alerts")
	subscribe(t, s, news, store.StatusConfirmed, "a@example.org", "both@example.org", "sup@example.org",
		"expired@example.org")
	subscribe(t, s, news, store.StatusUnconfirmed, "pending@example.org")
	subscribe(t, s, news, store.StatusUnsubscribed, "left@example.org")
	subscribe(t, s, alerts, store.StatusConfirmed, "both@example.org", "z@example.org")
	subscribe(t, s, alerts, store.StatusUnsubscribed, "a@example.org") // still on news
	must(t, s.AddSuppressions(ctx, []store.Suppression{
		{Address: "sup@example.org", Reason: store.SuppressHardBounce},
		{Address: "expired@example.org", Reason: store.SuppressManual, Expires: time.Now().Add(-time.Hour)},
	}))
	c, err := s.CreateCampaign(ctx, store.Campaign{Name: "c", ListIDs: []int64{news.ID, alerts.ID}})
	must(t, err)
	return c, []string{"a@example.org", "both@example.org", "expired@example.org", "z@example.org"}
}

// ledger returns the addresses of the campaign's pending rows, read in pages of two.
func ledger(t *testing.T, s CampaignBackend, campaignID int64) []store.Recipient {
	t.Helper()
	var out []store.Recipient
	var after int64
	for {
		page, err := s.StreamRecipients(t.Context(), campaignID, after, 2)
		must(t, err)
		if len(page) == 0 {
			return out
		}
		out = append(out, page...)
		after = page[len(page)-1].ID
	}
}

func addresses(rs []store.Recipient) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.Address)
	}
	return out
}

func testFillRecipients(t *testing.T, s CampaignBackend) {
	ctx := t.Context()
	c, want := audience(t, s)
	n, err := s.FillRecipients(ctx, c.ID)
	must(t, err)
	if n != int64(len(want)) {
		t.Errorf("FillRecipients added %d, want %d", n, len(want))
	}
	rs := ledger(t, s, c.ID)
	if got := addresses(rs); !slices.Equal(got, want) {
		t.Fatalf("ledger = %v, want %v", got, want)
	}
	for _, r := range rs {
		if !r.Eligible || r.State != store.RecipientPending || r.SubscriberID == 0 || !r.Tracking {
			t.Errorf("row = %+v", r)
		}
	}
	// A second call adds only a newcomer.
	lists, err := s.ListLists(ctx)
	must(t, err)
	subscribe(t, s, lists[1], store.StatusConfirmed, "new@example.org") // news
	if n, err := s.FillRecipients(ctx, c.ID); err != nil || n != 1 {
		t.Errorf("second FillRecipients = %d, %v; want 1", n, err)
	}
	// What happens after the fill shows in Eligible: an unsubscribe, a suppression, a deletion.
	a, err := s.GetSubscriber(ctx, "a@example.org")
	must(t, err)
	must(t, s.SetSubscriptionStatus(ctx, a.ID, lists[1].ID, store.StatusUnsubscribed, consent(store.SourceForm)))
	must(t, s.AddSuppressions(ctx, []store.Suppression{{Address: "z@example.org", Reason: store.SuppressComplaint}}))
	both, err := s.GetSubscriber(ctx, "both@example.org")
	must(t, err)
	must(t, s.DeleteSubscriber(ctx, both.ID))
	rs = ledger(t, s, c.ID)
	eligible := map[string]bool{}
	for _, r := range rs {
		eligible[r.Address] = r.Eligible
	}
	wantEligible := map[string]bool{"a@example.org": false, "both@example.org": false, "expired@example.org": true,
		"z@example.org": false, "new@example.org": true}
	if !maps(eligible, wantEligible) {
		t.Errorf("eligible = %v, want %v", eligible, wantEligible)
	}
	// Only pending rows stream.
	must(t, s.SetRecipientState(ctx, rs[0].ID, store.RecipientSkipped))
	if got := ledger(t, s, c.ID); len(got) != len(rs)-1 || got[0].ID == rs[0].ID {
		t.Errorf("after skipping the first: %v", addresses(got))
	}
	r, err := s.GetRecipient(ctx, rs[0].ID)
	must(t, err)
	if r.State != store.RecipientSkipped || r.Address != rs[0].Address {
		t.Errorf("GetRecipient = %+v", r)
	}
	wantErr(t, "SetRecipientState of an unknown row", s.SetRecipientState(ctx, 999999, store.RecipientQueued),
		store.ErrNotFound)
	_, err = s.FillRecipients(ctx, 999)
	wantErr(t, "FillRecipients of an unknown campaign", err, store.ErrNotFound)
}

func maps(a, b map[string]bool) bool {
	if len(a) != len(b) {
		return false
	}
	for k, v := range a {
		if w, ok := b[k]; !ok || w != v {
			return false
		}
	}
	return true
}

func testDeliverCampaignRecipient(t *testing.T, s CampaignBackend) {
	ctx := t.Context()
	c, _ := audience(t, s)
	_, err := s.FillRecipients(ctx, c.ID)
	must(t, err)
	rs := ledger(t, s, c.ID)
	out := func(r store.Recipient) store.Outbound {
		return store.Outbound{Sender: "bounce+x@example.org", Recipient: r.Address, Priority: store.PriorityBulk,
			CampaignRecipient: r.ID}
	}
	_, err = s.Deliver(ctx, []store.Delivery{{BlobID: "c1", Size: 10, Outbound: []store.Outbound{out(rs[0])}}})
	must(t, err)
	q, err := s.ListQueue(ctx)
	must(t, err)
	if len(q) != 1 || q[0].CampaignRecipient != rs[0].ID {
		t.Fatalf("queue = %+v", q)
	}
	if r, err := s.GetRecipient(ctx, rs[0].ID); err != nil || r.State != store.RecipientQueued {
		t.Errorf("ledger row after Deliver = %+v, %v", r, err)
	}
	if got, err := s.GetQueued(ctx, q[0].ID); err != nil || got.CampaignRecipient != rs[0].ID {
		t.Errorf("GetQueued = %+v, %v", got, err)
	}
	if due, err := s.DueQueue(ctx, time.Now(), 10, nil); err != nil || len(due) != 1 || due[0].CampaignRecipient != rs[0].ID {
		t.Errorf("DueQueue = %+v, %v", due, err)
	}
	// Queued once: a second delivery of the same row fails and queues nothing.
	_, err = s.Deliver(ctx, []store.Delivery{{BlobID: "c2", Size: 10, Outbound: []store.Outbound{out(rs[0])}}})
	wantErr(t, "second Deliver of a ledger row", err, store.ErrConflict)
	// One transaction: when the batch fails, the ledger row stays pending.
	_, err = s.Deliver(ctx, []store.Delivery{
		{BlobID: "c3", Size: 10, Outbound: []store.Outbound{out(rs[1])}},
		{BlobID: "c4", Size: 10, Targets: []store.Target{{AccountID: 999999, Mailbox: "INBOX"}}},
	})
	if err == nil {
		t.Fatal("Deliver to an unknown account succeeded")
	}
	if r, err := s.GetRecipient(ctx, rs[1].ID); err != nil || r.State != store.RecipientPending {
		t.Errorf("ledger row after a failed batch = %+v, %v", r, err)
	}
	if q, _ := s.ListQueue(ctx); len(q) != 1 {
		t.Errorf("queue after the failures has %d rows, want 1", len(q))
	}
	// Mail that is not a campaign's carries 0.
	_, err = s.Deliver(ctx, []store.Delivery{{BlobID: "plain", Size: 10,
		Outbound: []store.Outbound{{Sender: "a@example.org", Recipient: "b@remote.example"}}}})
	must(t, err)
	q, err = s.ListQueue(ctx)
	must(t, err)
	if len(q) != 2 || q[1].CampaignRecipient != 0 {
		t.Errorf("queue = %+v", q)
	}
	checkClean(t, s)
}

func testCampaignStats(t *testing.T, s CampaignBackend) {
	ctx := t.Context()
	c, _ := audience(t, s)
	_, err := s.FillRecipients(ctx, c.ID)
	must(t, err)
	rs := ledger(t, s, c.ID)
	must(t, s.SetCampaignLinks(ctx, c.ID, []string{"https://example.org/a", "https://example.org/b"}))
	links, err := s.CampaignLinks(ctx, c.ID)
	must(t, err)
	if len(links) != 2 || links[1].Index != 1 || links[1].URL != "https://example.org/b" {
		t.Errorf("links = %+v", links)
	}
	must(t, s.SetRecipientState(ctx, rs[0].ID, store.RecipientDelivered))
	must(t, s.SetRecipientState(ctx, rs[1].ID, store.RecipientBounced))
	_, err = s.RecordSoftBounce(ctx, rs[2].ID, rs[2].Address, "452", time.Now())
	must(t, err)
	h1 := time.Date(2026, 6, 1, 10, 15, 0, 0, time.UTC)
	h0, h2 := h1.Add(-time.Hour), h1.Add(time.Hour)
	r0, r1 := rs[0].ID, rs[1].ID
	ev := func(rcpt int64, kind store.EventKind, link int, machine bool, at time.Time) store.Event {
		return store.Event{CampaignID: c.ID, RecipientID: rcpt, Kind: kind, LinkIndex: link, Machine: machine,
			At: at, UserAgent: "ua", IP: "192.0.2.0"}
	}
	must(t, s.AddEvents(ctx, []store.Event{
		ev(r0, store.EventOpen, -1, true, h1),  // a privacy proxy
		ev(r0, store.EventOpen, -1, false, h1), // then the person, twice
		ev(r0, store.EventOpen, -1, false, h2),
		ev(r1, store.EventOpen, -1, false, h2),
		ev(0, store.EventOpen, -1, false, h2), // anonymous
		ev(r0, store.EventClick, 0, true, h1), // a scanner
		ev(r0, store.EventClick, 0, false, h2),
		ev(r1, store.EventClick, 0, false, h2),
		ev(r1, store.EventClick, 0, false, h2),
		ev(r1, store.EventUnsubscribe, -1, false, h2),
		ev(r0, store.EventDelivered, -1, false, h0), // an hour with neither an open nor a click
		ev(r1, store.EventBounce, -1, false, h0),
		ev(r1, store.EventComplaint, -1, false, h2),
		ev(r0, store.EventDeferred, -1, false, h2.Add(time.Hour)), // not counted by the hour
	}))
	st, err := s.CampaignStats(ctx, c.ID)
	must(t, err)
	if st.Recipients[store.RecipientDelivered] != 1 || st.Recipients[store.RecipientBounced] != 1 ||
		st.Recipients[store.RecipientPending] != 2 || st.SoftBounced != 1 {
		t.Errorf("ledger counts = %v, soft %d", st.Recipients, st.SoftBounced)
	}
	if st.SoftBouncedBy[store.RecipientPending] != 1 || st.SoftBouncedBy[store.RecipientBounced] != 0 ||
		len(st.SoftBouncedBy) != len(st.Recipients) {
		t.Errorf("soft bounced by state = %v", st.SoftBouncedBy)
	}
	if got := st.Events[store.EventOpen]; got != (store.EventCount{Human: 4, Machine: 1}) {
		t.Errorf("opens = %+v", got)
	}
	if got := st.Events[store.EventClick]; got != (store.EventCount{Human: 3, Machine: 1}) {
		t.Errorf("clicks = %+v", got)
	}
	if got := st.Events[store.EventUnsubscribe]; got.Total() != 1 {
		t.Errorf("unsubscribes = %+v", got)
	}
	if st.UniqueOpens != (store.EventCount{Human: 2, Machine: 1}) || st.UniqueClicks != (store.EventCount{Human: 2, Machine: 1}) {
		t.Errorf("unique opens %+v, clicks %+v", st.UniqueOpens, st.UniqueClicks)
	}
	// r0 opened as a proxy and as a person, r1 as a person: two recipients each.
	if st.OpenRecipients != 2 || st.ClickRecipients != 2 {
		t.Errorf("recipients who opened %d, clicked %d", st.OpenRecipients, st.ClickRecipients)
	}
	wantLinks := []store.LinkStats{
		{Index: 0, URL: "https://example.org/a", Clicks: store.EventCount{Human: 3, Machine: 1},
			Unique: store.EventCount{Human: 2, Machine: 1}, Recipients: 2},
		{Index: 1, URL: "https://example.org/b"},
	}
	if !slices.Equal(st.Links, wantLinks) {
		t.Errorf("links = %+v, want %+v", st.Links, wantLinks)
	}
	wantHours := []store.HourStats{
		{Hour: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC), Delivered: 1, Bounces: 1},
		{Hour: time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC), Opens: store.EventCount{Human: 1, Machine: 1},
			Clicks: store.EventCount{Machine: 1}},
		{Hour: time.Date(2026, 6, 1, 11, 0, 0, 0, time.UTC), Opens: store.EventCount{Human: 3},
			Clicks: store.EventCount{Human: 3}, Unsubscribes: 1, Complaints: 1},
	}
	if !slices.EqualFunc(st.Hours, wantHours, func(a, b store.HourStats) bool {
		a.Hour, b.Hour = a.Hour.UTC(), b.Hour.UTC()
		return a == b
	}) {
		t.Errorf("hours = %+v, want %+v", st.Hours, wantHours)
	}
	_, err = s.CampaignStats(ctx, 999)
	wantErr(t, "stats of an unknown campaign", err, store.ErrNotFound)
}

// testRecordDelivered: one call marks the row delivered, records its event and forgets its
// address's soft bounces; an unknown row is ErrNotFound and writes nothing.
func testRecordDelivered(t *testing.T, s CampaignBackend) {
	ctx := t.Context()
	c, _ := audience(t, s)
	_, err := s.FillRecipients(ctx, c.ID)
	must(t, err)
	rec := ledger(t, s, c.ID)[0]
	now := time.Now()
	for range 2 {
		_, err := s.RecordSoftBounce(ctx, rec.ID, rec.Address, "452 full", now)
		must(t, err)
	}
	must(t, s.RecordDelivered(ctx, rec, store.Event{CampaignID: c.ID, RecipientID: rec.ID, Kind: store.EventDelivered, LinkIndex: -1, At: now}))
	if r, err := s.GetRecipient(ctx, rec.ID); err != nil || r.State != store.RecipientDelivered {
		t.Errorf("row after RecordDelivered = %+v, %v", r, err)
	}
	stats, err := s.CampaignStats(ctx, c.ID)
	must(t, err)
	if got := stats.Events[store.EventDelivered]; got.Human+got.Machine != 1 {
		t.Errorf("delivered events %+v", got)
	}
	// Two soft bounces were forgotten: two more do not suppress.
	for range 2 {
		if sup, err := s.RecordSoftBounce(ctx, rec.ID, rec.Address, "452 full", now); err != nil || sup {
			t.Errorf("soft bounce after delivery suppressed = %v, %v", sup, err)
		}
	}
	gone := rec
	gone.ID = 1 << 40
	wantErr(t, "RecordDelivered of an unknown row", s.RecordDelivered(ctx, gone,
		store.Event{CampaignID: c.ID, RecipientID: gone.ID, Kind: store.EventDelivered, LinkIndex: -1, At: now}), store.ErrNotFound)
	if stats, _ := s.CampaignStats(ctx, c.ID); stats.Events[store.EventDelivered].Human != 1 {
		t.Errorf("a failed RecordDelivered added its event: %+v", stats.Events[store.EventDelivered])
	}
}
