package web

import (
	"bytes"
	"mime/multipart"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"posthorn/internal/store"
)

// TestUnsubscribe: GET shows a button and unsubscribes nobody; the one-click POST of RFC 8058
// (multipart, as the RFC prefers) unsubscribes from every list of the campaign, and a second
// one is fine and records nothing more; nothing is suppressed; a forged token is 404.
func TestUnsubscribe(t *testing.T) {
	e := newPublicEnv(t)
	path := pathOf(t, e.links0(e.carol).UnsubscribeURL())
	resp, body := e.do("GET", path, "", "")
	if resp.StatusCode != 200 || !strings.Contains(body, `<form method="post">`) {
		t.Fatalf("GET = %d %q", resp.StatusCode, body)
	}
	checkPublicHeaders(t, resp)
	if s := e.subscription(e.carol, e.news); s.Status != store.StatusConfirmed {
		t.Fatalf("after GET the subscription is %s", s.Status)
	}
	var buf bytes.Buffer
	mw := multipart.NewWriter(&buf)
	if err := mw.WriteField("List-Unsubscribe", "One-Click"); err != nil {
		t.Fatal(err)
	}
	if err := mw.Close(); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		resp, body := e.do("POST", path, mw.FormDataContentType(), buf.String())
		if resp.StatusCode != 200 || !strings.Contains(body, "Unsubscribed") {
			t.Fatalf("POST %d = %d %q", i+1, resp.StatusCode, body)
		}
	}
	for _, l := range []store.List{e.news, e.letters} {
		if s := e.subscription(e.carol, l); s.Status != store.StatusUnsubscribed || s.Consent.IP != "127.0.0.0" {
			t.Errorf("%s after POST = %+v", l.Name, s)
		}
	}
	if _, held, err := e.cs.IsSuppressed(t.Context(), "carol@remote.example", time.Now()); err != nil || held {
		t.Errorf("suppressed = %v, %v; an unsubscribe from a campaign's lists suppresses nothing", held, err)
	}
	// The page's own form, urlencoded, and an empty POST.
	if resp, _ := e.do("POST", pathOf(t, e.links0(e.dave).UnsubscribeURL()), "application/x-www-form-urlencoded",
		"List-Unsubscribe=One-Click"); resp.StatusCode != 200 {
		t.Errorf("urlencoded POST = %d", resp.StatusCode)
	}
	if s := e.subscription(e.dave, e.news); s.Status != store.StatusUnsubscribed {
		t.Errorf("dave after POST: %s", s.Status)
	}
	if resp, _ := e.do("POST", path, "application/x-www-form-urlencoded", ""); resp.StatusCode != 400 {
		t.Errorf("POST without List-Unsubscribe=One-Click = %d", resp.StatusCode)
	}
	if resp, _ := e.do("POST", "/u/"+alter(strings.TrimPrefix(path, "/u/")), "application/x-www-form-urlencoded",
		"List-Unsubscribe=One-Click"); resp.StatusCode != 404 {
		t.Errorf("altered token POST = %d", resp.StatusCode)
	}
	events := e.recorded()
	if len(events) != 2 || events[0].Kind != store.EventUnsubscribe || events[0].RecipientID != e.carol.ID ||
		events[1].RecipientID != e.dave.ID {
		t.Errorf("events %+v, want one unsubscribe each", events)
	}
}

// TestPreferences: the page lists the subscriptions; leaving one list leaves the other;
// leaving all suppresses the address; a forged token is 404.
func TestPreferences(t *testing.T) {
	e := newPublicEnv(t)
	path := pathOf(t, e.links0(e.carol).PreferencesURL())
	resp, body := e.do("GET", path, "", "")
	if resp.StatusCode != 200 || !strings.Contains(body, "news") || !strings.Contains(body, "letters") ||
		!strings.Contains(body, "carol@remote.example") {
		t.Fatalf("GET = %d %q", resp.StatusCode, body)
	}
	form := url.Values{"action": {"leave"}, "list": {strconv.FormatInt(e.news.ID, 10)}}.Encode()
	if resp, _ := e.do("POST", path, "application/x-www-form-urlencoded", form); resp.StatusCode != 200 {
		t.Fatalf("leave = %d", resp.StatusCode)
	}
	if s := e.subscription(e.carol, e.news); s.Status != store.StatusUnsubscribed {
		t.Errorf("news: %s", s.Status)
	}
	if s := e.subscription(e.carol, e.letters); s.Status != store.StatusConfirmed {
		t.Errorf("letters: %s, want still confirmed", s.Status)
	}
	if _, held, _ := e.cs.IsSuppressed(t.Context(), "carol@remote.example", time.Now()); held {
		t.Error("leaving one list suppressed the address")
	}
	if resp, _ := e.do("POST", path, "application/x-www-form-urlencoded", "action=all"); resp.StatusCode != 200 {
		t.Fatalf("leave all = %d", resp.StatusCode)
	}
	if s := e.subscription(e.carol, e.letters); s.Status != store.StatusUnsubscribed {
		t.Errorf("letters after leave all: %s", s.Status)
	}
	if sup, held, _ := e.cs.IsSuppressed(t.Context(), "carol@remote.example", time.Now()); !held || sup.Reason != store.SuppressUnsubscribe {
		t.Errorf("after leave all: suppression %+v, %v", sup, held)
	}
	if resp, _ := e.do("GET", "/p/"+alter(strings.TrimPrefix(path, "/p/")), "", ""); resp.StatusCode != 404 {
		t.Errorf("altered preferences token = %d", resp.StatusCode)
	}
	if resp, _ := e.do("POST", "/p/"+alter(strings.TrimPrefix(path, "/p/")), "application/x-www-form-urlencoded", "action=all"); resp.StatusCode != 404 {
		t.Errorf("altered preferences POST = %d", resp.StatusCode)
	}
}
