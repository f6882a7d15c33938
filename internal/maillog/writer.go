package maillog

import (
	"context"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"
)

// EventStore is where a Writer puts its batches: the server's store, adapted by package app
// (maillog names no store, being below it).
type EventStore interface {
	AddMailEvents(ctx context.Context, batch []Entry) error
}

// WriterOptions tune a Writer; zero fields take the defaults.
type WriterOptions struct {
	// Interval is how long an event waits at most before its batch is written. Default: 200 ms.
	Interval time.Duration
	// MaxBatch is the most events in one write; a full batch is written at once. Default: 500.
	MaxBatch int
	// QueueSize is how many events may wait for the writer; more are dropped. Default: 10,000.
	QueueSize int
	// WriteTimeout bounds one write to the store. Default: 5 s.
	WriteTimeout time.Duration
}

// Writer is the Recorder of the server: Add puts an event in a bounded queue and returns at
// once; one goroutine writes what waits every Interval or whenever MaxBatch events wait, in
// one call to the store. The mail never waits for it: when the queue is full (the store slow
// or stuck) an event is dropped, and when a write fails its batch is dropped, both counted
// by Dropped; the log line has been written either way. Close writes what is left.
type Writer struct {
	store  EventStore
	logger *slog.Logger
	opts   WriterOptions
	queue  chan Entry
	done   chan struct{}

	mu     sync.RWMutex // Add holds it shared, Close exclusively: no Add after the queue closes
	closed bool

	dropped atomic.Uint64
	written atomic.Uint64
	failing bool // the last write failed; only the goroutine uses it
}

// NewWriter starts a Writer into st; logger reports failed writes (once per outage).
func NewWriter(st EventStore, logger *slog.Logger, opts WriterOptions) *Writer {
	if opts.Interval <= 0 {
		opts.Interval = 200 * time.Millisecond
	}
	if opts.MaxBatch <= 0 {
		opts.MaxBatch = 500
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = 10_000
	}
	if opts.WriteTimeout <= 0 {
		opts.WriteTimeout = 5 * time.Second
	}
	w := &Writer{store: st, logger: logger, opts: opts, queue: make(chan Entry, opts.QueueSize), done: make(chan struct{})}
	go w.run()
	return w
}

// Add queues e for the store, or drops it if the queue is full or the Writer closed.
func (w *Writer) Add(e Entry) {
	w.mu.RLock()
	defer w.mu.RUnlock()
	if w.closed {
		w.dropped.Add(1)
		return
	}
	select {
	case w.queue <- e:
	default:
		w.dropped.Add(1)
	}
}

// Dropped is how many events never reached the store.
func (w *Writer) Dropped() uint64 { return w.dropped.Load() }

// Written is how many events the store took.
func (w *Writer) Written() uint64 { return w.written.Load() }

// Close stops taking events, writes those still queued and returns when they are written (or
// dropped). A second call returns at once.
func (w *Writer) Close() {
	w.mu.Lock()
	if !w.closed {
		w.closed = true
		close(w.queue)
	}
	w.mu.Unlock()
	<-w.done
}

func (w *Writer) run() {
	defer close(w.done)
	ticker := time.NewTicker(w.opts.Interval)
	defer ticker.Stop()
	batch := make([]Entry, 0, w.opts.MaxBatch)
	for {
		select {
		case e, ok := <-w.queue:
			if !ok {
				w.write(batch)
				return
			}
			batch = append(batch, e)
			if len(batch) >= w.opts.MaxBatch {
				w.write(batch)
				batch = batch[:0]
			}
		case <-ticker.C:
			w.write(batch)
			batch = batch[:0]
		}
	}
}

// write hands batch to the store; a failure drops it. The store gets a copy, batch is reused.
func (w *Writer) write(batch []Entry) {
	if len(batch) == 0 {
		return
	}
	ctx, cancel := context.WithTimeout(context.Background(), w.opts.WriteTimeout)
	defer cancel()
	err := w.store.AddMailEvents(ctx, append([]Entry(nil), batch...))
	switch {
	case err != nil:
		w.dropped.Add(uint64(len(batch)))
		if !w.failing {
			w.logger.Error("store mail events: dropping them until the store takes them again", "err", err, "events", len(batch))
		}
		w.failing = true
	default:
		w.written.Add(uint64(len(batch)))
		if w.failing {
			w.logger.Info("store mail events: the store takes them again", "dropped", w.Dropped())
		}
		w.failing = false
	}
}
