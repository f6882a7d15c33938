package storetest

import (
	"bytes"
	"fmt"
	"slices"
	"testing"
	"time"

	"posthorn/internal/store"
)

// CampaignBackend is a store with the outbound queue and the bulk-mail persistence.
type CampaignBackend interface {
	store.Store
	store.QueueStore
	store.CampaignStore
}

// RunCampaign runs the bulk-mail persistence's conformance tests; open returns a new, empty
// store. It pins down: names are unique (ErrExists), unknown ids ErrNotFound; attributes round
// trip as JSON; an import never re-subscribes an unsubscribed subscription and an unconfirmed
// status never replaces a confirmed one; suppressions expire; the third soft bounce in a row
// suppresses and a delivery resets the count; FillRecipients takes confirmed subscriptions
// minus suppressed addresses, each address once, and only adds on a second call; a queue row
// with CampaignRecipient moves its ledger row to queued in the same transaction, and a row no
// longer pending is ErrConflict with nothing queued; the statistics split human and machine.
func RunCampaign(t *testing.T, open func(t *testing.T) CampaignBackend) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, CampaignBackend)
	}{
		{"Lists", testCampaignLists},
		{"Subscribers", testCampaignSubscribers},
		{"SubscriptionRules", testSubscriptionRules},
		{"Suppressions", testSuppressions},
		{"SoftBounces", testSoftBounces},
		{"Templates", testTemplates},
		{"Campaigns", testCampaigns},
		{"FillRecipients", testFillRecipients},
		{"DeliverCampaignRecipient", testDeliverCampaignRecipient},
		{"Stats", testCampaignStats},
		{"CampaignKey", testCampaignKey},
		{"Transactional", testTransactional},
		{"RecordDelivered", testRecordDelivered},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// must fails the test on err.
func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

func newList(t *testing.T, s CampaignBackend, name string) store.List {
	t.Helper()
	l, err := s.CreateList(t.Context(), store.List{Name: name, OptIn: store.OptInSingle})
	must(t, err)
	return l
}

// consent is a consent record of source at a fixed time.
func consent(source store.ConsentSource) store.Consent {
	return store.Consent{At: time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC), Source: source, IP: "192.0.2.0",
		Text: "Yes, send me the news", Tracking: true}
}

// subscribe subscribes the addresses to the list with status.
func subscribe(t *testing.T, s CampaignBackend, list store.List, status store.SubscriptionStatus, addrs ...string) []store.Subscriber {
	t.Helper()
	var reqs []store.SubscribeRequest
	for _, a := range addrs {
		reqs = append(reqs, store.SubscribeRequest{Subscriber: store.Subscriber{Address: a}, Status: status,
			Consent: consent(store.SourceCLI)})
	}
	subs, err := s.SubscribeToList(t.Context(), list.ID, reqs)
	must(t, err)
	return subs
}

func testCampaignLists(t *testing.T, s CampaignBackend) {
	ctx := t.Context()
	news, err := s.CreateList(ctx, store.List{Name: "news", Description: "Monthly", OptIn: store.OptInDouble})
	must(t, err)
	if news.ID == 0 || news.OptIn != store.OptInDouble || news.CreatedAt.IsZero() {
		t.Errorf("created list = %+v", news)
	}
	_, err = s.CreateList(ctx, store.List{Name: "news", OptIn: store.OptInSingle})
	wantErr(t, "second list news", err, store.ErrExists)
	alerts := newList(t, s, "alerts")
	got, err := s.GetList(ctx, "news")
	must(t, err)
	if got.ID != news.ID || got.Description != "Monthly" {
		t.Errorf("GetList = %+v", got)
	}
	_, err = s.GetList(ctx, "nope")
	wantErr(t, "GetList of an unknown list", err, store.ErrNotFound)
	_, err = s.GetListByID(ctx, 999)
	wantErr(t, "GetListByID of an unknown list", err, store.ErrNotFound)
	all, err := s.ListLists(ctx)
	must(t, err)
	if len(all) != 2 || all[0].Name != "alerts" || all[1].Name != "news" {
		t.Errorf("ListLists = %+v", all)
	}

	subscribe(t, s, alerts, store.StatusConfirmed, "a@example.org", "b@example.org")
	subscribe(t, s, alerts, store.StatusUnsubscribed, "c@example.org")
	counts, err := s.CountSubscriptions(ctx, alerts.ID)
	must(t, err)
	if counts[store.StatusConfirmed] != 2 || counts[store.StatusUnsubscribed] != 1 || counts[store.StatusUnconfirmed] != 0 {
		t.Errorf("counts = %v", counts)
	}
	must(t, s.DeleteList(ctx, alerts.ID))
	wantErr(t, "second DeleteList", s.DeleteList(ctx, alerts.ID), store.ErrNotFound)
	_, err = s.CountSubscriptions(ctx, alerts.ID)
	wantErr(t, "CountSubscriptions of a deleted list", err, store.ErrNotFound)
	// The subscribers stay, without the subscription.
	sub, err := s.GetSubscriber(ctx, "a@example.org")
	must(t, err)
	if subs, err := s.SubscriptionsOf(ctx, sub.ID); err != nil || len(subs) != 0 {
		t.Errorf("subscriptions after the list went = %v, %v", subs, err)
	}
}

