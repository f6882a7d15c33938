package imapserver

import (
	"testing"
	"time"

	"posthorn/internal/testutil/conntest"
)

// TestMaxPerAddress: the connection over the limit from one address gets "* BYE
// [UNAVAILABLE]" while one from another address is served; both listeners count together.
func TestMaxPerAddress(t *testing.T) {
	h := newHarness(t, func(s *Server) { s.MaxPerAddress = 2 })
	conntest.CheckPerAddressLimit(t, h.addr, h.tlsAddr, 2, "* OK ", "* BYE [UNAVAILABLE] ")
}

// TestLoginTimeout: before login, a silent client, one that trickles a command line and one
// that sends NOOP after NOOP are closed LoginTimeout after they connected (RFC 9051 §5.4's
// 30 minutes are for authenticated sessions); a logged-in session keeps IdleTimeout.
func TestLoginTimeout(t *testing.T) {
	h := newHarness(t, func(s *Server) {
		s.LoginTimeout = 300 * time.Millisecond
		s.IdleTimeout = time.Hour
	})
	conntest.CheckLoginDeadline(t, h.addr, "a1 NOOP\r\n")

	h2 := newHarness(t, func(s *Server) {
		s.LoginTimeout = 3 * time.Second
		s.IdleTimeout = time.Hour
	})
	conntest.CheckLoginLiftsDeadline(t, 3*time.Second, func() func() {
		c := h2.login()
		return func() { c.cmd("a2 NOOP", "a2 OK NOOP completed") }
	})
}
