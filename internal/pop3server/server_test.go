package pop3server

import (
	"bufio"
	"context"
	"crypto/tls"
	"errors"
	"net"
	"strings"
	"testing"
	"time"

	promtest "github.com/prometheus/client_golang/prometheus/testutil"

	"posthorn/internal/auth"
	"posthorn/internal/credentials"
)

// TestLoginNeedsTLS: without AllowInsecureAuth, USER and AUTH PLAIN are refused in clear and CAPA
// lists neither; after STLS they work (RFC 2595 §4), and STLS is neither listed nor accepted.
func TestLoginNeedsTLS(t *testing.T) {
	h := newHarness(t, func(s *Server) { s.AllowInsecureAuth = false })
	c := h.dial()
	c.cmd("CAPA", "+OK capability list follows", "TOP", "UIDL", "RESP-CODES", "AUTH-RESP-CODE",
		"PIPELINING", "STLS", "IMPLEMENTATION posthorn", ".")
	c.cmd("USER alice@example.org", "-ERR [AUTH] plaintext authentication is disabled until STLS")
	c.cmd("AUTH PLAIN", "-ERR [AUTH] AUTH PLAIN is disabled until STLS")
	c.cmd("AUTH", "+OK SASL mechanisms follow", ".")
	// Whatever follows STLS in the same packet is dropped, not executed after the handshake.
	c.send("STLS\r\nUSER alice@example.org\r\n")
	c.expect("+OK begin TLS negotiation")
	tc := tls.Client(c.c, &tls.Config{InsecureSkipVerify: true})
	if err := tc.Handshake(); err != nil {
		t.Fatal(err)
	}
	c.c, c.r = tc, bufio.NewReader(tc)
	c.cmd("PASS "+testPassword, "-ERR USER first")
	c.cmd("CAPA", "+OK capability list follows", "TOP", "UIDL", "USER", "SASL PLAIN SCRAM-SHA-256", "RESP-CODES",
		"AUTH-RESP-CODE", "PIPELINING", "IMPLEMENTATION posthorn", ".")
	c.cmd("STLS", "-ERR STLS not available")
	c.cmd("USER alice@example.org", "+OK send PASS")
	c.cmd("PASS "+testPassword, "+OK alice@example.org has 0 messages (0 octets)")
	c.cmd("QUIT", "+OK ...")
}

// TestImplicitTLS: POP3S (RFC 8314) with AUTH PLAIN; no STLS there.
func TestImplicitTLS(t *testing.T) {
	h := newHarness(t, func(s *Server) { s.AllowInsecureAuth = false })
	h.Deliver(h.Alice, "INBOX", testMessage(1))
	c := h.dialTLS()
	c.cmd("CAPA", "+OK capability list follows", "TOP", "UIDL", "USER", "SASL PLAIN SCRAM-SHA-256", "RESP-CODES",
		"AUTH-RESP-CODE", "PIPELINING", "IMPLEMENTATION posthorn", ".")
	c.cmd("STLS", "-ERR STLS not available")
	c.cmd("AUTH PLAIN AGFsaWNlQGV4YW1wbGUub3JnAGNvcnJlY3QgaG9yc2UgYmF0dGVyeQ==", "+OK alice@example.org has 1 messages (216 octets)")
	c.cmd("RETR 1", "+OK 216 octets", "From: Sender 1 <sender1@example.net>", "...", "...", "...", "...", "...", "",
		"Body of message 1.", "Second line.", "Third line.", ".")
	c.cmd("QUIT", "+OK ...")
}

// TestLineLimits: a line over maxLine and control characters get -ERR, and the session goes on.
func TestLineLimits(t *testing.T) {
	h := newHarness(t)
	c := h.dial()
	c.cmd("USER "+strings.Repeat("a", maxLine), "-ERR line too long")
	c.cmd("NO\x00OP", "-ERR invalid character in command")
	c.cmd("USER a\x01b", "-ERR invalid character in command")
	c.send("CAPA\n") // a bare LF ends a line too
	c.expect("+OK capability list follows")
	for c.readLine() != "." {
	}
	c.cmd("QUIT", "+OK ...")
}

// TestLoginErrorCodes: how the authenticator's answers become response codes.
func TestLoginErrorCodes(t *testing.T) {
	for _, tc := range []struct {
		err  error
		want string
	}{
		{auth.ErrInvalidCredentials, "[AUTH] invalid credentials"},
		{credentials.ErrThrottled, "[LOGIN-DELAY] too many failed logins, try again later"},
		{errors.New("database is locked"), "[SYS/TEMP] authentication is not available now, try again later"},
		{context.Canceled, "[SYS/TEMP] authentication is not available now, try again later"},
	} {
		var r *errReply
		if !errors.As(loginError(tc.err), &r) {
			t.Fatalf("%v: not a reply", tc.err)
		}
		if got := "[" + r.code + "] " + r.text; got != tc.want {
			t.Errorf("%v: got %q, want %q", tc.err, got, tc.want)
		}
	}
}

// TestDroppedConnectionDeletesNothing: DELE without QUIT removes nothing, and the lock goes
// with the connection.
func TestDroppedConnectionDeletesNothing(t *testing.T) {
	h := newHarness(t)
	for i := 1; i <= 3; i++ {
		h.Deliver(h.Alice, "INBOX", testMessage(i))
	}
	c := h.login()
	c.cmd("DELE 1", "+OK message 1 deleted")
	c.cmd("DELE 2", "+OK message 2 deleted")
	c.c.Close()
	c = h.loginWhenFree()
	c.cmd("STAT", "+OK 3 648")
	c.cmd("QUIT", "+OK ...")
}

