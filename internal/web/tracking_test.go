package web

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"posthorn/internal/campaign/machine"
	"posthorn/internal/campaign/render"
	"posthorn/internal/campaign/token"
	"posthorn/internal/store"
)

// checkPublicHeaders checks the headers every public response carries.
func checkPublicHeaders(t *testing.T, resp *http.Response) {
	t.Helper()
	h := resp.Header
	if h.Get("X-Content-Type-Options") != "nosniff" || h.Get("Referrer-Policy") != "no-referrer" ||
		!strings.Contains(h.Get("Content-Security-Policy"), "frame-ancestors 'none'") {
		t.Errorf("%s: security headers %v", resp.Request.URL.Path, h)
	}
}

// TestPixel: the pixel is the same 43-byte GIF, uncached, for a valid, an altered and a
// forged token; only the valid one is recorded, and that of a recipient without tracking
// consent names nobody.
func TestPixel(t *testing.T) {
	e := newPublicEnv(t)
	carol := pathOf(t, e.links0(e.carol).OpenURL())
	dave := pathOf(t, e.links0(e.dave).OpenURL())
	tok := strings.TrimSuffix(strings.TrimPrefix(carol, "/t/o/"), ".gif")
	for _, path := range []string{carol, "/t/o/" + alter(tok) + ".gif", "/t/o/aaaaaaaaaaaaaaaaaaaaaaaa.gif", "/t/o/x", dave} {
		resp, body := e.do("GET", path, "", "")
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/gif" || len(body) != 43 ||
			!bytes.Equal([]byte(body), transparentGIF) || !strings.Contains(resp.Header.Get("Cache-Control"), "no-cache") {
			t.Errorf("GET %s = %d %q %q", path, resp.StatusCode, resp.Header.Get("Content-Type"), body)
		}
		checkPublicHeaders(t, resp)
	}
	events := e.recorded()
	if len(events) != 2 {
		t.Fatalf("recorded %+v, want carol's open and an anonymous one", events)
	}
	c, d := events[0], events[1]
	if c.Kind != store.EventOpen || c.RecipientID != e.carol.ID || c.Machine || c.IP != "127.0.0.0" ||
		!strings.Contains(c.UserAgent, "Firefox") || c.LinkIndex != -1 {
		t.Errorf("carol's open = %+v", c)
	}
	if d.Kind != store.EventOpen || d.RecipientID != 0 || d.UserAgent != "" || d.IP != "" || d.CampaignID != e.camp.ID {
		t.Errorf("dave's open (no tracking consent) = %+v, want one naming nobody", d)
	}
}

// TestClick: a click redirects to its link and is recorded; an altered, forged or replayed
// token (one signed for another URL, or naming a link the campaign has not) gets 404 and no
// redirect.
func TestClick(t *testing.T) {
	e := newPublicEnv(t)
	l := e.links0(e.carol)
	resp, _ := e.do("GET", pathOf(t, l.ClickURL(2, e.links[1])), "", "")
	if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != e.links[1] {
		t.Fatalf("click = %d, Location %q", resp.StatusCode, resp.Header.Get("Location"))
	}
	checkPublicHeaders(t, resp)
	tok := strings.TrimPrefix(pathOf(t, l.ClickURL(1, e.links[0])), "/t/c/")
	for name, path := range map[string]string{
		"altered":        "/t/c/" + alter(tok),
		"truncated":      "/t/c/" + tok[:len(tok)-2],
		"forged":         "/t/c/aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa",
		"other target":   pathOf(t, l.ClickURL(1, "https://evil.example/")),
		"unknown link":   pathOf(t, l.ClickURL(7, "https://evil.example/")),
		"other kind":     "/t/c/" + e.signer.SignView(token.Recipient{Campaign: e.camp.ID, Recipient: e.carol.ID}),
		"other campaign": "/t/c/" + e.signer.SignClick(token.Click{Campaign: e.camp.ID + 1, Recipient: 1, Link: 1}, e.links[0]),
	} {
		resp, body := e.do("GET", path, "", "")
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Location") != "" {
			t.Errorf("%s: GET %s = %d, Location %q", name, path, resp.StatusCode, resp.Header.Get("Location"))
		}
		if !strings.Contains(body, "not valid") {
			t.Errorf("%s: body %q", name, body)
		}
	}
	events := e.recorded()
	if len(events) != 1 {
		t.Fatalf("recorded %+v, want one click", events)
	}
	if c := events[0]; c.Kind != store.EventClick || c.LinkIndex != 2 || c.RecipientID != e.carol.ID || c.Machine {
		t.Errorf("click = %+v", c)
	}
}

