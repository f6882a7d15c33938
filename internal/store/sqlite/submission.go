package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"time"

	"posthorn/internal/store"
)

var _ store.SubmissionStore = (*Store)(nil)

// EnsureSCRAMSalt returns the account's SCRAM salt, storing want first when it has none.
func (s *Store) EnsureSCRAMSalt(ctx context.Context, accountID int64, want store.SCRAMSalt) (store.SCRAMSalt, error) {
	var got store.SCRAMSalt
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, `INSERT INTO scram_credentials (account_id, salt, iterations)
			VALUES (?, ?, ?) ON CONFLICT (account_id) DO NOTHING`, accountID, want.Salt, want.Iterations); err != nil {
			return err
		}
		return tx.QueryRowContext(ctx, `SELECT salt, iterations FROM scram_credentials WHERE account_id = ?`,
			accountID).Scan(&got.Salt, &got.Iterations)
	})
	if err != nil {
		return store.SCRAMSalt{}, fmt.Errorf("scram salt of account %d: %w", accountID, err)
	}
	return got, nil
}

// SetAccountSCRAM stores the SCRAM keys of the account's current password.
func (s *Store) SetAccountSCRAM(ctx context.Context, accountID int64, keys store.SCRAMKeys) error {
	res, err := s.write.ExecContext(ctx, `UPDATE scram_credentials SET stored_key = ?, server_key = ?
		WHERE account_id = ?`, keys.StoredKey, keys.ServerKey, accountID)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("set scram keys of account %d: %w", accountID, err)
	}
	return nil
}

// SCRAMCredentials returns the account's salt and its credentials' keys, the password's first.
func (s *Store) SCRAMCredentials(ctx context.Context, accountID int64) (store.SCRAMSalt, []store.SCRAMKeys, error) {
	var salt store.SCRAMSalt
	var keys []store.SCRAMKeys
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		var stored, server []byte
		err := tx.QueryRowContext(ctx, `SELECT salt, iterations, stored_key, server_key
			FROM scram_credentials WHERE account_id = ?`, accountID).Scan(&salt.Salt, &salt.Iterations, &stored, &server)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrNotFound
		}
		if err != nil {
			return err
		}
		if stored != nil && server != nil {
			keys = append(keys, store.SCRAMKeys{StoredKey: stored, ServerKey: server})
		}
		rows, err := tx.QueryContext(ctx, `SELECT stored_key, server_key FROM app_passwords
			WHERE account_id = ? ORDER BY id`, accountID)
		if err != nil {
			return err
		}
		more, err := collect(rows, func(r scanner) (store.SCRAMKeys, error) {
			var k store.SCRAMKeys
			return k, r.Scan(&k.StoredKey, &k.ServerKey)
		})
		keys = append(keys, more...)
		return err
	})
	if err != nil {
		return store.SCRAMSalt{}, nil, fmt.Errorf("scram credentials of account %d: %w", accountID, err)
	}
	return salt, keys, nil
}

// AddAppPassword adds an app password; store.ErrExists if the name is taken.
func (s *Store) AddAppPassword(ctx context.Context, p store.AppPassword) (store.AppPassword, error) {
	created := s.nowNanos()
	err := s.write.QueryRowContext(ctx, `INSERT INTO app_passwords
		(account_id, name, password_hash, stored_key, server_key, created_at) VALUES (?, ?, ?, ?, ?, ?)
		ON CONFLICT (account_id, name) DO NOTHING RETURNING id`,
		p.AccountID, p.Name, p.PasswordHash, p.SCRAM.StoredKey, p.SCRAM.ServerKey, created).Scan(&p.ID)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrExists
	}
	if err != nil {
		return store.AppPassword{}, fmt.Errorf("add app password %q: %w", p.Name, err)
	}
	p.CreatedAt = fromNanos(created)
	return p, nil
}

