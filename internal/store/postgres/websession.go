package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/store"
)

// The web UI's tables (store.WebStore): web_sessions (by the SHA-256 of the session id),
// web_accounts (admin flag, TOTP), web_recovery_codes and web_logins; every row goes with its
// account (ON DELETE CASCADE).

var _ store.WebStore = (*Store)(nil)

// accountExists is store.ErrNotFound unless the account id exists. It takes the account row
// FOR KEY SHARE, so the account cannot be deleted before the transaction ends.
func accountExists(ctx context.Context, tx pgx.Tx, id int64) error {
	var one int
	return notFound(tx.QueryRow(ctx, `SELECT 1 FROM accounts WHERE id = $1 FOR KEY SHARE`, id).Scan(&one))
}

// CreateWebSession inserts the session; an account that does not exist fails its foreign key.
func (s *Store) CreateWebSession(ctx context.Context, ws store.WebSession) error {
	_, err := s.pool.Exec(ctx, `INSERT INTO web_sessions (id_hash, account_id, pending, created_at, last_seen,
		source, user_agent) VALUES ($1, $2, $3, $4, $5, $6, $7)`, ws.IDHash, ws.AccountID, ws.Pending,
		ws.CreatedAt.UnixNano(), ws.LastSeen.UnixNano(), ws.Source, ws.UserAgent)
	if isForeignKey(err) {
		err = store.ErrNotFound
	}
	if err != nil {
		return fmt.Errorf("create web session of account %d: %w", ws.AccountID, err)
	}
	return nil
}

// GetWebSession reads one session by the hash of its id.
func (s *Store) GetWebSession(ctx context.Context, idHash []byte) (store.WebSession, error) {
	ws := store.WebSession{IDHash: idHash}
	var created, seen int64
	err := s.pool.QueryRow(ctx, `SELECT account_id, pending, created_at, last_seen, source, user_agent
		FROM web_sessions WHERE id_hash = $1`, idHash).Scan(&ws.AccountID, &ws.Pending, &created, &seen, &ws.Source, &ws.UserAgent)
	if err != nil {
		return store.WebSession{}, fmt.Errorf("web session: %w", notFound(err))
	}
	ws.CreatedAt, ws.LastSeen = fromNanos(created), fromNanos(seen)
	return ws, nil
}

// TouchWebSession moves the session's last use forward.
func (s *Store) TouchWebSession(ctx context.Context, idHash []byte, at time.Time) error {
	tag, err := s.pool.Exec(ctx, `UPDATE web_sessions SET last_seen = greatest(last_seen, $1) WHERE id_hash = $2`,
		at.UnixNano(), idHash)
	if err := changedOne(tag, err); err != nil {
		return fmt.Errorf("touch web session: %w", err)
	}
	return nil
}

// DeleteWebSession deletes one session if it exists.
func (s *Store) DeleteWebSession(ctx context.Context, idHash []byte) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM web_sessions WHERE id_hash = $1`, idHash); err != nil {
		return fmt.Errorf("delete web session: %w", err)
	}
	return nil
}

// DeleteWebSessions deletes the account's sessions but keep.
func (s *Store) DeleteWebSessions(ctx context.Context, accountID int64, keep []byte) (int, error) {
	if keep == nil {
		keep = []byte{}
	}
	tag, err := s.pool.Exec(ctx, `DELETE FROM web_sessions WHERE account_id = $1 AND id_hash != $2`, accountID, keep)
	if err != nil {
		return 0, fmt.Errorf("delete web sessions of account %d: %w", accountID, err)
	}
	return int(tag.RowsAffected()), nil
}

// DeleteExpiredWebSessions deletes the sessions idle since before idle or created before created.
func (s *Store) DeleteExpiredWebSessions(ctx context.Context, idle, created time.Time) (int, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM web_sessions WHERE last_seen < $1 OR created_at < $2`,
		idle.UnixNano(), created.UnixNano())
	if err != nil {
		return 0, fmt.Errorf("delete expired web sessions: %w", err)
	}
	return int(tag.RowsAffected()), nil
}

// WebAccount reads the account's web settings.
func (s *Store) WebAccount(ctx context.Context, accountID int64) (store.WebAccount, error) {
	wa := store.WebAccount{AccountID: accountID}
	var found int64
	err := s.pool.QueryRow(ctx, `SELECT a.id, coalesce(w.admin, false), coalesce(w.totp_secret, ''),
		coalesce(w.totp_enabled, false), coalesce(w.totp_last_step, 0)
		FROM accounts a LEFT JOIN web_accounts w ON w.account_id = a.id WHERE a.id = $1`, accountID).Scan(
		&found, &wa.Admin, &wa.TOTPSecret, &wa.TOTPEnabled, &wa.TOTPLastStep)
	if err != nil {
		return store.WebAccount{}, fmt.Errorf("web settings of account %d: %w", accountID, notFound(err))
	}
	return wa, nil
}

