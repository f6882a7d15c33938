// Package websession is the web UI's logins and sessions: the password checked through
// credentials.Authenticator (the same throttling as IMAP, POP3 and submission, and only the
// account's password: an app password, given to one mail client, does not log in to the
// web), the second factor (a TOTP code, RFC 6238, or a one-time recovery code, throttled in
// the same counts), sessions, the recent logins shown to the owner, enrolling and removing
// TOTP, and changing the password.
//
// A session id is 32 random bytes in base64url, the value of the browser's cookie; the store
// keeps only its SHA-256, so a copy of the database opens no session. A session ends when it
// has been idle for IdleTimeout (2 h) or is AbsoluteTimeout (12 h) old, whichever comes first,
// at logout (its row is deleted) and when the password changes (every other session of the
// account). Its last use is written at most once a minute.
//
// A login is two steps when the account has TOTP on: the right password creates a pending
// session (it opens nothing but the second step, for PendingTimeout), and the right code
// replaces it by a full session with a new id. Every login thus gets a new id (no session
// fixation). A TOTP code is accepted once: a code of the step last used, or an earlier one, is
// refused (RFC 6238 §5.2). Recovery codes are 10 random codes made when TOTP is enabled, shown
// once, stored as SHA-256 hashes and deleted when used.
//
// Tokens (Token) are HMAC-SHA-256 under a server secret kept in the store, the same for every
// process; the UI's CSRF tokens are made with it from the session id.
package websession

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"net/netip"
	"sync"
	"time"

	"posthorn/internal/auth"
	"posthorn/internal/credentials"
	"posthorn/internal/store"
)

// Session lifetimes.
const (
	// IdleTimeout ends a session not used for this long.
	IdleTimeout = 2 * time.Hour
	// AbsoluteTimeout ends a session this old, used or not.
	AbsoluteTimeout = 12 * time.Hour
	// PendingTimeout is how long a pending session (password right, second factor to come) lasts.
	PendingTimeout = 5 * time.Minute
	// touchEvery bounds the writes of a session's last use.
	touchEvery = time.Minute
	// LoginsKept is how many web logins are kept per account.
	LoginsKept = 20
	// Protocol is the name of web logins in the authenticator's logs and metrics.
	Protocol = "web"
)

var (
	// ErrNoSession: the session id is unknown, ended or expired.
	ErrNoSession = errors.New("no such session")
	// ErrInvalid is a wrong password, code or recovery code (auth.ErrInvalidCredentials).
	ErrInvalid = auth.ErrInvalidCredentials
	// ErrThrottled: too many failed attempts (credentials.ErrThrottled).
	ErrThrottled = credentials.ErrThrottled
)

// Store is what the service keeps its sessions and settings in (the SQLite store).
type Store interface {
	store.WebStore
	GetAccountByID(ctx context.Context, id int64) (store.Account, error)
	ServerSecret(ctx context.Context, name string, want []byte) ([]byte, error)
}

// Authenticator checks passwords and second factors with throttling (credentials.Authenticator).
type Authenticator interface {
	LoginPassword(ctx context.Context, protocol, username, password string, remote netip.Addr) (store.Account, error)
	CheckSecondFactor(ctx context.Context, protocol, username string, remote netip.Addr,
		verify func(ctx context.Context, acc store.Account) (bool, error)) (store.Account, error)
}

// PasswordSetter sets an account's password with the server's rules (admin.Admin.SetPassword),
// returning an *operr.Error for a password it refuses.
type PasswordSetter interface {
	SetPassword(ctx context.Context, addr, password string) error
}

// Service runs the web logins.
type Service struct {
	Store     Store
	Auth      Authenticator
	Passwords PasswordSetter
	// Issuer names the server in authenticator apps (the host name).
	Issuer string
	Logger *slog.Logger
	// Now is the clock; nil: time.Now.
	Now func() time.Time

	keyMu sync.Mutex
	key   []byte // the tokens' key, read once (tokenKey)
}

// Client is who makes a request: its address and user agent.
type Client struct {
	Addr      netip.Addr
	UserAgent string
}

