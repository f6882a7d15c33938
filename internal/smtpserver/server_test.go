package smtpserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"net/smtp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/blob"
	"posthorn/internal/maillog"
	"posthorn/internal/testutil/mailenv"
	"posthorn/internal/testutil/storeenv"
)

// harness is a running Server over a fresh store (mailenv) with domain example.org, accounts
// alice and bob, alias team -> alice,bob and catch-all @catch.example -> bob.
type harness struct {
	t      testing.TB
	env    *mailenv.Env
	srv    *Server
	addr   string
	store  storeenv.Store
	blobs  *blob.FS
	maxMsg int64
}

// newHarness starts the server; each configure function may change its fields before it serves.
func newHarness(t testing.TB, configure ...func(*Server)) *harness {
	t.Helper()
	// The accounts never log in with a password here: submission's tests set theirs.
	return newHarnessOn(t, mailenv.NewWithPasswordHash(t, "mx.example.org", "x"), configure...)
}

// newHarnessOn is newHarness over env, whose store and committer the configure functions may
// replace (faults_test.go).
func newHarnessOn(t testing.TB, env *mailenv.Env, configure ...func(*Server)) *harness {
	t.Helper()
	env.AddDomain("catch.example")
	env.AddAlias("team@example.org", "alice@example.org", "bob@example.org")
	env.AddAlias("@catch.example", "bob@example.org")
	srv := &Server{
		Hostname:        "mx.example.org",
		Store:           env.Store,
		Committer:       env.Committer,
		Logger:          env.Logger,
		MailLog:         maillog.New(env.Logger),
		Metrics:         NewMetrics(prometheus.NewRegistry()),
		TLSConfig:       env.TLSConfig,
		MaxMessageBytes: 64 << 10,
		MaxRecipients:   10,
		MaxConnections:  50,
		Timeout:         10 * time.Second,
	}
	for _, f := range configure {
		f(srv)
	}
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go srv.Serve(l)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		defer cancel()
		srv.Shutdown(ctx)
	})
	return &harness{t: t, env: env, srv: srv, addr: l.Addr().String(), store: env.Store, blobs: env.Blobs,
		maxMsg: srv.MaxMessageBytes}
}

// bodies returns the stored bodies in account's INBOX, in UID order.
func (h *harness) bodies(account string) []string {
	h.t.Helper()
	return h.mailboxBodies(account, "INBOX")
}

// mailboxBodies returns the stored bodies in one mailbox of account, in UID order.
func (h *harness) mailboxBodies(account, mailbox string) []string {
	h.t.Helper()
	acc, err := h.store.GetAccount(context.Background(), account)
	if err != nil {
		h.t.Fatal(err)
	}
	return h.env.Mailbox(acc, mailbox)
}

// conn is a raw SMTP client for transcripts.
type conn struct {
	t testing.TB
	c net.Conn
	r *bufio.Reader
}

func (h *harness) dial() *conn {
	h.t.Helper()
	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.Close() })
	cn := &conn{t: h.t, c: c, r: bufio.NewReader(c)}
	cn.expect("220 ")
	return cn
}

// reply reads one (possibly multi-line) reply and returns its lines.
func (c *conn) reply() []string {
	c.t.Helper()
	_ = c.c.SetReadDeadline(time.Now().Add(30 * time.Second))
	var lines []string
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("read reply: %v (so far %q)", err, lines)
		}
		line = strings.TrimRight(line, "\r\n")
		lines = append(lines, line)
		if len(line) < 4 || line[3] != '-' {
			return lines
		}
	}
}

// expect reads a reply whose last line starts with prefix.
func (c *conn) expect(prefix string) []string {
	c.t.Helper()
	lines := c.reply()
	if last := lines[len(lines)-1]; !strings.HasPrefix(last, prefix) {
		c.t.Fatalf("reply %q, want %q", lines, prefix)
	}
	return lines
}

