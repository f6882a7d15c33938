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
		page, err := s.StreamRecipients(t.Context(), campaignID, after, 2, time.Now())
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
	n, err := s.FillRecipients(ctx, c.ID, time.Now())
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
	if n, err := s.FillRecipients(ctx, c.ID, time.Now()); err != nil || n != 1 {
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
	_, err = s.FillRecipients(ctx, 999, time.Now())
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
	_, err := s.FillRecipients(ctx, c.ID, time.Now())
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
	_, err := s.FillRecipients(ctx, c.ID, time.Now())
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
	h2 := h1.Add(time.Hour)
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
	}))
	st, err := s.CampaignStats(ctx, c.ID)
	must(t, err)
	if st.Recipients[store.RecipientDelivered] != 1 || st.Recipients[store.RecipientBounced] != 1 ||
		st.Recipients[store.RecipientPending] != 2 || st.SoftBounced != 1 {
		t.Errorf("ledger counts = %v, soft %d", st.Recipients, st.SoftBounced)
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
	wantLinks := []store.LinkStats{
		{Index: 0, URL: "https://example.org/a", Clicks: store.EventCount{Human: 3, Machine: 1},
			Unique: store.EventCount{Human: 2, Machine: 1}},
		{Index: 1, URL: "https://example.org/b"},
	}
	if !slices.Equal(st.Links, wantLinks) {
		t.Errorf("links = %+v, want %+v", st.Links, wantLinks)
	}
	wantHours := []store.HourStats{
		{Hour: time.Date(2026, 6, 1, 10, 0, 0, 0, time.UTC), Opens: store.EventCount{Human: 1, Machine: 1},
			Clicks: store.EventCount{Machine: 1}},
		{Hour: time.Date(2026, 6, 1, 11, 0, 0, 0, time.UTC), Opens: store.EventCount{Human: 3},
			Clicks: store.EventCount{Human: 3}},
	}
	if len(st.Hours) != 2 || !st.Hours[0].Hour.Equal(wantHours[0].Hour) || st.Hours[0].Opens != wantHours[0].Opens ||
		st.Hours[0].Clicks != wantHours[0].Clicks || !st.Hours[1].Hour.Equal(wantHours[1].Hour) ||
		st.Hours[1].Opens != wantHours[1].Opens || st.Hours[1].Clicks != wantHours[1].Clicks {
		t.Errorf("hours = %+v, want %+v", st.Hours, wantHours)
	}
	_, err = s.CampaignStats(ctx, 999)
	wantErr(t, "stats of an unknown campaign", err, store.ErrNotFound)
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
