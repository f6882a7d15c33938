package postgres

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/store"
	"posthorn/internal/store/storetest"
)

// TestConformance runs the store suite on a new database per subtest.
func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T) store.Store {
		return openStore(t)
	})
}

// twoNodes opens two Stores (two pools, as two nodes have) on one new database, with a domain
// and an account made on the first.
func twoNodes(t *testing.T) (a, b *Store, acc store.Account) {
	t.Helper()
	url := server.Database(t)
	a, b = openURL(t, url), openURL(t, url)
	if _, err := a.AddDomain(t.Context(), "example.org"); err != nil {
		t.Fatal(err)
	}
	acc, err := a.AddAccount(t.Context(), "alice@example.org", "hash")
	if err != nil {
		t.Fatal(err)
	}
	return a, b, acc
}

// TestTwoNodesDeliver: two Stores delivering to the same mailboxes at once give every message
// its own UID, the UIDs of a mailbox dense from 1, and MODSEQs that grow with the UIDs, without
// a deadlock between deliveries that name the mailboxes in opposite orders.
func TestTwoNodesDeliver(t *testing.T) {
	a, b, acc := twoNodes(t)
	const workers, calls = 4, 15 // per node
	var wg sync.WaitGroup
	errs := make(chan error, 2*workers)
	var mu sync.Mutex
	var got []store.Delivered
	n := 0
	for node, s := range []*Store{a, b} {
		for w := range workers {
			wg.Go(func() {
				for c := range calls {
					// Opposite orders on the two nodes: the locks are taken in id order anyway.
					targets := []store.Target{{AccountID: acc.ID, Mailbox: "INBOX"}, {AccountID: acc.ID, Mailbox: "Archive"}}
					if node == 1 {
						slices.Reverse(targets)
					}
					d := store.Delivery{BlobID: fmt.Sprintf("n%d-w%d-c%d", node, w, c), Size: 10,
						InternalDate: time.Unix(1700000000, 0), Targets: targets}
					res, err := s.Deliver(t.Context(), []store.Delivery{d})
					if err != nil {
						errs <- err
						return
					}
					mu.Lock()
					got = append(got, res[0]...)
					mu.Unlock()
				}
			})
			n += calls
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	for _, name := range []string{"INBOX", "Archive"} {
		box, err := b.GetMailbox(t.Context(), acc.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		var mine []store.Delivered
		for _, d := range got {
			if d.MailboxID == box.ID {
				mine = append(mine, d)
			}
		}
		slices.SortFunc(mine, func(x, y store.Delivered) int { return int(x.UID) - int(y.UID) })
		if len(mine) != n {
			t.Fatalf("%s: %d deliveries reported, want %d", name, len(mine), n)
		}
		for i, d := range mine {
			if d.UID != uint32(i+1) {
				t.Fatalf("%s: UIDs %v are not 1 to %d", name, mine, n)
			}
			if i > 0 && d.ModSeq <= mine[i-1].ModSeq {
				t.Fatalf("%s: UID %d has MODSEQ %d, not above UID %d's %d", name, d.UID, d.ModSeq, mine[i-1].UID, mine[i-1].ModSeq)
			}
		}
		if box.UIDNext != uint32(n+1) || box.HighestModSeq != mine[n-1].ModSeq || box.MessageCount != int64(n) {
			t.Fatalf("%s after %d deliveries: %+v", name, n, box)
		}
	}
	problems, err := a.Check(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// TestTwoNodesChangeFeed: a change committed through one Store reaches the subscribers of the
// other (LISTEN/NOTIFY), and only after the commit.
func TestTwoNodesChangeFeed(t *testing.T) {
	a, b, acc := twoNodes(t)
	changes, stop := b.Subscribe(acc.ID)
	defer stop()
	res, err := a.Deliver(t.Context(), []store.Delivery{{BlobID: "x", Size: 1,
		Targets: []store.Target{{AccountID: acc.ID, Mailbox: "INBOX"}}}})
	if err != nil {
		t.Fatal(err)
	}
	want := store.Change{AccountID: acc.ID, MailboxID: res[0][0].MailboxID, Kind: store.ChangeNew, ModSeq: res[0][0].ModSeq}
	select {
	case c := <-changes:
		if c != want {
			t.Fatalf("change on the other node = %+v, want %+v", c, want)
		}
	case <-time.After(time.Second):
		t.Fatal("no change reached the other node within a second")
	}
	// A flag change through b reaches a's subscribers; b's own subscriber hears it once.
	onA, stopA := a.Subscribe(acc.ID)
	defer stopA()
	updated, _, err := b.UpdateFlags(t.Context(), want.MailboxID, []uint32{res[0][0].UID}, store.FlagsAdd, []string{`\Seen`}, 0)
	if err != nil || len(updated) != 1 {
		t.Fatalf("UpdateFlags = %v, %v", updated, err)
	}
	want = store.Change{AccountID: acc.ID, MailboxID: want.MailboxID, Kind: store.ChangeFlags, ModSeq: updated[0].ModSeq}
	for name, ch := range map[string]<-chan store.Change{"a": onA, "b": changes} {
		select {
		case c := <-ch:
			if c != want {
				t.Fatalf("change on %s = %+v, want %+v", name, c, want)
			}
		case <-time.After(time.Second):
			t.Fatalf("no change reached %s within a second", name)
		}
	}
	// A transaction that fails sends nothing: a delivery to a missing mailbox.
	if _, err := a.Deliver(t.Context(), []store.Delivery{{BlobID: "y", Size: 1,
		Targets: []store.Target{{AccountID: acc.ID, Mailbox: "INBOX"}, {AccountID: acc.ID, Mailbox: "Nowhere"}}}}); err == nil {
		t.Fatal("a delivery to a missing mailbox succeeded")
	}
	// The next successful change is the one b hears.
	if _, err := a.CreateMailbox(t.Context(), acc.ID, "Lists", ""); err != nil {
		t.Fatal(err)
	}
	select {
	case c := <-changes:
		if c.Kind != store.ChangeMailbox {
			t.Fatalf("after a failed delivery, b heard %+v, want the new mailbox", c)
		}
	case <-time.After(time.Second):
		t.Fatal("no change reached b within a second")
	}
}

// TestSearchTextLiteral: LIKE's wildcards and escape character in a query stand for
// themselves, and the trigram indexes exist where the server has pg_trgm.
func TestSearchTextLiteral(t *testing.T) {
	s, _, acc := twoNodes(t)
	ctx := t.Context()
	var ds []store.Delivery
	for i, body := range []string{`it is 100% sure`, `it is 100x sure`, `a_b and a\b`, `aXb and aYb`} {
		ds = append(ds, store.Delivery{BlobID: fmt.Sprint("t", i), Size: 10, Text: &store.Text{Body: body},
			Targets: []store.Target{{AccountID: acc.ID, Mailbox: "INBOX"}}})
	}
	res, err := s.Deliver(ctx, ds)
	if err != nil {
		t.Fatal(err)
	}
	box := res[0][0].MailboxID
	for _, c := range []struct {
		query string
		want  []uint32
	}{
		{"00% s", []uint32{1}},
		{"100", []uint32{1, 2}},
		{"a_b", []uint32{3}},
		{`a\b`, []uint32{3}},
		{"AXB", []uint32{4}},
	} {
		got, unindexed, err := s.SearchText(ctx, box, store.FieldBody, c.query)
		if err != nil || !slices.Equal(got, c.want) || len(unindexed) != 0 {
			t.Errorf("SearchText(%q) = %v, unindexed %v, %v; want %v", c.query, got, unindexed, err, c.want)
		}
	}
	var available, indexed bool
	if err := s.pool.QueryRow(ctx, `SELECT
		EXISTS (SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'),
		EXISTS (SELECT 1 FROM pg_indexes WHERE indexname = 'message_text_body_trgm')`).Scan(&available, &indexed); err != nil {
		t.Fatal(err)
	}
	if available != indexed {
		t.Errorf("pg_trgm available: %t, but trigram index made: %t", available, indexed)
	}
}

// TestListenerReconnects: when the listening connection is cut (a restart of the server, a
// network fault), the Store connects again and hears the other nodes' changes anew.
func TestListenerReconnects(t *testing.T) {
	a, b, acc := twoNodes(t)
	ctx := t.Context()
	changes, stop := b.Subscribe(acc.ID)
	defer stop()
	var cut int
	if err := a.pool.QueryRow(ctx, `SELECT count(pg_terminate_backend(pid)) FROM pg_stat_activity
		WHERE datname = current_database() AND query = 'LISTEN `+notifyChannel+`'`).Scan(&cut); err != nil {
		t.Fatal(err)
	}
	if cut != 2 {
		t.Fatalf("cut %d listening connections, want 2 (one per Store)", cut)
	}
	// Changes made before b listens again are lost; keep making them until one is heard.
	deadline := time.Now().Add(30 * time.Second)
	for i := 0; ; i++ {
		if _, err := a.CreateMailbox(ctx, acc.ID, fmt.Sprint("box", i), ""); err != nil {
			t.Fatal(err)
		}
		select {
		case c := <-changes:
			if c.Kind != store.ChangeMailbox {
				t.Fatalf("heard %+v, want a new mailbox", c)
			}
			return
		case <-time.After(200 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatal("b did not listen again within 30 seconds")
		}
	}
}

// TestTwoNodesMixedWrites runs every kind of write at once from two Stores on the mailboxes of
// one account (deliveries with outbound recipients too, flag changes, copies, moves, expunges,
// text indexing, queue completions, all changing the reference counts of the same blobs): none
// fails, which a deadlock between them would make one do, and Check finds the counters, blob
// references and text rows consistent afterwards.
func TestTwoNodesMixedWrites(t *testing.T) {
	a, b, acc := twoNodes(t)
	ctx := t.Context()
	boxes := map[string]int64{}
	for _, name := range []string{"INBOX", "Archive", "Trash"} {
		m, err := a.GetMailbox(ctx, acc.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		boxes[name] = m.ID
	}
	const rounds = 25
	errs := make(chan error, 16)
	var wg sync.WaitGroup
	run := func(what string, fn func(i int) error) {
		wg.Go(func() {
			for i := range rounds {
				if err := fn(i); err != nil {
					errs <- fmt.Errorf("%s %d: %w", what, i, err)
					return
				}
			}
		})
	}
	all := func(s *Store, box string) []uint32 {
		uids, err := s.ListUIDs(ctx, boxes[box])
		if err != nil {
			errs <- err
		}
		return uids
	}
	run("deliver", func(i int) error {
		var ds []store.Delivery
		for j := range 3 {
			ds = append(ds, store.Delivery{BlobID: fmt.Sprintf("m%d-%d", i, j), Size: 10,
				Targets:  []store.Target{{AccountID: acc.ID, Mailbox: "INBOX"}, {AccountID: acc.ID, Mailbox: "Trash"}},
				Outbound: []store.Outbound{{Recipient: "bob@example.net"}, {Recipient: "carol@example.net"}}})
		}
		_, err := a.Deliver(ctx, ds)
		return err
	})
	run("move", func(int) error {
		_, err := b.Move(ctx, boxes["INBOX"], all(b, "INBOX"), boxes["Archive"])
		return err
	})
	run("copy", func(int) error {
		_, err := a.Copy(ctx, boxes["Archive"], all(a, "Archive"), boxes["Trash"])
		return err
	})
	run("flag and expunge", func(int) error {
		for _, box := range []string{"Trash", "Archive"} {
			if _, _, err := b.UpdateFlags(ctx, boxes[box], all(b, box), store.FlagsAdd, []string{`\Deleted`}, 0); err != nil {
				return err
			}
			if _, _, err := b.Expunge(ctx, boxes[box], nil); err != nil {
				return err
			}
		}
		return nil
	})
	run("index", func(i int) error {
		ids, err := a.UnindexedBlobs(ctx, "", 100)
		if err != nil {
			return err
		}
		texts := map[string]store.Text{}
		for _, id := range ids {
			texts[id] = store.Text{Body: "text of " + id}
		}
		return b.IndexTexts(ctx, texts)
	})
	run("queue done", func(int) error {
		rows, err := b.ListQueue(ctx)
		if err != nil || len(rows) == 0 {
			return err
		}
		// The last rows first: the blob rows must be locked in id order all the same.
		var ids []int64
		for _, q := range slices.Backward(rows) {
			ids = append(ids, q.ID)
		}
		_, err = b.QueueDone(ctx, ids...)
		return err
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	problems, err := a.Check(ctx)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range problems {
		t.Error(p)
	}
}

// TestPoolRecoversFromCutConnections: when every connection of the pool is cut at once (a
// restart of the server, a failover, a network fault), the same Store serves the calls after
// it again, reads and writes, without being opened anew.
func TestPoolRecoversFromCutConnections(t *testing.T) {
	url := server.Database(t)
	s := openURL(t, url)
	ctx := t.Context()
	if _, err := s.AddDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	// Several connections in the pool, all idle now.
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			if _, err := s.ListDomains(ctx); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	admin, err := pgx.Connect(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer admin.Close(ctx)
	var pids []int32
	rows, err := admin.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database() AND pid <> pg_backend_pid()`)
	if err == nil {
		pids, err = pgx.CollectRows(rows, pgx.RowTo[int32])
	}
	if err != nil {
		t.Fatal(err)
	}
	if len(pids) < 2 {
		t.Fatalf("%d connections to cut, want the pool's and the listener's", len(pids))
	}
	if _, err := admin.Exec(ctx, `SELECT pg_terminate_backend(pid) FROM unnest($1::int[]) AS pid`, pids); err != nil {
		t.Fatal(err)
	}
	// pg_terminate_backend only signals: wait until the backends are gone.
	for deadline := time.Now().Add(30 * time.Second); ; {
		var left int
		if err := admin.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE pid = ANY($1)`, pids).Scan(&left); err != nil {
			t.Fatal(err)
		}
		if left == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d cut connections still there after 30 seconds", left)
		}
		time.Sleep(10 * time.Millisecond)
	}
	// The first call finds its connection dead and fails, with a temporary error (the servers
	// answer "try again later"); the pool then checks the others before handing them out
	// (connHealth), so no second call fails.
	failures, streak := 0, 0
	for streak < 8 {
		_, err := s.GetDomain(ctx, "example.org")
		switch {
		case err == nil:
			streak++
			continue
		case !store.IsTemporary(err):
			t.Fatalf("after the cut: %v, want a temporary failure", err)
		}
		t.Logf("after the cut: %v", err)
		streak = 0
		if failures++; failures > 1 {
			t.Fatalf("%d calls failed after %d connections were cut, want at most the first", failures, len(pids))
		}
	}
	acc, err := s.AddAccount(ctx, "alice@example.org", "hash")
	if err != nil {
		t.Fatalf("write after the cut: %v", err)
	}
	if _, err := s.Deliver(ctx, []store.Delivery{{BlobID: "b1", Size: 10, InternalDate: time.Unix(1700000000, 0),
		Targets: []store.Target{{AccountID: acc.ID, Mailbox: "INBOX"}}}}); err != nil {
		t.Fatalf("delivery after the cut: %v", err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("ping after the cut: %v", err)
	}
}