func (c *conn) send(line string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, line+"\r\n"); err != nil {
		c.t.Fatal(err)
	}
}

// cmd sends a command and expects a reply starting with prefix.
func (c *conn) cmd(line, prefix string) []string {
	c.t.Helper()
	c.send(line)
	return c.expect(prefix)
}

func TestEHLOAdvertisesExtensions(t *testing.T) {
	h := newHarness(t)
	c := h.dial()
	lines := c.cmd("EHLO client.example", "250 ")
	got := strings.Join(lines, "\n")
	for _, ext := range []string{"PIPELINING", "8BITMIME", "SMTPUTF8", "CHUNKING", "ENHANCEDSTATUSCODES", "SIZE 65536", "STARTTLS"} {
		if !strings.Contains(got, "250-"+ext) && !strings.Contains(got, "250 "+ext) {
			t.Errorf("EHLO reply lacks %s:\n%s", ext, got)
		}
	}
}

func TestRecipientsAreDecidedAtOnce(t *testing.T) {
	h := newHarness(t)
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	c.cmd("MAIL FROM:<sender@remote.example>", "250 ")
	c.cmd("RCPT TO:<nobody@example.org>", "550 5.1.1 ")
	c.cmd("RCPT TO:<someone@elsewhere.example>", "554 5.7.1 ")
	c.cmd("RCPT TO:<not an address>", "501 ")
	c.cmd("RCPT TO:<Alice@Example.ORG>", "250 ")
	c.cmd("RCPT TO:<alice+lists@example.org>", "250 ")
	c.cmd("RCPT TO:<anything@catch.example>", "250 ")
	c.cmd("RCPT TO:<team@example.org>", "250 ")
	c.cmd("DATA", "354 ")
	c.send("Subject: hello\r\n\r\nbody\r\n.")
	c.expect("250 ")
	c.cmd("QUIT", "221 ")
	// alice named three ways gets one copy; bob (catch-all and team) gets one.
	for _, acc := range []string{"alice@example.org", "bob@example.org"} {
		got := h.bodies(acc)
		if len(got) != 1 {
			t.Fatalf("%s has %d messages, want 1", acc, len(got))
		}
		if !strings.HasPrefix(got[0], "Received: from client.example ([127.0.0.1])\r\n\tby mx.example.org (posthorn) with ESMTP id ") {
			t.Fatalf("message does not start with our Received header:\n%s", got[0])
		}
		if !strings.HasSuffix(got[0], "\r\nSubject: hello\r\n\r\nbody\r\n") {
			t.Fatalf("message body altered:\n%q", got[0])
		}
		if strings.Contains(got[0], "for <") {
			t.Fatalf("multi-recipient message names a recipient in Received:\n%s", got[0])
		}
	}
}

func TestNeverAnOpenRelay(t *testing.T) {
	h := newHarness(t)
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	c.cmd("MAIL FROM:<alice@example.org>", "250 ")
	for _, rcpt := range []string{"victim@gmail.example", "alice@example.org.evil.example", "alice@[127.0.0.1]", "@example.org:victim@gmail.example"} {
		c.send("RCPT TO:<" + rcpt + ">")
		if last := c.reply(); strings.HasPrefix(last[len(last)-1], "250") {
			t.Errorf("RCPT TO:<%s> accepted: %q", rcpt, last)
		}
	}
	c.cmd("DATA", "502 ")
}

func TestSingleRecipientReceivedNamesIt(t *testing.T) {
	h := newHarness(t)
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	c.cmd("MAIL FROM:<>", "250 ")
	c.cmd("RCPT TO:<bob@example.org>", "250 ")
	c.cmd("DATA", "354 ")
	c.send("Subject: bounce\r\n\r\nx\r\n.")
	c.expect("250 ")
	if got := h.bodies("bob@example.org"); len(got) != 1 || !strings.Contains(got[0], "\r\n\tfor <bob@example.org>;\r\n") {
		t.Fatalf("got %q", got)
	}
}

