package campaign

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"posthorn/internal/store"
)

// eventWriter records events in batches: one goroutine takes them from a bounded buffer and
// writes at most eventBatch per transaction, whenever a batch is full and at least every
// eventFlush, and what is left when it is closed.
type eventWriter struct {
	svc    *Service // its store records the events, its metrics count them
	logger *slog.Logger
	in     chan store.Event
	stop   chan struct{}
	done   chan struct{}
	once   sync.Once
}

func newEventWriter(svc *Service, logger *slog.Logger) *eventWriter {
	w := &eventWriter{svc: svc, logger: logger, in: make(chan store.Event, eventBuffer),
		stop: make(chan struct{}), done: make(chan struct{})}
	go w.run()
	return w
}

// add hands e to the writer, waiting for room in the buffer if it is full. After close an
// event is dropped.
func (w *eventWriter) add(ctx context.Context, e store.Event) error {
	select {
	case w.in <- e:
		return nil
	default:
	}
	select {
	case w.in <- e:
		return nil
	case <-w.stop:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

func (w *eventWriter) run() {
	defer close(w.done)
	tick := time.NewTicker(eventFlush)
	defer tick.Stop()
	batch := make([]store.Event, 0, eventBatch)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := w.svc.addEvents(ctx, batch); err != nil {
			w.logger.Error("record campaign events", "events", len(batch), "err", err)
		}
		batch = batch[:0]
	}
	for {
		select {
		case e := <-w.in:
			batch = append(batch, e)
			if len(batch) == eventBatch {
				flush()
			}
		case <-tick.C:
			flush()
		case <-w.stop:
			for {
				select {
				case e := <-w.in:
					batch = append(batch, e)
					if len(batch) == eventBatch {
						flush()
					}
				default:
					flush()
					return
				}
			}
		}
	}
}

// close records what is buffered and stops the writer.
func (w *eventWriter) close() {
	w.once.Do(func() { close(w.stop) })
	<-w.done
}
