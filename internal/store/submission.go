package store

import (
	"context"
	"time"

	"posthorn/internal/auth"
)

// SCRAMSalt is an account's SCRAM salt and iteration count (RFC 5802 §5.1), as the SCRAM
// mechanism takes it.
type SCRAMSalt = auth.SCRAMSalt

// SCRAMKeys are the stored form of one SCRAM-SHA-256 credential (RFC 5802 §3), as the SCRAM
// mechanism takes them.
type SCRAMKeys = auth.SCRAMKeys

// AppPassword is an extra generated password of an account, usable wherever the password is.
type AppPassword struct {
	ID           int64
	AccountID    int64
	Name         string
	PasswordHash string // argon2id, like Account.PasswordHash
	SCRAM        SCRAMKeys
	CreatedAt    time.Time
}

// SendLimits are an account's sending limits in recipients per period; LimitDefault follows
// the server's default, 0 is no limit.
type SendLimits struct {
	PerHour int64
	PerDay  int64
}

// LimitDefault is a SendLimits value that follows the server's default.
const LimitDefault = -1

// SentRecord is one submitted message as the sending limits count it.
type SentRecord struct {
	AccountID  int64
	Recipients int
	At         time.Time
}

// DKIMKey is a domain's DKIM signing key: algorithm "rsa" or "ed25519", the private key as
// PKCS #8 DER.
type DKIMKey struct {
	ID         int64
	Domain     string
	Selector   string
	Algorithm  string
	PrivateKey []byte
	CreatedAt  time.Time
}

// SubmissionStore is what authenticated submission needs beyond Store: SCRAM credentials, app
// passwords, send-as grants, sending limits and counts, and DKIM keys. Backends implement it
// beside Store; callers find it by type assertion.
type SubmissionStore interface {
	// EnsureSCRAMSalt returns the account's SCRAM salt, first storing want when it has none.
	EnsureSCRAMSalt(ctx context.Context, accountID int64, want SCRAMSalt) (SCRAMSalt, error)
	// SetAccountSCRAM stores the SCRAM keys of the account's password (its salt must exist).
	SetAccountSCRAM(ctx context.Context, accountID int64, keys SCRAMKeys) error
	// SCRAMCredentials returns the account's salt and the keys of every credential: its
	// password's first when it has them, then its app passwords'. ErrNotFound without a salt.
	SCRAMCredentials(ctx context.Context, accountID int64) (SCRAMSalt, []SCRAMKeys, error)

	// AddAppPassword adds an app password; ErrExists if the account has one of that name.
	AddAppPassword(ctx context.Context, p AppPassword) (AppPassword, error)
	// ListAppPasswords returns the account's app passwords by name.
	ListAppPasswords(ctx context.Context, accountID int64) ([]AppPassword, error)
	// RemoveAppPassword deletes one by name; ErrNotFound if absent.
	RemoveAppPassword(ctx context.Context, accountID int64, name string) error

	// AddSendAs lets the account send as an address or "@domain"; ErrExists if it may already.
	AddSendAs(ctx context.Context, accountID int64, address string) error
	// ListSendAs returns the account's send-as addresses, sorted.
	ListSendAs(ctx context.Context, accountID int64) ([]string, error)
	// RemoveSendAs deletes a send-as address; ErrNotFound if absent.
	RemoveSendAs(ctx context.Context, accountID int64, address string) error

	// SetSendLimits sets the account's sending limits (LimitDefault: the server's).
	SetSendLimits(ctx context.Context, accountID int64, l SendLimits) error
	// GetSendLimits returns them; LimitDefault where the account has none of its own.
	GetSendLimits(ctx context.Context, accountID int64) (SendLimits, error)
	// SendCounter: RecordSent and SentSince, the counts of the sending limits.
	SendCounter

	// AddDKIMKey stores a domain's signing key; ErrExists if the selector is taken,
	// ErrNotFound for an unknown domain.
	AddDKIMKey(ctx context.Context, k DKIMKey) (DKIMKey, error)
	// DKIMKeys returns a domain's keys, newest first.
	DKIMKeys(ctx context.Context, domain string) ([]DKIMKey, error)
}
