package credentials

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"runtime"
	"runtime/debug"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/address"
	"posthorn/internal/auth"
	"posthorn/internal/store"
)

// ErrThrottled is returned by Login and the SASL exchanges for an attempt the throttling
// refuses. Protocols map it, like auth.ErrInvalidCredentials, to their "authentication failed"
// reply (or a "try later" one); the difference is only for logs and metrics.
var ErrThrottled = errors.New("too many failed logins")

// Store is what the Authenticator and the credential setters (AddAccount, SetPassword,
// AddAppPassword) read and write: accounts, their SCRAM keys, app passwords, the server secret
// of the app passwords' keyed hashes and the sources each account has logged in from. The
// SQLite store implements it.
type Store interface {
	AddAccount(ctx context.Context, address, passwordHash string) (store.Account, error)
	GetAccount(ctx context.Context, address string) (store.Account, error)
	SetPassword(ctx context.Context, address, passwordHash string) error

	EnsureSCRAMSalt(ctx context.Context, accountID int64, want store.SCRAMSalt) (store.SCRAMSalt, error)
	SetAccountSCRAM(ctx context.Context, accountID int64, keys store.SCRAMKeys) error
	SCRAMCredentials(ctx context.Context, accountID int64) (store.SCRAMSalt, []store.SCRAMKeys, error)

	AddAppPassword(ctx context.Context, p store.AppPassword) (store.AppPassword, error)
	ListAppPasswords(ctx context.Context, accountID int64) ([]store.AppPassword, error)

	store.LoginStore
}

// freeAfter is how long the hashing must have been idle before the memory of the last hashes
// is given back to the system.
const freeAfter = 2 * time.Second

// Authenticator checks passwords for every protocol, with throttling, logs and metrics.
type Authenticator struct {
	store  Store
	logger *slog.Logger
	sleep  func(ctx context.Context, d time.Duration) error
	now    func() time.Time

	mu       sync.Mutex
	bySource map[netip.Prefix]*failures
	byAcct   map[string]*failures
	// shared, when set, keeps the counts instead of bySource and byAcct (SetSharedThrottle).
	shared store.ThrottleStore

	results *prometheus.CounterVec
	hashes  prometheus.Counter
	// hashing bounds the password hashes computed at once: each takes 64 MiB, so a burst of
	// logins (or of guesses) queues here instead of exhausting memory.
	hashing chan struct{}
	// freeing gives the hashes' memory back once hashing has been idle for freeAfter.
	freeMu  sync.Mutex
	freeing *time.Timer

	cache *credCache
	// secret keys the fake SCRAM salts of unknown users (auth.FakeSCRAMSalt).
	secret []byte
	// appKey is the store's key of app password hashes, read once (appPasswordKey).
	appKeyMu sync.Mutex
	appKey   []byte
}

// NewAuthenticator returns an Authenticator over the credentials in st that registers its
// metrics with reg. It remembers verified passwords for DefaultCacheTTL (see SetCacheTTL).
func NewAuthenticator(st Store, logger *slog.Logger, reg prometheus.Registerer) *Authenticator {
	a := &Authenticator{
		store:    st,
		logger:   logger,
		sleep:    sleepContext,
		now:      time.Now,
		bySource: map[netip.Prefix]*failures{},
		byAcct:   map[string]*failures{},
		hashing:  make(chan struct{}, max(2, runtime.NumCPU())),
		secret:   newSecret(),
		cache:    newCredCache(DefaultCacheTTL),
		results: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "posthorn_auth_attempts_total",
			Help: "Password authentication attempts by protocol and result (ok, failed, throttled).",
		}, []string{"protocol", "result"}),
		hashes: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "posthorn_auth_password_hashes_total",
			Help: "Passwords checked with argon2id (a login served by the credential cache or an app password needs none).",
		}),
	}
	if reg != nil {
		reg.MustRegister(a.results, a.hashes)
	}
	return a
}

// SetCacheTTL sets how long a verified password is remembered; 0 turns the cache off. Call it
// before the Authenticator is used.
func (a *Authenticator) SetCacheTTL(ttl time.Duration) {
	a.cache = newCredCache(ttl)
}

// SetSharedThrottle makes the Authenticator keep its throttling counts in ts instead of its
// memory, so that every node sharing ts counts the same failures: for several nodes on one
// PostgreSQL. Alone on SQLite the memory is the authority and costs no write per attempt, so
// the server leaves it unset there. Call it before the Authenticator is used.
func (a *Authenticator) SetSharedThrottle(ts store.ThrottleStore) {
	a.shared = ts
}

// Login checks username (an account address) and password for protocol ("imap", "pop3",
// "submission") from remote. The attempt takes its place in the throttling counts and waits
// their delay before anything is checked, so a guesser is slowed whether or not the password
// is right, and parallel guesses count against each other. An app password logs in as well as
// the account's password.
func (a *Authenticator) Login(ctx context.Context, protocol, username, password string, remote netip.Addr) (store.Account, error) {
	return a.login(ctx, protocol, username, remote, func(who identity, acctKey string) (store.Account, string, error) {
		return a.check(ctx, who, acctKey, password, true)
	})
}

