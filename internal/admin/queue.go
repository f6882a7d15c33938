package admin

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"posthorn/internal/audit"
	"posthorn/internal/operr"
	"posthorn/internal/store"
)

// The queue operations change the rows directly: a running server notices rows made due within
// a quarter of a second, and checks a row is neither held nor deleted before sending it.

// queueStore returns the store's outbound queue.
func (a *Admin) queueStore() (store.QueueStore, error) {
	qs, ok := a.Store.(store.QueueStore)
	if !ok {
		return nil, &operr.Error{Code: operr.Unsupported, Message: "this store has no outbound queue"}
	}
	return qs, nil
}

// ListQueue returns every queued recipient, oldest first.
func (a *Admin) ListQueue(ctx context.Context) ([]store.QueuedMessage, error) {
	qs, err := a.queueStore()
	if err != nil {
		return nil, err
	}
	return qs.ListQueue(ctx)
}

// RetryAllQueued makes every queued recipient that is not held due now, as Postfix's
// postqueue -f, and counts them.
func (a *Admin) RetryAllQueued(ctx context.Context) (int64, error) {
	qs, err := a.queueStore()
	if err != nil {
		return 0, err
	}
	n, err := qs.RetryAllQueued(ctx, time.Now())
	if err != nil {
		return 0, err
	}
	return n, a.record(ctx, "queue.retry_all", "", audit.Details{"count": n})
}

// GetQueued returns one queued recipient.
func (a *Admin) GetQueued(ctx context.Context, id int64) (store.QueuedMessage, error) {
	var q store.QueuedMessage
	err := a.queued(ctx, id, func(qs store.QueueStore) (err error) {
		q, err = qs.GetQueued(ctx, id)
		return err
	})
	return q, err
}

// RetryQueued makes a queued recipient due now, releasing it if held.
func (a *Admin) RetryQueued(ctx context.Context, id int64) error {
	if err := a.queued(ctx, id, func(qs store.QueueStore) error { return qs.RetryQueued(ctx, id, time.Now()) }); err != nil {
		return err
	}
	return a.record(ctx, "queue.retry", strconv.FormatInt(id, 10), nil)
}

// HoldQueued holds a queued recipient (it is not attempted until released) or releases it.
func (a *Admin) HoldQueued(ctx context.Context, id int64, held bool) error {
	if err := a.queued(ctx, id, func(qs store.QueueStore) error { return qs.SetQueueHeld(ctx, id, held) }); err != nil {
		return err
	}
	action := "queue.release"
	if held {
		action = "queue.hold"
	}
	return a.record(ctx, action, strconv.FormatInt(id, 10), nil)
}

// DeleteQueued deletes a queued recipient without delivering it or notifying the sender, and
// the message body when no other row needs it.
func (a *Admin) DeleteQueued(ctx context.Context, id int64) error {
	err := a.queued(ctx, id, func(qs store.QueueStore) error {
		gone, err := qs.QueueDone(ctx, id)
		if err != nil {
			return err
		}
		for _, b := range gone {
			if err := a.Blobs.Remove(b); err != nil {
				return fmt.Errorf("remove message body %s: %w", b, err)
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	return a.record(ctx, "queue.delete", strconv.FormatInt(id, 10), nil)
}

// queued runs fn on the queue for the row id; an unknown id is a clear error.
func (a *Admin) queued(ctx context.Context, id int64, fn func(store.QueueStore) error) error {
	if id <= 0 {
		return operr.New(operr.Invalid, "id", strconv.FormatInt(id, 10), nil, "queue id %d: want a positive number", id)
	}
	qs, err := a.queueStore()
	if err != nil {
		return err
	}
	if err := fn(qs); errors.Is(err, store.ErrNotFound) {
		return operr.New(operr.NotFound, "id", strconv.FormatInt(id, 10), err,
			"no queued message with id %d (delivered, bounced or deleted?)", id)
	} else if err != nil {
		return err
	}
	return nil
}
