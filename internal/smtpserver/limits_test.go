package smtpserver

import (
	"strings"
	"testing"
	"time"

	"posthorn/internal/testutil/conntest"
)

// TestMaxPerAddress: the MX's connection over the limit from one address gets 421 4.7.0 while
// one from another address is served.
func TestMaxPerAddress(t *testing.T) {
	h := newHarness(t, func(s *Server) { s.MaxPerAddress = 2 })
	conntest.CheckPerAddressLimit(t, h.addr, h.addr, 2, "220 ", "421 4.7.0 ")
}

// TestSubmissionMaxPerAddress: the same on a submission server.
func TestSubmissionMaxPerAddress(t *testing.T) {
	h := newSubmissionHarness(t)
	h2 := newHarness(t, func(s *Server) {
		s.MaxPerAddress = 3
		s.Submission = h.sub
	})
	conntest.CheckPerAddressLimit(t, h2.addr, h2.addr, 3, "220 ", "421 4.7.0 ")
}

// TestLineDeadline: a client that trickles a command line byte by byte is closed when the
// line is not complete within Timeout, though each byte comes well within it (RFC 5321
// §4.5.3.2 timeouts are per command; go-smtp sets one read deadline per line).
func TestLineDeadline(t *testing.T) {
	h := newHarness(t, func(s *Server) { s.Timeout = 300 * time.Millisecond })
	c := conntest.DialFrom(t, "127.0.0.1", h.addr)
	if got := c.ReadLine(t); !strings.HasPrefix(got, "220 ") {
		t.Fatalf("greeting: %q", got)
	}
	c.Trickle(t, 50*time.Millisecond, 30*time.Second)
}

// TestSubmissionLoginTimeout: on submission, a client that has not authenticated within
// LoginTimeout of connecting is closed, whether silent, trickling or sending NOOP after NOOP;
// an authenticated one keeps the per-command Timeout.
func TestSubmissionLoginTimeout(t *testing.T) {
	h := newSubmissionHarness(t, func(s *Submission) { s.LoginTimeout = 300 * time.Millisecond })
	conntest.CheckLoginDeadline(t, h.addr, "NOOP\r\n")

	h2 := newSubmissionHarness(t, func(s *Submission) { s.LoginTimeout = 3 * time.Second })
	conntest.CheckLoginLiftsDeadline(t, 3*time.Second, func() func() {
		c := h2.login("alice@example.org")
		return func() { c.cmd("NOOP", "250 ") }
	})
}
