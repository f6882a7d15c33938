package test

import (
	"fmt"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"posthorn/internal/testutil/dnstest"
)

// zoneTXT renders a TXT record in zone-file syntax, split into strings of at most 255 octets
// (RFC 1035 §3.3.14), as a 2048-bit DKIM key needs.
func zoneTXT(name, value string) string {
	var parts []string
	for len(value) > 255 {
		parts = append(parts, `"`+value[:255]+`"`)
		value = value[255:]
	}
	parts = append(parts, `"`+value+`"`)
	return fmt.Sprintf("%s. 300 IN TXT %s", name, strings.Join(parts, " "))
}

// waitUntil polls cond every 100 ms until it holds, failing the test after timeout.
func waitUntil(t *testing.T, timeout time.Duration, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(timeout)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out after %v waiting for %s", timeout, what)
		}
		time.Sleep(100 * time.Millisecond)
	}
}

// portOf returns the port of a host:port address.
func portOf(t *testing.T, addr string) string {
	t.Helper()
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatal(err)
	}
	return port
}

// newSender prepares server A: the domain a.example with alice@a.example (password "alice
// password"), resolving through dnsAddr and delivering to port; extra is more TOML. The caller
// starts it.
func newSender(t *testing.T, dnsAddr, port, extra string) *Server {
	t.Helper()
	a := NewServer(t, fmt.Sprintf("[dns]\nresolver = %q\n[delivery]\nport = %s\n%s", dnsAddr, port, extra))
	a.MustCLI("", "domain", "add", "a.example")
	a.MustCLI("alice password\n", "user", "add", "alice@a.example", "--password-stdin")
	return a
}

// newReceiver starts server B for b.example with bob@b.example; extra is more TOML.
func newReceiver(t *testing.T, dnsAddr, extra string) *Server {
	t.Helper()
	b := NewServer(t, fmt.Sprintf("[dns]\nresolver = %q\n%s", dnsAddr, extra))
	b.MustCLI("", "domain", "add", "b.example")
	b.MustCLI("bob password\n", "user", "add", "bob@b.example", "--password-stdin")
	b.Start()
	return b
}

// submitAsAlice submits a message from alice@a.example through A's submission listener (swaks,
// AUTH PLAIN) and fails the test if it is refused.
func submitAsAlice(t *testing.T, a *Server, to string, args ...string) {
	t.Helper()
	args = append([]string{"--auth", "PLAIN", "--auth-user", "alice@a.example", "--auth-password", "alice password",
		"--from", "alice@a.example", "--to", to}, args...)
	if out, code := submitSwaks(t, a.Submission, args...); code != 0 {
		t.Fatalf("swaks: exit %d\n%s", code, out)
	}
}

