package store

import (
	"context"
	"strconv"
	"time"
)

// ThrottleStore keeps windowed counters that several nodes share: the login throttling's
// failure counts (package credentials) when the store is shared. A count lasts window from
// its first increment, by the store's clock (the database's, on PostgreSQL, so the nodes'
// clocks need not agree); after that, the next increment starts it again at 1.
type ThrottleStore interface {
	// ThrottleAdd adds one to the count of key, atomically, and returns the count after it
	// and the start of its window (the handle of ThrottleRefund).
	ThrottleAdd(ctx context.Context, key string, window time.Duration) (count int64, start time.Time, err error)
	// ThrottleRefund takes one back from the count of key, if its window still began at start
	// and the count is above zero; otherwise it does nothing.
	ThrottleRefund(ctx context.Context, key string, start time.Time) error
}

// SendCounter is the part of SubmissionStore that counts what accounts submit, for the
// sending limits: the counts are in the store, so every node sharing it sees them.
type SendCounter interface {
	// RecordSent notes submitted messages, all in one transaction, and forgets what their
	// accounts sent more than a day before.
	RecordSent(ctx context.Context, records ...SentRecord) error
	// SentSince returns the recipients the account submitted to since since.
	SentSince(ctx context.Context, accountID int64, since time.Time) (int64, error)
}

// Leases are named, expiring locks that several nodes share: a singleton job runs on the
// node holding its lease (package lease), and a POP3 maildrop is held by one session of all
// the nodes (pop3server, the name MaildropLease). A lease is held by a holder (a token unique
// to the node or session) until it is released or its time to live passes without renewal,
// by the store's clock: a holder that dies frees it after ttl.
type Leases interface {
	// TryAcquireLease takes name for holder for ttl when it is free, expired or already
	// holder's (then it is renewed), and reports whether holder holds it now.
	TryAcquireLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// RenewLease extends holder's lease by ttl from now; false when holder no longer holds
	// it (it expired and another took it, or it was released).
	RenewLease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error)
	// ReleaseLease frees name if holder holds it; otherwise it does nothing.
	ReleaseLease(ctx context.Context, name, holder string) error
}

// MaildropLease is the name of the lease that holds account's POP3 maildrop.
func MaildropLease(accountID int64) string {
	return "pop3-maildrop/" + strconv.FormatInt(accountID, 10)
}

// SharedStore is implemented by a backend that several nodes may share (PostgreSQL): the
// services then keep their counters and locks in it (ThrottleStore, Leases) rather than in
// their memory, which is the authority only for one process alone on its store (SQLite).
type SharedStore interface {
	SharedByNodes() bool
}