func testCampaignSubscribers(t *testing.T, s CampaignBackend) {
	ctx := t.Context()
	a, err := s.SaveSubscriber(ctx, store.Subscriber{Address: "ann@example.org", Name: "Ann",
		Attributes: map[string]any{"city": "Oslo", "plan": "gold"}})
	must(t, err)
	if a.ID == 0 || a.Attributes["city"] != "Oslo" {
		t.Errorf("saved = %+v", a)
	}
	again, err := s.SaveSubscriber(ctx, store.Subscriber{Address: "ann@example.org", Name: "Ann B",
		Attributes: map[string]any{"city": "Bergen"}})
	must(t, err)
	if again.ID != a.ID || again.Name != "Ann B" || again.Attributes["city"] != "Bergen" || again.Attributes["plan"] != nil {
		t.Errorf("updated = %+v", again)
	}
	got, err := s.GetSubscriberByID(ctx, a.ID)
	must(t, err)
	if got.Address != "ann@example.org" || got.Name != "Ann B" {
		t.Errorf("GetSubscriberByID = %+v", got)
	}
	_, err = s.GetSubscriber(ctx, "nobody@example.org")
	wantErr(t, "GetSubscriber of an unknown address", err, store.ErrNotFound)

	list := newList(t, s, "news")
	var addrs []string
	for i := range 5 {
		addrs = append(addrs, fmt.Sprintf("s%d@example.org", i))
	}
	subscribe(t, s, list, store.StatusConfirmed, addrs...)
	// Pages of two, in id order, of the list only (ann is not on it).
	var seen []string
	var after int64
	for {
		page, err := s.ListSubscribers(ctx, store.SubscriberQuery{ListID: list.ID, AfterID: after, Limit: 2})
		must(t, err)
		if len(page) == 0 {
			break
		}
		if len(page) > 2 {
			t.Fatalf("page of %d", len(page))
		}
		for _, e := range page {
			if e.Subscription.ListID != list.ID || e.Subscription.Status != store.StatusConfirmed ||
				e.Subscription.Consent.Text != "Yes, send me the news" {
				t.Errorf("entry = %+v", e)
			}
			seen = append(seen, e.Address)
			after = e.ID
		}
	}
	if !slices.Equal(seen, addrs) {
		t.Errorf("paged = %v, want %v", seen, addrs)
	}
	everyone, err := s.ListSubscribers(ctx, store.SubscriberQuery{})
	must(t, err)
	if len(everyone) != 6 || everyone[0].Address != "ann@example.org" {
		t.Errorf("all subscribers = %d, first %+v", len(everyone), everyone[0])
	}
	_, err = s.ListSubscribers(ctx, store.SubscriberQuery{ListID: 999})
	wantErr(t, "ListSubscribers of an unknown list", err, store.ErrNotFound)

	must(t, s.DeleteSubscriber(ctx, a.ID))
	wantErr(t, "second DeleteSubscriber", s.DeleteSubscriber(ctx, a.ID), store.ErrNotFound)
}

