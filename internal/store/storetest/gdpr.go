package storetest

import (
	"testing"
	"time"

	"posthorn/internal/store"
)

// GDPRBackend is a store that finds and erases a person's data, with the stores whose rows it
// reaches.
type GDPRBackend interface {
	store.Store
	store.GDPRStore
	store.CampaignStore
	store.MailEventStore
	store.QueueStore
	store.AuditStore
	store.SubmissionStore
	store.WebStore
	store.GreylistStore
	store.Correspondents
	store.SpamLists
}

// RunGDPR runs the conformance tests of store.GDPRStore; open returns a new, empty store. It
// pins down: PersonalRecords finds the person's rows in every part, whatever the case of the
// address; a mail log event naming someone whose address only ends like the person's
// (malice@ for alice@) is neither found nor rewritten, nor is an audit entry of theirs found; ErasePersonalData deletes what it
// documents, writes the pseudonym into the mail log and the send ledger, returns the bodies
// left without reference, leaves every other person's rows alone, and a second call finds
// nothing; PurgeFreed succeeds.
func RunGDPR(t *testing.T, open func(t *testing.T) GDPRBackend) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, GDPRBackend)
	}{
		{"FindAndErase", testGDPRFindAndErase},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var gdprBase = time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)

// gdprFixture gives alice (not an account) rows everywhere, and malice the same few.
func gdprFixture(t *testing.T, s GDPRBackend) {
	ctx := t.Context()
	_, err := s.AddDomain(ctx, "example.org")
	must(t, err)
	bob, err := s.AddAccount(ctx, "bob@example.org", "hash-of-bob")
	must(t, err)
	must(t, s.AddSendAs(ctx, bob.ID, "alice@example.org"))
	_, err = s.Deliver(ctx, []store.Delivery{{BlobID: "gdpr-blob-1", Size: 10, InternalDate: gdprBase,
		Outbound: []store.Outbound{{Sender: "bob@example.org", Recipient: "Alice@Example.org"},
			{Sender: "bob@example.org", Recipient: "malice@example.org"}}}})
	must(t, err)
	list, err := s.CreateList(ctx, store.List{Name: "news", OptIn: store.OptInSingle})
	must(t, err)
	_, err = s.SubscribeToList(ctx, list.ID, []store.SubscribeRequest{
		{Subscriber: store.Subscriber{Address: "alice@example.org", Attributes: map[string]any{"k": "v"}},
			Status: store.StatusConfirmed, Consent: consent(store.SourceForm)},
		{Subscriber: store.Subscriber{Address: "malice@example.org"}, Status: store.StatusConfirmed, Consent: consent(store.SourceForm)},
	})
	must(t, err)
	c, err := s.CreateCampaign(ctx, store.Campaign{Name: "c", ListIDs: []int64{list.ID}})
	must(t, err)
	_, err = s.FillRecipients(ctx, c.ID)
	must(t, err)
	rows, err := s.StreamRecipients(ctx, c.ID, 0, 10)
	must(t, err)
	for _, r := range rows {
		must(t, s.AddEvents(ctx, []store.Event{{CampaignID: c.ID, RecipientID: r.ID, Kind: store.EventOpen, LinkIndex: -1,
			IP: "192.0.2.0", At: gdprBase}}))
	}
	must(t, s.AddSuppressions(ctx, []store.Suppression{{Address: "alice@example.org", Reason: store.SuppressManual},
		{Address: "malice@example.org", Reason: store.SuppressManual}}))
	_, err = s.RecordSoftBounce(ctx, 0, "alice@example.org", "test", gdprBase)
	must(t, err)
	must(t, s.AddMailEvents(ctx, []store.MailEvent{
		{Time: gdprBase, Event: "received", MsgID: "1@x", From: "ALICE@example.org", Rcpt: "bob@example.org",
			Mailboxes: []store.MailEventMailbox{{Account: "bob@example.org", Mailbox: "INBOX"}}},
		{Time: gdprBase, Event: "bounced", MsgID: "2@x", From: "bob@example.org", Rcpt: "malice@example.org,alice@example.org",
			Code: "550 <alice@example.org> unknown"},
		{Time: gdprBase, Event: "received", MsgID: "3@x", From: "malice@example.org", Rcpt: "bob@example.org",
			Code: "250 malice@example.org ok"},
	}))
	_, err = s.AppendAudit(ctx, store.AuditEntry{ActorKind: "cli", Actor: "root", Action: "subscriber.add", Target: "alice@example.org"})
	must(t, err)
	_, err = s.AppendAudit(ctx, store.AuditEntry{ActorKind: "cli", Actor: "root", Action: "subscriber.add", Target: "malice@example.org"})
	must(t, err)
	_, err = s.Greylist(ctx, "192.0.2.0/24/alice@example.org/bob@example.org", gdprBase, time.Minute, time.Hour)
	must(t, err)
	_, err = s.Greylist(ctx, "192.0.2.0/24/malice@example.org/bob@example.org", gdprBase, time.Minute, time.Hour)
	must(t, err)
	must(t, s.NoteCorrespondents(ctx, []store.Correspondent{{AccountID: bob.ID, Address: "alice@example.org", At: gdprBase},
		{AccountID: bob.ID, Address: "malice@example.org", At: gdprBase}}))
	must(t, s.AddSpamListEntry(ctx, bob.ID, store.SpamListEntry{Entry: "alice@example.org", Block: true}))

}

