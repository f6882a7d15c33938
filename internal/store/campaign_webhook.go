package store

import (
	"context"
	"time"
)

// WebhookEvent is a campaign event with what a webhook tells of it: the campaign's name, the
// recipient's address ("" for an anonymous event or campaign) and the clicked link's URL.
type WebhookEvent struct {
	Event
	CampaignName string
	Address      string
	LinkURL      string
}

// WebhookState is where the delivery of one webhook stands.
type WebhookState struct {
	Name string // the webhook's key (its URL)
	// AfterID is the cursor: every event up to it was acknowledged by the receiver or passed
	// over as not subscribed to.
	AfterID     int64
	Failures    int       // failed attempts in a row
	NextAttempt time.Time // zero: at once
	LastError   string
	UpdatedAt   time.Time
}

// CampaignWebhookStore keeps what the webhooks of campaign events need: the events in id order
// and each webhook's cursor and retry state. Event ids only ever grow (an id is never handed
// out twice, even after its event is deleted), and an event is visible to EventsAfter only
// once every event with a smaller id is, so a cursor never passes over an event.
type CampaignWebhookStore interface {
	// EventsAfter returns up to limit events of every campaign with an id above afterID, in
	// id order.
	EventsAfter(ctx context.Context, afterID int64, limit int) ([]WebhookEvent, error)
	// WebhookState returns the webhook's state. The first time a name is asked for, its state
	// is created with the cursor at the newest event recorded so far: a new webhook gets the
	// events from then on, not the history.
	WebhookState(ctx context.Context, name string, now time.Time) (WebhookState, error)
	// SaveWebhookState saves st (st.Name's state must exist). The cursor never moves back:
	// an AfterID below the saved one keeps the saved one.
	SaveWebhookState(ctx context.Context, st WebhookState) error
}
