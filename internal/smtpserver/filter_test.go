package smtpserver

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"posthorn/internal/dns"
	"posthorn/internal/filter"
	"posthorn/internal/mailauth"
	"posthorn/internal/maillog"
	"posthorn/internal/testutil/clamdtest"
	"posthorn/internal/testutil/dnstest"
)

// logBuffer collects mail log lines.
type logBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *logBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *logBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// filterHarness is a harness whose server runs f and writes its mail log to the returned buffer.
func filterHarness(t *testing.T, f *filter.Filter) (*harness, *logBuffer) {
	t.Helper()
	mailLog := &logBuffer{}
	if f.Logger == nil {
		f.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	h := newHarness(t, func(s *Server) {
		s.Filter = f
		s.MailLog = maillog.New(slog.New(slog.NewTextHandler(mailLog, nil)))
	})
	return h, mailLog
}

// sendMessage runs one transaction with msg (CRLF lines, no final dot) and expects want after
// the data.
func (c *conn) sendMessage(from, rcpt, msg, want string) []string {
	c.t.Helper()
	c.cmd("MAIL FROM:<"+from+">", "250 ")
	c.cmd("RCPT TO:<"+rcpt+">", "250 ")
	c.cmd("DATA", "354 ")
	lines := strings.Split(strings.TrimRight(strings.ReplaceAll(msg, "\r\n", "\n"), "\n"), "\n")
	for _, l := range lines {
		if strings.HasPrefix(l, ".") {
			l = "." + l
		}
		c.send(l)
	}
	c.send(".")
	return c.expect(want)
}

func readSample(t *testing.T, clamd *clamdtest.Server, name string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(clamd.Samples, name))
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestVirusScanningOverSMTP: clamd from Debian with the shared test signatures. The EICAR file,
// plain and zipped, is refused with 554 5.7.1, the signature in the mail log and not in the
// reply; a clean message is delivered; with clamd stopped the sender is told to retry (451), or,
// failing open, the message is marked.
func TestVirusScanningOverSMTP(t *testing.T) {
	clamd := clamdtest.Start(t)
	f := &filter.Filter{Clamd: &filter.Clamd{Address: clamd.Address, Timeout: 5 * time.Second}}
	h, mailLog := filterHarness(t, f)
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	for _, sample := range []string{"eicar-attachment.eml", "eicar-zip-attachment.eml"} {
		reply := c.sendMessage("a@remote.example", "alice@example.org", readSample(t, clamd, sample), "554 5.7.1 ")
		if strings.Contains(strings.Join(reply, " "), "EICAR") {
			t.Fatalf("reply names the signature: %q", reply)
		}
	}
	c.sendMessage("a@remote.example", "alice@example.org", readSample(t, clamd, "clean.eml"), "250 ")
	if got := h.bodies("alice@example.org"); len(got) != 1 || !strings.Contains(got[0], "Subject: clean") && !strings.Contains(got[0], "clean") {
		t.Fatalf("stored %d messages", len(got))
	}
	log := mailLog.String()
	if strings.Count(log, "result=virus") != 2 || !strings.Contains(log, "reasons=virus(Posthorn.Test.EICAR") {
		t.Fatalf("mail log:\n%s", log)
	}

	clamd.Stop()
	c.sendMessage("a@remote.example", "alice@example.org", readSample(t, clamd, "clean.eml"), "451 4.7.1 ")
	if n := len(h.bodies("alice@example.org")); n != 1 {
		t.Fatalf("message stored while clamd was down: %d", n)
	}
	f.ClamdFailOpen = true
	c.sendMessage("a@remote.example", "alice@example.org", readSample(t, clamd, "clean.eml"), "250 ")
	got := h.bodies("alice@example.org")
	if len(got) != 2 || !strings.HasPrefix(got[1], "X-Posthorn-Virus-Scan: unavailable\r\nReceived: from client.example") {
		t.Fatalf("fail-open message: %q", got[len(got)-1])
	}
}

func TestAttachmentPolicyOverSMTP(t *testing.T) {
	h, mailLog := filterHarness(t, &filter.Filter{Attachments: &filter.AttachmentPolicy{}})
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	msg := "Subject: invoice\r\nMIME-Version: 1.0\r\nContent-Type: multipart/mixed; boundary=B\r\n\r\n" +
		"--B\r\nContent-Type: text/plain\r\n\r\nplease run\r\n" +
		"--B\r\nContent-Type: application/octet-stream\r\nContent-Disposition: attachment; filename=\"invoice.pdf.exe\"\r\nContent-Transfer-Encoding: base64\r\n\r\nTVqQAAMAAAAEAAAA//8AALgAAAAAAAAAQAAAAAAAAAAAAAAA\r\n--B--\r\n"
	reply := c.sendMessage("a@remote.example", "alice@example.org", msg, "554 5.7.1 ")
	if !strings.Contains(reply[0], "attachment type not allowed") {
		t.Fatalf("reply %q", reply)
	}
	if !strings.Contains(mailLog.String(), `reasons="attachment-executable(invoice.pdf.exe by extension)"`) {
		t.Fatalf("mail log:\n%s", mailLog)
	}
	c.sendMessage("a@remote.example", "alice@example.org", "Subject: fine\r\n\r\nno attachment\r\n", "250 ")
	if got := h.bodies("alice@example.org"); len(got) != 1 {
		t.Fatalf("stored %d", len(got))
	}
}

// authDNS publishes the policies of two sender domains that allow no server at all: bank.example
// rejects what fails DMARC, shop.example quarantines it.
func authDNS(t *testing.T) dns.Resolver {
	srv := dnstest.Start(t, map[string][]string{
		"bank.example.":        {`bank.example. 300 IN TXT "v=spf1 -all"`},
		"_dmarc.bank.example.": {`_dmarc.bank.example. 300 IN TXT "v=DMARC1; p=reject"`},
		"shop.example.":        {`shop.example. 300 IN TXT "v=spf1 -all"`},
		"_dmarc.shop.example.": {`_dmarc.shop.example. 300 IN TXT "v=DMARC1; p=quarantine"`},
		"ok.example.":          {`ok.example. 300 IN TXT "v=spf1 ip4:127.0.0.0/8 -all"`},
		"_dmarc.ok.example.":   {`_dmarc.ok.example. 300 IN TXT "v=DMARC1; p=reject"`},
	})
	return dns.New(srv.Addr)
}

func authFilter(t *testing.T) *filter.Filter {
	v := &mailauth.Verifier{Resolver: authDNS(t), Hostname: "mx.example.org", Percent: func() int { return 0 }}
	return &filter.Filter{Auth: filter.MailAuth{Verifier: v}}
}

// TestDMARCOverSMTP: SPF at MAIL FROM and DMARC at the end of data, with mailauth over a real
// DNS server: p=reject gives 550 5.7.1 (or Junk when softened), p=quarantine Junk, a pass INBOX,
// each stored copy with our Authentication-Results on top.
func TestDMARCOverSMTP(t *testing.T) {
	f := authFilter(t)
	h, mailLog := filterHarness(t, f)
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	c.sendMessage("ceo@bank.example", "alice@example.org", "From: ceo@bank.example\r\nSubject: wire\r\n\r\npay now\r\n", "550 5.7.1 ")
	c.sendMessage("deals@shop.example", "alice@example.org", "From: deals@shop.example\r\nSubject: sale\r\n\r\ncheap\r\n", "250 ")
	c.sendMessage("news@ok.example", "alice@example.org", "From: news@ok.example\r\nSubject: news\r\n\r\nhello\r\n", "250 ")
	junk := h.mailboxBodies("alice@example.org", "Junk")
	inbox := h.bodies("alice@example.org")
	if len(junk) != 1 || !strings.Contains(junk[0], "Subject: sale") || len(inbox) != 1 || !strings.Contains(inbox[0], "Subject: news") {
		t.Fatalf("junk %q\ninbox %q", junk, inbox)
	}
	for _, m := range append(junk, inbox...) {
		if !strings.HasPrefix(m, "Authentication-Results: mx.example.org") || !strings.Contains(m, "\r\nReceived: from client.example") {
			t.Fatalf("stored message does not start with our Authentication-Results:\n%s", m)
		}
	}
	if !strings.Contains(inbox[0], "spf=pass") {
		t.Fatalf("SPF pass not recorded:\n%s", inbox[0])
	}
	log := mailLog.String()
	for _, want := range []string{"result=dmarc-reject", "code=\"550 5.7.1\"", "result=junk", "reasons=dmarc-quarantine"} {
		if !strings.Contains(log, want) {
			t.Errorf("mail log lacks %s:\n%s", want, log)
		}
	}
	// Softened: what p=reject refuses goes to Junk.
	f.DMARCRejectToJunk = true
	c.sendMessage("ceo@bank.example", "alice@example.org", "From: ceo@bank.example\r\nSubject: wire 2\r\n\r\npay now\r\n", "250 ")
	if junk := h.mailboxBodies("alice@example.org", "Junk"); len(junk) != 2 || !strings.Contains(junk[1], "Subject: wire 2") {
		t.Fatalf("softened reject not in Junk: %d", len(junk))
	}
}

// TestForgedAuthResultsRemoved: a sender cannot claim our verification (RFC 8601 §5); other
// hosts' Authentication-Results stay.
func TestForgedAuthResultsRemoved(t *testing.T) {
	h, _ := filterHarness(t, authFilter(t))
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	c.sendMessage("news@ok.example", "alice@example.org", "Authentication-Results: mx.example.org; dmarc=pass header.from=bank.example\r\n"+
		"Authentication-Results: relay.other.example; spf=pass smtp.mailfrom=ok.example\r\nFrom: news@ok.example\r\nSubject: forged\r\n\r\nhello\r\n", "250 ")
	got := h.bodies("alice@example.org")
	if len(got) != 1 {
		t.Fatalf("stored %d", len(got))
	}
	if strings.Count(got[0], "Authentication-Results: mx.example.org") != 1 || strings.Contains(got[0], "header.from=bank.example") {
		t.Fatalf("forged Authentication-Results kept:\n%s", got[0])
	}
	if !strings.Contains(got[0], "Authentication-Results: relay.other.example;") {
		t.Fatalf("another host's Authentication-Results removed:\n%s", got[0])
	}
}

// junkFor is a spam classifier that sends the copies of some accounts to Junk.
type junkFor map[int64]bool

func (j junkFor) Classify(ctx context.Context, accounts []int64, r io.ReaderAt, size int64, in filter.SpamInput) ([]filter.SpamResult, []error) {
	results := make([]filter.SpamResult, len(accounts))
	for i, acc := range accounts {
		results[i] = filter.SpamResult{Action: filter.Accept}
		if j[acc] {
			results[i] = filter.SpamResult{Action: filter.Junk, Score: 0.99, Reason: "spam-score"}
		}
	}
	return results, make([]error, len(accounts))
}

// TestSpamRoutesPerAccount: one message to two accounts, Junk for the one whose model says so.
func TestSpamRoutesPerAccount(t *testing.T) {
	var f filter.Filter
	h, _ := filterHarness(t, &f)
	alice, err := h.store.GetAccount(context.Background(), "alice@example.org")
	if err != nil {
		t.Fatal(err)
	}
	f.Spam = junkFor{alice.ID: true}
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	c.sendMessage("a@remote.example", "team@example.org", "Subject: offer\r\n\r\nbuy\r\n", "250 ")
	if len(h.mailboxBodies("alice@example.org", "Junk")) != 1 || len(h.bodies("alice@example.org")) != 0 {
		t.Fatal("alice's copy not in Junk")
	}
	if len(h.bodies("bob@example.org")) != 1 || len(h.mailboxBodies("bob@example.org", "Junk")) != 0 {
		t.Fatal("bob's copy not in INBOX")
	}
	// A deleted Junk mailbox is created again rather than failing the delivery.
	if _, err := h.store.DeleteMailbox(context.Background(), alice.ID, "Junk"); err != nil {
		t.Fatal(err)
	}
	c.sendMessage("a@remote.example", "alice@example.org", "Subject: offer 2\r\n\r\nbuy\r\n", "250 ")
	if got := h.mailboxBodies("alice@example.org", "Junk"); len(got) != 1 {
		t.Fatalf("Junk after re-creation has %d", len(got))
	}
	// A renamed \Junk mailbox keeps receiving junk under its new name.
	if err := h.store.RenameMailbox(context.Background(), alice.ID, "Junk", "Spam"); err != nil {
		t.Fatal(err)
	}
	c.sendMessage("a@remote.example", "alice@example.org", "Subject: offer 3\r\n\r\nbuy\r\n", "250 ")
	if got := h.mailboxBodies("alice@example.org", "Spam"); len(got) != 2 || !strings.Contains(got[1], "Subject: offer 3") {
		t.Fatalf("renamed Junk has %d", len(got))
	}
}

func TestGreylistingOverSMTP(t *testing.T) {
	now := time.Now()
	var mu sync.Mutex
	g := &filter.Greylist{Delay: 5 * time.Minute, Expiry: 24 * time.Hour, Now: func() time.Time { mu.Lock(); defer mu.Unlock(); return now }}
	f := &filter.Filter{Greylist: g}
	h, mailLog := filterHarness(t, f)
	g.Store = h.store.(greylistStore)
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	c.cmd("MAIL FROM:<a@remote.example>", "250 ")
	c.cmd("RCPT TO:<alice@example.org>", "451 4.7.1 ")
	c.cmd("RSET", "250 ")
	mu.Lock()
	now = now.Add(6 * time.Minute)
	mu.Unlock()
	c.sendMessage("a@remote.example", "alice@example.org", "Subject: retry\r\n\r\nx\r\n", "250 ")
	if !strings.Contains(mailLog.String(), "event=tempfail") || !strings.Contains(mailLog.String(), "result=greylisted") {
		t.Fatalf("mail log:\n%s", mailLog)
	}
	// Exempt networks are never greylisted.
	f.Exempt = []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}
	c.sendMessage("b@remote.example", "alice@example.org", "Subject: exempt\r\n\r\nx\r\n", "250 ")
}

