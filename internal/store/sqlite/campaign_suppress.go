package sqlite

import (
	"context"
	"crypto/rand"
	"database/sql"
	"errors"
	"fmt"
	"slices"
	"time"

	"posthorn/internal/store"
)

// campaignKeyName is the server secret that signs campaign tokens.
const campaignKeyName = "campaign-key"

// CampaignKey returns the campaign token key, made on first use.
func (s *Store) CampaignKey(ctx context.Context) ([]byte, error) {
	want := make([]byte, 32)
	if _, err := rand.Read(want); err != nil {
		return nil, fmt.Errorf("campaign key: %w", err)
	}
	return s.ServerSecret(ctx, campaignKeyName, want)
}

// nullNanos turns a nullable stored time into a time.Time, zero for NULL.
func nullNanos(n sql.NullInt64) time.Time {
	if !n.Valid {
		return time.Time{}
	}
	return fromNanos(n.Int64)
}

const suppressionColumns = `SELECT address, reason, source, created_at, expires_at FROM suppressions`

func scanSuppression(r scanner) (store.Suppression, error) {
	var sup store.Suppression
	var reason string
	var created int64
	var expires sql.NullInt64
	err := r.Scan(&sup.Address, &reason, &sup.Source, &created, &expires)
	sup.Reason, sup.CreatedAt, sup.Expires = store.SuppressionReason(reason), fromNanos(created), nullNanos(expires)
	return sup, err
}

// AddSuppressions adds or replaces ledger rows in one transaction.
func (s *Store) AddSuppressions(ctx context.Context, sups []store.Suppression) error {
	if len(sups) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		return addSuppressions(ctx, tx, sups, s.nowNanos())
	})
	if err != nil {
		return fmt.Errorf("add suppressions: %w", err)
	}
	return nil
}

func addSuppressions(ctx context.Context, tx *sql.Tx, sups []store.Suppression, now int64) error {
	insert, err := tx.PrepareContext(ctx, `INSERT INTO suppressions (address, reason, source, created_at, expires_at)
		VALUES (?, ?, ?, ?, ?) ON CONFLICT (address) DO UPDATE SET reason = excluded.reason,
		source = excluded.source, created_at = excluded.created_at, expires_at = excluded.expires_at`)
	if err != nil {
		return err
	}
	defer insert.Close()
	for _, sup := range sups {
		created := now
		if !sup.CreatedAt.IsZero() {
			created = sup.CreatedAt.UnixNano()
		}
		if _, err := insert.ExecContext(ctx, sup.Address, string(sup.Reason), sup.Source, created,
			nanosOrNil(sup.Expires)); err != nil {
			return fmt.Errorf("suppress %s: %w", sup.Address, err)
		}
	}
	return nil
}

// RemoveSuppression deletes a ledger row.
func (s *Store) RemoveSuppression(ctx context.Context, address string) error {
	return s.deleteOne(ctx, "remove suppression of "+address, `DELETE FROM suppressions WHERE address = ?`, address)
}

// ListSuppressions returns a page of the ledger by address.
func (s *Store) ListSuppressions(ctx context.Context, after string, limit int) ([]store.Suppression, error) {
	rows, err := s.read.QueryContext(ctx, suppressionColumns+` WHERE address > ? ORDER BY address LIMIT ?`,
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
	sup, err := scanSuppression(s.read.QueryRowContext(ctx, suppressionColumns+` WHERE address = ?`, address))
	if errors.Is(err, sql.ErrNoRows) {
		return store.Suppression{}, false, nil
	}
	if err != nil {
		return store.Suppression{}, false, fmt.Errorf("suppression of %s: %w", address, err)
	}
	return sup, sup.Active(now), nil
}

// SuppressedAmong looks the addresses up 500 at a time.
func (s *Store) SuppressedAmong(ctx context.Context, addresses []string, now time.Time) (map[string]store.Suppression, error) {
	out := map[string]store.Suppression{}
	for chunk := range slices.Chunk(addresses, 500) {
		args := make([]any, 0, len(chunk)+1)
		args = append(args, now.UnixNano())
		for _, a := range chunk {
			args = append(args, a)
		}
		rows, err := s.read.QueryContext(ctx, suppressionColumns+` WHERE (expires_at IS NULL OR expires_at > ?)
			AND address IN (`+placeholders(len(chunk))+`)`, args...)
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
	}
	return out, nil
}

// RecordSoftBounce counts a soft bounce and suppresses the address at store.SoftBounceLimit.
func (s *Store) RecordSoftBounce(ctx context.Context, recipientID int64, address, source string, now time.Time) (bool, error) {
	var suppressed bool
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if recipientID != 0 {
			if _, err := tx.ExecContext(ctx, `UPDATE campaign_recipients SET soft_bounce = 1, updated_at = ?
				WHERE id = ?`, now.UnixNano(), recipientID); err != nil {
				return err
			}
		}
		var count int
		if err := tx.QueryRowContext(ctx, `INSERT INTO soft_bounces (address, count) VALUES (?, 1)
			ON CONFLICT (address) DO UPDATE SET count = count + 1 RETURNING count`, address).Scan(&count); err != nil {
			return err
		}
		if count < store.SoftBounceLimit {
			return nil
		}
		suppressed = true
		if _, err := tx.ExecContext(ctx, `DELETE FROM soft_bounces WHERE address = ?`, address); err != nil {
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
	if _, err := s.write.ExecContext(ctx, `DELETE FROM soft_bounces WHERE address = ?`, address); err != nil {
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
	now := s.nowNanos()
	err := s.write.QueryRowContext(ctx, `INSERT INTO templates (name, subject, html, text, created_at, updated_at)
		VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (name) DO NOTHING RETURNING id`,
		t.Name, t.Subject, t.HTML, t.Text, now, now).Scan(&t.ID)
	if errors.Is(err, sql.ErrNoRows) {
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
	t, err := scanTemplate(s.read.QueryRowContext(ctx, templateColumns+` WHERE name = ?`, name))
	if err != nil {
		return store.Template{}, fmt.Errorf("template %q: %w", name, notFound(err))
	}
	return t, nil
}

// GetTemplateByID returns a template by id.
func (s *Store) GetTemplateByID(ctx context.Context, id int64) (store.Template, error) {
	t, err := scanTemplate(s.read.QueryRowContext(ctx, templateColumns+` WHERE id = ?`, id))
	if err != nil {
		return store.Template{}, fmt.Errorf("template %d: %w", id, notFound(err))
	}
	return t, nil
}

// ListTemplates returns every template by name.
func (s *Store) ListTemplates(ctx context.Context) ([]store.Template, error) {
	rows, err := s.read.QueryContext(ctx, templateColumns+` ORDER BY name`)
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
	got, err := scanTemplate(s.write.QueryRowContext(ctx, `UPDATE templates SET subject = ?, html = ?, text = ?,
		updated_at = ? WHERE id = ? RETURNING id, name, subject, html, text, created_at, updated_at`,
		t.Subject, t.HTML, t.Text, s.nowNanos(), t.ID))
	if err != nil {
		return store.Template{}, fmt.Errorf("update template %d: %w", t.ID, notFound(err))
	}
	return got, nil
}

// DeleteTemplate deletes a template; campaigns naming it lose the reference (template_id NULL).
func (s *Store) DeleteTemplate(ctx context.Context, id int64) error {
	return s.deleteOne(ctx, fmt.Sprintf("delete template %d", id), `DELETE FROM templates WHERE id = ?`, id)
}
