package test

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/mail"
	"net/smtp"
	"reflect"
	"regexp"
	"strings"
	"testing"
	"time"

	"posthorn/internal/campaign"
	"posthorn/internal/campaign/token"
	"posthorn/internal/store"
)

// Parameters of TestCampaignEndToEnd.
const (
	e2eSubscribers   = 1000
	e2eTempfail      = 50 // answered 450 for good: they stay deferred
	e2eRefused       = 30 // answered 550 5.1.1: hard bounces
	e2eLate          = 2  // answered 450 until the campaign has settled, then taken
	e2ePublicURL     = "https://news.test.example"
	e2eAbuseAddress  = "fbl@test.example"
	e2eScannerWindow = 3 * time.Second
	// What a browser and Apple Mail Privacy Protection's proxy send as User-Agent (the proxy:
	// the bare "Mozilla/5.0", see internal/campaign/machine).
	e2eBrowserAgent = "Mozilla/5.0 (Macintosh; Intel Mac OS X 14_5) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.5 Safari/605.1.15"
	e2eAppleProxy   = "Mozilla/5.0"
)

// e2eLinks are the tracked links of the campaign's HTML, by their text; link index i+1 is
// e2eLinks[i] (render indexes static links in order of appearance, from 1).
var e2eLinks = []struct{ text, url string }{
	{"One", "https://example.com/one"},
	{"Two", "https://example.com/two"},
	{"Three", "https://example.com/three"},
}

// rcpt is the address of subscriber i.
func rcpt(i int) string { return fmt.Sprintf("r%d@sink.example", i) }

