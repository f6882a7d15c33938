package store

import (
	"context"
	"time"
)

// MailEventCount counts the stored mail events (MailEventStore) of one time bucket with one
// event and result, for the dashboard.
type MailEventCount struct {
	// Start is the bucket's start: since + n*bucket for the query's since and bucket.
	Start  time.Time
	Event  string
	Result string
	Count  int64
	// Mailboxes counts the local copies these events made (their MailEventMailbox rows).
	Mailboxes int64
	// Spam counts the events whose reasons name a finding of the spam classifier: a reason
	// whose name begins with "spam" ("spam-score", "spam-reject", "spam-blocklist"), the
	// classifier's own failure "spam-error" aside.
	Spam int64
	// Virus counts the events whose reasons name the reason "virus" (clamd found malware).
	Virus int64
}

// CampaignEventCount counts the campaign events (CampaignStore's Event) of one time bucket
// and kind, every campaign together, people's and machines' apart.
type CampaignEventCount struct {
	Start   time.Time
	Kind    EventKind
	Machine bool
	Count   int64
}

// StatsStore counts the mail log and the campaign events by time, for the dashboard.
// Backends implement it beside Store; callers find it by type assertion. Both methods take
// the events at or after since and before until, and put each in the bucket
// since + n*bucket (n = 0, 1, ...) that holds its time; the counts come ordered by Start,
// and buckets without an event are left out.
type StatsStore interface {
	// MailEventCounts counts the mail events by bucket, event and result.
	MailEventCounts(ctx context.Context, since, until time.Time, bucket time.Duration) ([]MailEventCount, error)
	// CampaignEventCounts counts the campaign events by bucket, kind and machine.
	CampaignEventCounts(ctx context.Context, since, until time.Time, bucket time.Duration) ([]CampaignEventCount, error)
}
