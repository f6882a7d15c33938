package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"

	"posthorn/internal/store"
)

// CreateTransactional stores a send of the send API with its campaign and ledger in one
// transaction; UNIQUE (principal, idempotency_key) finds an earlier send under the same key
// (a NULL key matches nothing).
func (s *Store) CreateTransactional(ctx context.Context, t store.TransactionalSend) (store.TransactionalSend, bool, error) {
	var key any
	if t.IdempotencyKey != "" {
		key = t.IdempotencyKey
	}
	suppressed := t.Suppressed
	if suppressed == nil {
		suppressed = []string{}
	}
	supJSON, err := json.Marshal(suppressed)
	if err != nil {
		return store.TransactionalSend{}, false, err
	}
	created := false
	err = s.inTx(ctx, func(tx *sql.Tx) error {
		if key != nil {
			earlier, err := scanTransactional(ctx, tx, `WHERE principal = ? AND idempotency_key = ?`, t.Principal, key)
			if err == nil {
				t = earlier
				return nil
			}
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		now := s.nowNanos()
		c := t.Campaign
		c.Kind, c.Status = store.CampaignTransactional, store.CampaignFinished
		id, err := insertCampaign(ctx, tx, c, now)
		if err != nil {
			return fmt.Errorf("campaign: %w", err)
		}
		for _, addr := range t.Recipients {
			if _, err := tx.ExecContext(ctx, `INSERT INTO campaign_recipients (campaign_id, address, state, tracking,
				updated_at) VALUES (?, ?, 'pending', ?, ?)`, id, addr, c.Tracking, now); err != nil {
				return fmt.Errorf("recipient %s: %w", addr, err)
			}
		}
		if err := tx.QueryRowContext(ctx, `INSERT INTO transactional_sends (principal, idempotency_key,
			request_hash, campaign_id, suppressed, created_at) VALUES (?, ?, ?, ?, ?, ?) RETURNING id`,
			t.Principal, key, t.RequestHash, id, string(supJSON), now).Scan(&t.ID); err != nil {
			return err
		}
		t.Campaign.ID, t.Campaign.Kind, t.Campaign.Status = id, c.Kind, c.Status
		t.CreatedAt, created = fromNanos(now), true
		return nil
	})
	if err != nil {
		return store.TransactionalSend{}, false, fmt.Errorf("create transactional send: %w", err)
	}
	if !created {
		if t.Campaign, err = s.GetCampaign(ctx, t.Campaign.ID); err != nil {
			return store.TransactionalSend{}, false, err
		}
	}
	return t, created, nil
}

// scanTransactional reads one send (campaign id only) and its recipients' addresses.
func scanTransactional(ctx context.Context, tx *sql.Tx, where string, args ...any) (store.TransactionalSend, error) {
	var t store.TransactionalSend
	var key sql.NullString
	var sup string
	var created int64
	err := tx.QueryRowContext(ctx, `SELECT id, principal, idempotency_key, request_hash, campaign_id, suppressed,
		created_at FROM transactional_sends `+where, args...).Scan(&t.ID, &t.Principal, &key, &t.RequestHash,
		&t.Campaign.ID, &sup, &created)
	if err != nil {
		return t, notFound(err)
	}
	t.IdempotencyKey, t.CreatedAt = key.String, fromNanos(created)
	if err := json.Unmarshal([]byte(sup), &t.Suppressed); err != nil {
		return t, fmt.Errorf("suppressed: %w", err)
	}
	rows, err := tx.QueryContext(ctx, `SELECT address FROM campaign_recipients WHERE campaign_id = ? ORDER BY id`,
		t.Campaign.ID)
	if err != nil {
		return t, err
	}
	t.Recipients, err = collect(rows, func(r scanner) (string, error) {
		var a string
		return a, r.Scan(&a)
	})
	return t, err
}

// CampaignRecipients returns the first limit rows of a campaign's ledger in id order.
func (s *Store) CampaignRecipients(ctx context.Context, campaignID int64, limit int) ([]store.Recipient, error) {
	rows, err := s.read.QueryContext(ctx, recipientColumns+` FROM campaign_recipients r
		LEFT JOIN subscribers s ON s.id = r.subscriber_id WHERE r.campaign_id = ? ORDER BY r.id LIMIT ?`,
		campaignID, store.PageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("recipients of campaign %d: %w", campaignID, err)
	}
	out, err := collect(rows, func(r scanner) (store.Recipient, error) { return scanRecipient(r) })
	if err != nil {
		return nil, fmt.Errorf("recipients of campaign %d: %w", campaignID, err)
	}
	return out, nil
}
