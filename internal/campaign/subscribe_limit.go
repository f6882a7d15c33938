package campaign

import (
	"net/netip"
	"sync"
	"time"
)

// maxLimitKeys bounds the memory of each limit of the subscription form: at most this many
// client networks or addresses are counted at a time.
const maxLimitKeys = 100000

// formLimits are the subscription form's limits, counted in memory (a restart forgets them:
// the one pending confirmation per address, which the store keeps, still holds).
type formLimits struct {
	perIP      windowLimit // requests per client network per hour
	perAddress windowLimit // confirmation mails per address per day
}

func newFormLimits(perIPPerHour, perAddressPerDay int) formLimits {
	return formLimits{
		perIP:      windowLimit{limit: max(perIPPerHour, 1), window: time.Hour},
		perAddress: windowLimit{limit: max(perAddressPerDay, 1), window: 24 * time.Hour},
	}
}

// clientNetwork is the key a client is counted under: an IPv4 address, or an IPv6 address's
// /64 (one subscriber line usually has a whole /64). An unparsable address counts under "".
func clientNetwork(ip string) string {
	a, err := netip.ParseAddr(ip)
	if err != nil {
		return ""
	}
	a = a.Unmap()
	if a.Is4() {
		return a.String()
	}
	p, err := a.Prefix(64)
	if err != nil {
		return ""
	}
	return p.String()
}

// windowLimit counts events per key in fixed windows: at most limit per window, the window of
// a key starting with its first event. With maxLimitKeys keys counted, expired ones are
// forgotten; if none has expired, a new key is refused (closed rather than open: under such a
// flood the form sends nothing rather than everything).
type windowLimit struct {
	limit  int
	window time.Duration
	mu     sync.Mutex
	m      map[string]*windowCount
}

type windowCount struct {
	start time.Time
	n     int
}

// allow counts one event of key at now and reports whether it is within the limit.
func (w *windowLimit) allow(key string, now time.Time) bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.m == nil {
		w.m = make(map[string]*windowCount)
	}
	c, ok := w.m[key]
	if ok && now.Sub(c.start) >= w.window {
		c.start, c.n = now, 0
	}
	if !ok {
		if len(w.m) >= maxLimitKeys {
			for k, v := range w.m {
				if now.Sub(v.start) >= w.window {
					delete(w.m, k)
				}
			}
			if len(w.m) >= maxLimitKeys {
				return false
			}
		}
		c = &windowCount{start: now}
		w.m[key] = c
	}
	if c.n >= w.limit {
		return false
	}
	c.n++
	return true
}
