package smtpserver

import (
	"bufio"
	"context"
	"crypto/tls"
	"fmt"
	"io"
	"net"
	"strings"
	"testing"
)

// TestBarePostmaster: RFC 5321 §4.5.1 has "RCPT TO:<Postmaster>" (no domain, any case) accepted;
// it reaches the postmaster of the primary domain (example.org for mx.example.org). A message
// that contains the same command line, sent with DATA or BDAT, is stored as it was sent.
func TestBarePostmaster(t *testing.T) {
	h := newHarness(t)
	if _, err := h.store.AddAlias(context.Background(), "postmaster@example.org", []string{"alice@example.org"}); err != nil {
		t.Fatal(err)
	}
	body := "Subject: to the postmaster\r\n\r\nRCPT TO:<postmaster>\r\nBDAT 5\r\n..\r\nDATA\r\n"
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	c.cmd("MAIL FROM:<a@remote.example>", "250 ")
	c.cmd("RCPT TO:<postmaster>", "250 ")
	c.cmd("DATA", "354 ")
	io.WriteString(c.c, body+".\r\n")
	c.expect("250 ")
	c.cmd("MAIL FROM:<a@remote.example>", "250 ")
	c.cmd("RCPT TO: <PostMaster>", "250 ")
	stored := strings.ReplaceAll(body, "\r\n..\r\n", "\r\n.\r\n") // BDAT has no dot-stuffing
	c.send(fmt.Sprintf("BDAT %d LAST", len(stored)))
	io.WriteString(c.c, stored)
	c.expect("250 ")
	// Pipelined.
	io.WriteString(c.c, "MAIL FROM:<a@remote.example>\r\nRCPT TO:<POSTMASTER>\r\nRSET\r\n")
	c.expect("250 ")
	c.expect("250 ")
	c.expect("250 ")
	c.cmd("QUIT", "221 ")

	got := h.bodies("alice@example.org")
	if len(got) != 2 {
		t.Fatalf("alice has %d messages, want 2", len(got))
	}
	want := "\r\nSubject: to the postmaster\r\n\r\nRCPT TO:<postmaster>\r\nBDAT 5\r\n.\r\nDATA\r\n"
	for i, m := range got {
		if !strings.HasSuffix(m, want) || !strings.Contains(m, "for <postmaster@example.org>") {
			t.Errorf("message %d:\n%q", i, m)
		}
	}
}

// TestBarePostmasterOverTLS: the bare postmaster is understood after STARTTLS on the MX and on
// implicit TLS (RFC 8314 §3.3) on submission, as in plain text.
func TestBarePostmasterOverTLS(t *testing.T) {
	h := newSubmissionHarness(t)
	if _, err := h.store.AddAlias(context.Background(), "postmaster@example.org", []string{"bob@example.org"}); err != nil {
		t.Fatal(err)
	}
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	c.starttls()
	c.cmd("EHLO client.example", "250 ")
	c.cmd("AUTH PLAIN "+plainIR("alice@example.org", "alice password"), "235 ")
	c.cmd("MAIL FROM:<alice@example.org>", "250 ")
	c.cmd("RCPT TO:<Postmaster>", "250 ")
	c.cmd("DATA", "354 ")
	io.WriteString(c.c, "From: alice@example.org\r\nSubject: after STARTTLS\r\n\r\nhello\r\n.\r\n")
	c.expect("250 ")
	c.cmd("QUIT", "221 ")

	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	go h.srv.ServeTLS(l)
	tc, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tc.Close() })
	c = &conn{t: t, c: tc, r: bufio.NewReader(tc)}
	c.expect("220 ")
	c.cmd("EHLO client.example", "250 ")
	c.cmd("AUTH PLAIN "+plainIR("alice@example.org", "alice password"), "235 ")
	c.cmd("MAIL FROM:<alice@example.org>", "250 ")
	c.cmd("RCPT TO:<POSTMASTER>", "250 ")
	c.cmd("DATA", "354 ")
	io.WriteString(c.c, "From: alice@example.org\r\nSubject: on implicit TLS\r\n\r\nhello\r\n.\r\n")
	c.expect("250 ")
	c.cmd("QUIT", "221 ")

	got := h.bodies("bob@example.org")
	if len(got) != 2 {
		t.Fatalf("bob has %d messages, want 2", len(got))
	}
	for i, subject := range []string{"after STARTTLS", "on implicit TLS"} {
		if !strings.Contains(got[i], "Subject: "+subject) {
			t.Errorf("message %d:\n%q", i, got[i])
		}
	}
}

// TestBarePostmasterUnknown: without a postmaster for the primary domain the bare postmaster
// is an unknown user (550 5.1.1), not a syntax error; a path that only starts with
// "postmaster" is not taken for it.
func TestBarePostmasterUnknown(t *testing.T) {
	h := newHarness(t)
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	c.cmd("MAIL FROM:<a@remote.example>", "250 ")
	c.cmd("RCPT TO:<postmaster>", "550 5.1.1 ")
	c.cmd("RCPT TO:<postmasterx>", "501 ")
	c.cmd("QUIT", "221 ")
}

func TestPrimaryDomain(t *testing.T) {
	ctx := context.Background()
	for _, tc := range []struct{ hostname, want string }{
		{"mx.example.org", "example.org"},         // the parent of the host name
		{"catch.example", "catch.example"},        // the host name itself
		{"a.b.catch.example.", "catch.example"},   // further up
		{"mail.elsewhere.example", "example.org"}, // the first domain added
	} {
		h := newHarness(t, func(s *Server) { s.Hostname = tc.hostname })
		if got, err := h.srv.primaryDomain(ctx); err != nil || got != tc.want {
			t.Errorf("host name %s: primary domain %q, %v, want %q", tc.hostname, got, err, tc.want)
		}
	}
}