type greylistStore interface {
	Greylist(ctx context.Context, triplet string, now time.Time, delay, expiry time.Duration) (bool, error)
}

func TestRateLimitsOverSMTP(t *testing.T) {
	f := &filter.Filter{Limits: &filter.RateLimits{ConnectionsPerIP: 2, RecipientsPerIP: 3}}
	h, _ := filterHarness(t, f)
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	c.cmd("MAIL FROM:<a@remote.example>", "250 ")
	c.cmd("RCPT TO:<alice@example.org>", "250 ")
	c.cmd("RCPT TO:<nobody@example.org>", "550 5.1.1 ") // guessing counts too
	c.cmd("RCPT TO:<bob@example.org>", "250 ")
	c.cmd("RCPT TO:<team@example.org>", "451 4.7.1 ")
	h.dial()
	// The third connection in a minute is refused before the greeting.
	raw, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer raw.Close()
	line, _ := io.ReadAll(raw)
	if !strings.HasPrefix(string(line), "421 4.7.0 ") {
		t.Fatalf("third connection got %q", line)
	}
}

func TestDNSBLOverSMTP(t *testing.T) {
	srv := dnstest.Start(t, map[string][]string{"1.0.0.127.bl.example.": {"1.0.0.127.bl.example. 60 IN A 127.0.0.2"}})
	h, mailLog := filterHarness(t, &filter.Filter{Resolver: dns.New(srv.Addr), DNSBL: []string{"bl.example"}})
	c := h.dial()
	reply := c.cmd("EHLO client.example", "554 5.7.1 ")
	if strings.Contains(strings.Join(reply, ""), "bl.example") {
		t.Fatalf("reply names the list: %q", reply)
	}
	c.cmd("MAIL FROM:<a@remote.example>", "5")
	if !strings.Contains(mailLog.String(), "reasons=dnsbl(bl.example)") {
		t.Fatalf("mail log:\n%s", mailLog)
	}
}

