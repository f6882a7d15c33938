package queue

import (
	"context"
	"time"

	"posthorn/internal/store"
)

// OutcomeKind is what one delivery attempt of a queue row came to.
type OutcomeKind int

// The outcomes of an attempt.
const (
	// Delivered: the remote server accepted the message for the recipient (a 2xx reply).
	Delivered OutcomeKind = iota + 1
	// Deferred: a temporary failure (a 4xx reply, a network or DNS failure); the row is
	// retried.
	Deferred
	// Failed: a permanent failure (a 5xx reply, a null MX, REQUIRETLS impossible); the row
	// leaves the queue.
	Failed
	// Expired: the row was still failing temporarily after Lifetime; it leaves the queue.
	Expired
)

func (k OutcomeKind) String() string {
	switch k {
	case Delivered:
		return "delivered"
	case Deferred:
		return "deferred"
	case Failed:
		return "failed"
	case Expired:
		return "expired"
	}
	return "unknown"
}

// Outcome is the result of one delivery attempt of one row, as Scheduler.Outcomes reports it.
type Outcome struct {
	Kind OutcomeKind
	// Code is the SMTP reply code (RFC 5321 §4.2); 0 when the failure was no reply (a network
	// failure, a null MX).
	Code int
	// Enhanced is the RFC 3463 enhanced status code, e.g. "5.1.1"; the reply's own when it
	// had one, otherwise what the queue made of the failure ("4.4.1", "5.1.10", "4.4.7" for an
	// expiry). "2.0.0" for a delivery.
	Enhanced string
	// Text is the reply line or what went wrong; RemoteMTA the host that answered, if any.
	Text      string
	RemoteMTA string
	At        time.Time
}

// reportOutcome calls the Outcomes hook for a campaign row (CampaignRecipient set).
func (s *Scheduler) reportOutcome(ctx context.Context, q store.QueuedMessage, o Outcome) {
	if s.Outcomes == nil || q.CampaignRecipient == 0 {
		return
	}
	o.At = s.Now()
	// What the hook records is kept even when a shutdown cuts the connection off.
	s.Outcomes(context.WithoutCancel(ctx), q, o)
}

// outcomeOf is the Outcome of a failure.
func outcomeOf(f *failure) Outcome {
	kind := Deferred
	switch {
	case f.Expired:
		kind = Expired
	case f.Permanent:
		kind = Failed
	}
	return Outcome{Kind: kind, Code: f.Code, Enhanced: f.Status, Text: f.Text, RemoteMTA: f.RemoteMTA}
}
