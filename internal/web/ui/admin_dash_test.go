package ui

import (
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"posthorn/internal/store"
)

// wantAdminOnly checks that a user gets 403 on the admin page path and a visitor is sent to
// /login.
func (u *testUI) wantAdminOnly(t *testing.T, path string) {
	t.Helper()
	resp, _ := u.get(t, u.User, path)
	wantStatus(t, "user "+path, resp, http.StatusForbidden)
	resp, _ = u.get(t, u.client(t), path)
	wantStatus(t, "visitor "+path, resp, http.StatusSeeOther)
	if loc := resp.Header.Get("Location"); loc != "/login" {
		t.Errorf("visitor %s sent to %q", path, loc)
	}
}

// addCampaign stores c as it is (the campaign service's checks aside).
func (u *testUI) addCampaign(t *testing.T, c store.Campaign) store.Campaign {
	t.Helper()
	c, err := u.env.Store.CreateCampaign(t.Context(), c)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// addDashEvents records, in the current hour, mail log events and campaign events of c.
func (u *testUI) addDashEvents(t *testing.T, c store.Campaign) {
	t.Helper()
	now := time.Now()
	if err := u.env.Store.AddMailEvents(t.Context(), []store.MailEvent{
		{Time: now, Event: "received", Result: "delivered", Reasons: "spam-score(6.1)",
			Mailboxes: []store.MailEventMailbox{{Account: userAddress, Mailbox: "Junk"}}},
		{Time: now, Event: "received", Result: "delivered"},
		{Time: now, Event: "delivered", Result: "delivered"},
		{Time: now, Event: "rejected", Result: "unknown-user"},
		{Time: now, Event: "rejected", Result: "unknown-user"},
		{Time: now, Event: "rejected", Result: "virus", Reasons: "virus(Eicar-Signature)"},
	}); err != nil {
		t.Fatal(err)
	}
	ev := func(kind store.EventKind, machine bool) store.Event {
		return store.Event{CampaignID: c.ID, Kind: kind, LinkIndex: -1, Machine: machine, At: now}
	}
	if err := u.env.Store.AddEvents(t.Context(), []store.Event{
		ev(store.EventDelivered, false), ev(store.EventDelivered, false), ev(store.EventOpen, false),
		ev(store.EventOpen, true), ev(store.EventOpen, true), ev(store.EventBounce, false), ev(store.EventUnsubscribe, false),
	}); err != nil {
		t.Fatal(err)
	}
}

var barValue = regexp.MustCompile(`<rect class="bar series-(\d+)"[^>]* data-value="(\d+)"><title>[^<]*: ([^<]*) \d+</title>`)

// bars returns the chart id's bars of page: series name → the sum of its values.
func bars(t *testing.T, page, id string) map[string]string {
	t.Helper()
	start := strings.Index(page, `id="`+id+`"`)
	if start < 0 {
		t.Fatalf("no chart %s in\n%s", id, page)
	}
	svg := page[start : start+strings.Index(page[start:], "</svg>")]
	out := map[string]string{}
	for _, m := range barValue.FindAllStringSubmatch(svg, -1) {
		out[m[3]] = m[2]
	}
	return out
}

func TestDashboard(t *testing.T) {
	u := newTestUI(t)
	u.addDashEvents(t, u.addCampaign(t, store.Campaign{Name: "June"}))
	resp, body := u.get(t, u.Admin, "/admin/")
	wantStatus(t, "dashboard", resp, http.StatusOK)
	wantContains(t, "dashboard", body, "Logged in as <strong>"+adminAddress,
		`<option value="24" selected>`, "<th>Received</th><td>2 (1 mailbox copies)",
		"<th>Rejected</th><td>3 (", "<th>Spam, viruses</th><td>1, 1", "<th>Campaign opens</th><td>1 people, 2 machines",
		`href="/admin/campaigns"`)
	for _, id := range []string{"chart-messages", "chart-rejections", "chart-filter", "chart-queue", "chart-engagement", "chart-campaign-mail"} {
		wantContains(t, "dashboard", body, `<svg xmlns="http://www.w3.org/2000/svg" class="chart"`, `id="`+id+`"`)
	}
	if got := bars(t, body, "chart-rejections"); got["unknown-user"] != "2" || got["virus"] != "1" || len(got) != 2 {
		t.Errorf("rejection bars %v", got)
	}
	if got := bars(t, body, "chart-engagement"); got["opens, people"] != "1" || got["opens, machines"] != "2" || len(got) != 2 {
		t.Errorf("engagement bars %v", got)
	}
	// The queue is empty: its chart says so.
	queue := body[strings.Index(body, `id="chart-queue"`):]
	wantContains(t, "queue chart", queue[:strings.Index(queue, "</svg>")], ">no data</text>")
	if strings.Contains(body, "style=") {
		t.Error("a style attribute in the dashboard (the CSP refuses it)")
	}

	resp, body = u.get(t, u.Admin, "/admin/?hours=100")
	wantStatus(t, "100 hours", resp, http.StatusOK)
	wantContains(t, "100 hours", body, `<option value="100" selected>`, "<th>Received</th><td>2 (")
	for _, bad := range []string{"0", "721", "week"} {
		resp, body = u.get(t, u.Admin, "/admin/?hours="+bad)
		wantStatus(t, "hours="+bad, resp, http.StatusBadRequest)
		wantContains(t, "hours="+bad, body, `data-field="hours"`, "want a whole number from 1 to 720")
	}
	u.wantAdminOnly(t, "/admin/")
}

// TestCampaignPages: the list with each campaign's numbers, one campaign's numbers and charts;
// a hostile name and subject stay text on both pages.
func TestCampaignPages(t *testing.T) {
	u := newTestUI(t)
	name := `<script>alert(1)</script>"'`
	subject := `<img src=x onerror=alert(2)> <b>News</b> & more`
	u.addDashEvents(t, u.addCampaign(t, store.Campaign{Name: name, Subject: subject}))
	escapedName := "&lt;script&gt;alert(1)&lt;/script&gt;&#34;&#39;"
	escapedSubject := "&lt;img src=x onerror=alert(2)&gt; &lt;b&gt;News&lt;/b&gt; &amp; more"
	checkEscaped := func(what, body string) {
		t.Helper()
		wantContains(t, what, body, escapedName, escapedSubject)
		for _, raw := range []string{"<script>alert", "<img src=x", "<b>News"} {
			if strings.Contains(body, raw) {
				t.Errorf("%s: %q is in the page unescaped", what, raw)
			}
		}
	}

	resp, body := u.get(t, u.Admin, "/admin/campaigns")
	wantStatus(t, "campaigns", resp, http.StatusOK)
	checkEscaped("campaigns", body)
	wantContains(t, "campaigns", body, `href="/admin/campaigns/1"`, `<td class="status-draft">draft</td>`)

	resp, body = u.get(t, u.Admin, "/admin/campaigns/1")
	wantStatus(t, "campaign", resp, http.StatusOK)
	checkEscaped("campaign", body)
	wantContains(t, "campaign", body, "<title>Campaign "+escapedName+" · posthorn</title>",
		"<th>Opens</th><td>1 by people, 2 by machines", "<th>Unsubscribes</th><td>1 (")
	if got := bars(t, body, "chart-opens"); got["people"] != "1" || got["machines"] != "2" {
		t.Errorf("opens bars %v", got)
	}
	if got := bars(t, body, "chart-delivered"); got["delivered"] != "2" {
		t.Errorf("delivered bars %v", got)
	}
	if got := bars(t, body, "chart-feedback"); got["bounces"] != "1" || got["unsubscribes"] != "1" || len(got) != 2 {
		t.Errorf("feedback bars %v", got)
	}
	if strings.Contains(body, "style=") {
		t.Error("a style attribute in the campaign page")
	}

	for _, path := range []string{"/admin/campaigns/99", "/admin/campaigns/x", "/admin/campaigns/-1"} {
		resp, body = u.get(t, u.Admin, path)
		wantStatus(t, path, resp, http.StatusNotFound)
		wantContains(t, path, body, `data-field="campaign"`, "unknown campaign")
	}
	u.wantAdminOnly(t, "/admin/campaigns")
	u.wantAdminOnly(t, "/admin/campaigns/1")
}

// TestCampaignPagesEmpty: no campaigns, and a campaign without events: empty charts.
func TestCampaignPagesEmpty(t *testing.T) {
	u := newTestUI(t)
	_, body := u.get(t, u.Admin, "/admin/campaigns")
	wantContains(t, "no campaigns", body, "No campaigns yet")
	u.addCampaign(t, store.Campaign{Name: "quiet"})
	resp, body := u.get(t, u.Admin, "/admin/campaigns/1")
	wantStatus(t, "quiet campaign", resp, http.StatusOK)
	if n := strings.Count(body, ">no data</text>"); n != 4 {
		t.Errorf("%d empty charts, want 4", n)
	}
}