// TestCampaignEndToEnd sends a tracked campaign to 1,000 subscribers imported by the CLI through
// the built binary's queue to a smarthost sink that answers 50 of them 450 (they stay
// deferred), 30 of them 550 5.1.1 (hard bounces) and two 450 until the campaign has settled.
// From the messages the sink kept it then opens the pixel as a browser and as Apple's privacy
// proxy, follows links as a person (after the scanner window) and as a scanner (one second
// after the delivery of the two late messages), clicks the honeypot, POSTs the one-click
// unsubscribe for some and GETs it for others, sends a DSN to one recipient's VERP address and an
// ARF abuse report to the abuse address, and checks that the campaign's stats are exactly what
// it did, that the suppression ledger holds the refused, the DSN's and the complainer's
// addresses, and that only the POSTs unsubscribed.
func TestCampaignEndToEnd(t *testing.T) {
	t.Parallel()
	var tempfail, refused, late []string
	for i := range e2eTempfail + e2eRefused + e2eLate {
		switch {
		case i < e2eTempfail:
			tempfail = append(tempfail, rcpt(i))
		case i < e2eTempfail+e2eRefused:
			refused = append(refused, rcpt(i))
		default:
			late = append(late, rcpt(i))
		}
	}
	sink := startCampaignSink(t, append(append([]string{}, tempfail...), late...), refused)
	s := NewServer(t, fmt.Sprintf("[delivery]\nsmarthost = %q\nretry_min_seconds = 3600\nretry_max_seconds = 7200\n"+
		"[limits]\nsend_per_hour = 0\nsend_per_day = 0\n"+
		"[campaign]\npublic_url = %q\nabuse_address = %q\nscanner_window_seconds = %d\n",
		sink.addr, e2ePublicURL, e2eAbuseAddress, int(e2eScannerWindow/time.Second)))
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("server log:\n%s", s.Log())
		}
	})
	s.MustCLI("", "domain", "add", "test.example")
	s.MustCLI("", "list", "create", "news")
	var csv strings.Builder
	csv.WriteString("email,name\n")
	for i := range e2eSubscribers {
		fmt.Fprintf(&csv, "%s,Reader %d\n", rcpt(i), i)
	}
	people := writeFile(t, s.Dir, "people.csv", csv.String())
	if out := s.MustCLI("", "subscriber", "import", people, "--list", "news", "--tracking"); !strings.Contains(out,
		fmt.Sprintf("imported %d of %d rows", e2eSubscribers, e2eSubscribers)) {
		t.Fatalf("import: %s", out)
	}
	var body strings.Builder
	body.WriteString("<html><body><p>Hello {{.Name}},</p><p>")
	for _, l := range e2eLinks {
		fmt.Fprintf(&body, `<a href="%s">%s</a> `, l.url, l.text)
	}
	body.WriteString(`</p><p><a href="{{unsubscribe_url}}">Unsubscribe</a></p></body></html>`)
	s.MustCLI("", "template", "add", "monthly", "--subject", "News for {{.Name}}", "--html",
		writeFile(t, s.Dir, "monthly.html", body.String()))
	s.MustCLI("", "campaign", "create", "june", "--from", "News <news@test.example>", "--list", "news", "--template", "monthly")
	if out := s.MustCLI("", "campaign", "start", "1"); out != fmt.Sprintf("started campaign 1: %d recipients\n", e2eSubscribers) {
		t.Fatalf("start: %q", out)
	}
	s.Start()
	const id = 1

	// The ledger settles: every row delivered, deferred or bounced, none pending or queued.
	waitUntil(t, 90*time.Second, "the campaign's ledger to settle", func() bool {
		st := campaignStats(t, s, id)
		return st.Pending == 0 && st.Queued == 0 && st.Delivered+st.Deferred+st.Bounced.Total == e2eSubscribers
	})
	accepted, _ := sink.counts()
	if want := e2eSubscribers - e2eTempfail - e2eRefused - e2eLate; accepted != want {
		t.Fatalf("the sink accepted %d messages, want %d", accepted, want)
	}
	e := newCampaignE2E(t, s, sink)
	e.checkMessages()
	tl := newCampaignTally()

	// The late messages are taken now; a click one second after each delivery is a scanner's.
	sink.accept(late...)
	for _, a := range late {
		e.retry(a)
	}
	for _, a := range late {
		delivered := e.waitDelivered(a)
		time.Sleep(time.Until(delivered.Add(time.Second)))
		e.click(a, 1, e2eBrowserAgent)
		if since := time.Since(delivered); since >= e2eScannerWindow {
			t.Fatalf("the click of %s came %v after its delivery, not within the scanner window %v: the machine is too slow for this test",
				a, since, e2eScannerWindow)
		}
		tl.click(a, 1, true)
	}

	// Opens: a browser's (human), Apple's privacy proxy's (machine); some twice.
	for i := 100; i < 110; i++ {
		for range 1 + btoi(i < 102) {
			e.open(rcpt(i), e2eBrowserAgent)
			tl.open(rcpt(i), false)
		}
	}
	for _, i := range []int{100, 110, 111, 112, 113, 114} {
		e.open(rcpt(i), e2eAppleProxy)
		tl.open(rcpt(i), true)
	}

	// Clicks of people: after the scanner window from each one's delivery.
	type humanClick struct {
		who  string
		link int
	}
	var humans []humanClick
	for i := 120; i < 126; i++ {
		humans = append(humans, humanClick{rcpt(i), i%len(e2eLinks) + 1})
	}
	humans = append(humans, humanClick{rcpt(120), 120%len(e2eLinks) + 1}, humanClick{rcpt(121), 122%len(e2eLinks) + 1})
	var notBefore time.Time
	for _, h := range humans {
		if at := e.deliveredAt(h.who).Add(e2eScannerWindow + 500*time.Millisecond); at.After(notBefore) {
			notBefore = at
		}
	}
	time.Sleep(time.Until(notBefore))
	for _, h := range humans {
		e.click(h.who, h.link, e2eBrowserAgent)
		tl.click(h.who, h.link, false)
	}
	// The hidden honeypot link: whatever follows it is a machine.
	e.click(rcpt(126), 0, e2eBrowserAgent)
	tl.click(rcpt(126), 0, true)

	// Unsubscribe: the one-click POST (twice for one: idempotent), and GETs that only show a page.
	var posted, got []string
	for i := 130; i < 135; i++ {
		posted = append(posted, rcpt(i))
		e.unsubscribePost(rcpt(i))
	}
	e.unsubscribePost(rcpt(130))
	for i := 135; i < 140; i++ {
		got = append(got, rcpt(i))
		e.unsubscribeGet(rcpt(i))
	}

	// A DSN to a delivered recipient's VERP address, and an ARF report about another.
	dsnRcpt, complainer := rcpt(140), rcpt(150)
	e.sendDSN(dsnRcpt)
	e.sendARF(complainer)

	want := campaignStatsJSON{
		CampaignID: id, Name: "june", Status: "finished", Recipients: e2eSubscribers,
		Sent:      e2eSubscribers,
		Delivered: int64(accepted + len(late) - 1), // the DSN's recipient bounced after its delivery
		Deferred:  int64(len(tempfail)),
		Bounced:   campaignBounces{Total: int64(len(refused) + 1), Hard: int64(len(refused) + 1)},
		Opens:     tl.opens.want(), Clicks: tl.clicks.want(), HoneypotClicks: tl.honeypot,
		Unsubscribes: int64(len(posted)), Complaints: 1,
	}
	for i, l := range e2eLinks {
		want.Links = append(want.Links, campaignLinkStats{Index: i + 1, URL: l.url, Clicks: tl.links[i+1].want()})
	}
	want.Rates = campaignRates{
		Delivery:    fraction(want.Delivered, want.Sent),
		Open:        fraction(want.Opens.UniqueHuman, want.Delivered),
		Click:       fraction(want.Clicks.UniqueHuman, want.Delivered),
		Unsubscribe: fraction(want.Unsubscribes, want.Delivered),
		Complaint:   fraction(want.Complaints, want.Delivered),
	}
	want.MachineRates = campaignMachineRates{Open: fraction(want.Opens.UniqueMachine, want.Delivered),
		Click: fraction(want.Clicks.UniqueMachine, want.Delivered)}
	e.checkStats(id, want)

	wantSuppressed := map[string]string{dsnRcpt: "hard_bounce", complainer: "complaint"}
	for _, a := range refused {
		wantSuppressed[a] = "hard_bounce"
	}
	if got := suppressions(t, s); !reflect.DeepEqual(got, wantSuppressed) {
		t.Errorf("suppressed %v\nwant %v", got, wantSuppressed)
	}
	status := subscriptionStatus(t, s, "news")
	for i := range e2eSubscribers {
		a, want := rcpt(i), "confirmed"
		for _, p := range posted {
			if p == a {
				want = "unsubscribed"
			}
		}
		if status[a] != want {
			t.Errorf("%s is %q on news, want %q", a, status[a], want)
		}
	}
	if _, dups := sink.counts(); dups != 0 {
		t.Errorf("the sink got %d copies twice", dups)
	}
}

