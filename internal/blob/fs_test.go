package blob

import (
	"context"
	"errors"
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
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		f, err := s.Open(w.ID())
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(f)
		f.Close()
		if err != nil {
			t.Fatal(err)
		}
		if want := []string{"first\r\n", "second\r\n", ""}[i]; string(got) != want {
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
	old, _ := s.Create()
	s.now = func() time.Time { return day.AddDate(0, 0, 3) }
	recent, _ := s.Create()
	if err := s.SyncAll(context.Background(), []*Writer{old, recent}); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "20260102", "stray.tmp"), nil, 0o600); err != nil {
		t.Fatal(err)
	}
	var all, since []string
	if err := s.Walk(time.Time{}, func(id string) error { all = append(all, id); return nil }); err != nil {
		t.Fatal(err)
	}
	if err := s.Walk(day.AddDate(0, 0, 1), func(id string) error { since = append(since, id); return nil }); err != nil {
		t.Fatal(err)
	}
	if len(all) != 2 || all[0] != old.ID() || all[1] != recent.ID() {
		t.Fatalf("Walk all = %v", all)
	}
	if len(since) != 1 || since[0] != recent.ID() {
		t.Fatalf("Walk since = %v", since)
	}
}

func BenchmarkCreateSync8(b *testing.B) {
	s, err := OpenFS(b.TempDir())
	if err != nil {
		b.Fatal(err)
	}
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
