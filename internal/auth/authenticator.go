package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/netip"
	"runtime"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/address"
	"posthorn/internal/store"
)

// Errors of Login. Protocols map both to their "authentication failed" reply; the difference is
// only for logs and metrics, never shown to the client.
var (
	ErrInvalidCredentials = errors.New("invalid credentials")
	ErrThrottled          = errors.New("too many failed logins")
)

// Throttling of failed logins, shared by every protocol: after each failure from an IP address
// (or its /64 for IPv6) or against an account, the next attempt from there or for it waits
// 2^(failures-FreeFailures) × BaseDelay, up to MaxDelay; after HardLimit failures within Window
// attempts are refused outright until the window passes. A success clears the account's count,
// not the IP's (one right password must not unlock guessing at other accounts).
const (
	FreeFailures = 3
	BaseDelay    = 250 * time.Millisecond
	MaxDelay     = 8 * time.Second
	HardLimit    = 30
	Window       = 15 * time.Minute
)

// Authenticator checks passwords for every protocol, with throttling, logs and metrics.
type Authenticator struct {
	store   store.Store
	logger  *slog.Logger
	sleep   func(ctx context.Context, d time.Duration) error
	now     func() time.Time
	mu      sync.Mutex
	byIP    map[netip.Prefix]*failures
	byAcct  map[string]*failures
	results *prometheus.CounterVec
	// hashing bounds the password hashes computed at once: each takes 64 MiB, so a burst of
	// logins (or of guesses) queues here instead of exhausting memory.
	hashing chan struct{}
	// secret keys the fake SCRAM salts of unknown users (see fakeSalt).
	secret []byte
}

type failures struct {
	count int
	first time.Time
}

// NewAuthenticator returns an Authenticator over st that registers its metrics with reg.
func NewAuthenticator(st store.Store, logger *slog.Logger, reg prometheus.Registerer) *Authenticator {
	a := &Authenticator{
		store:   st,
		logger:  logger,
		sleep:   sleepContext,
		now:     time.Now,
		byIP:    map[netip.Prefix]*failures{},
		byAcct:  map[string]*failures{},
		hashing: make(chan struct{}, max(2, runtime.NumCPU())),
		secret:  newSecret(),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "posthorn_auth_attempts_total",
			Help: "Password authentication attempts by protocol and result (ok, failed, throttled).",
		}, []string{"protocol", "result"}),
	}
	if reg != nil {
		reg.MustRegister(a.results)
	}
	return a
}

// Login checks username (an account address) and password for protocol ("imap", "pop3",
// "submission") from remote. It waits the throttling delay first, so a guesser is slowed
// whether or not the password is right.
func (a *Authenticator) Login(ctx context.Context, protocol, username, password string, remote netip.Addr) (store.Account, error) {
	addr, perr := address.Parse(username)
	acctKey := username
	if perr == nil {
		acctKey = addr.String()
	}
	ipKey := ipPrefix(remote)
	delay, refused := a.delay(ipKey, acctKey)
	log := a.logger.With("proto", protocol, "remote", remote.String(), "user", acctKey)
	if refused {
		a.results.WithLabelValues(protocol, "throttled").Inc()
		log.Warn("login refused: too many failures")
		return store.Account{}, ErrThrottled
	}
	if delay > 0 {
		if err := a.sleep(ctx, delay); err != nil {
			return store.Account{}, err
		}
	}
	acc, err := a.check(ctx, addr, perr, password)
	if errors.Is(err, ErrInvalidCredentials) {
		a.fail(ipKey, acctKey)
		a.results.WithLabelValues(protocol, "failed").Inc()
		log.Info("login failed", "delay", delay)
		return store.Account{}, err
	}
	if err != nil {
		return store.Account{}, err
	}
	a.succeed(acctKey)
	a.results.WithLabelValues(protocol, "ok").Inc()
	log.Debug("login succeeded")
	return acc, nil
}

func (a *Authenticator) check(ctx context.Context, addr address.Address, perr error, password string) (store.Account, error) {
	if perr != nil {
		return store.Account{}, ErrInvalidCredentials
	}
	select {
	case a.hashing <- struct{}{}:
		defer func() { <-a.hashing }()
	case <-ctx.Done():
		return store.Account{}, ctx.Err()
	}
	acc, err := a.store.GetAccount(ctx, addr.String())
	if errors.Is(err, store.ErrNotFound) {
		// Hash anyway, so an unknown user costs the same time as a wrong password.
		_, _ = CheckPassword(dummyHash, password)
		return store.Account{}, ErrInvalidCredentials
	}
	if err != nil {
		return store.Account{}, err
	}
	if ok, err := CheckPassword(acc.PasswordHash, password); err == nil && ok {
		return acc, nil
	}
	// An app password works wherever the password does.
	if ok, err := a.checkAppPasswords(ctx, acc, password); err != nil {
		return store.Account{}, err
	} else if ok {
		return acc, nil
	}
	return store.Account{}, ErrInvalidCredentials
}

// dummyHash is checked for unknown users (its password is unknowable: a random salt and key).
const dummyHash = "$argon2id$v=19$m=65536,t=2,p=2$cG9zdGhvcm4tZHVtbXk$Zm9yIHRpbWluZyBvbmx5LCBub3QgYSByZWFsIGtleS4"

func (a *Authenticator) delay(ip netip.Prefix, acct string) (time.Duration, bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	n := max(current(a.byIP, ip, now), current(a.byAcct, acct, now))
	if n >= HardLimit {
		return 0, true
	}
	if n < FreeFailures {
		return 0, false
	}
	d := BaseDelay << (n - FreeFailures)
	if d > MaxDelay || d <= 0 {
		d = MaxDelay
	}
	return d, false
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

func (a *Authenticator) fail(ip netip.Prefix, acct string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	now := a.now()
	for _, f := range []*failures{record(a.byIP, ip, now), record(a.byAcct, acct, now)} {
		f.count++
	}
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

func (a *Authenticator) succeed(acct string) {
	a.mu.Lock()
	defer a.mu.Unlock()
	delete(a.byAcct, acct)
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

func sleepContext(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}