// campaignE2E is the running TestCampaignEndToEnd: the server, the sink, the campaign's token
// signer (to read the recipient of a VERP address), and an HTTP client that does not follow
// redirects.
type campaignE2E struct {
	t      *testing.T
	s      *Server
	sink   *campaignSink
	signer token.Signer
	client *http.Client
	token  string // an admin token of the JSON API
}

func newCampaignE2E(t *testing.T, s *Server, sink *campaignSink) *campaignE2E {
	t.Helper()
	d := s.openData()
	defer d.Close()
	signer, err := (&campaign.Service{Store: d.Store.(store.CampaignStore)}).Signer(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	tok := regexp.MustCompile(`ph_\d+_[a-z2-7]+`).FindString(s.MustCLI("", "token", "create", "--admin", "e2e"))
	if tok == "" {
		t.Fatal("token create printed no token")
	}
	return &campaignE2E{t: t, s: s, sink: sink, signer: signer, token: tok,
		client: &http.Client{Timeout: 30 * time.Second,
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// e2eMessage is what a campaign message carries for its recipient.
type e2eMessage struct {
	header      mail.Header
	verp        string         // the envelope sender
	pixel       string         // the open pixel's URL
	links       map[int]string // tracked link URLs by index; 0 is the honeypot
	unsubscribe string         // the https URL of List-Unsubscribe
}

// anchorPattern finds the anchors of the HTML part: the href and the text.
var anchorPattern = regexp.MustCompile(`<a\s[^>]*?href="([^"]*)"[^>]*>([^<]*)</a>`)

// imgPattern finds the open pixel.
var imgPattern = regexp.MustCompile(`<img\s[^>]*?src="([^"]*/t/o/[^"]*)"`)

// listUnsubscribeHTTPS is the https URI of List-Unsubscribe (RFC 2369).
var listUnsubscribeHTTPS = regexp.MustCompile(`<(https?://[^>]+)>`)

// message reads the message the sink took for a.
func (e *campaignE2E) message(a string) e2eMessage {
	e.t.Helper()
	sm, ok := e.sink.message(a)
	if !ok {
		e.t.Fatalf("the sink has no message for %s", a)
	}
	msg, err := mail.ReadMessage(bytes.NewReader(sm.raw))
	if err != nil {
		e.t.Fatalf("message for %s: %v", a, err)
	}
	m := e2eMessage{header: msg.Header, verp: sm.from, links: map[int]string{}}
	html := htmlPart(e.t, msg)
	if p := imgPattern.FindStringSubmatch(html); p != nil {
		m.pixel = p[1]
	}
	for _, l := range anchorPattern.FindAllStringSubmatch(html, -1) {
		if !strings.Contains(l[1], campaign.PathClick) {
			continue
		}
		if l[2] == "" {
			m.links[0] = l[1]
		}
		for i, want := range e2eLinks {
			if l[2] == want.text {
				m.links[i+1] = l[1]
			}
		}
	}
	if u := listUnsubscribeHTTPS.FindStringSubmatch(msg.Header.Get("List-Unsubscribe")); u != nil {
		m.unsubscribe = u[1]
	}
	return m
}

// htmlPart returns the decoded text/html part of a multipart/alternative message.
func htmlPart(t *testing.T, msg *mail.Message) string {
	t.Helper()
	mt, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || !strings.HasPrefix(mt, "multipart/") {
		t.Fatalf("content type %q: %v", msg.Header.Get("Content-Type"), err)
	}
	r := multipart.NewReader(msg.Body, params["boundary"])
	for {
		p, err := r.NextPart() // decodes quoted-printable
		if err != nil {
			t.Fatalf("no text/html part: %v", err)
		}
		if strings.HasPrefix(p.Header.Get("Content-Type"), "text/html") {
			b, err := io.ReadAll(p)
			if err != nil {
				t.Fatal(err)
			}
			return string(b)
		}
	}
}

// checkMessages checks what every accepted message carries: a VERP envelope sender of its own
// that names its recipient, the pixel, every link and the honeypot under the public URL, and
// List-Unsubscribe with its one-click POST, under the DKIM signature.
func (e *campaignE2E) checkMessages() {
	e.t.Helper()
	verps := map[string]string{}
	e.sink.mu.Lock()
	var addrs []string
	for a := range e.sink.got {
		addrs = append(addrs, a)
	}
	e.sink.mu.Unlock()
	for _, a := range addrs {
		m := e.message(a)
		if other, ok := verps[m.verp]; ok {
			e.t.Fatalf("%s and %s share the envelope sender %s", a, other, m.verp)
		}
		verps[m.verp] = a
		if got := m.header.Get("To"); !strings.Contains(got, a) {
			e.t.Fatalf("message for %s is to %q", a, got)
		}
		if m.pixel == "" || len(m.links) != len(e2eLinks)+1 || m.unsubscribe == "" {
			e.t.Fatalf("message for %s: pixel %q, links %v, List-Unsubscribe %q", a, m.pixel, m.links,
				m.header.Get("List-Unsubscribe"))
		}
		for _, u := range append([]string{m.pixel, m.unsubscribe}, m.links[0], m.links[1]) {
			if !strings.HasPrefix(u, e2ePublicURL+"/") {
				e.t.Fatalf("message for %s links to %s, not under %s", a, u, e2ePublicURL)
			}
		}
		if got := m.header.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
			e.t.Fatalf("message for %s: List-Unsubscribe-Post %q", a, got)
		}
		if sig := strings.ToLower(strings.Join(strings.Fields(m.header.Get("DKIM-Signature")), "")); !strings.Contains(sig, "list-unsubscribe:list-unsubscribe-post") &&
			!(strings.Contains(sig, "list-unsubscribe") && strings.Contains(sig, "list-unsubscribe-post")) {
			e.t.Fatalf("message for %s: DKIM-Signature %q does not cover List-Unsubscribe", a, m.header.Get("DKIM-Signature"))
		}
	}
}

// recipientID is the send-ledger row of a, read from its message's VERP address.
func (e *campaignE2E) recipientID(a string) int64 {
	e.t.Helper()
	m := e.message(a)
	addr, ok := token.ParseAddress(m.verp)
	if !ok || addr.Kind != token.KindBounce || addr.Domain != "test.example" {
		e.t.Fatalf("envelope sender %q of %s is no VERP address of test.example", m.verp, a)
	}
	r, err := e.signer.VerifyBounce(addr.Token)
	if err != nil || r.Campaign != 1 || r.Recipient == 0 {
		e.t.Fatalf("VERP token of %s: %+v, %v", a, r, err)
	}
	return r.Recipient
}

// ledgerRow reads a ledger row from the data directory.
func (e *campaignE2E) ledgerRow(id int64) store.Recipient {
	e.t.Helper()
	d := e.s.openData()
	defer d.Close()
	r, err := d.Store.(store.CampaignStore).GetRecipient(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return r
}

// deliveredAt is when a's message was reported delivered: its ledger row's time, which the
// tracker measures clicks from.
func (e *campaignE2E) deliveredAt(a string) time.Time {
	e.t.Helper()
	r := e.ledgerRow(e.recipientID(a))
	if r.State != store.RecipientDelivered {
		e.t.Fatalf("%s is %s, want delivered", a, r.State)
	}
	return r.UpdatedAt
}

// waitDelivered waits for a's ledger row to be delivered and returns when it was.
func (e *campaignE2E) waitDelivered(a string) time.Time {
	e.t.Helper()
	var id int64
	var row store.Recipient
	waitUntil(e.t, 30*time.Second, a+" delivered", func() bool {
		if _, ok := e.sink.message(a); !ok {
			return false
		}
		if id == 0 {
			id = e.recipientID(a)
		}
		row = e.ledgerRow(id)
		return row.State == store.RecipientDelivered
	})
	return row.UpdatedAt
}

// retry makes the queue try a's message again now.
func (e *campaignE2E) retry(a string) {
	e.t.Helper()
	for _, line := range strings.Split(e.s.MustCLI("", "queue", "list"), "\n") {
		if f := strings.Fields(line); len(f) > 0 && strings.Contains(line, "<"+a+">") {
			e.s.MustCLI("", "queue", "retry", f[0])
			return
		}
	}
	e.t.Fatalf("%s is not in the queue", a)
}

// local maps a public URL onto the server's HTTP listener (what the proxy in front would do).
func (e *campaignE2E) local(u string) string {
	return "http://" + e.s.HTTP + strings.TrimPrefix(u, e2ePublicURL)
}

// request makes an HTTP request with a user agent and returns the status, a header and the body.
func (e *campaignE2E) request(method, u, agent, contentType, body string) (*http.Response, string) {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.local(u), strings.NewReader(body))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("User-Agent", agent)
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return resp, string(b)
}

// open fetches a's open pixel.
func (e *campaignE2E) open(a, agent string) {
	e.t.Helper()
	resp, body := e.request("GET", e.message(a).pixel, agent, "", "")
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "image/gif" || len(body) == 0 {
		e.t.Fatalf("pixel of %s: %d %q", a, resp.StatusCode, resp.Header.Get("Content-Type"))
	}
}

// click follows a's link (0: the honeypot) and checks the redirect to its target.
func (e *campaignE2E) click(a string, link int, agent string) {
	e.t.Helper()
	m := e.message(a)
	resp, _ := e.request("GET", m.links[link], agent, "", "")
	want := "" // the honeypot's target is the view URL
	if link > 0 {
		want = e2eLinks[link-1].url
	}
	if loc := resp.Header.Get("Location"); resp.StatusCode != http.StatusFound || (want != "" && loc != want) || loc == "" {
		e.t.Fatalf("link %d of %s: %d to %q, want a redirect to %q", link, a, resp.StatusCode, loc, want)
	}
}

// unsubscribePost is the one-click unsubscribe of RFC 8058 §3.2.
func (e *campaignE2E) unsubscribePost(a string) {
	e.t.Helper()
	resp, body := e.request("POST", e.message(a).unsubscribe, e2eBrowserAgent, "application/x-www-form-urlencoded",
		"List-Unsubscribe=One-Click")
	if resp.StatusCode != 200 {
		e.t.Fatalf("one-click unsubscribe of %s: %d %s", a, resp.StatusCode, body)
	}
}

// unsubscribeGet follows the unsubscribe link, as a scanner or a person's browser does: a page
// with a button.
func (e *campaignE2E) unsubscribeGet(a string) {
	e.t.Helper()
	resp, body := e.request("GET", e.message(a).unsubscribe, e2eBrowserAgent, "", "")
	if resp.StatusCode != 200 || !strings.Contains(strings.ToLower(body), "<form") {
		e.t.Fatalf("GET of the unsubscribe link of %s: %d\n%s", a, resp.StatusCode, body)
	}
}

// headerBlock is the header of a's message as the sink took it.
func (e *campaignE2E) headerBlock(a string) string {
	sm, _ := e.sink.message(a)
	h, _, _ := bytes.Cut(sm.raw, []byte("\r\n\r\n"))
	return string(h) + "\r\n"
}

// sendDSN sends the sink's DSN (RFC 3464) of a failed delivery to a, at a's VERP address, to the
// server's MX from the null reverse-path.
func (e *campaignE2E) sendDSN(a string) {
	e.t.Helper()
	verp := e.message(a).verp
	msg := "From: Mail Delivery System <MAILER-DAEMON@mx.sink.example>\r\n" +
		"To: " + verp + "\r\n" +
		"Subject: Undelivered Mail Returned to Sender\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=delivery-status; boundary=\"dsn-b\"\r\n\r\n" +
		"--dsn-b\r\nContent-Type: text/plain\r\n\r\nYour message could not be delivered: the mailbox is gone.\r\n" +
		"--dsn-b\r\nContent-Type: message/delivery-status\r\n\r\n" +
		"Reporting-MTA: dns; mx.sink.example\r\n\r\n" +
		"Final-Recipient: rfc822; " + a + "\r\nAction: failed\r\nStatus: 5.1.1\r\n" +
		"Diagnostic-Code: smtp; 550 5.1.1 <" + a + ">: user unknown\r\n" +
		"--dsn-b\r\nContent-Type: text/rfc822-headers\r\n\r\n" + e.headerBlock(a) +
		"--dsn-b--\r\n"
	e.sendMX("", verp, msg)
}

// sendARF sends a provider's abuse report (RFC 5965) about a's message to the abuse address,
// with the reported message's header as the mailbox got it (Return-Path added at delivery).
func (e *campaignE2E) sendARF(a string) {
	e.t.Helper()
	verp := e.message(a).verp
	msg := "From: Feedback Loop <fbl@provider.example>\r\n" +
		"To: " + e2eAbuseAddress + "\r\n" +
		"Subject: Abuse report\r\n" +
		"MIME-Version: 1.0\r\n" +
		"Content-Type: multipart/report; report-type=feedback-report; boundary=\"arf-b\"\r\n\r\n" +
		"--arf-b\r\nContent-Type: text/plain\r\n\r\nThis is an email abuse report for a message received from you.\r\n" +
		"--arf-b\r\nContent-Type: message/feedback-report\r\n\r\n" +
		"Feedback-Type: abuse\r\nUser-Agent: ProviderFBL/1.0\r\nVersion: 1\r\n" +
		"Original-Mail-From: <" + verp + ">\r\nOriginal-Rcpt-To: <" + a + ">\r\n" +
		"Arrival-Date: " + time.Now().UTC().Format(time.RFC1123Z) + "\r\n\r\n" +
		"--arf-b\r\nContent-Type: text/rfc822-headers\r\n\r\n" +
		"Return-Path: <" + verp + ">\r\n" + e.headerBlock(a) +
		"--arf-b--\r\n"
	e.sendMX("fbl@provider.example", e2eAbuseAddress, msg)
}

// sendMX sends msg to the server's MX in one SMTP transaction that must be accepted.
func (e *campaignE2E) sendMX(from, to, msg string) {
	e.t.Helper()
	if err := smtpTransactionAt(e.s.SMTP, from, to, msg); err != nil {
		e.t.Fatalf("send to %s: %v", to, err)
	}
}

func smtpTransactionAt(addr, from, to, msg string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Hello("mx.sink.example"); err != nil {
		return err
	}
	if err := smtpTransaction(c, from, to, msg); err != nil {
		return err
	}
	return c.Quit()
}

// apiStats reads campaign id's numbers from the JSON API (GET /api/v1/campaigns/{id}/stats),
// which must be exactly what `posthorn campaign stats ID --json` prints.
func (e *campaignE2E) apiStats(id int64) campaignStatsJSON {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), "GET", fmt.Sprintf("http://%s/api/v1/campaigns/%d/stats", e.s.HTTP, id), nil)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+e.token)
	resp, err := e.client.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil || resp.StatusCode != http.StatusOK {
		e.t.Fatalf("GET stats: %d %v\n%s", resp.StatusCode, err, body)
	}
	return decodeCampaignStats(e.t, "GET stats", string(body))
}

