package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"
)

// ErrConflict is a change refused because the row is no longer in the state the caller
// expected (a campaign not in the status named, a ledger row no longer pending).
var ErrConflict = errors.New("state changed")

// OptIn is how a list confirms a subscription.
type OptIn string

const (
	OptInSingle OptIn = "single" // confirmed at once
	OptInDouble OptIn = "double" // confirmed by a signed link mailed to the address
)

// List is a mailing list: a named set of subscriptions.
type List struct {
	ID          int64
	Name        string
	Description string
	OptIn       OptIn
	CreatedAt   time.Time
}

// Subscriber is one address of the audience, shared by every list it is subscribed to.
type Subscriber struct {
	ID      int64
	Address string // normalised (internal/address)
	Name    string
	// Attributes are the subscriber's free attributes, stored as a JSON object; nil is {}.
	Attributes map[string]any
	CreatedAt  time.Time
	UpdatedAt  time.Time
}

// SubscriptionStatus is where a subscription to one list stands.
type SubscriptionStatus string

const (
	StatusUnconfirmed  SubscriptionStatus = "unconfirmed" // waiting for the double opt-in link
	StatusConfirmed    SubscriptionStatus = "confirmed"   // receives the list's campaigns
	StatusUnsubscribed SubscriptionStatus = "unsubscribed"
)

// ConsentSource is how a person gave (or withdrew) consent.
type ConsentSource string

const (
	SourceImport ConsentSource = "import"
	SourceForm   ConsentSource = "form"
	SourceAPI    ConsentSource = "api"
	SourceCLI    ConsentSource = "cli"
)

// Consent is the record of a subscription's consent: when, how, from which address (truncated
// by the caller), the text the person agreed to, and whether they agreed to tracking.
type Consent struct {
	At       time.Time
	Source   ConsentSource
	IP       string
	Text     string
	Tracking bool
}

// Subscription is one subscriber's subscription to one list.
type Subscription struct {
	SubscriberID int64
	ListID       int64
	Status       SubscriptionStatus
	Consent      Consent
	UpdatedAt    time.Time
}

// SubscribeRequest is one subscriber (found by address, created if new, its name and
// attributes replaced otherwise) and the subscription to give it on one list.
type SubscribeRequest struct {
	Subscriber Subscriber
	Status     SubscriptionStatus
	Consent    Consent
}

// SubscriberEntry is a subscriber with its subscription to the list asked about (zero when
// the listing was of every subscriber).
type SubscriberEntry struct {
	Subscriber
	Subscription Subscription
}

// SubscriberQuery pages through subscribers in id order: those with an id above AfterID, at
// most Limit (a backend may cap it), of one list when ListID is not 0.
type SubscriberQuery struct {
	ListID  int64
	AfterID int64
	Limit   int
}

// SuppressionReason is why an address is never mailed.
type SuppressionReason string

const (
	SuppressHardBounce  SuppressionReason = "hard_bounce"
	SuppressSoftBounces SuppressionReason = "soft_bounces"
	SuppressComplaint   SuppressionReason = "complaint"
	SuppressUnsubscribe SuppressionReason = "unsubscribe"
	SuppressManual      SuppressionReason = "manual"
)

// SoftBounceLimit is the number of soft bounces in a row that suppresses an address.
const SoftBounceLimit = 3

// Suppression is one row of the suppression ledger. A zero Expires is for ever.
type Suppression struct {
	Address   string
	Reason    SuppressionReason
	Source    string // what added it: "cli", a campaign and recipient, a DSN's reporting MTA...
	CreatedAt time.Time
	Expires   time.Time
}

// Active reports whether the suppression holds at now.
func (s Suppression) Active(now time.Time) bool { return s.Expires.IsZero() || s.Expires.After(now) }

// Template is a reusable campaign body (Go templates, see internal/campaign/render).
type Template struct {
	ID        int64
	Name      string
	Subject   string
	HTML      string
	Text      string
	CreatedAt time.Time
	UpdatedAt time.Time
}

// CampaignStatus is a campaign's life: draft -> scheduled -> running <-> paused -> finished,
// or cancelled from any state before finished.
type CampaignStatus string

const (
	CampaignDraft     CampaignStatus = "draft"
	CampaignScheduled CampaignStatus = "scheduled"
	CampaignRunning   CampaignStatus = "running"
	CampaignPaused    CampaignStatus = "paused"
	CampaignCancelled CampaignStatus = "cancelled"
	CampaignFinished  CampaignStatus = "finished"
)

