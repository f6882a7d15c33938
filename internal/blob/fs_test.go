package blob

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"testing"
	"time"
)

func TestCreateSyncOpenRemove(t *testing.T) {
	s, err := OpenFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var batch []*Writer
	for _, body := range []string{"first\r\n", "second\r\n", ""} {
		w, err := s.Create()
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, body); err != nil {
			t.Fatal(err)
		}
		if w.Size() != int64(len(body)) {
			t.Fatalf("size %d, want %d", w.Size(), len(body))
		}
		batch = append(batch, w)
	}
	if err := s.SyncAll(context.Background(), batch); err != nil {
		t.Fatal(err)
	}
	for i, w := range batch {
		got := readBack(t, s, w)
		if want := []string{"first\r\n", "second\r\n", ""}[i]; got != want {
			t.Fatalf("blob %d = %q, want %q", i, got, want)
		}
	}
	if err := s.Remove(batch[0].ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(batch[0].ID()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("open removed blob: %v, want ErrNotFound", err)
	}
	if err := s.Remove(batch[0].ID()); err != nil {
		t.Fatalf("removing a missing blob: %v", err)
	}
}

func TestAbortDeletes(t *testing.T) {
	s, err := OpenFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	w, err := s.Create()
	if err != nil {
		t.Fatal(err)
	}
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(w.ID()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("aborted blob still there: %v", err)
	}
}

func TestIDsCannotEscape(t *testing.T) {
	s, err := OpenFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	for _, id := range []string{"", "../../etc/passwd", "20261125-../../x", "20261125-0123456789abcdef0123456g", "2026112-0123456789abcdef01234567"} {
		if _, err := s.Open(id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Open(%q) = %v, want ErrNotFound", id, err)
		}
		if err := s.Remove(id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Remove(%q) = %v, want ErrNotFound", id, err)
		}
	}
}

func TestWalkSince(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	day := time.Date(2026, 1, 2, 10, 0, 0, 0, time.UTC)
	s.now = func() time.Time { return day }
	old, _ := s.create()
	s.now = func() time.Time { return day.AddDate(0, 0, 3) }
	recent, _ := s.create()
	for _, f := range []*os.File{old, recent} {
		f.WriteString("x")
		f.Close()
	}
	if err := os.WriteFile(filepath.Join(dir, "20260102", "stray.tmp"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var all, since []string
	if err := s.Walk(time.Time{}, func(id string, _ int64) error { all = append(all, id); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Walk(day.AddDate(0, 0, 1), func(id string, _ int64) error { since = append(since, id); return nil }); err != nil {
		t.Fatal(err)
	}
	oldID, recentID := filepath.Base(old.Name()), filepath.Base(recent.Name())
	if len(all) != 2 || all[0] != oldID || all[1] != recentID {
		t.Fatalf("Walk all = %v", all)
	}
	if len(since) != 1 || since[0] != recentID {
		t.Fatalf("Walk since = %v", since)
	}
}

func BenchmarkCreateSync8(b *testing.B) {
	s, err := OpenFS(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { s.Close() })
	body := make([]byte, 4096)
	for b.Loop() {
		batch := make([]*Writer, 8)
		for i := range batch {
			w, err := s.Create()
			if err != nil {
				b.Fatal(err)
			}
			if _, err := w.Write(body); err != nil {
				b.Fatal(err)
			}
			batch[i] = w
		}
		if err := s.SyncAll(context.Background(), batch); err != nil {
			b.Fatal(err)
		}
		for _, w := range batch {
			w.Close()
		}
	}
}

// TestPoolFilesAreDurableAndRemovedOnClose: Create hands out files created ahead, which need no
// directory sync, and Close removes the ones never used.
func TestPoolFilesAreDurableAndRemovedOnClose(t *testing.T) {
	dir := t.TempDir()
	s, err := OpenFS(dir)
	if err != nil {
		t.Fatal(err)
	}
	w, err := s.Create()
	if err != nil {
		t.Fatal(err)
	}
	w.Write([]byte("body\r\n"))
	if err := s.SyncAll(context.Background(), []*Writer{w}); err != nil {
		t.Fatal(err)
	}
	w.Close()
	time.Sleep(50 * time.Millisecond) // let the pool fill
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	var left []string
	s.Walk(time.Time{}, func(id string, size int64) error { left = append(left, id); return nil })
	if len(left) != 1 || left[0] != w.ID() {
		t.Fatalf("after Close: %v, want only %s", left, w.ID())
	}
}

// TestSyncsPerBatchAreConstant: a batch of any size is made durable with one sync system call:
// fdatasync for one body from the pool, syncfs for more, or for a body created on demand
// (whose new directory entry must be durable too). Its bodies are readable afterwards.
func TestSyncsPerBatchAreConstant(t *testing.T) {
	s, err := OpenFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	var calls []string
	s.syncCall = func(name string) { calls = append(calls, name) }
	for _, tc := range []struct {
		bodies  int
		newName bool
		want    string
	}{{1, false, "fdatasync"}, {1, true, "syncfs"}, {2, false, "syncfs"}, {16, false, "syncfs"}, {200, false, "syncfs"}} {
		var batch []*Writer
		for i := range tc.bodies {
			w := poolWriter(t, s)
			w.newName = tc.newName
			if _, err := fmt.Fprintf(w, "body %d of %d\r\n", i, tc.bodies); err != nil {
				t.Fatal(err)
			}
			batch = append(batch, w)
		}
		calls = nil
		if err := s.SyncAll(context.Background(), batch); err != nil {
			t.Fatal(err)
		}
		if len(calls) != 1 || calls[0] != tc.want {
			t.Errorf("%d bodies (new name %v): syncs %v, want one %s", tc.bodies, tc.newName, calls, tc.want)
		}
		for i, w := range batch {
			if got, want := readBack(t, s, w), fmt.Sprintf("body %d of %d\r\n", i, tc.bodies); got != want {
				t.Fatalf("read back %q, want %q", got, want)
			}
		}
	}
}

// TestFailedSyncIsSticky: after a sync failed, no later batch is reported durable, not even
// one whose own fdatasync would succeed: the failed write-back may have been its pages.
func TestFailedSyncIsSticky(t *testing.T) {
	s, err := OpenFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	create := func() *Writer {
		w := poolWriter(t, s)
		t.Cleanup(func() { w.Abort() })
		if _, err := w.Write([]byte("body\r\n")); err != nil {
			t.Fatal(err)
		}
		return w
	}
	s.root.Close() // syncfs on it fails (EBADF), as it would with EIO
	if err := s.SyncAll(context.Background(), []*Writer{create(), create()}); err == nil {
		t.Fatal("syncfs on a closed directory succeeded")
	}
	if err := s.SyncAll(context.Background(), []*Writer{create()}); err == nil {
		t.Fatal("a batch after a failed sync was reported durable")
	}
}

// poolWriter returns a Writer on a file from the pool, whose name is durable: it waits (up to
// ten seconds) for the pool to fill.
func poolWriter(t *testing.T, s *FS) *Writer {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for {
		w, err := s.Create()
		if err != nil {
			t.Fatal(err)
		}
		if !w.newName {
			return w
		}
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		if time.Now().After(deadline) {
			t.Fatal("the pool did not fill within ten seconds")
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// readBack closes a synced Writer and reads its blob.
func readBack(t *testing.T, s *FS, w *Writer) string {
	t.Helper()
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	f, err := s.Open(w.ID())
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	got, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	return string(got)
}
