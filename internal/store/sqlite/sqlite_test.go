package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"posthorn/internal/store"
	"posthorn/internal/store/storetest"
)

func openTemp(t testing.TB) (*Store, string) {
	t.Helper()
	path := filepath.Join(t.TempDir(), "posthorn.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	})
	return s, path
}

// openWithAlice opens a new store with the domain example.org and its account alice.
func openWithAlice(t *testing.T) (*Store, store.Account) {
	t.Helper()
	s, _ := openTemp(t)
	if _, err := s.AddDomain(t.Context(), "example.org"); err != nil {
		t.Fatal(err)
	}
	a, err := s.AddAccount(t.Context(), "alice@example.org", "hash")
	if err != nil {
		t.Fatal(err)
	}
	return s, a
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		s, _ := openTemp(t)
		return s
	})
}

func TestPragmas(t *testing.T) {
	s, _ := openTemp(t)
	for _, p := range []struct {
		db    string
		query string
		want  string
	}{
		{"write", "PRAGMA journal_mode", "wal"},
		{"write", "PRAGMA synchronous", "2"}, // FULL
		{"write", "PRAGMA foreign_keys", "1"},
		{"write", "PRAGMA busy_timeout", "10000"},
		{"read", "PRAGMA foreign_keys", "1"},
		{"read", "PRAGMA busy_timeout", "10000"},
		{"read", "PRAGMA query_only", "1"},
	} {
		db := s.write
		if p.db == "read" {
			db = s.read
		}
		var got string
		if err := db.QueryRowContext(t.Context(), p.query).Scan(&got); err != nil {
			t.Fatal(err)
		}
		if got != p.want {
			t.Errorf("%s: %s = %s, want %s", p.db, p.query, got, p.want)
		}
	}
}

// TestOpenOddPath: the path goes into a file: URI, so its special characters must be escaped.
func TestOpenOddPath(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "a b?c#d%e")
	if err := os.Mkdir(dir, 0o750); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "posthorn.db")
	s, err := Open(t.Context(), path)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(path); err != nil {
		t.Fatalf("database not at its path: %v", err)
	}
}

