package store

import (
	"context"
	"errors"
	"time"
)

// This file holds what mail access protocols (IMAP, POP3) need beyond delivery: mailbox
// management, flag changes with MODSEQ, expunge with a record for VANISHED, copy and move, quota
// usage, and the change feed that wakes IDLE sessions.

// FlagOp is how UpdateFlags changes flags (RFC 9051 §6.4.6: FLAGS, +FLAGS, -FLAGS).
type FlagOp int

const (
	FlagsReplace FlagOp = iota
	FlagsAdd
	FlagsRemove
)

// FlagUpdate is the state of one message after UpdateFlags changed it.
type FlagUpdate struct {
	UID    uint32
	ModSeq uint64
	Flags  []string
}

// UIDPair maps a source UID to the UID its copy got (RFC 4315 COPYUID).
type UIDPair struct {
	Src, Dst uint32
}

// ChangeKind says what a Change is about.
type ChangeKind int

const (
	ChangeNew     ChangeKind = iota + 1 // messages added to a mailbox
	ChangeFlags                         // flags of messages changed
	ChangeExpunge                       // messages removed
	ChangeMailbox                       // a mailbox was created, renamed or deleted
)

// TextField is what SearchText looks in (RFC 9051 §6.4.4).
type TextField int

const (
	FieldBody TextField = iota // SEARCH BODY: the body's text
	FieldText                  // SEARCH TEXT: the header and the body's text
	// FieldHeader is the header's text: "Name: value" lines, decoded, signature fields left
	// out. SEARCH HEADER uses it to find the few messages worth reading; SearchText then
	// reports as unindexed also the messages large enough for their header's indexed text to
	// be cut short.
	FieldHeader
)

// ErrNotIndexable is returned by SearchText for a query the full-text index cannot answer
// (one too short for it): the caller reads the messages instead.
var ErrNotIndexable = errors.New("query not answerable from the full-text index")

// Change is one event of the change feed: something in one mailbox of one account changed, up
// to ModSeq. Subscribers re-read the mailbox state; the event carries no payload on purpose, so
// a missed or merged event cannot leave a session with a wrong view.
type Change struct {
	AccountID int64
	MailboxID int64
	Kind      ChangeKind
	ModSeq    uint64
}

