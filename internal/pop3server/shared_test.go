package pop3server

import (
	"context"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/credentials"
	"posthorn/internal/store"
	"posthorn/internal/store/postgres"
	"posthorn/internal/testutil/pgtest"
)

// TestMaildropLockAcrossNodes: two servers (two nodes) over one mail store, each with its own
// PostgreSQL Store on one database for the maildrop locks: a session on one holds the
// maildrop, a login on the other gets -ERR [IN-USE] until it quits; a lock whose holder died
// (taken and never renewed) refuses logins until its time to live has passed, then frees.
func TestMaildropLockAcrossNodes(t *testing.T) {
	url := pgtest.StartForTest(t).Database(t)
	var pg []*postgres.Store
	for range 2 {
		s, err := postgres.Open(t.Context(), url)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { s.Close() })
		pg = append(pg, s)
	}
	a := newHarness(t, func(s *Server) { s.Leases = pg[0] })
	b := &harness{Env: a.Env, t: t, reg: prometheus.NewRegistry()}
	b.srv = &Server{Hostname: "pop.example.org", Store: a.Env.Store, Bodies: a.Env.Blobs.Bodies(),
		Auth: credentials.NewAuthenticator(a.Env.Store, a.Env.Logger, b.reg), Logger: a.Env.Logger,
		AllowInsecureAuth: true, Leases: pg[1], MaildropLeaseTTL: 300 * time.Millisecond}
	b.addr, b.tlsAddr = a.Env.Serve(b.srv.Serve, b.srv.ServeTLS)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		if err := b.srv.Shutdown(ctx); err != nil {
			t.Errorf("shutdown: %v", err)
		}
	})

	held := a.login()
	c := b.dial()
	c.cmd("USER alice@example.org", "+OK send PASS")
	c.cmd("PASS "+testPassword, "-ERR [IN-USE] ...")
	// Another account is not locked.
	b.login("bob@example.org").cmd("QUIT", "+OK ...")
	held.cmd("QUIT", "+OK ...")
	held.expectClosed()
	// Freed at QUIT: node b's session holds it now, past several renewals, and node a refuses.
	onB := b.login()
	// Three of b's lease times: without renewals the lock would have run out.
	deadline := time.Now().Add(3 * b.srv.MaildropLeaseTTL)
	for time.Now().Before(deadline) {
		onB.cmd("NOOP", "+OK")
	}
	c = a.dial()
	c.cmd("USER alice@example.org", "+OK send PASS")
	c.cmd("PASS "+testPassword, "-ERR [IN-USE] ...")
	onB.cmd("QUIT", "+OK ...")

	// A node that took the lock and died: its lease runs out without renewal.
	acc, err := a.Env.Store.GetAccount(t.Context(), "alice@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := pg[0].TryAcquireLease(t.Context(), store.MaildropLease(acc.ID), "dead node", 500*time.Millisecond); err != nil || !ok {
		t.Fatalf("the dead node's lock: %v, %v", ok, err)
	}
	refused := 0
	deadline = time.Now().Add(20 * time.Second)
	for {
		line := b.tryLogin()
		if strings.HasPrefix(line, "+OK ") {
			break
		}
		if !strings.HasPrefix(line, "-ERR [IN-USE]") || time.Now().After(deadline) {
			t.Fatalf("login on node b while the dead node's lock runs out: %q", line)
		}
		refused++
		time.Sleep(20 * time.Millisecond)
	}
	if refused == 0 {
		t.Error("the dead node's lock never refused a login")
	}
}

// tryLogin logs in as alice and returns the reply to PASS, then quits.
func (h *harness) tryLogin() string {
	h.t.Helper()
	c := h.dial()
	c.cmd("USER alice@example.org", "+OK send PASS")
	c.send("PASS " + testPassword + "\r\n")
	line := c.readLine()
	c.cmd("QUIT", "+OK ...")
	return line
}

// lostLeases are Leases whose renewals find the lease gone once lost is set, as when it
// expired and another node took it.
type lostLeases struct {
	store.Leases
	lost atomic.Bool
}

func (l *lostLeases) RenewLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	if l.lost.Load() {
		return false, nil
	}
	return l.Leases.RenewLease(ctx, name, holder, ttl)
}

// TestMaildropLeaseLost: a session whose renewal finds its shared maildrop lock gone is ended
// at once, and the messages it marked deleted stay.
func TestMaildropLeaseLost(t *testing.T) {
	var leases lostLeases
	h := newHarness(t, func(s *Server) {
		leases.Leases = s.Store.(store.Leases)
		s.Leases = &leases
		s.MaildropLeaseTTL = 150 * time.Millisecond
	})
	h.Deliver(h.Alice, "INBOX", testMessage(1))
	c := h.login()
	c.cmd("DELE 1", "+OK ...")
	leases.lost.Store(true)
	c.expectClosed()
	// The ended session gives the lock back as it finishes.
	deadline := time.Now().Add(10 * time.Second)
	for line := h.tryLogin(); !strings.HasPrefix(line, "+OK "); line = h.tryLogin() {
		if !strings.HasPrefix(line, "-ERR [IN-USE]") || time.Now().After(deadline) {
			t.Fatalf("login after the lost session: %q", line)
		}
		time.Sleep(10 * time.Millisecond)
	}
	c = h.login()
	c.cmd("STAT", "+OK 1 ...")
	c.cmd("QUIT", "+OK ...")
}