// checkStats polls the campaign's stats until they are want (events are recorded in batches,
// within a second or so) and fails with both when they do not become so.
func (e *campaignE2E) checkStats(id int64, want campaignStatsJSON) {
	e.t.Helper()
	var got campaignStatsJSON
	deadline := time.Now().Add(30 * time.Second)
	for {
		got = e.apiStats(id)
		hours := got.Hours
		got.Hours = nil
		if reflect.DeepEqual(got, want) {
			var sum campaignHour
			for _, h := range hours {
				sum.Opens.Human += h.Opens.Human
				sum.Opens.Machine += h.Opens.Machine
				sum.Clicks.Human += h.Clicks.Human
				sum.Clicks.Machine += h.Clicks.Machine
			}
			if sum.Opens.Human != want.Opens.Human || sum.Opens.Machine != want.Opens.Machine ||
				sum.Clicks.Human != want.Clicks.Human || sum.Clicks.Machine != want.Clicks.Machine {
				e.t.Errorf("hours %+v do not add up to the opens and clicks", hours)
			}

			e.t.Logf("stats: sent %d, delivered %d, deferred %d, bounced %+v, opens %+v, clicks %+v (honeypot %d), links %+v, unsubscribes %d, complaints %d",
				got.Sent, got.Delivered, got.Deferred, got.Bounced, got.Opens, got.Clicks, got.HoneypotClicks, got.Links,
				got.Unsubscribes, got.Complaints)
			return
		}
		if time.Now().After(deadline) {
			g, _ := json.MarshalIndent(got, "", "  ")
			w, _ := json.MarshalIndent(want, "", "  ")
			e.t.Fatalf("campaign stats:\n%s\nwant:\n%s", g, w)
		}
		time.Sleep(200 * time.Millisecond)
	}
}
