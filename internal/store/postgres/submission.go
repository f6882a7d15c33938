package postgres

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/store"
)

// What authenticated submission needs beyond Store (store.SubmissionStore): tables
// scram_credentials, app_passwords, send_as, send_limits, sent_log and dkim_keys
// (migrations/0001_initial.sql), all going with their account or domain (ON DELETE CASCADE).
// Send-as addresses and DKIM domains are stored lower-cased.

var (
	_ store.SubmissionStore = (*Store)(nil)
	_ store.SendAsLister    = (*Store)(nil)
)

// EnsureSCRAMSalt returns the account's SCRAM salt, storing want first when it has none; of
// two nodes storing at once, both get the salt that was stored first.
func (s *Store) EnsureSCRAMSalt(ctx context.Context, accountID int64, want store.SCRAMSalt) (store.SCRAMSalt, error) {
	var got store.SCRAMSalt
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO scram_credentials (account_id, salt, iterations)
			VALUES ($1, $2, $3) ON CONFLICT (account_id) DO NOTHING`, accountID, want.Salt, want.Iterations); err != nil {
			if isForeignKey(err) {
				return store.ErrNotFound
			}
			return err
		}
		return tx.QueryRow(ctx, `SELECT salt, iterations FROM scram_credentials WHERE account_id = $1`,
			accountID).Scan(&got.Salt, &got.Iterations)
	})
	if err != nil {
		return store.SCRAMSalt{}, fmt.Errorf("scram salt of account %d: %w", accountID, err)
	}
	return got, nil
}

// SetAccountSCRAM stores the SCRAM keys of the account's current password.
func (s *Store) SetAccountSCRAM(ctx context.Context, accountID int64, keys store.SCRAMKeys) error {
	err := affectedOne(s.pool.Exec(ctx, `UPDATE scram_credentials SET stored_key = $1, server_key = $2
		WHERE account_id = $3`, keys.StoredKey, keys.ServerKey, accountID))
	if err != nil {
		return fmt.Errorf("set scram keys of account %d: %w", accountID, err)
	}
	return nil
}

// SCRAMCredentials returns the account's salt and its credentials' keys, the password's first,
// read in one snapshot.
func (s *Store) SCRAMCredentials(ctx context.Context, accountID int64) (store.SCRAMSalt, []store.SCRAMKeys, error) {
	var salt store.SCRAMSalt
	var keys []store.SCRAMKeys
	err := s.inReadTx(ctx, func(tx pgx.Tx) error {
		var stored, server []byte
		err := tx.QueryRow(ctx, `SELECT salt, iterations, stored_key, server_key
			FROM scram_credentials WHERE account_id = $1`, accountID).Scan(&salt.Salt, &salt.Iterations, &stored, &server)
		if err != nil {
			return notFound(err)
		}
		if stored != nil && server != nil {
			keys = append(keys, store.SCRAMKeys{StoredKey: stored, ServerKey: server})
		}
		rows, err := tx.Query(ctx, `SELECT stored_key, server_key FROM app_passwords
			WHERE account_id = $1 ORDER BY id`, accountID)
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

// AddAppPassword adds an app password; store.ErrExists if the name is taken, store.ErrNotFound
// if the account does not exist.
func (s *Store) AddAppPassword(ctx context.Context, p store.AppPassword) (store.AppPassword, error) {
	created := s.nowNanos()
	err := s.pool.QueryRow(ctx, `INSERT INTO app_passwords
		(account_id, name, password_hash, stored_key, server_key, created_at) VALUES ($1, $2, $3, $4, $5, $6)
		ON CONFLICT (account_id, name) DO NOTHING RETURNING id`,
		p.AccountID, p.Name, p.PasswordHash, p.SCRAM.StoredKey, p.SCRAM.ServerKey, created).Scan(&p.ID)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		err = store.ErrExists
	case isForeignKey(err):
		err = store.ErrNotFound
	}
	if err != nil {
		return store.AppPassword{}, fmt.Errorf("add app password %q: %w", p.Name, err)
	}
	p.CreatedAt = fromNanos(created)
	return p, nil
}

// ListAppPasswords returns the account's app passwords by name.
func (s *Store) ListAppPasswords(ctx context.Context, accountID int64) ([]store.AppPassword, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, account_id, name, password_hash, stored_key, server_key,
		created_at FROM app_passwords WHERE account_id = $1 ORDER BY name`, accountID)
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
	err := affectedOne(s.pool.Exec(ctx, `DELETE FROM app_passwords WHERE account_id = $1 AND name = $2`, accountID, name))
	if err != nil {
		return fmt.Errorf("remove app password %q: %w", name, err)
	}
	return nil
}

