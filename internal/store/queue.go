package store

import (
	"context"
	"fmt"
	"time"

	"posthorn/internal/address"
)

// Priority is the class of an outbound message. The queue scheduler always serves a lower
// class first, so bulk mail never delays person-to-person mail.
type Priority int

const (
	// PriorityNormal is person-to-person mail, and delivery status notifications.
	PriorityNormal Priority = 0
	// PriorityBulk is campaign and list mail.
	PriorityBulk Priority = 1
)

// Outbound is one remote recipient of a delivery: a row of the outbound queue, which shares the
// delivery's blob (one blob reference per row) until it is delivered, bounced or deleted.
type Outbound struct {
	// Sender is the envelope sender (RFC 5321 reverse-path), "" for the null sender of a
	// delivery status notification: a message from the null sender that fails is dropped, never
	// bounced (RFC 5321 §4.5.5), so bounces cannot loop.
	Sender    string
	Recipient string
	Priority  Priority

	// RFC 3461 DSN parameters of the submission. Ret is "FULL", "HDRS" or "" (unspecified);
	// EnvID is the ENVID xtext decoded; Notify is "" (unspecified: failures and delays), "NEVER"
	// or a comma-separated subset of "SUCCESS", "FAILURE", "DELAY"; ORcpt is the ORCPT
	// parameter as given ("rfc822;addr"), decoded.
	Ret    string
	EnvID  string
	Notify string
	ORcpt  string

	// RequireTLS is RFC 8689 REQUIRETLS: the message is only ever sent over TLS with a valid
	// certificate (MTA-STS or DANE validated), and the next hop must support REQUIRETLS.
	RequireTLS bool
	// SMTPUTF8 (RFC 6531) and EightBit (RFC 6152 BODY=8BITMIME) ask the next hop for them.
	SMTPUTF8 bool
	EightBit bool

	// CampaignRecipient is the campaign send-ledger row (CampaignStore) this message delivers,
	// 0 for mail that is not a campaign's. Deliver moves that row from pending to queued in
	// the transaction that queues the message, and fails (ErrConflict) if it is not pending,
	// so a ledger row is never queued twice.
	CampaignRecipient int64
}

// ValidateOutbound checks the outbound recipients of a delivery, as Deliver does before its
// transaction: every recipient and non-null sender an address, every priority known.
func ValidateOutbound(out []Outbound) error {
	for _, o := range out {
		if _, err := address.Parse(o.Recipient); err != nil {
			return fmt.Errorf("outbound recipient %q: %w", o.Recipient, err)
		}
		if o.Sender != "" {
			if _, err := address.Parse(o.Sender); err != nil {
				return fmt.Errorf("outbound sender %q: %w", o.Sender, err)
			}
		}
		if o.Priority != PriorityNormal && o.Priority != PriorityBulk {
			return fmt.Errorf("outbound recipient %q: unknown priority %d", o.Recipient, o.Priority)
		}
	}
	return nil
}

// QueueState is where a queued recipient stands.
type QueueState string

const (
	QueueReady    QueueState = "ready"    // waiting for its next attempt (which may be now)
	QueueHeld     QueueState = "held"     // held by the operator: never attempted until released
	QueueDeferred QueueState = "deferred" // ready, after at least one failed attempt
)

// QueuedMessage is one row of the outbound queue: one recipient of one message.
type QueuedMessage struct {
	ID     int64
	BlobID string
	Size   int64
	Outbound
	Domain      string // the recipient's domain, lower-cased
	QueuedAt    time.Time
	NextAttempt time.Time
	Attempts    int
	LastError   string // the last failure, as the remote server or the network said it
	Held        bool
	// DelayNotified reports that a delay DSN has been sent for this recipient.
	DelayNotified bool
}

// State reports the row's state for display.
func (q QueuedMessage) State() QueueState {
	switch {
	case q.Held:
		return QueueHeld
	case q.Attempts > 0:
		return QueueDeferred
	}
	return QueueReady
}

