package sqlite

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"posthorn/internal/store"
)

// The spam classifier's tables (migrations/0007_spam.sql): models and token counts, the class
// each trained message was given, allow and block lists, correspondents.

var (
	_ store.SpamModel      = (*Store)(nil)
	_ store.SpamLists      = (*Store)(nil)
	_ store.Correspondents = (*Store)(nil)
	_ store.JunkMoveFeed   = (*Store)(nil)
)

// globalModel is the id of the global model's row.
const globalModel = 1

// SpamTotals implements store.SpamModel.
func (s *Store) SpamTotals(ctx context.Context, accountID int64) (global, account store.SpamCounts, err error) {
	rows, err := s.read.QueryContext(ctx, `SELECT coalesce(account_id, 0), spam, ham FROM spam_models
		WHERE id = ? OR account_id = ?`, globalModel, accountID)
	if err != nil {
		return global, account, fmt.Errorf("spam totals: %w", err)
	}
	err = scanRows(rows, func(r scanner) error {
		var acc int64
		var c store.SpamCounts
		if err := r.Scan(&acc, &c.Spam, &c.Ham); err != nil {
			return err
		}
		if acc == 0 {
			global = c
		} else {
			account = c
		}
		return nil
	})
	if err != nil {
		return global, account, fmt.Errorf("spam totals: %w", err)
	}
	return global, account, nil
}

// SpamTokens implements store.SpamModel: one query for both models, the tokens passed as a
// JSON array.
func (s *Store) SpamTokens(ctx context.Context, accountID int64, tokens []uint64) (global, account map[uint64]store.SpamCounts, err error) {
	global, account = map[uint64]store.SpamCounts{}, map[uint64]store.SpamCounts{}
	if len(tokens) == 0 {
		return global, account, nil
	}
	ids := make([]int64, len(tokens))
	for i, t := range tokens {
		ids[i] = int64(t)
	}
	list, err := json.Marshal(ids)
	if err != nil {
		return nil, nil, err
	}
	rows, err := s.read.QueryContext(ctx, `SELECT m.account_id IS NULL, t.token, t.spam, t.ham
		FROM spam_models m JOIN spam_tokens t ON t.model_id = m.id
		WHERE (m.id = ? OR m.account_id = ?) AND t.token IN (SELECT value FROM json_each(?))`,
		globalModel, accountID, string(list))
	if err != nil {
		return nil, nil, fmt.Errorf("spam tokens: %w", err)
	}
	err = scanRows(rows, func(r scanner) error {
		var isGlobal bool
		var tok int64
		var c store.SpamCounts
		if err := r.Scan(&isGlobal, &tok, &c.Spam, &c.Ham); err != nil {
			return err
		}
		if isGlobal {
			global[uint64(tok)] = c
		} else {
			account[uint64(tok)] = c
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("spam tokens: %w", err)
	}
	return global, account, nil
}

// TrainSpam implements store.SpamModel: the batch's changes are summed per model and token
// first, so each touched row is written once.
func (s *Store) TrainSpam(ctx context.Context, batch []store.SpamTraining) error {
	if err := s.inTx(ctx, func(tx *sql.Tx) error { return trainSpam(ctx, tx, batch) }); err != nil {
		return fmt.Errorf("train spam model: %w", err)
	}
	return nil
}

func trainSpam(ctx context.Context, tx *sql.Tx, batch []store.SpamTraining) error {
	deltas, err := store.SpamDeltas(batch,
		func(tr store.SpamTraining) (int, error) { return recordedClass(ctx, tx, tr) },
		func(tr store.SpamTraining) error { return recordClass(ctx, tx, tr) })
	if err != nil {
		return err
	}
	upsert, err := tx.PrepareContext(ctx, `INSERT INTO spam_tokens (model_id, token, spam, ham)
		VALUES (?1, ?2, max(0, ?3), max(0, ?4))
		ON CONFLICT (model_id, token) DO UPDATE SET spam = max(0, spam + ?3), ham = max(0, ham + ?4)`)
	if err != nil {
		return err
	}
	defer upsert.Close()
	prune, err := tx.PrepareContext(ctx, `DELETE FROM spam_tokens WHERE model_id = ? AND token = ? AND spam = 0 AND ham = 0`)
	if err != nil {
		return err
	}
	defer prune.Close()
	for account, d := range deltas {
		model, err := modelID(ctx, tx, account)
		if err != nil {
			return err
		}
		if _, err := tx.ExecContext(ctx, `UPDATE spam_models SET spam = max(0, spam + ?), ham = max(0, ham + ?)
			WHERE id = ?`, d.Totals.Spam, d.Totals.Ham, model); err != nil {
			return err
		}
		for tok, c := range d.Tokens {
			if c == (store.SpamCounts{}) {
				continue
			}
			if _, err := upsert.ExecContext(ctx, model, int64(tok), c.Spam, c.Ham); err != nil {
				return err
			}
			if c.Spam < 0 || c.Ham < 0 {
				if _, err := prune.ExecContext(ctx, model, int64(tok)); err != nil {
					return err
				}
			}
		}
	}
	return nil
}

// modelID returns the id of an account's model (0: the global one), creating it.
func modelID(ctx context.Context, tx *sql.Tx, account int64) (int64, error) {
	if account == 0 {
		return globalModel, nil
	}
	var id int64
	err := tx.QueryRowContext(ctx, `INSERT INTO spam_models (account_id) VALUES (?)
		ON CONFLICT (account_id) DO UPDATE SET account_id = excluded.account_id RETURNING id`, account).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("model of account %d: %w", account, err)
	}
	return id, nil
}

// recordedClass returns the class recorded for tr's message: 1 spam, -1 ham, 0 none.
func recordedClass(ctx context.Context, tx *sql.Tx, tr store.SpamTraining) (int, error) {
	var spam bool
	err := tx.QueryRowContext(ctx, `SELECT spam FROM spam_trained WHERE account_id = ? AND blob_id = ?`,
		tr.AccountID, tr.BlobID).Scan(&spam)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, err
	case spam:
		return 1, nil
	}
	return -1, nil
}

