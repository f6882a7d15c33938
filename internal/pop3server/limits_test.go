package pop3server

import (
	"strings"
	"testing"
	"time"

	"posthorn/internal/testutil/conntest"
)

// TestMaxPerAddress: the connection over the limit from one address gets -ERR [IN-USE] while
// one from another address is served; both listeners count together.
func TestMaxPerAddress(t *testing.T) {
	h := newHarness(t, func(s *Server) { s.MaxPerAddress = 2 })
	greeting := "+OK pop.example.org posthorn POP3 ready"
	for _, addr := range []string{h.addr, h.addr} {
		if got := conntest.DialFrom(t, "127.0.0.1", addr).ReadLine(t); got != greeting {
			t.Fatalf("within the limit: %q", got)
		}
	}
	over := conntest.DialFrom(t, "127.0.0.1", h.tlsAddr)
	if got := over.ReadLine(t); !strings.HasPrefix(got, "-ERR [IN-USE] ") {
		t.Fatalf("over the limit: %q", got)
	}
	over.ExpectClosed(t, 10*time.Second)
	if got := conntest.DialFrom(t, "127.0.0.2", h.addr).ReadLine(t); got != greeting {
		t.Fatalf("from a second address: %q", got)
	}
}

// TestLoginTimeout: before login, a silent client and one that trickles a command line are
// closed after LoginTimeout; a logged-in session keeps IdleTimeout.
func TestLoginTimeout(t *testing.T) {
	h := newHarness(t, func(s *Server) {
		s.LoginTimeout = 300 * time.Millisecond
		s.IdleTimeout = time.Hour
	})
	silent := conntest.DialFrom(t, "127.0.0.1", h.addr)
	silent.ReadLine(t)
	silent.ExpectClosed(t, 10*time.Second)

	trickle := conntest.DialFrom(t, "127.0.0.1", h.addr)
	trickle.ReadLine(t)
	trickle.Write([]byte("NOOP"))
	trickle.Trickle(t, 50*time.Millisecond, 30*time.Second)

	c := h.login()
	time.Sleep(time.Second) // several login timeouts
	c.cmd("NOOP", "+OK")
}
