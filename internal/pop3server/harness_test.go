package pop3server

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/credentials"
	"posthorn/internal/testutil/mailenv"
	"posthorn/internal/testutil/transcript"
)

const testPassword = mailenv.Password

// harness is a running Server over a fresh store (mailenv): domain example.org, accounts alice
// and bob.
type harness struct {
	*mailenv.Env
	t       testing.TB
	srv     *Server
	reg     *prometheus.Registry
	addr    string // plain listener (STLS)
	tlsAddr string // implicit TLS listener
}

func newHarness(t testing.TB, configure ...func(*Server)) *harness {
	t.Helper()
	env := mailenv.New(t, "pop.example.org")
	h := &harness{Env: env, t: t, reg: prometheus.NewRegistry()}
	h.srv = &Server{
		Hostname:          "pop.example.org",
		Store:             env.Store,
		Bodies:            env.Blobs.Bodies(),
		Auth:              credentials.NewAuthenticator(env.Store, env.Logger, h.reg),
		Logger:            env.Logger,
		Metrics:           NewMetrics(h.reg),
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

// testMessage is a small message numbered n: 6 header lines, an empty line, 3 body lines.
func testMessage(n int) string {
	return fmt.Sprintf("From: Sender %d <sender%d@example.net>\r\nTo: alice@example.org\r\n"+
		"Subject: message %d\r\nDate: Thu, 1 Jan 2026 10:00:00 +0000\r\nMessage-ID: <%d@example.net>\r\n"+
		"MIME-Version: 1.0\r\n\r\nBody of message %d.\r\nSecond line.\r\nThird line.\r\n", n, n, n, n, n)
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
	cn.expect("+OK pop.example.org posthorn POP3 ready")
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
	cn.expect("+OK pop.example.org posthorn POP3 ready")
	return cn
}

// login dials and logs in with USER and PASS as alice (or the address given).
func (h *harness) login(user ...string) *conn {
	h.t.Helper()
	c := h.dial()
	u := "alice@example.org"
	if len(user) > 0 {
		u = user[0]
	}
	c.cmd("USER "+u, "+OK send PASS")
	c.cmd("PASS "+testPassword, "+OK "+u+" has ...")
	return c
}

func (c *conn) send(text string) {
	c.t.Helper()
	_ = c.c.SetWriteDeadline(time.Now().Add(5 * time.Second))
	if _, err := io.WriteString(c.c, text); err != nil {
		c.t.Fatalf("send %q: %v", text, err)
	}
}

// readLine reads one response line without its CRLF.
func (c *conn) readLine() string {
	c.t.Helper()
	_ = c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	line, err := c.r.ReadString('\n')
	if err != nil {
		c.t.Fatalf("read: %v (after %q)", err, line)
	}
	if !strings.HasSuffix(line, "\r\n") {
		c.t.Fatalf("line without CRLF: %q", line)
	}
	return strings.TrimSuffix(line, "\r\n")
}

// expect reads a line and checks it against pattern, where "..." matches anything.
func (c *conn) expect(pattern string) string {
	c.t.Helper()
	line := c.readLine()
	if !transcript.Match(pattern, line) {
		c.t.Fatalf("got  %q\nwant %q", line, pattern)
	}
	return line
}

// expectClosed checks that the server closed the connection.
func (c *conn) expectClosed() {
	c.t.Helper()
	_ = c.c.SetReadDeadline(time.Now().Add(10 * time.Second))
	if line, err := c.r.ReadString('\n'); err != io.EOF {
		c.t.Fatalf("want the connection closed, got %q, %v", line, err)
	}
}

// cmd sends a command line and expects the lines given.
func (c *conn) cmd(line string, want ...string) {
	c.t.Helper()
	c.send(line + "\r\n")
	for _, w := range want {
		c.expect(w)
	}
}
