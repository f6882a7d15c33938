// Package store is posthorn's domain model and the interface every metadata backend implements.
//
// The model: domains hold accounts and aliases; every account gets the special-use mailboxes of
// DefaultMailboxes at creation; a mailbox holds messages, each with a per-mailbox UID (RFC 9051
// §2.3.1.1, strictly ascending, never reused while UIDVALIDITY stays), a MODSEQ (RFC 7162 §3.1.1,
// taken from the mailbox's HIGHESTMODSEQ counter on every change), flags, internal date, size and
// the parse results an IMAP server serves (envelope and body structure, opaque bytes produced by
// package message). Message bodies live in a blob store (package blob); the store keeps one blob
// row per body with a reference count, so a message delivered to several local recipients is
// stored once.
//
// Backends (store/sqlite, later store/postgres) keep their SQL to themselves. The conformance
// suite in store/storetest runs against any implementation, so both behave the same.
package store

import (
	"context"
	"errors"
	"time"
)

// Errors every backend returns (wrapped) so callers can tell cases apart with errors.Is.
var (
	ErrNotFound      = errors.New("not found")
	ErrExists        = errors.New("already exists")
	ErrInUse         = errors.New("still in use")
	ErrUnknownDomain = errors.New("domain is not local")
)

// Special-use attributes, RFC 6154 §2.
const (
	UseSent    = `\Sent`
	UseDrafts  = `\Drafts`
	UseTrash   = `\Trash`
	UseJunk    = `\Junk`
	UseArchive = `\Archive`
)

// MailboxSpec names a mailbox and its special use.
type MailboxSpec struct {
	Name       string
	SpecialUse string
}

// DefaultMailboxes are created for every new account, in this order.
var DefaultMailboxes = []MailboxSpec{
	{Name: "INBOX"},
	{Name: "Sent", SpecialUse: UseSent},
	{Name: "Drafts", SpecialUse: UseDrafts},
	{Name: "Trash", SpecialUse: UseTrash},
	{Name: "Junk", SpecialUse: UseJunk},
	{Name: "Archive", SpecialUse: UseArchive},
}

// Domain is a mail domain posthorn is the destination for.
type Domain struct {
	ID        int64
	Name      string
	CreatedAt time.Time
}

// Account is a user who logs in and owns mailboxes.
type Account struct {
	ID           int64
	Address      string // normalised local@domain
	DomainID     int64
	PasswordHash string // argon2id in PHC string format
	CreatedAt    time.Time
	// QuotaBytes is the account's storage quota (RFC 9208 STORAGE) in octets: 0 for none,
	// QuotaDefault to follow the server's default.
	QuotaBytes int64
}

// QuotaDefault is the QuotaBytes of an account whose quota is the server's default.
const QuotaDefault = -1

// Quota returns the account's storage quota in octets given the server's default; 0 is none.
func (a Account) Quota(defaultBytes int64) int64 {
	if a.QuotaBytes == QuotaDefault {
		return max(defaultBytes, 0)
	}
	return a.QuotaBytes
}

// Alias maps one address (or "@domain", a catch-all) to one or more local addresses.
type Alias struct {
	ID      int64
	Address string
	Targets []string
}

// Mailbox is a folder of an account, with the counters IMAP needs.
type Mailbox struct {
	ID            int64
	AccountID     int64
	Name          string
	SpecialUse    string
	UIDValidity   uint32
	UIDNext       uint32
	HighestModSeq uint64
	MessageCount  int64
	// Keywords are the keywords ever set on a message of the mailbox, in the order first used
	// (RFC 9051 §7.3.5: FLAGS lists them); the list only grows.
	Keywords []string
	// FirstRecentUID is the lowest UID no session has claimed as \Recent yet (RFC 3501
	// §2.3.2): messages from it up to UIDNext are recent (see MailStore.ClaimRecent).
	FirstRecentUID uint32
}

// Message is one message in one mailbox.
type Message struct {
	ID           int64
	MailboxID    int64
	UID          uint32
	ModSeq       uint64
	Flags        []string
	InternalDate time.Time
	Size         int64
	BlobID       string
	Envelope     []byte // encoded by package message
	Structure    []byte // encoded by package message
}

// Delivery is one accepted message for one or more local mailboxes, committed atomically.
type Delivery struct {
	BlobID       string
	Size         int64
	InternalDate time.Time
	Envelope     []byte
	Structure    []byte
	// Text is the searchable text of the message, indexed in the same transaction for
	// SearchText; nil leaves the message unindexed (SearchText then reports it as such).
	Text    *Text
	Targets []Target
	// Outbound are the remote recipients, queued for delivery to the world in the same
	// transaction (one queue row and one blob reference each). A delivery has Targets,
	// Outbound or both.
	Outbound []Outbound
}

