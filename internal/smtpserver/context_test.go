package smtpserver

import (
	"context"
	"net"
	"sync"
	"testing"
	"time"

	"posthorn/internal/filter"
	"posthorn/internal/mailauth"
)

// ctxResolver answers every lookup with "no such host", after waiting until its context ends
// when block is set, and keeps the contexts it was given.
type ctxResolver struct {
	block   bool
	mu      sync.Mutex
	ctxs    []context.Context
	entered chan struct{}
}

func (r *ctxResolver) wait(ctx context.Context) error {
	r.mu.Lock()
	r.ctxs = append(r.ctxs, ctx)
	r.mu.Unlock()
	if r.block {
		select {
		case r.entered <- struct{}{}:
		default:
		}
		<-ctx.Done()
		return ctx.Err()
	}
	return &net.DNSError{Err: "no such host", IsNotFound: true}
}

func (r *ctxResolver) LookupTXT(ctx context.Context, _ string) ([]string, error) {
	return nil, r.wait(ctx)
}
func (r *ctxResolver) LookupMX(ctx context.Context, _ string) ([]*net.MX, error) {
	return nil, r.wait(ctx)
}
func (r *ctxResolver) LookupIPAddr(ctx context.Context, _ string) ([]net.IPAddr, error) {
	return nil, r.wait(ctx)
}
func (r *ctxResolver) LookupAddr(ctx context.Context, _ string) ([]string, error) {
	return nil, r.wait(ctx)
}

// contexts returns the contexts the lookups were given so far.
func (r *ctxResolver) contexts() []context.Context {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]context.Context(nil), r.ctxs...)
}

func resolverFilter(r *ctxResolver) *filter.Filter {
	v := &mailauth.Verifier{Resolver: r, Hostname: "mx.example.org", Percent: func() int { return 0 }}
	return &filter.Filter{Auth: filter.MailAuth{Verifier: v}}
}

// TestSessionContextEndsWithSession: the DNS checks of a session run under its context, which
// ends when the client quits.
func TestSessionContextEndsWithSession(t *testing.T) {
	r := &ctxResolver{}
	h, _ := filterHarness(t, resolverFilter(r))
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	c.cmd("MAIL FROM:<a@remote.example>", "250 ")
	var ctxs []context.Context
	for deadline := time.Now().Add(10 * time.Second); len(ctxs) == 0; ctxs = r.contexts() {
		if time.Now().After(deadline) {
			t.Fatal("MAIL FROM looked nothing up")
		}
		time.Sleep(5 * time.Millisecond)
	}
	for _, ctx := range ctxs {
		if ctx.Err() != nil {
			t.Fatalf("a check's context ended during the session: %v", ctx.Err())
		}
	}
	c.cmd("QUIT", "221 ")
	deadline := time.Now().Add(10 * time.Second)
	for _, ctx := range ctxs {
		for ctx.Err() == nil {
			if time.Now().After(deadline) {
				t.Fatal("the checks' context did not end with the session")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}

// TestShutdownCancelsChecks: a session waiting for a DNS lookup when the shutdown stops waiting
// gives up the lookup at once, well before the filter's own timeout (10 s), and Shutdown
// returns.
func TestShutdownCancelsChecks(t *testing.T) {
	r := &ctxResolver{block: true, entered: make(chan struct{}, 1)}
	h, _ := filterHarness(t, resolverFilter(r))
	c := h.dial()
	c.cmd("EHLO client.example", "250 ")
	c.send("MAIL FROM:<a@remote.example>")
	select {
	case <-r.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("MAIL FROM looked nothing up")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- h.srv.Shutdown(ctx) }()
	select {
	case <-done:
	case <-time.After(3 * time.Second):
		t.Fatal("Shutdown did not return")
	}
	deadline := time.Now().Add(3 * time.Second)
	for _, lookup := range r.contexts() {
		for lookup.Err() == nil {
			if time.Now().After(deadline) {
				t.Fatal("the lookup in progress was not cancelled by the shutdown")
			}
			time.Sleep(5 * time.Millisecond)
		}
	}
}
