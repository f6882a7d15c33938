package smtpserver

import (
	"context"
	"io"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"posthorn/internal/store"
	"posthorn/internal/testutil/storeenv"
)

// Every recorded count is either unwritten or written, never both and never neither, while
// the writer runs; flush leaves all of them written.
func TestSentRecorder(t *testing.T) {
	ctx := context.Background()
	st := storeenv.OpenStore(t, filepath.Join(t.TempDir(), "db"))
	st.AddDomain(ctx, "example.org")
	acc, _ := st.AddAccount(ctx, "a@example.org", "x")
	r := newSentRecorder(st, slog.New(slog.NewTextHandler(io.Discard, nil)))
	since := time.Now().Add(-time.Hour)
	var wg sync.WaitGroup
	const n = 200
	wg.Add(1)
	go func() {
		defer wg.Done()
		for range n {
			r.record(store.SentRecord{AccountID: acc.ID, Recipients: 1, At: time.Now()})
		}
	}()
	recorded := int64(0)
	for recorded < n {
		var written, unwritten int64
		if err := r.consistent(func() error {
			unwritten = r.unwritten(acc.ID)
			var err error
			written, err = st.SentSince(ctx, acc.ID, since)
			return err
		}); err != nil {
			t.Fatal(err)
		}
		if written+unwritten < recorded {
			t.Fatalf("counted %d written + %d unwritten after %d were seen", written, unwritten, recorded)
		}
		recorded = written + unwritten
	}
	wg.Wait()
	r.flush()
	if written, _ := st.SentSince(ctx, acc.ID, since); written != n || r.unwritten(acc.ID) != 0 {
		t.Fatalf("after flush: %d written, %d unwritten", written, r.unwritten(acc.ID))
	}
}