// AddSendAs lets the account send as address ("local@domain" or "@domain").
func (s *Store) AddSendAs(ctx context.Context, accountID int64, address string) error {
	address = strings.ToLower(address)
	err := affectedOne(s.pool.Exec(ctx, `INSERT INTO send_as (account_id, address) VALUES ($1, $2)
		ON CONFLICT DO NOTHING`, accountID, address))
	switch {
	case errors.Is(err, store.ErrNotFound):
		err = store.ErrExists
	case isForeignKey(err):
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("add send-as %s: %w", address, err)
	}
	return nil
}

// ListSendAs returns the account's send-as addresses, sorted bytewise.
func (s *Store) ListSendAs(ctx context.Context, accountID int64) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT address FROM send_as WHERE account_id = $1 ORDER BY address`, accountID)
	if err != nil {
		return nil, fmt.Errorf("list send-as: %w", err)
	}
	out, err := pgx.CollectRows(rows, scanString)
	if err != nil {
		return nil, fmt.Errorf("list send-as: %w", err)
	}
	return out, nil
}

// RemoveSendAs deletes a send-as address.
func (s *Store) RemoveSendAs(ctx context.Context, accountID int64, address string) error {
	address = strings.ToLower(address)
	err := affectedOne(s.pool.Exec(ctx, `DELETE FROM send_as WHERE account_id = $1 AND address = $2`, accountID, address))
	if err != nil {
		return fmt.Errorf("remove send-as %s: %w", address, err)
	}
	return nil
}

// SetSendLimits sets the account's sending limits; store.LimitDefault is stored as NULL.
func (s *Store) SetSendLimits(ctx context.Context, accountID int64, l store.SendLimits) error {
	if l.PerHour < store.LimitDefault || l.PerDay < store.LimitDefault {
		return fmt.Errorf("set send limits of account %d: negative limit", accountID)
	}
	nullable := func(v int64) *int64 {
		if v == store.LimitDefault {
			return nil
		}
		return &v
	}
	_, err := s.pool.Exec(ctx, `INSERT INTO send_limits (account_id, per_hour, per_day) VALUES ($1, $2, $3)
		ON CONFLICT (account_id) DO UPDATE SET per_hour = excluded.per_hour, per_day = excluded.per_day`,
		accountID, nullable(l.PerHour), nullable(l.PerDay))
	if isForeignKey(err) {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("set send limits of account %d: %w", accountID, err)
	}
	return nil
}

// GetSendLimits returns the account's sending limits, store.LimitDefault where it has none.
func (s *Store) GetSendLimits(ctx context.Context, accountID int64) (store.SendLimits, error) {
	var hour, day *int64
	err := s.pool.QueryRow(ctx, `SELECT per_hour, per_day FROM send_limits WHERE account_id = $1`,
		accountID).Scan(&hour, &day)
	if err != nil && !errors.Is(err, pgx.ErrNoRows) {
		return store.SendLimits{}, fmt.Errorf("get send limits of account %d: %w", accountID, err)
	}
	l := store.SendLimits{PerHour: store.LimitDefault, PerDay: store.LimitDefault}
	if hour != nil {
		l.PerHour = *hour
	}
	if day != nil {
		l.PerDay = *day
	}
	return l, nil
}

// RecordSent and SentSince are the shared state's (shared.go).

// AddDKIMKey stores a domain's DKIM signing key.
func (s *Store) AddDKIMKey(ctx context.Context, k store.DKIMKey) (store.DKIMKey, error) {
	k.Domain = strings.ToLower(k.Domain)
	created := s.nowNanos()
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		id, err := domainID(ctx, tx, k.Domain)
		if err != nil {
			return err
		}
		err = tx.QueryRow(ctx, `INSERT INTO dkim_keys (domain_id, selector, algorithm, private_key, created_at)
			VALUES ($1, $2, $3, $4, $5) ON CONFLICT (domain_id, selector) DO NOTHING RETURNING id`,
			id, k.Selector, k.Algorithm, k.PrivateKey, created).Scan(&k.ID)
		switch {
		case errors.Is(err, pgx.ErrNoRows):
			return store.ErrExists
		case isForeignKey(err): // the domain removed meanwhile
			return store.ErrNotFound
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
	rows, err := s.pool.Query(ctx, `SELECT k.id, d.name, k.selector, k.algorithm, k.private_key, k.created_at
		FROM dkim_keys k JOIN domains d ON d.id = k.domain_id WHERE d.name = $1
		ORDER BY k.created_at DESC, k.id DESC`, domain)
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
