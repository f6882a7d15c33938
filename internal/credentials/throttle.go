package credentials

import (
	"context"
	"net/netip"
	"time"
)

// Throttling of failed logins, shared by every protocol (see the package doc for the policy).
const (
	// FreeFailures are the failures a count may hold before attempts wait.
	FreeFailures = 3
	// BaseDelay is the wait after FreeFailures failures; it doubles with each further one.
	BaseDelay = 250 * time.Millisecond
	// MaxDelay caps the wait.
	MaxDelay = 8 * time.Second
	// HardLimit is the failures of one source within Window after which its attempts are
	// refused outright.
	HardLimit = 30
	// AccountHardLimit is the failures against one account from sources it does not know
	// within Window after which attempts on it from unknown sources are refused outright.
	AccountHardLimit = 100
	// Window is how long a count lasts from its first failure.
	Window = 15 * time.Minute
	// KnownSourceAge is how long after its last successful login a source stays known.
	KnownSourceAge = 90 * 24 * time.Hour
	// KnownSourcesKept is the number of sources kept per account, the most recent.
	KnownSourcesKept = 32
)

// knownSourceRefresh is how stale a known source's last success may get before a login from it
// writes it again: a client that logs in every minute does not write every minute.
const knownSourceRefresh = time.Hour

// failures is one count: the failures within the window that began at first, plus the
// attempts being evaluated now (each counts as a failure until its result refunds it).
type failures struct {
	count int
	first time.Time
}

// attempt is one login attempt's place in the counts, taken before its password is checked.
type attempt struct {
	source, account *failures // account is nil for a known source
	// shared are the attempt's places in the shared counts, when the Authenticator has them.
	shared []sharedPlace
}

// sharedPlace is one place in a count of the ThrottleStore: its key and the start of its
// window, which the refund names.
type sharedPlace struct {
	key   string
	start time.Time
}

// begin takes an attempt's place in the counts of its source and, for a source the account does
// not know, of the account, before anything is hashed: so parallel guesses count against each
// other. It returns the delay to wait first, or refused when a count is at its hard limit (the
// attempt then takes no place).
func (a *Authenticator) begin(ctx context.Context, source netip.Prefix, acct string, known bool) (att attempt, delay time.Duration, refused bool, err error) {
	if a.shared != nil {
		return a.beginShared(ctx, source, acct, known)
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	n := current(a.bySource, source, now)
	if n >= HardLimit {
		return attempt{}, 0, true, nil
	}
	if !known {
		m := current(a.byAcct, acct, now)
		if m >= AccountHardLimit {
			return attempt{}, 0, true, nil
		}
		n = max(n, m)
		att.account = record(a.byAcct, acct, now)
		att.account.count++
	}
	att.source = record(a.bySource, source, now)
	att.source.count++
	return att, delayAfter(n), false, nil
}

// beginShared is begin over the shared counts (SetSharedThrottle): each count is added to
// first, atomically in the store, and the attempt finds the failures before its own; one at
// its hard limit gives every place back and refuses the attempt. So the counts are the same
// whichever node an attempt reaches.
func (a *Authenticator) beginShared(ctx context.Context, source netip.Prefix, acct string, known bool) (attempt, time.Duration, bool, error) {
	type count struct {
		key   string
		limit int64
	}
	counts := []count{{"login-source:" + source.String(), HardLimit}}
	if !known {
		counts = append(counts, count{"login-account:" + acct, AccountHardLimit})
	}
	var att attempt
	n := int64(0)
	for _, c := range counts {
		after, start, err := a.shared.ThrottleAdd(ctx, c.key, Window)
		if err != nil {
			a.refund(ctx, att)
			return attempt{}, 0, false, err
		}
		att.shared = append(att.shared, sharedPlace{c.key, start})
		if after-1 >= c.limit {
			a.refund(ctx, att)
			return attempt{}, 0, true, nil
		}
		n = max(n, after-1)
	}
	return att, delayAfter(int(n)), false, nil
}

// refund gives an attempt's place back: it succeeded, or ended before its password was judged.
// A count whose window has begun again since the attempt began is left alone.
func (a *Authenticator) refund(ctx context.Context, att attempt) {
	if len(att.shared) > 0 {
		// The refund is owed even when the attempt's context has ended.
		ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
		defer cancel()
		for _, p := range att.shared {
			if err := a.shared.ThrottleRefund(ctx, p.key, p.start); err != nil {
				a.logger.Error("refund login attempt", "err", err)
			}
		}
		return
	}
	a.mu.Lock()
	defer a.mu.Unlock()
	for _, f := range []*failures{att.source, att.account} {
		if f != nil && f.count > 0 {
			f.count--
		}
	}
}

// delayAfter is the wait of an attempt that finds n failures in its counts.
func delayAfter(n int) time.Duration {
	if n < FreeFailures {
		return 0
	}
	d := BaseDelay << (n - FreeFailures)
	if d > MaxDelay || d <= 0 {
		d = MaxDelay
	}
	return d
}

// current returns the failures of key within Window, forgetting older ones.
func current[K comparable](m map[K]*failures, key K, now time.Time) int {
	f := m[key]
	if f == nil {
		return 0
	}
	if now.Sub(f.first) > Window {
		delete(m, key)
		return 0
	}
	return f.count
}

// maxTracked bounds the memory of the failure maps: past it, expired entries are dropped.
const maxTracked = 100_000

func record[K comparable](m map[K]*failures, key K, now time.Time) *failures {
	if len(m) >= maxTracked {
		for k, f := range m {
			if now.Sub(f.first) > Window {
				delete(m, k)
			}
		}
	}
	f := m[key]
	if f == nil || now.Sub(f.first) > Window {
		f = &failures{first: now}
		m[key] = f
	}
	return f
}

// ipPrefix groups IPv4 addresses by themselves and IPv6 addresses by their /64.
func ipPrefix(ip netip.Addr) netip.Prefix {
	ip = ip.Unmap()
	bits := 32
	if ip.Is6() {
		bits = 64
	}
	p, _ := ip.Prefix(bits)
	return p
}
