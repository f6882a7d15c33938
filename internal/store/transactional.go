package store

import (
	"context"
	"time"
)

// A transactional send is one request of the send API (POST /api/v1/send): one message to
// each of a few recipients, sent at once at normal priority. It is kept as a campaign of kind
// CampaignTransactional, created finished, with a send-ledger row per recipient, so that its
// messages carry the same signed tracking and VERP tokens as a campaign's and the queue's
// outcomes, bounces, complaints, opens and clicks reach it through the same paths, and its
// statistics are a campaign's.

// CampaignKind tells a campaign to lists from a transactional send.
type CampaignKind string

const (
	CampaignBulk          CampaignKind = "campaign"
	CampaignTransactional CampaignKind = "transactional"
)

// TransactionalSend is one request of the send API as stored.
type TransactionalSend struct {
	ID int64
	// Principal names who asked (an API token: "token:ID"); idempotency keys are per
	// principal, so two clients cannot replay each other's sends.
	Principal string
	// IdempotencyKey is the client's key ("": none, the request is never matched).
	IdempotencyKey string
	// RequestHash identifies the request's content, so that a key used again for another
	// request is told apart from a retry.
	RequestHash []byte
	// Campaign is the send's campaign row; CreateTransactional sets its kind and status.
	Campaign Campaign
	// Recipients are the addresses sent to, normalised, each once: a pending ledger row each.
	Recipients []string
	// Suppressed are the addresses left out because the suppression ledger holds them.
	Suppressed []string
	CreatedAt  time.Time
}

// TransactionalStore keeps the sends of the send API.
type TransactionalStore interface {
	// CreateTransactional stores t in one transaction: its campaign (kind transactional,
	// status finished), a pending ledger row per recipient (tracking as the campaign's) and
	// the send itself. When t.Principal already stored a send under t.IdempotencyKey, nothing
	// is written and that send is returned with created false.
	CreateTransactional(ctx context.Context, t TransactionalSend) (sent TransactionalSend, created bool, err error)
	// CampaignRecipients returns a campaign's whole send ledger in id order; for the few rows
	// of a transactional send (a campaign's ledger is read with StreamRecipients).
	CampaignRecipients(ctx context.Context, campaignID int64, limit int) ([]Recipient, error)
}
