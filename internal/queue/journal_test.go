package queue

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"sync"
	"testing"

	"posthorn/internal/store"
)

// TestDoneJournal: ids appended by concurrent callers are all in the file when append returns;
// a line cut by a crash is ignored on reading; the file is emptied once every id is removed
// from the store and it has grown past journalTruncateAt, not before.
func TestDoneJournal(t *testing.T) {
	path := filepath.Join(t.TempDir(), "delivered.journal")
	j, ids, err := openDoneJournal(path)
	if err != nil || len(ids) != 0 {
		t.Fatalf("new journal: %v, %v", ids, err)
	}
	var wg sync.WaitGroup
	for i := range 50 {
		wg.Go(func() {
			if err := j.append([]int64{int64(2*i + 1), int64(2*i + 2)}); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	// A crash in the middle of a later write: "101\n10" with no newline after the 10.
	if err := os.WriteFile(path, append(data, "101\n10"...), 0o600); err != nil {
		t.Fatal(err)
	}
	_, got, err := openDoneJournal(path)
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	want := make([]int64, 101)
	for i := range want {
		want[i] = int64(i + 1)
	}
	if !slices.Equal(got, want) {
		t.Fatalf("read back %d ids %v, want 1..101", len(got), got)
	}

	if err := j.removed(100); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(path); info.Size() == 0 {
		t.Fatal("a small journal was emptied")
	}
	big := make([]int64, journalTruncateAt/6)
	for i := range big {
		big[i] = int64(100000 + i)
	}
	if err := j.append(big); err != nil {
		t.Fatal(err)
	}
	if err := j.removed(len(big) - 1); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(path); info.Size() == 0 {
		t.Fatal("the journal was emptied with an id outstanding")
	}
	if err := j.removed(1); err != nil {
		t.Fatal(err)
	}
	if info, _ := os.Stat(path); info.Size() != 0 {
		t.Fatalf("journal of %d octets not emptied with nothing outstanding", info.Size())
	}
	if err := j.close(); err != nil {
		t.Fatal(err)
	}
}

// TestJournalReplayRemovesDelivered: a row the journal names (delivered, then a crash before its
// removal from the store) is removed at start and never sent again; the others are delivered,
// and each is in the journal right after its 250.
func TestJournalReplayRemovesDelivered(t *testing.T) {
	port := loopbackPort(t)
	h := newHarness(t, port, remoteZone())
	h.sched.Journal = filepath.Join(t.TempDir(), "delivered.journal")
	sink := startSink(t, at("127.0.0.1", port), h.env.TLSConfig, nil)
	h.enqueue("alice@example.org", "delivered before", store.Outbound{Recipient: "bob@remote.example"})
	h.enqueue("alice@example.org", "still queued", store.Outbound{Recipient: "carol@remote.example"})
	rows, err := h.store.ListQueue(context.Background())
	if err != nil || len(rows) != 2 {
		t.Fatalf("queue: %v, %v", rows, err)
	}
	first := rows[0].ID
	if rows[1].Recipient == "bob@remote.example" {
		first = rows[1].ID
	}
	if err := os.WriteFile(h.sched.Journal, []byte(strconv.FormatInt(first, 10)+"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	h.start()
	h.waitFor("delivery", func() bool { return h.queueLen() == 0 })
	if got := sink.received(); got["bob@remote.example"] != 0 || got["carol@remote.example"] != 1 {
		t.Errorf("sink received %v: want carol once and bob never", got)
	}
	_, journaled, err := openDoneJournal(h.sched.Journal)
	if err != nil {
		t.Fatal(err)
	}
	if slices.Contains(journaled, first) || len(journaled) != 1 {
		t.Errorf("journal after start and one delivery: %v, want only the new row", journaled)
	}
	h.checkStore()
}
