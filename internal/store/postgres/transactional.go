package postgres

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/store"
)

var _ store.TransactionalStore = (*Store)(nil)

// CreateTransactional stores a send of the send API with its campaign and ledger in one
// transaction; UNIQUE (principal, idempotency_key) finds an earlier send under the same key
// (a NULL key matches nothing). Two nodes storing the same key at once: the second's insert
// waits for the first's commit and fails on the unique key, and it is retried once, which
// then finds the first's send.
func (s *Store) CreateTransactional(ctx context.Context, t store.TransactionalSend) (store.TransactionalSend, bool, error) {
	sent, created, err := s.createTransactional(ctx, t)
	if err != nil && uniqueViolation(err) && t.IdempotencyKey != "" {
		sent, created, err = s.createTransactional(ctx, t)
	}
	if err != nil {
		return store.TransactionalSend{}, false, fmt.Errorf("create transactional send: %w", err)
	}
	return sent, created, nil
}

func (s *Store) createTransactional(ctx context.Context, t store.TransactionalSend) (store.TransactionalSend, bool, error) {
	var key *string
	if t.IdempotencyKey != "" {
		key = &t.IdempotencyKey
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
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if key != nil {
			earlier, err := scanTransactional(ctx, tx, `WHERE principal = $1 AND idempotency_key = $2`, t.Principal, *key)
			if err == nil {
				t = earlier
				return nil
			}
			if !errors.Is(err, store.ErrNotFound) {
				return err
			}
		}
		now := s.now().UnixNano()
		c := t.Campaign
		c.Kind, c.Status = store.CampaignTransactional, store.CampaignFinished
		id, err := insertCampaign(ctx, tx, c, now)
		if err != nil {
			return fmt.Errorf("campaign: %w", err)
		}
		if _, err := tx.Exec(ctx, `INSERT INTO campaign_recipients (campaign_id, address, state, tracking, updated_at)
			SELECT $1, a.address, 'pending', $3, $4 FROM unnest($2::text[]) WITH ORDINALITY AS a (address, i)
			ORDER BY a.i`, id, t.Recipients, c.Tracking, now); err != nil {
			return fmt.Errorf("recipients: %w", err)
		}
		if err := tx.QueryRow(ctx, `INSERT INTO transactional_sends (principal, idempotency_key,
			request_hash, campaign_id, suppressed, created_at) VALUES ($1, $2, $3, $4, $5, $6) RETURNING id`,
			t.Principal, key, t.RequestHash, id, string(supJSON), now).Scan(&t.ID); err != nil {
			return err
		}
		t.Campaign.ID, t.Campaign.Kind, t.Campaign.Status = id, c.Kind, c.Status
		t.CreatedAt, created = fromNanos(now), true
		return nil
	})
	if err != nil {
		return store.TransactionalSend{}, false, err
	}
	if !created {
		if t.Campaign, err = s.GetCampaign(ctx, t.Campaign.ID); err != nil {
			return store.TransactionalSend{}, false, err
		}
	}
	return t, created, nil
}

// scanTransactional reads one send (campaign id only) and its recipients' addresses.
func scanTransactional(ctx context.Context, tx pgx.Tx, where string, args ...any) (store.TransactionalSend, error) {
	var t store.TransactionalSend
	var key *string
	var sup string
	var created int64
	err := tx.QueryRow(ctx, `SELECT id, principal, idempotency_key, request_hash, campaign_id, suppressed,
		created_at FROM transactional_sends `+where, args...).Scan(&t.ID, &t.Principal, &key, &t.RequestHash,
		&t.Campaign.ID, &sup, &created)
	if err != nil {
		return t, notFound(err)
	}
	if key != nil {
		t.IdempotencyKey = *key
	}
	t.CreatedAt = fromNanos(created)
	if err := json.Unmarshal([]byte(sup), &t.Suppressed); err != nil {
		return t, fmt.Errorf("suppressed: %w", err)
	}
	rows, err := tx.Query(ctx, `SELECT address FROM campaign_recipients WHERE campaign_id = $1 ORDER BY id`,
		t.Campaign.ID)
	if err != nil {
		return t, err
	}
	t.Recipients, err = pgx.CollectRows(rows, pgx.RowTo[string])
	return t, err
}

// CampaignRecipients returns the first limit rows of a campaign's ledger in id order.
func (s *Store) CampaignRecipients(ctx context.Context, campaignID int64, limit int) ([]store.Recipient, error) {
	rows, err := s.pool.Query(ctx, recipientColumns+` FROM campaign_recipients r
		LEFT JOIN subscribers s ON s.id = r.subscriber_id WHERE r.campaign_id = $1 ORDER BY r.id LIMIT $2`,
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
