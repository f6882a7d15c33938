package spam

import (
	"context"
	"strings"
	"time"

	"posthorn/internal/store"
)

// maxPendingCorrespondents bounds the correspondents buffered between two writes; more are
// dropped (they are noted again with their next message).
const maxPendingCorrespondents = 10000

// noteCorrespondent buffers that an account corresponds with address. Classify notes the
// sender of every message it does not find spam; writing them at once would cost every
// delivery a write transaction, so they wait for FlushCorrespondents.
func (c *Classifier) noteCorrespondent(accountID int64, address string) {
	if c.seen == nil || accountID == 0 || address == "" {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if len(c.pending) < maxPendingCorrespondents {
		c.pending = append(c.pending, store.Correspondent{AccountID: accountID, Address: strings.ToLower(address), At: time.Now()})
	}
}

// NoteSent records that an account sent mail to the addresses, so that their replies are not
// from first-time senders. Submission calls it; the write waits for FlushCorrespondents.
func (c *Classifier) NoteSent(accountID int64, addresses []string) {
	for _, a := range addresses {
		c.noteCorrespondent(accountID, a)
	}
}

// FlushCorrespondents writes the buffered correspondents in one transaction. The Trainer
// calls it on every round.
func (c *Classifier) FlushCorrespondents(ctx context.Context) error {
	c.mu.Lock()
	pending := c.pending
	c.pending = nil
	c.mu.Unlock()
	if len(pending) == 0 {
		return nil
	}
	return c.seen.NoteCorrespondents(ctx, pending)
}
