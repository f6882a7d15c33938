package smtpserver

import (
	"context"
	"net"
	"strings"
	"sync/atomic"
	"testing"

	"posthorn/internal/filter"
	"posthorn/internal/filter/filtertest"
	"posthorn/internal/mailauth"
)

// ptrCounter answers from filtertest's tables and counts the PTR lookups; with temporary set,
// every PTR lookup fails as a timeout does.
type ptrCounter struct {
	filtertest.Resolver
	temporary atomic.Bool
	lookups   atomic.Int64
}

func (r *ptrCounter) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	r.lookups.Add(1)
	if r.temporary.Load() {
		return nil, &net.DNSError{Err: "i/o timeout", Name: addr, IsTimeout: true, IsTemporary: true}
	}
	return r.Resolver.LookupAddr(ctx, addr)
}

// TestIPRevOncePerConnection: iprev depends on the client address alone (RFC 8601 §3), so the
// PTR name of a connection's client is looked up at its first transaction and the answer is
// reused by the later ones; each stored message still carries it. A new connection asks again,
// and a temporary failure is not reused.
func TestIPRevOncePerConnection(t *testing.T) {
	res := &ptrCounter{Resolver: filtertest.Resolver{
		Addr: map[string][]string{"127.0.0.1": {"mail.remote.example."}},
		IP:   map[string][]net.IPAddr{"mail.remote.example": {{IP: net.ParseIP("127.0.0.1")}}},
	}}
	v := &mailauth.Verifier{Resolver: res, Hostname: "mx.example.org"}
	h, _ := filterHarness(t, &filter.Filter{Auth: filter.MailAuth{Verifier: v}})
	send := func(n int, want string) {
		t.Helper()
		c := h.dial()
		c.cmd("EHLO client.example", "250 ")
		for range n {
			c.sendMessage("a@remote.example", "alice@example.org", "Subject: hi\r\n\r\nhello\r\n", "250 ")
		}
		c.cmd("QUIT", "221 ")
		stored := h.bodies("alice@example.org")
		for _, m := range stored[len(stored)-n:] {
			if !strings.Contains(m, want) {
				t.Fatalf("stored message lacks %s:\n%s", want, m)
			}
		}
	}
	send(3, "iprev=pass policy.iprev=127.0.0.1 (mail.remote.example)")
	if n := res.lookups.Load(); n != 1 {
		t.Fatalf("3 transactions on one connection: %d PTR lookups, want 1", n)
	}
	send(1, "iprev=pass")
	if n := res.lookups.Load(); n != 2 {
		t.Fatalf("a second connection: %d PTR lookups in all, want 2", n)
	}
	res.temporary.Store(true)
	send(2, "iprev=temperror")
	if n := res.lookups.Load(); n != 4 {
		t.Fatalf("temporary failures: %d PTR lookups in all, want 4 (not reused)", n)
	}
}
