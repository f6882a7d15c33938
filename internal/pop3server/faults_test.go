package pop3server

import (
	"context"
	"encoding/base64"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/credentials"
	"posthorn/internal/testutil/faultstore"
	"posthorn/internal/testutil/storeenv"
)

// TestCommandsWithoutDatabase: while the store does not answer, a login gets -ERR [SYS/TEMP]
// (and is no failed login for the throttling), the commands that need only the maildrop read
// at login still work, and QUIT's UPDATE gets -ERR [SYS/TEMP] and removes nothing; once the
// store is back the same session logs in, and the deletions of a new one are made.
func TestCommandsWithoutDatabase(t *testing.T) {
	var fs *faultstore.Store
	var mu sync.Mutex
	var delays []time.Duration
	h := newHarness(t, func(s *Server) {
		fs = faultstore.New(s.Store.(storeenv.Store))
		s.Store = fs
		s.Auth = credentials.NewAuthenticator(fs, s.Logger, prometheus.NewRegistry())
		s.Auth.SetSleep(func(_ context.Context, d time.Duration) error {
			mu.Lock()
			defer mu.Unlock()
			delays = append(delays, d)
			return nil
		})
	})
	h.Deliver(h.Alice, "INBOX", testMessage(1))
	h.Deliver(h.Alice, "INBOX", testMessage(2))
	c := h.login()

	fs.Fail(true)
	other := h.dial()
	for range 8 {
		other.cmd("USER alice@example.org", "+OK send PASS")
		other.cmd("PASS "+testPassword, "-ERR [SYS/TEMP] ...")
	}
	ir := base64.StdEncoding.EncodeToString([]byte("\x00alice@example.org\x00" + testPassword))
	other.cmd("AUTH PLAIN "+ir, "-ERR [SYS/TEMP] ...")
	c.cmd("STAT", "+OK 2 ...")
	c.cmd("LIST 1", "+OK 1 ...")
	c.cmd("RETR 1", "+OK ... octets")
	for line := ""; line != "."; line = c.readLine() {
	}
	c.cmd("DELE 2", "+OK ...")
	c.cmd("QUIT", "-ERR [SYS/TEMP] ...")
	c.expectClosed()

	fs.Fail(false)
	other.cmd("USER alice@example.org", "+OK send PASS")
	other.cmd("PASS "+testPassword, "+OK alice@example.org has 2 messages ...")
	other.cmd("DELE 2", "+OK ...")
	other.cmd("QUIT", "+OK ...")
	other.expectClosed()
	h.login().cmd("STAT", "+OK 1 ...")
	mu.Lock()
	defer mu.Unlock()
	for _, d := range delays {
		if d > 0 {
			t.Errorf("a login waited %v: failures of the store were counted as failed logins", d)
		}
	}
}
