// Package delivery is the one owner of a new message's body and rows: it creates the body,
// analyses it, makes it durable, commits it to local mailboxes and the outbound queue, or
// aborts it. Every path that stores a message (SMTP DATA and BDAT, submission, IMAP APPEND, the
// queue's delivery status notifications, internal/importer) goes the same way:
//
//	draft, err := committer.NewDraft(ctx) // a new body in the body store
//	defer draft.Abort()                    // no-op once committed; deletes the body otherwise
//	... write the message into draft ...
//	committed, err := draft.Commit(ctx, delivery.Message{Targets: ..., Outbound: ...})
//
// The writer never sees the body store's types (internal/bodystore): a protocol server knows
// a Draft, and a bodystore.Bodies to read committed bodies, so the store behind them (files
// today, internal/blob) can change without touching it.
//
// Draft.Commit parses the message in the caller's goroutine (message.Parse: the envelope and
// body structure IMAP serves from then on, computed once; the searchable text too with
// Message.IndexText), unless the writer hands in its parse (Message.Parsed: SMTP's inbound
// filter parses the message once for its checks and the commit), then hands it to the
// committer. One committer goroutine takes every
// commit that is waiting, makes all their bodies durable together (bodystore.Store.SyncAll:
// for files, one sync — syncfs of the blob filesystem — however many bodies), writes all their rows
// in one store transaction (one WAL fsync), and only then releases every caller. So the cost
// of fsync is shared by all concurrent deliveries instead of paid by each, and nothing is
// acknowledged before it is on disk (invariant 1 of the design).
//
// If the batch transaction fails (an account removed while its mail was in flight, say), each
// delivery of the batch is retried alone, so one bad delivery cannot fail the others. A body
// whose commit failed is deleted: nothing of it is visible.
package delivery

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"

	"posthorn/internal/bodystore"
	"posthorn/internal/store"
)

// MaxBatch is the most deliveries committed in one transaction.
const MaxBatch = 256

// ErrClosed is returned by Commit after Close.
var ErrClosed = errors.New("delivery committer closed")

// Committer serialises deliveries into group commits. Create it with New; it runs until Close.
type Committer struct {
	store  store.Store
	bodies bodystore.Store
	logger *slog.Logger

	requests chan *request
	quit     chan struct{}
	done     chan struct{}
	closing  sync.Once
	// BatchSizes, when set, is called with the size of every committed batch (for metrics).
	BatchSizes func(n int)
}

type request struct {
	body     bodystore.Writer
	delivery store.Delivery
	result   chan result
}

type result struct {
	delivered []store.Delivered
	err       error
}

// New starts a committer over a metadata store and a body store.
func New(st store.Store, bodies bodystore.Store, logger *slog.Logger) *Committer {
	c := &Committer{
		store:    st,
		bodies:   bodies,
		logger:   logger,
		requests: make(chan *request),
		quit:     make(chan struct{}),
		done:     make(chan struct{}),
	}
	go c.run()
	return c
}

// commit makes body durable and delivers it to d.Targets and d.Outbound; d.BlobID and d.Size
// are filled in from body. On success body is closed and the message is committed; on error
// body is deleted and nothing of it is visible. commit owns body from the call on.
func (c *Committer) commit(ctx context.Context, body bodystore.Writer, d store.Delivery) ([]store.Delivered, error) {
	d.BlobID = body.ID()
	d.Size = body.Size()
	req := &request{body: body, delivery: d, result: make(chan result, 1)}
	select {
	case c.requests <- req:
	case <-c.quit:
		return nil, errors.Join(ErrClosed, body.Abort())
	case <-ctx.Done():
		return nil, errors.Join(ctx.Err(), body.Abort())
	}
	// Once taken, a request is always answered: the commit cannot be half-done for the caller.
	r := <-req.result
	return r.delivered, r.err
}

// Close stops the committer after the batch in progress; later commits fail with ErrClosed.
func (c *Committer) Close() {
	c.closing.Do(func() { close(c.quit) })
	<-c.done
}

func (c *Committer) run() {
	defer close(c.done)
	for {
		var first *request
		select {
		case first = <-c.requests:
		case <-c.quit:
			return
		}
		batch := []*request{first}
	drain:
		for len(batch) < MaxBatch {
			select {
			case r := <-c.requests:
				batch = append(batch, r)
			default:
				break drain
			}
		}
		c.commitBatch(batch)
	}
}

func (c *Committer) commitBatch(batch []*request) {
	ctx := context.Background()
	bodies := make([]bodystore.Writer, len(batch))
	for i, r := range batch {
		bodies[i] = r.body
	}
	if err := c.bodies.SyncAll(ctx, bodies); err != nil {
		c.finish(batch, nil, fmt.Errorf("make message bodies durable: %w", err))
		return
	}
	deliveries := make([]store.Delivery, len(batch))
	for i, r := range batch {
		deliveries[i] = r.delivery
	}
	delivered, err := c.store.Deliver(ctx, deliveries)
	if err == nil {
		if c.BatchSizes != nil {
			c.BatchSizes(len(batch))
		}
		c.finish(batch, delivered, nil)
		return
	}
	if len(batch) == 1 {
		c.finish(batch, nil, err)
		return
	}
	c.logger.Warn("batch delivery failed, retrying one by one", "size", len(batch), "err", err)
	for _, r := range batch {
		one, err := c.store.Deliver(ctx, []store.Delivery{r.delivery})
		c.finish([]*request{r}, one, err)
	}
}

// finish answers every request: closes committed bodies, deletes failed ones.
func (c *Committer) finish(batch []*request, delivered [][]store.Delivered, err error) {
	for i, r := range batch {
		if err != nil {
			if aerr := r.body.Abort(); aerr != nil {
				c.logger.Error("delete uncommitted body", "blob", r.body.ID(), "err", aerr)
			}
			r.result <- result{err: err}
			continue
		}
		if cerr := r.body.Close(); cerr != nil {
			c.logger.Error("close committed body", "blob", r.body.ID(), "err", cerr)
		}
		r.result <- result{delivered: delivered[i]}
	}
}
