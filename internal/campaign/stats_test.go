package campaign

import (
	"errors"
	"reflect"
	"testing"
	"time"

	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// seedStats builds a campaign of five recipients with a known history: r0 delivered, opened
// by a privacy proxy then twice by the person, clicked link 1 by a scanner then by the person;
// r1 delivered, opened, clicked links 1 and 2, unsubscribed; r2 hard-bounced; r3 soft-bounced
// and complained; r4 deferred, its message's honeypot link clicked; one anonymous open.
func seedStats(t *testing.T, s *Service) store.Campaign {
	t.Helper()
	ctx := t.Context()
	st := s.Store
	l := mustList(t, s, "news", "")
	var reqs []store.SubscribeRequest
	for _, a := range []string{"r0@example.org", "r1@example.org", "r2@example.org", "r3@example.org", "r4@example.org"} {
		reqs = append(reqs, store.SubscribeRequest{Subscriber: store.Subscriber{Address: a},
			Status: store.StatusConfirmed, Consent: store.Consent{At: time.Now(), Source: store.SourceCLI, Tracking: true}})
	}
	if _, err := st.SubscribeToList(ctx, l.ID, reqs); err != nil {
		t.Fatal(err)
	}
	c, err := st.CreateCampaign(ctx, store.Campaign{Name: "June news", ListIDs: []int64{l.ID}, Tracking: true})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := st.FillRecipients(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	rows, err := st.StreamRecipients(ctx, c.ID, 0, 10)
	if err != nil || len(rows) != 5 {
		t.Fatalf("ledger %+v, %v", rows, err)
	}
	r := func(i int) int64 { return rows[i].ID }
	if err := st.SetCampaignLinks(ctx, c.ID, []string{"", "https://example.org/a", "https://example.org/b"}); err != nil {
		t.Fatal(err)
	}
	for i, state := range []store.RecipientState{store.RecipientDelivered, store.RecipientDelivered,
		store.RecipientBounced, store.RecipientBounced, store.RecipientDeferred} {
		if err := st.SetRecipientState(ctx, r(i), state); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := st.RecordSoftBounce(ctx, r(3), rows[3].Address, "452 4.2.2 full", time.Now()); err != nil {
		t.Fatal(err)
	}
	h1 := time.Date(2026, 6, 1, 10, 5, 0, 0, time.UTC)
	h2 := h1.Add(time.Hour)
	h4 := h1.Add(3 * time.Hour)
	ev := func(rcpt int64, kind store.EventKind, link int, machine bool, at time.Time) store.Event {
		e := store.Event{CampaignID: c.ID, RecipientID: rcpt, Kind: kind, LinkIndex: link, Machine: machine, At: at}
		if machine {
			e.Reason = "test machine"
		}
		return e
	}
	if err := st.AddEvents(ctx, []store.Event{
		ev(r(0), store.EventDelivered, -1, false, h1),
		ev(r(0), store.EventOpen, -1, true, h1),
		ev(r(0), store.EventOpen, -1, false, h2),
		ev(r(0), store.EventOpen, -1, false, h2),
		ev(r(0), store.EventClick, 1, true, h1),
		ev(r(0), store.EventClick, 1, false, h2),
		ev(r(1), store.EventOpen, -1, false, h2),
		ev(r(1), store.EventClick, 1, false, h2),
		ev(r(1), store.EventClick, 2, false, h4),
		ev(r(1), store.EventUnsubscribe, -1, false, h4),
		ev(r(3), store.EventComplaint, -1, false, h4),
		ev(0, store.EventOpen, -1, false, h4),
		ev(r(4), store.EventClick, 0, true, h1), // the honeypot
	}); err != nil {
		t.Fatal(err)
	}
	return c
}

// TestStats: every number of a seeded campaign, exactly.
func TestStats(t *testing.T) {
	s := newService(t)
	c := seedStats(t, s)
	got, err := s.Stats(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	hour := func(h int) time.Time { return time.Date(2026, 6, 1, h, 0, 0, 0, time.UTC) }
	want := Stats{
		CampaignID: c.ID, Name: "June news", Status: "draft",
		Recipients: 5, Sent: 5, Delivered: 2, Deferred: 1,
		Bounced: Bounces{Total: 2, Hard: 1, Soft: 1},
		// r0 (proxy + 2 human), r1 (1 human), one anonymous.
		Opens: Engagement{Total: 5, Human: 4, Machine: 1, Unique: 2, UniqueHuman: 2, UniqueMachine: 1},
		// r0 (scanner + human on link 1), r1 (links 1 and 2), the honeypot (r4, machine).
		Clicks:         Engagement{Total: 5, Human: 3, Machine: 2, Unique: 3, UniqueHuman: 2, UniqueMachine: 2},
		HoneypotClicks: 1,
		Links: []LinkStats{
			{Index: 1, URL: "https://example.org/a",
				Clicks: Engagement{Total: 3, Human: 2, Machine: 1, Unique: 2, UniqueHuman: 2, UniqueMachine: 1}},
			{Index: 2, URL: "https://example.org/b",
				Clicks: Engagement{Total: 1, Human: 1, Unique: 1, UniqueHuman: 1}},
		},
		Unsubscribes: 1, Complaints: 1,
		Rates:        Rates{Delivery: 2.0 / 5, Open: 1, Click: 1, Unsubscribe: 0.5, Complaint: 0.5},
		MachineRates: MachineRates{Open: 0.5, Click: 1},
		Hours: []HourlyEvents{
			{Hour: hour(10), Opens: Split{Machine: 1}, Clicks: Split{Machine: 2}, Delivered: 1},
			{Hour: hour(11), Opens: Split{Human: 3}, Clicks: Split{Human: 2}},
			{Hour: hour(13), Opens: Split{Human: 1}, Clicks: Split{Human: 1}, Unsubscribes: 1, Complaints: 1},
		},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stats =\n%+v\nwant\n%+v", got, want)
	}

	_, err = s.Stats(t.Context(), 999)
	if e, ok := operr.As(err, operr.NotFound, "campaign"); !ok || !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown campaign: %v (%+v)", err, e)
	}
}

// TestStatsEmpty: a campaign not started yet has zeros, no division by zero, empty lists.
func TestStatsEmpty(t *testing.T) {
	s := newService(t)
	c, err := s.Store.CreateCampaign(t.Context(), store.Campaign{Name: "draft"})
	if err != nil {
		t.Fatal(err)
	}
	got, err := s.Stats(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	want := Stats{CampaignID: c.ID, Name: "draft", Status: "draft", Links: []LinkStats{}, Hours: []HourlyEvents{}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stats = %+v", got)
	}
}