func testSubscriptionRules(t *testing.T, s CampaignBackend) {
	ctx := t.Context()
	list := newList(t, s, "news")
	sub := subscribe(t, s, list, store.StatusConfirmed, "ann@example.org")[0]
	c := consent(store.SourceForm)
	must(t, s.SetSubscriptionStatus(ctx, sub.ID, list.ID, store.StatusUnsubscribed, c))
	got, err := s.GetSubscription(ctx, sub.ID, list.ID)
	must(t, err)
	if got.Status != store.StatusUnsubscribed || got.Consent.Source != store.SourceForm ||
		!got.Consent.At.Equal(c.At) || got.Consent.IP != "192.0.2.0" || !got.Consent.Tracking {
		t.Errorf("after unsubscribe = %+v", got)
	}
	// An import does not bring the person back; a form (their own consent) does.
	imp := []store.SubscribeRequest{{Subscriber: store.Subscriber{Address: "ann@example.org"},
		Status: store.StatusConfirmed, Consent: consent(store.SourceImport)}}
	_, err = s.SubscribeToList(ctx, list.ID, imp)
	must(t, err)
	if got, _ := s.GetSubscription(ctx, sub.ID, list.ID); got.Status != store.StatusUnsubscribed {
		t.Errorf("import re-subscribed: %+v", got)
	}
	imp[0].Consent.Source = store.SourceForm
	_, err = s.SubscribeToList(ctx, list.ID, imp)
	must(t, err)
	if got, _ := s.GetSubscription(ctx, sub.ID, list.ID); got.Status != store.StatusConfirmed {
		t.Errorf("form did not re-subscribe: %+v", got)
	}
	// A pending double opt-in does not undo a confirmation.
	imp[0].Status = store.StatusUnconfirmed
	_, err = s.SubscribeToList(ctx, list.ID, imp)
	must(t, err)
	if got, _ := s.GetSubscription(ctx, sub.ID, list.ID); got.Status != store.StatusConfirmed {
		t.Errorf("unconfirmed replaced confirmed: %+v", got)
	}
	other := newList(t, s, "other")
	subscribe(t, s, other, store.StatusUnconfirmed, "ann@example.org")
	subs, err := s.SubscriptionsOf(ctx, sub.ID)
	must(t, err)
	if len(subs) != 2 || subs[0].ListID != list.ID || subs[1].Status != store.StatusUnconfirmed {
		t.Errorf("SubscriptionsOf = %+v", subs)
	}
	wantErr(t, "SetSubscriptionStatus without subscription",
		s.SetSubscriptionStatus(ctx, sub.ID, 999, store.StatusConfirmed, c), store.ErrNotFound)
	_, err = s.SubscribeToList(ctx, 999, imp)
	wantErr(t, "SubscribeToList of an unknown list", err, store.ErrNotFound)
}

