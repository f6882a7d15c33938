package postgres

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/store"
)

// The spam classifier's tables: models and token counts, the class each trained message was
// given, allow and block lists, correspondents, and the junk moves the trainer consumes.
//
// Trainings from several nodes (TrainSpam, ConsumeJunkMoves) take the transaction-scoped
// advisory lock spamTrainLock first: every training changes the global model, so they are
// serialised by its row anyway, and taking the lock before any token row means two trainings
// never lock tokens in opposite orders (a deadlock). The token writes of a training go to the
// server in one round trip (a pgx batch).

var (
	_ store.SpamModel      = (*Store)(nil)
	_ store.SpamLists      = (*Store)(nil)
	_ store.Correspondents = (*Store)(nil)
	_ store.JunkMoveFeed   = (*Store)(nil)
)

// globalModel is the id of the global model's row.
const globalModel = 1

// spamTrainLock is the advisory lock key trainings take ("spamtrai" in ASCII).
const spamTrainLock int64 = 0x7370616d74726169

// SpamTotals implements store.SpamModel.
func (s *Store) SpamTotals(ctx context.Context, accountID int64) (global, account store.SpamCounts, err error) {
	rows, err := s.pool.Query(ctx, `SELECT coalesce(account_id, 0), spam, ham FROM spam_models
		WHERE id = $1 OR account_id = $2`, globalModel, accountID)
	if err != nil {
		return global, account, fmt.Errorf("spam totals: %w", err)
	}
	var acc int64
	var c store.SpamCounts
	_, err = pgx.ForEachRow(rows, []any{&acc, &c.Spam, &c.Ham}, func() error {
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

// SpamTokens implements store.SpamModel: one query for both models, the tokens as an array
// (a token is its 64-bit hash stored as a signed integer).
func (s *Store) SpamTokens(ctx context.Context, accountID int64, tokens []uint64) (global, account map[uint64]store.SpamCounts, err error) {
	global, account = map[uint64]store.SpamCounts{}, map[uint64]store.SpamCounts{}
	if len(tokens) == 0 {
		return global, account, nil
	}
	ids := make([]int64, len(tokens))
	for i, t := range tokens {
		ids[i] = int64(t)
	}
	rows, err := s.pool.Query(ctx, `SELECT m.account_id IS NULL, t.token, t.spam, t.ham
		FROM spam_models m JOIN spam_tokens t ON t.model_id = m.id
		WHERE (m.id = $1 OR m.account_id = $2) AND t.token = ANY($3)`, globalModel, accountID, ids)
	if err != nil {
		return nil, nil, fmt.Errorf("spam tokens: %w", err)
	}
	var isGlobal bool
	var tok int64
	var c store.SpamCounts
	_, err = pgx.ForEachRow(rows, []any{&isGlobal, &tok, &c.Spam, &c.Ham}, func() error {
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
	if err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error { return trainSpam(ctx, tx, batch) }); err != nil {
		return fmt.Errorf("train spam model: %w", err)
	}
	return nil
}

func trainSpam(ctx context.Context, tx pgx.Tx, batch []store.SpamTraining) error {
	if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock($1)`, spamTrainLock); err != nil {
		return fmt.Errorf("take training lock: %w", err)
	}
	deltas, err := store.SpamDeltas(batch,
		func(tr store.SpamTraining) (int, error) { return recordedClass(ctx, tx, tr) },
		func(tr store.SpamTraining) error { return recordClass(ctx, tx, tr) })
	if err != nil {
		return err
	}
	accounts := make([]int64, 0, len(deltas))
	for a := range deltas {
		accounts = append(accounts, a)
	}
	slices.Sort(accounts)
	for _, account := range accounts {
		if err := applyDelta(ctx, tx, account, deltas[account]); err != nil {
			return err
		}
	}
	return nil
}

// applyDelta writes one model's changes: its totals, then its tokens in one batch, counts
// never below zero, and the token rows left at zero deleted.
func applyDelta(ctx context.Context, tx pgx.Tx, account int64, d *store.SpamDelta) error {
	model, err := modelID(ctx, tx, account)
	if err != nil {
		return err
	}
	if _, err := tx.Exec(ctx, `UPDATE spam_models SET spam = greatest(0, spam + $1), ham = greatest(0, ham + $2)
		WHERE id = $3`, d.Totals.Spam, d.Totals.Ham, model); err != nil {
		return err
	}
	var b pgx.Batch
	var pruned []int64
	for tok, c := range d.Tokens {
		if c == (store.SpamCounts{}) {
			continue
		}
		b.Queue(`INSERT INTO spam_tokens (model_id, token, spam, ham) VALUES ($1, $2, greatest(0, $3::bigint), greatest(0, $4::bigint))
			ON CONFLICT (model_id, token) DO UPDATE
			SET spam = greatest(0, spam_tokens.spam + $3::bigint), ham = greatest(0, spam_tokens.ham + $4::bigint)`,
			model, int64(tok), c.Spam, c.Ham)
		if c.Spam < 0 || c.Ham < 0 {
			pruned = append(pruned, int64(tok))
		}
	}
	if len(pruned) > 0 {
		b.Queue(`DELETE FROM spam_tokens WHERE model_id = $1 AND token = ANY($2) AND spam = 0 AND ham = 0`, model, pruned)
	}
	if b.Len() == 0 {
		return nil
	}
	if err := tx.SendBatch(ctx, &b).Close(); err != nil {
		return fmt.Errorf("tokens of model %d: %w", model, err)
	}
	return nil
}

// modelID returns the id of an account's model (0: the global one), creating it.
func modelID(ctx context.Context, tx pgx.Tx, account int64) (int64, error) {
	if account == 0 {
		return globalModel, nil
	}
	var id int64
	err := tx.QueryRow(ctx, `INSERT INTO spam_models (account_id) VALUES ($1)
		ON CONFLICT (account_id) DO UPDATE SET account_id = excluded.account_id RETURNING id`, account).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("model of account %d: %w", account, err)
	}
	return id, nil
}

// recordedClass returns the class recorded for tr's message: 1 spam, -1 ham, 0 none.
func recordedClass(ctx context.Context, tx pgx.Tx, tr store.SpamTraining) (int, error) {
	var spam bool
	err := tx.QueryRow(ctx, `SELECT spam FROM spam_trained WHERE account_id = $1 AND blob_id = $2`,
		tr.AccountID, tr.BlobID).Scan(&spam)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
		return 0, nil
	case err != nil:
		return 0, err
	case spam:
		return 1, nil
	}
	return -1, nil
}

// recordClass stores tr's outcome for its message.
func recordClass(ctx context.Context, tx pgx.Tx, tr store.SpamTraining) error {
	if tr.Forget {
		_, err := tx.Exec(ctx, `DELETE FROM spam_trained WHERE account_id = $1 AND blob_id = $2`, tr.AccountID, tr.BlobID)
		return err
	}
	_, err := tx.Exec(ctx, `INSERT INTO spam_trained (account_id, blob_id, spam) VALUES ($1, $2, $3)
		ON CONFLICT (account_id, blob_id) DO UPDATE SET spam = excluded.spam`, tr.AccountID, tr.BlobID, tr.Spam)
	return err
}

// AddSpamListEntry implements store.SpamLists.
func (s *Store) AddSpamListEntry(ctx context.Context, accountID int64, e store.SpamListEntry) error {
	entry := strings.ToLower(e.Entry)
	tag, err := s.pool.Exec(ctx, `INSERT INTO spam_lists (account_id, entry, block)
		SELECT id, $1, $2 FROM accounts WHERE id = $3 ON CONFLICT (account_id, entry) DO NOTHING`,
		entry, e.Block, accountID)
	if err = changedOne(tag, err); errors.Is(err, store.ErrNotFound) {
		err = s.spamListConflict(ctx, accountID, entry)
	}
	if err != nil {
		return fmt.Errorf("add %s to spam list of account %d: %w", entry, accountID, err)
	}
	return nil
}

// spamListConflict tells why an insert changed nothing: the entry exists, or the account not.
func (s *Store) spamListConflict(ctx context.Context, accountID int64, entry string) error {
	var block bool
	err := s.pool.QueryRow(ctx, `SELECT block FROM spam_lists WHERE account_id = $1 AND entry = $2`,
		accountID, entry).Scan(&block)
	switch {
	case errors.Is(err, pgx.ErrNoRows):
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
	tag, err := s.pool.Exec(ctx, `DELETE FROM spam_lists WHERE account_id = $1 AND entry = $2 AND block = $3`,
		accountID, entry, e.Block)
	if err := changedOne(tag, err); err != nil {
		return fmt.Errorf("remove %s from spam list of account %d: %w", entry, accountID, err)
	}
	return nil
}

// SpamListEntries implements store.SpamLists.
func (s *Store) SpamListEntries(ctx context.Context, accountID int64) ([]store.SpamListEntry, error) {
	out, err := s.spamListQuery(ctx, `SELECT entry, block FROM spam_lists WHERE account_id = $1
		ORDER BY block, entry`, accountID)
	if err != nil {
		return nil, fmt.Errorf("spam lists of account %d: %w", accountID, err)
	}
	return out, nil
}

// MatchSpamList implements store.SpamLists.
func (s *Store) MatchSpamList(ctx context.Context, accountID int64, keys []string) ([]store.SpamListEntry, error) {
	if len(keys) == 0 {
		return nil, nil
	}
	out, err := s.spamListQuery(ctx, `SELECT entry, block FROM spam_lists WHERE account_id = $1
		AND entry = ANY($2) ORDER BY block DESC, entry`, accountID, keys)
	if err != nil {
		return nil, fmt.Errorf("match spam lists of account %d: %w", accountID, err)
	}
	return out, nil
}

func (s *Store) spamListQuery(ctx context.Context, query string, args ...any) ([]store.SpamListEntry, error) {
	rows, err := s.pool.Query(ctx, query, args...)
	if err != nil {
		return nil, err
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.SpamListEntry, error) {
		var e store.SpamListEntry
		return e, r.Scan(&e.Entry, &e.Block)
	})
}

// KnownCorrespondent implements store.Correspondents.
func (s *Store) KnownCorrespondent(ctx context.Context, accountID int64, address string) (known, any bool, err error) {
	err = s.pool.QueryRow(ctx, `SELECT
		EXISTS (SELECT 1 FROM spam_correspondents WHERE account_id = $1 AND address = $2),
		EXISTS (SELECT 1 FROM spam_correspondents WHERE account_id = $1)`,
		accountID, strings.ToLower(address)).Scan(&known, &any)
	if err != nil {
		return false, false, fmt.Errorf("correspondent of account %d: %w", accountID, err)
	}
	return known, any, nil
}

// NoteCorrespondents implements store.Correspondents in one round trip (a pgx batch);
// addresses of accounts that no longer exist are skipped. The rows are written in (account,
// address) order, so two nodes noting the same correspondents cannot deadlock.
func (s *Store) NoteCorrespondents(ctx context.Context, cs []store.Correspondent) error {
	if len(cs) == 0 {
		return nil
	}
	sorted := slices.Clone(cs)
	for i := range sorted {
		sorted[i].Address = strings.ToLower(sorted[i].Address)
	}
	slices.SortFunc(sorted, func(a, b store.Correspondent) int {
		if a.AccountID != b.AccountID {
			return int(a.AccountID - b.AccountID)
		}
		return strings.Compare(a.Address, b.Address)
	})
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		var b pgx.Batch
		var accounts []int64
		for _, c := range sorted {
			b.Queue(`INSERT INTO spam_correspondents (account_id, address, last_seen)
				SELECT id, $1, $2 FROM accounts WHERE id = $3
				ON CONFLICT (account_id, address) DO UPDATE
				SET last_seen = greatest(spam_correspondents.last_seen, excluded.last_seen)`,
				c.Address, c.At.UnixNano(), c.AccountID)
			if len(accounts) == 0 || accounts[len(accounts)-1] != c.AccountID {
				accounts = append(accounts, c.AccountID)
			}
		}
		for _, a := range accounts {
			b.Queue(`DELETE FROM spam_correspondents WHERE account_id = $1
				AND last_seen < (SELECT last_seen FROM spam_correspondents WHERE account_id = $1
					ORDER BY last_seen DESC LIMIT 1 OFFSET $2)`, a, store.MaxCorrespondents-1)
		}
		return tx.SendBatch(ctx, &b).Close()
	})
	if err != nil {
		return fmt.Errorf("note correspondents: %w", err)
	}
	return nil
}

// PendingJunkMoves implements store.JunkMoveFeed. Consumed moves are deleted, so the pending
// ones are all there are.
func (s *Store) PendingJunkMoves(ctx context.Context, limit int) ([]store.JunkMove, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, account_id, blob_id, to_junk, at FROM junk_moves
		ORDER BY id LIMIT $1`, limit)
	if err != nil {
		return nil, fmt.Errorf("pending junk moves: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (store.JunkMove, error) {
		var m store.JunkMove
		var at int64
		err := r.Scan(&m.ID, &m.AccountID, &m.BlobID, &m.ToJunk, &at)
		m.At = fromNanos(at)
		return m, err
	})
	if err != nil {
		return nil, fmt.Errorf("pending junk moves: %w", err)
	}
	return out, nil
}

// ConsumeJunkMoves implements store.JunkMoveFeed: it deletes the moves up to the last one's id
// and trains batch in one transaction, and fails if fewer moves were left than expected. A
// trainer deleting the same moves at once waits for the first one's commit and then finds
// them gone.
func (s *Store) ConsumeJunkMoves(ctx context.Context, moves []store.JunkMove, batch []store.SpamTraining) error {
	if len(moves) == 0 {
		return nil
	}
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `DELETE FROM junk_moves WHERE id <= $1`, moves[len(moves)-1].ID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != int64(len(moves)) {
			return store.ErrJunkMovesConsumed
		}
		return trainSpam(ctx, tx, batch)
	})
	if err != nil {
		return fmt.Errorf("consume junk moves: %w", err)
	}
	return nil
}
