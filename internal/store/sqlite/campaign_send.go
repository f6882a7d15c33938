package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"fmt"
	"time"

	"posthorn/internal/store"
)

const campaignColumns = `SELECT id, name, coalesce(template_id, 0), subject, html, text, from_address, reply_to,
	list_ids, status, scheduled_at, rate_per_minute, tracking, anonymous, created_at, started_at, finished_at, kind
	FROM campaigns`

func scanCampaign(r scanner) (store.Campaign, error) {
	var c store.Campaign
	var lists, status, kind string
	var created int64
	var scheduled, started, finished sql.NullInt64
	if err := r.Scan(&c.ID, &c.Name, &c.TemplateID, &c.Subject, &c.HTML, &c.Text, &c.From, &c.ReplyTo, &lists,
		&status, &scheduled, &c.RatePerMinute, &c.Tracking, &c.Anonymous, &created, &started, &finished, &kind); err != nil {
		return c, err
	}
	c.Status, c.Kind = store.CampaignStatus(status), store.CampaignKind(kind)
	c.CreatedAt, c.ScheduledAt = fromNanos(created), nullNanos(scheduled)
	c.StartedAt, c.FinishedAt = nullNanos(started), nullNanos(finished)
	if err := json.Unmarshal([]byte(lists), &c.ListIDs); err != nil {
		return c, fmt.Errorf("list ids: %w", err)
	}
	return c, nil
}

// campaignArgs are the editable fields of c, as UpdateCampaign and CreateCampaign bind them.
func campaignArgs(c store.Campaign) ([]any, error) {
	lists := c.ListIDs
	if lists == nil {
		lists = []int64{}
	}
	listJSON, err := json.Marshal(lists)
	if err != nil {
		return nil, err
	}
	var template any
	if c.TemplateID != 0 {
		template = c.TemplateID
	}
	return []any{c.Name, template, c.Subject, c.HTML, c.Text, c.From, c.ReplyTo, string(listJSON),
		nanosOrNil(c.ScheduledAt), c.RatePerMinute, c.Tracking, c.Anonymous}, nil
}

// CreateCampaign adds a campaign.
func (s *Store) CreateCampaign(ctx context.Context, c store.Campaign) (store.Campaign, error) {
	id, err := insertCampaign(ctx, s.write, c, s.nowNanos())
	if err != nil {
		return store.Campaign{}, fmt.Errorf("create campaign %q: %w", c.Name, err)
	}
	return s.GetCampaign(ctx, id)
}

// execer is a *sql.DB or a *sql.Tx.
type execer interface {
	QueryRowContext(ctx context.Context, query string, args ...any) *sql.Row
}