func TestPipelinedTransaction(t *testing.T) {
	h := newHarness(t)
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	// RFC 2920: the client sends the whole group at once.
	c.send("MAIL FROM:<a@remote.example>\r\nRCPT TO:<alice@example.org>\r\nRCPT TO:<ghost@example.org>\r\nRCPT TO:<bob@example.org>\r\nDATA")
	c.expect("250 ")
	c.expect("250 ")
	c.expect("550 5.1.1 ")
	c.expect("250 ")
	c.expect("354 ")
	c.send("Subject: pipelined\r\n\r\nhi\r\n.\r\nQUIT")
	c.expect("250 ")
	c.expect("221 ")
	if len(h.bodies("alice@example.org")) != 1 || len(h.bodies("bob@example.org")) != 1 {
		t.Fatal("pipelined message not delivered to both")
	}
}

func TestOversizeIsRefused(t *testing.T) {
	h := newHarness(t)
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	c.cmd("MAIL FROM:<a@remote.example> SIZE=999999", "552 5.3.4 ")
	c.cmd("MAIL FROM:<a@remote.example>", "250 ")
	c.cmd("RCPT TO:<alice@example.org>", "250 ")
	c.cmd("DATA", "354 ")
	line := strings.Repeat("x", 998)
	for i := 0; int64(i*1000) <= h.maxMsg; i++ {
		c.send(line)
	}
	c.send(".")
	c.expect("552 5.3.4 ")
	// The session stays usable and nothing was stored.
	c.cmd("MAIL FROM:<a@remote.example>", "250 ")
	if got := h.bodies("alice@example.org"); len(got) != 0 {
		t.Fatalf("over-size message stored")
	}
	n := 0
	if err := h.blobs.Walk(time.Time{}, func(_ string, size int64) error {
		if size > 0 {
			n++
		}
		return nil
	}); err != nil || n != 0 {
		t.Fatalf("refused message left %d blobs (%v)", n, err)
	}
}

func TestMailLoopIsRefused(t *testing.T) {
	h := newHarness(t)
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	send := func(received int, want string) {
		c.cmd("MAIL FROM:<a@remote.example>", "250 ")
		c.cmd("RCPT TO:<alice@example.org>", "250 ")
		c.cmd("DATA", "354 ")
		for i := 0; i < received; i++ {
			c.send(fmt.Sprintf("Received: from hop%d.example by hop%d.example; Mon, 1 Jan 2024 00:00:00 +0000", i, i+1))
		}
		c.send("Subject: loop\r\n\r\nReceived: in the body does not count\r\n.")
		c.expect(want)
	}
	send(MaxReceived-1, "250 ") // with ours, exactly MaxReceived
	send(MaxReceived, "554 5.4.6 ")
	if got := h.bodies("alice@example.org"); len(got) != 1 {
		t.Fatalf("got %d messages, want 1", len(got))
	}
}

func TestBDAT(t *testing.T) {
	h := newHarness(t)
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	c.cmd("MAIL FROM:<a@remote.example>", "250 ")
	c.cmd("RCPT TO:<alice@example.org>", "250 ")
	part1 := "Subject: chunked\r\n\r\n"
	part2 := ".leading dot stays\r\n"
	c.send(fmt.Sprintf("BDAT %d", len(part1)))
	io.WriteString(c.c, part1)
	c.expect("250 ")
	c.send(fmt.Sprintf("BDAT %d LAST", len(part2)))
	io.WriteString(c.c, part2)
	c.expect("250 ")
	got := h.bodies("alice@example.org")
	if len(got) != 1 || !strings.HasSuffix(got[0], "\r\nSubject: chunked\r\n\r\n.leading dot stays\r\n") {
		t.Fatalf("got %q", got)
	}
}