// TestQueueBetweenTwoServers: mail submitted to server A (swaks, AUTH PLAIN) for two recipients
// at server B's domain goes through A's outbound queue (MX lookup in a test DNS server, SMTP to
// B's port). The one B accepts arrives in its INBOX with A's two DKIM signatures, which B's own
// verification and Debian's dkimpy both find valid; the one B refuses (550) comes back to the
// sender as an RFC 3464 notice in A's INBOX.
func TestQueueBetweenTwoServers(t *testing.T) {
	requireTool(t, "python3")
	dns := dnstest.Start(t, map[string][]string{
		"b.example.":        {"b.example. 300 IN MX 10 mx.b.example."},
		"mx.b.example.":     {"mx.b.example. 300 IN A 127.0.0.1"},
		"a.example.":        {`a.example. 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"`, "a.example. 300 IN MX 10 mx.a.example."},
		"mx.a.example.":     {"mx.a.example. 300 IN A 127.0.0.1"},
		"_dmarc.a.example.": {`_dmarc.a.example. 300 IN TXT "v=DMARC1; p=reject"`},
	})
	b := newReceiver(t, dns.Addr, "")
	a := newSender(t, dns.Addr, portOf(t, b.SMTP), "retry_min_seconds = 1\nretry_max_seconds = 2\n")
	records := dkimRecords(t, a.MustCLI("", "domain", "dns", "a.example"))
	for name, value := range records {
		dns.Add(t, zoneTXT(name, value))
	}
	a.Start()

	submitAsAlice(t, a, "bob@b.example,nobody@b.example", "--header", "Subject: across the queue")

	waitUntil(t, 30*time.Second, "the message in B's INBOX", func() bool { return len(b.Inbox("bob@b.example")) == 1 })
	msg := b.Inbox("bob@b.example")[0]
	if !strings.Contains(msg, "Subject: across the queue") {
		t.Fatalf("B received:\n%s", msg)
	}
	if verdict := dkimpy(t, msg, records); verdict != "True True" {
		t.Errorf("dkimpy: %q, want both signatures valid\n%s", verdict, msg)
	}
	if ar := regexp.MustCompile(`(?m)^Authentication-Results: mx\.test\.example;.*(\r?\n[ \t].*)*`).FindString(msg); !strings.Contains(ar, "dkim=pass") {
		t.Errorf("B's Authentication-Results does not say dkim=pass: %q\n%s", ar, msg)
	}

	waitUntil(t, 30*time.Second, "the failure notice in A's INBOX", func() bool { return len(a.Inbox("alice@a.example")) == 1 })
	dsn := a.Inbox("alice@a.example")[0]
	for _, want := range []string{"multipart/report; report-type=delivery-status", "Content-Type: message/delivery-status",
		"Final-Recipient: rfc822; nobody@b.example", "Action: failed", "Status: 5.1.1", "Subject: across the queue"} {
		if !strings.Contains(dsn, want) {
			t.Errorf("notice lacks %q:\n%s", want, dsn)
		}
	}
	if strings.Contains(dsn, "Final-Recipient: rfc822; bob@b.example") {
		t.Errorf("notice reports the delivered recipient:\n%s", dsn)
	}
	waitUntil(t, 10*time.Second, "an empty queue", func() bool {
		return strings.HasSuffix(a.MustCLI("", "queue", "list"), "0 queued\n")
	})
	if err := a.Stop(); err != nil {
		t.Errorf("A stopped with %v\n%s", err, a.Log())
	}
}