// insertCampaign adds c (status draft and kind bulk when not given) at time now.
func insertCampaign(ctx context.Context, db execer, c store.Campaign, now int64) (int64, error) {
	if c.Status == "" {
		c.Status = store.CampaignDraft
	}
	if c.Kind == "" {
		c.Kind = store.CampaignBulk
	}
	args, err := campaignArgs(c)
	if err != nil {
		return 0, err
	}
	var started, finished any
	if c.Status == store.CampaignFinished {
		started, finished = now, now
	}
	var id int64
	err = db.QueryRowContext(ctx, `INSERT INTO campaigns (name, template_id, subject, html, text, from_address,
		reply_to, list_ids, scheduled_at, rate_per_minute, tracking, anonymous, status, kind, created_at,
		started_at, finished_at)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		append(args, string(c.Status), string(c.Kind), now, started, finished)...).Scan(&id)
	return id, err
}

// GetCampaign returns a campaign by id.
func (s *Store) GetCampaign(ctx context.Context, id int64) (store.Campaign, error) {
	c, err := scanCampaign(s.read.QueryRowContext(ctx, campaignColumns+` WHERE id = ?`, id))
	if err != nil {
		return store.Campaign{}, fmt.Errorf("campaign %d: %w", id, notFound(err))
	}
	return c, nil
}

// ListCampaigns returns every campaign to lists, newest first.
func (s *Store) ListCampaigns(ctx context.Context) ([]store.Campaign, error) {
	rows, err := s.read.QueryContext(ctx, campaignColumns+` WHERE kind = 'campaign' ORDER BY id DESC`)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	out, err := collect(rows, scanCampaign)
	if err != nil {
		return nil, fmt.Errorf("list campaigns: %w", err)
	}
	return out, nil
}

// UpdateCampaign replaces a campaign's editable fields.
func (s *Store) UpdateCampaign(ctx context.Context, c store.Campaign) (store.Campaign, error) {
	args, err := campaignArgs(c)
	if err == nil {
		var res sql.Result
		res, err = s.write.ExecContext(ctx, `UPDATE campaigns SET name = ?, template_id = ?, subject = ?, html = ?,
			text = ?, from_address = ?, reply_to = ?, list_ids = ?, scheduled_at = ?, rate_per_minute = ?,
			tracking = ?, anonymous = ? WHERE id = ?`, append(args, c.ID)...)
		if err == nil {
			err = affectedOne(res)
		}
	}
	if err != nil {
		return store.Campaign{}, fmt.Errorf("update campaign %d: %w", c.ID, err)
	}
	return s.GetCampaign(ctx, c.ID)
}

// SetCampaignStatus moves a campaign to status if it is in one of from.
func (s *Store) SetCampaignStatus(ctx context.Context, id int64, status store.CampaignStatus, now time.Time, from ...store.CampaignStatus) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var current string
		if err := tx.QueryRowContext(ctx, `SELECT status FROM campaigns WHERE id = ?`, id).Scan(&current); err != nil {
			return notFound(err)
		}
		if len(from) > 0 && !containsStatus(from, store.CampaignStatus(current)) {
			return fmt.Errorf("campaign is %s: %w", current, store.ErrConflict)
		}
		at := now.UnixNano()
		_, err := tx.ExecContext(ctx, `UPDATE campaigns SET status = ?1,
			started_at = CASE WHEN ?1 = 'running' THEN coalesce(started_at, ?2) ELSE started_at END,
			finished_at = CASE WHEN ?1 IN ('finished', 'cancelled') THEN ?2 ELSE finished_at END
			WHERE id = ?3`, string(status), at, id)
		return err
	})
	if err != nil {
		return fmt.Errorf("set status of campaign %d to %s: %w", id, status, err)
	}
	return nil
}

func containsStatus(list []store.CampaignStatus, s store.CampaignStatus) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// DeleteCampaign deletes a campaign; its ledger, links and events go by cascade.
func (s *Store) DeleteCampaign(ctx context.Context, id int64) error {
	return s.deleteOne(ctx, fmt.Sprintf("delete campaign %d", id), `DELETE FROM campaigns WHERE id = ?`, id)
}

// FillRecipients inserts the ledger with one INSERT ... SELECT per list of the campaign, so the
// audience never passes through Go. UNIQUE (campaign_id, address) keeps each address once
// (subscribers.address is unique too); a second list only adds tracking consent to a row.
func (s *Store) FillRecipients(ctx context.Context, campaignID int64) (int64, error) {
	var added int64
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		c, err := scanCampaign(tx.QueryRowContext(ctx, campaignColumns+` WHERE id = ?`, campaignID))
		if err != nil {
			return notFound(err)
		}
		var before, after int64
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM campaign_recipients WHERE campaign_id = ?`,
			campaignID).Scan(&before); err != nil {
			return err
		}
		at := s.nowNanos()
		for _, listID := range c.ListIDs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_recipients
				(campaign_id, subscriber_id, address, state, tracking, updated_at)
				SELECT ?1, s.id, s.address, 'pending', l.tracking_consent, ?3
				FROM list_subscriptions l JOIN subscribers s ON s.id = l.subscriber_id
				WHERE l.list_id = ?2 AND l.status = 'confirmed'
				AND NOT EXISTS (SELECT 1 FROM suppressions p WHERE p.address = s.address
					AND (p.expires_at IS NULL OR p.expires_at > ?3))
				ORDER BY s.id
				ON CONFLICT (campaign_id, address) DO UPDATE SET tracking = max(tracking, excluded.tracking)
				WHERE state = 'pending'`, campaignID, listID, at); err != nil {
				return fmt.Errorf("list %d: %w", listID, err)
			}
		}
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM campaign_recipients WHERE campaign_id = ?`,
			campaignID).Scan(&after); err != nil {
			return err
		}
		added = after - before
		return nil
	})
	if err != nil {
		return 0, fmt.Errorf("fill recipients of campaign %d: %w", campaignID, err)
	}
	return added, nil
}

