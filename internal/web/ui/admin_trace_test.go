package ui

import (
	"net/http"
	"net/url"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"posthorn/internal/store"
)

// Markup a hostile sender puts where the trace shows what it logged.
const (
	markupScript = `<script>alert(1)</script>`
	markupImg    = `"'><img src=x onerror=alert(1)>`
)

// addTraceEvents stores the mail log of one message from bob@ to alice@ (local, filed in
// Junk) and carol@example.com (remote: deferred once, then delivered), and of one rejected
// recipient, an hour ago.
func addTraceEvents(t *testing.T, u *testUI) time.Time {
	t.Helper()
	base := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	at := func(m int) time.Time { return base.Add(time.Duration(m) * time.Minute) }
	if err := u.env.Store.AddMailEvents(t.Context(), []store.MailEvent{
		{Time: at(0), Event: "received", BlobID: "b1", MsgID: "m1@example.net", From: "bob@example.net",
			Rcpt: "alice@example.org,carol@example.com", Result: "queued", Code: "250 2.0.0", Remote: "192.0.2.1",
			Size: 2048, Reasons: "spam(7.5)", Mailboxes: []store.MailEventMailbox{{Account: "alice@example.org", Mailbox: "Junk"}}},
		{Time: at(1), Event: "deferred", BlobID: "b1", From: "bob@example.net", Rcpt: "carol@example.com",
			Result: "deferred", Code: "451 4.7.1 try later", Remote: "mx.example.com", Size: 2048},
		{Time: at(2), Event: "rejected", From: "eve@example.net", Rcpt: "nobody@example.org",
			Result: "unknown-user", Code: "550 5.1.1", Remote: "192.0.2.9"},
		{Time: at(3), Event: "delivered", BlobID: "b1", From: "bob@example.net", Rcpt: "carol@example.com",
			Result: "delivered", Code: "250 ok", Remote: "mx.example.com", Size: 2048},
	}); err != nil {
		t.Fatal(err)
	}
	return base
}

var (
	eventRow = regexp.MustCompile(`<tr class="event-([a-z]+)">`)
	stepRow  = regexp.MustCompile(`<tr class="step step-([a-z]+)"><td>([^<]+)</td><td class="step-name">[a-z]+</td><td class="reply">([^<]*)</td>`)
)

// eventsOf are the event names of the rows of a search page, in order.
func eventsOf(body string) []string {
	var names []string
	for _, m := range eventRow.FindAllStringSubmatch(body, -1) {
		names = append(names, m[1])
	}
	return names
}

func TestAdminTraceSearch(t *testing.T) {
	u := newTestUI(t)
	base := addTraceEvents(t, u)
	for _, tc := range []struct {
		query string
		want  []string
	}{
		{"", []string{"delivered", "rejected", "deferred", "received"}},
		{"?to=carol@EXAMPLE.com", []string{"delivered", "deferred", "received"}},
		{"?to=@example.org&since=2h", []string{"rejected", "received"}},
		{"?from=eve@example.net", []string{"rejected"}},
		{"?msgid=%3Cm1@example.net%3E", []string{"received"}},
		{"?since=" + url.QueryEscape(base.Add(time.Minute).Format(time.RFC3339)) +
			"&until=" + url.QueryEscape(base.Add(3*time.Minute).Format(time.RFC3339)), []string{"rejected", "deferred"}},
		{"?since=10m", nil},
	} {
		resp, body := u.get(t, u.Admin, "/admin/trace"+tc.query)
		wantStatus(t, tc.query, resp, http.StatusOK)
		if got := eventsOf(body); !slices.Equal(got, tc.want) {
			t.Errorf("%s: events %q, want %q", tc.query, got, tc.want)
		}
	}
	_, body := u.get(t, u.Admin, "/admin/trace?to=carol@example.com")
	wantContains(t, "search page", body, `value="carol@example.com"`, `<a class="message" href="/admin/trace/b1"><code>b1</code></a>`,
		"<td>bob@example.net</td><td>carol@example.com</td><td>delivered</td><td class=\"reply\">250 ok</td><td>mx.example.com</td>",
		"<td>"+base.Format("2006-01-02 15:04:05")+" UTC</td><td>received</td>")

	// Paging: one event a page, the "older" link carrying the search and the last event's id.
	older := regexp.MustCompile(`href="([^"]+)" id="older"`)
	page, seen := "/admin/trace?to=carol%40example.com&limit=1", []string(nil)
	for range 5 {
		resp, body := u.get(t, u.Admin, page)
		wantStatus(t, page, resp, http.StatusOK)
		seen = append(seen, eventsOf(body)...)
		m := older.FindStringSubmatch(body)
		if m == nil {
			break
		}
		page = strings.ReplaceAll(m[1], "&amp;", "&")
		if !strings.Contains(page, "to=carol%40example.com") || !strings.Contains(page, "after=") {
			t.Fatalf("older link %q", page)
		}
	}
	// The last full page links to one more, which is empty.
	if want := []string{"delivered", "deferred", "received"}; !slices.Equal(seen, want) {
		t.Errorf("paged events %q, want %q", seen, want)
	}
}

