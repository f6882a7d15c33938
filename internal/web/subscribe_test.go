package web

import (
	"encoding/json"
	"io"
	"mime/quotedprintable"
	"net/url"
	"regexp"
	"strings"
	"testing"

	"posthorn/internal/campaign"
	"posthorn/internal/config"
	"posthorn/internal/store"
)

const jsonType = "application/json"

// subscribeJSONBody is the JSON of a subscription request.
func subscribeJSONBody(t *testing.T, email, name string) string {
	t.Helper()
	b, err := json.Marshal(map[string]string{"email": email, "name": name})
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// confirmPath finds the confirmation link in a mail (its text part is quoted-printable).
func confirmPath(t *testing.T, msg string) string {
	t.Helper()
	_, body, ok := strings.Cut(msg, "\r\n\r\n")
	if !ok {
		t.Fatalf("no body in %q", msg)
	}
	text, err := io.ReadAll(quotedprintable.NewReader(strings.NewReader(body)))
	if err != nil {
		t.Fatal(err)
	}
	m := regexp.MustCompile(regexp.QuoteMeta(publicURL+campaign.PathConfirm) + `[a-z2-7]+`).Find(text)
	if m == nil {
		t.Fatalf("no confirmation link in %q", text)
	}
	return pathOf(t, string(m))
}

func (e *publicEnv) queueLen() int {
	e.t.Helper()
	rows, err := e.Store.(store.QueueStore).ListQueue(e.t.Context())
	if err != nil {
		e.t.Fatal(err)
	}
	return len(rows)
}

// TestSubscribeDoubleOptIn: the form sends exactly one confirmation mail; a second request
// while it is pending sends none; the answer for a subscribed address is the same as for a
// new one; GET of the link confirms nothing, POST confirms with the consent recorded.
func TestSubscribeDoubleOptIn(t *testing.T) {
	e := newPublicEnv(t)
	path := campaign.PathSubscribe + "letters"
	var answers []string
	for range 2 {
		resp, body := e.do("POST", path, jsonType, subscribeJSONBody(t, "bob@example.org", "Bob"))
		if resp.StatusCode != 200 {
			t.Fatalf("subscribe = %d %s", resp.StatusCode, body)
		}
		answers = append(answers, body)
	}
	inbox := e.Mailbox(e.Bob, "INBOX")
	if len(inbox) != 1 {
		t.Fatalf("bob's INBOX has %d messages, want one confirmation", len(inbox))
	}
	// Carol is subscribed to letters already: nothing is sent, and the answer is the same.
	resp, body := e.do("POST", path, jsonType, subscribeJSONBody(t, "carol@remote.example", "Someone else"))
	answers = append(answers, body)
	if resp.StatusCode != 200 || e.queueLen() != 0 {
		t.Fatalf("carol: %d %s, %d queued", resp.StatusCode, body, e.queueLen())
	}
	// A new remote address gets its one mail through the queue.
	_, body = e.do("POST", path, jsonType, subscribeJSONBody(t, "erin@remote.example", ""))
	answers = append(answers, body)
	if n := e.queueLen(); n != 1 {
		t.Errorf("%d queued for erin, want 1", n)
	}
	for _, a := range answers {
		if a != answers[0] || !strings.Contains(a, `"status":"pending"`) {
			t.Errorf("answers differ: %q", answers)
			break
		}
	}
	bob, err := e.cs.GetSubscriber(t.Context(), "bob@example.org")
	if err != nil {
		t.Fatal(err)
	}
	confirm := confirmPath(t, inbox[0])
	if resp, body := e.do("GET", confirm, "", ""); resp.StatusCode != 200 || !strings.Contains(body, `<form method="post">`) {
		t.Fatalf("GET confirm = %d %q", resp.StatusCode, body)
	}
	if s, _ := e.cs.GetSubscription(t.Context(), bob.ID, e.letters.ID); s.Status != store.StatusUnconfirmed {
		t.Fatalf("after GET: %s, want unconfirmed", s.Status)
	}
	if resp, _ := e.do("POST", confirm, "application/x-www-form-urlencoded", "confirm=yes"); resp.StatusCode != 200 {
		t.Fatalf("POST confirm = %d", resp.StatusCode)
	}
	s, _ := e.cs.GetSubscription(t.Context(), bob.ID, e.letters.ID)
	if s.Status != store.StatusConfirmed || s.Consent.Source != store.SourceForm || s.Consent.IP != "127.0.0.0" ||
		!strings.Contains(s.Consent.Text, "bob@example.org") {
		t.Errorf("after POST: %+v", s)
	}
	if resp, _ := e.do("POST", "/s/confirm/"+alter(strings.TrimPrefix(confirm, "/s/confirm/")), "application/x-www-form-urlencoded", ""); resp.StatusCode != 404 {
		t.Errorf("altered confirm = %d", resp.StatusCode)
	}
	// Confirmed: a new request sends nothing.
	e.do("POST", path, jsonType, subscribeJSONBody(t, "bob@example.org", "Bob"))
	if n := len(e.Mailbox(e.Bob, "INBOX")); n != 1 {
		t.Errorf("bob's INBOX has %d messages after subscribing again", n)
	}
}

// TestSubscribeSingleOptIn: a single opt-in list subscribes at once, and never renames an
// existing subscriber.
func TestSubscribeSingleOptIn(t *testing.T) {
	e := newPublicEnv(t)
	form := url.Values{"email": {"dave@remote.example"}, "name": {"Mallory"}}.Encode()
	resp, body := e.do("POST", campaign.PathSubscribe+"news", "application/x-www-form-urlencoded", form)
	if resp.StatusCode != 200 || !strings.Contains(body, "You are subscribed") {
		t.Fatalf("form = %d %q", resp.StatusCode, body)
	}
	if sub, _ := e.cs.GetSubscriber(t.Context(), "dave@remote.example"); sub.Name != "Dave" {
		t.Errorf("dave renamed to %q", sub.Name)
	}
	resp, body = e.do("POST", campaign.PathSubscribe+"news", jsonType, subscribeJSONBody(t, "frank@remote.example", "Frank"))
	if resp.StatusCode != 200 || !strings.Contains(body, `"status":"subscribed"`) {
		t.Fatalf("json = %d %q", resp.StatusCode, body)
	}
	frank, err := e.cs.GetSubscriber(t.Context(), "frank@remote.example")
	if err != nil {
		t.Fatal(err)
	}
	if s, _ := e.cs.GetSubscription(t.Context(), frank.ID, e.news.ID); s.Status != store.StatusConfirmed || s.Consent.Source != store.SourceForm {
		t.Errorf("frank: %+v", s)
	}
	if e.queueLen() != 0 {
		t.Error("a single opt-in list sent a confirmation")
	}
}

// TestSubscribeRefusals: a CRLF in a name is 400 with the field named (JSON and form), an
// unknown list 404, a bad body 400, and over the per-client limit 429.
func TestSubscribeRefusals(t *testing.T) {
	e := newPublicEnv(t, func(c *config.Campaign) { c.FormPerIPPerHour = 4 })
	path := campaign.PathSubscribe + "letters"
	resp, body := e.do("POST", path, jsonType, subscribeJSONBody(t, "eve@remote.example", "Eve\r\nBcc: victim@example.com"))
	var answer struct {
		Error struct{ Code, Message, Field string }
	}
	if err := json.Unmarshal([]byte(body), &answer); err != nil || resp.StatusCode != 400 || answer.Error.Field != "name" ||
		answer.Error.Code != "invalid" {
		t.Errorf("CRLF name = %d %s", resp.StatusCode, body)
	}
	if resp, body := e.do("POST", path, jsonType, subscribeJSONBody(t, "not an address", "")); resp.StatusCode != 400 ||
		!strings.Contains(body, `"field":"email"`) {
		t.Errorf("bad address = %d %s", resp.StatusCode, body)
	}
	if resp, body := e.do("POST", path, "application/x-www-form-urlencoded",
		url.Values{"email": {"eve@remote.example"}, "name": {"<script>alert(1)</script>\r\n"}}.Encode()); resp.StatusCode != 400 ||
		!strings.Contains(body, "Name:") || strings.Contains(body, "<script>") {
		t.Errorf("form CRLF name = %d %q", resp.StatusCode, body)
	}
	if resp, body := e.do("POST", campaign.PathSubscribe+"nosuch", jsonType, subscribeJSONBody(t, "eve@remote.example", "")); resp.StatusCode != 404 ||
		!strings.Contains(body, `"field":"list"`) {
		t.Errorf("unknown list = %d %s", resp.StatusCode, body)
	}
	if resp, _ := e.do("POST", path, jsonType, "{"); resp.StatusCode != 400 {
		t.Errorf("bad JSON = %d", resp.StatusCode)
	}
	resp, body = e.do("POST", path, jsonType, subscribeJSONBody(t, "eve@remote.example", ""))
	if resp.StatusCode != 429 || !strings.Contains(body, `"code":"rate_limited"`) || resp.Header.Get("Retry-After") == "" {
		t.Errorf("fifth counted request = %d %s, want 429", resp.StatusCode, body)
	}
	if e.queueLen() != 0 {
		t.Errorf("%d mails queued by refused requests", e.queueLen())
	}
	if resp, _ := e.do("POST", path, "application/x-www-form-urlencoded", strings.Repeat("a", 2*maxFormBody)); resp.StatusCode < 400 {
		t.Errorf("oversized body = %d", resp.StatusCode)
	}
}

// TestPagesEscape: a list name, a description and a subscriber name with markup are escaped.
func TestPagesEscape(t *testing.T) {
	e := newPublicEnv(t)
	const evil = `<script>alert(1)</script>`
	if _, err := e.svc.CreateList(t.Context(), campaign.ListInput{Name: evil, Description: evil}); err != nil {
		t.Fatal(err)
	}
	resp, body := e.do("GET", campaign.PathSubscribe+url.PathEscape(evil), "", "")
	if resp.StatusCode != 200 || strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("form page = %d %q", resp.StatusCode, body)
	}
	checkPublicHeaders(t, resp)
	if _, err := e.svc.SaveSubscriber(t.Context(), campaign.SubscriberInput{Address: "carol@remote.example", Name: evil}); err != nil {
		t.Fatal(err)
	}
	resp, body = e.do("GET", pathOf(t, e.links0(e.carol).ViewURL()), "", "")
	if resp.StatusCode != 200 || strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("view = %d %q", resp.StatusCode, body)
	}
	if resp, _ := e.do("GET", campaign.PathSubscribe+"nosuch", "", ""); resp.StatusCode != 404 {
		t.Errorf("form of an unknown list = %d", resp.StatusCode)
	}
}