func TestReopenKeepsData(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "posthorn.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.AddDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	a, err := s.AddAccount(ctx, "alice@example.org", "hash")
	if err != nil {
		t.Fatal(err)
	}
	res, err := s.Deliver(ctx, []store.Delivery{{BlobID: "b1", Size: 10, InternalDate: time.Now(),
		Targets: []store.Target{{AccountID: a.ID, Mailbox: "INBOX"}}}})
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}

	for range 2 {
		s, err = Open(ctx, path)
		if err != nil {
			t.Fatalf("re-open: %v", err)
		}
		msgs, err := s.ListMessages(ctx, res[0][0].MailboxID)
		if err != nil {
			t.Fatal(err)
		}
		if len(msgs) != 1 || msgs[0].BlobID != "b1" {
			t.Fatalf("after re-open: messages %+v, want the one delivered", msgs)
		}
		var versions int
		if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM schema_version`).Scan(&versions); err != nil {
			t.Fatal(err)
		}
		all, err := migrations()
		if err != nil {
			t.Fatal(err)
		}
		if versions != len(all) {
			t.Fatalf("schema_version has %d rows, want one per migration (%d)", versions, len(all))
		}
		if err := s.Close(); err != nil {
			t.Fatal(err)
		}
	}
}

func TestNewerSchemaRefused(t *testing.T) {
	ctx := t.Context()
	s, path := openTemp(t)
	if _, err := s.write.ExecContext(ctx, `INSERT INTO schema_version (version, name, applied_at)
		VALUES (9999, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	_, err := Open(ctx, path)
	if err == nil || !strings.Contains(err.Error(), "newer") {
		t.Fatalf("Open of a newer schema: %v, want an error saying it is newer", err)
	}
}

// TestUIDValidityIncreases: UIDVALIDITY values grow strictly over the life of the database, even
// when many mailboxes are created within one second and the clock goes backwards.
func TestUIDValidityIncreases(t *testing.T) {
	ctx := t.Context()
	s, _ := openTemp(t)
	clock := time.Unix(1_800_000_000, 0)
	s.now = func() time.Time { return clock }
	if _, err := s.AddDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	var last uint32
	for i := range 4 {
		if i == 2 {
			clock = clock.Add(-time.Hour)
		}
		a, err := s.AddAccount(ctx, fmt.Sprintf("user%d@example.org", i), "hash")
		if err != nil {
			t.Fatal(err)
		}
		boxes, err := s.ListMailboxes(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range boxes {
			if m.UIDValidity <= last {
				t.Fatalf("UIDVALIDITY %d of %s after %d", m.UIDValidity, m.Name, last)
			}
			last = m.UIDValidity
		}
	}
	if first := uint32(clock.Add(time.Hour).Unix()); last != first+4*uint32(len(store.DefaultMailboxes))-1 {
		t.Fatalf("last UIDVALIDITY %d, want %d", last, first+4*uint32(len(store.DefaultMailboxes))-1)
	}
}

// TestTwoProcesses: two Stores on one file, as the admin CLI beside the running server, write
// concurrently without SQLITE_BUSY and without reusing a UID.
func TestTwoProcesses(t *testing.T) {
	ctx := t.Context()
	server, path := openTemp(t)
	cli, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := cli.Close(); err != nil {
			t.Error(err)
		}
	}()
	if _, err := server.AddDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	a, err := server.AddAccount(ctx, "alice@example.org", "hash")
	if err != nil {
		t.Fatal(err)
	}
	const per = 50
	var wg sync.WaitGroup
	errs := make(chan error, 4)
	for i, s := range []*Store{server, cli, server, cli} {
		wg.Go(func() {
			for j := range per {
				d := store.Delivery{BlobID: fmt.Sprintf("b%d-%d", i, j), Size: 1,
					Targets: []store.Target{{AccountID: a.ID, Mailbox: "INBOX"}}}
				if _, err := s.Deliver(ctx, []store.Delivery{d}); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	wg.Go(func() {
		for j := range 5 {
			if _, err := cli.AddAccount(ctx, fmt.Sprintf("u%d@example.org", j), "hash"); err != nil {
				errs <- err
				return
			}
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	inbox, err := cli.GetMailbox(ctx, a.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	if inbox.MessageCount != 4*per || inbox.UIDNext != 4*per+1 {
		t.Fatalf("INBOX = %+v, want %d messages", inbox, 4*per)
	}
	problems, err := server.Check(ctx)
	if err != nil || len(problems) != 0 {
		t.Fatalf("Check = %v, %v", problems, err)
	}
}

// TestCheckFindsProblems breaks each invariant behind the store's back and expects Check to say so.
func TestCheckFindsProblems(t *testing.T) {
	ctx := t.Context()
	s, a := openWithAlice(t)
	if _, err := s.AddAlias(ctx, "team@example.org", []string{"alice@example.org"}); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Deliver(ctx, []store.Delivery{{BlobID: "b1", Size: 1,
		Targets: []store.Target{{AccountID: a.ID, Mailbox: "INBOX"}, {AccountID: a.ID, Mailbox: "Sent"}}}}); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`UPDATE mailboxes SET uidnext = 1, highestmodseq = 1 WHERE name = 'INBOX'`,
		`UPDATE blobs SET refs = 5`,
		`UPDATE alias_targets SET target = 'gone@example.org'`,
		`INSERT INTO message_text (rowid, header, body) VALUES (99, 'Subject: orphan', '')`,
		`UPDATE mailboxes SET message_bytes = 3 WHERE name = 'Trash'`,
		`UPDATE messages SET text_doc = 98 WHERE mailbox_id = (SELECT id FROM mailboxes WHERE name = 'Sent')`,
	} {
		if _, err := s.write.ExecContext(ctx, q); err != nil {
			t.Fatal(err)
		}
	}
	problems, err := s.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	text := strings.Join(problems, "\n")
	for _, want := range []string{"not below uidnext", "above highestmodseq", "blob b1: refs 5, but 2 messages",
		"target gone@example.org", "text index row 99 belongs to no blob", "text_doc 98, but its blob b1 has NULL",
		"(Trash of account 1): counted 0 messages of 3 octets, holds 0 of 0"} {
		if !strings.Contains(text, want) {
			t.Errorf("Check problems %q lack %q", problems, want)
		}
	}
}

func BenchmarkDeliver(b *testing.B) {
	for _, size := range []int{1, 8} {
		b.Run(fmt.Sprintf("batch=%d", size), func(b *testing.B) {
			benchmarkDeliver(b, size, nil)
		})
	}
	// With a searchable text of about 3 KiB per message, indexed in the same transaction.
	text := &store.Text{Header: strings.Repeat("Received: from relay.example.net by mx.example.org; ", 10),
		Body: strings.Repeat("The quick brown fox jumps over the lazy dog, again and again. ", 40)}
	b.Run("batch=8/text", func(b *testing.B) { benchmarkDeliver(b, 8, text) })
}

// benchmarkDeliver measures Deliver of batches of size deliveries, each to three INBOXes, the
// way the SMTP server commits; b.N counts deliveries.
func benchmarkDeliver(b *testing.B, size int, text *store.Text) {
	ctx := context.Background()
	s, _ := openTemp(b)
	if _, err := s.AddDomain(ctx, "example.org"); err != nil {
		b.Fatal(err)
	}
	var targets []store.Target
	for i := range 3 {
		a, err := s.AddAccount(ctx, fmt.Sprintf("user%d@example.org", i), "hash")
		if err != nil {
			b.Fatal(err)
		}
		targets = append(targets, store.Target{AccountID: a.ID, Mailbox: "INBOX"})
	}
	envelope, structure := make([]byte, 300), make([]byte, 200)
	now := time.Now()
	b.ResetTimer()
	for n := 0; n < b.N; n += size {
		batch := make([]store.Delivery, min(size, b.N-n))
		for i := range batch {
			batch[i] = store.Delivery{BlobID: fmt.Sprintf("20260102-%024d", n+i), Size: 4096, InternalDate: now,
				Envelope: envelope, Structure: structure, Text: text, Targets: targets}
		}
		if _, err := s.Deliver(ctx, batch); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "deliveries/s")
}

// fill delivers n messages to the INBOX of a new account, in batches as the SMTP server
// commits them, and returns the INBOX.
func fill(b *testing.B, s *Store, n int) store.Mailbox {
	ctx := context.Background()
	if _, err := s.AddDomain(ctx, "example.org"); err != nil {
		b.Fatal(err)
	}
	a, err := s.AddAccount(ctx, "user@example.org", "hash")
	if err != nil {
		b.Fatal(err)
	}
	envelope, structure := make([]byte, 300), make([]byte, 200)
	now := time.Now()
	for done := 0; done < n; {
		batch := make([]store.Delivery, min(1000, n-done))
		for i := range batch {
			batch[i] = store.Delivery{BlobID: fmt.Sprintf("20260102-%024d", done+i), Size: 4096, InternalDate: now,
				Envelope: envelope, Structure: structure,
				Targets: []store.Target{{AccountID: a.ID, Mailbox: "INBOX"}}}
		}
		if _, err := s.Deliver(ctx, batch); err != nil {
			b.Fatal(err)
		}
		done += len(batch)
	}
	inbox, err := s.GetMailbox(ctx, a.ID, "INBOX")
	if err != nil {
		b.Fatal(err)
	}
	return inbox
}

// BenchmarkUpdateFlags measures STORE +FLAGS / -FLAGS \Seen on 1,000 messages, every one of
// which changes, in a 3,000-message mailbox: UIDs 1:1000, and every other UID of 1001:3000.
func BenchmarkUpdateFlags(b *testing.B) {
	s, _ := openTemp(b)
	inbox := fill(b, s, 3000)
	var contiguous, sparse []uint32
	for u := uint32(1); u <= 1000; u++ {
		contiguous = append(contiguous, u)
		sparse = append(sparse, 1000+2*u)
	}
	for name, uids := range map[string][]uint32{"uids=1:1000": contiguous, "uids=every-other": sparse} {
		seen := false // the state of the messages, which the testing package may run the body again on
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				op := store.FlagsAdd
				if seen {
					op = store.FlagsRemove
				}
				seen = !seen
				updated, _, err := s.UpdateFlags(ctx, inbox.ID, uids, op, []string{`\Seen`}, 0)
				if err != nil {
					b.Fatal(err)
				}
				if len(updated) != len(uids) {
					b.Fatalf("%d updated, want %d", len(updated), len(uids))
				}
			}
		})
	}
}

// BenchmarkListUIDs measures what SELECT costs to number a 100,000-message mailbox.
func BenchmarkListUIDs(b *testing.B) {
	s, _ := openTemp(b)
	inbox := fill(b, s, 100_000)
	ctx := context.Background()
	for b.Loop() {
		uids, err := s.ListUIDs(ctx, inbox.ID)
		if err != nil {
			b.Fatal(err)
		}
		if len(uids) != 100_000 {
			b.Fatalf("%d UIDs", len(uids))
		}
	}
}

// BenchmarkGetMessages measures a FETCH of 1,000 messages of a 100,000-message mailbox, by
// range and by a sparse set.
func BenchmarkGetMessages(b *testing.B) {
	s, _ := openTemp(b)
	inbox := fill(b, s, 100_000)
	var contiguous, sparse []uint32
	for u := uint32(1); u <= 1000; u++ {
		contiguous = append(contiguous, 50_000+u)
		sparse = append(sparse, u*97)
	}
	for name, uids := range map[string][]uint32{"range": contiguous, "sparse": sparse} {
		b.Run(name, func(b *testing.B) {
			ctx := context.Background()
			for b.Loop() {
				msgs, err := s.GetMessages(ctx, inbox.ID, uids)
				if err != nil {
					b.Fatal(err)
				}
				if len(msgs) != 1000 {
					b.Fatalf("%d messages", len(msgs))
				}
			}
		})
	}
}

// TestMigrateFromVersion1: a database written by the first schema, with flags stored before
// they were normalised, is brought up to date and reads as normal.
func TestMigrateFromVersion1(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "posthorn.db")
	all, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	db, err := sql.Open("sqlite", dsn(path, url.Values{"_journal_mode": {"WAL"}}))
	if err != nil {
		t.Fatal(err)
	}
	tx, err := db.BeginTx(ctx, nil)
	if err != nil {
		t.Fatal(err)
	}
	if err := applyMigrations(ctx, tx, all[:1], time.Now); err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`INSERT INTO domains (id, name, created_at) VALUES (1, 'example.org', 0)`,
		`INSERT INTO accounts (id, address, domain_id, password_hash, created_at) VALUES (1, 'alice@example.org', 1, 'hash', 0)`,
		`INSERT INTO mailboxes (id, account_id, name, uidvalidity, uidnext, highestmodseq) VALUES (1, 1, 'INBOX', 7, 2, 2)`,
		`INSERT INTO blobs (id, size, refs) VALUES ('b1', 10, 1)`,
		`INSERT INTO messages (mailbox_id, uid, modseq, flags, internal_date, size, blob_id)
			VALUES (1, 1, 2, '\seen $Work \Recent \Seen $work', 0, 10, 'b1')`,
	} {
		if _, err := tx.ExecContext(ctx, q); err != nil {
			t.Fatalf("%s: %v", q, err)
		}
	}
	if err := errors.Join(tx.Commit(), db.Close()); err != nil {
		t.Fatal(err)
	}

	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer func() {
		if err := s.Close(); err != nil {
			t.Error(err)
		}
	}()
	msgs, err := s.GetMessages(ctx, 1, []uint32{1})
	if err != nil {
		t.Fatal(err)
	}
	if len(msgs) != 1 || !slices.Equal(msgs[0].Flags, []string{`\Seen`, "$Work"}) {
		t.Fatalf("old message after migration = %+v, want flags [\\Seen $Work]", msgs)
	}
	updated, _, err := s.UpdateFlags(ctx, 1, []uint32{1}, store.FlagsRemove, []string{"$WORK"}, 0)
	if err != nil || len(updated) != 1 || !slices.Equal(updated[0].Flags, []string{`\Seen`}) {
		t.Fatalf("UpdateFlags after migration = %+v, %v", updated, err)
	}
	if got, _, err := s.Expunge(ctx, 1, nil); err != nil || len(got) != 0 {
		t.Fatalf("Expunge without \\Deleted = %v, %v", got, err)
	}
	if problems, err := s.Check(ctx); err != nil || len(problems) != 0 {
		t.Fatalf("Check after migration = %v, %v", problems, err)
	}
	// A message delivered before the full-text index has no text in it: SearchText says so.
	if got, unindexed, err := s.SearchText(ctx, 1, store.FieldText, "anything"); err != nil ||
		len(got) != 0 || !slices.Equal(unindexed, []uint32{1}) {
		t.Fatalf("SearchText after migration = %v, unindexed %v, %v; want none, [1]", got, unindexed, err)
	}
}

// TestTextIndexRows: a blob's text is indexed once, however many messages share it, and its row
// goes with the blob's last reference.
func TestTextIndexRows(t *testing.T) {
	ctx := t.Context()
	s, a := openWithAlice(t)
	rows := func() int {
		var n int
		if err := s.read.QueryRowContext(ctx, `SELECT count(*) FROM message_text`).Scan(&n); err != nil {
			t.Fatal(err)
		}
		return n
	}
	d := store.Delivery{BlobID: "b1", Size: 10, Text: &store.Text{Header: "Subject: hello", Body: "world wide"},
		Targets: []store.Target{{AccountID: a.ID, Mailbox: "INBOX"}, {AccountID: a.ID, Mailbox: "Sent"}}}
	if _, err := s.Deliver(ctx, []store.Delivery{d}); err != nil {
		t.Fatal(err)
	}
	boxes, err := s.ListMailboxes(ctx, a.ID)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := s.Copy(ctx, boxes[0].ID, []uint32{1}, boxes[5].ID); err != nil {
		t.Fatal(err)
	}
	if n := rows(); n != 1 {
		t.Fatalf("%d text index rows for one blob in three mailboxes", n)
	}
	for i, box := range []store.Mailbox{boxes[0], boxes[1], boxes[5]} {
		if _, _, err := s.UpdateFlags(ctx, box.ID, []uint32{1}, store.FlagsAdd, []string{`\Deleted`}, 0); err != nil {
			t.Fatal(err)
		}
		if _, _, err := s.Expunge(ctx, box.ID, nil); err != nil {
			t.Fatal(err)
		}
		if want := map[bool]int{true: 0, false: 1}[i == 2]; rows() != want {
			t.Fatalf("after expunging %d of 3 messages: %d text index rows, want %d", i+1, rows(), want)
		}
	}
}