// Campaign is one mailing to one or more lists.
type Campaign struct {
	ID            int64
	Kind          CampaignKind // "" is CampaignBulk
	Name          string
	TemplateID    int64 // 0: none (the campaign's own Subject, HTML and Text)
	Subject       string
	HTML          string
	Text          string
	From          string
	ReplyTo       string
	ListIDs       []int64
	Status        CampaignStatus
	ScheduledAt   time.Time // zero: not scheduled
	RatePerMinute int       // 0: no cap of its own
	Tracking      bool
	Anonymous     bool
	CreatedAt     time.Time
	StartedAt     time.Time
	FinishedAt    time.Time
}

// RecipientState is where one row of a campaign's send ledger stands.
type RecipientState string

const (
	RecipientPending   RecipientState = "pending"
	RecipientQueued    RecipientState = "queued"
	RecipientDelivered RecipientState = "delivered"
	RecipientDeferred  RecipientState = "deferred"
	RecipientBounced   RecipientState = "bounced"
	RecipientSkipped   RecipientState = "skipped"
)

// Recipient is one row of a campaign's send ledger, with what the sender renders from.
type Recipient struct {
	ID           int64
	CampaignID   int64
	SubscriberID int64 // 0 once the subscriber is deleted
	Address      string
	State        RecipientState
	// Tracking: the subscriber consented to tracking on one of the campaign's lists.
	Tracking   bool
	SoftBounce bool
	Name       string
	Attributes map[string]any
	// Eligible (StreamRecipients only) reports that, when read, the subscriber still exists, has a
	// confirmed subscription to one of the campaign's lists and is not suppressed: a pending
	// row that is not eligible must be skipped, not sent.
	Eligible  bool
	UpdatedAt time.Time
}

// CampaignLink is one tracked link of a campaign, by its index in the body.
type CampaignLink struct {
	CampaignID int64
	Index      int
	URL        string
}

// EventKind is what a campaign event records.
type EventKind string

const (
	EventOpen        EventKind = "open"
	EventClick       EventKind = "click"
	EventUnsubscribe EventKind = "unsubscribe"
	EventComplaint   EventKind = "complaint"
	EventBounce      EventKind = "bounce"
	EventDelivered   EventKind = "delivered"
	EventDeferred    EventKind = "deferred"
)

// Event is one campaign event. RecipientID 0 is anonymous; LinkIndex is -1 when the event is
// not a click; Machine events (privacy proxies, scanners) carry their Reason.
type Event struct {
	ID          int64
	CampaignID  int64
	RecipientID int64
	Kind        EventKind
	LinkIndex   int
	Machine     bool
	Reason      string
	UserAgent   string
	IP          string // truncated by the caller
	At          time.Time
}

// EventCount splits a count between people and machines.
type EventCount struct {
	Human   int64
	Machine int64
}

// Total is the raw count.
func (c EventCount) Total() int64 { return c.Human + c.Machine }

// Add counts n events more, a machine's or people's.
func (c *EventCount) Add(machine bool, n int64) {
	if machine {
		c.Machine += n
	} else {
		c.Human += n
	}
}

// LinkStats counts the clicks of one link; Unique counts distinct named recipients (one with
// both a human and a machine click counts in both), Recipients each of them once.
type LinkStats struct {
	Index      int
	URL        string
	Clicks     EventCount
	Unique     EventCount
	Recipients int64
}

// HourStats counts the events of one hour (UTC, truncated): opens and clicks, people's and
// machines' apart, and the messages delivered, the bounces, unsubscribes and complaints.
type HourStats struct {
	Hour         time.Time
	Opens        EventCount
	Clicks       EventCount
	Delivered    int64
	Bounces      int64
	Unsubscribes int64
	Complaints   int64
}

// Add counts n events of kind more, a machine's or people's; a kind the hours do not count
// (deferred, ...) is left out.
func (h *HourStats) Add(kind EventKind, machine bool, n int64) {
	switch kind {
	case EventOpen:
		h.Opens.Add(machine, n)
	case EventClick:
		h.Clicks.Add(machine, n)
	case EventDelivered:
		h.Delivered += n
	case EventBounce:
		h.Bounces += n
	case EventUnsubscribe:
		h.Unsubscribes += n
	case EventComplaint:
		h.Complaints += n
	}
}

