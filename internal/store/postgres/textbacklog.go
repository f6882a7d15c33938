package postgres

import (
	"context"
	"fmt"
	"sort"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"posthorn/internal/store"
)

// UnindexedBlobs implements store.TextBacklog over the partial index blobs_unindexed. A blob
// only the outbound queue refers to is left out: no mailbox can search it.
func (s *Store) UnindexedBlobs(ctx context.Context, after string, limit int) ([]string, error) {
	rows, _ := s.pool.Query(ctx, `SELECT id FROM blobs WHERE text_doc IS NULL AND id > $1
		AND EXISTS (SELECT 1 FROM messages m WHERE m.blob_id = blobs.id) ORDER BY id LIMIT $2`, after, limit)
	ids, err := pgx.CollectRows(rows, scanString)
	if err != nil {
		return nil, fmt.Errorf("unindexed blobs: %w", err)
	}
	return ids, nil
}

// IndexTexts implements store.TextBacklog. The text rows are inserted first, then given, in
// blob id order, to the blobs that still exist without text and to their message rows; a row
// no blob took is deleted again, so the index never holds an orphan. The blob row is updated
// (locked) before its message rows, as every writer does (see dropBlobRefs). The message rows
// change no flag or content a client sees, so no MODSEQ moves.
func (s *Store) IndexTexts(ctx context.Context, texts map[string]store.Text) error {
	if len(texts) == 0 {
		return nil
	}
	ids := make([]string, 0, len(texts))
	for id := range texts {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	err := s.inTx(ctx, func(tx pgx.Tx) error {
		docs := make([]int64, len(ids))
		var insert pgx.Batch
		for i, id := range ids {
			insert.Queue(`INSERT INTO message_text (header, body) VALUES ($1, $2) RETURNING id`,
				strings.ToLower(texts[id].Header), strings.ToLower(texts[id].Body)).Fn = func(br pgx.BatchResults) error {
				if err := br.QueryRow().Scan(&docs[i]); err != nil {
					return fmt.Errorf("blob %s: %w", id, err)
				}
				return nil
			}
		}
		if err := sendBatch(ctx, tx, &insert); err != nil {
			return err
		}
		var set pgx.Batch
		var unused []int64
		for i, id := range ids {
			queueExecCheck(&set, "blob "+id, func(tag pgconn.CommandTag) error {
				if tag.RowsAffected() == 0 {
					unused = append(unused, docs[i])
				}
				return nil
			}, `UPDATE blobs SET text_doc = $1 WHERE id = $2 AND text_doc IS NULL`, docs[i], id)
			// Changes nothing when the blob kept its text: its messages carry that one already.
			queueExec(&set, "messages of blob "+id, `UPDATE messages SET text_doc = $1 WHERE blob_id = $2
				AND EXISTS (SELECT 1 FROM blobs WHERE id = $2 AND text_doc = $1)`, docs[i], id)
		}
		if err := sendBatch(ctx, tx, &set); err != nil {
			return err
		}
		if len(unused) > 0 {
			if _, err := tx.Exec(ctx, `DELETE FROM message_text WHERE id = ANY($1)`, unused); err != nil {
				return fmt.Errorf("drop unused text rows: %w", err)
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("index texts: %w", err)
	}
	return nil
}
