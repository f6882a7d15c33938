package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"time"

	"posthorn/internal/store"
)

// EventsAfter reads events by their (AUTOINCREMENT, 0013_campaign_webhooks.sql) id. SQLite
// commits one write transaction at a time, so an id becomes visible only after every smaller
// one that will ever be committed.
func (s *Store) EventsAfter(ctx context.Context, afterID int64, limit int) ([]store.WebhookEvent, error) {
	if limit <= 0 || limit > 1000 {
		limit = 1000
	}
	rows, err := s.read.QueryContext(ctx, `SELECT e.id, e.campaign_id, e.recipient_id, e.kind, e.link_idx, e.machine,
			e.reason, e.user_agent, e.ip, e.at, c.name,
			CASE WHEN c.anonymous = 0 AND e.recipient_id != 0 THEN coalesce(r.address, '') ELSE '' END,
			coalesce(l.url, '')
		FROM campaign_events e JOIN campaigns c ON c.id = e.campaign_id
		LEFT JOIN campaign_recipients r ON r.id = e.recipient_id AND e.recipient_id != 0
		LEFT JOIN campaign_links l ON l.campaign_id = e.campaign_id AND l.idx = e.link_idx
		WHERE e.id > ? ORDER BY e.id LIMIT ?`, afterID, limit)
	if err != nil {
		return nil, fmt.Errorf("events after %d: %w", afterID, err)
	}
	var out []store.WebhookEvent
	err = scanRows(rows, func(r scanner) error {
		var e store.WebhookEvent
		var kind string
		var link sql.NullInt64
		var at int64
		if err := r.Scan(&e.ID, &e.CampaignID, &e.RecipientID, &kind, &link, &e.Machine, &e.Reason, &e.UserAgent,
			&e.IP, &at, &e.CampaignName, &e.Address, &e.LinkURL); err != nil {
			return err
		}
		e.Kind, e.At, e.LinkIndex = store.EventKind(kind), fromNanos(at).UTC(), -1
		if link.Valid {
			e.LinkIndex = int(link.Int64)
		}
		out = append(out, e)
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("events after %d: %w", afterID, err)
	}
	return out, nil
}

// WebhookState creates the state at the newest event (sqlite_sequence keeps the largest id
// ever handed out, even when its event is gone) the first time, in one write.
func (s *Store) WebhookState(ctx context.Context, name string, now time.Time) (store.WebhookState, error) {
	st := store.WebhookState{Name: name}
	var next, updated int64
	err := s.write.QueryRowContext(ctx, `INSERT INTO campaign_webhooks (name, after_id, updated_at)
		VALUES (?1, coalesce((SELECT seq FROM sqlite_sequence WHERE name = 'campaign_events'), 0), ?2)
		ON CONFLICT (name) DO UPDATE SET name = excluded.name
		RETURNING after_id, failures, next_attempt, last_error, updated_at`, name, now.UnixNano()).
		Scan(&st.AfterID, &st.Failures, &next, &st.LastError, &updated)
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
	res, err := s.write.ExecContext(ctx, `UPDATE campaign_webhooks SET after_id = max(after_id, ?), failures = ?,
		next_attempt = ?, last_error = ?, updated_at = ? WHERE name = ?`,
		st.AfterID, st.Failures, next, st.LastError, updated.UnixNano(), st.Name)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("save webhook %s: %w", st.Name, err)
	}
	return nil
}
