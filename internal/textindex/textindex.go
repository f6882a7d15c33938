// Package textindex fills the full-text index (SEARCH BODY and TEXT, RFC 9051 §6.4.4) in the
// background for messages delivered without their text.
//
// SMTP deliveries leave the text out of the delivering transaction: FTS5 trigram inserts cost
// about a millisecond of the single writer's time per KiB of text, which halves durable intake
// when paid before the 250. The Indexer walks the store's backlog (store.TextBacklog) instead:
// it reads a few bodies, extracts their text as delivery would (message.Analyze), and indexes
// them in one short transaction, then rests as long as that transaction took, so that it never
// holds the writer more than half the time while deliveries wait. When the backlog is empty it
// looks again every Interval. Until a message is indexed, IMAP SEARCH reads it instead, so
// answers are the same before and after.
package textindex

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"posthorn/internal/message"
	"posthorn/internal/store"
)

// Bodies opens stored message bodies by id (blob.FS).
type Bodies interface {
	Open(id string) (*os.File, error)
}

// Indexer indexes the backlog. Set Backlog, Bodies and Logger; the rest have defaults.
type Indexer struct {
	Backlog store.TextBacklog
	Bodies  Bodies
	Logger  *slog.Logger
	// MaxBatch is the most bodies indexed in one transaction. Default: 32.
	MaxBatch int
	// MaxBatchText is the most text, in octets, indexed in one transaction. Default: 64 KiB.
	MaxBatchText int
	// Interval is how long an empty backlog is left before looking again. Default: 1 s.
	Interval time.Duration
	// Indexed, when set, is called with the number of bodies of every committed batch.
	Indexed func(n int)
}

func (x *Indexer) defaults() {
	if x.MaxBatch <= 0 {
		x.MaxBatch = 32
	}
	if x.MaxBatchText <= 0 {
		x.MaxBatchText = 64 << 10
	}
	if x.Interval <= 0 {
		x.Interval = time.Second
	}
}

// Run indexes the backlog until ctx is done.
func (x *Indexer) Run(ctx context.Context) {
	x.defaults()
	for {
		n, err := x.IndexBacklog(ctx)
		if ctx.Err() != nil {
			return
		}
		if err != nil {
			x.Logger.Warn("full-text index backlog", "err", err)
		}
		if n == 0 || err != nil {
			select {
			case <-ctx.Done():
				return
			case <-time.After(x.Interval):
			}
		}
	}
}

// IndexBacklog makes one pass over the backlog and returns how many bodies it indexed. A body
// that cannot be read is logged and left for the next pass.
func (x *Indexer) IndexBacklog(ctx context.Context) (int, error) {
	x.defaults()
	total := 0
	after := ""
	for {
		ids, err := x.Backlog.UnindexedBlobs(ctx, after, x.MaxBatch)
		if err != nil || len(ids) == 0 {
			return total, err
		}
		after = ids[len(ids)-1]
		texts := map[string]store.Text{}
		size := 0
		for _, id := range ids {
			text, err := x.extract(id)
			if err != nil {
				x.Logger.Warn("full-text index: read body", "blob", id, "err", err)
				continue
			}
			texts[id] = text
			size += len(text.Header) + len(text.Body)
			if size >= x.MaxBatchText {
				after = id
				break
			}
		}
		start := time.Now()
		if err := x.Backlog.IndexTexts(ctx, texts); err != nil {
			return total, err
		}
		total += len(texts)
		if x.Indexed != nil && len(texts) > 0 {
			x.Indexed(len(texts))
		}
		// Rest as long as the writer was held, so deliveries get it at least half the time.
		select {
		case <-ctx.Done():
			return total, ctx.Err()
		case <-time.After(time.Since(start)):
		}
	}
}

// extract reads one body's searchable text.
func (x *Indexer) extract(id string) (text store.Text, err error) {
	body, err := x.Bodies.Open(id)
	if err != nil {
		return text, err
	}
	defer func() {
		if cerr := body.Close(); cerr != nil && err == nil {
			err = cerr
		}
	}()
	info, err := body.Stat()
	if err != nil {
		return text, err
	}
	parsed, err := message.Parse(body, info.Size())
	if err != nil {
		return text, fmt.Errorf("parse: %w", err)
	}
	t, err := message.ExtractText(body, parsed.Root)
	if err != nil {
		return text, fmt.Errorf("extract text: %w", err)
	}
	return store.Text{Header: t.Header, Body: t.Body}, nil
}