// recordClass stores tr's outcome for its message.
func recordClass(ctx context.Context, tx *sql.Tx, tr store.SpamTraining) error {
	if tr.Forget {
		_, err := tx.ExecContext(ctx, `DELETE FROM spam_trained WHERE account_id = ? AND blob_id = ?`, tr.AccountID, tr.BlobID)
		return err
	}
	_, err := tx.ExecContext(ctx, `INSERT INTO spam_trained (account_id, blob_id, spam) VALUES (?, ?, ?)
		ON CONFLICT (account_id, blob_id) DO UPDATE SET spam = excluded.spam`, tr.AccountID, tr.BlobID, tr.Spam)
	return err
}

// AddSpamListEntry implements store.SpamLists.
func (s *Store) AddSpamListEntry(ctx context.Context, accountID int64, e store.SpamListEntry) error {
	entry := strings.ToLower(e.Entry)
	res, err := s.write.ExecContext(ctx, `INSERT INTO spam_lists (account_id, entry, block)
		SELECT id, ?, ? FROM accounts WHERE id = ? ON CONFLICT (account_id, entry) DO NOTHING`,
		entry, e.Block, accountID)
	if err == nil {
		if err = affectedOne(res); errors.Is(err, store.ErrNotFound) {
			err = s.spamListConflict(ctx, accountID, entry)
		}
	}
	if err != nil {
		return fmt.Errorf("add %s to spam list of account %d: %w", entry, accountID, err)
	}
	return nil
}

// spamListConflict tells why an insert changed nothing: the entry exists, or the account not.
func (s *Store) spamListConflict(ctx context.Context, accountID int64, entry string) error {
	var block bool
	err := s.write.QueryRowContext(ctx, `SELECT block FROM spam_lists WHERE account_id = ? AND entry = ?`,
		accountID, entry).Scan(&block)
	switch {
	case errors.Is(err, sql.ErrNoRows):
		return store.ErrNotFound
	case err != nil:
		return err
	case block:
		return fmt.Errorf("on the block list: %w", store.ErrExists)
	}
	return fmt.Errorf("on the allow list: %w", store.ErrExists)
}

// RemoveSpamListEntry implements store.SpamLists.
func (s *Store) RemoveSpamListEntry(ctx context.Context, accountID int64, e store.SpamListEntry) error {
	entry := strings.ToLower(e.Entry)
	res, err := s.write.ExecContext(ctx, `DELETE FROM spam_lists WHERE account_id = ? AND entry = ? AND block = ?`,
		accountID, entry, e.Block)
	if err == nil {
		err = affectedOne(res)
	}
	if err != nil {
		return fmt.Errorf("remove %s from spam list of account %d: %w", entry, accountID, err)
	}
	return nil
}