// LoginPassword is Login accepting only the account's own password, not its app passwords:
// for the web UI, whose settings an app password (given to one mail client) must not open.
// It is throttled in the same counts as Login.
func (a *Authenticator) LoginPassword(ctx context.Context, protocol, username, password string, remote netip.Addr) (store.Account, error) {
	return a.login(ctx, protocol, username, remote, func(who identity, acctKey string) (store.Account, string, error) {
		return a.check(ctx, who, acctKey, password, false)
	})
}

// CheckSecondFactor runs verify, the check of a second factor (a TOTP code, a recovery code)
// of username, in the throttling counts of Login from remote: a false from verify is a failed
// login (auth.ErrInvalidCredentials), and once the counts are at their limit verify is not
// called (ErrThrottled). So a stolen password does not give unlimited guesses at the code.
func (a *Authenticator) CheckSecondFactor(ctx context.Context, protocol, username string, remote netip.Addr,
	verify func(ctx context.Context, acc store.Account) (bool, error)) (store.Account, error) {
	return a.login(ctx, protocol, username, remote, func(who identity, acctKey string) (store.Account, string, error) {
		if !who.found {
			return store.Account{}, "", auth.ErrInvalidCredentials
		}
		ok, err := verify(ctx, who.acc)
		if err != nil {
			return store.Account{}, "", err
		}
		if !ok {
			return store.Account{}, "", auth.ErrInvalidCredentials
		}
		return who.acc, "second factor", nil
	})
}

// login is the throttled frame of every check: the attempt takes its place in the counts,
// waits their delay, then check decides.
func (a *Authenticator) login(ctx context.Context, protocol, username string, remote netip.Addr,
	check func(who identity, acctKey string) (store.Account, string, error)) (store.Account, error) {
	addr, perr := address.Parse(username)
	acctKey := username
	if perr == nil {
		acctKey = addr.String()
	}
	source := ipPrefix(remote)
	log := a.logger.With("proto", protocol, "remote", remote.String(), "user", acctKey)
	who, err := a.identify(ctx, addr, perr, source)
	if err != nil {
		return store.Account{}, err
	}
	att, delay, refused, err := a.begin(ctx, source, acctKey, who.known)
	if err != nil {
		return store.Account{}, err
	}
	if refused {
		a.results.WithLabelValues(protocol, "throttled").Inc()
		log.Warn("login refused: too many failures")
		return store.Account{}, ErrThrottled
	}
	if delay > 0 {
		if err := a.sleep(ctx, delay); err != nil {
			a.refund(ctx, att)
			return store.Account{}, err
		}
	}
	acc, how, err := check(who, acctKey)
	if errors.Is(err, auth.ErrInvalidCredentials) {
		a.results.WithLabelValues(protocol, "failed").Inc()
		log.Info("login failed", "delay", delay)
		return store.Account{}, err
	}
	a.refund(ctx, att)
	if err != nil {
		return store.Account{}, err
	}
	a.succeeded(ctx, who, source, log)
	a.results.WithLabelValues(protocol, "ok").Inc()
	log.Debug("login succeeded", "by", how)
	return acc, nil
}

// identity is what is known of a login's user before its password is checked.
type identity struct {
	acc   store.Account
	found bool
	// known: the account has logged in from this source within KnownSourceAge; seen is when.
	known bool
	seen  time.Time
}

// identify reads the account named by addr and whether it knows source.
func (a *Authenticator) identify(ctx context.Context, addr address.Address, perr error, source netip.Prefix) (identity, error) {
	if perr != nil {
		return identity{}, nil
	}
	acc, err := a.store.GetAccount(ctx, addr.String())
	if errors.Is(err, store.ErrNotFound) {
		return identity{}, nil
	}
	if err != nil {
		return identity{}, err
	}
	seen, ok, err := a.store.LoginSourceSeen(ctx, acc.ID, source.String())
	if err != nil {
		return identity{}, err
	}
	return identity{acc: acc, found: true, seen: seen, known: ok && a.now().Sub(seen) <= KnownSourceAge}, nil
}

// succeeded notes source as known to the account (at most once per knownSourceRefresh).
func (a *Authenticator) succeeded(ctx context.Context, who identity, source netip.Prefix, log *slog.Logger) {
	now := a.now()
	if who.known && now.Sub(who.seen) < knownSourceRefresh {
		return
	}
	if err := a.store.RecordLoginSource(ctx, who.acc.ID, source.String(), now, KnownSourcesKept); err != nil {
		log.Warn("login source not recorded", "err", err)
	}
}

