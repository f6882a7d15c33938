package storetest

import (
	"slices"
	"testing"
	"time"

	"posthorn/internal/store"
)

// RetentionBackend is a store that keeps legal holds and removes old records, with the
// stores whose records it removes.
type RetentionBackend interface {
	store.Store
	store.RetentionStore
	store.MailEventStore
	store.LoginStore
	store.CampaignStore
	store.CampaignWebhookStore
	store.WebStore
}

// RunRetention runs the conformance tests of what the retention job needs; open returns a
// new, empty store. It pins down: a legal hold reads back with the time it began, a second
// hold keeps it, lifting is idempotent, an unknown account is ErrNotFound and the hold goes
// with its account; MessagesBefore is strict (a message dated exactly at the cut-off stays)
// and ascending; PruneRecords removes only records older than each time, only opens and
// clicks of the campaign events, never what names an account under legal hold, nothing of
// a kind whose time is zero, and nothing at all in a dry run, which counts the same.
func RunRetention(t *testing.T, open func(t *testing.T) RetentionBackend) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, RetentionBackend)
	}{
		{"LegalHold", testLegalHold},
		{"MessagesBefore", testMessagesBefore},
		{"PruneRecords", testPruneRecords},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var retentionNow = time.Date(2026, 6, 1, 4, 0, 0, 0, time.UTC)

func testLegalHold(t *testing.T, s RetentionBackend) {
	ctx := t.Context()
	_, err := s.AddDomain(ctx, "example.org")
	must(t, err)
	alice, err := s.AddAccount(ctx, "alice@example.org", "x")
	must(t, err)
	bob, err := s.AddAccount(ctx, "bob@example.org", "x")
	must(t, err)
	holds, err := s.LegalHolds(ctx)
	must(t, err)
	if len(holds) != 0 {
		t.Fatalf("holds of a new store = %+v", holds)
	}
	must(t, s.SetLegalHold(ctx, bob.ID, true, retentionNow))
	must(t, s.SetLegalHold(ctx, alice.ID, true, retentionNow.Add(time.Hour)))
	must(t, s.SetLegalHold(ctx, bob.ID, true, retentionNow.Add(2*time.Hour))) // keeps the first time
	holds, err = s.LegalHolds(ctx)
	must(t, err)
	want := []store.LegalHold{{AccountID: alice.ID, Since: retentionNow.Add(time.Hour)}, {AccountID: bob.ID, Since: retentionNow}}
	if len(holds) != 2 || holds[0].AccountID != want[0].AccountID || !holds[0].Since.Equal(want[0].Since) ||
		holds[1].AccountID != want[1].AccountID || !holds[1].Since.Equal(want[1].Since) {
		t.Errorf("holds = %+v, want %+v", holds, want)
	}
	must(t, s.SetLegalHold(ctx, alice.ID, false, retentionNow))
	must(t, s.SetLegalHold(ctx, alice.ID, false, retentionNow))
	wantErr(t, "hold of an unknown account", s.SetLegalHold(ctx, 9999, true, retentionNow), store.ErrNotFound)
	wantErr(t, "lifting the hold of an unknown account", s.SetLegalHold(ctx, 9999, false, retentionNow), store.ErrNotFound)
	_, err = s.RemoveAccount(ctx, bob.Address)
	must(t, err)
	holds, err = s.LegalHolds(ctx)
	must(t, err)
	if len(holds) != 0 {
		t.Errorf("holds after lifting one and removing the other account = %+v", holds)
	}
}

func testMessagesBefore(t *testing.T, s RetentionBackend) {
	ctx := t.Context()
	_, err := s.AddDomain(ctx, "example.org")
	must(t, err)
	alice, err := s.AddAccount(ctx, "alice@example.org", "x")
	must(t, err)
	junk, err := s.GetMailbox(ctx, alice.ID, "Junk")
	must(t, err)
	dates := []time.Time{retentionNow.AddDate(0, 0, -40), retentionNow, retentionNow.AddDate(0, 0, -31),
		retentionNow.AddDate(0, 0, -30), retentionNow.Add(-time.Nanosecond)}
	var ds []store.Delivery
	for i, d := range dates {
		ds = append(ds, store.Delivery{BlobID: "retention-" + string(rune('a'+i)), Size: 10, InternalDate: d,
			Targets: []store.Target{{AccountID: alice.ID, Mailbox: "Junk"}}})
	}
	_, err = s.Deliver(ctx, ds)
	must(t, err)
	got, err := s.MessagesBefore(ctx, junk.ID, retentionNow.AddDate(0, 0, -30))
	must(t, err)
	if !slices.Equal(got, []uint32{1, 3}) {
		t.Errorf("messages before 30 days = %v, want [1 3] (the one at the cut-off stays)", got)
	}
	got, err = s.MessagesBefore(ctx, junk.ID, retentionNow)
	must(t, err)
	if !slices.Equal(got, []uint32{1, 3, 4, 5}) {
		t.Errorf("messages before now = %v", got)
	}
	inbox, err := s.GetMailbox(ctx, alice.ID, "INBOX")
	must(t, err)
	got, err = s.MessagesBefore(ctx, inbox.ID, retentionNow)
	must(t, err)
	if len(got) != 0 {
		t.Errorf("messages of an empty INBOX = %v", got)
	}
	_, err = s.MessagesBefore(ctx, 9999, retentionNow)
	wantErr(t, "unknown mailbox", err, store.ErrNotFound)
}

func testPruneRecords(t *testing.T, s RetentionBackend) {
	ctx := t.Context()
	_, err := s.AddDomain(ctx, "example.org")
	must(t, err)
	alice, err := s.AddAccount(ctx, "alice@example.org", "x")
	must(t, err)
	held, err := s.AddAccount(ctx, "held@example.org", "x")
	must(t, err)
	must(t, s.SetLegalHold(ctx, held.ID, true, retentionNow))
	old, recent := retentionNow.AddDate(0, 0, -100), retentionNow.AddDate(0, 0, -1)
	cut := retentionNow.AddDate(0, 0, -30)

	must(t, s.AddMailEvents(ctx, []store.MailEvent{
		{Time: old, Event: "received", MsgID: "old@x", From: "someone@example.net", Rcpt: "alice@example.org"},
		{Time: old, Event: "received", MsgID: "old-to-held@x", From: "someone@example.net", Rcpt: "alice@example.org,Held@Example.ORG"},
		{Time: old, Event: "received", MsgID: "old-from-held@x", From: "held@example.org", Rcpt: "x@example.net"},
		{Time: old, Event: "received", MsgID: "old-stored-for-held@x", From: "someone@example.net", Rcpt: "list@example.org",
			Mailboxes: []store.MailEventMailbox{{Account: "held@example.org", Mailbox: "INBOX"}}},
		{Time: recent, Event: "received", MsgID: "recent@x", From: "someone@example.net", Rcpt: "alice@example.org"},
	}))
	c, err := s.CreateCampaign(ctx, store.Campaign{Name: "news"})
	must(t, err)
	must(t, s.AddEvents(ctx, []store.Event{
		{CampaignID: c.ID, Kind: store.EventOpen, LinkIndex: -1, At: old},
		{CampaignID: c.ID, Kind: store.EventClick, LinkIndex: 0, At: old},
		{CampaignID: c.ID, Kind: store.EventBounce, LinkIndex: -1, At: old},
		{CampaignID: c.ID, Kind: store.EventOpen, LinkIndex: -1, At: recent},
	}))
	must(t, s.RecordLoginSource(ctx, alice.ID, "192.0.2.1/32", old, 10))
	must(t, s.RecordLoginSource(ctx, alice.ID, "192.0.2.2/32", recent, 10))
	must(t, s.RecordLoginSource(ctx, held.ID, "192.0.2.3/32", old, 10))
	must(t, s.RecordWebLogin(ctx, store.WebLogin{AccountID: alice.ID, At: old, Source: "192.0.2.1", UserAgent: "a"}, 10))
	must(t, s.RecordWebLogin(ctx, store.WebLogin{AccountID: alice.ID, At: recent, Source: "192.0.2.2", UserAgent: "a"}, 10))
	must(t, s.RecordWebLogin(ctx, store.WebLogin{AccountID: held.ID, At: old, Source: "192.0.2.3", UserAgent: "a"}, 10))

	// Nothing selected: nothing goes.
	n, err := s.PruneRecords(ctx, store.Prune{})
	must(t, err)
	if n != (store.Pruned{}) {
		t.Errorf("prune of nothing = %+v", n)
	}
	all := store.Prune{MailEventsBefore: cut, TrackingBefore: cut, LoginsBefore: cut}
	want := store.Pruned{MailEvents: 1, TrackingEvents: 2, LoginSources: 1, WebLogins: 1}
	dry := all
	dry.DryRun = true
	n, err = s.PruneRecords(ctx, dry)
	must(t, err)
	if n != want {
		t.Errorf("dry run = %+v, want %+v", n, want)
	}
	count := func() (events, tracking, sources, logins int) {
		evs, err := s.SearchMailEvents(ctx, store.MailEventQuery{Limit: 100})
		must(t, err)
		tr, err := s.EventsAfter(ctx, 0, 100)
		must(t, err)
		src, err := s.LoginSources(ctx, alice.ID)
		must(t, err)
		heldSrc, err := s.LoginSources(ctx, held.ID)
		must(t, err)
		wl, err := s.WebLogins(ctx, alice.ID)
		must(t, err)
		heldWL, err := s.WebLogins(ctx, held.ID)
		must(t, err)
		return len(evs), len(tr), len(src) + len(heldSrc), len(wl) + len(heldWL)
	}
	if e, tr, src, wl := count(); e != 5 || tr != 4 || src != 3 || wl != 3 {
		t.Fatalf("after a dry run: %d mail events, %d tracking, %d sources, %d web logins; want everything kept", e, tr, src, wl)
	}
	n, err = s.PruneRecords(ctx, all)
	must(t, err)
	if n != want {
		t.Errorf("prune = %+v, want %+v", n, want)
	}
	evs, err := s.SearchMailEvents(ctx, store.MailEventQuery{})
	must(t, err)
	var ids []string
	for _, e := range evs {
		ids = append(ids, e.MsgID)
	}
	slices.Sort(ids)
	if !slices.Equal(ids, []string{"old-from-held@x", "old-stored-for-held@x", "old-to-held@x", "recent@x"}) {
		t.Errorf("mail events left = %v", ids)
	}
	tr, err := s.EventsAfter(ctx, 0, 100)
	must(t, err)
	if len(tr) != 2 || tr[0].Kind != store.EventBounce || tr[1].Kind != store.EventOpen || !tr[1].At.Equal(recent) {
		t.Errorf("campaign events left = %+v", tr)
	}
	src, err := s.LoginSources(ctx, alice.ID)
	must(t, err)
	if len(src) != 1 || src[0].Source != "192.0.2.2/32" {
		t.Errorf("alice's login sources = %+v", src)
	}
	if heldSrc, err := s.LoginSources(ctx, held.ID); err != nil || len(heldSrc) != 1 {
		t.Errorf("held account's login sources = %+v, %v", heldSrc, err)
	}
	wl, err := s.WebLogins(ctx, alice.ID)
	must(t, err)
	if len(wl) != 1 || !wl[0].At.Equal(recent) {
		t.Errorf("alice's web logins = %+v", wl)
	}
	if heldWL, err := s.WebLogins(ctx, held.ID); err != nil || len(heldWL) != 1 {
		t.Errorf("held account's web logins = %+v, %v", heldWL, err)
	}
	// Once the hold is lifted, its records go too.
	must(t, s.SetLegalHold(ctx, held.ID, false, retentionNow))
	n, err = s.PruneRecords(ctx, all)
	must(t, err)
	if n != (store.Pruned{MailEvents: 3, LoginSources: 1, WebLogins: 1}) {
		t.Errorf("prune after the hold = %+v", n)
	}
}