const recipientColumns = `SELECT r.id, r.campaign_id, coalesce(r.subscriber_id, 0), r.address, r.state, r.tracking,
	r.soft_bounce, r.updated_at, coalesce(s.name, ''), coalesce(s.attributes, '{}')`

func scanRecipient(r scanner, extra ...any) (store.Recipient, error) {
	var rc store.Recipient
	var state, attrs string
	var updated int64
	if err := r.Scan(append([]any{&rc.ID, &rc.CampaignID, &rc.SubscriberID, &rc.Address, &state, &rc.Tracking,
		&rc.SoftBounce, &updated, &rc.Name, &attrs}, extra...)...); err != nil {
		return rc, err
	}
	rc.State, rc.UpdatedAt = store.RecipientState(state), fromNanos(updated)
	var err error
	rc.Attributes, err = store.DecodeAttributes(attrs)
	return rc, err
}

// StreamRecipients reads a page of pending rows by index campaign_recipients_state, and
// decides eligibility in the same query.
func (s *Store) StreamRecipients(ctx context.Context, campaignID, afterID int64, limit int) ([]store.Recipient, error) {
	rows, err := s.read.QueryContext(ctx, recipientColumns+`,
		s.id IS NOT NULL
		AND EXISTS (SELECT 1 FROM list_subscriptions l WHERE l.subscriber_id = s.id AND l.status = 'confirmed'
			AND l.list_id IN (SELECT value FROM json_each(c.list_ids)))
		AND NOT EXISTS (SELECT 1 FROM suppressions p WHERE p.address = r.address
			AND (p.expires_at IS NULL OR p.expires_at > ?4))
		FROM campaign_recipients r JOIN campaigns c ON c.id = r.campaign_id
		LEFT JOIN subscribers s ON s.id = r.subscriber_id
		WHERE r.campaign_id = ?1 AND r.state = 'pending' AND r.id > ?2 ORDER BY r.id LIMIT ?3`,
		campaignID, afterID, store.PageLimit(limit), s.nowNanos())
	if err != nil {
		return nil, fmt.Errorf("stream recipients of campaign %d: %w", campaignID, err)
	}
	out, err := collect(rows, func(r scanner) (store.Recipient, error) {
		var eligible bool
		rc, err := scanRecipient(r, &eligible)
		rc.Eligible = eligible
		return rc, err
	})
	if err != nil {
		return nil, fmt.Errorf("stream recipients of campaign %d: %w", campaignID, err)
	}
	return out, nil
}

// GetRecipient returns one ledger row.
func (s *Store) GetRecipient(ctx context.Context, id int64) (store.Recipient, error) {
	rc, err := scanRecipient(s.read.QueryRowContext(ctx, recipientColumns+` FROM campaign_recipients r
		LEFT JOIN subscribers s ON s.id = r.subscriber_id WHERE r.id = ?`, id))
	if err != nil {
		return store.Recipient{}, fmt.Errorf("campaign recipient %d: %w", id, notFound(err))
	}
	return rc, nil
}

