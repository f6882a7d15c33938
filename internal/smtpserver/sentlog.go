package smtpserver

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"posthorn/internal/store"
)

// sentRecorder writes the sending-limit counts of submitted messages in the background, many
// per transaction, so that a message's 250 does not wait for a write (and an fsync) of its
// own. Until a count is written, pending holds it, and the limit checks add it: they see every
// message accepted before, written or not, exactly once (gate keeps a check from reading
// between a batch's commit and its removal from pending). A crash loses the counts not yet written, which
// only lets the accounts concerned send that much more (see the sending limits in
// submission.go).
type sentRecorder struct {
	store  store.SubmissionStore
	logger *slog.Logger

	gate    sync.RWMutex // held by the writer across a batch, shared by checks (consistent)
	mu      sync.Mutex
	queue   []store.SentRecord
	pending map[int64]int64 // recipients per account, recorded but not yet written
	running bool
	idle    *sync.Cond // signalled when the writer stops
}

func newSentRecorder(st store.SubmissionStore, logger *slog.Logger) *sentRecorder {
	r := &sentRecorder{store: st, logger: logger, pending: map[int64]int64{}}
	r.idle = sync.NewCond(&r.mu)
	return r
}

// record counts a message and starts the writer when none runs.
func (r *sentRecorder) record(rec store.SentRecord) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.queue = append(r.queue, rec)
	r.pending[rec.AccountID] += int64(rec.Recipients)
	if !r.running {
		r.running = true
		go r.write()
	}
}

// unwritten returns the recipients of the account's messages not yet written.
func (r *sentRecorder) unwritten(accountID int64) int64 {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.pending[accountID]
}

// write writes what is queued, batch after batch, until the queue is empty.
func (r *sentRecorder) write() {
	for {
		r.mu.Lock()
		batch := r.queue
		r.queue = nil
		if len(batch) == 0 {
			r.running = false
			r.idle.Broadcast()
			r.mu.Unlock()
			return
		}
		r.mu.Unlock()
		r.gate.Lock()
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		if err := r.store.RecordSent(ctx, batch...); err != nil {
			r.logger.Error("record sent messages", "count", len(batch), "err", err)
		}
		cancel()
		r.mu.Lock()
		for _, rec := range batch {
			if r.pending[rec.AccountID] -= int64(rec.Recipients); r.pending[rec.AccountID] <= 0 {
				delete(r.pending, rec.AccountID)
			}
		}
		r.mu.Unlock()
		r.gate.Unlock()
	}
}

// consistent runs fn, which reads unwritten and the written counts, while no batch is between
// its commit and its removal from pending.
func (r *sentRecorder) consistent(fn func() error) error {
	r.gate.RLock()
	defer r.gate.RUnlock()
	return fn()
}

// flush waits until everything recorded so far is written.
func (r *sentRecorder) flush() {
	r.mu.Lock()
	defer r.mu.Unlock()
	for r.running {
		r.idle.Wait()
	}
}
