// Package bodystoretest is the conformance suite of internal/bodystore's backends (tests
// only): Run pins down what delivery and the readers rely on, on any backend; Benchmark
// measures writes and reads of 100 KiB bodies on one. internal/blob and
// internal/bodystore/pgbody run both.
package bodystoretest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"posthorn/internal/bodystore"
)

// Backend is a new, empty body store under test.
type Backend struct {
	bodystore.Store
	// Stored lists the ids of the bodies the backend holds octets of, committed or not: every
	// non-empty body written and neither aborted nor removed, and no other (empty ones may be
	// listed or not).
	Stored func(ctx context.Context) ([]string, error)
	// HidesUnsynced says that Open of a body written but not yet synced is ErrNotFound. The
	// interface does not promise it (no metadata names such a body, so nobody asks): the file
	// backend's bodies are files from their creation on; PostgreSQL's have no row before
	// SyncAll.
	HidesUnsynced bool
}

// Run runs the suite; open returns a new, empty backend, closed when t ends. Body sizes and
// offsets are chosen around powers of two from 4 KiB to 1 MiB, the boundaries of any chunk or
// buffer size among them.
func Run(t *testing.T, open func(t testing.TB) Backend) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, Backend)
	}{
		{"RoundTrip", testRoundTrip},
		{"ReadAtEdges", testReadAtEdges},
		{"ReadAtBoundaries", testReadAtBoundaries},
		{"ConcurrentReaders", testConcurrentReaders},
		{"UncommittedInvisible", testUncommittedInvisible},
		{"AbortLeavesNothing", testAbortLeavesNothing},
		{"Remove", testRemove},
		{"SyncAllBatch", testSyncAllBatch},
		{"SyncAllForeignWriter", testSyncAllForeign},
		{"IDs", testIDs},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

// content is n octets of pseudo-random data, different for each seed.
func content(n int, seed uint64) []byte {
	r := rand.New(rand.NewPCG(seed, uint64(n)))
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

// write creates a body and writes data in pieces of step octets (all at once when 0).
func write(t testing.TB, s bodystore.Store, data []byte, step int) bodystore.Writer {
	t.Helper()
	w, err := s.Create(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if step == 0 {
		step = max(len(data), 1)
	}
	for rest := data; len(rest) > 0; {
		k := min(step, len(rest))
		n, err := w.Write(rest[:k])
		if err != nil || n != k {
			t.Fatalf("write %d octets: %d, %v", k, n, err)
		}
		rest = rest[k:]
	}
	if w.Size() != int64(len(data)) {
		t.Fatalf("Writer.Size %d, want %d", w.Size(), len(data))
	}
	return w
}

// commit writes data as one body, syncs and closes it, and returns its id.
func commit(t testing.TB, s bodystore.Store, data []byte) string {
	t.Helper()
	w := write(t, s, data, 0)
	syncClose(t, s, w)
	return w.ID()
}

// syncClose syncs w alone and closes it.
func syncClose(t testing.TB, s bodystore.Store, w bodystore.Writer) {
	t.Helper()
	if err := s.SyncAll(context.Background(), []bodystore.Writer{w}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// openBody opens the body id, closed when t ends.
func openBody(t testing.TB, s bodystore.Store, id string) bodystore.Body {
	t.Helper()
	b, err := s.Open(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := b.Close(); err != nil {
			t.Error(err)
		}
	})
	return b
}

// readAll opens id and reads it whole through a SectionReader, as POP3 and the queue do.
func readAll(t testing.TB, s bodystore.Store, id string) []byte {
	t.Helper()
	b, err := s.Open(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	defer b.Close()
	size, err := b.Size()
	if err != nil {
		t.Fatal(err)
	}
	got, err := io.ReadAll(io.NewSectionReader(b, 0, size))
	if err != nil {
		t.Fatal(err)
	}
	return got
}

func testRoundTrip(t *testing.T, s Backend) {
	for _, tc := range []struct {
		name string
		size int
		step int
	}{
		{"empty", 0, 0}, {"one", 1, 0}, {"small", 300, 7}, {"64KiB", 64 << 10, 4096},
		{"256KiB", 256 << 10, 0}, {"256KiB+1", 256<<10 + 1, 1000}, {"1MiB-1", 1<<20 - 1, 32 << 10},
		{"10MiB", 10 << 20, 64 << 10}, {"10MiB-whole", 10 << 20, 0},
	} {
		t.Run(tc.name, func(t *testing.T) {
			data := content(tc.size, 1)
			w := write(t, s, data, tc.step)
			// Read back before the commit, as delivery parses it.
			got := make([]byte, tc.size)
			if n, err := w.ReadAt(got, 0); n != tc.size || err != nil && !(err == io.EOF && n == tc.size) {
				t.Fatalf("Writer.ReadAt whole: %d, %v", n, err)
			}
			if !bytes.Equal(got, data) {
				t.Fatal("Writer.ReadAt differs from what was written")
			}
			syncClose(t, s, w)
			b := openBody(t, s, w.ID())
			if size, err := b.Size(); size != int64(tc.size) || err != nil {
				t.Fatalf("Body.Size %d, %v, want %d", size, err, tc.size)
			}
			if got := readAll(t, s, w.ID()); !bytes.Equal(got, data) {
				t.Fatalf("read back %d octets, differing from the %d written", len(got), len(data))
			}
		})
	}
}

// checkReadAt reads n octets at off of r (of the given size and data) and checks what
// io.ReaderAt and os.File promise: all of them, or fewer only at the end with io.EOF.
func checkReadAt(t *testing.T, what string, r io.ReaderAt, data []byte, off int64, n int) {
	t.Helper()
	p := make([]byte, n)
	got, err := r.ReadAt(p, off)
	size := int64(len(data))
	want := int(max(0, min(int64(n), size-off)))
	switch {
	case n == 0 && (got != 0 || err != nil):
		t.Errorf("%s: ReadAt of 0 octets at %d = %d, %v; want 0, nil", what, off, got, err)
	case n > 0 && want < n && (got != want || err != io.EOF):
		t.Errorf("%s: ReadAt(%d octets at %d) of %d = %d, %v; want %d, io.EOF", what, n, off, size, got, err, want)
	case n > 0 && want == n && (got != n || err != nil):
		t.Errorf("%s: ReadAt(%d octets at %d) of %d = %d, %v; want %d, nil", what, n, off, size, got, err, n)
	case want > 0 && !bytes.Equal(p[:want], data[off:off+int64(want)]):
		t.Errorf("%s: ReadAt(%d octets at %d): wrong octets", what, n, off)
	}
}

func testReadAtEdges(t *testing.T, s Backend) {
	for _, size := range []int{0, 10, 300 << 10} {
		data := content(size, 2)
		w := write(t, s, data, 0)
		n := int64(size)
		cases := [][2]int64{{0, 0}, {0, 1}, {0, n}, {0, n + 1}, {n, 1}, {n, 0}, {n + 5, 1}, {n + 1<<20, 10}}
		if n > 1 {
			cases = append(cases, [2]int64{n - 1, 1}, [2]int64{n - 1, 2}, [2]int64{1, n - 1}, [2]int64{n / 2, n})
		}
		check := func(what string, r io.ReaderAt) {
			for _, c := range cases {
				checkReadAt(t, fmt.Sprintf("%s of %d", what, size), r, data, c[0], int(c[1]))
			}
			if got, err := r.ReadAt(make([]byte, 1), -1); err == nil {
				t.Errorf("%s: ReadAt at -1 = %d, nil; want an error", what, got)
			}
		}
		check("Writer", w)
		syncClose(t, s, w)
		check("Body", openBody(t, s, w.ID()))
	}
}

// testReadAtBoundaries reads ranges that start, end or straddle every power of two from 4 KiB
// to 1 MiB, in a body a little over 1 MiB, before and after the commit.
func testReadAtBoundaries(t *testing.T, s Backend) {
	data := content(1<<20+4321, 3)
	w := write(t, s, data, 10000)
	var cases [][2]int64
	for edge := int64(4 << 10); edge <= 1<<20; edge *= 2 {
		for _, d := range []int64{-1, 0, 1} {
			for _, n := range []int64{1, 2, 4096, 100000} {
				cases = append(cases, [2]int64{edge + d, n}, [2]int64{max(0, edge+d-n), n})
			}
		}
	}
	cases = append(cases, [2]int64{0, int64(len(data))}, [2]int64{12345, 3 << 18})
	check := func(what string, r io.ReaderAt) {
		for _, c := range cases {
			checkReadAt(t, what, r, data, c[0], int(c[1]))
		}
	}
	check("Writer", w)
	if err := s.SyncAll(t.Context(), []bodystore.Writer{w}); err != nil {
		t.Fatal(err)
	}
	check("Writer after SyncAll", w)
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	check("Body", openBody(t, s, w.ID()))
}

// testConcurrentReaders reads random ranges of one body from several goroutines, through one
// Body shared and through a Body each, as IMAP sessions and the queue do.
func testConcurrentReaders(t *testing.T, s Backend) {
	data := content(3<<20+17, 4)
	id := commit(t, s, data)
	shared := openBody(t, s, id)
	const readers = 8
	var wg sync.WaitGroup
	errs := make(chan error, 2*readers)
	for i := range 2 * readers {
		wg.Go(func() {
			b := shared
			if i >= readers {
				own, err := s.Open(context.Background(), id)
				if err != nil {
					errs <- err
					return
				}
				defer own.Close()
				b = own
			}
			r := rand.New(rand.NewPCG(uint64(i), 5))
			for range 40 {
				off := r.Int64N(int64(len(data)))
				n := 1 + r.IntN(200<<10)
				p := make([]byte, n)
				got, err := b.ReadAt(p, off)
				want := int(min(int64(n), int64(len(data))-off))
				if got != want || (err != nil && !(err == io.EOF && want < n)) || !bytes.Equal(p[:got], data[off:off+int64(got)]) {
					errs <- fmt.Errorf("reader %d: ReadAt(%d at %d) = %d, %v", i, n, off, got, err)
					return
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

// checkUnsynced opens the body id, written but not synced: ErrNotFound where the backend hides
// such bodies, and no other error anywhere.
func checkUnsynced(t *testing.T, s Backend, id string) {
	t.Helper()
	b, err := s.Open(t.Context(), id)
	switch {
	case err == nil && s.HidesUnsynced:
		t.Fatalf("Open of body %s not synced succeeded, want ErrNotFound", id)
	case err == nil:
		if err := b.Close(); err != nil {
			t.Fatal(err)
		}
	case !errors.Is(err, bodystore.ErrNotFound):
		t.Fatalf("Open of body %s not synced: %v", id, err)
	}
}

// testUncommittedInvisible: a body not synced is not visible (where the backend says so), and
// once aborted it is not, whatever the backend.
func testUncommittedInvisible(t *testing.T, s Backend) {
	w := write(t, s, content(600<<10, 6), 50000)
	checkUnsynced(t, s, w.ID())
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Open(t.Context(), w.ID()); !errors.Is(err, bodystore.ErrNotFound) {
		t.Fatalf("Open of an aborted body: %v, want ErrNotFound", err)
	}
}

// testAbortLeavesNothing aborts bodies before SyncAll and after it (a failed metadata commit,
// as delivery does): nothing of them stays, and the body committed beside them does.
func testAbortLeavesNothing(t *testing.T, s Backend) {
	kept := write(t, s, content(700<<10, 7), 0)
	before := write(t, s, content(700<<10, 8), 0)
	after := write(t, s, content(700<<10, 9), 0)
	small := write(t, s, content(100, 10), 0)
	if err := before.Abort(); err != nil {
		t.Fatal(err)
	}
	if err := s.SyncAll(t.Context(), []bodystore.Writer{kept, after, small}); err != nil {
		t.Fatal(err)
	}
	for _, w := range []bodystore.Writer{after, small} {
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
	}
	if err := kept.Close(); err != nil {
		t.Fatal(err)
	}
	for _, w := range []bodystore.Writer{before, after, small} {
		if _, err := s.Open(t.Context(), w.ID()); !errors.Is(err, bodystore.ErrNotFound) {
			t.Errorf("Open of a body aborted: %v, want ErrNotFound", err)
		}
	}
	ids, err := s.Stored(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []string{kept.ID()}) {
		t.Errorf("stored after the aborts: %v, want only %s", ids, kept.ID())
	}
}

func testRemove(t *testing.T, s Backend) {
	big := commit(t, s, content(900<<10, 11))
	small := commit(t, s, []byte("Subject: x\r\n\r\nhello\r\n"))
	for _, id := range []string{big, small} {
		if err := s.Remove(t.Context(), id); err != nil {
			t.Fatal(err)
		}
		if _, err := s.Open(t.Context(), id); !errors.Is(err, bodystore.ErrNotFound) {
			t.Errorf("Open of a removed body: %v, want ErrNotFound", err)
		}
		if err := s.Remove(t.Context(), id); err != nil {
			t.Errorf("Remove of a body removed already: %v, want nil", err)
		}
	}
	if ids, err := s.Stored(t.Context()); err != nil || len(ids) != 0 {
		t.Errorf("stored after Remove: %v, %v; want none", ids, err)
	}
	unknown, err := bodystore.NewID(time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Remove(t.Context(), unknown); err != nil {
		t.Errorf("Remove of an id never written: %v, want nil", err)
	}
	for _, id := range []string{unknown, "", "../../etc/passwd", "20261125-0123456789abcdef0123456g", "x'; DROP TABLE bodies; --"} {
		if _, err := s.Open(t.Context(), id); !errors.Is(err, bodystore.ErrNotFound) {
			t.Errorf("Open(%q) = %v, want ErrNotFound", id, err)
		}
	}
}

// testSyncAllBatch writes bodies of many sizes, makes them durable in one SyncAll, then reads
// every one back.
func testSyncAllBatch(t *testing.T, s Backend) {
	if err := s.SyncAll(t.Context(), nil); err != nil {
		t.Fatalf("SyncAll of no body: %v", err)
	}
	var batch []bodystore.Writer
	var datas [][]byte
	for i := range 24 {
		data := content([]int{0, 1, 500, 40 << 10, 256<<10 + 3, 600 << 10}[i%6]+i, uint64(100+i))
		batch = append(batch, write(t, s, data, 8192))
		datas = append(datas, data)
	}
	for _, w := range batch {
		checkUnsynced(t, s, w.ID())
	}
	if err := s.SyncAll(t.Context(), batch); err != nil {
		t.Fatal(err)
	}
	for i, w := range batch {
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
		if got := readAll(t, s, w.ID()); !bytes.Equal(got, datas[i]) {
			t.Errorf("body %d of the batch: %d octets read, differing from the %d written", i, len(got), len(datas[i]))
		}
	}
}

// foreign is a Writer of no store.
type foreign struct{ bytes.Buffer }

func (foreign) ID() string                        { return "20260101-000000000000000000000000" }
func (f *foreign) Size() int64                    { return int64(f.Len()) }
func (foreign) ReadAt([]byte, int64) (int, error) { return 0, io.EOF }
func (foreign) Close() error                      { return nil }
func (foreign) Abort() error                      { return nil }

func testSyncAllForeign(t *testing.T, s Backend) {
	own := write(t, s, []byte("own"), 0)
	defer own.Abort()
	if err := s.SyncAll(t.Context(), []bodystore.Writer{own, &foreign{}}); err == nil {
		t.Fatal("SyncAll of a Writer from elsewhere succeeded")
	}
}

// testIDs: ids are unique, of bodystore.NewID's shape and of the day of their creation.
func testIDs(t *testing.T, s Backend) {
	seen := map[string]bool{}
	for range 300 {
		before := time.Now().UTC().Format("20060102")
		w, err := s.Create(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		after := time.Now().UTC().Format("20060102")
		id := w.ID()
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
		if !bodystore.ValidID(id) {
			t.Fatalf("id %q is not of bodystore.NewID's shape", id)
		}
		if day := id[:8]; day != before && day != after {
			t.Fatalf("id %q is not of today (%s)", id, before)
		}
		if seen[id] {
			t.Fatalf("id %q made twice", id)
		}
		seen[id] = true
	}
}