// Bad input is shown on the form, naming its field, with what was typed kept.
func TestAdminTraceBadInput(t *testing.T) {
	u := newTestUI(t)
	addTraceEvents(t, u)
	for _, tc := range []struct {
		query, field, message string
	}{
		{"?from=bob", "from", `invalid address &#34;bob&#34;: want local@domain`},
		{"?to=@bad%20domain", "to", ""},
		{"?msgid=a%20b", "msgid", "want one id, with or without angle brackets"},
		{"?since=soon", "since", `since &#34;soon&#34;: want an RFC 3339 time`},
		{"?until=yesterday", "until", ""},
		{"?since=1h&until=2h", "until", "is not after since"},
		{"?limit=5000", "limit", "limit 5000: want 1 to 1000"},
		{"?after=x", "after", `after &#34;x&#34;: want the id of an event`},
	} {
		resp, body := u.get(t, u.Admin, "/admin/trace"+tc.query)
		wantStatus(t, tc.query, resp, http.StatusBadRequest)
		wantContains(t, tc.query, body, `data-field="`+tc.field+`"`, tc.message, `id="trace-search"`)
	}
	_, body := u.get(t, u.Admin, "/admin/trace?from=bob&to=carol@example.com")
	wantContains(t, "form kept", body, `value="bob"`, `value="carol@example.com"`)

	resp, body := u.get(t, u.Admin, "/admin/trace/nope")
	wantStatus(t, "unknown message", resp, http.StatusNotFound)
	wantContains(t, "unknown message", body, `data-field="id"`, `no message &#34;nope&#34; in the mail log`)
}

// A message's page lists every step in order, with its time and what happened; a
// Message-ID finds it too.
func TestAdminTraceSteps(t *testing.T) {
	u := newTestUI(t)
	base := addTraceEvents(t, u)
	for _, ref := range []string{"b1", "%3Cm1@example.net%3E", "m1@example.net"} {
		resp, body := u.get(t, u.Admin, "/admin/trace/"+ref)
		wantStatus(t, ref, resp, http.StatusOK)
		var names, times, summaries []string
		for _, m := range stepRow.FindAllStringSubmatch(body, -1) {
			names, times, summaries = append(names, m[1]), append(times, m[2]), append(summaries, m[3])
		}
		if want := []string{"received", "verdict", "stored", "queued", "deferred", "delivered"}; !slices.Equal(names, want) {
			t.Fatalf("%s: steps %q, want %q\n%s", ref, names, want, body)
		}
		stamp := func(m int) string { return base.Add(time.Duration(m) * time.Minute).Format("2006-01-02 15:04:05 MST") }
		if want := []string{stamp(0), stamp(0), stamp(0), stamp(0), stamp(1), stamp(3)}; !slices.Equal(times, want) {
			t.Errorf("%s: times %q, want %q", ref, times, want)
		}
		for i, want := range []string{"received from bob@example.net for alice@example.org,carol@example.com from 192.0.2.1, 2048 bytes: 250 2.0.0",
			"verdict accepted, reasons: spam(7.5)", "delivered to alice@example.org, mailbox Junk", "queued for the remote recipients",
			"delivery to carol@example.com at mx.example.com deferred: 451 4.7.1 try later",
			"delivered to carol@example.com at mx.example.com: 250 ok"} {
			if summaries[i] != want {
				t.Errorf("%s: step %d %q, want %q", ref, i, summaries[i], want)
			}
		}
		wantContains(t, ref, body, "<tr><th>Message-ID</th><td>m1@example.net</td></tr>", "<tr><th>Size</th><td>2.0 KiB</td></tr>")
	}
}

