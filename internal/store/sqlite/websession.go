package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"time"

	"posthorn/internal/store"
)

var _ store.WebStore = (*Store)(nil)

// The web UI's tables (migrations/0017_web.sql).

// accountExists is store.ErrNotFound unless the account id exists.
func accountExists(ctx context.Context, tx *sql.Tx, id int64) error {
	var one int
	err := tx.QueryRowContext(ctx, `SELECT 1 FROM accounts WHERE id = ?`, id).Scan(&one)
	if errors.Is(err, sql.ErrNoRows) {
		return store.ErrNotFound
	}
	return err
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// CreateWebSession inserts the session after checking its account.
func (s *Store) CreateWebSession(ctx context.Context, ws store.WebSession) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := accountExists(ctx, tx, ws.AccountID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `INSERT INTO web_sessions (id_hash, account_id, pending, created_at, last_seen,
			source, user_agent) VALUES (?, ?, ?, ?, ?, ?, ?)`, ws.IDHash, ws.AccountID, boolInt(ws.Pending),
			ws.CreatedAt.UnixNano(), ws.LastSeen.UnixNano(), ws.Source, ws.UserAgent)
		return err
	})
	if err != nil {
		return fmt.Errorf("create web session of account %d: %w", ws.AccountID, err)
	}
	return nil
}

// GetWebSession reads one session by the hash of its id.
func (s *Store) GetWebSession(ctx context.Context, idHash []byte) (store.WebSession, error) {
	ws := store.WebSession{IDHash: idHash}
	var pending int
	var created, seen int64
	err := s.read.QueryRowContext(ctx, `SELECT account_id, pending, created_at, last_seen, source, user_agent
		FROM web_sessions WHERE id_hash = ?`, idHash).Scan(&ws.AccountID, &pending, &created, &seen, &ws.Source, &ws.UserAgent)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.WebSession{}, fmt.Errorf("web session: %w", err)
	}
	ws.Pending, ws.CreatedAt, ws.LastSeen = pending != 0, fromNanos(created), fromNanos(seen)
	return ws, nil
}

// TouchWebSession moves the session's last use forward.
func (s *Store) TouchWebSession(ctx context.Context, idHash []byte, at time.Time) error {
	res, err := s.write.ExecContext(ctx, `UPDATE web_sessions SET last_seen = max(last_seen, ?) WHERE id_hash = ?`,
		at.UnixNano(), idHash)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("touch web session: %w", err)
	}
	return nil
}

// DeleteWebSession deletes one session if it exists.
func (s *Store) DeleteWebSession(ctx context.Context, idHash []byte) error {
	if _, err := s.write.ExecContext(ctx, `DELETE FROM web_sessions WHERE id_hash = ?`, idHash); err != nil {
		return fmt.Errorf("delete web session: %w", err)
	}
	return nil
}

// DeleteWebSessions deletes the account's sessions but keep.
func (s *Store) DeleteWebSessions(ctx context.Context, accountID int64, keep []byte) (int, error) {
	if keep == nil {
		keep = []byte{}
	}
	res, err := s.write.ExecContext(ctx, `DELETE FROM web_sessions WHERE account_id = ? AND id_hash != ?`, accountID, keep)
	if err != nil {
		return 0, fmt.Errorf("delete web sessions of account %d: %w", accountID, err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// DeleteExpiredWebSessions deletes the sessions idle since before idle or created before created.
func (s *Store) DeleteExpiredWebSessions(ctx context.Context, idle, created time.Time) (int, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM web_sessions WHERE last_seen < ? OR created_at < ?`,
		idle.UnixNano(), created.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("delete expired web sessions: %w", err)
	}
	n, err := res.RowsAffected()
	return int(n), err
}

// WebAccount reads the account's web settings.
func (s *Store) WebAccount(ctx context.Context, accountID int64) (store.WebAccount, error) {
	wa := store.WebAccount{AccountID: accountID}
	var admin, enabled int
	var found sql.NullInt64
	err := s.read.QueryRowContext(ctx, `SELECT a.id, coalesce(w.admin, 0), coalesce(w.totp_secret, ''),
		coalesce(w.totp_enabled, 0), coalesce(w.totp_last_step, 0)
		FROM accounts a LEFT JOIN web_accounts w ON w.account_id = a.id WHERE a.id = ?`, accountID).Scan(
		&found, &admin, &wa.TOTPSecret, &enabled, &wa.TOTPLastStep)
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.WebAccount{}, fmt.Errorf("web settings of account %d: %w", accountID, err)
	}
	wa.Admin, wa.TOTPEnabled = admin != 0, enabled != 0
	return wa, nil
}

// updateWebAccount runs set (an UPDATE of web_accounts with the account id as its last
// argument) on the account's row, created first when missing.
func (s *Store) updateWebAccount(ctx context.Context, accountID int64, set string, args ...any) error {
	return s.inTx(ctx, func(tx *sql.Tx) error {
		if err := accountExists(ctx, tx, accountID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO web_accounts (account_id) VALUES (?) ON CONFLICT DO NOTHING`,
			accountID); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `UPDATE web_accounts SET `+set+` WHERE account_id = ?`, append(args, accountID)...)
		return err
	})
}

