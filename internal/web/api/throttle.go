package api

import (
	"net"
	"net/http"
	"net/netip"
	"sync"
	"time"
)

// failureCounter counts failed token checks per client in fixed windows: the window begins
// at a client's first failure, and a client with limit failures in its window is refused
// until the window ends. Unlike the login throttle of package credentials, which delays
// each guess of a password, a token is 256 random bits: nothing is to be gained by slowing
// the first guesses, only by refusing a client that keeps trying.
type failureCounter struct {
	limit  int
	window time.Duration

	mu     sync.Mutex
	counts map[string]*failureCount
}

type failureCount struct {
	n     int
	first time.Time
}

// maxClients bounds the memory of the counts: past it, expired counts are dropped.
const maxClients = 100_000

// blocked returns how long client must still wait, or 0.
func (f *failureCounter) blocked(client string, now time.Time) time.Duration {
	f.mu.Lock()
	defer f.mu.Unlock()
	c := f.counts[client]
	if c == nil {
		return 0
	}
	end := c.first.Add(f.window)
	if !now.Before(end) {
		delete(f.counts, client)
		return 0
	}
	if c.n < f.limit {
		return 0
	}
	return end.Sub(now)
}

// fail counts one failure of client.
func (f *failureCounter) fail(client string, now time.Time) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if len(f.counts) >= maxClients {
		for k, c := range f.counts {
			if !now.Before(c.first.Add(f.window)) {
				delete(f.counts, k)
			}
		}
	}
	c := f.counts[client]
	if c == nil || !now.Before(c.first.Add(f.window)) {
		c = &failureCount{first: now}
		f.counts[client] = c
	}
	c.n++
}

// clientKey is the client a request's failures count against: its IPv4 address, or its
// IPv6 /64 (one host's share of a network).
func clientKey(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	ip, err := netip.ParseAddr(host)
	if err != nil {
		return host
	}
	ip = ip.Unmap()
	if ip.Is6() {
		p, _ := ip.Prefix(64)
		return p.String()
	}
	return ip.String()
}

// clientIP is the address of the connection's peer, as the consent record takes it
// (campaign.TruncateIP truncates it).
func clientIP(r *http.Request) string {
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}
