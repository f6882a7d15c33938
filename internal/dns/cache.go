package dns

import (
	"context"
	"errors"
	"net"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Default bounds of a Cache.
const (
	// DefaultCacheTTL is how long an answer is kept. Resolver does not give the records' TTLs,
	// so a fixed time bounds how stale an answer can be: a changed SPF, DMARC or DKIM key
	// record is seen at most this long after the recursive resolver sees it.
	DefaultCacheTTL = 60 * time.Second
	// DefaultNegativeTTL is how long "no such name" or "no such record" is kept (RFC 2308
	// negative caching, shorter than positive answers so a newly published record is soon seen).
	DefaultNegativeTTL = 15 * time.Second
	// DefaultCacheEntries bounds the answers kept.
	DefaultCacheEntries = 10000
)

// Cache is a Resolver that keeps the answers of another for a short fixed time, so that the
// checks of the inbound path (SPF, DMARC, DKIM keys, iprev, DNSBLs) do not ask again for every
// message from the same sender. It keeps answers (TTL) and answers that a name or record does
// not exist (NegativeTTL), never temporary failures (timeouts, SERVFAIL), which are asked
// again at the next lookup. Concurrent lookups of the same name and type share one query to
// the resolver underneath. At most MaxEntries answers are kept: when it is full, expired
// answers are dropped first, then any. Callers get their own copy of each answer.
//
// A Cache is safe for concurrent use. Its fields must be set before the first lookup.
type Cache struct {
	// Resolver answers what the cache does not hold. Required.
	Resolver Resolver
	// TTL is how long an answer is kept. Default: DefaultCacheTTL (60 s).
	TTL time.Duration
	// NegativeTTL is how long a not-found answer is kept. Default: DefaultNegativeTTL (15 s).
	NegativeTTL time.Duration
	// MaxEntries bounds the answers kept. Default: DefaultCacheEntries (10,000).
	MaxEntries int
	// Now returns the current time. Default: time.Now.
	Now func() time.Time

	mu      sync.Mutex
	entries map[cacheKey]cacheEntry
	flights map[cacheKey]*flight
}

// NewCache returns a Cache over r with the default bounds.
func NewCache(r Resolver) *Cache {
	return &Cache{Resolver: r}
}

type cacheKey struct {
	kind string // "txt", "mx", "ip" or "ptr"
	name string
}

type cacheEntry struct {
	value   any // []string, []*net.MX or []net.IPAddr
	err     error
	expires time.Time
}

// flight is a lookup in progress that other callers of the same key wait for.
type flight struct {
	done    chan struct{}
	value   any
	err     error
	waiters atomic.Int32 // callers waiting besides the first (for tests)
}

func (c *Cache) LookupTXT(ctx context.Context, name string) ([]string, error) {
	v, err := c.lookup(ctx, cacheKey{"txt", normalName(name)}, func(ctx context.Context) (any, error) {
		return c.Resolver.LookupTXT(ctx, name)
	})
	txt, _ := v.([]string)
	return append([]string(nil), txt...), err
}

func (c *Cache) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	v, err := c.lookup(ctx, cacheKey{"mx", normalName(name)}, func(ctx context.Context) (any, error) {
		return c.Resolver.LookupMX(ctx, name)
	})
	mxs, _ := v.([]*net.MX)
	var out []*net.MX
	for _, mx := range mxs {
		m := *mx
		out = append(out, &m)
	}
	return out, err
}

func (c *Cache) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	v, err := c.lookup(ctx, cacheKey{"ip", normalName(host)}, func(ctx context.Context) (any, error) {
		return c.Resolver.LookupIPAddr(ctx, host)
	})
	ips, _ := v.([]net.IPAddr)
	var out []net.IPAddr
	for _, ip := range ips {
		out = append(out, net.IPAddr{IP: append(net.IP(nil), ip.IP...), Zone: ip.Zone})
	}
	return out, err
}

func (c *Cache) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	v, err := c.lookup(ctx, cacheKey{"ptr", addr}, func(ctx context.Context) (any, error) {
		return c.Resolver.LookupAddr(ctx, addr)
	})
	names, _ := v.([]string)
	return append([]string(nil), names...), err
}

// normalName is the cache's key for a domain name: DNS names compare without regard to case
// (RFC 4343), and a trailing dot names the same domain.
func normalName(name string) string {
	return strings.ToLower(strings.TrimSuffix(name, "."))
}

// lookup answers key from the cache, or joins a lookup of it in progress, or asks ask.
func (c *Cache) lookup(ctx context.Context, key cacheKey, ask func(context.Context) (any, error)) (any, error) {
	now := c.now()
	c.mu.Lock()
	if e, ok := c.entries[key]; ok && now.Before(e.expires) {
		c.mu.Unlock()
		return e.value, e.err
	}
	if f, ok := c.flights[key]; ok {
		f.waiters.Add(1)
		c.mu.Unlock()
		select {
		case <-f.done:
		case <-ctx.Done():
			return nil, &net.DNSError{Err: ctx.Err().Error(), Name: key.name, IsTemporary: true, IsTimeout: true}
		}
		if isContextError(f.err) && ctx.Err() == nil {
			// The first caller gave up (its context ended); this one has not.
			return ask(ctx)
		}
		return f.value, f.err
	}
	f := &flight{done: make(chan struct{})}
	if c.flights == nil {
		c.flights = map[cacheKey]*flight{}
	}
	c.flights[key] = f
	c.mu.Unlock()

	f.value, f.err = ask(ctx)

	c.mu.Lock()
	delete(c.flights, key)
	switch {
	case f.err == nil:
		c.store(key, cacheEntry{value: f.value, expires: c.now().Add(c.ttl())})
	case IsNotFound(f.err):
		c.store(key, cacheEntry{err: f.err, expires: c.now().Add(c.negativeTTL())})
	}
	c.mu.Unlock()
	close(f.done)
	return f.value, f.err
}

// store keeps e, making room if the cache is full. c.mu is held.
func (c *Cache) store(key cacheKey, e cacheEntry) {
	if c.entries == nil {
		c.entries = map[cacheKey]cacheEntry{}
	}
	if _, ok := c.entries[key]; !ok && len(c.entries) >= c.maxEntries() {
		now := c.now()
		for k, old := range c.entries {
			if !now.Before(old.expires) {
				delete(c.entries, k)
			}
		}
		for k := range c.entries {
			if len(c.entries) < c.maxEntries() {
				break
			}
			delete(c.entries, k) // map order: an arbitrary answer
		}
	}
	c.entries[key] = e
}

// Len returns the number of answers kept, expired ones included until they are replaced or
// dropped to make room.
func (c *Cache) Len() int {
	c.mu.Lock()
	defer c.mu.Unlock()
	return len(c.entries)
}

func isContextError(err error) bool {
	return errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded)
}

func (c *Cache) now() time.Time {
	if c.Now != nil {
		return c.Now()
	}
	return time.Now()
}

func (c *Cache) ttl() time.Duration {
	if c.TTL > 0 {
		return c.TTL
	}
	return DefaultCacheTTL
}

func (c *Cache) negativeTTL() time.Duration {
	if c.NegativeTTL > 0 {
		return c.NegativeTTL
	}
	return DefaultNegativeTTL
}

func (c *Cache) maxEntries() int {
	if c.MaxEntries > 0 {
		return c.MaxEntries
	}
	return DefaultCacheEntries
}
