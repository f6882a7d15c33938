package queue

import (
	"context"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"posthorn/internal/maillog"
	"posthorn/internal/store"
)

// failed settles rows that were not delivered, failures[i] for rows[i]: temporary failures are
// deferred (or expire after Lifetime), permanent ones bounce. Every row is released.
func (s *Scheduler) failed(ctx context.Context, rows []store.QueuedMessage, failures []*failure) {
	now := s.Now()
	var bounce []dsnRecipient
	var delayed []dsnRecipient
	var deferred []int64
	for i, q := range rows {
		f := failures[i]
		if !f.Permanent && now.Sub(q.QueuedAt) >= s.Lifetime {
			// RFC 3463 4.4.7: delivery time expired.
			f = &failure{Permanent: true, Expired: true, Code: f.Code, Status: "4.4.7", RemoteMTA: f.RemoteMTA,
				Text: "delivery time expired; last error: " + f.Text}
		}
		if f.Permanent {
			bounce = append(bounce, dsnRecipient{q: q, f: f})
			continue
		}
		next := now.Add(s.backoff(q.Attempts))
		if err := s.Store.QueueDeferred(ctx, q.ID, next, f.Text); err != nil {
			s.Logger.Error("queue: record deferral", "id", q.ID, "err", err)
		}
		s.record(maillog.Event{Event: "deferred", ID: q.BlobID, From: q.Sender, Rcpt: q.Recipient,
			Result: "deferred", Code: replyCode(f), Remote: f.RemoteMTA, Size: q.Size})
		s.attemptFinished("deferred")
		s.Logger.Info("queue: deferred", "id", q.ID, "rcpt", q.Recipient, "attempts", q.Attempts+1,
			"next", next, "err", f.Text)
		s.reportOutcome(ctx, q, outcomeOf(f))
		if !q.DelayNotified && now.Sub(q.QueuedAt) >= s.DelayNotice && s.wants(q, "DELAY") {
			q.NextAttempt = next
			delayed = append(delayed, dsnRecipient{q: q, f: f})
		}
		deferred = append(deferred, q.ID)
	}
	// Released only once the delay notices are recorded: a row read again before that would
	// get a second notice at its next failure.
	s.notifyDelays(ctx, delayed)
	s.release(deferred...)
	s.bounce(ctx, bounce)
}

// backoff is the wait after a row's attempts-th failure (0-based): RetryMin doubled per
// attempt, at most RetryMax, with ±20% jitter.
func (s *Scheduler) backoff(attempts int) time.Duration {
	d := s.RetryMin
	for range min(attempts, 30) {
		d *= 2
		if d >= s.RetryMax {
			d = s.RetryMax
			break
		}
	}
	jitter := 0.8 + 0.4*rand.Float64()
	return time.Duration(float64(d) * jitter)
}

// wants reports whether a row's NOTIFY asks for a notice of kind ("FAILURE" or "DELAY"); RFC
// 3461 §4.1: without NOTIFY, failures and (our choice) delays are reported. The null sender
// never gets one, nor does the VERP sender of a campaign row when the Outcomes hook takes its
// failures.
func (s *Scheduler) wants(q store.QueuedMessage, kind string) bool {
	if q.Sender == "" || q.CampaignRecipient != 0 && s.Outcomes != nil {
		return false
	}
	if q.Notify == "" {
		return true
	}
	for _, n := range strings.Split(strings.ToUpper(q.Notify), ",") {
		if strings.TrimSpace(n) == kind {
			return true
		}
	}
	return false
}

func replyCode(f *failure) string {
	code := f.Status
	if f.Code != 0 {
		code = strings.TrimSpace(strconv.Itoa(f.Code) + " " + f.Status)
	}
	return code
}

// bounce sends the failure notices of permanently failed rows, one per message and sender,
// then removes the rows. A notice that cannot be committed leaves its rows queued, to try again.
func (s *Scheduler) bounce(ctx context.Context, rcpts []dsnRecipient) {
	for _, group := range groupByMessage(rcpts) {
		first := group[0].q
		var notice []dsnRecipient
		for _, r := range group {
			s.record(maillog.Event{Event: "bounced", ID: r.q.BlobID, From: r.q.Sender, Rcpt: r.q.Recipient,
				Result: "bounced", Code: replyCode(r.f), Remote: r.f.RemoteMTA, Size: r.q.Size})
			s.attemptFinished("bounced")
			s.Logger.Info("queue: failed", "id", r.q.ID, "from", r.q.Sender, "rcpt", r.q.Recipient, "err", r.f.Text)
			if s.wants(r.q, "FAILURE") {
				notice = append(notice, r)
			}
		}
		if first.Sender == "" {
			// RFC 5321 §4.5.5, RFC 3461 §6.2: a notice that fails is not bounced.
			s.Logger.Info("queue: dropped an undeliverable delivery status notification", "blob", first.BlobID)
		}
		if len(notice) > 0 {
			if err := s.notify(ctx, dsnFailed, notice); err != nil {
				s.Logger.Error("queue: send failure notice", "blob", first.BlobID, "err", err)
				for _, r := range group {
					if err := s.Store.QueueDeferred(ctx, r.q.ID, s.Now().Add(s.RetryMin), r.f.Text); err != nil {
						s.Logger.Error("queue: record deferral", "id", r.q.ID, "err", err)
					}
					s.release(r.q.ID)
				}
				continue
			}
		}
		// The hook hears of a failure once, when its row leaves the queue.
		for _, r := range group {
			s.reportOutcome(ctx, r.q, outcomeOf(r.f))
		}
		s.done(ctx, ids(rowsOf(group)))
	}
}

// notifyDelays sends one delay notice per message and sender, and records it.
func (s *Scheduler) notifyDelays(ctx context.Context, rcpts []dsnRecipient) {
	for _, group := range groupByMessage(rcpts) {
		if err := s.notify(ctx, dsnDelayed, group); err != nil {
			s.Logger.Error("queue: send delay notice", "blob", group[0].q.BlobID, "err", err)
			continue
		}
		if err := s.Store.QueueDelayNotified(ctx, ids(rowsOf(group))...); err != nil {
			s.Logger.Error("queue: record delay notice", "err", err)
		}
	}
}

func rowsOf(rcpts []dsnRecipient) []store.QueuedMessage {
	out := make([]store.QueuedMessage, len(rcpts))
	for i, r := range rcpts {
		out[i] = r.q
	}
	return out
}

// groupByMessage groups recipients by message and sender, in first-seen order.
func groupByMessage(rcpts []dsnRecipient) [][]dsnRecipient {
	type key struct{ blob, sender string }
	index := map[key]int{}
	var out [][]dsnRecipient
	for _, r := range rcpts {
		k := key{r.q.BlobID, r.q.Sender}
		i, ok := index[k]
		if !ok {
			i = len(out)
			index[k] = i
			out = append(out, nil)
		}
		out[i] = append(out[i], r)
	}
	return out
}
