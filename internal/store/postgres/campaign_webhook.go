package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/store"
)

var _ store.CampaignWebhookStore = (*Store)(nil)

// EventsAfter reads events by id. Every insert of events holds campaignEventsLock from before
// it takes its ids until its commit (insertEvents), so an id becomes visible only after every
// smaller one that will ever be committed, whichever node inserted it.
func (s *Store) EventsAfter(ctx context.Context, afterID int64, limit int) ([]store.WebhookEvent, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := s.pool.Query(ctx, `SELECT e.id, e.campaign_id, e.recipient_id, e.kind, e.link_idx, e.machine,
			e.reason, e.user_agent, e.ip, e.at, c.name,
			CASE WHEN NOT c.anonymous AND e.recipient_id != 0 THEN coalesce(r.address, '') ELSE '' END,
			coalesce(l.url, '')
		FROM campaign_events e JOIN campaigns c ON c.id = e.campaign_id
		LEFT JOIN campaign_recipients r ON r.id = e.recipient_id AND e.recipient_id != 0
		LEFT JOIN campaign_links l ON l.campaign_id = e.campaign_id AND l.idx = e.link_idx
		WHERE e.id > $1 ORDER BY e.id LIMIT $2`, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("events after %d: %w", afterID, err)
	}
	out, err := collect(rows, func(r scanner) (store.WebhookEvent, error) {
		var e store.WebhookEvent
		var kind string
		var link *int
		var at int64
		if err := r.Scan(&e.ID, &e.CampaignID, &e.RecipientID, &kind, &link, &e.Machine, &e.Reason, &e.UserAgent,
			&e.IP, &at, &e.CampaignName, &e.Address, &e.LinkURL); err != nil {
			return e, err
		}
		e.Kind, e.At, e.LinkIndex = store.EventKind(kind), fromNanos(at).UTC(), -1
		if link != nil {
			e.LinkIndex = *link
		}
		return e, nil
	})
	if err != nil {
		return nil, fmt.Errorf("events after %d: %w", afterID, err)
	}
	return out, nil
}

// WebhookState creates the state the first time, its cursor at the last event id handed out
// (the identity sequence's last value, which counts deleted events too), read under
// campaignEventsLock so that no insert of events is half-way.
func (s *Store) WebhookState(ctx context.Context, name string, now time.Time) (store.WebhookState, error) {
	st := store.WebhookState{Name: name}
	var next, updated int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, campaignEventsLock); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `INSERT INTO campaign_webhooks (name, after_id, updated_at)
			VALUES ($1, coalesce(pg_sequence_last_value(pg_get_serial_sequence('campaign_events', 'id')), 0), $2)
			ON CONFLICT (name) DO UPDATE SET name = excluded.name
			RETURNING after_id, failures, next_attempt, last_error, updated_at`, name, now.UnixNano()).
			Scan(&st.AfterID, &st.Failures, &next, &st.LastError, &updated)
	})
	if err != nil {
		return store.WebhookState{}, fmt.Errorf("webhook %s: %w", name, err)
	}
	if next != 0 {
		st.NextAttempt = fromNanos(next).UTC()
	}
	st.UpdatedAt = fromNanos(updated).UTC()
	return st, nil
}

// SaveWebhookState updates the row WebhookState created.
func (s *Store) SaveWebhookState(ctx context.Context, st store.WebhookState) error {
	var next int64
	if !st.NextAttempt.IsZero() {
		next = st.NextAttempt.UnixNano()
	}
	updated := st.UpdatedAt
	if updated.IsZero() {
		updated = s.now()
	}
	tag, err := s.pool.Exec(ctx, `UPDATE campaign_webhooks SET after_id = greatest(after_id, $1), failures = $2,
		next_attempt = $3, last_error = $4, updated_at = $5 WHERE name = $6`,
		st.AfterID, st.Failures, next, st.LastError, updated.UnixNano(), st.Name)
	if err := changedOne(tag, err); err != nil {
		return fmt.Errorf("save webhook %s: %w", st.Name, err)
	}
	return nil
}