// TestQueueAdmin: a message for a destination that does not answer stays queued, deferred; the
// queue commands show, hold, release, retry and delete it, refuse unknown ids clearly, and the
// metrics count it.
func TestQueueAdmin(t *testing.T) {
	dns := dnstest.Start(t, map[string][]string{
		"down.example.":    {"down.example. 300 IN MX 10 mx.down.example."},
		"mx.down.example.": {"mx.down.example. 300 IN A 127.0.0.1"},
	})
	closed := freePort(t) // nothing listens there
	a := newSender(t, dns.Addr, portOf(t, closed), "retry_min_seconds = 3600\n")
	a.Start()
	submitAsAlice(t, a, "carol@down.example")
	var id string
	waitUntil(t, 20*time.Second, "a deferred row", func() bool {
		out := a.MustCLI("", "queue", "list")
		m := regexp.MustCompile(`(?m)^(\d+)\s+deferred\s+1\s`).FindStringSubmatch(out)
		if m != nil {
			id = m[1]
		}
		return m != nil && strings.Contains(out, "<carol@down.example>") && strings.HasSuffix(out, "1 queued\n")
	})
	show := a.MustCLI("", "queue", "show", id)
	for _, want := range []string{"state:", "deferred", "<alice@a.example>", "<carol@down.example>", "attempts:", "last error:", "connect"} {
		if !strings.Contains(show, want) {
			t.Errorf("queue show lacks %q:\n%s", want, show)
		}
	}
	metrics := httpGet(t, "http://"+a.HTTP+"/metrics")
	if v := metricValue(metrics, `posthorn_queue_messages{state="deferred"}`); v != "1" {
		t.Errorf("posthorn_queue_messages deferred = %q, want 1", v)
	}
	if v := metricValue(metrics, `posthorn_queue_deliveries_total{result="deferred"}`); v == "" || v == "0" {
		t.Errorf("posthorn_queue_deliveries_total deferred = %q", v)
	}
	if out := a.MustCLI("", "queue", "hold", id); out != "held "+id+"\n" {
		t.Errorf("hold: %q", out)
	}
	if out := a.MustCLI("", "queue", "list"); !regexp.MustCompile(`(?m)^` + id + `\s+held\s`).MatchString(out) {
		t.Errorf("list after hold:\n%s", out)
	}
	a.MustCLI("", "queue", "release", id)
	if out := a.MustCLI("", "queue", "retry", id); out != "queued for retry "+id+"\n" {
		t.Errorf("retry: %q", out)
	}
	waitUntil(t, 20*time.Second, "the retried attempt", func() bool {
		return strings.Contains(a.MustCLI("", "queue", "show", id), "attempts:       2")
	})
	for _, args := range [][]string{{"show", "999"}, {"hold", "999"}, {"delete", "999"}} {
		_, errOut, code := a.CLI("", append([]string{"queue"}, args...)...)
		if code != 1 || !strings.Contains(errOut, "no queued message with id 999") {
			t.Errorf("queue %v: exit %d, %q", args, code, errOut)
		}
	}
	if _, errOut, code := a.CLI("", "queue", "show", "abc"); code != 1 || !strings.Contains(errOut, "want a positive number") {
		t.Errorf("queue show abc: exit %d, %q", code, errOut)
	}
	if out := a.MustCLI("", "queue", "delete", id); out != "deleted "+id+"\n" {
		t.Errorf("delete: %q", out)
	}
	if out := a.MustCLI("", "queue", "list"); !strings.HasSuffix(out, "0 queued\n") {
		t.Errorf("list after delete:\n%s", out)
	}
	if err := a.Stop(); err != nil {
		t.Fatal(err)
	}
	if out := a.MustCLI("", "check"); !strings.Contains(out, "ok") {
		t.Errorf("check after delete: %s", out)
	}
}

// TestQueueRetriesThroughGreylisting: server B greylists (451 4.7.1 until 2 s after the first
// try); server A's queue retries with backoff and the message arrives exactly once.
func TestQueueRetriesThroughGreylisting(t *testing.T) {
	dns := dnstest.Start(t, map[string][]string{
		"b.example.":    {"b.example. 300 IN MX 10 mx.b.example."},
		"mx.b.example.": {"mx.b.example. 300 IN A 127.0.0.1"},
		"a.example.":    {`a.example. 300 IN TXT "v=spf1 ip4:127.0.0.1 -all"`},
	})
	b := newReceiver(t, dns.Addr, "[filter]\nexempt_networks = []\n[filter.greylist]\nenabled = true\ndelay_seconds = 2\n")
	a := newSender(t, dns.Addr, portOf(t, b.SMTP), "retry_min_seconds = 1\nretry_max_seconds = 2\n")
	a.Start()
	submitAsAlice(t, a, "bob@b.example", "--header", "Subject: greylisted")
	waitUntil(t, 30*time.Second, "the message in B's INBOX", func() bool { return len(b.Inbox("bob@b.example")) >= 1 })
	waitUntil(t, 10*time.Second, "an empty queue at A", func() bool {
		return strings.HasSuffix(a.MustCLI("", "queue", "list"), "0 queued\n")
	})
	time.Sleep(2 * time.Second) // a wrong second copy would come within the retry interval
	if n := len(b.Inbox("bob@b.example")); n != 1 {
		t.Errorf("B's INBOX has %d copies, want exactly 1", n)
	}
	log := a.WaitLog("the delivered record", func(log string) bool { return strings.Contains(log, "event=delivered") })
	deferred := strings.Count(log, "event=deferred")
	if deferred < 1 || !strings.Contains(log, "451 4.7.1") {
		t.Errorf("A's mail log shows %d deferrals, want at least one 451 4.7.1 from greylisting:\n%s", deferred, log)
	}
}