// SetWebAdmin sets the admin flag.
func (s *Store) SetWebAdmin(ctx context.Context, accountID int64, admin bool) error {
	if err := s.updateWebAccount(ctx, accountID, `admin = ?`, boolInt(admin)); err != nil {
		return fmt.Errorf("set admin flag of account %d: %w", accountID, err)
	}
	return nil
}

// WebAdmins lists the admins' ids.
func (s *Store) WebAdmins(ctx context.Context) ([]int64, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT account_id FROM web_accounts WHERE admin = 1 ORDER BY account_id`)
	if err != nil {
		return nil, fmt.Errorf("list admins: %w", err)
	}
	ids, err := collect(rows, func(r scanner) (int64, error) {
		var id int64
		return id, r.Scan(&id)
	})
	if err != nil {
		return nil, fmt.Errorf("list admins: %w", err)
	}
	return ids, nil
}

// SetTOTP sets the secret and its state and forgets the last step.
func (s *Store) SetTOTP(ctx context.Context, accountID int64, secret string, enabled bool) error {
	if err := s.updateWebAccount(ctx, accountID, `totp_secret = ?, totp_enabled = ?, totp_last_step = 0`,
		secret, boolInt(enabled && secret != "")); err != nil {
		return fmt.Errorf("set TOTP of account %d: %w", accountID, err)
	}
	return nil
}

// UseTOTPStep moves the last step forward only.
func (s *Store) UseTOTPStep(ctx context.Context, accountID int64, step int64) (bool, error) {
	res, err := s.write.ExecContext(ctx, `UPDATE web_accounts SET totp_last_step = ?
		WHERE account_id = ? AND totp_last_step < ?`, step, accountID, step)
	if err != nil {
		return false, fmt.Errorf("use TOTP step of account %d: %w", accountID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// SetRecoveryCodes replaces the account's codes in one transaction.
func (s *Store) SetRecoveryCodes(ctx context.Context, accountID int64, hashes []string) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := accountExists(ctx, tx, accountID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `DELETE FROM web_recovery_codes WHERE account_id = ?`, accountID); err != nil {
			return err
		}
		for _, h := range hashes {
			if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO web_recovery_codes (account_id, code_hash) VALUES (?, ?)`,
				accountID, h); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("set recovery codes of account %d: %w", accountID, err)
	}
	return nil
}

// UseRecoveryCode deletes the code's row.
func (s *Store) UseRecoveryCode(ctx context.Context, accountID int64, hash string) (bool, error) {
	res, err := s.write.ExecContext(ctx, `DELETE FROM web_recovery_codes WHERE account_id = ? AND code_hash = ?`,
		accountID, hash)
	if err != nil {
		return false, fmt.Errorf("use recovery code of account %d: %w", accountID, err)
	}
	n, err := res.RowsAffected()
	return n == 1, err
}

// RecoveryCodesLeft counts the account's codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, accountID int64) (int, error) {
	var n int
	if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM web_recovery_codes WHERE account_id = ?`,
		accountID).Scan(&n); err != nil {
		return 0, fmt.Errorf("recovery codes of account %d: %w", accountID, err)
	}
	return n, nil
}

// RecordWebLogin inserts the login and trims the account's history to keep rows.
func (s *Store) RecordWebLogin(ctx context.Context, l store.WebLogin, keep int) error {
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		if err := accountExists(ctx, tx, l.AccountID); err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `INSERT INTO web_logins (account_id, at, source, user_agent) VALUES (?, ?, ?, ?)`,
			l.AccountID, l.At.UnixNano(), l.Source, l.UserAgent); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, `DELETE FROM web_logins WHERE account_id = ? AND id NOT IN
			(SELECT id FROM web_logins WHERE account_id = ? ORDER BY at DESC, id DESC LIMIT ?)`, l.AccountID, l.AccountID, keep)
		return err
	})
	if err != nil {
		return fmt.Errorf("record web login of account %d: %w", l.AccountID, err)
	}
	return nil
}

// WebLogins reads the account's web logins, most recent first.
func (s *Store) WebLogins(ctx context.Context, accountID int64) ([]store.WebLogin, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT at, source, user_agent FROM web_logins WHERE account_id = ?
		ORDER BY at DESC, id DESC`, accountID)
	if err != nil {
		return nil, fmt.Errorf("web logins of account %d: %w", accountID, err)
	}
	out, err := collect(rows, func(r scanner) (store.WebLogin, error) {
		l := store.WebLogin{AccountID: accountID}
		var at int64
		err := r.Scan(&at, &l.Source, &l.UserAgent)
		l.At = fromNanos(at)
		return l, err
	})
	if err != nil {
		return nil, fmt.Errorf("web logins of account %d: %w", accountID, err)
	}
	return out, nil
}