// The trace's pages are an admin's: a user gets 403, a visitor goes to the login page.
func TestAdminTraceAuditAccess(t *testing.T) {
	u := newTestUI(t)
	addTraceEvents(t, u)
	for _, p := range []string{"/admin/trace", "/admin/trace?to=carol@example.com", "/admin/trace/b1",
		"/admin/audit", "/admin/audit/export"} {
		resp, body := u.get(t, u.User, p)
		wantStatus(t, "user "+p, resp, http.StatusForbidden)
		if strings.Contains(body, "carol@example.com") {
			t.Errorf("user %s: the page shows the log:\n%s", p, body)
		}
		resp, _ = u.get(t, u.client(t), p)
		wantStatus(t, "visitor "+p, resp, http.StatusSeeOther)
		if loc := resp.Header.Get("Location"); loc != "/login" {
			t.Errorf("visitor %s sent to %q", p, loc)
		}
		resp, _ = u.get(t, u.Admin, p)
		wantStatus(t, "admin "+p, resp, http.StatusOK)
	}
	_, body := u.get(t, u.Admin, "/admin/")
	wantContains(t, "nav", body, `<a href="/admin/trace">Trace</a>`, `<a href="/admin/audit">Audit</a>`)
	_, body = u.get(t, u.User, "/account/")
	if strings.Contains(body, `href="/admin/trace"`) {
		t.Error("a user's nav links to the trace")
	}
}

// What a sender chose (its address's quoted local part, the Message-ID, a reply) and a
// mailbox's name are shown as text on both pages, never as markup.
func TestAdminTraceEscapes(t *testing.T) {
	u := newTestUI(t)
	from := `"` + markupScript + `"@example.net`
	if err := u.env.Store.AddMailEvents(t.Context(), []store.MailEvent{
		{Time: time.Now().UTC(), Event: "received", BlobID: "bx", MsgID: markupImg + "@example.net", From: from,
			Rcpt: "alice@example.org", Result: "delivered", Code: "250 " + markupScript, Remote: "192.0.2.1", Size: 10,
			Reasons: "spam(" + markupImg + ")", Mailboxes: []store.MailEventMailbox{{Account: "alice@example.org", Mailbox: markupScript}}},
	}); err != nil {
		t.Fatal(err)
	}
	for _, p := range []string{"/admin/trace", "/admin/trace?to=alice@example.org", "/admin/trace/bx",
		"/admin/trace/" + url.PathEscape(markupScript)} {
		_, body := u.get(t, u.Admin, p)
		wantEscaped(t, p, body)
	}
	_, body := u.get(t, u.Admin, "/admin/trace/bx")
	wantContains(t, "steps", body, "verdict accepted, reasons: spam(&#34;&#39;&gt;&lt;img src=x onerror=alert(1)&gt;)",
		"mailbox &lt;script&gt;alert(1)&lt;/script&gt;")
}

// wantEscaped fails unless body shows the markup of markupScript and markupImg, if at all,
// as text.
func wantEscaped(t *testing.T, what, body string) {
	t.Helper()
	for _, raw := range []string{"<script>", "<img", "onerror=alert(1)>", `"'>`} {
		if strings.Contains(body, raw) {
			t.Fatalf("%s: markup %q not escaped:\n%s", what, raw, body)
		}
	}
	if !strings.Contains(body, "&lt;script&gt;alert(1)&lt;/script&gt;") && !strings.Contains(body, "&lt;img src=x onerror=alert(1)&gt;") {
		t.Fatalf("%s: the markup is not shown as text:\n%s", what, body)
	}
}
