package storetest

import (
	"reflect"
	"slices"
	"testing"
	"time"

	"posthorn/internal/store"
)

// MailEventBackend is a store that keeps the mail log for the message trace.
type MailEventBackend interface {
	store.Store
	store.MailEventStore
}

// RunMailEvents runs the conformance tests of the stored mail log; open returns a new, empty
// store. It pins down: an event reads back as added, with its mailboxes; search by sender and
// by each recipient of a multi-recipient event, exactly, the domain case-insensitively, or by
// "@domain"; by message-id with or without angle brackets; Since inclusive, Until exclusive;
// newest first, pages continued with After; MailEventsOf in insertion order.
func RunMailEvents(t *testing.T, open func(t *testing.T) MailEventBackend) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, MailEventBackend)
	}{
		{"RoundTrip", testMailEventRoundTrip},
		{"Search", testMailEventSearch},
		{"Pages", testMailEventPages},
		{"EventsOf", testMailEventsOf},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var mailEventBase = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

// mailEvents adds a received, a queued delivery and a rejection, a minute apart.
func mailEvents(t *testing.T, s MailEventBackend) []store.MailEvent {
	t.Helper()
	in := []store.MailEvent{
		{Time: mailEventBase, Event: "received", BlobID: "b1", MsgID: "m1@example.net", From: "Bob@Example.NET",
			Rcpt: "alice@example.org,Carol@Example.COM", Result: "queued", Code: "250 2.0.0", Remote: "192.0.2.1",
			Size: 1234, Conn: "c1", Reasons: "spf-pass",
			Mailboxes: []store.MailEventMailbox{{Account: "alice@example.org", Mailbox: "INBOX"}}},
		{Time: mailEventBase.Add(time.Minute), Event: "delivered", BlobID: "b1", From: "bob@example.net",
			Rcpt: "Carol@example.com", Result: "delivered", Code: "250 2.0.0 ok", Remote: "mx.example.com", Size: 1234},
		{Time: mailEventBase.Add(2 * time.Minute), Event: "rejected", From: "eve@example.net",
			Rcpt: "nobody@example.org", Result: "unknown-user", Code: "550 5.1.1", Remote: "192.0.2.9", Conn: "c2"},
	}
	must(t, s.AddMailEvents(t.Context(), in))
	return in
}

func testMailEventRoundTrip(t *testing.T, s MailEventBackend) {
	in := mailEvents(t, s)
	got, err := s.SearchMailEvents(t.Context(), store.MailEventQuery{})
	must(t, err)
	if len(got) != 3 {
		t.Fatalf("%d events, want 3", len(got))
	}
	e := got[2] // newest first
	want := in[0]
	want.ID, want.From = e.ID, "Bob@example.net"
	if e.ID == 0 || !e.Time.Equal(want.Time) || !slices.Equal(e.Mailboxes, want.Mailboxes) {
		t.Errorf("event = %+v", e)
	}
	e.Time, want.Time = time.Time{}, time.Time{}
	e.Mailboxes, want.Mailboxes = nil, nil
	if !reflect.DeepEqual(e, want) {
		t.Errorf("event = %+v\nwant    %+v", e, want)
	}
	if got[0].ID <= got[1].ID || got[1].ID <= got[2].ID {
		t.Errorf("ids not newest first: %d %d %d", got[0].ID, got[1].ID, got[2].ID)
	}
	must(t, s.AddMailEvents(t.Context(), nil))
}

func testMailEventSearch(t *testing.T, s MailEventBackend) {
	mailEvents(t, s)
	for _, tc := range []struct {
		name string
		q    store.MailEventQuery
		want []string // events, newest first
	}{
		{"from exact", store.MailEventQuery{From: "Bob@example.net"}, []string{"received"}},
		{"from domain case", store.MailEventQuery{From: "Bob@EXAMPLE.net"}, []string{"received"}},
		{"from local part case", store.MailEventQuery{From: "bob@example.net"}, []string{"delivered"}},
		{"from domain", store.MailEventQuery{From: "@Example.NET"}, []string{"rejected", "delivered", "received"}},
		{"rcpt first", store.MailEventQuery{Rcpt: "alice@example.org"}, []string{"received"}},
		{"rcpt second", store.MailEventQuery{Rcpt: "Carol@EXAMPLE.com"}, []string{"delivered", "received"}},
		{"rcpt domain", store.MailEventQuery{Rcpt: "@example.org"}, []string{"rejected", "received"}},
		{"rcpt none", store.MailEventQuery{Rcpt: "carol@example.org"}, nil},
		{"msgid", store.MailEventQuery{MsgID: "m1@example.net"}, []string{"received"}},
		{"msgid brackets", store.MailEventQuery{MsgID: "<m1@example.net>"}, []string{"received"}},
		{"since inclusive", store.MailEventQuery{Since: mailEventBase.Add(time.Minute)}, []string{"rejected", "delivered"}},
		{"until exclusive", store.MailEventQuery{Until: mailEventBase.Add(time.Minute)}, []string{"received"}},
		{"combined", store.MailEventQuery{Rcpt: "Carol@example.com", Since: mailEventBase.Add(time.Second)}, []string{"delivered"}},
		{"limit", store.MailEventQuery{Limit: 1}, []string{"rejected"}},
	} {
		got, err := s.SearchMailEvents(t.Context(), tc.q)
		must(t, err)
		var names []string
		for _, e := range got {
			names = append(names, e.Event)
		}
		if !slices.Equal(names, tc.want) {
			t.Errorf("%s: %q, want %q", tc.name, names, tc.want)
		}
	}
}

func testMailEventPages(t *testing.T, s MailEventBackend) {
	var batch []store.MailEvent
	for i := range 7 {
		batch = append(batch, store.MailEvent{Time: mailEventBase.Add(time.Duration(i) * time.Second),
			Event: "received", BlobID: "b", Rcpt: "alice@example.org", Size: int64(i)})
	}
	must(t, s.AddMailEvents(t.Context(), batch))
	var sizes []int64
	q := store.MailEventQuery{Rcpt: "alice@example.org", Limit: 3}
	for range 4 {
		page, err := s.SearchMailEvents(t.Context(), q)
		must(t, err)
		if len(page) == 0 {
			break
		}
		for _, e := range page {
			sizes = append(sizes, e.Size)
		}
		q.After = page[len(page)-1].ID
	}
	if want := []int64{6, 5, 4, 3, 2, 1, 0}; !slices.Equal(sizes, want) {
		t.Errorf("pages gave sizes %v, want %v", sizes, want)
	}
}

func testMailEventsOf(t *testing.T, s MailEventBackend) {
	mailEvents(t, s)
	got, err := s.MailEventsOf(t.Context(), "b1")
	must(t, err)
	if len(got) != 2 || got[0].Event != "received" || got[1].Event != "delivered" || len(got[0].Mailboxes) != 1 {
		t.Fatalf("events of b1 = %+v", got)
	}
	for _, id := range []string{"nope", ""} {
		got, err = s.MailEventsOf(t.Context(), id)
		must(t, err)
		if len(got) != 0 {
			t.Errorf("events of %q = %+v", id, got)
		}
	}
}
