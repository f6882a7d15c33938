package dns

import (
	"context"
	"fmt"
	"net"
	"sync"
	"testing"
	"time"
)

// countingResolver answers TXT lookups from txt (names without records are NXDOMAIN, names in
// fail time out) and counts the lookups that reach it. With gate set, each lookup waits for it
// to close.
type countingResolver struct {
	mu    sync.Mutex
	txt   map[string][]string
	fail  map[string]bool
	calls map[string]int
	gate  chan struct{}
}

func newCountingResolver() *countingResolver {
	return &countingResolver{txt: map[string][]string{}, fail: map[string]bool{}, calls: map[string]int{}}
}

func (r *countingResolver) count(name string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[name]
}

func (r *countingResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	r.mu.Lock()
	r.calls[name]++
	gate, txt, fail := r.gate, r.txt[name], r.fail[name]
	r.mu.Unlock()
	if gate != nil {
		select {
		case <-gate:
		case <-ctx.Done():
			return nil, &net.DNSError{Err: "canceled", Name: name, IsTemporary: true, UnwrapErr: ctx.Err()}
		}
	}
	switch {
	case fail:
		return nil, &net.DNSError{Err: "i/o timeout", Name: name, IsTimeout: true, IsTemporary: true}
	case txt == nil:
		return nil, &net.DNSError{Err: "no such host", Name: name, IsNotFound: true}
	}
	return txt, nil
}

func (r *countingResolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	r.mu.Lock()
	r.calls["mx "+name]++
	r.mu.Unlock()
	return []*net.MX{{Host: "mx." + name + ".", Pref: 10}}, nil
}

func (r *countingResolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	return nil, &net.DNSError{Err: "no such host", Name: host, IsNotFound: true}
}

func (r *countingResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	return nil, &net.DNSError{Err: "no such host", Name: addr, IsNotFound: true}
}

// fakeClock is a clock that moves only when told.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) advance(d time.Duration) {
	c.mu.Lock()
	c.now = c.now.Add(d)
	c.mu.Unlock()
}

func newTestCache(r Resolver) (*Cache, *fakeClock) {
	clock := &fakeClock{now: time.Unix(1_800_000_000, 0)}
	return &Cache{Resolver: r, TTL: time.Minute, NegativeTTL: 10 * time.Second, Now: clock.Now}, clock
}

func TestCacheAnswersUntilTTL(t *testing.T) {
	r := newCountingResolver()
	r.txt["example.com"] = []string{"v=spf1 -all"}
	c, clock := newTestCache(r)
	ctx := context.Background()
	for _, name := range []string{"example.com", "EXAMPLE.com.", "example.com"} {
		txt, err := c.LookupTXT(ctx, name)
		if err != nil || len(txt) != 1 || txt[0] != "v=spf1 -all" {
			t.Fatalf("%s: %q, %v", name, txt, err)
		}
	}
	if n := r.count("example.com"); n != 1 {
		t.Errorf("%d lookups within the TTL, want 1", n)
	}
	clock.advance(time.Minute - time.Second)
	if _, err := c.LookupTXT(ctx, "example.com"); err != nil || r.count("example.com") != 1 {
		t.Errorf("before expiry: %v, %d lookups", err, r.count("example.com"))
	}
	clock.advance(time.Second)
	if _, err := c.LookupTXT(ctx, "example.com"); err != nil || r.count("example.com") != 2 {
		t.Errorf("at expiry: %v, %d lookups, want 2", err, r.count("example.com"))
	}
}

func TestCacheNegativeAnswers(t *testing.T) {
	r := newCountingResolver()
	c, clock := newTestCache(r)
	ctx := context.Background()
	for range 3 {
		if _, err := c.LookupTXT(ctx, "_dmarc.example.com"); !IsNotFound(err) {
			t.Fatalf("got %v, want not found", err)
		}
	}
	if n := r.count("_dmarc.example.com"); n != 1 {
		t.Errorf("%d lookups of a missing name, want 1", n)
	}
	// Published meanwhile: seen once the shorter negative TTL has passed.
	r.mu.Lock()
	r.txt["_dmarc.example.com"] = []string{"v=DMARC1; p=reject"}
	r.mu.Unlock()
	clock.advance(10 * time.Second)
	if txt, err := c.LookupTXT(ctx, "_dmarc.example.com"); err != nil || len(txt) != 1 {
		t.Errorf("after the negative TTL: %q, %v", txt, err)
	}
}

func TestCacheKeepsNoTemporaryErrors(t *testing.T) {
	r := newCountingResolver()
	r.fail["sel._domainkey.example.com"] = true
	c, _ := newTestCache(r)
	ctx := context.Background()
	for range 3 {
		if _, err := c.LookupTXT(ctx, "sel._domainkey.example.com"); !IsTemporary(err) {
			t.Fatalf("got %v, want a temporary error", err)
		}
	}
	if n := r.count("sel._domainkey.example.com"); n != 3 {
		t.Errorf("%d lookups, want 3: a temporary error must be asked again", n)
	}
	r.mu.Lock()
	r.fail["sel._domainkey.example.com"] = false
	r.txt["sel._domainkey.example.com"] = []string{"v=DKIM1; p=x"}
	r.mu.Unlock()
	if txt, err := c.LookupTXT(ctx, "sel._domainkey.example.com"); err != nil || len(txt) != 1 {
		t.Errorf("after recovery: %q, %v", txt, err)
	}
}

