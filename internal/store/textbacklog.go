package store

import "context"

// TextBacklog is implemented by stores whose full-text index can be filled after delivery.
// Deliveries that come without Text (SMTP: indexing in the delivering transaction would halve
// intake) are indexed later, in the background, by internal/textindex; until then SearchText
// reports them as unindexed and the IMAP server reads them.
type TextBacklog interface {
	// UnindexedBlobs returns up to limit ids of stored bodies that have no indexed text, in id
	// order, starting after the id after ("" for the first).
	UnindexedBlobs(ctx context.Context, after string, limit int) ([]string, error)
	// IndexTexts indexes the text of each blob id given and gives it to every message row of
	// that blob, in one transaction. A blob that is gone meanwhile, or already indexed, is
	// skipped.
	IndexTexts(ctx context.Context, texts map[string]Text) error
}
