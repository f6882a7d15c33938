package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"posthorn/internal/store"
)

var _ store.APITokenStore = (*Store)(nil)

// apiTokenColumns are the columns scanAPIToken reads, the account's address joined in.
const apiTokenColumns = `t.id, t.name, t.scope, coalesce(t.account_id, 0), coalesce(a.address, ''), t.secret_hash,
	t.created_at, t.last_used_at, t.revoked_at
	FROM api_tokens t LEFT JOIN accounts a ON a.id = t.account_id`

func scanAPIToken(r scanner) (store.APIToken, error) {
	var t store.APIToken
	var scope string
	var created, used, revoked int64
	if err := r.Scan(&t.ID, &t.Name, &scope, &t.AccountID, &t.Account, &t.SecretHash, &created, &used, &revoked); err != nil {
		return store.APIToken{}, err
	}
	t.Scope, t.CreatedAt = store.APITokenScope(scope), fromNanos(created).UTC()
	if used != 0 {
		t.LastUsedAt = fromNanos(used).UTC()
	}
	if revoked != 0 {
		t.RevokedAt = fromNanos(revoked).UTC()
	}
	return t, nil
}

// CreateAPIToken checks the account and inserts the token in one transaction.
func (s *Store) CreateAPIToken(ctx context.Context, t store.APIToken) (store.APIToken, error) {
	created := t.CreatedAt
	if created.IsZero() {
		created = s.now()
	}
	var account any // NULL for an admin token
	if t.AccountID != 0 {
		account = t.AccountID
	}
	var out store.APIToken
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if t.AccountID != 0 {
			var addr string
			err := tx.QueryRowContext(ctx, `SELECT address FROM accounts WHERE id = ?`, t.AccountID).Scan(&addr)
			if errors.Is(err, sql.ErrNoRows) {
				return store.ErrNotFound
			}
			if err != nil {
				return err
			}
		}
		var id int64
		if err := tx.QueryRowContext(ctx, `INSERT INTO api_tokens (name, scope, account_id, secret_hash, created_at)
			VALUES (?, ?, ?, ?, ?) RETURNING id`, t.Name, string(t.Scope), account, t.SecretHash, created.UnixNano()).Scan(&id); err != nil {
			return err
		}
		var err error
		out, err = scanAPIToken(tx.QueryRowContext(ctx, `SELECT `+apiTokenColumns+` WHERE t.id = ?`, id))
		return err
	})
	if err != nil {
		return store.APIToken{}, fmt.Errorf("create API token %q: %w", t.Name, err)
	}
	return out, nil
}

// GetAPIToken reads one token.
func (s *Store) GetAPIToken(ctx context.Context, id int64) (store.APIToken, error) {
	t, err := scanAPIToken(s.read.QueryRowContext(ctx, `SELECT `+apiTokenColumns+` WHERE t.id = ?`, id))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.APIToken{}, fmt.Errorf("API token %d: %w", id, err)
	}
	return t, nil
}

// ListAPITokens reads every token in id order.
func (s *Store) ListAPITokens(ctx context.Context) ([]store.APIToken, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT `+apiTokenColumns+` ORDER BY t.id`)
	if err != nil {
		return nil, fmt.Errorf("list API tokens: %w", err)
	}
	out, err := collect(rows, scanAPIToken)
	if err != nil {
		return nil, fmt.Errorf("list API tokens: %w", err)
	}
	return out, nil
}

// RecordAPITokenUse moves the last use forward only.
func (s *Store) RecordAPITokenUse(ctx context.Context, id int64, at time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE api_tokens SET last_used_at = max(last_used_at, ?) WHERE id = ?`,
		at.UnixNano(), id)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("record use of API token %d: %w", id, err)
	}
	return nil
}

// RevokeAPIToken sets the revocation time once.
func (s *Store) RevokeAPIToken(ctx context.Context, id int64, at time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE api_tokens SET revoked_at = CASE WHEN revoked_at = 0 THEN ? ELSE revoked_at END
		WHERE id = ?`, at.UnixNano(), id)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("revoke API token %d: %w", id, err)
	}
	return nil
}
