package mailtrace

import (
	"bytes"
	"errors"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"posthorn/internal/operr"
	"posthorn/internal/store"
	"posthorn/internal/store/sqlite"
)

var traceBase = time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)

// newTracer returns a Tracer whose mail log holds one message from bob@ to alice@ (local,
// filed in Junk) and carol@example.com (remote: deferred once, then delivered), and one
// rejected recipient.
func newTracer(t *testing.T) *Tracer {
	t.Helper()
	es, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "posthorn.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := es.Close(); err != nil {
			t.Error(err)
		}
	})
	at := func(m int) time.Time { return traceBase.Add(time.Duration(m) * time.Minute) }
	if err := es.AddMailEvents(t.Context(), []store.MailEvent{
		{Time: at(0), Event: "received", BlobID: "b1", MsgID: "m1@example.net", From: "bob@example.net",
			Rcpt: "alice@example.org,carol@example.com", Result: "queued", Code: "250 2.0.0", Remote: "192.0.2.1",
			Size: 321, Reasons: "spam(7.5)", Mailboxes: []store.MailEventMailbox{{Account: "alice@example.org", Mailbox: "Junk"}}},
		{Time: at(1), Event: "deferred", BlobID: "b1", From: "bob@example.net", Rcpt: "carol@example.com",
			Result: "deferred", Code: "451 4.7.1", Remote: "mx.example.com", Size: 321},
		{Time: at(2), Event: "rejected", From: "eve@example.net", Rcpt: "nobody@example.org",
			Result: "unknown-user", Code: "550 5.1.1", Remote: "192.0.2.9"},
		{Time: at(3), Event: "delivered", BlobID: "b1", From: "bob@example.net", Rcpt: "carol@example.com",
			Result: "delivered", Code: "250", Remote: "mx.example.com", Size: 321},
	}); err != nil {
		t.Fatal(err)
	}
	return &Tracer{Store: es}
}

func TestSearchTrace(t *testing.T) {
	tr := newTracer(t)
	for _, tc := range []struct {
		q    Query
		want []string
	}{
		{Query{To: "carol@example.com"}, []string{"delivered", "deferred", "received"}},
		{Query{To: "@EXAMPLE.org"}, []string{"rejected", "received"}},
		{Query{From: "eve@example.net"}, []string{"rejected"}},
		{Query{MsgID: "<m1@example.net>"}, []string{"received"}},
		{Query{To: "carol@example.com", Since: traceBase.Add(time.Minute), Until: traceBase.Add(3 * time.Minute)}, []string{"deferred"}},
		{Query{Limit: 2}, []string{"delivered", "rejected"}},
	} {
		got, err := tr.Search(t.Context(), tc.q)
		if err != nil {
			t.Fatal(err)
		}
		var names []string
		for _, e := range got.Events {
			names = append(names, e.Event)
		}
		if !slices.Equal(names, tc.want) {
			t.Errorf("%+v: %q, want %q", tc.q, names, tc.want)
		}
	}
}

func TestSearchTraceInvalid(t *testing.T) {
	tr := newTracer(t)
	for _, tc := range []struct {
		q              Query
		field, message string
	}{
		{Query{From: "not an address"}, "from", `invalid address "not an address": want local@domain`},
		{Query{To: "@bad domain"}, "to", ""},
		{Query{MsgID: "a b"}, "msgid", `message-id "a b": want one id, with or without angle brackets`},
		{Query{Since: traceBase, Until: traceBase}, "until", "until 2026-06-01T09:00:00Z is not after since 2026-06-01T09:00:00Z"},
		{Query{Limit: MaxLimit + 1}, "limit", "limit 1001: want 1 to 1000"},
		{Query{After: -1}, "after", "after -1: want the id of an event"},
	} {
		_, err := tr.Search(t.Context(), tc.q)
		e, ok := operr.As(err, operr.Invalid, tc.field)
		if !ok {
			t.Errorf("%+v: error %v, want invalid %s", tc.q, err, tc.field)
			continue
		}
		if tc.message != "" && e.Message != tc.message {
			t.Errorf("%+v: message %q, want %q", tc.q, e.Message, tc.message)
		}
	}
}