// ListAppPasswords returns the account's app passwords by name.
func (s *Store) ListAppPasswords(ctx context.Context, accountID int64) ([]store.AppPassword, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, account_id, name, password_hash, stored_key, server_key,
		created_at FROM app_passwords WHERE account_id = ? ORDER BY name`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list app passwords: %w", err)
	}
	out, err := collect(rows, func(r scanner) (store.AppPassword, error) {
		var p store.AppPassword
		var created int64
		err := r.Scan(&p.ID, &p.AccountID, &p.Name, &p.PasswordHash, &p.SCRAM.StoredKey, &p.SCRAM.ServerKey, &created)
		p.CreatedAt = fromNanos(created)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("list app passwords: %w", err)
	}
	return out, nil
}

// RemoveAppPassword deletes an app password by name.
func (s *Store) RemoveAppPassword(ctx context.Context, accountID int64, name string) error {
	res, err := s.write.ExecContext(ctx, `DELETE FROM app_passwords WHERE account_id = ? AND name = ?`, accountID, name)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("remove app password %q: %w", name, err)
	}
	return nil
}

// AddSendAs lets the account send as address ("local@domain" or "@domain").
func (s *Store) AddSendAs(ctx context.Context, accountID int64, address string) error {
	address = strings.ToLower(address)
	res, err := s.write.ExecContext(ctx, `INSERT INTO send_as (account_id, address) VALUES (?, ?)
		ON CONFLICT DO NOTHING`, accountID, address)
	if err == nil {
		if err = affectedOne(res); errors.Is(err, store.ErrNotFound) {
			err = store.ErrExists
		}
	}
	if err != nil {
		return fmt.Errorf("add send-as %s: %w", address, err)
	}
	return nil
}

// ListSendAs returns the account's send-as addresses, sorted.
func (s *Store) ListSendAs(ctx context.Context, accountID int64) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT address FROM send_as WHERE account_id = ? ORDER BY address`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list send-as: %w", err)
	}
	out, err := collect(rows, scanString)
	if err != nil {
		return nil, fmt.Errorf("list send-as: %w", err)
	}
	return out, nil
}

// RemoveSendAs deletes a send-as address.
func (s *Store) RemoveSendAs(ctx context.Context, accountID int64, address string) error {
	address = strings.ToLower(address)
	res, err := s.write.ExecContext(ctx, `DELETE FROM send_as WHERE account_id = ? AND address = ?`, accountID, address)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("remove send-as %s: %w", address, err)
	}
	return nil
}

// SetSendLimits sets the account's sending limits; store.LimitDefault is stored as NULL.
func (s *Store) SetSendLimits(ctx context.Context, accountID int64, l store.SendLimits) error {
	nullable := func(v int64) sql.NullInt64 { return sql.NullInt64{Int64: v, Valid: v != store.LimitDefault} }
	if l.PerHour < store.LimitDefault || l.PerDay < store.LimitDefault {
		return fmt.Errorf("set send limits of account %d: negative limit", accountID)
	}
	_, err := s.write.ExecContext(ctx, `INSERT INTO send_limits (account_id, per_hour, per_day) VALUES (?, ?, ?)
		ON CONFLICT (account_id) DO UPDATE SET per_hour = excluded.per_hour, per_day = excluded.per_day`,
		accountID, nullable(l.PerHour), nullable(l.PerDay))
	if err != nil {
		return fmt.Errorf("set send limits of account %d: %w", accountID, err)
	}
	return nil
}