// QueueStore is the outbound queue's persistence, beside Store (Deliver inserts rows from
// Delivery.Outbound). Every method is safe for concurrent use.
type QueueStore interface {
	// DueQueue returns up to limit rows that are not held and due at now, lowest priority
	// class first, then oldest next attempt, skipping the ids in exclude (rows in flight).
	DueQueue(ctx context.Context, now time.Time, limit int, exclude map[int64]bool) ([]QueuedMessage, error)
	// NewQueueRows returns up to limit rows with an id above afterID that are not held, in id
	// order: the rows added since a reader last saw afterID.
	NewQueueRows(ctx context.Context, afterID int64, limit int) ([]QueuedMessage, error)
	// CountDueQueue counts the rows that are not held and due at now.
	CountDueQueue(ctx context.Context, now time.Time) (int, error)
	// NextQueueAttempt returns the earliest next attempt after the given time of a row that is
	// not held, or the zero time when there is none.
	NextQueueAttempt(ctx context.Context, after time.Time) (time.Time, error)
	// ListQueue returns every row, oldest first.
	ListQueue(ctx context.Context) ([]QueuedMessage, error)
	// GetQueued returns one row; ErrNotFound if absent.
	GetQueued(ctx context.Context, id int64) (QueuedMessage, error)
	// QueueDone deletes rows (delivered, bounced or deleted by the operator) and their blob
	// references in one transaction, and returns the blobs whose last reference went away: the
	// caller deletes them from the blob store after the commit. Unknown ids are ErrNotFound
	// and nothing is deleted.
	QueueDone(ctx context.Context, ids ...int64) (unreferenced []string, err error)
	// QueueDeferred records a failed attempt: attempts+1, the error and the next attempt.
	QueueDeferred(ctx context.Context, id int64, next time.Time, lastError string) error
	// QueueDelayNotified records that a delay DSN went out for the rows.
	QueueDelayNotified(ctx context.Context, ids ...int64) error
	// SetQueueHeld holds or releases a row; ErrNotFound if absent.
	SetQueueHeld(ctx context.Context, id int64, held bool) error
	// RetryQueued makes a row due now (and releases it); ErrNotFound if absent.
	RetryQueued(ctx context.Context, id int64, now time.Time) error
	// RetryAllQueued makes every row that is not held due now, and counts them.
	RetryAllQueued(ctx context.Context, now time.Time) (int64, error)
	// QueueCounts returns the number of rows per state.
	QueueCounts(ctx context.Context) (map[QueueState]int64, error)
	// QueueWake is signalled (without blocking, coalesced) after every commit that adds rows.
	QueueWake() <-chan struct{}

	// MTASTSPolicy returns the cached MTA-STS policy text of a domain with its id and when it
	// was fetched; ErrNotFound if none is cached.
	MTASTSPolicy(ctx context.Context, domain string) (policy, id string, fetched time.Time, err error)
	// SetMTASTSPolicy caches a domain's policy.
	SetMTASTSPolicy(ctx context.Context, domain, policy, id string, fetched time.Time) error
}

// QueueLeaser is a QueueStore shared by several nodes (the PostgreSQL backend), found by type
// assertion: each node claims the due rows it will try, for a while (a lease), so that no row
// is tried by two nodes at once and the rows of a node that died are tried by the others once
// its leases run out. A backend used by one process only (SQLite) need not implement it.
//
// A scheduler of several nodes calls ClaimDueQueue instead of DueQueue and NewQueueRows (which
// leave out the rows any node holds a lease on, as CountDueQueue does not count them), renews
// the leases of its rows in flight well before they end (RenewQueueLeases; a row it lost is
// another node's now, or held by the operator, and is dropped from memory untried), and ends a
// lease by the row's outcome: QueueDone deletes the row, QueueDeferred ends its lease (so does
// SetQueueHeld; RetryQueued and RetryAllQueued leave a lease alone), and ReleaseQueueLeases
// hands back the rows it will not try (at shutdown). A lease must outlast a delivery attempt
// (queue.DefaultTimeout, 10 minutes) by a wide margin.
type QueueLeaser interface {
	// ClaimDueQueue leases to node, until until, up to limit rows that are not held, due at
	// now and not leased to any node at now (a lease that ended at or before now is no
	// lease), lowest priority class first, then oldest next attempt, and returns them. Two
	// nodes claiming at once get different rows.
	ClaimDueQueue(ctx context.Context, node string, now, until time.Time, limit int) ([]QueuedMessage, error)
	// RenewQueueLeases extends to until the leases node holds on ids, and returns the ids it
	// no longer holds (claimed by another node after the lease ended, held, or gone).
	RenewQueueLeases(ctx context.Context, node string, ids []int64, until time.Time) (lost []int64, err error)
	// ReleaseQueueLeases ends the leases node holds on ids: the rows are due again at once
	// (at their next attempt) for every node.
	ReleaseQueueLeases(ctx context.Context, node string, ids ...int64) error
}
