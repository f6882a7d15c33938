package smtpserver

import (
	"bytes"
	"io"
	"testing"
)

// TestSpoolMemory: a spool stays in memory up to memSpool while the shared budget allows,
// goes to a file beyond either, reads back what was written either way, and gives its share
// back when it goes to a file or closes.
func TestSpoolMemory(t *testing.T) {
	var budget spoolMemory
	write := func(s *spool, n int) []byte {
		t.Helper()
		data := bytes.Repeat([]byte("0123456789abcdef"), n/16)
		for off := 0; off < len(data); off += 4096 {
			if _, err := s.Write(data[off:min(off+4096, len(data))]); err != nil {
				t.Fatal(err)
			}
		}
		got, err := io.ReadAll(io.NewSectionReader(s, 0, s.Size()))
		if err != nil || !bytes.Equal(got, data) {
			t.Fatalf("read back %d of %d octets: %v", len(got), len(data), err)
		}
		return data
	}
	small := &spool{dir: t.TempDir(), memory: &budget}
	write(small, 100<<10)
	if small.file != nil || budget.used.Load() != 128<<10 {
		t.Errorf("100 KiB: file %v, budget used %d", small.file != nil, budget.used.Load())
	}
	large := &spool{dir: t.TempDir(), memory: &budget}
	write(large, memSpool+16)
	if large.file == nil || budget.used.Load() != 128<<10 {
		t.Errorf("over memSpool: file %v, budget used %d", large.file != nil, budget.used.Load())
	}
	large.Close()

	// With the budget all but taken, a small message goes to a file too.
	budget.used.Add(spoolMemoryLimit - 128<<10 - 32<<10)
	crowded := &spool{dir: t.TempDir(), memory: &budget}
	write(crowded, 64<<10)
	if crowded.file == nil {
		t.Error("a spool stayed in memory past the shared limit")
	}
	crowded.Close()
	budget.used.Add(-(spoolMemoryLimit - 128<<10 - 32<<10))
	small.Close()
	if budget.used.Load() != 0 {
		t.Errorf("budget used %d after every spool closed", budget.used.Load())
	}
}