// Concurrent lookups of one name share one query, and each caller gets its own copy.
func TestCacheConcurrentLookupsShareOneQuery(t *testing.T) {
	r := newCountingResolver()
	r.txt["example.com"] = []string{"record"}
	r.gate = make(chan struct{})
	c, _ := newTestCache(r)
	const callers = 20
	var wg sync.WaitGroup
	results := make([][]string, callers)
	errs := make([]error, callers)
	for i := range callers {
		wg.Go(func() { results[i], errs[i] = c.LookupTXT(context.Background(), "example.com") })
	}
	// Wait until the first lookup reached the resolver and the others had time to join it.
	deadline := time.Now().Add(10 * time.Second)
	for r.count("example.com") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no lookup reached the resolver")
		}
		time.Sleep(time.Millisecond)
	}
	waitJoined(t, c, "example.com", callers-1)
	close(r.gate)
	wg.Wait()
	for i := range callers {
		if errs[i] != nil || len(results[i]) != 1 || results[i][0] != "record" {
			t.Fatalf("caller %d: %q, %v", i, results[i], errs[i])
		}
	}
	if n := r.count("example.com"); n != 1 {
		t.Errorf("%d queries for %d concurrent callers, want 1", n, callers)
	}
	results[0][0] = "changed"
	if txt, _ := c.LookupTXT(context.Background(), "example.com"); txt[0] != "record" {
		t.Errorf("a caller's change reached the cache: %q", txt)
	}
}

// waitJoined waits until n callers wait for the lookup of name in progress.
func waitJoined(t *testing.T, c *Cache, name string, n int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		c.mu.Lock()
		f := c.flights[cacheKey{"txt", name}]
		c.mu.Unlock()
		if f != nil && f.waiters.Load() >= int32(n) {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("fewer than %d callers joined the lookup of %s", n, name)
		}
		time.Sleep(time.Millisecond)
	}
}

// A caller that gives up does not take the others' answer away.
func TestCacheCancelledCallerLeavesOthers(t *testing.T) {
	r := newCountingResolver()
	r.txt["example.com"] = []string{"record"}
	r.gate = make(chan struct{})
	c, _ := newTestCache(r)
	ctx, cancel := context.WithCancel(context.Background())
	first := make(chan error, 1)
	go func() {
		_, err := c.LookupTXT(ctx, "example.com")
		first <- err
	}()
	deadline := time.Now().Add(10 * time.Second)
	for r.count("example.com") == 0 {
		if time.Now().After(deadline) {
			t.Fatal("no lookup reached the resolver")
		}
		time.Sleep(time.Millisecond)
	}
	second := make(chan error, 1)
	go func() {
		_, err := c.LookupTXT(context.Background(), "example.com")
		second <- err
	}()
	waitJoined(t, c, "example.com", 1)
	cancel()
	if err := <-first; !IsTemporary(err) {
		t.Errorf("cancelled caller: %v, want a temporary error", err)
	}
	close(r.gate)
	if err := <-second; err != nil {
		t.Errorf("the other caller: %v", err)
	}
	if txt, err := c.LookupTXT(context.Background(), "example.com"); err != nil || txt[0] != "record" {
		t.Errorf("afterwards: %q, %v", txt, err)
	}
}

func TestCacheBoundedSize(t *testing.T) {
	r := newCountingResolver()
	c, clock := newTestCache(r)
	c.MaxEntries = 10
	ctx := context.Background()
	for i := range 25 {
		name := fmt.Sprintf("n%d.example", i)
		r.txt[name] = []string{"x"}
		if _, err := c.LookupTXT(ctx, name); err != nil {
			t.Fatal(err)
		}
		if c.Len() > 10 {
			t.Fatalf("%d entries, bound 10", c.Len())
		}
	}
	// Expired answers make room before live ones are dropped.
	clock.advance(time.Hour)
	r.txt["fresh.example"] = []string{"x"}
	if _, err := c.LookupTXT(ctx, "fresh.example"); err != nil || c.Len() != 1 {
		t.Errorf("after expiry: %v, %d entries, want 1", err, c.Len())
	}
}

func TestCacheMXCopies(t *testing.T) {
	r := newCountingResolver()
	c, _ := newTestCache(r)
	mx, err := c.LookupMX(context.Background(), "example.com")
	if err != nil || len(mx) != 1 {
		t.Fatal(mx, err)
	}
	mx[0].Pref = 99
	mx, _ = c.LookupMX(context.Background(), "example.com")
	if mx[0].Pref != 10 || r.count("mx example.com") != 1 {
		t.Errorf("got pref %d after %d lookups, want 10 after 1", mx[0].Pref, r.count("mx example.com"))
	}
}
