package store

import (
	"context"
	"time"
)

// LegalHold is an account under legal hold: retention removes nothing of it (its mail, its
// login history, the mail log events naming it) until the hold is lifted.
type LegalHold struct {
	AccountID int64
	Since     time.Time
}

// Prune says which records PruneRecords removes: those older than each time; a zero time
// removes none of its kind.
type Prune struct {
	// MailEventsBefore: the stored mail log (MailEventStore), except the events that name an
	// account under legal hold as sender, recipient or mailbox owner.
	MailEventsBefore time.Time
	// TrackingBefore: campaign opens and clicks (CampaignStore's events of kind open and
	// click); the other kinds (deliveries, bounces, unsubscribes, complaints) stay.
	TrackingBefore time.Time
	// LoginsBefore: login sources (LoginStore) last used, and web logins (WebStore) made,
	// before it, except those of accounts under legal hold.
	LoginsBefore time.Time
	// DryRun counts what would go and removes nothing.
	DryRun bool
}

// Pruned counts what PruneRecords removed (or, for a dry run, would remove).
type Pruned struct {
	MailEvents     int64
	TrackingEvents int64
	LoginSources   int64
	WebLogins      int64
}

// RetentionStore is what the retention job needs beside the MailStore it expunges through:
// the legal holds of accounts, the messages older than a date, and the removal of old
// records. Backends implement it beside Store; callers find it by type assertion.
type RetentionStore interface {
	// SetLegalHold puts the account under legal hold from at (on), or lifts the hold; putting
	// an account on hold twice keeps the first time. ErrNotFound if the account does not
	// exist.
	SetLegalHold(ctx context.Context, accountID int64, on bool, at time.Time) error
	// LegalHolds returns the accounts under legal hold, in account id order.
	LegalHolds(ctx context.Context) ([]LegalHold, error)
	// MessagesBefore returns, ascending, the UIDs of the mailbox's messages whose internal
	// date is before before; ErrNotFound if the mailbox does not exist.
	MessagesBefore(ctx context.Context, mailboxID int64, before time.Time) ([]uint32, error)
	// PruneRecords removes the records p selects, in batches (so that other writers are not
	// kept waiting), and returns how many of each kind went.
	PruneRecords(ctx context.Context, p Prune) (Pruned, error)
}
