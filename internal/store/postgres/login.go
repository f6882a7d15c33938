package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/store"
)

// What the authenticator keeps besides the credentials (store.LoginStore): server secrets
// (the first node to ask stores its candidate, every later one reads it), app passwords found
// by keyed hash, and the recent sources of each account's logins.

var _ store.LoginStore = (*Store)(nil)

// ServerSecret returns the secret called name, storing want first when there is none; of
// nodes asking at once, one inserts and the others read its row.
func (s *Store) ServerSecret(ctx context.Context, name string, want []byte) ([]byte, error) {
	var got []byte
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO server_secrets (name, value) VALUES ($1, $2)
			ON CONFLICT (name) DO NOTHING`, name, want); err != nil {
			return err
		}
		return tx.QueryRow(ctx, `SELECT value FROM server_secrets WHERE name = $1`, name).Scan(&got)
	})
	if err != nil {
		return nil, fmt.Errorf("server secret %s: %w", name, err)
	}
	return got, nil
}

// FindAppPassword returns the account's app password whose stored hash is hash.
func (s *Store) FindAppPassword(ctx context.Context, accountID int64, hash string) (store.AppPassword, error) {
	var p store.AppPassword
	var created int64
	err := s.pool.QueryRow(ctx, `SELECT id, account_id, name, password_hash, stored_key, server_key, created_at
		FROM app_passwords WHERE account_id = $1 AND password_hash = $2`, accountID, hash).Scan(
		&p.ID, &p.AccountID, &p.Name, &p.PasswordHash, &p.SCRAM.StoredKey, &p.SCRAM.ServerKey, &created)
	if err != nil {
		return store.AppPassword{}, fmt.Errorf("find app password of account %d: %w", accountID, notFound(err))
	}
	p.CreatedAt = fromNanos(created)
	return p, nil
}

// SetAppPasswordHash replaces an app password's stored hash if it is still old.
func (s *Store) SetAppPasswordHash(ctx context.Context, id int64, old, hash string) error {
	tag, err := s.pool.Exec(ctx, `UPDATE app_passwords SET password_hash = $1 WHERE id = $2 AND password_hash = $3`,
		hash, id, old)
	if err := changedOne(tag, err); err != nil {
		return fmt.Errorf("set hash of app password %d: %w", id, err)
	}
	return nil
}

// LoginSourceSeen returns the last successful login of the account from source.
func (s *Store) LoginSourceSeen(ctx context.Context, accountID int64, source string) (time.Time, bool, error) {
	var at int64
	err := s.pool.QueryRow(ctx, `SELECT last_success FROM login_sources WHERE account_id = $1 AND source = $2`,
		accountID, source).Scan(&at)
	if err == pgx.ErrNoRows {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("login source %s of account %d: %w", source, accountID, err)
	}
	return fromNanos(at), true, nil
}

// RecordLoginSource notes a successful login from source and forgets all but the keep most
// recent sources of the account.
func (s *Store) RecordLoginSource(ctx context.Context, accountID int64, source string, at time.Time, keep int) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO login_sources (account_id, source, last_success) VALUES ($1, $2, $3)
			ON CONFLICT (account_id, source) DO UPDATE
			SET last_success = greatest(login_sources.last_success, excluded.last_success)`,
			accountID, source, at.UnixNano()); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM login_sources WHERE account_id = $1 AND source NOT IN
			(SELECT source FROM login_sources WHERE account_id = $1 ORDER BY last_success DESC, source LIMIT $2)`,
			accountID, keep)
		return err
	})
	if err != nil {
		return fmt.Errorf("record login source %s of account %d: %w", source, accountID, err)
	}
	return nil
}

// LoginSources returns the account's login sources, most recent first.
func (s *Store) LoginSources(ctx context.Context, accountID int64) ([]store.LoginSource, error) {
	rows, err := s.pool.Query(ctx, `SELECT source, last_success FROM login_sources WHERE account_id = $1
		ORDER BY last_success DESC, source`, accountID)
	if err != nil {
		return nil, fmt.Errorf("login sources of account %d: %w", accountID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.LoginSource, error) {
		var l store.LoginSource
		var at int64
		err := r.Scan(&l.Source, &at)
		l.LastSuccess = fromNanos(at)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("login sources of account %d: %w", accountID, err)
	}
	return out, nil
}