func TestTrace(t *testing.T) {
	tr := newTracer(t)
	for _, ref := range []string{"b1", "m1@example.net", "<m1@example.net>"} {
		steps, err := tr.Trace(t.Context(), ref)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, s := range steps {
			got = append(got, s.Step+": "+s.Summary)
		}
		want := []string{
			"received: received from bob@example.net for alice@example.org,carol@example.com from 192.0.2.1, 321 bytes: 250 2.0.0",
			"verdict: verdict accepted, reasons: spam(7.5)",
			"stored: delivered to alice@example.org, mailbox Junk",
			"queued: queued for the remote recipients",
			"deferred: delivery to carol@example.com at mx.example.com deferred: 451 4.7.1",
			"delivered: delivered to carol@example.com at mx.example.com: 250",
		}
		if !slices.Equal(got, want) {
			t.Errorf("trace %s:\n%q\nwant\n%q", ref, got, want)
		}
		if !steps[0].Time.Equal(traceBase) || steps[5].Event.Event != "delivered" {
			t.Errorf("trace %s: steps %+v", ref, steps)
		}
	}
	_, err := tr.Trace(t.Context(), "nope")
	wantError(t, "unknown", err, operr.NotFound, "id", `no message "nope" in the mail log`)
	_, err = tr.Trace(t.Context(), " ")
	wantError(t, "empty", err, operr.Invalid, "id", "give a message's id or Message-ID")
}

// wantError checks that err is an *operr.Error with code and field, whose message is message.
func wantError(t *testing.T, what string, err error, code operr.Code, field, message string) {
	t.Helper()
	var e *operr.Error
	if !errors.As(err, &e) {
		t.Fatalf("%s: error %v (%T), want an *operr.Error", what, err, err)
	}
	if e.Code != code || e.Field != field || e.Message != message {
		t.Errorf("%s: code %q field %q message %q; want %q %q %q", what, e.Code, e.Field, e.Message, code, field, message)
	}
}

// A page that fills its limit names the next one; the last page does not.
func TestSearchPages(t *testing.T) {
	tr := newTracer(t)
	first, err := tr.Search(t.Context(), Query{Limit: 3})
	if err != nil {
		t.Fatal(err)
	}
	if len(first.Events) != 3 || first.Next != first.Events[2].ID {
		t.Fatalf("first page %+v", first)
	}
	rest, err := tr.Search(t.Context(), Query{Limit: 3, After: first.Next})
	if err != nil {
		t.Fatal(err)
	}
	if len(rest.Events) != 1 || rest.Events[0].Event != "received" || rest.Next != 0 {
		t.Errorf("second page %+v", rest)
	}
}

// The JSON of a trace has the steps with their events, mailboxes included.
func TestWriteJSON(t *testing.T) {
	tr := newTracer(t)
	steps, err := tr.Trace(t.Context(), "b1")
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := WriteJSON(&b, Traced{Ref: "b1", Steps: steps}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{`"ref": "b1"`, `"step": "stored"`, `"account": "alice@example.org"`,
		`"mailbox": "Junk"`, `"message": "b1"`, `"time": "2026-06-01T09:00:00Z"`} {
		if !strings.Contains(b.String(), want) {
			t.Errorf("JSON lacks %s:\n%s", want, b.String())
		}
	}
}

func TestParseQuery(t *testing.T) {
	now := time.Date(2026, 6, 2, 12, 0, 0, 0, time.UTC)
	params := map[string]string{"from": "bob@example.net", "to": "@example.org", "msgid": "<m1@x>",
		"since": "36h", "until": "2026-06-02T10:00:00+02:00", "limit": "5", "after": "9"}
	q, err := ParseQuery(func(k string) string { return params[k] }, now)
	if err != nil {
		t.Fatal(err)
	}
	want := Query{From: "bob@example.net", To: "@example.org", MsgID: "<m1@x>", Since: now.Add(-36 * time.Hour),
		Until: time.Date(2026, 6, 2, 8, 0, 0, 0, time.UTC), Limit: 5, After: 9}
	if !q.Since.Equal(want.Since) || !q.Until.Equal(want.Until) {
		t.Errorf("times %v %v", q.Since, q.Until)
	}
	q.Since, q.Until, want.Since, want.Until = time.Time{}, time.Time{}, time.Time{}, time.Time{}
	if q != want {
		t.Errorf("query %+v, want %+v", q, want)
	}
	if d, _ := ParseTime("since", "7d", now); !d.Equal(now.Add(-7 * 24 * time.Hour)) {
		t.Errorf("7d = %v", d)
	}
	for name, bad := range map[string]string{"since": "yesterday", "until": "-5h", "limit": "0", "after": "x"} {
		_, err := ParseQuery(func(k string) string {
			if k == name {
				return bad
			}
			return ""
		}, now)
		if _, ok := operr.As(err, operr.Invalid, name); !ok {
			t.Errorf("%s=%s: error %v, want invalid %s", name, bad, err, name)
		}
	}
}
