package pgbody

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"sync"
	"testing"
	"time"

	"posthorn/internal/bodystore"
	"posthorn/internal/bodystore/bodystoretest"
	"posthorn/internal/testutil/pgtest"
)

// server is the PostgreSQL server of this test binary, started by TestMain.
var server *pgtest.Server

func TestMain(m *testing.M) {
	os.Exit(pgtest.Main(m, func(s *pgtest.Server) { server = s }))
}

// open opens a store on a new database.
func open(t testing.TB) *Store {
	t.Helper()
	return openURL(t, server.Database(t))
}

func openURL(t testing.TB, url string) *Store {
	t.Helper()
	s, err := Open(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// put writes data as a new body of s, synced and closed when sync is set.
func put(t testing.TB, s *Store, data []byte, sync bool) bodystore.Writer {
	t.Helper()
	w, err := s.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if !sync {
		return w
	}
	if err := s.SyncAll(t.Context(), []bodystore.Writer{w}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	return w
}

// stored lists the ids of s's bodies, with a row or chunks.
func (s *Store) stored(ctx context.Context) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT id FROM bodies UNION SELECT body_id FROM body_chunks ORDER BY 1`)
	if err != nil {
		return nil, err
	}
	var ids []string
	for rows.Next() {
		var id string
		if err := rows.Scan(&id); err != nil {
			return nil, err
		}
		ids = append(ids, id)
	}
	return ids, rows.Err()
}

func TestBodystoreConformance(t *testing.T) {
	bodystoretest.Run(t, func(t testing.TB) bodystoretest.Backend {
		s := open(t)
		return bodystoretest.Backend{Store: s, Stored: s.stored, HidesUnsynced: true}
	})
}

// BenchmarkBodies runs on a server of its own that syncs its commits (pgtest.StartDurable),
// since the tests' server does not: SyncAll costs here what it costs in production.
func BenchmarkBodies(b *testing.B) {
	durable, err := pgtest.StartDurable(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		if err := durable.Stop(); err != nil {
			b.Error(err)
		}
	})
	bodystoretest.Benchmark(b, func(b testing.TB) bodystore.Store { return openURL(b, durable.Database(b)) })
}

// TestChunksAsWritten: a Writer inserts each chunk once it is full and keeps at most one
// chunk's octets; SyncAll adds the last one and the row.
func TestChunksAsWritten(t *testing.T) {
	s := open(t)
	ctx := t.Context()
	wb, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	w := wb.(*Writer)
	chunks := func() (n int) {
		t.Helper()
		if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM body_chunks WHERE body_id = $1`, w.id).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	piece := bytes.Repeat([]byte("x"), 10000)
	for w.Size() < 3*ChunkSize+5 {
		if _, err := w.Write(piece); err != nil {
			t.Fatal(err)
		}
		if got, want := chunks(), int(w.Size()/ChunkSize); got != want {
			t.Fatalf("after %d octets: %d chunks in the database, want %d", w.Size(), got, want)
		}
		if cap(w.buf) > ChunkSize {
			t.Fatalf("buffer of %d octets, more than a chunk", cap(w.buf))
		}
	}
	if err := s.SyncAll(ctx, []bodystore.Writer{w}); err != nil {
		t.Fatal(err)
	}
	if got := chunks(); got != 4 {
		t.Fatalf("after SyncAll: %d chunks, want 4", got)
	}
	var size int64
	if err := s.pool.QueryRow(ctx, `SELECT size FROM bodies WHERE id = $1`, w.id).Scan(&size); err != nil || size != w.Size() {
		t.Fatalf("bodies row: size %d, %v; want %d", size, err, w.Size())
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
}

// TestSmallBodyBuffersLittle: a small body holds a buffer of about its size, not a chunk.
func TestSmallBodyBuffersLittle(t *testing.T) {
	s := open(t)
	wb, err := s.Create(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	defer wb.Abort()
	w := wb.(*Writer)
	for range 10 {
		if _, err := w.Write([]byte("line of a small message\r\n")); err != nil {
			t.Fatal(err)
		}
	}
	if cap(w.buf) > 4096 {
		t.Fatalf("a 250-octet body holds a buffer of %d octets", cap(w.buf))
	}
}

// TestOtherNodeSeesOnlySynced: a second store on the same database (another node) sees a body
// once SyncAll returned, not before, and reads what was written.
func TestOtherNodeSeesOnlySynced(t *testing.T) {
	url := server.Database(t)
	a, b := openURL(t, url), openURL(t, url)
	data := bytes.Repeat([]byte("0123456789abcdef"), 40000) // 640,000 octets: two chunks and a part
	w := put(t, a, data, false)
	if _, err := b.Open(t.Context(), w.ID()); !errors.Is(err, bodystore.ErrNotFound) {
		t.Fatalf("the other node opens a body not synced: %v", err)
	}
	if err := a.SyncAll(t.Context(), []bodystore.Writer{w}); err != nil {
		t.Fatal(err)
	}
	if err := w.Close(); err != nil {
		t.Fatal(err)
	}
	body, err := b.Open(t.Context(), w.ID())
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	got, err := io.ReadAll(io.NewSectionReader(body, 0, int64(len(data))))
	if err != nil || !bytes.Equal(got, data) {
		t.Fatalf("the other node read %d octets (%v), differing from the %d written", len(got), err, len(data))
	}
}

// TestRemovedWhileOpen: a body removed while open reads as ErrNotFound, not as short data,
// beyond what was read ahead.
func TestRemovedWhileOpen(t *testing.T) {
	s := open(t)
	w := put(t, s, bytes.Repeat([]byte("y"), 300<<10), true)
	body, err := s.Open(t.Context(), w.ID())
	if err != nil {
		t.Fatal(err)
	}
	defer body.Close()
	if err := s.Remove(t.Context(), w.ID()); err != nil {
		t.Fatal(err)
	}
	// Past the first 64 KiB, which Open read ahead.
	if _, err := body.ReadAt(make([]byte, 100), 200<<10); !errors.Is(err, bodystore.ErrNotFound) {
		t.Fatalf("ReadAt of a removed body: %v, want ErrNotFound", err)
	}
}

// TestAbortAfterCancel: a body whose creating context is done (the client went away) is still
// deleted by Abort.
func TestAbortAfterCancel(t *testing.T) {
	s := open(t)
	ctx, cancel := context.WithCancel(t.Context())
	w, err := s.Create(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(bytes.Repeat([]byte("z"), ChunkSize+1)); err != nil {
		t.Fatal(err)
	}
	cancel()
	if err := w.Abort(); err != nil {
		t.Fatal(err)
	}
	if ids, err := s.stored(t.Context()); err != nil || len(ids) != 0 {
		t.Fatalf("after Abort: %v, %v; want nothing stored", ids, err)
	}
}

// TestRemoveOrphans: the chunks of bodies never synced go when their day is past; those of
// the day, and committed bodies, stay.
func TestRemoveOrphans(t *testing.T) {
	s := open(t)
	day := time.Date(2026, 3, 4, 23, 0, 0, 0, time.UTC)
	write := func(at time.Time, sync bool) string {
		t.Helper()
		s.now = func() time.Time { return at }
		return put(t, s, bytes.Repeat([]byte("o"), ChunkSize+10), sync).ID()
	}
	orphan := write(day, false)
	committed := write(day, true)
	today := write(day.Add(2*time.Hour), false)
	n, err := s.RemoveOrphans(t.Context(), day.Add(2*time.Hour))
	if err != nil || n != 1 {
		t.Fatalf("RemoveOrphans: %d, %v; want 1 chunk", n, err)
	}
	ids, err := s.stored(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) != 2 || ids[0] != committed && ids[1] != committed || ids[0] != today && ids[1] != today {
		t.Fatalf("after RemoveOrphans: %v, want %s and %s (and not %s)", ids, committed, today, orphan)
	}
}

// TestConcurrentOpen: nodes that open a new database together create the tables once, and
// every Open succeeds; opening again changes nothing.
func TestConcurrentOpen(t *testing.T) {
	url := server.Database(t)
	var wg sync.WaitGroup
	errs := make([]error, 4)
	start := make(chan struct{})
	for i := range errs {
		wg.Go(func() {
			<-start
			s, err := Open(t.Context(), url)
			if err == nil {
				s.Close()
			}
			errs[i] = err
		})
	}
	close(start)
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Fatalf("open %d: %v", i, err)
		}
	}
	s := openURL(t, url)
	var storage string
	if err := s.pool.QueryRow(t.Context(), `SELECT attstorage FROM pg_attribute
		WHERE attrelid = 'body_chunks'::regclass AND attname = 'data'`).Scan(&storage); err != nil || storage != "e" {
		t.Fatalf("body_chunks.data storage %q, %v; want e (EXTERNAL)", storage, err)
	}
}

// TestReadAtReadsOnlyItsChunks: a ReadAt reads the chunks it spans and no other: with the
// first two chunks gone, the third still reads, and the first does not.
func TestReadAtReadsOnlyItsChunks(t *testing.T) {
	s := open(t)
	data := make([]byte, 3*ChunkSize+100)
	for i := range data {
		data[i] = byte(i * 7)
	}
	w := put(t, s, data, true)
	if _, err := s.pool.Exec(t.Context(), `DELETE FROM body_chunks WHERE body_id = $1 AND seq < 2`, w.ID()); err != nil {
		t.Fatal(err)
	}
	// A Body as Open makes it, without the first window read ahead.
	b := &Body{rd: reader{s: s, ctx: t.Context(), id: w.ID(), chunkSize: ChunkSize}, size: int64(len(data))}
	defer b.Close()
	for _, off := range []int64{2 * ChunkSize, 2*ChunkSize + 5, 3*ChunkSize + 99} {
		p := make([]byte, min(window+10, int64(len(data))-off))
		if n, err := b.ReadAt(p, off); err != nil || n != len(p) || !bytes.Equal(p, data[off:off+int64(n)]) {
			t.Fatalf("ReadAt(%d at %d) of the third chunk on: %d, %v", len(p), off, n, err)
		}
	}
	if _, err := b.ReadAt(make([]byte, 10), ChunkSize); !errors.Is(err, bodystore.ErrNotFound) {
		t.Fatalf("ReadAt of a deleted chunk: %v, want ErrNotFound", err)
	}
}

// TestFailedSyncAllShowsNothing: a SyncAll that fails (here its context is done) commits no
// body of its batch; Abort then leaves nothing.
func TestFailedSyncAllShowsNothing(t *testing.T) {
	s := open(t)
	var batch []bodystore.Writer
	for _, size := range []int{10, ChunkSize + 10} {
		batch = append(batch, put(t, s, bytes.Repeat([]byte("f"), size), false))
	}
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if err := s.SyncAll(ctx, batch); err == nil {
		t.Fatal("SyncAll with its context done succeeded")
	}
	for _, w := range batch {
		if _, err := s.Open(t.Context(), w.ID()); !errors.Is(err, bodystore.ErrNotFound) {
			t.Errorf("Open after a failed SyncAll: %v, want ErrNotFound", err)
		}
		if err := w.Abort(); err != nil {
			t.Fatal(err)
		}
	}
	if ids, err := s.stored(t.Context()); err != nil || len(ids) != 0 {
		t.Fatalf("after the aborts: %v, %v; want nothing stored", ids, err)
	}
}

// TestCloseUnsyncedDeletes: Close of a body never synced deletes it as Abort does, since nothing
// can refer to it; Close after SyncAll keeps it.
func TestCloseUnsyncedDeletes(t *testing.T) {
	s := open(t)
	unsynced := put(t, s, bytes.Repeat([]byte("c"), ChunkSize+1), false)
	kept := put(t, s, bytes.Repeat([]byte("k"), ChunkSize+1), true)
	if err := unsynced.Close(); err != nil {
		t.Fatal(err)
	}
	if ids, err := s.stored(t.Context()); err != nil || len(ids) != 1 || ids[0] != kept.ID() {
		t.Fatalf("after Close: %v, %v; want only %s", ids, err, kept.ID())
	}
}
