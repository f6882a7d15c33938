package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/store"
)

// The JSON API's tokens (store.APITokenStore), table api_tokens: account_id is NULL for an
// admin token and goes with its account (ON DELETE CASCADE); last_used_at and revoked_at are
// 0 until set.

var _ store.APITokenStore = (*Store)(nil)

// apiTokenColumns are the columns scanAPIToken reads, the account's address joined in.
const apiTokenColumns = `t.id, t.name, t.scope, coalesce(t.account_id, 0), coalesce(a.address, ''), t.secret_hash,
	t.created_at, t.last_used_at, t.revoked_at
	FROM api_tokens t LEFT JOIN accounts a ON a.id = t.account_id`

func scanAPIToken(r pgx.Row) (store.APIToken, error) {
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

// CreateAPIToken inserts the token; an account that does not exist fails its foreign key.
func (s *Store) CreateAPIToken(ctx context.Context, t store.APIToken) (store.APIToken, error) {
	created := t.CreatedAt
	if created.IsZero() {
		created = s.now()
	}
	var account *int64 // NULL for an admin token
	if t.AccountID != 0 {
		account = &t.AccountID
	}
	var out store.APIToken
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `INSERT INTO api_tokens (name, scope, account_id, secret_hash, created_at)
			VALUES ($1, $2, $3, $4, $5) RETURNING id`, t.Name, string(t.Scope), account, t.SecretHash,
			created.UnixNano()).Scan(&id); err != nil {
			if isForeignKey(err) {
				return store.ErrNotFound
			}
			return err
		}
		var err error
		out, err = scanAPIToken(tx.QueryRow(ctx, `SELECT `+apiTokenColumns+` WHERE t.id = $1`, id))
		return err
	})
	if err != nil {
		return store.APIToken{}, fmt.Errorf("create API token %q: %w", t.Name, err)
	}
	return out, nil
}

// GetAPIToken reads one token.
func (s *Store) GetAPIToken(ctx context.Context, id int64) (store.APIToken, error) {
	t, err := scanAPIToken(s.pool.QueryRow(ctx, `SELECT `+apiTokenColumns+` WHERE t.id = $1`, id))
	if err != nil {
		return store.APIToken{}, fmt.Errorf("API token %d: %w", id, notFound(err))
	}
	return t, nil
}

// ListAPITokens reads every token in id order.
func (s *Store) ListAPITokens(ctx context.Context) ([]store.APIToken, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+apiTokenColumns+` ORDER BY t.id`)
	if err != nil {
		return nil, fmt.Errorf("list API tokens: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.APIToken, error) { return scanAPIToken(r) })
	if err != nil {
		return nil, fmt.Errorf("list API tokens: %w", err)
	}
	return out, nil
}

// RecordAPITokenUse moves the last use forward only.
func (s *Store) RecordAPITokenUse(ctx context.Context, id int64, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE api_tokens SET last_used_at = greatest(last_used_at, $1) WHERE id = $2`,
		at.UnixNano(), id)
	if err := changedOne(tag, err); err != nil {
		return fmt.Errorf("record use of API token %d: %w", id, err)
	}
	return nil
}

// RevokeAPIToken sets the revocation time once.
func (s *Store) RevokeAPIToken(ctx context.Context, id int64, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE api_tokens SET revoked_at = CASE WHEN revoked_at = 0 THEN $1 ELSE revoked_at END
		WHERE id = $2`, at.UnixNano(), id)
	if err := changedOne(tag, err); err != nil {
		return fmt.Errorf("revoke API token %d: %w", id, err)
	}
	return nil
}