// Session is a looked-up session with its account.
type Session struct {
	// ID is the session id (the cookie's value); Hash its SHA-256, as stored.
	ID      string
	Hash    []byte
	Account store.Account
	Admin   bool
	Pending bool
	Created time.Time
}

func (s *Service) now() time.Time {
	if s.Now != nil {
		return s.Now()
	}
	return time.Now()
}

// HashID is the stored form of a session id.
func HashID(id string) []byte {
	h := sha256.Sum256([]byte(id))
	return h[:]
}

// newID returns a new session id.
func newID() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("session id: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(b), nil
}

// create stores a new session of acc and returns its id.
func (s *Service) create(ctx context.Context, acc store.Account, pending bool, c Client) (string, error) {
	id, err := newID()
	if err != nil {
		return "", err
	}
	now := s.now()
	ua := c.UserAgent
	if len(ua) > 256 {
		ua = ua[:256]
	}
	if err := s.Store.CreateWebSession(ctx, store.WebSession{IDHash: HashID(id), AccountID: acc.ID, Pending: pending,
		CreatedAt: now, LastSeen: now, Source: c.Addr.String(), UserAgent: ua}); err != nil {
		return "", err
	}
	if !pending {
		if err := s.Store.RecordWebLogin(ctx, store.WebLogin{AccountID: acc.ID, At: now, Source: c.Addr.String(),
			UserAgent: ua}, LoginsKept); err != nil {
			return "", err
		}
	}
	return id, nil
}

// Login checks address and password (the account's password only) and returns a new session
// id; pending is true when the account has TOTP on and the id opens only SecondFactor.
// ErrInvalid for a wrong address or password, ErrThrottled when the throttling refuses.
func (s *Service) Login(ctx context.Context, address, password string, c Client) (id string, pending bool, err error) {
	now := s.now()
	if _, err := s.Store.DeleteExpiredWebSessions(ctx, now.Add(-IdleTimeout), now.Add(-AbsoluteTimeout)); err != nil {
		s.Logger.Warn("expired web sessions not deleted", "err", err)
	}
	acc, err := s.Auth.LoginPassword(ctx, Protocol, address, password, c.Addr)
	if err != nil {
		return "", false, err
	}
	wa, err := s.Store.WebAccount(ctx, acc.ID)
	if err != nil {
		return "", false, err
	}
	pending = wa.TOTPEnabled
	id, err = s.create(ctx, acc, pending, c)
	if err != nil {
		return "", false, err
	}
	s.Logger.Info("web login", "user", acc.Address, "remote", c.Addr.String(), "pending", pending)
	return id, pending, nil
}

// SecondFactor completes the login of the pending session pendingID with code, a TOTP code or
// a recovery code, and returns the id of the full session that replaces it.
func (s *Service) SecondFactor(ctx context.Context, pendingID, code string, c Client) (string, error) {
	sess, err := s.Lookup(ctx, pendingID)
	if err != nil {
		return "", err
	}
	if !sess.Pending {
		return "", ErrNoSession
	}
	acc, err := s.Auth.CheckSecondFactor(ctx, Protocol, sess.Account.Address, c.Addr,
		func(ctx context.Context, acc store.Account) (bool, error) {
			return s.checkCode(ctx, acc.ID, code, true)
		})
	if err != nil {
		return "", err
	}
	if err := s.Store.DeleteWebSession(ctx, sess.Hash); err != nil {
		return "", err
	}
	return s.create(ctx, acc, false, c)
}

// checkCode checks a TOTP code of the account (using its step up) or, with recovery, one of its
// recovery codes (using it up).
func (s *Service) checkCode(ctx context.Context, accountID int64, code string, recovery bool) (bool, error) {
	wa, err := s.Store.WebAccount(ctx, accountID)
	if err != nil || !wa.TOTPEnabled {
		return false, err
	}
	if ok, err := s.checkTOTP(ctx, wa, code); ok || err != nil {
		return ok, err
	}
	if !recovery {
		return false, nil
	}
	return s.Store.UseRecoveryCode(ctx, accountID, hashRecoveryCode(code))
}

