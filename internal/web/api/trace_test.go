package api

import (
	"net/http"
	"testing"
	"time"

	"posthorn/internal/mailtrace"
	"posthorn/internal/store"
)

func (e *apiEnv) addMailEvents() {
	e.t.Helper()
	at := time.Date(2026, 6, 1, 8, 0, 0, 0, time.UTC)
	if err := e.Store.AddMailEvents(e.t.Context(), []store.MailEvent{
		{Time: at, Event: "received", BlobID: "b1", MsgID: "m1@example.net", From: "bob@example.net",
			Rcpt: "alice@example.org", Result: "delivered", Code: "250 2.0.0",
			Mailboxes: []store.MailEventMailbox{{Account: "alice@example.org", Mailbox: "INBOX"}}},
		{Time: at.Add(time.Minute), Event: "rejected", From: "eve@example.net", Rcpt: "nobody@example.org",
			Result: "unknown-user", Code: "550 5.1.1"},
	}); err != nil {
		e.t.Fatal(err)
	}
}

func TestTraceRoutes(t *testing.T) {
	e := newAPIEnv(t)
	e.addMailEvents()
	var found mailtrace.Found
	e.decode(e.call("GET", "/api/v1/trace?to=alice@EXAMPLE.org&since=2h", nil, http.StatusOK), &found)
	if len(found.Events) != 1 || found.Events[0].Message != "b1" || found.Events[0].Mailboxes[0].Mailbox != "INBOX" {
		t.Errorf("search: %+v", found)
	}
	e.decode(e.call("GET", "/api/v1/trace?limit=1", nil, http.StatusOK), &found)
	if len(found.Events) != 1 || found.Events[0].Event != "rejected" || found.Next == 0 {
		t.Errorf("first page: %+v", found)
	}
	var traced mailtrace.Traced
	e.decode(e.call("GET", "/api/v1/trace/%3Cm1@example.net%3E", nil, http.StatusOK), &traced)
	if len(traced.Steps) != 2 || traced.Steps[0].Step != "received" || traced.Steps[1].Step != "stored" ||
		traced.Steps[1].Summary != "delivered to alice@example.org, mailbox INBOX" {
		t.Errorf("trace: %+v", traced)
	}
}

func TestTraceRouteErrors(t *testing.T) {
	e := newAPIEnv(t)
	e.addMailEvents()
	for _, tc := range []struct {
		path   string
		status int
		code   string
		field  string
	}{
		{"/api/v1/trace?from=bob", 400, "invalid", "from"},
		{"/api/v1/trace?to=@bad%20domain", 400, "invalid", "to"},
		{"/api/v1/trace?since=tomorrow", 400, "invalid", "since"},
		{"/api/v1/trace?since=1h&until=2h", 400, "invalid", "until"},
		{"/api/v1/trace?limit=0", 400, "invalid", "limit"},
		{"/api/v1/trace/nope", 404, "not_found", "id"},
	} {
		r := e.do("GET", tc.path, e.admin, "", nil)
		var body struct {
			Error struct{ Code, Message, Field string } `json:"error"`
		}
		e.decode(r, &body)
		if r.status != tc.status || body.Error.Code != tc.code || body.Error.Field != tc.field || body.Error.Message == "" {
			t.Errorf("%s: %d %+v, want %d %s %s", tc.path, r.status, body.Error, tc.status, tc.code, tc.field)
		}
	}
	for _, token := range []string{"", e.account} {
		want := http.StatusUnauthorized
		if token != "" {
			want = http.StatusForbidden
		}
		if r := e.do("GET", "/api/v1/trace/b1", token, "", nil); r.status != want {
			t.Errorf("token %q: status %d, want %d", token, r.status, want)
		}
	}
}
