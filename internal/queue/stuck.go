package queue

import (
	"context"
	"fmt"
	"time"
)

// DefaultStuckAfter is the shortest StuckAfter default; the default is the longer of it and
// Timeout plus PollInterval, so one slow transaction never looks like a stuck queue.
const DefaultStuckAfter = 15 * time.Minute

// Stuck reports whether the outbound queue is stuck, by the scheduler's clock (Now):
//
//	stuck ⇔ some row that is not held has been due since now−StuckAfter or longer
//	        ∧ no delivery attempt finished (delivered, deferred or bounced) after now−StuckAfter
//
// where the scheduler's Start counts as an attempt that finished, so a server that comes up
// with an old backlog gets StuckAfter to work on it. A deferral is progress: a queue that
// keeps failing is not stuck (posthorn_queue_deliveries_total{result="deferred"} says that
// story); a stuck one has stopped trying — every connection hangs, the loop has died, or the
// rows cannot be read. It costs one index seek per priority class (Store.NextQueueAttempt).
func (s *Scheduler) Stuck(ctx context.Context) (bool, error) {
	// Every row that is not held has a next attempt after the epoch: the earliest is the
	// oldest due one when it is in the past.
	oldest, err := s.Store.NextQueueAttempt(ctx, time.Unix(0, 0))
	if err != nil {
		return false, fmt.Errorf("queue stuck check: %w", err)
	}
	s.progressMu.Lock()
	last := s.lastAttempt
	s.progressMu.Unlock()
	return stuck(s.Now(), oldest, last, s.StuckAfter), nil
}

// stuck is Stuck's rule; oldestDue is zero when no row waits.
func stuck(now, oldestDue, lastAttempt time.Time, after time.Duration) bool {
	if oldestDue.IsZero() {
		return false
	}
	limit := now.Add(-after)
	return !oldestDue.After(limit) && !lastAttempt.After(limit)
}

// attemptFinished records the end of one recipient's attempt with its result (delivered,
// deferred, bounced): for Stuck and for the metrics.
func (s *Scheduler) attemptFinished(result string) {
	now := s.Now()
	s.progressMu.Lock()
	s.lastAttempt = now
	s.progressMu.Unlock()
	if s.Metrics != nil {
		s.Metrics.result(result)
	}
}
