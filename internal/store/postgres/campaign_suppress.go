package postgres

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/store"
)

// campaignKeyName is the server secret that signs campaign tokens.
const campaignKeyName = "campaign-key"

// CampaignKey returns the campaign token key, made on first use (ServerSecret: the first node
// to ask stores it).
func (s *Store) CampaignKey(ctx context.Context) ([]byte, error) {
	want := make([]byte, 32)
	if _, err := rand.Read(want); err != nil {
		return nil, fmt.Errorf("campaign key: %w", err)
	}
	return s.ServerSecret(ctx, campaignKeyName, want)
}

const suppressionColumns = `SELECT address, reason, source, created_at, expires_at FROM suppressions`

func scanSuppression(r scanner) (store.Suppression, error) {
	var sup store.Suppression
	var reason string
	var created int64
	var expires *int64
	err := r.Scan(&sup.Address, &reason, &sup.Source, &created, &expires)
	sup.Reason, sup.CreatedAt, sup.Expires = store.SuppressionReason(reason), fromNanos(created), nullTime(expires)
	return sup, err
}

// AddSuppressions adds or replaces ledger rows in one transaction.
func (s *Store) AddSuppressions(ctx context.Context, sups []store.Suppression) error {
	if len(sups) == 0 {
		return nil
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		return addSuppressions(ctx, tx, sups, s.now().UnixNano())
	})
	if err != nil {
		return fmt.Errorf("add suppressions: %w", err)
	}
	return nil
}

// addSuppressions upserts the rows in one round trip (a pgx batch).
func addSuppressions(ctx context.Context, tx pgx.Tx, sups []store.Suppression, now int64) error {
	var b pgx.Batch
	for _, sup := range sups {
		created := now
		if !sup.CreatedAt.IsZero() {
			created = sup.CreatedAt.UnixNano()
		}
		b.Queue(`INSERT INTO suppressions (address, reason, source, created_at, expires_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (address) DO UPDATE SET reason = excluded.reason,
			source = excluded.source, created_at = excluded.created_at, expires_at = excluded.expires_at`,
			sup.Address, string(sup.Reason), sup.Source, created, nanosOrNil(sup.Expires))
	}
	return tx.SendBatch(ctx, &b).Close()
}

// RemoveSuppression deletes a ledger row.
func (s *Store) RemoveSuppression(ctx context.Context, address string) error {
	return s.deleteOne(ctx, "remove suppression of "+address, `DELETE FROM suppressions WHERE address = $1`, address)
}

// ListSuppressions returns a page of the ledger by address.
func (s *Store) ListSuppressions(ctx context.Context, after string, limit int) ([]store.Suppression, error) {
	rows, err := s.pool.Query(ctx, suppressionColumns+` WHERE address > $1 ORDER BY address LIMIT $2`,
		after, store.PageLimit(limit))
	if err != nil {
		return nil, fmt.Errorf("list suppressions: %w", err)
	}
	out, err := collect(rows, scanSuppression)
	if err != nil {
		return nil, fmt.Errorf("list suppressions: %w", err)
	}
	return out, nil
}

// IsSuppressed returns the address's suppression if it holds at now.
func (s *Store) IsSuppressed(ctx context.Context, address string, now time.Time) (store.Suppression, bool, error) {
	sup, err := scanSuppression(s.pool.QueryRow(ctx, suppressionColumns+` WHERE address = $1`, address))
	if errors.Is(err, pgx.ErrNoRows) {
		return store.Suppression{}, false, nil
	}
	if err != nil {
		return store.Suppression{}, false, fmt.Errorf("suppression of %s: %w", address, err)
	}
	return sup, sup.Active(now), nil
}

// SuppressedAmong looks the addresses up in one query, as an array.
func (s *Store) SuppressedAmong(ctx context.Context, addresses []string, now time.Time) (map[string]store.Suppression, error) {
	out := map[string]store.Suppression{}
	if len(addresses) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, suppressionColumns+` WHERE (expires_at IS NULL OR expires_at > $1)
		AND address = ANY($2)`, now.UnixNano(), addresses)
	if err != nil {
		return nil, fmt.Errorf("check suppressions: %w", err)
	}
	err = scanRows(rows, func(r scanner) error {
		sup, err := scanSuppression(r)
		out[sup.Address] = sup
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("check suppressions: %w", err)
	}
	return out, nil
}