// check verifies password for who, at the same cost whatever the account has: one HMAC (an app
// password is found by its keyed hash) and one argon2id (of the password, or of dummyHash for an
// unknown user or a malformed hash), unless the credential cache already knows the password.
// Only app passwords stored before keyed hashes existed cost more (see the package doc). With
// apps false only the account's password counts (the lookup is still made, for the same cost).
// It returns what verified: "cache", "app password" or "password".
func (a *Authenticator) check(ctx context.Context, who identity, acctKey, password string, apps bool) (store.Account, string, error) {
	acc := who.acc
	if who.found && a.cache.hit(acctKey, password, acc.ID, acc.PasswordHash, a.now()) {
		return acc, "cache", nil
	}
	key, err := a.appPasswordKey(ctx)
	if err != nil {
		return store.Account{}, "", err
	}
	keyed := auth.KeyedHash(key, password)
	if who.found {
		_, err := a.store.FindAppPassword(ctx, acc.ID, keyed)
		switch {
		case err == nil && apps:
			return acc, "app password", nil
		case err != nil && !errors.Is(err, store.ErrNotFound):
			return store.Account{}, "", err
		}
	}
	if err := a.acquireHash(ctx); err != nil {
		return store.Account{}, "", err
	}
	defer a.releaseHash()
	hash := dummyHash
	if who.found {
		hash = acc.PasswordHash
	}
	ok, err := a.checkPassword(hash, password)
	if err != nil {
		// A hash that does not parse costs nothing to check: hash the dummy instead.
		_, _ = a.checkPassword(dummyHash, password)
	}
	if ok && who.found {
		a.cache.remember(acctKey, password, acc.ID, acc.PasswordHash, a.now())
		return acc, "password", nil
	}
	if who.found && apps {
		if ok, err := a.checkLegacyAppPasswords(ctx, acc, password, keyed); err != nil {
			return store.Account{}, "", err
		} else if ok {
			return acc, "app password", nil
		}
	}
	return store.Account{}, "", auth.ErrInvalidCredentials
}

func (a *Authenticator) checkPassword(hash, password string) (bool, error) {
	ok, err := auth.CheckPassword(hash, password)
	if err == nil {
		a.hashes.Inc()
	}
	return ok, err
}

// checkLegacyAppPasswords tries the account's app passwords still stored as argon2id, one
// argon2id each, and rewrites the one that matches in the keyed form (keyed), so it costs one
// HMAC from its next use on.
func (a *Authenticator) checkLegacyAppPasswords(ctx context.Context, acc store.Account, password, keyed string) (bool, error) {
	list, err := a.store.ListAppPasswords(ctx, acc.ID)
	if err != nil {
		return false, fmt.Errorf("app passwords of %s: %w", acc.Address, err)
	}
	for _, p := range list {
		if auth.IsKeyed(p.PasswordHash) {
			continue
		}
		if ok, err := a.checkPassword(p.PasswordHash, password); err != nil || !ok {
			continue
		}
		if err := a.store.SetAppPasswordHash(ctx, p.ID, p.PasswordHash, keyed); err != nil && !errors.Is(err, store.ErrNotFound) {
			a.logger.Warn("app password not rehashed", "user", acc.Address, "name", p.Name, "err", err)
		}
		return true, nil
	}
	return false, nil
}

// appPasswordKey returns the key of app password hashes, reading (or making) it in the store
// the first time.
func (a *Authenticator) appPasswordKey(ctx context.Context) ([]byte, error) {
	a.appKeyMu.Lock()
	defer a.appKeyMu.Unlock()
	if a.appKey != nil {
		return a.appKey, nil
	}
	key, err := appPasswordKey(ctx, a.store)
	if err != nil {
		return nil, err
	}
	a.appKey = key
	return key, nil
}

// dummyHash is checked for unknown users (its password is unknowable: a random salt and key).
const dummyHash = "$argon2id$v=19$m=65536,t=2,p=2$cG9zdGhvcm4tZHVtbXk$Zm9yIHRpbWluZyBvbmx5LCBub3QgYSByZWFsIGtleS4"

// acquireHash waits for a place among the hashes computed at once.
func (a *Authenticator) acquireHash(ctx context.Context) error {
	select {
	case a.hashing <- struct{}{}:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// releaseHash gives the place back. When no hash is left running, the memory of the hashes
// (64 MiB each, garbage once done) is returned to the system freeAfter later unless hashing
// resumed: the Go runtime would otherwise keep it for minutes.
func (a *Authenticator) releaseHash() {
	<-a.hashing
	if len(a.hashing) > 0 {
		return
	}
	a.freeMu.Lock()
	defer a.freeMu.Unlock()
	if a.freeing == nil {
		a.freeing = time.AfterFunc(freeAfter, a.freeIfIdle)
		return
	}
	a.freeing.Reset(freeAfter)
}

func (a *Authenticator) freeIfIdle() {
	if len(a.hashing) == 0 {
		debug.FreeOSMemory()
	}
}

// SetSleep replaces how the throttling delay is waited (time passes for real by default);
// protocol tests use it to reach the hard limit without waiting.
func (a *Authenticator) SetSleep(sleep func(ctx context.Context, d time.Duration) error) {
	a.sleep = sleep
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
