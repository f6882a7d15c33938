package store

import (
	"context"
	"time"
)

// WebSession is a session of the web UI. The session id itself (the cookie's value) is never
// stored: IDHash is its SHA-256, so a copy of the database opens no session.
type WebSession struct {
	IDHash    []byte
	AccountID int64
	// Pending: the password was right but the second factor (TOTP or a recovery code) is
	// still to come; such a session opens nothing but the second step of the login.
	Pending   bool
	CreatedAt time.Time
	LastSeen  time.Time
	Source    string // the client's address
	UserAgent string
}

// WebAccount is what the web UI keeps of an account: the admin flag and the TOTP second
// factor. An account the web UI never wrote reads as the zero value (no admin, no TOTP).
type WebAccount struct {
	AccountID int64
	Admin     bool
	// TOTPSecret is the base32 secret (auth.NewTOTPSecret), kept in the clear because codes are
	// computed from it; "" when none. TOTPEnabled: logins ask for a code. A secret that is set
	// but not enabled waits for its first code (the confirmation of the enrolment).
	TOTPSecret  string
	TOTPEnabled bool
	// TOTPLastStep is the last time step a code was accepted for: a code of that step or an
	// earlier one is not accepted again (RFC 6238 §5.2).
	TOTPLastStep int64
}

// WebLogin is one login to the web UI, shown to the account's owner.
type WebLogin struct {
	AccountID int64
	At        time.Time
	Source    string
	UserAgent string
}

// WebStore keeps the web UI's sessions, the admin flag and second factor of accounts, their
// recovery codes (only hashes) and their recent web logins. Backends implement it beside
// Store; callers find it by type assertion. Everything of an account goes with it.
type WebStore interface {
	// CreateWebSession stores s; ErrNotFound if its account does not exist.
	CreateWebSession(ctx context.Context, s WebSession) error
	// GetWebSession returns the session whose id hashes to idHash; ErrNotFound if none.
	GetWebSession(ctx context.Context, idHash []byte) (WebSession, error)
	// TouchWebSession sets the session's last use to at (never backwards); ErrNotFound if none.
	TouchWebSession(ctx context.Context, idHash []byte, at time.Time) error
	// DeleteWebSession ends one session; ending one that does not exist is no error.
	DeleteWebSession(ctx context.Context, idHash []byte) error
	// DeleteWebSessions ends every session of the account except the one hashing to keep
	// (nil: all), and returns how many it ended.
	DeleteWebSessions(ctx context.Context, accountID int64, keep []byte) (int, error)
	// DeleteExpiredWebSessions ends the sessions last used before idle or created before
	// created, and returns how many it ended.
	DeleteExpiredWebSessions(ctx context.Context, idle, created time.Time) (int, error)

	// WebAccount returns the web settings of the account (the zero value, with AccountID, when
	// it has none); ErrNotFound if the account does not exist.
	WebAccount(ctx context.Context, accountID int64) (WebAccount, error)
	// SetWebAdmin sets the account's admin flag; ErrNotFound if the account does not exist.
	SetWebAdmin(ctx context.Context, accountID int64, admin bool) error
	// WebAdmins returns the ids of the accounts with the admin flag, in id order.
	WebAdmins(ctx context.Context) ([]int64, error)
	// SetTOTP sets the account's TOTP secret and whether it is enabled, and forgets the last
	// step used; secret "" removes the second factor. ErrNotFound if there is no account.
	SetTOTP(ctx context.Context, accountID int64, secret string, enabled bool) error
	// UseTOTPStep records that a code of step was accepted, only if step is later than the last
	// one recorded; it reports whether it was (false: a replayed code).
	UseTOTPStep(ctx context.Context, accountID int64, step int64) (bool, error)

	// SetRecoveryCodes replaces the account's recovery codes with hashes.
	SetRecoveryCodes(ctx context.Context, accountID int64, hashes []string) error
	// UseRecoveryCode removes the account's recovery code with hash, and reports whether
	// there was one: each code works once.
	UseRecoveryCode(ctx context.Context, accountID int64, hash string) (bool, error)
	// RecoveryCodesLeft is how many unused recovery codes the account has.
	RecoveryCodesLeft(ctx context.Context, accountID int64) (int, error)

	// RecordWebLogin adds l and keeps only the account's keep most recent web logins.
	RecordWebLogin(ctx context.Context, l WebLogin, keep int) error
	// WebLogins returns the account's recorded web logins, most recent first.
	WebLogins(ctx context.Context, accountID int64) ([]WebLogin, error)
}
