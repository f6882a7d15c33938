package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"sort"

	"posthorn/internal/store"
)

// UnindexedBlobs implements store.TextBacklog over the partial index blobs_unindexed. A blob
// only the outbound queue refers to (mail to remote recipients only) is left out: it will leave
// the server, and no mailbox can search it.
func (s *Store) UnindexedBlobs(ctx context.Context, after string, limit int) ([]string, error) {
	rows, err := s.read.QueryContext(ctx, `SELECT id FROM blobs WHERE text_doc IS NULL AND id > ?
		AND EXISTS (SELECT 1 FROM messages m WHERE m.blob_id = blobs.id) ORDER BY id LIMIT ?`, after, limit)
	if err != nil {
		return nil, fmt.Errorf("unindexed blobs: %w", err)
	}
	defer rows.Close()
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, fmt.Errorf("unindexed blobs: %w", err)
		}
		ids = append(ids, id)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("unindexed blobs: %w", err)
	}
	return ids, nil
}

// IndexTexts implements store.TextBacklog. The index rows are inserted first, all together (see
// indexTexts for why), then given to the blobs that still exist without text and to their
// message rows; a row no blob took is deleted again, so the index never holds an orphan. The
// message rows change no flag or content a client sees, so no MODSEQ moves.
func (s *Store) IndexTexts(ctx context.Context, texts map[string]store.Text) error {
	if len(texts) == 0 {
		return nil
	}
	ids := make([]string, 0, len(texts))
	for id := range texts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		insert := tx.StmtContext(ctx, s.stmts.insertText)
		docs := make([]int64, len(ids))
		for i, id := range ids {
			res, err := insert.ExecContext(ctx, texts[id].Header, texts[id].Body)
			if err == nil {
				docs[i], err = res.LastInsertId()
			}
			if err != nil {
				return fmt.Errorf("blob %s: %w", id, err)
			}
		}
		setBlob, err := tx.PrepareContext(ctx, `UPDATE blobs SET text_doc = ? WHERE id = ? AND text_doc IS NULL`)
		if err != nil {
			return err
		}
		defer setBlob.Close()
		setMessages, err := tx.PrepareContext(ctx, `UPDATE messages SET text_doc = ? WHERE blob_id = ?`)
		if err != nil {
			return err
		}
		defer setMessages.Close()
		deleteText := tx.StmtContext(ctx, s.stmts.deleteText)
		for i, id := range ids {
			res, err := setBlob.ExecContext(ctx, docs[i], id)
			if err != nil {
				return fmt.Errorf("blob %s: %w", id, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return fmt.Errorf("blob %s: %w", id, err)
			}
			if n == 0 {
				if _, err := deleteText.ExecContext(ctx, docs[i]); err != nil {
					return fmt.Errorf("blob %s: drop unused text row: %w", id, err)
				}
				continue
			}
			if _, err := setMessages.ExecContext(ctx, docs[i], id); err != nil {
				return fmt.Errorf("blob %s: %w", id, err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("index texts: %w", err)
	}
	return nil
}
