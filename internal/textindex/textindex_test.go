package textindex_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"posthorn/internal/blob"
	"posthorn/internal/delivery"
	"posthorn/internal/store"
	"posthorn/internal/store/sqlite"
	"posthorn/internal/textindex"
)

// TestIndexBacklog delivers messages without text, as SMTP does, and checks that one pass of
// the indexer makes SEARCH find them through the index, in batches bounded by MaxBatch and
// MaxBatchText, and leaves nothing for the next pass.
func TestIndexBacklog(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	st, err := sqlite.Open(ctx, filepath.Join(dir, "db"))
	if err != nil {
		t.Fatal(err)
	}
	defer st.Close()
	blobs, err := blob.OpenFS(filepath.Join(dir, "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	defer blobs.Close()
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	committer := delivery.New(st, blobs.Bodies(), logger)
	defer committer.Close()
	if _, err := st.AddDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	acc, err := st.AddAccount(ctx, "alice@example.org", "x")
	if err != nil {
		t.Fatal(err)
	}

	const n = 40
	for i := range n {
		w, err := committer.NewDraft(ctx)
		if err != nil {
			t.Fatal(err)
		}
		raw := fmt.Sprintf("Subject: message %d\r\nContent-Type: text/plain; charset=utf-8\r\n"+
			"Content-Transfer-Encoding: quoted-printable\r\n\r\nbody of m=C3=A9ssage number %03d\r\n", i, i)
		if _, err := io.WriteString(w, raw); err != nil {
			t.Fatal(err)
		}
		if _, err := w.Commit(ctx, delivery.Message{
			Targets: []store.Target{{AccountID: acc.ID, Mailbox: "INBOX"}},
		}); err != nil {
			t.Fatal(err)
		}
	}
	box, err := st.GetMailbox(ctx, acc.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if _, unindexed, err := st.SearchText(ctx, box.ID, store.FieldBody, "number 007"); err != nil || len(unindexed) != n {
		t.Fatalf("before indexing: %d unindexed, %v; want %d", len(unindexed), err, n)
	}

	var batches []int
	x := &textindex.Indexer{Backlog: st, Bodies: blobs, Logger: logger, MaxBatch: 16, MaxBatchText: 400,
		Indexed: func(k int) { batches = append(batches, k) }}
	indexed, err := x.IndexBacklog(ctx)
	if err != nil || indexed != n {
		t.Fatalf("IndexBacklog = %d, %v; want %d", indexed, err, n)
	}
	if slices.Max(batches) > 16 || len(batches) < 3 {
		t.Errorf("batches %v: want at most 16 bodies each, and MaxBatchText to split them further", batches)
	}
	matched, unindexed, err := st.SearchText(ctx, box.ID, store.FieldBody, "méssage number 007")
	if err != nil || !slices.Equal(matched, []uint32{8}) || len(unindexed) != 0 {
		t.Fatalf("after indexing: matched %v, unindexed %v, %v; want [8] and none", matched, unindexed, err)
	}
	if matched, _, _ := st.SearchText(ctx, box.ID, store.FieldText, "subject: message 39"); !slices.Equal(matched, []uint32{40}) {
		t.Errorf("header text after indexing: %v, want [40]", matched)
	}
	if again, err := x.IndexBacklog(ctx); err != nil || again != 0 {
		t.Errorf("second pass indexed %d, %v; want 0", again, err)
	}
	if problems, err := st.Check(ctx); err != nil || len(problems) != 0 {
		t.Errorf("Check: %v, %v", strings.Join(problems, "; "), err)
	}
}
