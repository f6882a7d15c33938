package storetest

import (
	"reflect"
	"testing"
	"time"

	"posthorn/internal/store"
)

// StatsBackend is a store that counts its mail log and campaign events for the dashboard.
type StatsBackend interface {
	store.Store
	store.MailEventStore
	store.CampaignStore
	store.StatsStore
}

// RunStats runs the conformance tests of the dashboard's counts; open returns a new, empty
// store. It pins down: events counted in the bucket since + n*bucket that holds them, since
// inclusive and until exclusive, empty buckets left out, ordered by bucket; per event and
// result, with the local copies, the spam findings (spam-error aside) and the viruses the
// events' reasons name; campaign events of every campaign by kind, people's and machines'
// apart.
func RunStats(t *testing.T, open func(t *testing.T) StatsBackend) {
	t.Run("MailEvents", func(t *testing.T) { testMailEventCounts(t, open(t)) })
	t.Run("CampaignEvents", func(t *testing.T) { testCampaignEventCounts(t, open(t)) })
}

func testMailEventCounts(t *testing.T, s StatsBackend) {
	ctx := t.Context()
	base := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	inbox := []store.MailEventMailbox{{Account: "alice@example.org", Mailbox: "INBOX"}}
	two := []store.MailEventMailbox{{Account: "alice@example.org", Mailbox: "INBOX"}, {Account: "bob@example.org", Mailbox: "Junk"}}
	must(t, s.AddMailEvents(ctx, []store.MailEvent{
		{Time: base.Add(-time.Nanosecond), Event: "received", Result: "delivered"}, // before since
		{Time: base, Event: "received", BlobID: "a", Result: "delivered", Reasons: "spf-pass", Mailboxes: inbox},
		{Time: base.Add(59 * time.Minute), Event: "received", BlobID: "b", Result: "delivered",
			Reasons: "spam-score(6.2)", Mailboxes: two},
		{Time: base.Add(10 * time.Minute), Event: "rejected", Result: "virus", Reasons: "spf-pass,virus(Eicar-Signature)"},
		{Time: base.Add(11 * time.Minute), Event: "rejected", Result: "unknown-user"},
		{Time: base.Add(12 * time.Minute), Event: "received", BlobID: "c", Result: "delivered",
			Reasons: "spam-error,virus-scan-unavailable", Mailboxes: inbox}, // neither spam nor a virus
		// No event in the second hour; two in the third.
		{Time: base.Add(2*time.Hour + time.Minute), Event: "rejected", Result: "spam-reject",
			Reasons: "dkim-pass,spam-score(12.0),spam-reject"},
		{Time: base.Add(2*time.Hour + 2*time.Minute), Event: "delivered", BlobID: "a", Result: "delivered"},
		{Time: base.Add(3 * time.Hour), Event: "delivered", Result: "delivered"}, // at until
	}))
	got, err := s.MailEventCounts(ctx, base, base.Add(3*time.Hour), time.Hour)
	must(t, err)
	h0, h2 := base, base.Add(2*time.Hour)
	want := []store.MailEventCount{
		{Start: h0, Event: "received", Result: "delivered", Count: 3, Mailboxes: 4, Spam: 1},
		{Start: h0, Event: "rejected", Result: "unknown-user", Count: 1},
		{Start: h0, Event: "rejected", Result: "virus", Count: 1, Virus: 1},
		{Start: h2, Event: "delivered", Result: "delivered", Count: 1},
		{Start: h2, Event: "rejected", Result: "spam-reject", Count: 1, Spam: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("counts by hour:\n got %+v\nwant %+v", got, want)
	}
	// Buckets start at since, whatever the hour.
	got, err = s.MailEventCounts(ctx, base.Add(30*time.Minute), base.Add(90*time.Minute), 30*time.Minute)
	must(t, err)
	want = []store.MailEventCount{{Start: base.Add(30 * time.Minute), Event: "received", Result: "delivered",
		Count: 1, Mailboxes: 2, Spam: 1}}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("counts by half hour:\n got %+v\nwant %+v", got, want)
	}
	if got, err := s.MailEventCounts(ctx, base.Add(4*time.Hour), base.Add(5*time.Hour), time.Hour); err != nil || len(got) != 0 {
		t.Errorf("an empty window: %+v, %v", got, err)
	}
}

func testCampaignEventCounts(t *testing.T, s StatsBackend) {
	ctx := t.Context()
	base := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	c1, err := s.CreateCampaign(ctx, store.Campaign{Name: "May"})
	must(t, err)
	c2, err := s.CreateCampaign(ctx, store.Campaign{Name: "June"})
	must(t, err)
	ev := func(c store.Campaign, kind store.EventKind, machine bool, at time.Time) store.Event {
		link := -1
		if kind == store.EventClick {
			link = 1
		}
		return store.Event{CampaignID: c.ID, Kind: kind, LinkIndex: link, Machine: machine, At: at}
	}
	must(t, s.AddEvents(ctx, []store.Event{
		ev(c1, store.EventDelivered, false, base),
		ev(c2, store.EventDelivered, false, base.Add(time.Minute)),
		ev(c1, store.EventOpen, true, base.Add(2*time.Minute)),
		ev(c1, store.EventOpen, false, base.Add(3*time.Minute)),
		ev(c2, store.EventOpen, false, base.Add(time.Hour)),
		ev(c2, store.EventClick, false, base.Add(time.Hour+time.Minute)),
		ev(c2, store.EventClick, false, base.Add(2*time.Hour)), // at until
	}))
	got, err := s.CampaignEventCounts(ctx, base, base.Add(2*time.Hour), time.Hour)
	must(t, err)
	h1 := base.Add(time.Hour)
	want := []store.CampaignEventCount{
		{Start: base, Kind: store.EventDelivered, Count: 2},
		{Start: base, Kind: store.EventOpen, Count: 1},
		{Start: base, Kind: store.EventOpen, Machine: true, Count: 1},
		{Start: h1, Kind: store.EventClick, Count: 1},
		{Start: h1, Kind: store.EventOpen, Count: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("campaign counts:\n got %+v\nwant %+v", got, want)
	}
}
