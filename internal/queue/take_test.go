package queue

import (
	"fmt"
	"testing"

	"posthorn/internal/store"
)

// pendingOf makes a destination whose list holds rows of the given blobs, in order, as fill
// leaves it.
func pendingOf(blobs ...string) *destination {
	d := &destination{name: "smarthost", perBlob: map[string]int{}}
	for i, b := range blobs {
		d.pending = append(d.pending, store.QueuedMessage{ID: int64(i + 1), BlobID: b})
		d.perBlob[b]++
	}
	return d
}

// TestTakeGroupsRowsOfOneMessage: take gathers every row of the first message, wherever it is
// in the list, and leaves the others in order; messages with one row come out one by one.
func TestTakeGroupsRowsOfOneMessage(t *testing.T) {
	s := &Scheduler{MaxRecipients: 100, quit: make(chan struct{})}
	d := pendingOf("a", "b", "a", "c", "a")
	var got []string
	for batch := s.take(d); batch != nil; batch = s.take(d) {
		var ids string
		for _, q := range batch {
			ids += fmt.Sprintf("%s%d ", q.BlobID, q.ID)
		}
		got = append(got, ids)
	}
	if fmt.Sprint(got) != "[a1 a3 a5  b2  c4 ]" {
		t.Errorf("batches %q", got)
	}
	if len(d.perBlob) != 0 {
		t.Errorf("perBlob left %v", d.perBlob)
	}
}

// BenchmarkTake takes 10,000 one-row messages from one destination (a campaign through a
// smarthost): each take must not walk or copy the rest of the list.
func BenchmarkTake(b *testing.B) {
	s := &Scheduler{MaxRecipients: 100, quit: make(chan struct{})}
	blobs := make([]string, 10000)
	for i := range blobs {
		blobs[i] = fmt.Sprintf("20261207-%024x", i)
	}
	for b.Loop() {
		d := pendingOf(blobs...)
		for s.take(d) != nil {
		}
	}
}
