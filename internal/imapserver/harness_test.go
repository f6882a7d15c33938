package imapserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/blob"
	"posthorn/internal/credentials"
	"posthorn/internal/delivery"
	"posthorn/internal/message"
	"posthorn/internal/store"
	"posthorn/internal/testutil/mailenv"
	"posthorn/internal/testutil/storeenv"
	"posthorn/internal/testutil/transcript"
)

// Test accounts: alice and bob of example.org, both with this password.
const testPassword = mailenv.Password

// harness is a running Server over a fresh store (mailenv): domain example.org, accounts alice
// and bob.
type harness struct {
	t         testing.TB
	srv       *Server
	addr      string // plain listener (STARTTLS)
	tlsAddr   string // implicit TLS listener
	store     storeenv.Store
	blobs     *blob.FS
	committer *delivery.Committer
	alice     store.Account
	bob       store.Account
}

func newHarness(t testing.TB, configure ...func(*Server)) *harness {
	t.Helper()
	env := mailenv.New(t, "imap.example.org")
	h := &harness{t: t, store: env.Store, blobs: env.Blobs, committer: env.Committer, alice: env.Alice, bob: env.Bob}
	reg := prometheus.NewRegistry()
	h.srv = &Server{
		Hostname:          "imap.example.org",
		Store:             env.Store,
		Bodies:            env.Blobs.Bodies(),
		Committer:         env.Committer,
		Auth:              credentials.NewAuthenticator(env.Store, env.Logger, reg),
		Logger:            env.Logger,
		Metrics:           NewMetrics(reg),
		TLSConfig:         env.TLSConfig,
		AllowInsecureAuth: true,
	}
	for _, f := range configure {
		f(h.srv)
	}
	h.addr, h.tlsAddr = env.Serve(h.srv.Serve, h.srv.ServeTLS)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := h.srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})
	return h
}

// deliver stores a message in a mailbox of acc as SMTP delivery would, and returns its UID.
func (h *harness) deliver(acc store.Account, mailbox, text string, flags ...string) uint32 {
	h.t.Helper()
	return h.deliverIndexed(acc, mailbox, text, func(t message.Text) *store.Text {
		return &store.Text{Header: t.Header, Body: t.Body}
	}, flags...)
}

// deliverIndexed is deliver with the text for the full-text index chosen by index, from the
// text delivery extracts: nil leaves the message unindexed. To choose the text it writes the
// body and the rows itself, as delivery.Draft.Commit does.
func (h *harness) deliverIndexed(acc store.Account, mailbox, text string, index func(message.Text) *store.Text,
	flags ...string) uint32 {
	h.t.Helper()
	w, err := h.blobs.Create()
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := io.WriteString(w, text); err != nil {
		h.t.Fatal(err)
	}
	a, err := message.Analyze(w, w.Size())
	if err != nil {
		h.t.Fatal(err)
	}
	ctx := context.Background()
	if err := h.blobs.SyncAll(ctx, []*blob.Writer{w}); err != nil {
		h.t.Fatal(err)
	}
	d, err := h.store.Deliver(ctx, []store.Delivery{{
		BlobID: w.ID(), Size: w.Size(),
		InternalDate: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC),
		Envelope:     a.Envelope, Structure: a.Structure,
		Text:    index(a.Text),
		Targets: []store.Target{{AccountID: acc.ID, Mailbox: mailbox, Flags: flags}},
	}})
	if err != nil {
		h.t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		h.t.Fatal(err)
	}
	return d[0][0].UID
}

// testMessage is a small message numbered n.
func testMessage(n int) string {
	return fmt.Sprintf("From: Sender %d <sender%d@example.net>\r\nTo: alice@example.org\r\n"+
		"Subject: message %d\r\nDate: Thu, 1 Jan 2026 10:00:00 +0000\r\nMessage-ID: <%d@example.net>\r\n\r\n"+
		"Body of message %d.\r\n", n, n, n, n, n)
}

// conn is a raw client connection for transcripts.
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
	cn.expect(`* OK [CAPABILITY ...] imap.example.org posthorn IMAP ready`)
	return cn
}

func (h *harness) dialTLS() *conn {
	h.t.Helper()
	c, err := tls.Dial("tcp", h.tlsAddr, &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		h.t.Fatal(err)
	}
	h.t.Cleanup(func() { c.Close() })
	cn := &conn{t: h.t, c: c, r: bufio.NewReader(c)}
	cn.expect(`* OK [CAPABILITY ...] ...`)
	return cn
}

// login dials and logs in as alice (or the address given).
func (h *harness) login(user ...string) *conn {
	c := h.dial()
	u := "alice@example.org"
	if len(user) > 0 {
		u = user[0]
	}
	c.send(fmt.Sprintf("L1 LOGIN %s %q", u, testPassword))
	c.expect("L1 OK [CAPABILITY ...] logged in")
	return c
}

func (c *conn) send(line string) {
	c.t.Helper()
	_ = c.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c.c, line+"\r\n"); err != nil {
		c.t.Fatalf("send %q: %v", line, err)
	}
}

// sendRaw sends bytes as they are.
func (c *conn) sendRaw(s string) {
	c.t.Helper()
	if _, err := io.WriteString(c.c, s); err != nil {
		c.t.Fatalf("send: %v", err)
	}
}

// readLine reads one response line, with literals inlined as {n}\r\n<octets>.
func (c *conn) readLine() string {
	c.t.Helper()
	_ = c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	var b strings.Builder
	for {
		line, err := c.r.ReadString('\n')
		if err != nil {
			c.t.Fatalf("read: %v (after %q)", err, b.String()+line)
		}
		line = strings.TrimSuffix(line, "\r\n")
		b.WriteString(line)
		m := literalAtEnd.FindStringSubmatch(line)
		if m == nil {
			return b.String()
		}
		var n int
		fmt.Sscan(m[1], &n)
		buf := make([]byte, n)
		if _, err := io.ReadFull(c.r, buf); err != nil {
			c.t.Fatalf("read literal: %v", err)
		}
		b.WriteString("\r\n")
		b.Write(buf)
	}
}

var literalAtEnd = regexp.MustCompile(`~?\{(\d+)\}$`)

// expect reads a line and checks it against pattern, where "..." matches anything.
func (c *conn) expect(pattern string) string {
	c.t.Helper()
	line := c.readLine()
	if !transcript.Match(pattern, line) {
		c.t.Fatalf("got  %q\nwant %q", line, pattern)
	}
	return line
}

// cmd sends a line and expects the lines given, the last one the tagged response.
func (c *conn) cmd(line string, want ...string) {
	c.t.Helper()
	c.send(line)
	for _, w := range want {
		c.expect(w)
	}
}