// TestSmugglingSequencesStayInside: only CRLF.CRLF ends DATA (RFC 5321 §4.1.1.4); a bare-LF dot
// line does not, so a smuggled second transaction is message text, not commands; bare LFs are
// stored as CRLF.
func TestSmugglingSequencesStayInside(t *testing.T) {
	h := newHarness(t)
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	c.cmd("MAIL FROM:<a@remote.example>", "250 ")
	c.cmd("RCPT TO:<alice@example.org>", "250 ")
	c.cmd("DATA", "354 ")
	io.WriteString(c.c, "Subject: smuggle\r\n\r\nline\n.\nMAIL FROM:<evil@remote.example>\nRCPT TO:<bob@example.org>\nDATA\nbad\r\n.\r\n")
	c.expect("250 ")
	c.cmd("QUIT", "221 ")
	got := h.bodies("alice@example.org")
	if len(got) != 1 || !strings.HasSuffix(got[0], "\r\n\r\nline\r\n.\r\nMAIL FROM:<evil@remote.example>\r\nRCPT TO:<bob@example.org>\r\nDATA\r\nbad\r\n") {
		t.Fatalf("got %q", got)
	}
	if n := len(h.bodies("bob@example.org")); n != 0 {
		t.Fatalf("smuggled message delivered to bob (%d)", n)
	}
}