func testSuppressions(t *testing.T, s CampaignBackend) {
	ctx := t.Context()
	now := time.Now()
	must(t, s.AddSuppressions(ctx, []store.Suppression{
		{Address: "b@example.org", Reason: store.SuppressHardBounce, Source: "550 5.1.1 no such user"},
		{Address: "a@example.org", Reason: store.SuppressManual, Source: "cli"},
		{Address: "old@example.org", Reason: store.SuppressComplaint, Expires: now.Add(-time.Minute)},
		{Address: "later@example.org", Reason: store.SuppressManual, Expires: now.Add(time.Hour)},
	}))
	sup, ok, err := s.IsSuppressed(ctx, "b@example.org", now)
	must(t, err)
	if !ok || sup.Reason != store.SuppressHardBounce || sup.Source != "550 5.1.1 no such user" || sup.CreatedAt.IsZero() {
		t.Errorf("IsSuppressed(b) = %+v, %v", sup, ok)
	}
	if _, ok, _ := s.IsSuppressed(ctx, "old@example.org", now); ok {
		t.Error("an expired suppression holds")
	}
	if _, ok, _ := s.IsSuppressed(ctx, "later@example.org", now.Add(2*time.Hour)); ok {
		t.Error("a suppression holds after its expiry")
	}
	if _, ok, _ := s.IsSuppressed(ctx, "nobody@example.org", now); ok {
		t.Error("an unknown address is suppressed")
	}
	among, err := s.SuppressedAmong(ctx, []string{"a@example.org", "old@example.org", "later@example.org", "x@example.org"}, now)
	must(t, err)
	if len(among) != 2 || among["a@example.org"].Reason != store.SuppressManual || among["later@example.org"].Address == "" {
		t.Errorf("SuppressedAmong = %+v", among)
	}
	// A second add replaces the reason.
	must(t, s.AddSuppressions(ctx, []store.Suppression{{Address: "a@example.org", Reason: store.SuppressUnsubscribe}}))
	if sup, _, _ := s.IsSuppressed(ctx, "a@example.org", now); sup.Reason != store.SuppressUnsubscribe {
		t.Errorf("replaced = %+v", sup)
	}
	page, err := s.ListSuppressions(ctx, "", 2)
	must(t, err)
	if len(page) != 2 || page[0].Address != "a@example.org" || page[1].Address != "b@example.org" {
		t.Errorf("first page = %+v", page)
	}
	page, err = s.ListSuppressions(ctx, page[1].Address, 10)
	must(t, err)
	if len(page) != 2 || page[0].Address != "later@example.org" || page[1].Expires.IsZero() {
		t.Errorf("second page = %+v", page)
	}
	must(t, s.RemoveSuppression(ctx, "a@example.org"))
	wantErr(t, "second RemoveSuppression", s.RemoveSuppression(ctx, "a@example.org"), store.ErrNotFound)
}

func testSoftBounces(t *testing.T, s CampaignBackend) {
	ctx := t.Context()
	now := time.Now()
	bounce := func(want bool) {
		t.Helper()
		got, err := s.RecordSoftBounce(ctx, 0, "soft@example.org", "452 mailbox full", now)
		must(t, err)
		if got != want {
			t.Errorf("RecordSoftBounce suppressed = %v, want %v", got, want)
		}
	}
	bounce(false)
	bounce(false)
	must(t, s.ResetSoftBounces(ctx, "soft@example.org")) // a delivery in between
	bounce(false)
	bounce(false)
	if _, ok, _ := s.IsSuppressed(ctx, "soft@example.org", now); ok {
		t.Fatal("suppressed before the third soft bounce in a row")
	}
	bounce(true)
	sup, ok, err := s.IsSuppressed(ctx, "soft@example.org", now)
	must(t, err)
	if !ok || sup.Reason != store.SuppressSoftBounces || sup.Source != "452 mailbox full" {
		t.Errorf("after three soft bounces: %+v, %v", sup, ok)
	}
}

func testTemplates(t *testing.T, s CampaignBackend) {
	ctx := t.Context()
	tpl, err := s.CreateTemplate(ctx, store.Template{Name: "welcome", Subject: "Hi {{.Name}}", HTML: "<p>Hi</p>"})
	must(t, err)
	_, err = s.CreateTemplate(ctx, store.Template{Name: "welcome"})
	wantErr(t, "second template welcome", err, store.ErrExists)
	tpl.Text, tpl.Subject = "Hi", "Hello {{.Name}}"
	upd, err := s.UpdateTemplate(ctx, tpl)
	must(t, err)
	if upd.Name != "welcome" || upd.Text != "Hi" || upd.Subject != "Hello {{.Name}}" || upd.HTML != "<p>Hi</p>" {
		t.Errorf("updated = %+v", upd)
	}
	if got, err := s.GetTemplate(ctx, "welcome"); err != nil || got.ID != tpl.ID {
		t.Errorf("GetTemplate = %+v, %v", got, err)
	}
	c, err := s.CreateCampaign(ctx, store.Campaign{Name: "uses it", TemplateID: tpl.ID})
	must(t, err)
	all, err := s.ListTemplates(ctx)
	must(t, err)
	if len(all) != 1 {
		t.Errorf("ListTemplates = %+v", all)
	}
	must(t, s.DeleteTemplate(ctx, tpl.ID))
	_, err = s.GetTemplateByID(ctx, tpl.ID)
	wantErr(t, "GetTemplateByID after delete", err, store.ErrNotFound)
	if got, err := s.GetCampaign(ctx, c.ID); err != nil || got.TemplateID != 0 {
		t.Errorf("campaign after its template went = %+v, %v", got, err)
	}
	_, err = s.UpdateTemplate(ctx, tpl)
	wantErr(t, "UpdateTemplate of a deleted template", err, store.ErrNotFound)
}