// loginWhenFree logs in as alice once the lock of a session that just ended is released.
func (h *harness) loginWhenFree() *conn {
	h.t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		c := h.dial()
		c.cmd("USER alice@example.org", "+OK send PASS")
		c.send("PASS " + testPassword + "\r\n")
		line := c.readLine()
		if strings.HasPrefix(line, "+OK ") {
			return c
		}
		if !strings.HasPrefix(line, "-ERR [IN-USE]") || time.Now().After(deadline) {
			h.t.Fatalf("login: %q", line)
		}
		c.c.Close()
		time.Sleep(20 * time.Millisecond)
	}
}

// TestIdleTimeout: a silent session is closed without an UPDATE.
func TestIdleTimeout(t *testing.T) {
	h := newHarness(t, func(s *Server) { s.IdleTimeout = 300 * time.Millisecond })
	h.Deliver(h.Alice, "INBOX", testMessage(1))
	c := h.login()
	c.cmd("DELE 1", "+OK message 1 deleted")
	c.expectClosed()
	c = h.loginWhenFree()
	c.cmd("STAT", "+OK 1 216")
}

// TestShutdown: a session waiting for a command gets -ERR [SYS/TEMP] and is closed, deleting
// nothing; Shutdown returns once it is gone.
func TestShutdown(t *testing.T) {
	h := newHarness(t)
	h.Deliver(h.Alice, "INBOX", testMessage(1))
	c := h.login()
	c.cmd("DELE 1", "+OK message 1 deleted")
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := h.srv.Shutdown(ctx); err != nil {
		t.Fatal(err)
	}
	c.expect("-ERR [SYS/TEMP] server shutting down")
	c.expectClosed()
	mb, err := h.Store.GetMailbox(ctx, h.Alice.ID, "INBOX")
	if err != nil || mb.MessageCount != 1 {
		t.Fatalf("INBOX after shutdown: %+v, %v", mb, err)
	}
	if _, err := net.Dial("tcp", h.addr); err == nil {
		t.Fatal("listener still accepts after Shutdown")
	}
}

// TestMaxConnections: a connection over the limit is refused at once.
func TestMaxConnections(t *testing.T) {
	h := newHarness(t, func(s *Server) { s.MaxConnections = 2 })
	h.dial()
	h.dial()
	c, err := net.Dial("tcp", h.addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	over := &conn{t: t, c: c, r: bufio.NewReader(c)}
	over.expect("-ERR [SYS/TEMP] too many connections, try again later")
	over.expectClosed()
	if got := h.metric("posthorn_pop3_connections_refused_total"); got != 1 {
		t.Errorf("refused connections metric = %v", got)
	}
}

// TestMetrics: commands, retrieved and deleted messages are counted, and logins by the
// authenticator under protocol "pop3".
func TestMetrics(t *testing.T) {
	h := newHarness(t)
	for i := 1; i <= 2; i++ {
		h.Deliver(h.Alice, "INBOX", testMessage(i))
	}
	c := h.login()
	c.cmd("RETR 1", "+OK 216 octets", "...", "...", "...", "...", "...", "...", "", "...", "...", "...", ".")
	c.cmd("DELE 1", "+OK message 1 deleted")
	c.cmd("DELE 1", "-ERR message 1 already deleted")
	c.cmd("FOO", "-ERR unknown command")
	c.cmd("QUIT", "+OK ...")
	c.expectClosed()
	m := h.srv.Metrics
	for _, tc := range []struct {
		name      string
		got, want float64
	}{
		{"RETR OK", promtest.ToFloat64(m.commands.WithLabelValues("RETR", "OK")), 1},
		{"DELE OK", promtest.ToFloat64(m.commands.WithLabelValues("DELE", "OK")), 1},
		{"DELE ERR", promtest.ToFloat64(m.commands.WithLabelValues("DELE", "ERR")), 1},
		{"unknown ERR", promtest.ToFloat64(m.commands.WithLabelValues("unknown", "ERR")), 1},
		{"QUIT OK", promtest.ToFloat64(m.commands.WithLabelValues("QUIT", "OK")), 1},
		{"retrieved", promtest.ToFloat64(m.retrievedMessages), 1},
		{"retrieved bytes", promtest.ToFloat64(m.retrievedBytes), 216},
		{"deleted", promtest.ToFloat64(m.deletedMessages), 1},
		{"connections", h.metric("posthorn_pop3_connections_total"), 1},
	} {
		if tc.got != tc.want {
			t.Errorf("%s = %v, want %v", tc.name, tc.got, tc.want)
		}
	}
	if got := h.metric("posthorn_auth_attempts_total", "protocol", "pop3", "result", "ok"); got != 1 {
		t.Errorf(`posthorn_auth_attempts_total{protocol="pop3",result="ok"} = %v`, got)
	}
}

// metric returns the sum of the series of a counter or gauge of the harness's registry whose
// labels include the name, value pairs given.
func (h *harness) metric(name string, labels ...string) float64 {
	h.t.Helper()
	families, err := h.reg.Gather()
	if err != nil {
		h.t.Fatal(err)
	}
	sum := 0.0
	for _, f := range families {
		if f.GetName() != name {
			continue
		}
	series:
		for _, m := range f.GetMetric() {
			have := map[string]string{}
			for _, l := range m.GetLabel() {
				have[l.GetName()] = l.GetValue()
			}
			for i := 0; i+1 < len(labels); i += 2 {
				if have[labels[i]] != labels[i+1] {
					continue series
				}
			}
			sum += m.GetCounter().GetValue() + m.GetGauge().GetValue()
		}
	}
	return sum
}