// MailStore is the part of the store that mail access protocols use. Every method is safe for
// concurrent use. Every method that changes a mailbox publishes a Change after its commit.
type MailStore interface {
	// CreateMailbox creates a mailbox; ErrExists if the name is taken (INBOX compared
	// case-insensitively). specialUse is "" or one of the Use constants.
	CreateMailbox(ctx context.Context, accountID int64, name, specialUse string) (Mailbox, error)
	// DeleteMailbox deletes a mailbox and its messages; ErrInUse for INBOX. It returns the
	// blobs whose last reference went away.
	DeleteMailbox(ctx context.Context, accountID int64, name string) (unreferenced []string, err error)
	// RenameMailbox renames a mailbox (and every mailbox below it, "old/..." to "new/...").
	// Renaming INBOX moves all its messages into a new mailbox and leaves INBOX empty
	// (RFC 9051 §6.3.6). ErrExists if the new name is taken, ErrNotFound if old is missing.
	RenameMailbox(ctx context.Context, accountID int64, oldName, newName string) error
	// SetSubscribed adds or removes a name from the account's subscriptions (the name need not
	// exist, RFC 9051 §6.3.7). ListSubscriptions returns them sorted.
	SetSubscribed(ctx context.Context, accountID int64, name string, subscribed bool) error
	ListSubscriptions(ctx context.Context, accountID int64) ([]string, error)

	// GetMailboxByID returns a mailbox by id; ErrNotFound if it is gone.
	GetMailboxByID(ctx context.Context, mailboxID int64) (Mailbox, error)
	// MailboxSize is the total size in bytes of a mailbox's messages (STATUS SIZE, RFC 8438).
	MailboxSize(ctx context.Context, mailboxID int64) (int64, error)
	// FirstUnseen returns the lowest UID of a mailbox's messages without \Seen, 0 when every
	// message has it (IMAP4rev1 SELECT's UNSEEN, RFC 3501 §6.3.1).
	FirstUnseen(ctx context.Context, mailboxID int64) (uint32, error)
	// ClaimRecent claims for one session the messages of a mailbox that no session has seen as
	// \Recent (RFC 3501 §2.3.2): atomically, the mailbox's FirstRecentUID moves up to its
	// UIDNEXT. It returns the UIDs claimed as the range [first, next): empty (first == next)
	// when another session claimed them first.
	ClaimRecent(ctx context.Context, mailboxID int64) (first, next uint32, err error)
	// CountFrom counts a mailbox's messages with a UID of at least uid (STATUS RECENT with the
	// mailbox's FirstRecentUID).
	CountFrom(ctx context.Context, mailboxID int64, uid uint32) (int64, error)
	// ListUIDs returns the UIDs of a mailbox in ascending order: the message sequence numbers
	// of a session are the positions in this list.
	ListUIDs(ctx context.Context, mailboxID int64) ([]uint32, error)
	// GetMessages returns the messages with the given UIDs (missing ones are left out), in UID
	// order.
	GetMessages(ctx context.Context, mailboxID int64, uids []uint32) ([]Message, error)
	// GetMessageMeta is GetMessages with only UID, ModSeq, Flags, InternalDate and Size filled
	// in (ID, BlobID, Envelope and Structure left empty): what FETCH FLAGS, UID, INTERNALDATE,
	// RFC822.SIZE and MODSEQ need, read faster.
	GetMessageMeta(ctx context.Context, mailboxID int64, uids []uint32) ([]Message, error)
	// MetaChangedSince is ChangedSince with only what GetMessageMeta fills in: with modseq 0,
	// the metadata of every message of the mailbox (how imapserver's metadata cache is filled
	// and kept current).
	MetaChangedSince(ctx context.Context, mailboxID int64, modseq uint64) ([]Message, error)
	// ChangedSince returns the messages whose MODSEQ is greater than modseq, in UID order
	// (CONDSTORE CHANGEDSINCE, and how sessions learn of new messages and flag changes).
	ChangedSince(ctx context.Context, mailboxID int64, modseq uint64) ([]Message, error)
	// ExpungedSince returns, in ascending order, the UIDs expunged from the mailbox with a
	// MODSEQ greater than modseq (QRESYNC VANISHED, RFC 7162 §3.2.10).
	ExpungedSince(ctx context.Context, mailboxID int64, modseq uint64) ([]uint32, error)

	// UpdateFlags changes the flags of the messages with the given UIDs. Every message whose
	// flags change gets a new MODSEQ; a message whose MODSEQ is greater than unchangedSince
	// (when non-zero, RFC 7162 §3.1.3) is left alone and reported in failed. Messages whose
	// flags end up the same are not changed and not reported. Flags are compared
	// case-insensitively for system flags and keywords alike.
	UpdateFlags(ctx context.Context, mailboxID int64, uids []uint32, op FlagOp, flags []string, unchangedSince uint64) (updated []FlagUpdate, failed []uint32, err error)
	// Expunge removes the messages with the given UIDs that carry \Deleted; nil uids means
	// every message with \Deleted. Each removal is recorded with a new MODSEQ for
	// ExpungedSince. It returns the removed UIDs in ascending order and the blobs whose last
	// reference went away.
	Expunge(ctx context.Context, mailboxID int64, uids []uint32) (expunged []uint32, unreferenced []string, err error)
	// RemoveMessages removes exactly the messages with the given UIDs, whatever their flags,
	// in one transaction recorded like an expunge (POP3's UPDATE state, RFC 1939 §6). UIDs
	// that do not exist are skipped; it returns the UIDs removed and the blobs left without
	// reference.
	RemoveMessages(ctx context.Context, mailboxID int64, uids []uint32) (removed []uint32, unreferenced []string, err error)
	// Copy copies messages (flags and internal date kept, new UIDs and MODSEQ) to another
	// mailbox of the same account, sharing their blobs. Move does the same and removes the
	// originals in the same transaction (RFC 6851), recording them as expunged.
	Copy(ctx context.Context, srcMailboxID int64, uids []uint32, dstMailboxID int64) ([]UIDPair, error)
	Move(ctx context.Context, srcMailboxID int64, uids []uint32, dstMailboxID int64) ([]UIDPair, error)

	// SearchText returns, ascending, the UIDs of the mailbox's messages whose searchable text
	// (store.Text, as delivered) holds query, compared case-insensitively, and, apart, the
	// UIDs of the messages that have no indexed text (delivered without Text): the caller
	// reads those to decide. ErrNotIndexable (wrapped) when the index cannot answer the query.
	SearchText(ctx context.Context, mailboxID int64, field TextField, query string) (matched, unindexed []uint32, err error)

	// AccountUsage returns the bytes and number of messages stored for an account (QUOTA).
	AccountUsage(ctx context.Context, accountID int64) (bytes, messages int64, err error)
	// RecordJunkMove records that a user moved a message into (toJunk) or out of Junk, for the
	// spam filter to learn from later.
	RecordJunkMove(ctx context.Context, accountID int64, blobID string, toJunk bool, at time.Time) error

	// Subscribe returns a channel of the changes to one account's mailboxes, and a function
	// that ends the subscription. Events are dropped, never blocked on, when the subscriber is
	// slow: the channel holds at least one pending event, which is all a subscriber needs to
	// re-read the state.
	Subscribe(accountID int64) (<-chan Change, func())
}