// updateWebAccount runs set (the SET list of an UPDATE of web_accounts, its arguments from $2
// on) on the account's row, created first when missing.
func (s *Store) updateWebAccount(ctx context.Context, accountID int64, set string, args ...any) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := accountExists(ctx, tx, accountID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO web_accounts (account_id) VALUES ($1) ON CONFLICT DO NOTHING`,
			accountID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE web_accounts SET `+set+` WHERE account_id = $1`, append([]any{accountID}, args...)...)
		return err
	})
}

// SetWebAdmin sets the admin flag.
func (s *Store) SetWebAdmin(ctx context.Context, accountID int64, admin bool) error {
	if err := s.updateWebAccount(ctx, accountID, `admin = $2`, admin); err != nil {
		return fmt.Errorf("set admin flag of account %d: %w", accountID, err)
	}
	return nil
}

// WebAdmins lists the admins' ids.
func (s *Store) WebAdmins(ctx context.Context) ([]int64, error) {
	rows, err := s.pool.Query(ctx, `SELECT account_id FROM web_accounts WHERE admin ORDER BY account_id`)
	if err != nil {
		return nil, fmt.Errorf("list admins: %w", err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil {
		return nil, fmt.Errorf("list admins: %w", err)
	}
	return ids, nil
}

// SetTOTP sets the secret and its state and forgets the last step.
func (s *Store) SetTOTP(ctx context.Context, accountID int64, secret string, enabled bool) error {
	if err := s.updateWebAccount(ctx, accountID, `totp_secret = $2, totp_enabled = $3, totp_last_step = 0`,
		secret, enabled && secret != ""); err != nil {
		return fmt.Errorf("set TOTP of account %d: %w", accountID, err)
	}
	return nil
}

// UseTOTPStep moves the last step forward only; of two nodes accepting the same code at once,
// the row lock lets one through.
func (s *Store) UseTOTPStep(ctx context.Context, accountID int64, step int64) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE web_accounts SET totp_last_step = $1
		WHERE account_id = $2 AND totp_last_step < $1`, step, accountID)
	if err != nil {
		return false, fmt.Errorf("use TOTP step of account %d: %w", accountID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// SetRecoveryCodes replaces the account's codes in one transaction.
func (s *Store) SetRecoveryCodes(ctx context.Context, accountID int64, hashes []string) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := accountExists(ctx, tx, accountID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM web_recovery_codes WHERE account_id = $1`, accountID); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `INSERT INTO web_recovery_codes (account_id, code_hash)
			SELECT $1, h FROM unnest($2::text[]) AS h ON CONFLICT DO NOTHING`, accountID, hashes)
		return err
	})
	if err != nil {
		return fmt.Errorf("set recovery codes of account %d: %w", accountID, err)
	}
	return nil
}

// UseRecoveryCode deletes the code's row.
func (s *Store) UseRecoveryCode(ctx context.Context, accountID int64, hash string) (bool, error) {
	tag, err := s.pool.Exec(ctx, `DELETE FROM web_recovery_codes WHERE account_id = $1 AND code_hash = $2`,
		accountID, hash)
	if err != nil {
		return false, fmt.Errorf("use recovery code of account %d: %w", accountID, err)
	}
	return tag.RowsAffected() == 1, nil
}

// RecoveryCodesLeft counts the account's codes.
func (s *Store) RecoveryCodesLeft(ctx context.Context, accountID int64) (int, error) {
	var n int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM web_recovery_codes WHERE account_id = $1`,
		accountID).Scan(&n); err != nil {
		return 0, fmt.Errorf("recovery codes of account %d: %w", accountID, err)
	}
	return n, nil
}

// RecordWebLogin inserts the login and trims the account's history to keep rows.
func (s *Store) RecordWebLogin(ctx context.Context, l store.WebLogin, keep int) error {
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if err := accountExists(ctx, tx, l.AccountID); err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `INSERT INTO web_logins (account_id, at, source, user_agent) VALUES ($1, $2, $3, $4)`,
			l.AccountID, l.At.UnixNano(), l.Source, l.UserAgent); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `DELETE FROM web_logins WHERE account_id = $1 AND id NOT IN
			(SELECT id FROM web_logins WHERE account_id = $1 ORDER BY at DESC, id DESC LIMIT $2)`, l.AccountID, keep)
		return err
	})
	if err != nil {
		return fmt.Errorf("record web login of account %d: %w", l.AccountID, err)
	}
	return nil
}

// WebLogins reads the account's web logins, most recent first.
func (s *Store) WebLogins(ctx context.Context, accountID int64) ([]store.WebLogin, error) {
	rows, err := s.pool.Query(ctx, `SELECT at, source, user_agent FROM web_logins WHERE account_id = $1
		ORDER BY at DESC, id DESC`, accountID)
	if err != nil {
		return nil, fmt.Errorf("web logins of account %d: %w", accountID, err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.WebLogin, error) {
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
