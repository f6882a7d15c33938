package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/store"
)

var _ store.StatsStore = (*Store)(nil)

// The reasons column is the mail log's comma-separated list of findings, each a name with an
// optional detail in parentheses ("spf-pass,spam-score(7.1)"). Prefixing a comma makes every
// name follow one, so a LIKE finds a name at the start of any finding.
const (
	spamReasonSQL  = `(',' || replace(e.reasons, 'spam-error', '')) LIKE '%,spam%'`
	virusReasonSQL = `((',' || e.reasons || ',') LIKE '%,virus,%' OR (',' || e.reasons) LIKE '%,virus(%')`
)

// MailEventCounts counts the mail log by bucket, event and result; the bucket of an event is
// computed from its time in nanoseconds (since + (time - since) / bucket * bucket, integer
// division of a non-negative number).
func (s *Store) MailEventCounts(ctx context.Context, since, until time.Time, bucket time.Duration) ([]store.MailEventCount, error) {
	if bucket <= 0 {
		return nil, fmt.Errorf("mail event counts: bucket %v is not positive", bucket)
	}
	rows, err := s.pool.Query(ctx, `SELECT $1 + (e.time - $1) / $3 * $3 AS b, e.event, e.result, count(*),
		coalesce(sum((SELECT count(*) FROM mail_event_mailboxes m WHERE m.event_id = e.id)), 0)::bigint,
		count(*) FILTER (WHERE `+spamReasonSQL+`), count(*) FILTER (WHERE `+virusReasonSQL+`)
		FROM mail_events e WHERE e.time >= $1 AND e.time < $2
		GROUP BY b, e.event, e.result ORDER BY b, e.event, e.result`,
		since.UnixNano(), until.UnixNano(), int64(bucket))
	if err != nil {
		return nil, fmt.Errorf("mail event counts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.MailEventCount, error) {
		var c store.MailEventCount
		var start int64
		err := r.Scan(&start, &c.Event, &c.Result, &c.Count, &c.Mailboxes, &c.Spam, &c.Virus)
		c.Start = fromNanos(start).UTC()
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("mail event counts: %w", err)
	}
	return out, nil
}

// CampaignEventCounts counts the campaign events of every campaign by bucket, kind and
// machine.
func (s *Store) CampaignEventCounts(ctx context.Context, since, until time.Time, bucket time.Duration) ([]store.CampaignEventCount, error) {
	if bucket <= 0 {
		return nil, fmt.Errorf("campaign event counts: bucket %v is not positive", bucket)
	}
	rows, err := s.pool.Query(ctx, `SELECT $1 + (at - $1) / $3 * $3 AS b, kind, machine, count(*)
		FROM campaign_events WHERE at >= $1 AND at < $2
		GROUP BY b, kind, machine ORDER BY b, kind, machine`,
		since.UnixNano(), until.UnixNano(), int64(bucket))
	if err != nil {
		return nil, fmt.Errorf("campaign event counts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.CampaignEventCount, error) {
		var c store.CampaignEventCount
		var start int64
		var kind string
		err := r.Scan(&start, &kind, &c.Machine, &c.Count)
		c.Start, c.Kind = fromNanos(start).UTC(), store.EventKind(kind)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("campaign event counts: %w", err)
	}
	return out, nil
}