func testGDPRFindAndErase(t *testing.T, s GDPRBackend) {
	ctx := t.Context()
	gdprFixture(t, s)
	r, err := s.PersonalRecords(ctx, "ALICE@example.org")
	must(t, err)
	if r.Address != "alice@example.org" || len(r.SendAsGrants) != 1 || r.SendAsGrants[0].Account != "bob@example.org" ||
		len(r.Queue) != 1 || r.Subscriber == nil || r.Subscriber.Attributes["k"] != "v" || len(r.Subscriptions) != 1 ||
		r.Subscriptions[0].List != "news" || r.Subscriptions[0].Consent.Text == "" || len(r.CampaignRecipients) != 1 ||
		len(r.CampaignEvents) != 1 || len(r.Suppressions) != 1 || r.SoftBounces != 1 || len(r.AuditEntries) != 1 ||
		len(r.Greylist) != 1 || len(r.Correspondents) != 1 || len(r.SpamListEntries) != 1 {
		t.Fatalf("PersonalRecords = %+v", r)
	}
	var found []string
	must(t, s.PersonalMailEvents(ctx, "alice@EXAMPLE.org", func(e store.MailEvent) error {
		found = append(found, e.MsgID)
		return nil
	}))
	if len(found) != 2 || found[0] != "1@x" || found[1] != "2@x" {
		t.Fatalf("PersonalMailEvents: %v, want 1@x and 2@x", found)
	}

	const pseudonym = "0123@erased.invalid"
	erased, err := s.ErasePersonalData(ctx, "alice@example.org", pseudonym)
	must(t, err)
	if erased.Queue != 1 || erased.Subscribers != 1 || erased.CampaignEvents != 1 || erased.CampaignRecipients != 1 ||
		erased.Suppressions != 1 || erased.SoftBounces != 1 || erased.MailEvents != 2 || erased.SendAsGrants != 1 ||
		erased.Greylist != 1 || erased.Correspondents != 1 || erased.SpamListEntries != 1 || len(erased.Unreferenced) != 0 {
		t.Errorf("ErasePersonalData = %+v", erased)
	}
	r, err = s.PersonalRecords(ctx, "alice@example.org")
	must(t, err)
	if len(r.Queue)+len(r.SendAsGrants)+len(r.CampaignRecipients)+len(r.CampaignEvents)+len(r.Suppressions)+
		len(r.Greylist)+len(r.Correspondents)+len(r.SpamListEntries) != 0 || r.Subscriber != nil || r.SoftBounces != 0 {
		t.Errorf("PersonalRecords after erasure = %+v", r)
	}
	found = nil
	must(t, s.PersonalMailEvents(ctx, "alice@example.org", func(e store.MailEvent) error {
		found = append(found, e.MsgID)
		return nil
	}))
	if len(found) != 0 {
		t.Errorf("mail events after erasure: %v", found)
	}
	events, err := s.SearchMailEvents(ctx, store.MailEventQuery{Rcpt: pseudonym})
	must(t, err)
	if len(events) != 1 || events[0].Rcpt != "malice@example.org,"+pseudonym || events[0].Code != "550 <"+pseudonym+"> unknown" {
		t.Errorf("bounce after erasure: %+v", events)
	}
	events, err = s.SearchMailEvents(ctx, store.MailEventQuery{From: pseudonym})
	must(t, err)
	if len(events) != 1 || events[0].MsgID != "1@x" {
		t.Errorf("events from the pseudonym: %+v", events)
	}
	events, err = s.SearchMailEvents(ctx, store.MailEventQuery{From: "malice@example.org"})
	must(t, err)
	if len(events) != 1 || events[0].Code != "250 malice@example.org ok" {
		t.Errorf("malice's event after alice's erasure: %+v", events)
	}
	// malice keeps everything.
	m, err := s.PersonalRecords(ctx, "malice@example.org")
	must(t, err)
	if len(m.Queue) != 1 || m.Subscriber == nil || len(m.CampaignEvents) != 1 || len(m.Suppressions) != 1 ||
		len(m.Greylist) != 1 || len(m.Correspondents) != 1 {
		t.Errorf("malice after alice's erasure: %+v", m)
	}
	// The queue row was the blob's last but one reference.
	if ok, err := s.HasBlob(ctx, "gdpr-blob-1"); err != nil || !ok {
		t.Errorf("HasBlob after erasing one of two queue rows: %v, %v", ok, err)
	}
	erased, err = s.ErasePersonalData(ctx, "malice@example.org", "4567@erased.invalid")
	must(t, err)
	if len(erased.Unreferenced) != 1 || erased.Unreferenced[0] != "gdpr-blob-1" {
		t.Errorf("erasing the last queue row: unreferenced %v", erased.Unreferenced)
	}
	must(t, s.PurgeFreed(ctx))
}
