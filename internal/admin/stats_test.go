package admin

import (
	"context"
	"reflect"
	"testing"
	"time"

	"posthorn/internal/campaign"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// TestStats: every hour of the window, zeros included; the mail log by event, rejections by
// reason (most frequent first), spam and viruses; campaign events with people and machines
// apart; the queue now.
func TestStats(t *testing.T) {
	ctx := context.Background()
	a := newDirectory(t)
	now := time.Date(2026, 6, 1, 12, 30, 0, 0, time.UTC)
	h := func(hour, minute int) time.Time { return time.Date(2026, 6, 1, hour, minute, 0, 0, time.UTC) }
	inbox := []store.MailEventMailbox{{Account: "alice@example.org", Mailbox: "INBOX"}, {Account: "bob@example.org", Mailbox: "Junk"}}
	if err := a.Store.(store.MailEventStore).AddMailEvents(ctx, []store.MailEvent{
		{Time: h(9, 59), Event: "received", Result: "delivered"}, // before the window
		{Time: h(10, 5), Event: "received", Result: "delivered", Mailboxes: inbox, Reasons: "spam-score(6.0)"},
		{Time: h(11, 0), Event: "delivered", Result: "delivered"},
		{Time: h(11, 10), Event: "rejected", Result: "unknown-user"},
		{Time: h(11, 11), Event: "rejected", Result: "unknown-user"},
		{Time: h(12, 1), Event: "rejected", Result: "virus", Reasons: "virus(Eicar-Signature)"},
		{Time: h(12, 2), Event: "tempfail", Result: "greylisted"},
		{Time: h(12, 3), Event: "deferred", Result: "deferred"},
		{Time: h(12, 4), Event: "bounced", Result: "bounced"},
	}); err != nil {
		t.Fatal(err)
	}
	cs := a.Store.(store.CampaignStore)
	c, err := cs.CreateCampaign(ctx, store.Campaign{Name: "June"})
	if err != nil {
		t.Fatal(err)
	}
	ev := func(kind store.EventKind, machine bool, at time.Time) store.Event {
		return store.Event{CampaignID: c.ID, Kind: kind, LinkIndex: -1, Machine: machine, At: at}
	}
	if err := cs.AddEvents(ctx, []store.Event{
		ev(store.EventDelivered, false, h(10, 1)),
		ev(store.EventOpen, true, h(10, 2)),
		ev(store.EventOpen, false, h(11, 2)),
		ev(store.EventClick, false, h(11, 3)),
		ev(store.EventBounce, false, h(12, 0)),
		ev(store.EventUnsubscribe, false, h(12, 1)),
		ev(store.EventComplaint, false, h(12, 2)),
		ev(store.EventOpen, false, h(13, 0)), // after now's hour
	}); err != nil {
		t.Fatal(err)
	}
	deliver(t, a, "Subject: out\r\n\r\nto two\r\n", nil, "carol@remote.example", "dave@remote.example")
	rows, err := a.ListQueue(ctx)
	if err != nil || len(rows) != 2 {
		t.Fatalf("queue %v, %v", rows, err)
	}
	if err := a.HoldQueued(ctx, rows[0].ID, true); err != nil {
		t.Fatal(err)
	}

	got, err := a.Stats(ctx, 3, now)
	if err != nil {
		t.Fatal(err)
	}
	none := map[string]int64{}
	want := Stats{Hours: 3, Since: h(10, 0), Until: h(13, 0),
		Series: []StatsHour{
			{Hour: h(10, 0), In: 1, InCopies: 2, Spam: 1, Rejected: none,
				Campaign: CampaignHour{Delivered: 1, Opens: campaign.Split{Machine: 1}}},
			{Hour: h(11, 0), Out: 1, Rejected: map[string]int64{"unknown-user": 2},
				Campaign: CampaignHour{Opens: campaign.Split{Human: 1}, Clicks: campaign.Split{Human: 1}}},
			{Hour: h(12, 0), Rejected: map[string]int64{"virus": 1}, Virus: 1, TempFailed: 1, Deferred: 1, Bounced: 1,
				Campaign: CampaignHour{Bounces: 1, Unsubscribes: 1, Complaints: 1}},
		},
		Reasons: []string{"unknown-user", "virus"},
		Totals: StatsHour{Hour: h(10, 0), In: 1, InCopies: 2, Out: 1, Deferred: 1, Bounced: 1, TempFailed: 1,
			Rejected: map[string]int64{"unknown-user": 2, "virus": 1}, Spam: 1, Virus: 1,
			Campaign: CampaignHour{Delivered: 1, Opens: campaign.Split{Human: 1, Machine: 1}, Clicks: campaign.Split{Human: 1},
				Bounces: 1, Unsubscribes: 1, Complaints: 1}},
		Queue: QueueSize{Total: 2, Ready: 1, Held: 1},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("stats:\n got %+v\nwant %+v", got, want)
	}
	if n := got.Totals.RejectedTotal(); n != 3 {
		t.Errorf("rejected in all: %d", n)
	}

	// The default window is a day of hours, every one there without an event.
	got, err = a.Stats(ctx, DefaultStatsHours, now.Add(48*time.Hour))
	if err != nil || len(got.Series) != 24 || got.Totals.In != 0 || len(got.Reasons) != 0 || got.Queue.Total != 2 {
		t.Errorf("an empty day: %+v, %v", got, err)
	}
}

func TestStatsHours(t *testing.T) {
	a := newDirectory(t)
	for _, n := range []int{0, -1, MaxStatsHours + 1} {
		_, err := a.Stats(context.Background(), n, time.Now())
		if _, ok := operr.As(err, operr.Invalid, "hours"); !ok {
			t.Errorf("hours %d: %v, want invalid hours", n, err)
		}
	}
	for in, want := range map[string]int{"": DefaultStatsHours, "1": 1, "720": 720, " 48 ": 48} {
		if got, err := ParseStatsHours(in); err != nil || got != want {
			t.Errorf("ParseStatsHours(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"x", "1.5", "0", "721", "-3"} {
		_, err := ParseStatsHours(in)
		if e, ok := operr.As(err, operr.Invalid, "hours"); !ok || e.Message == "" {
			t.Errorf("ParseStatsHours(%q): %v, want invalid hours", in, err)
		}
	}
	if _, err := ParseStatsHours("721"); err == nil || err.Error() != "hours 721: want a whole number from 1 to 720" {
		t.Errorf("message: %v", err)
	}
}