// TestMachineEvents: each machine rule reaches the stored event with its reason.
func TestMachineEvents(t *testing.T) {
	for _, c := range []struct {
		name   string
		method string
		agent  string
		open   bool
		link   int
		queued bool // the ledger row was queued just now
		reason machine.Reason
	}{
		{name: "apple proxy open", method: "GET", agent: "Mozilla/5.0", open: true, reason: machine.ReasonAppleProxy},
		{name: "google proxy open", method: "GET", agent: "Mozilla/5.0 (via ggpht.com GoogleImageProxy)", open: true, reason: machine.ReasonGoogleProxy},
		{name: "apple agent click", method: "GET", agent: "Mozilla/5.0", link: 1, reason: machine.ReasonScannerAgent},
		{name: "head", method: "HEAD", link: 1, reason: machine.ReasonHead},
		{name: "honeypot", method: "GET", link: render.HoneypotLink, reason: machine.ReasonHoneypot},
		{name: "scanner window", method: "GET", link: 1, queued: true, reason: machine.ReasonAfterDelivery},
		{name: "curl", method: "GET", agent: "curl/8.5.0", link: 2, reason: machine.ReasonScannerAgent},
	} {
		t.Run(c.name, func(t *testing.T) {
			e := newPublicEnv(t)
			if c.queued {
				if err := e.cs.SetRecipientState(t.Context(), e.carol.ID, store.RecipientQueued); err != nil {
					t.Fatal(err)
				}
			}
			var header []string
			if c.agent != "" {
				header = append(header, "User-Agent: "+c.agent)
			}
			l := e.links0(e.carol)
			if c.open {
				e.do(c.method, pathOf(t, l.OpenURL()), "", "", header...)
			} else {
				target := ""
				switch c.link {
				case render.HoneypotLink:
					// The honeypot points at the view URL under the configured public URL.
					target = l.ViewURL()
					target = publicURL + pathOf(t, target)
				default:
					target = e.links[c.link-1]
				}
				resp, _ := e.do(c.method, pathOf(t, l.ClickURL(c.link, target)), "", "", header...)
				if resp.StatusCode != http.StatusFound || resp.Header.Get("Location") != target {
					t.Fatalf("%s = %d, Location %q; want a redirect to %s", c.method, resp.StatusCode, resp.Header.Get("Location"), target)
				}
			}
			events := e.recorded()
			if len(events) != 1 || !events[0].Machine || events[0].Reason != string(c.reason) {
				t.Fatalf("recorded %+v, want one machine event, %s", events, c.reason)
			}
		})
	}
}

// TestLinkBurst: every link of a message clicked at once is a scanner: the second click is
// machine (the burst), the first was not yet.
func TestLinkBurst(t *testing.T) {
	e := newPublicEnv(t)
	l := e.links0(e.carol)
	for i, target := range e.links {
		e.do("GET", pathOf(t, l.ClickURL(i+1, target)), "", "")
	}
	events := e.recorded()
	if len(events) != 2 || events[0].Machine || !events[1].Machine || events[1].Reason != string(machine.ReasonLinkBurst) {
		t.Fatalf("recorded %+v", events)
	}
}

// TestView: the message in a browser, personalised, under a policy that forbids scripts; a
// forged token gets 404.
func TestView(t *testing.T) {
	e := newPublicEnv(t)
	resp, body := e.do("GET", pathOf(t, e.links0(e.carol).ViewURL()), "", "")
	if resp.StatusCode != 200 || !strings.Contains(body, "Hello Carol") {
		t.Fatalf("view = %d %q", resp.StatusCode, body)
	}
	if csp := resp.Header.Get("Content-Security-Policy"); !strings.Contains(csp, "script-src 'none'") {
		t.Errorf("CSP %q", csp)
	}
	checkPublicHeaders(t, resp)
	if resp, _ := e.do("GET", "/t/v/"+alter(strings.TrimPrefix(pathOf(t, e.links0(e.carol).ViewURL()), "/t/v/")), "", ""); resp.StatusCode != 404 {
		t.Errorf("altered view = %d", resp.StatusCode)
	}
	if events := e.recorded(); len(events) != 0 {
		t.Errorf("a view recorded %+v", events)
	}
}

// TestEventBatches: a flood of pixel fetches is written in a few transactions.
func TestEventBatches(t *testing.T) {
	e := newPublicEnv(t)
	path := pathOf(t, e.links0(e.carol).OpenURL())
	const fetches = 300
	for range fetches {
		e.do("GET", path, "", "")
	}
	events := e.recorded()
	if len(events) != fetches {
		t.Fatalf("recorded %d events, want %d", len(events), fetches)
	}
	if e.rec.batches > fetches/10 {
		t.Errorf("%d fetches cost %d transactions", fetches, e.rec.batches)
	}
}

// TestClickOnlyHTTP: a link table entry that is not an http(s) URL is never redirected to.
func TestClickOnlyHTTP(t *testing.T) {
	e := newPublicEnv(t)
	const bad = "javascript:alert(1)"
	if err := e.cs.SetCampaignLinks(t.Context(), e.camp.ID, []string{"", bad}); err != nil {
		t.Fatal(err)
	}
	resp, _ := e.do("GET", pathOf(t, e.links0(e.carol).ClickURL(1, bad)), "", "")
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("Location") != "" {
		t.Errorf("click to %s = %d, Location %q", bad, resp.StatusCode, resp.Header.Get("Location"))
	}
}
