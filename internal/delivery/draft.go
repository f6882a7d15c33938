package delivery

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"posthorn/internal/bodystore"
	"posthorn/internal/message"
	"posthorn/internal/store"
)

// ErrDraftDone is returned by a Draft's Write and Commit after it was committed or aborted.
var ErrDraftDone = errors.New("message draft already committed or aborted")

// Draft is a new message's body while it is written: created by Committer.NewDraft, written
// by one goroutine, then committed or aborted. It is not safe for concurrent use.
type Draft struct {
	c    *Committer
	body bodystore.Writer
	done bool // committed, handed to the committer, or aborted: body is not ours any more
}

// Message says where a committed draft goes.
type Message struct {
	// InternalDate is the IMAP internal date (RFC 9051 §2.3.3); zero: the time of the commit.
	InternalDate time.Time
	Targets      []store.Target   // local mailboxes, one copy each
	Outbound     []store.Outbound // queued for remote recipients, in the same transaction
	// IndexText puts the message's text in the full-text index in the commit's transaction,
	// for a message a user files himself (APPEND), who may search for it at once. Without it,
	// internal/textindex indexes the message shortly after: FTS5 inserts cost about 1 ms of the
	// single writer's time per KiB of text, which would halve durable intake of SMTP deliveries
	// if done in their transaction; until then IMAP SEARCH answers it by reading it.
	IndexText bool
	// Parsed is the message's parse (message.Parse's result for the very octets written),
	// when the writer has it already: SMTP's inbound filter parses the message once for its
	// checks and for the commit. nil, or one whose size is not the draft's: Commit parses the
	// body.
	Parsed *message.Parsed
}

// Committed is what a successful commit made.
type Committed struct {
	BodyID string // the body's id in the body store
	Size   int64  // octets
	// MessageID is the message's Message-ID without its angle brackets, "" when it has none.
	MessageID string
	// Delivered has one entry per Message.Targets entry, in order.
	Delivered []store.Delivered
}

// NewDraft starts a new message body in the body store.
func (c *Committer) NewDraft(ctx context.Context) (*Draft, error) {
	w, err := c.bodies.Create(ctx)
	if err != nil {
		return nil, fmt.Errorf("create message body: %w", err)
	}
	return &Draft{c: c, body: w}, nil
}

// ID is the id the body will have once committed (SMTP names it in the Received header).
func (d *Draft) ID() string { return d.body.ID() }

// Size is the number of octets written so far.
func (d *Draft) Size() int64 { return d.body.Size() }

// Write appends to the body.
func (d *Draft) Write(p []byte) (int, error) {
	if d.done {
		return 0, ErrDraftDone
	}
	return d.body.Write(p)
}

// Commit analyses the message, makes it durable and commits its rows to m's targets and the
// outbound queue, with group commit (see the package doc). It returns only once the message is
// on disk, or has failed; on failure the body is deleted and nothing of it is visible. The
// draft is done either way: a later Abort does nothing.
func (d *Draft) Commit(ctx context.Context, m Message) (Committed, error) {
	if d.done {
		return Committed{}, ErrDraftDone
	}
	d.done = true // from here on the body is the committer's, or deleted
	parsed := m.Parsed
	if parsed == nil || parsed.Size != d.body.Size() {
		var err error
		if parsed, err = message.Parse(d.body, d.body.Size()); err != nil {
			// The parser never refuses a message; an error here is an I/O error.
			return Committed{}, errors.Join(fmt.Errorf("analyze message: %w", err), d.body.Abort())
		}
	}
	env, structure, err := parsed.Marshal()
	if err != nil {
		return Committed{}, errors.Join(fmt.Errorf("analyze message: %w", err), d.body.Abort())
	}
	row := store.Delivery{InternalDate: m.InternalDate, Envelope: env, Structure: structure,
		Targets: m.Targets, Outbound: m.Outbound}
	if row.InternalDate.IsZero() {
		row.InternalDate = time.Now()
	}
	if m.IndexText {
		text, err := message.ExtractText(d.body, parsed.Root)
		if err != nil {
			return Committed{}, errors.Join(fmt.Errorf("extract message text: %w", err), d.body.Abort())
		}
		row.Text = &store.Text{Header: text.Header, Body: text.Body}
	}
	id, size := d.body.ID(), d.body.Size()
	delivered, err := d.c.commit(ctx, d.body, row)
	if err != nil {
		return Committed{}, err
	}
	return Committed{BodyID: id, Size: size, MessageID: strings.Trim(parsed.Envelope.MessageID, "<> "),
		Delivered: delivered}, nil
}

// Abort deletes the body of a draft that will not be committed. It is a no-op on a draft
// already committed or aborted, so it can be deferred right after NewDraft. A failure to
// delete is logged: it only leaves an unreferenced body, which the orphan sweep removes.
func (d *Draft) Abort() {
	if d.done {
		return
	}
	d.done = true
	if err := d.body.Abort(); err != nil {
		d.c.logger.Warn("delete aborted message body", "body", d.body.ID(), "err", err)
	}
}
