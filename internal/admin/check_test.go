package admin

import (
	"context"
	"io"
	"slices"
	"testing"
	"time"

	"posthorn/internal/blob"
)

func TestCheckAndRemoveOrphans(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	a := openAdmin(t, dir)
	addDirectory(t, a)
	kept := deliver(t, a, "Subject: kept\r\n\r\nkept\r\n", []string{"alice@example.org"})
	missing := deliver(t, a, "Subject: lost\r\n\r\nlost\r\n", []string{"bob@example.org"})
	if problems, err := a.Check(ctx); err != nil || len(problems) != 0 {
		t.Fatalf("Check of a clean directory: %v, %v", problems, err)
	}

	// A body written and made durable whose commit never happened, as a crash leaves it.
	w, err := bodyFS(a).Create()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(w, "Subject: orphan\r\n\r\nnever committed\r\n"); err != nil {
		t.Fatal(err)
	}
	if err := bodyFS(a).SyncAll(ctx, []*blob.Writer{w}); err != nil {
		t.Fatal(err)
	}
	orphan := w.ID()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	if err := a.Blobs.Remove(missing); err != nil {
		t.Fatal(err)
	}
	problems, err := a.Check(ctx)
	want := []string{
		"blob " + missing + " is referenced but missing",
		"blob " + orphan + " is not referenced (orphan)",
	}
	if err != nil || !slices.Equal(problems, want) {
		t.Errorf("Check: %q, %v; want %q", problems, err, want)
	}

	// RemoveOrphans runs with nothing delivering: at start, or with the server stopped.
	reopenBlobs(t, a, dir)
	// Only bodies written from since's day on are looked at.
	if n, err := a.RemoveOrphans(ctx, time.Now().AddDate(0, 0, 2)); err != nil || n != 0 {
		t.Errorf("RemoveOrphans from the day after tomorrow: %d, %v; want none", n, err)
	}
	if n, err := a.RemoveOrphans(ctx, time.Time{}); err != nil || n != 1 {
		t.Errorf("RemoveOrphans: %d, %v; want the orphan", n, err)
	}
	if blobExists(t, a, orphan) || !blobExists(t, a, kept) {
		t.Error("RemoveOrphans removed the wrong bodies")
	}
	problems, err = a.Check(ctx)
	if err != nil || !slices.Equal(problems, want[:1]) {
		t.Errorf("Check after RemoveOrphans: %q, %v; want %q", problems, err, want[:1])
	}
}