// SpamListEntries implements store.SpamLists.
func (s *Store) SpamListEntries(ctx context.Context, accountID int64) ([]store.SpamListEntry, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT entry, block FROM spam_lists WHERE account_id = ?
		ORDER BY block, entry`, accountID)
	if err != nil {
		return nil, fmt.Errorf("spam lists of account %d: %w", accountID, err)
	}
	return collectEntries(rows)
}

// MatchSpamList implements store.SpamLists.
func (s *Store) MatchSpamList(ctx context.Context, accountID int64, keys []string) ([]store.SpamListEntry, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	list, err := json.Marshal(keys)
	if err != nil {
		return nil, err
	}
	rows, err := s.read.QueryContext(ctx, `SELECT entry, block FROM spam_lists WHERE account_id = ?
		AND entry IN (SELECT value FROM json_each(?)) ORDER BY block DESC, entry`, accountID, string(list))
	if err != nil {
		return nil, fmt.Errorf("match spam lists of account %d: %w", accountID, err)
	}
	return collectEntries(rows)
}

func collectEntries(rows *sql.Rows) ([]store.SpamListEntry, error) {
	return collect(rows, func(r scanner) (store.SpamListEntry, error) {
		var e store.SpamListEntry
		return e, r.Scan(&e.Entry, &e.Block)
	})
}

// KnownCorrespondent implements store.Correspondents.
func (s *Store) KnownCorrespondent(ctx context.Context, accountID int64, address string) (known, any bool, err error) {
	err = s.read.QueryRowContext(ctx, `SELECT
		EXISTS (SELECT 1 FROM spam_correspondents WHERE account_id = ?1 AND address = ?2),
		EXISTS (SELECT 1 FROM spam_correspondents WHERE account_id = ?1)`,
		accountID, strings.ToLower(address)).Scan(&known, &any)
	if err != nil {
		return false, false, fmt.Errorf("correspondent of account %d: %w", accountID, err)
	}
	return known, any, nil
}

// NoteCorrespondents implements store.Correspondents; addresses of accounts that no longer
// exist are skipped.
func (s *Store) NoteCorrespondents(ctx context.Context, cs []store.Correspondent) error {
	if len(cs) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		accounts := map[int64]bool{}
		for _, c := range cs {
			if _, err := tx.ExecContext(ctx, `INSERT INTO spam_correspondents (account_id, address, last_seen)
				SELECT id, ?, ? FROM accounts WHERE id = ?
				ON CONFLICT (account_id, address) DO UPDATE SET last_seen = max(last_seen, excluded.last_seen)`,
				strings.ToLower(c.Address), c.At.UnixNano(), c.AccountID); err != nil {
				return err
			}
			accounts[c.AccountID] = true
		}
		for a := range accounts {
			if _, err := tx.ExecContext(ctx, `DELETE FROM spam_correspondents WHERE account_id = ?1
				AND last_seen < (SELECT last_seen FROM spam_correspondents WHERE account_id = ?1
					ORDER BY last_seen DESC LIMIT 1 OFFSET ?2)`, a, store.MaxCorrespondents-1); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("note correspondents: %w", err)
	}
	return nil
}

// PendingJunkMoves implements store.JunkMoveFeed. Consumed moves are deleted, so the pending
// ones are all there are.
func (s *Store) PendingJunkMoves(ctx context.Context, limit int) ([]store.JunkMove, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id, account_id, blob_id, to_junk, at FROM junk_moves
		ORDER BY id LIMIT ?`, limit)
	if err != nil {
		return nil, fmt.Errorf("pending junk moves: %w", err)
	}
	return collect(rows, func(r scanner) (store.JunkMove, error) {
		var m store.JunkMove
		var at int64
		err := r.Scan(&m.ID, &m.AccountID, &m.BlobID, &m.ToJunk, &at)
		m.At = fromNanos(at)
		return m, err
	})
}

// ConsumeJunkMoves implements store.JunkMoveFeed: it trains batch and deletes the moves up
// to throughID in one transaction, and fails if fewer moves are left than expected.
func (s *Store) ConsumeJunkMoves(ctx context.Context, moves []store.JunkMove, batch []store.SpamTraining) error {
	if len(moves) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		through := moves[len(moves)-1].ID
		res, err := tx.ExecContext(ctx, `DELETE FROM junk_moves WHERE id <= ?`, through)
		if err != nil {
			return err
		}
		n, err := res.RowsAffected()
		if err != nil {
			return err
		}
		if n != int64(len(moves)) {
			return store.ErrJunkMovesConsumed
		}
		return trainSpam(ctx, tx, batch)
	})
	if err != nil {
		return fmt.Errorf("consume junk moves: %w", err)
	}
	return nil
}