// TestLargeMessageSpooledToFile: a message over the memory spool waits for its verdict in a
// temporary file and is stored unchanged after our Received header.
func TestLargeMessageSpooledToFile(t *testing.T) {
	dir := t.TempDir()
	f := &filter.Filter{Attachments: &filter.AttachmentPolicy{}}
	mailLog := &logBuffer{}
	f.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	h := newHarness(t, func(s *Server) {
		s.Filter = f
		s.SpoolDir = dir
		s.MaxMessageBytes = 2 << 20
		s.MailLog = maillog.New(slog.New(slog.NewTextHandler(mailLog, nil)))
	})
	var b strings.Builder
	b.WriteString("Subject: big\r\n\r\n")
	for i := 0; b.Len() < 3*memSpool/2; i++ {
		fmt.Fprintf(&b, "line %d of a long message\r\n", i)
	}
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	c.sendMessage("a@remote.example", "alice@example.org", b.String(), "250 ")
	got := h.bodies("alice@example.org")
	if len(got) != 1 || !strings.HasPrefix(got[0], "Received: ") || !strings.HasSuffix(got[0], "\r\n"+b.String()) {
		t.Fatalf("stored message differs (%d messages)", len(got))
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 0 {
		t.Fatalf("spool files left: %v", entries)
	}
}