// Text is the searchable text of a message (computed by message.ExtractText): the header
// fields, which only a search of the whole text (FieldText) looks at, and the body's text.
type Text struct {
	Header string
	Body   string
}

// Target is a mailbox a delivery goes to, named by account and mailbox name.
type Target struct {
	AccountID int64
	Mailbox   string
	Flags     []string
	// ImportKey, when not nil, is recorded with the target's mailbox in the import ledger
	// (ImportLedger) in the delivery's transaction; a key the mailbox has already fails the
	// delivery with ErrExists. internal/importer sets it; every other delivery leaves it nil.
	ImportKey []byte
}

// Delivered reports where one target of a delivery landed.
type Delivered struct {
	MailboxID int64
	UID       uint32
	ModSeq    uint64
}

// Store is the metadata store. Every method is safe for concurrent use.
type Store interface {
	// MailStore is what mail access protocols use: mailbox management, flags, expunge, copy
	// and move, and the change feed.
	MailStore

	// AddDomain adds a local domain; ErrExists if present.
	AddDomain(ctx context.Context, name string) (Domain, error)
	// GetDomain returns a domain by name; ErrNotFound if absent.
	GetDomain(ctx context.Context, name string) (Domain, error)
	ListDomains(ctx context.Context) ([]Domain, error)
	// RemoveDomain removes a domain that has no accounts or aliases left; ErrInUse otherwise.
	RemoveDomain(ctx context.Context, name string) error

	// AddAccount creates an account with DefaultMailboxes in one transaction. The address's
	// domain must exist (ErrUnknownDomain); ErrExists if the address is an account or alias.
	AddAccount(ctx context.Context, address, passwordHash string) (Account, error)
	GetAccount(ctx context.Context, address string) (Account, error)
	GetAccountByID(ctx context.Context, id int64) (Account, error)
	// ListAccounts lists the accounts of one domain, or of all domains when domain is "".
	ListAccounts(ctx context.Context, domain string) ([]Account, error)
	SetPassword(ctx context.Context, address, passwordHash string) error
	// SetQuota sets an account's storage quota in octets: 0 for none, QuotaDefault for the
	// server's default.
	SetQuota(ctx context.Context, address string, quotaBytes int64) error
	// RemoveAccount deletes an account, its mailboxes and messages, and every alias target
	// naming it (an alias left with no target is deleted). It returns the blobs whose last
	// reference went away: the caller deletes them from the blob store after the commit.
	RemoveAccount(ctx context.Context, address string) (unreferenced []string, err error)

	// AddAlias creates an alias; the domain must be local and every target an existing local
	// account or alias. ErrExists if the address is already an account or alias.
	AddAlias(ctx context.Context, address string, targets []string) (Alias, error)
	GetAlias(ctx context.Context, address string) (Alias, error)
	ListAliases(ctx context.Context) ([]Alias, error)
	RemoveAlias(ctx context.Context, address string) error

	ListMailboxes(ctx context.Context, accountID int64) ([]Mailbox, error)
	GetMailbox(ctx context.Context, accountID int64, name string) (Mailbox, error)
	// ListMessages returns a mailbox's messages in UID order.
	ListMessages(ctx context.Context, mailboxID int64) ([]Message, error)

	// Deliver commits several deliveries in one transaction: one blob row per delivery with one
	// reference per target and per outbound recipient, one message row per target with the
	// mailbox's next UID and MODSEQ, one outbound queue row per outbound recipient.
	// Either all deliveries are committed or none is. The result has one slice per delivery.
	Deliver(ctx context.Context, deliveries []Delivery) ([][]Delivered, error)

	// BlobIDs calls fn for every referenced blob id.
	BlobIDs(ctx context.Context, fn func(id string) error) error
	// HasBlob reports whether a blob id is referenced.
	HasBlob(ctx context.Context, id string) (bool, error)
	// Check verifies the store's own invariants (UIDs below UIDNEXT and unique per mailbox,
	// MODSEQs at most HIGHESTMODSEQ, blob reference counts equal to the rows using them, the
	// backend's own integrity check) and returns one line per problem found.
	Check(ctx context.Context) ([]string, error)

	// Ping reports whether the store answers queries (the health check).
	Ping(ctx context.Context) error

	Close() error
}
