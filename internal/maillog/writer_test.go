package maillog

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"
)

// fakeStore records the batches it is given; fail makes writes fail, a block channel makes
// them wait until it closes (or their context ends), then fail.
type fakeStore struct {
	mu      sync.Mutex
	batches [][]Entry
	fail    bool
	block   chan struct{}
}

func newFakeStore() *fakeStore { return &fakeStore{} }

func (f *fakeStore) AddMailEvents(ctx context.Context, batch []Entry) error {
	f.mu.Lock()
	fail, block := f.fail, f.block
	f.mu.Unlock()
	if block != nil {
		select {
		case <-block:
		case <-ctx.Done():
		}
		return errors.New("store stuck")
	}
	if fail {
		return errors.New("store down")
	}
	f.mu.Lock()
	defer f.mu.Unlock()
	f.batches = append(f.batches, batch)
	return nil
}

func (f *fakeStore) set(fail bool, block chan struct{}) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fail, f.block = fail, block
}

func (f *fakeStore) sizes() []int {
	f.mu.Lock()
	defer f.mu.Unlock()
	var out []int
	for _, b := range f.batches {
		out = append(out, len(b))
	}
	return out
}

func quiet() *slog.Logger { return slog.New(slog.NewTextHandler(io.Discard, nil)) }

func entry(id string) Entry { return Entry{Time: time.Now(), Event: Event{Event: "received", ID: id}} }

// waitFor polls cond until it holds or a deadline passes.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// A full batch is written at once, long before the interval, in order.
func TestWriterFullBatch(t *testing.T) {
	st := newFakeStore()
	w := NewWriter(st, quiet(), WriterOptions{Interval: time.Hour, MaxBatch: 3})
	defer w.Close()
	for _, id := range []string{"a", "b", "c", "d"} {
		w.Add(entry(id))
	}
	waitFor(t, "the first batch", func() bool { return len(st.sizes()) == 1 })
	st.mu.Lock()
	got := st.batches[0]
	st.mu.Unlock()
	if len(got) != 3 || got[0].ID != "a" || got[2].ID != "c" {
		t.Errorf("first batch %+v", got)
	}
}

// Fewer events than a batch are written after the interval, together.
func TestWriterInterval(t *testing.T) {
	st := newFakeStore()
	w := NewWriter(st, quiet(), WriterOptions{Interval: 20 * time.Millisecond, MaxBatch: 100})
	defer w.Close()
	w.Add(entry("a"))
	w.Add(entry("b"))
	waitFor(t, "the batch", func() bool { return len(st.sizes()) > 0 })
	if sizes := st.sizes(); sizes[0] != 2 || w.Written() != 2 {
		t.Errorf("batches %v, written %d", sizes, w.Written())
	}
}

// Close writes what waits, and later events are dropped, not written.
func TestWriterCloseFlushes(t *testing.T) {
	st := newFakeStore()
	w := NewWriter(st, quiet(), WriterOptions{Interval: time.Hour, MaxBatch: 100})
	w.Add(entry("a"))
	w.Add(entry("b"))
	w.Close()
	if sizes := st.sizes(); len(sizes) != 1 || sizes[0] != 2 {
		t.Fatalf("batches after close %v, want [2]", sizes)
	}
	w.Add(entry("c"))
	w.Close()
	if w.Dropped() != 1 || len(st.sizes()) != 1 {
		t.Errorf("after close: dropped %d, batches %v", w.Dropped(), st.sizes())
	}
}

// A failing store drops its batches, counted; the writer goes on once it works again.
func TestWriterStoreFails(t *testing.T) {
	st := newFakeStore()
	st.set(true, nil)
	w := NewWriter(st, quiet(), WriterOptions{Interval: time.Hour, MaxBatch: 2})
	defer w.Close()
	w.Add(entry("a"))
	w.Add(entry("b"))
	waitFor(t, "the failed write", func() bool { return w.Dropped() == 2 })
	st.set(false, nil)
	w.Add(entry("c"))
	w.Add(entry("d"))
	waitFor(t, "the next write", func() bool { return w.Written() == 2 })
	if w.Dropped() != 2 {
		t.Errorf("dropped %d, want 2", w.Dropped())
	}
}

// A stuck store never makes Add wait: the queue fills and the rest is dropped at once.
func TestWriterStuckStoreDoesNotBlock(t *testing.T) {
	st := newFakeStore()
	release := make(chan struct{})
	st.set(false, release)
	w := NewWriter(st, quiet(), WriterOptions{Interval: time.Hour, MaxBatch: 1, QueueSize: 10,
		WriteTimeout: time.Hour})
	w.Add(entry("first")) // taken by the writer, which waits in the store
	waitFor(t, "the writer to take the first event", func() bool { return len(w.queue) == 0 })
	done := make(chan struct{})
	go func() {
		defer close(done)
		for range 1000 {
			w.Add(entry("x"))
		}
	}()
	select {
	case <-done:
	case <-time.After(5 * time.Second):
		t.Fatal("Add blocked on a stuck store")
	}
	if d := w.Dropped(); d != 1000-10 {
		t.Errorf("dropped %d, want %d", d, 1000-10)
	}
	st.set(false, nil)
	close(release) // the first write fails; Close writes the ten queued
	w.Close()
	if w.Written() != 10 || w.Dropped() != 1000-10+1 {
		t.Errorf("after close: written %d, dropped %d", w.Written(), w.Dropped())
	}
}