// SetRecipientState moves a ledger row to state.
func (s *Store) SetRecipientState(ctx context.Context, id int64, state store.RecipientState) error {
	res, err := s.write.ExecContext(ctx, `UPDATE campaign_recipients SET state = ?, updated_at = ? WHERE id = ?`,
		string(state), s.nowNanos(), id)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("set campaign recipient %d to %s: %w", id, state, err)
	}
	return nil
}

// SetCampaignLinks replaces the campaign's links.
func (s *Store) SetCampaignLinks(ctx context.Context, campaignID int64, urls []string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		var n int
		if err := tx.QueryRowContext(ctx, `SELECT count(*) FROM campaigns WHERE id = ?`, campaignID).Scan(&n); err != nil {
			return err
		}
		if n == 0 {
			return store.ErrNotFound
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM campaign_links WHERE campaign_id = ?`, campaignID); err != nil {
			return err
		}
		for i, u := range urls {
			if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_links (campaign_id, idx, url) VALUES (?, ?, ?)`,
				campaignID, i, u); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set links of campaign %d: %w", campaignID, err)
	}
	return nil
}

// CampaignLinks returns the campaign's links by index.
func (s *Store) CampaignLinks(ctx context.Context, campaignID int64) ([]store.CampaignLink, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT campaign_id, idx, url FROM campaign_links WHERE campaign_id = ?
		ORDER BY idx`, campaignID)
	if err != nil {
		return nil, fmt.Errorf("links of campaign %d: %w", campaignID, err)
	}
	out, err := collect(rows, func(r scanner) (store.CampaignLink, error) {
		var l store.CampaignLink
		return l, r.Scan(&l.CampaignID, &l.Index, &l.URL)
	})
	if err != nil {
		return nil, fmt.Errorf("links of campaign %d: %w", campaignID, err)
	}
	return out, nil
}

// AddEvents records events in one transaction.
func (s *Store) AddEvents(ctx context.Context, events []store.Event) error {
	if len(events) == 0 {
		return nil
	}
	if err := s.inTx(ctx, func(tx *sql.Tx) error { return s.insertEvents(ctx, tx, events) }); err != nil {
		return fmt.Errorf("add events: %w", err)
	}
	return nil
}

// insertEvents adds events within tx.
func (s *Store) insertEvents(ctx context.Context, tx *sql.Tx, events []store.Event) error {
	insert, err := tx.PrepareContext(ctx, `INSERT INTO campaign_events (campaign_id, recipient_id, kind, link_idx,
		machine, reason, user_agent, ip, at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`)
	if err != nil {
		return err
	}
	defer insert.Close()
	for _, e := range events {
		var link any
		if e.Kind == store.EventClick && e.LinkIndex >= 0 {
			link = e.LinkIndex
		}
		at := e.At
		if at.IsZero() {
			at = s.now()
		}
		if _, err := insert.ExecContext(ctx, e.CampaignID, e.RecipientID, string(e.Kind), link, e.Machine,
			e.Reason, e.UserAgent, e.IP, at.UnixNano()); err != nil {
			return fmt.Errorf("event %s of campaign %d: %w", e.Kind, e.CampaignID, err)
		}
	}
	return nil
}

// RecordDelivered marks a ledger row delivered with its event and resets its address's soft
// bounces, in one transaction (one sync instead of three per delivered campaign message).
func (s *Store) RecordDelivered(ctx context.Context, rec store.Recipient, e store.Event) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		res, err := tx.ExecContext(ctx, `UPDATE campaign_recipients SET state = 'delivered', updated_at = ? WHERE id = ?`,
			s.nowNanos(), rec.ID)
		if err == nil {
			err = affectedOne(res)
		}
		if err != nil {
			return err
		}
		if err := s.insertEvents(ctx, tx, []store.Event{e}); err != nil {
			return err
		}
		_, err = tx.ExecContext(ctx, `DELETE FROM soft_bounces WHERE address = ?`, rec.Address)
		return err
	})
	if err != nil {
		return fmt.Errorf("record delivery of campaign recipient %d: %w", rec.ID, err)
	}
	return nil
}
