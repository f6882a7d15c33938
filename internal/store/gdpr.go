package store

import (
	"context"
	"strings"
	"time"
)

// PersonalRecords is what a store holds about one address outside an account's own rows
// (which the account's methods read: mailboxes, app passwords, send-as, limits, logins): every
// row naming the address, whether it is an account, a subscriber, or only a correspondent.
type PersonalRecords struct {
	Address string
	// Aliases are the aliases at the address and those with it among their targets.
	Aliases []Alias
	// SendAsGrants are the accounts allowed to send as the address.
	SendAsGrants []SendAsGrant
	// WebSessions are the open web UI sessions of the account at the address (IDHash left
	// out: the export shows when and from where, not the key to a session).
	WebSessions []WebSession
	// Queue is the outbound queue's rows from or to the address.
	Queue []QueuedMessage
	// Subscriber is the audience row of the address (nil: none), with its subscriptions and
	// their consent records, each with its list's name.
	Subscriber    *Subscriber
	Subscriptions []ListSubscription
	// CampaignRecipients are the send-ledger rows addressed to it; CampaignEvents the events
	// (tracking, delivery, unsubscribe) of those rows.
	CampaignRecipients []Recipient
	CampaignEvents     []Event
	Suppressions       []Suppression
	SoftBounces        int64
	// SpamListEntries are the allow and block list entries of accounts naming the address;
	// Correspondents the accounts that have it among their known correspondents.
	SpamListEntries []AccountSpamEntry
	Correspondents  []AccountCorrespondent
	// Greylist are the greylisting triplets with the address as sender or recipient.
	Greylist []GreylistEntry
	// TransactionalSends are the transactional sends whose suppressed list names the address.
	TransactionalSends []int64
	// AuditEntries are the audit log entries naming the address as a whole address (in
	// actor, target or details, ReplaceAddress's match), compared case-insensitively.
	AuditEntries []AuditEntry
}

// SendAsGrant is one account allowed to send as an address.
type SendAsGrant struct {
	Account string
	Address string
}

// ListSubscription is a subscription with the name of its list.
type ListSubscription struct {
	Subscription
	List string
}

// AccountSpamEntry is one entry of an account's spam allow (Block false) or block list.
type AccountSpamEntry struct {
	Account string
	Entry   string
	Block   bool
}

// AccountCorrespondent is an address an account has written to, or had mail from, as the
// spam classifier remembers it (Correspondent), with the account's address.
type AccountCorrespondent struct {
	Account  string
	Address  string
	LastSeen time.Time
}

// GreylistEntry is one greylisting triplet ("network/sender/recipient").
type GreylistEntry struct {
	Triplet   string
	FirstSeen time.Time
	LastSeen  time.Time
	Passed    bool
}

// Erased counts what ErasePersonalData removed or rewrote, by part.
type Erased struct {
	Aliases            int64
	SendAsGrants       int64
	Queue              int64
	Subscribers        int64
	CampaignRecipients int64 // rewritten with the pseudonym
	CampaignEvents     int64
	Suppressions       int64
	SoftBounces        int64
	SpamListEntries    int64
	Correspondents     int64
	Greylist           int64
	TransactionalSends int64 // rewritten
	MailEvents         int64 // rewritten
	// Unreferenced are the blobs whose last reference went with the queue rows: the caller
	// deletes them from the body store after the commit.
	Unreferenced []string
}

// GDPRStore finds and erases what a store holds about one person (internal/gdpr). Backends
// implement it beside Store; callers find it by type assertion. Addresses are compared
// case-insensitively everywhere (a mail log keeps the local part as written).
type GDPRStore interface {
	// PersonalRecords returns every row naming address outside the account's own rows.
	PersonalRecords(ctx context.Context, address string) (PersonalRecords, error)
	// PersonalMailEvents calls fn for every mail log event naming address (as sender, as a
	// recipient, as the account of a local copy, or in its text), oldest first.
	PersonalMailEvents(ctx context.Context, address string, fn func(MailEvent) error) error
	// ErasePersonalData, in one transaction, deletes the rows PersonalRecords returns except
	// the audit log's (the account itself is for RemoveAccount): aliases at the address (and
	// the address among alias targets), send-as grants of it, queue rows from or to it, its
	// subscriber and subscriptions, the events of its ledger rows, its suppressions, soft
	// bounces, spam list entries, correspondents and greylist triplets; and it replaces the
	// address with pseudonym where rows must stay: the mail log (sender, recipients, local
	// copies, text) and the campaign send ledger, so counts and statistics stay right and a
	// campaign never sends to it again, and the suppressed lists of transactional sends.
	ErasePersonalData(ctx context.Context, address, pseudonym string) (Erased, error)
	// PurgeFreed makes what was deleted unrecoverable from the store's own files: the
	// full-text index merged so deleted text leaves it, free space rewritten, and any
	// write-ahead log emptied.
	PurgeFreed(ctx context.Context) error
}

// ReplaceAddress replaces every occurrence of the address needle (lower-case) in s, compared
// case-insensitively (ASCII), with repl, and reports whether it replaced any. An occurrence
// counts only as a whole address: "bob@example.org" is not in "jimbob@example.org" nor in
// "bob@example.org.uk", so erasing one person never rewrites another's address.
func ReplaceAddress(s, needle, repl string) (string, bool) {
	if needle == "" || len(s) < len(needle) {
		return s, false
	}
	lower := asciiLower(s)
	var b strings.Builder
	changed := false
	from := 0 // s[:from] is in b or replaced
	for at := 0; ; {
		i := strings.Index(lower[at:], needle)
		if i < 0 {
			break
		}
		start, end := at+i, at+i+len(needle)
		at = start + 1
		if (start > 0 && localPartByte(s[start-1])) || domainContinues(s[end:]) {
			continue
		}
		b.WriteString(s[from:start])
		b.WriteString(repl)
		from, at, changed = end, end, true
	}
	if !changed {
		return s, false
	}
	b.WriteString(s[from:])
	return b.String(), true
}

// ContainsAddress reports whether s holds the address needle (lower-case) as ReplaceAddress
// finds it.
func ContainsAddress(s, needle string) bool {
	_, ok := ReplaceAddress(s, needle, "")
	return ok
}

// asciiLower lower-cases the ASCII letters of s only, so offsets stay those of s.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// localPartByte reports whether c may be part of an address's local part (RFC 5322 atext and
// the dot), so an address found right after it is the tail of a longer one.
func localPartByte(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' ||
		strings.IndexByte(".!#$%&'*+/=?^_`{|}~-", c) >= 0 || c >= 0x80
}

// domainContinues reports whether rest, what follows an address found, continues its domain
// (a letter, digit or hyphen, or a dot and then one of those).
func domainContinues(rest string) bool {
	isLabel := func(c byte) bool {
		return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-' || c >= 0x80
	}
	switch {
	case rest == "":
		return false
	case isLabel(rest[0]):
		return true
	case rest[0] == '.' && len(rest) > 1 && isLabel(rest[1]):
		return true
	}
	return false
}
