package pop3server

import (
	"testing"
	"time"

	"posthorn/internal/testutil/conntest"
)

// TestMaxPerAddress: the connection over the limit from one address gets -ERR [IN-USE] while
// one from another address is served; both listeners count together.
func TestMaxPerAddress(t *testing.T) {
	h := newHarness(t, func(s *Server) { s.MaxPerAddress = 2 })
	conntest.CheckPerAddressLimit(t, h.addr, h.tlsAddr, 2, "+OK pop.example.org posthorn POP3 ready", "-ERR [IN-USE] ")
}

// TestLoginTimeout: before login, a silent client, one that trickles a command line and one
// that sends USER after USER are closed LoginTimeout after they connected; a logged-in session
// keeps IdleTimeout.
func TestLoginTimeout(t *testing.T) {
	h := newHarness(t, func(s *Server) {
		s.LoginTimeout = 300 * time.Millisecond
		s.IdleTimeout = time.Hour
	})
	// USER, not NOOP: NOOP is a bad command before login, and bad commands end a session too.
	conntest.CheckLoginDeadline(t, h.addr, "USER alice@example.org\r\n")

	// Logged in, a session keeps IdleTimeout: it is still there after the login deadline.
	h2 := newHarness(t, func(s *Server) {
		s.LoginTimeout = 3 * time.Second
		s.IdleTimeout = time.Hour
	})
	conntest.CheckLoginLiftsDeadline(t, 3*time.Second, func() func() {
		c := h2.login()
		return func() { c.cmd("NOOP", "+OK") }
	})
}