// checkTOTP checks code against the account's secret and uses its step up.
func (s *Service) checkTOTP(ctx context.Context, wa store.WebAccount, code string) (bool, error) {
	key, err := auth.DecodeTOTPSecret(wa.TOTPSecret)
	if err != nil {
		return false, fmt.Errorf("totp secret of account %d: %w", wa.AccountID, err)
	}
	step, ok := auth.CheckTOTP(key, code, s.now())
	if !ok {
		return false, nil
	}
	return s.Store.UseTOTPStep(ctx, wa.AccountID, int64(step))
}

// Lookup returns the session of id, touching it; ErrNoSession if it is unknown or expired
// (an expired one is deleted).
func (s *Service) Lookup(ctx context.Context, id string) (Session, error) {
	if id == "" {
		return Session{}, ErrNoSession
	}
	hash := HashID(id)
	ws, err := s.Store.GetWebSession(ctx, hash)
	if errors.Is(err, store.ErrNotFound) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, err
	}
	now := s.now()
	lifetime := AbsoluteTimeout
	if ws.Pending {
		lifetime = PendingTimeout
	}
	if now.Sub(ws.LastSeen) > IdleTimeout || now.Sub(ws.CreatedAt) > lifetime {
		if err := s.Store.DeleteWebSession(ctx, hash); err != nil {
			return Session{}, err
		}
		return Session{}, ErrNoSession
	}
	acc, err := s.Store.GetAccountByID(ctx, ws.AccountID)
	if errors.Is(err, store.ErrNotFound) {
		return Session{}, ErrNoSession
	}
	if err != nil {
		return Session{}, err
	}
	wa, err := s.Store.WebAccount(ctx, ws.AccountID)
	if err != nil {
		return Session{}, err
	}
	if now.Sub(ws.LastSeen) >= touchEvery {
		if err := s.Store.TouchWebSession(ctx, hash, now); err != nil && !errors.Is(err, store.ErrNotFound) {
			return Session{}, err
		}
	}
	return Session{ID: id, Hash: hash, Account: acc, Admin: wa.Admin, Pending: ws.Pending, Created: ws.CreatedAt}, nil
}

// Logout ends the session of id (nothing when there is none).
func (s *Service) Logout(ctx context.Context, id string) error {
	if id == "" {
		return nil
	}
	return s.Store.DeleteWebSession(ctx, HashID(id))
}

// RecentLogins returns the account's recent web logins, most recent first.
func (s *Service) RecentLogins(ctx context.Context, accountID int64) ([]store.WebLogin, error) {
	return s.Store.WebLogins(ctx, accountID)
}

// Token returns the HMAC-SHA-256 of purpose and value under the server's web secret, in
// base64url: the UI's CSRF tokens.
func (s *Service) Token(ctx context.Context, purpose, value string) (string, error) {
	key, err := s.tokenKey(ctx)
	if err != nil {
		return "", err
	}
	m := hmac.New(sha256.New, key)
	m.Write([]byte(purpose + "\x00" + value))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)), nil
}

// tokenKey reads (making it first, once per database) the server secret of Token.
func (s *Service) tokenKey(ctx context.Context) ([]byte, error) {
	s.keyMu.Lock()
	defer s.keyMu.Unlock()
	if s.key != nil {
		return s.key, nil
	}
	want := make([]byte, 32)
	if _, err := rand.Read(want); err != nil {
		return nil, fmt.Errorf("web secret: %w", err)
	}
	key, err := s.Store.ServerSecret(ctx, "web-token-key", want)
	if err != nil {
		return nil, err
	}
	s.key = key
	return key, nil
}

// CheckToken reports whether token is Token(purpose, value), in constant time.
func (s *Service) CheckToken(ctx context.Context, purpose, value, token string) (bool, error) {
	want, err := s.Token(ctx, purpose, value)
	if err != nil {
		return false, err
	}
	return token != "" && subtle.ConstantTimeCompare([]byte(want), []byte(token)) == 1, nil
}
