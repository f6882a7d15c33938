package store

import (
	"context"
	"strings"
	"time"
)

// MailEvent is one stored record of the mail log (package maillog documents the keys): what
// the message trace searches and shows. Recipients holds the recipients of Rcpt one by one,
// for search; Mailboxes is where a local delivery put the message, when the event says.
type MailEvent struct {
	ID      int64 // the store's id of the record, ascending in insertion order
	Time    time.Time
	Event   string
	BlobID  string // maillog's "id": posthorn's id of the message, "" when no body was accepted
	MsgID   string
	From    string
	Rcpt    string // as logged: comma-separated
	Result  string
	Code    string
	Remote  string
	Size    int64
	Conn    string
	Reasons string
	// Mailboxes are the local copies the event made (a received message's INBOX or Junk).
	Mailboxes []MailEventMailbox
}

// MailEventMailbox is one local copy of a message: the account and the mailbox it went to.
type MailEventMailbox struct {
	Account string
	Mailbox string
}

// MailEventQuery selects mail events. Empty fields select everything. From and Rcpt match an
// address exactly, its domain case-insensitively (MailEventAddress); a value "@domain" matches
// every address of the domain. MsgID matches exactly, without angle brackets. Since is
// inclusive, Until exclusive.
type MailEventQuery struct {
	From, Rcpt   string
	MsgID        string
	Since, Until time.Time
	// Limit bounds the events returned; 0 means 100.
	Limit int
	// After is the ID of the last event of the previous page (0 for the first page): the
	// search returns events newest first, so the page goes on with older ones.
	After int64
}

// DefaultMailEventLimit is a MailEventQuery's Limit when it gives none.
const DefaultMailEventLimit = 100

// MailEventStore keeps the mail log for the message trace. Backends implement it beside
// Store; callers find it by type assertion.
type MailEventStore interface {
	// AddMailEvents stores a batch of events in one transaction (their IDs are ignored).
	AddMailEvents(ctx context.Context, events []MailEvent) error
	// SearchMailEvents returns the events q selects, newest first (by ID).
	SearchMailEvents(ctx context.Context, q MailEventQuery) ([]MailEvent, error)
	// MailEventsOf returns every event of one message (by its blob id), oldest first.
	MailEventsOf(ctx context.Context, blobID string) ([]MailEvent, error)
}

// MailEventAddress is the searchable form of an address in the mail log: the local part as
// written, the domain lower-cased; "" stays "" (the null sender).
func MailEventAddress(a string) string {
	a = strings.TrimSpace(a)
	at := strings.LastIndexByte(a, '@')
	if at < 0 {
		return a
	}
	return a[:at+1] + strings.ToLower(a[at+1:])
}

// MailEventRecipients splits a logged Rcpt (comma-separated) into searchable addresses,
// each once.
func MailEventRecipients(rcpt string) []string {
	var out []string
	for _, r := range strings.Split(rcpt, ",") {
		r = MailEventAddress(r)
		if r == "" {
			continue
		}
		dup := false
		for _, o := range out {
			dup = dup || o == r
		}
		if !dup {
			out = append(out, r)
		}
	}
	return out
}