func testCampaigns(t *testing.T, s CampaignBackend) {
	ctx := t.Context()
	list := newList(t, s, "news")
	when := time.Date(2026, 5, 6, 7, 0, 0, 0, time.UTC)
	c, err := s.CreateCampaign(ctx, store.Campaign{Name: "May", Subject: "News", HTML: "<p>x</p>",
		From: "news@example.org", ReplyTo: "editor@example.org", ListIDs: []int64{list.ID}, ScheduledAt: when,
		RatePerMinute: 600, Tracking: true})
	must(t, err)
	if c.Status != store.CampaignDraft || !slices.Equal(c.ListIDs, []int64{list.ID}) || !c.ScheduledAt.Equal(when) ||
		c.RatePerMinute != 600 || !c.Tracking || c.Anonymous || !c.StartedAt.IsZero() {
		t.Errorf("created = %+v", c)
	}
	c.Subject, c.Anonymous, c.ScheduledAt = "June news", true, time.Time{}
	c, err = s.UpdateCampaign(ctx, c)
	must(t, err)
	if c.Subject != "June news" || !c.Anonymous || !c.ScheduledAt.IsZero() || c.Status != store.CampaignDraft {
		t.Errorf("updated = %+v", c)
	}
	second, err := s.CreateCampaign(ctx, store.Campaign{Name: "June"})
	must(t, err)
	all, err := s.ListCampaigns(ctx)
	must(t, err)
	if len(all) != 2 || all[0].ID != second.ID {
		t.Errorf("ListCampaigns = %+v", all)
	}

	start := time.Now()
	wantErr(t, "finish a draft", s.SetCampaignStatus(ctx, c.ID, store.CampaignFinished, start, store.CampaignRunning),
		store.ErrConflict)
	must(t, s.SetCampaignStatus(ctx, c.ID, store.CampaignRunning, start, store.CampaignDraft, store.CampaignScheduled))
	must(t, s.SetCampaignStatus(ctx, c.ID, store.CampaignPaused, start.Add(time.Minute)))
	must(t, s.SetCampaignStatus(ctx, c.ID, store.CampaignRunning, start.Add(2*time.Minute), store.CampaignPaused))
	must(t, s.SetCampaignStatus(ctx, c.ID, store.CampaignFinished, start.Add(3*time.Minute), store.CampaignRunning))
	got, err := s.GetCampaign(ctx, c.ID)
	must(t, err)
	if got.Status != store.CampaignFinished || !got.StartedAt.Equal(time.Unix(0, start.UnixNano())) ||
		!got.FinishedAt.Equal(time.Unix(0, start.Add(3*time.Minute).UnixNano())) {
		t.Errorf("after running = %+v", got)
	}
	wantErr(t, "status of an unknown campaign", s.SetCampaignStatus(ctx, 999, store.CampaignRunning, start),
		store.ErrNotFound)
	must(t, s.DeleteCampaign(ctx, second.ID))
	_, err = s.GetCampaign(ctx, second.ID)
	wantErr(t, "GetCampaign after delete", err, store.ErrNotFound)
}

func testCampaignKey(t *testing.T, s CampaignBackend) {
	k1, err := s.CampaignKey(t.Context())
	must(t, err)
	k2, err := s.CampaignKey(t.Context())
	must(t, err)
	if len(k1) != 32 || !bytes.Equal(k1, k2) || bytes.Equal(k1, make([]byte, 32)) {
		t.Errorf("keys %x, %x", k1, k2)
	}
}