// CampaignStats are a campaign's counts. Unique counts are of distinct non-anonymous
// recipients: a recipient with both a human and a machine open counts in both.
type CampaignStats struct {
	Recipients  map[RecipientState]int64
	SoftBounced int64 // ledger rows with a soft bounce
	// SoftBouncedBy splits SoftBounced by the rows' state now (every state present, 0 included).
	SoftBouncedBy map[RecipientState]int64
	Events        map[EventKind]EventCount
	UniqueOpens   EventCount
	UniqueClicks  EventCount
	// OpenRecipients and ClickRecipients count distinct named recipients with at least one
	// open (click), human or machine: each of them once.
	OpenRecipients  int64
	ClickRecipients int64
	Links           []LinkStats // by index
	Hours           []HourStats // in time order, hours without any of HourStats' events left out
}

// CampaignStore is the persistence of bulk mail: the audience, the suppression ledger,
// templates, campaigns with their send ledger, links, events and statistics, soft-bounce
// counts and the token key. Backends implement it beside Store; callers find it by type
// assertion. Addresses given are normalised by the caller; unknown ids are ErrNotFound, names
// taken ErrExists. Nothing reads a whole audience: listings are paged, FillRecipients works
// inside the backend.
type CampaignStore interface {
	TransactionalStore

	// CreateList adds a list; ErrExists if the name is taken.
	CreateList(ctx context.Context, l List) (List, error)
	GetList(ctx context.Context, name string) (List, error)
	GetListByID(ctx context.Context, id int64) (List, error)
	// ListLists returns every list by name.
	ListLists(ctx context.Context) ([]List, error)
	// DeleteList deletes a list and its subscriptions (subscribers stay).
	DeleteList(ctx context.Context, id int64) error
	// CountSubscriptions counts a list's subscriptions per status.
	CountSubscriptions(ctx context.Context, listID int64) (map[SubscriptionStatus]int64, error)

	// SaveSubscriber creates the subscriber of sub.Address, or replaces the name and
	// attributes of the existing one, and returns it.
	SaveSubscriber(ctx context.Context, sub Subscriber) (Subscriber, error)
	GetSubscriber(ctx context.Context, address string) (Subscriber, error)
	GetSubscriberByID(ctx context.Context, id int64) (Subscriber, error)
	// ListSubscribers returns a page of subscribers in id order (SubscriberQuery).
	ListSubscribers(ctx context.Context, q SubscriberQuery) ([]SubscriberEntry, error)
	// DeleteSubscriber deletes a subscriber and its subscriptions; its ledger rows lose it
	// and are never sent.
	DeleteSubscriber(ctx context.Context, id int64) error

	// SubscribeToList saves every request's subscriber and its subscription to the list, all in one
	// transaction, and returns the subscribers. An existing subscription takes the new status
	// and consent, with two exceptions that keep a person's own choice: an import never
	// re-subscribes an unsubscribed subscription, and an unconfirmed status never replaces a
	// confirmed one.
	SubscribeToList(ctx context.Context, listID int64, reqs []SubscribeRequest) ([]Subscriber, error)
	// SetSubscriptionStatus changes one subscription's status with its consent record
	// (confirming, unsubscribing); ErrNotFound if there is none.
	SetSubscriptionStatus(ctx context.Context, subscriberID, listID int64, status SubscriptionStatus, c Consent) error
	GetSubscription(ctx context.Context, subscriberID, listID int64) (Subscription, error)
	// SubscriptionsOf returns a subscriber's subscriptions by list id.
	SubscriptionsOf(ctx context.Context, subscriberID int64) ([]Subscription, error)

	// AddSuppressions adds addresses to the ledger in one transaction; an address already in
	// it takes the new reason, source and expiry.
	AddSuppressions(ctx context.Context, sups []Suppression) error
	// RemoveSuppression takes an address out of the ledger; ErrNotFound if absent.
	RemoveSuppression(ctx context.Context, address string) error
	// ListSuppressions returns up to limit rows with an address above after, by address
	// (expired ones included).
	ListSuppressions(ctx context.Context, after string, limit int) ([]Suppression, error)
	// IsSuppressed returns the address's suppression if one holds at now.
	IsSuppressed(ctx context.Context, address string, now time.Time) (Suppression, bool, error)
	// SuppressedAmong returns the suppressions holding at now of the addresses given.
	SuppressedAmong(ctx context.Context, addresses []string, now time.Time) (map[string]Suppression, error)

	// RecordSoftBounce counts a soft bounce of the address (and marks the ledger row
	// recipientID when not 0); the SoftBounceLimit-th in a row adds a SuppressSoftBounces
	// suppression in the same transaction, and suppressed reports it.
	RecordSoftBounce(ctx context.Context, recipientID int64, address, source string, now time.Time) (suppressed bool, err error)
	// ResetSoftBounces forgets the address's soft bounces (it was delivered).
	ResetSoftBounces(ctx context.Context, address string) error

	// CreateTemplate adds a template; ErrExists if the name is taken.
	CreateTemplate(ctx context.Context, t Template) (Template, error)
	GetTemplate(ctx context.Context, name string) (Template, error)
	GetTemplateByID(ctx context.Context, id int64) (Template, error)
	ListTemplates(ctx context.Context) ([]Template, error)
	// UpdateTemplate replaces the subject and bodies of the template t.ID.
	UpdateTemplate(ctx context.Context, t Template) (Template, error)
	DeleteTemplate(ctx context.Context, id int64) error

	// CreateCampaign adds a campaign (Status "" is draft).
	CreateCampaign(ctx context.Context, c Campaign) (Campaign, error)
	GetCampaign(ctx context.Context, id int64) (Campaign, error)
	// ListCampaigns returns every campaign to lists (no transactional send), newest first.
	ListCampaigns(ctx context.Context) ([]Campaign, error)
	// UpdateCampaign replaces the fields of campaign c.ID that a sender edits (name, template,
	// subject, bodies, From, Reply-To, lists, schedule, rate, tracking, anonymous), not its
	// status or times.
	UpdateCampaign(ctx context.Context, c Campaign) (Campaign, error)
	// SetCampaignStatus moves a campaign to status at now, only from one of the statuses
	// given (any when none): ErrConflict otherwise. Running sets StartedAt the first time;
	// finished and cancelled set FinishedAt.
	SetCampaignStatus(ctx context.Context, id int64, status CampaignStatus, now time.Time, from ...CampaignStatus) error
	// DeleteCampaign deletes a campaign with its ledger, links and events.
	DeleteCampaign(ctx context.Context, id int64) error

	// FillRecipients builds the campaign's send ledger inside the store: one pending row per
	// address with a confirmed subscription to one of the campaign's lists, not suppressed
	// (unexpired suppressions), each address once. Addresses already in the ledger are left alone, so a second call
	// only adds those subscribed since. It returns the number of rows added.
	FillRecipients(ctx context.Context, campaignID int64) (int64, error)
	// StreamRecipients returns up to limit pending rows of the campaign with an id above
	// afterID, in id order, with Eligible computed as they are read.
	StreamRecipients(ctx context.Context, campaignID, afterID int64, limit int) ([]Recipient, error)
	GetRecipient(ctx context.Context, id int64) (Recipient, error)
	// SetRecipientState moves a ledger row to state.
	SetRecipientState(ctx context.Context, id int64, state RecipientState) error
	// RecordDelivered marks ledger row rec delivered, adds e (its delivered event) and
	// forgets the soft bounces of its address, in one transaction.
	RecordDelivered(ctx context.Context, rec Recipient, e Event) error

	// SetCampaignLinks replaces the campaign's links: urls[i] has index i.
	SetCampaignLinks(ctx context.Context, campaignID int64, urls []string) error
	CampaignLinks(ctx context.Context, campaignID int64) ([]CampaignLink, error)

	// AddEvents records events in one transaction.
	AddEvents(ctx context.Context, events []Event) error
	// CampaignStats counts the campaign's ledger and events.
	CampaignStats(ctx context.Context, campaignID int64) (CampaignStats, error)

	// CampaignKey returns the key of the campaign tokens: 32 random bytes made on first use,
	// then the same for every process sharing the store.
	CampaignKey(ctx context.Context) ([]byte, error)
}

// MaxPage caps the rows one paged read of a backend returns (ListSubscribers,
// ListSuppressions, StreamRecipients...), whatever the caller asks.
const MaxPage = 10000

// PageLimit returns limit within 1..MaxPage: a limit of 0 or less, or above MaxPage, is MaxPage.
func PageLimit(limit int) int {
	if limit <= 0 || limit > MaxPage {
		return MaxPage
	}
	return limit
}

// EncodeAttributes is the stored form of a subscriber's attributes: a JSON object, "{}" for
// none.
func EncodeAttributes(attrs map[string]any) (string, error) {
	if len(attrs) == 0 {
		return "{}", nil
	}
	b, err := json.Marshal(attrs)
	if err != nil {
		return "", fmt.Errorf("attributes: %w", err)
	}
	return string(b), nil
}

// DecodeAttributes reads attributes stored by EncodeAttributes.
func DecodeAttributes(text string) (map[string]any, error) {
	attrs := map[string]any{}
	if err := json.Unmarshal([]byte(text), &attrs); err != nil {
		return nil, fmt.Errorf("attributes: %w", err)
	}
	return attrs, nil
}