// GetSendLimits returns the account's sending limits, store.LimitDefault where it has none.
func (s *Store) GetSendLimits(ctx context.Context, accountID int64) (store.SendLimits, error) {
	var hour, day sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT per_hour, per_day FROM send_limits WHERE account_id = ?`,
		accountID).Scan(&hour, &day)
	if err != nil && !errors.Is(err, sql.ErrNoRows) {
		return store.SendLimits{}, fmt.Errorf("get send limits of account %d: %w", accountID, err)
	}
	l := store.SendLimits{PerHour: store.LimitDefault, PerDay: store.LimitDefault}
	if hour.Valid {
		l.PerHour = hour.Int64
	}
	if day.Valid {
		l.PerDay = day.Int64
	}
	return l, nil
}

// sentLogKept is how long sent_log rows are kept: the longest limit's period.
const sentLogKept = 24 * time.Hour

// RecordSent notes submitted messages in one transaction and prunes their accounts' rows
// older than a day.
func (s *Store) RecordSent(ctx context.Context, records ...store.SentRecord) error {
	if len(records) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		latest := map[int64]time.Time{}
		for _, r := range records {
			if _, err := tx.ExecContext(ctx, `INSERT INTO sent_log (account_id, at, recipients) VALUES (?, ?, ?)`,
				r.AccountID, r.At.UnixNano(), r.Recipients); err != nil {
				return err
			}
			if r.At.After(latest[r.AccountID]) {
				latest[r.AccountID] = r.At
			}
		}
		for id, at := range latest {
			if _, err := tx.ExecContext(ctx, `DELETE FROM sent_log WHERE account_id = ? AND at < ?`,
				id, at.Add(-sentLogKept).UnixNano()); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("record %d sent messages: %w", len(records), err)
	}
	return nil
}

// SentSince returns how many recipients the account submitted to since since.
func (s *Store) SentSince(ctx context.Context, accountID int64, since time.Time) (int64, error) {
	var n int64
	err := s.read.QueryRowContext(ctx, `SELECT coalesce(sum(recipients), 0) FROM sent_log
		WHERE account_id = ? AND at >= ?`, accountID, since.UnixNano()).Scan(&n)
	if err != nil {
		return 0, fmt.Errorf("sent by account %d: %w", accountID, err)
	}
	return n, nil
}

// AddDKIMKey stores a domain's DKIM signing key.
func (s *Store) AddDKIMKey(ctx context.Context, k store.DKIMKey) (store.DKIMKey, error) {
	k.Domain = strings.ToLower(k.Domain)
	created := s.nowNanos()
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		id, err := domainID(ctx, tx, k.Domain)
		if err != nil {
			return err
		}
		err = tx.QueryRowContext(ctx, `INSERT INTO dkim_keys (domain_id, selector, algorithm, private_key, created_at)
			VALUES (?, ?, ?, ?, ?) ON CONFLICT (domain_id, selector) DO NOTHING RETURNING id`,
			id, k.Selector, k.Algorithm, k.PrivateKey, created).Scan(&k.ID)
		if errors.Is(err, sql.ErrNoRows) {
			return store.ErrExists
		}
		return err
	})
	if err != nil {
		return store.DKIMKey{}, fmt.Errorf("add dkim key %s for %s: %w", k.Selector, k.Domain, err)
	}
	k.CreatedAt = fromNanos(created)
	return k, nil
}

// DKIMKeys returns a domain's DKIM keys, newest first.
func (s *Store) DKIMKeys(ctx context.Context, domain string) ([]store.DKIMKey, error) {
	domain = strings.ToLower(domain)
	rows, err := s.read.QueryContext(ctx, `SELECT k.id, d.name, k.selector, k.algorithm, k.private_key, k.created_at
		FROM dkim_keys k JOIN domains d ON d.id = k.domain_id WHERE d.name = ? ORDER BY k.created_at DESC, k.id DESC`, domain)
	if err != nil {
		return nil, fmt.Errorf("dkim keys of %s: %w", domain, err)
	}
	out, err := collect(rows, func(r scanner) (store.DKIMKey, error) {
		var k store.DKIMKey
		var created int64
		err := r.Scan(&k.ID, &k.Domain, &k.Selector, &k.Algorithm, &k.PrivateKey, &created)
		k.CreatedAt = fromNanos(created)
		return k, err
	})
	if err != nil {
		return nil, fmt.Errorf("dkim keys of %s: %w", domain, err)
	}
	return out, nil
}
