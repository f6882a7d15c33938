package filter

import (
	"net"
	"sync"
	"time"
)

// RateLimits bound how fast one client address, and one client network (/24 for IPv4, /64 for
// IPv6), may open connections and name recipients. Each is a token bucket refilled at the rate
// per minute, holding at most one minute's worth. State is in memory, at most MaxEntries keys;
// a restart forgets it. A rate of 0 is no limit.
type RateLimits struct {
	ConnectionsPerIP  int // connections per minute from one address
	ConnectionsPerNet int // connections per minute from one network
	RecipientsPerIP   int // recipients per minute from one address
	RecipientsPerNet  int // recipients per minute from one network
	MaxEntries        int // keys remembered; default 100,000

	mu      sync.Mutex
	buckets map[bucketKey]*bucket
}

type bucketKey struct {
	kind byte // 'c' connections, 'r' recipients
	key  string
}

type bucket struct {
	tokens float64
	last   time.Time
}

func (l *RateLimits) allowConnection(ip net.IP, now time.Time) bool {
	return l.allow('c', ip, l.ConnectionsPerIP, l.ConnectionsPerNet, now)
}

func (l *RateLimits) allowRecipient(ip net.IP, now time.Time) bool {
	return l.allow('r', ip, l.RecipientsPerIP, l.RecipientsPerNet, now)
}

// allow takes one token from the address's bucket and one from its network's; it takes none
// when either is empty.
func (l *RateLimits) allow(kind byte, ip net.IP, perIP, perNet int, now time.Time) bool {
	if ip == nil {
		return true
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.buckets == nil {
		l.buckets = map[bucketKey]*bucket{}
	}
	var take []*bucket
	for _, k := range []struct {
		key  string
		rate int
	}{{ip.String(), perIP}, {network(ip), perNet}} {
		if k.rate <= 0 {
			continue
		}
		b := l.bucket(bucketKey{kind, k.key}, float64(k.rate), now)
		if b.tokens < 1 {
			return false
		}
		take = append(take, b)
	}
	for _, b := range take {
		b.tokens--
	}
	return true
}

// bucket returns the refilled bucket of key, making room when the map is full.
func (l *RateLimits) bucket(key bucketKey, rate float64, now time.Time) *bucket {
	b := l.buckets[key]
	if b == nil {
		max := l.MaxEntries
		if max <= 0 {
			max = 100_000
		}
		if len(l.buckets) >= max {
			l.evict(now, max)
		}
		b = &bucket{tokens: rate, last: now}
		l.buckets[key] = b
		return b
	}
	if elapsed := now.Sub(b.last); elapsed > 0 {
		b.tokens = min(rate, b.tokens+rate*elapsed.Minutes())
		b.last = now
	}
	return b
}

// evict drops the keys idle for a minute (their buckets are full again, so forgetting them
// changes nothing), then, if that is not enough, arbitrary keys until a quarter is free.
func (l *RateLimits) evict(now time.Time, max int) {
	for k, b := range l.buckets {
		if now.Sub(b.last) >= time.Minute {
			delete(l.buckets, k)
		}
	}
	for k := range l.buckets {
		if len(l.buckets) < max*3/4 {
			break
		}
		delete(l.buckets, k)
	}
}