func TestStartTLSThenDeliver(t *testing.T) {
	h := newHarness(t)
	client, err := smtp.Dial(h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer client.Close()
	if err := client.Hello("client.example"); err != nil {
		t.Fatal(err)
	}
	if err := client.StartTLS(&tls.Config{InsecureSkipVerify: true, ServerName: "mx.example.org"}); err != nil {
		t.Fatal(err)
	}
	if err := client.Mail("a@remote.example"); err != nil {
		t.Fatal(err)
	}
	if err := client.Rcpt("bob@example.org"); err != nil {
		t.Fatal(err)
	}
	w, err := client.Data()
	if err != nil {
		t.Fatal(err)
	}
	io.WriteString(w, "Subject: tls\r\n\r\nsecret\r\n")
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := client.Quit(); err != nil {
		t.Fatal(err)
	}
	if got := h.bodies("bob@example.org"); len(got) != 1 || !strings.Contains(got[0], " with ESMTPS id ") {
		t.Fatalf("got %q", got)
	}
}

// TestConcurrentDeliveries: every 250 is a stored message, UIDs unique (group commit).
func TestConcurrentDeliveries(t *testing.T) {
	h := newHarness(t)
	const workers, each = 20, 10
	var wg sync.WaitGroup
	errs := make(chan error, workers)
	for w := 0; w < workers; w++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < each; i++ {
				msg := fmt.Sprintf("Subject: w%d m%d\r\n\r\nbody\r\n", w, i)
				if err := sendPlain(h.addr, "a@remote.example", "alice@example.org", msg); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	got := h.bodies("alice@example.org")
	if len(got) != workers*each {
		t.Fatalf("stored %d messages, want %d", len(got), workers*each)
	}
	seen := map[string]bool{}
	for _, b := range got {
		subject := b[strings.Index(b, "Subject: "):]
		if seen[subject] {
			t.Fatalf("duplicate %q", subject)
		}
		seen[subject] = true
	}
	problems, err := h.store.Check(context.Background())
	if err != nil || len(problems) > 0 {
		t.Fatalf("store check: %v %v", problems, err)
	}
}

func TestShutdownClosesIdleSessions(t *testing.T) {
	h := newHarness(t)
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.srv.Shutdown(ctx) }()
	c.expect("421 4.3.2 ")
	if err := <-done; err != nil {
		t.Fatalf("shutdown: %v", err)
	}
	if _, err := net.DialTimeout("tcp", h.addr, time.Second); err == nil {
		t.Fatal("still accepting after shutdown")
	}
}

func TestConnectionLimit(t *testing.T) {
	h := newHarness(t, func(s *Server) { s.MaxConnections = 2 })
	a, b := h.dial(), h.dial()
	_, _ = a, b
	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	line, _ := bufio.NewReader(c).ReadString('\n')
	if !strings.HasPrefix(line, "421 4.7.0 ") {
		t.Fatalf("third connection got %q, want 421 4.7.0", line)
	}
}

// sendPlain delivers one message with net/smtp, without STARTTLS.
func sendPlain(addr, from, to, msg string) error {
	c, err := smtp.Dial(addr)
	if err != nil {
		return err
	}
	defer c.Close()
	if err := c.Mail(from); err != nil {
		return err
	}
	if err := c.Rcpt(to); err != nil {
		return err
	}
	w, err := c.Data()
	if err != nil {
		return err
	}
	if _, err := io.WriteString(w, msg); err != nil {
		return err
	}
	if err := w.Close(); err != nil {
		return err
	}
	return c.Quit()
}

// TestOverQuota: a recipient whose account uses all its storage quota, or would with the size
// MAIL FROM declares, is refused at RCPT with 452 4.2.2; a message that would take an account
// over its quota is refused at the end of DATA, for every recipient (RFC 3463 X.2.2 mailbox full).
func TestOverQuota(t *testing.T) {
	h := newHarness(t, func(s *Server) { s.DefaultQuota = 1 << 20 }) // bob follows the default
	ctx := context.Background()
	setQuota := func(bytes int64) {
		t.Helper()
		if err := h.store.SetQuota(ctx, "alice@example.org", bytes); err != nil {
			t.Fatal(err)
		}
	}
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")

	// A message larger than the whole quota: refused after DATA, for bob too.
	setQuota(200)
	c.cmd("MAIL FROM:<a@remote.example>", "250 ")
	c.cmd("RCPT TO:<alice@example.org>", "250 ")
	c.cmd("RCPT TO:<bob@example.org>", "250 ")
	c.cmd("DATA", "354 ")
	c.send("Subject: big\r\n\r\n" + strings.Repeat("x", 300) + "\r\n.")
	c.expect("452 4.2.2 ")
	if len(h.bodies("alice@example.org"))+len(h.bodies("bob@example.org")) != 0 {
		t.Fatal("a message over quota was stored")
	}

	// Room for it: delivered. Then the quota is lowered under the usage: RCPT refused, and
	// also when the declared size would not fit.
	setQuota(10 << 10)
	c.cmd("MAIL FROM:<a@remote.example>", "250 ")
	c.cmd("RCPT TO:<alice@example.org>", "250 ")
	c.cmd("DATA", "354 ")
	c.send("Subject: fits\r\n\r\n" + strings.Repeat("x", 300) + "\r\n.")
	c.expect("250 ")
	c.cmd("MAIL FROM:<a@remote.example> SIZE=20000", "250 ")
	c.cmd("RCPT TO:<alice@example.org>", "452 4.2.2 ")
	c.cmd("RCPT TO:<bob@example.org>", "250 ")
	c.cmd("RSET", "250 ")
	setQuota(100)
	c.cmd("MAIL FROM:<a@remote.example>", "250 ")
	c.cmd("RCPT TO:<alice@example.org>", "452 4.2.2 ")
	c.cmd("RCPT TO:<team@example.org>", "452 4.2.2 ") // an alias with alice among its targets
	c.cmd("RCPT TO:<bob@example.org>", "250 ")
	c.cmd("DATA", "354 ")
	c.send("Subject: bob only\r\n\r\nhi\r\n.")
	c.expect("250 ")

	// No quota at all: anything goes.
	setQuota(0)
	c.cmd("MAIL FROM:<a@remote.example> SIZE=60000", "250 ")
	c.cmd("RCPT TO:<alice@example.org>", "250 ")
	c.cmd("QUIT", "221 ")
	if a, b := len(h.bodies("alice@example.org")), len(h.bodies("bob@example.org")); a != 1 || b != 1 {
		t.Fatalf("alice has %d messages, bob %d; want 1 each", a, b)
	}
}
