package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"posthorn/internal/store"
)

var _ store.LoginStore = (*Store)(nil)

// ServerSecret returns the secret called name, storing want first when there is none.
func (s *Store) ServerSecret(ctx context.Context, name string, want []byte) ([]byte, error) {
	var got []byte
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO server_secrets (name, value) VALUES (?, ?)
			ON CONFLICT (name) DO NOTHING`, name, want); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT value FROM server_secrets WHERE name = ?`, name).Scan(&got)
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
	err := s.read.QueryRowContext(ctx, `SELECT id, account_id, name, password_hash, stored_key, server_key, created_at
		FROM app_passwords WHERE account_id = ? AND password_hash = ?`, accountID, hash).Scan(
		&p.ID, &p.AccountID, &p.Name, &p.PasswordHash, &p.SCRAM.StoredKey, &p.SCRAM.ServerKey, &created)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.AppPassword{}, fmt.Errorf("find app password of account %d: %w", accountID, err)
	}
	p.CreatedAt = fromNanos(created)
	return p, nil
}

// SetAppPasswordHash replaces an app password's stored hash if it is still old.
func (s *Store) SetAppPasswordHash(ctx context.Context, id int64, old, hash string) error {
	res, err := s.write.ExecContext(ctx, `UPDATE app_passwords SET password_hash = ?
		WHERE id = ? AND password_hash = ?`, hash, id, old)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("set hash of app password %d: %w", id, err)
	}
	return nil
}

// LoginSourceSeen returns the last successful login of the account from source.
func (s *Store) LoginSourceSeen(ctx context.Context, accountID int64, source string) (time.Time, bool, error) {
	var at int64
	err := s.read.QueryRowContext(ctx, `SELECT last_success FROM login_sources WHERE account_id = ? AND source = ?`,
		accountID, source).Scan(&at)
	if errors.Is(err, sql.ErrNoRows) {
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
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO login_sources (account_id, source, last_success) VALUES (?, ?, ?)
			ON CONFLICT (account_id, source) DO UPDATE SET last_success = max(last_success, excluded.last_success)`,
			accountID, source, at.UnixNano()); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM login_sources WHERE account_id = ? AND source NOT IN
			(SELECT source FROM login_sources WHERE account_id = ? ORDER BY last_success DESC, source LIMIT ?)`,
			accountID, accountID, keep)
		return err
	})
	if err != nil {
		return fmt.Errorf("record login source %s of account %d: %w", source, accountID, err)
	}
	return nil
}

// LoginSources returns the account's login sources, most recent first.
func (s *Store) LoginSources(ctx context.Context, accountID int64) ([]store.LoginSource, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT source, last_success FROM login_sources WHERE account_id = ?
		ORDER BY last_success DESC, source`, accountID)
	if err != nil {
		return nil, fmt.Errorf("login sources of account %d: %w", accountID, err)
	}
	out, err := collect(rows, func(r scanner) (store.LoginSource, error) {
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