// RecordSoftBounce counts a soft bounce and suppresses the address at store.SoftBounceLimit;
// the counter's upsert locks its row, so bounces counted by two nodes at once add up.
func (s *Store) RecordSoftBounce(ctx context.Context, recipientID int64, address, source string, now time.Time) (bool, error) {
	var suppressed bool
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if recipientID != 0 {
			if _, err := tx.Exec(ctx, `UPDATE campaign_recipients SET soft_bounce = true, updated_at = $1
				WHERE id = $2`, now.UnixNano(), recipientID); err != nil {
				return err
			}
		}
		var count int
		if err := tx.QueryRow(ctx, `INSERT INTO soft_bounces (address, count) VALUES ($1, 1)
			ON CONFLICT (address) DO UPDATE SET count = soft_bounces.count + 1 RETURNING count`, address).Scan(&count); err != nil {
			return err
		}
		if count < store.SoftBounceLimit {
			return nil
		}
		suppressed = true
		if _, err := tx.Exec(ctx, `DELETE FROM soft_bounces WHERE address = $1`, address); err != nil {
			return err
		}
		return addSuppressions(ctx, tx, []store.Suppression{{Address: address, Reason: store.SuppressSoftBounces,
			Source: source, CreatedAt: now}}, now.UnixNano())
	})
	if err != nil {
		return false, fmt.Errorf("record soft bounce of %s: %w", address, err)
	}
	return suppressed, nil
}

// ResetSoftBounces forgets an address's soft bounces.
func (s *Store) ResetSoftBounces(ctx context.Context, address string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM soft_bounces WHERE address = $1`, address); err != nil {
		return fmt.Errorf("reset soft bounces of %s: %w", address, err)
	}
	return nil
}

const templateColumns = `SELECT id, name, subject, html, text, created_at, updated_at FROM templates`

func scanTemplate(r scanner) (store.Template, error) {
	var t store.Template
	var created, updated int64
	err := r.Scan(&t.ID, &t.Name, &t.Subject, &t.HTML, &t.Text, &created, &updated)
	t.CreatedAt, t.UpdatedAt = fromNanos(created), fromNanos(updated)
	return t, err
}

// CreateTemplate adds a template.
func (s *Store) CreateTemplate(ctx context.Context, t store.Template) (store.Template, error) {
	now := s.now().UnixNano()
	err := s.pool.QueryRow(ctx, `INSERT INTO templates (name, subject, html, text, created_at, updated_at)
		VALUES ($1, $2, $3, $4, $5, $5) ON CONFLICT (name) DO NOTHING RETURNING id`,
		t.Name, t.Subject, t.HTML, t.Text, now).Scan(&t.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		err = store.ErrExists
	}
	if err != nil {
		return store.Template{}, fmt.Errorf("create template %q: %w", t.Name, err)
	}
	t.CreatedAt, t.UpdatedAt = fromNanos(now), fromNanos(now)
	return t, nil
}

// GetTemplate returns a template by name.
func (s *Store) GetTemplate(ctx context.Context, name string) (store.Template, error) {
	t, err := scanTemplate(s.pool.QueryRow(ctx, templateColumns+` WHERE name = $1`, name))
	if err != nil {
		return store.Template{}, fmt.Errorf("template %q: %w", name, notFound(err))
	}
	return t, nil
}

// GetTemplateByID returns a template by id.
func (s *Store) GetTemplateByID(ctx context.Context, id int64) (store.Template, error) {
	t, err := scanTemplate(s.pool.QueryRow(ctx, templateColumns+` WHERE id = $1`, id))
	if err != nil {
		return store.Template{}, fmt.Errorf("template %d: %w", id, notFound(err))
	}
	return t, nil
}

// ListTemplates returns every template by name.
func (s *Store) ListTemplates(ctx context.Context) ([]store.Template, error) {
	rows, err := s.pool.Query(ctx, templateColumns+` ORDER BY name`)
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	out, err := collect(rows, scanTemplate)
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	return out, nil
}

// UpdateTemplate replaces a template's subject and bodies.
func (s *Store) UpdateTemplate(ctx context.Context, t store.Template) (store.Template, error) {
	got, err := scanTemplate(s.pool.QueryRow(ctx, `UPDATE templates SET subject = $1, html = $2, text = $3,
		updated_at = $4 WHERE id = $5 RETURNING id, name, subject, html, text, created_at, updated_at`,
		t.Subject, t.HTML, t.Text, s.now().UnixNano(), t.ID))
	if err != nil {
		return store.Template{}, fmt.Errorf("update template %d: %w", t.ID, notFound(err))
	}
	return got, nil
}

// DeleteTemplate deletes a template; campaigns naming it lose the reference (template_id NULL).
func (s *Store) DeleteTemplate(ctx context.Context, id int64) error {
	return s.deleteOne(ctx, fmt.Sprintf("delete template %d", id), `DELETE FROM templates WHERE id = $1`, id)
}
