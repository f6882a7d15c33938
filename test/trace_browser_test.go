package test

import (
	"context"
	"net/smtp"
	"slices"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"posthorn/internal/testutil/browser"
)

// Markup a hostile sender puts in the headers of its message.
const hostileHeaders = "From: \"<script>alert(1)</script> \\\"'><img src=x onerror=alert(1)>\" <%s>\r\n" +
	"Subject: <script>alert(1)</script> \"'><img src=x onerror=alert(1)>\r\n"

// TestBrowserTrace: alice submits a message for bob (local) and ann@remote.example (through
// [delivery] smarthost to a sink that answers 451 until it is opened, then the queue is
// retried), and mallory's message reaches alice by MX and goes to Junk (she blocks his
// domain). The admin logs in in chromium, searches /admin/trace by recipient, opens each
// message and sees every step in order; the headers' markup injects nothing into the page.
// Then the audit log, filtered, shows the command line's creation of bob.
func TestBrowserTrace(t *testing.T) {
	t.Parallel()
	sink := startCountingSink(t, 0)
	s := NewServer(t, "[delivery]\nsmarthost = \""+sink.addr+"\"\nretry_min_seconds = 3600\n")
	s.Start()
	s.MustCLI("", "domain", "add", "example.org")
	for _, u := range []string{"alice", "bob"} {
		s.MustCLI(u+" password\n", "user", "add", u+"@example.org", "--password-stdin")
	}
	s.MustCLI("", "user", "admin", "alice@example.org", "on")
	s.MustCLI("", "spam", "block", "add", "alice@example.org", "@spam.example")

	c, err := smtp.Dial(s.Submission)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Auth(smtp.PlainAuth("", "alice@example.org", "alice password", "127.0.0.1")); err != nil {
		t.Fatal(err)
	}
	if err := c.Mail("alice@example.org"); err != nil {
		t.Fatal(err)
	}
	for _, rcpt := range []string{"bob@example.org", "ann@remote.example"} {
		if err := c.Rcpt(rcpt); err != nil {
			t.Fatal(err)
		}
	}
	w, err := c.Data()
	if err != nil {
		t.Fatal(err)
	}
	out := strings.ReplaceAll(hostileHeaders, "%s", "alice@example.org") +
		"To: bob@example.org, ann@remote.example\r\nMessage-ID: <out-1@example.org>\r\n\r\nhello\r\n"
	if _, err := w.Write([]byte(out)); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := c.Quit(); err != nil {
		t.Fatal(err)
	}
	in := strings.ReplaceAll(hostileHeaders, "%s", "mallory@spam.example") +
		"To: alice@example.org\r\nMessage-ID: <in-1@spam.example>\r\n\r\nbuy\r\n"
	if err := smtpTransactionAt(s.SMTP, "mallory@spam.example", "alice@example.org", in); err != nil {
		t.Fatal(err)
	}

	// The first attempt is deferred; then the sink takes the message at the retry.
	waitTraced(t, s, "ann@remote.example", 2)
	sink.mu.Lock()
	sink.open = true
	sink.mu.Unlock()
	s.MustCLI("", "queue", "retry", "--all")
	waitTraced(t, s, "ann@remote.example", 3)
	waitTraced(t, s, "alice@example.org", 1)

	b := browser.New(t)
	web := "http://" + s.HTTP
	b.Do("log in", chromedp.Navigate(web+"/login"),
		chromedp.SendKeys(chromedp.ID("address"), "alice@example.org"),
		chromedp.SendKeys(chromedp.ID("password"), "alice password"),
		chromedp.Click(chromedp.ID("login")), chromedp.WaitVisible(chromedp.ID("logins")))

	for _, tc := range []struct {
		rcpt  string
		steps []string
		// summary is a text the steps show.
		summary string
	}{
		{"ann@remote.example", []string{"received", "stored", "queued", "deferred", "delivered"},
			"delivered to ann@remote.example at "},
		{"alice@example.org", []string{"received", "verdict", "stored"}, "delivered to alice@example.org, mailbox Junk"},
	} {
		b.Do("search for "+tc.rcpt, chromedp.Click(chromedp.CSS(`nav a[href="/admin/trace"]`)),
			chromedp.WaitVisible(chromedp.ID("trace-search")),
			chromedp.SendKeys(chromedp.ID("to"), tc.rcpt), chromedp.Click(chromedp.ID("search")),
			// The page before the search lists every message too: wait for the answer's form,
			// whose field's attribute (not only its value) holds the recipient.
			chromedp.WaitVisible(chromedp.CSS(`#trace-search input[value="`+tc.rcpt+`"]`)),
			chromedp.WaitVisible(chromedp.CSS(`#events a.message`)))
		if loc := b.Location(); !strings.Contains(loc, "to="+strings.ReplaceAll(tc.rcpt, "@", "%40")) {
			t.Fatalf("search page at %s", loc)
		}
		b.Do("open the message to "+tc.rcpt, chromedp.Click(chromedp.CSS(`#events a.message`)),
			chromedp.WaitVisible(chromedp.ID("steps")))
		got := evaluate[[]string](t, b, `Array.from(document.querySelectorAll("#steps td.step-name"), e => e.textContent)`)
		if !slices.Equal(got, tc.steps) {
			t.Errorf("steps of the message to %s: %q, want %q", tc.rcpt, got, tc.steps)
		}
		if text := b.Text("#steps"); !strings.Contains(text, tc.summary) {
			t.Errorf("steps of the message to %s lack %q:\n%s", tc.rcpt, tc.summary, text)
		}
		if n := evaluate[int](t, b, `document.querySelectorAll("script, img, [onerror]").length`); n != 0 {
			t.Errorf("the trace of the message to %s has %d injected elements", tc.rcpt, n)
		}
	}
	if text := b.Text("#steps"); !strings.Contains(text, "verdict junk, reasons: ") || !strings.Contains(text, "block_list") {
		t.Errorf("the verdict lacks its reason:\n%s", text)
	}

	// The audit log has the command line's additions; filtered, only bob's.
	b.Do("filter the audit log", chromedp.Click(chromedp.CSS(`nav a[href="/admin/audit"]`)),
		chromedp.WaitVisible(chromedp.ID("audit-filter")),
		chromedp.SetValue(chromedp.ID("actor_kind"), "cli"),
		chromedp.SendKeys(chromedp.ID("action"), "user.add"), chromedp.SendKeys(chromedp.ID("target"), "bob@example.org"),
		chromedp.Click(chromedp.ID("filter")), chromedp.WaitVisible(chromedp.CSS(`#audit-filter input[value="bob@example.org"]`)))
	rows := evaluate[[]string](t, b, `Array.from(document.querySelectorAll("#audit tbody tr"), r => Array.from(r.cells, c => c.textContent).slice(1, 5).join(" "))`)
	if len(rows) != 1 || !strings.HasPrefix(rows[0], "cli ") || !strings.HasSuffix(rows[0], " user.add bob@example.org") {
		t.Errorf("audit rows %q", rows)
	}
}

// evaluate runs expression in the browser's tab and returns its value.
func evaluate[T any](t *testing.T, b *browser.Browser, expression string) T {
	t.Helper()
	ctx, cancel := context.WithTimeout(b.Context(), browser.StepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expression))
	if err != nil {
		t.Fatalf("evaluate %s: %v", expression, err)
	}
	return v
}
