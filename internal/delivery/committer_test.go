package delivery

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"testing"
	"time"

	"posthorn/internal/blob"
	"posthorn/internal/store"
	"posthorn/internal/testutil/storeenv"
)

// setup returns a committer over a fresh store (storeenv) with the accounts a and b of
// example.org.
func setup(t *testing.T) (*Committer, store.Store, *blob.FS, []store.Account) {
	t.Helper()
	env := storeenv.New(t)
	accounts := []store.Account{env.AddAccount("a@example.org", "x"), env.AddAccount("b@example.org", "x")}
	c := New(env.Store, env.Blobs.Bodies(), env.Logger)
	t.Cleanup(c.Close)
	return c, env.Store, env.Blobs, accounts
}

// draft is a new draft holding text.
func draft(t *testing.T, c *Committer, text string) *Draft {
	t.Helper()
	d, err := c.NewDraft(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := io.WriteString(d, text); err != nil {
		t.Fatal(err)
	}
	return d
}

func count(t *testing.T, st store.Store, acc store.Account) int {
	t.Helper()
	mb, err := st.GetMailbox(context.Background(), acc.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	msgs, err := st.ListMessages(context.Background(), mb.ID)
	if err != nil {
		t.Fatal(err)
	}
	return len(msgs)
}

func TestConcurrentCommitsAreBatched(t *testing.T) {
	c, st, _, accounts := setup(t)
	var mu sync.Mutex
	var batches []int
	c.BatchSizes = func(n int) { mu.Lock(); batches = append(batches, n); mu.Unlock() }
	const n = 64
	var wg sync.WaitGroup
	errs := make(chan error, n)
	for i := 0; i < n; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			d := draft(t, c, fmt.Sprintf("message %d\r\n", i))
			got, err := d.Commit(context.Background(), Message{InternalDate: time.Now(),
				Targets: []store.Target{{AccountID: accounts[0].ID, Mailbox: "INBOX"}, {AccountID: accounts[1].ID, Mailbox: "INBOX"}}})
			if err == nil && len(got.Delivered) != 2 {
				err = fmt.Errorf("got %d results, want 2", len(got.Delivered))
			}
			errs <- err
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Fatal(err)
		}
	}
	if a, b := count(t, st, accounts[0]), count(t, st, accounts[1]); a != n || b != n {
		t.Fatalf("stored %d and %d, want %d each", a, b, n)
	}
	total := 0
	for _, size := range batches {
		total += size
	}
	if total != n || len(batches) >= n {
		t.Fatalf("batches %v: want %d deliveries in fewer than %d commits", batches, n, n)
	}
}

// TestBadDeliveryDoesNotFailTheBatch: a delivery to a missing mailbox fails alone, and its body
// is deleted; the others of the batch are committed.
func TestBadDeliveryDoesNotFailTheBatch(t *testing.T) {
	c, st, blobs, accounts := setup(t)
	// Hold the committer busy so the next requests form one batch.
	var wg sync.WaitGroup
	results := make([]error, 3)
	writers := make([]*Draft, 3)
	for i := range writers {
		writers[i] = draft(t, c, "x\r\n")
	}
	for i := range writers {
		mailbox := "INBOX"
		if i == 1 {
			mailbox = "No Such Mailbox"
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			_, results[i] = writers[i].Commit(context.Background(), Message{
				Targets: []store.Target{{AccountID: accounts[0].ID, Mailbox: mailbox}}})
		}()
	}
	wg.Wait()
	if results[0] != nil || results[2] != nil || results[1] == nil {
		t.Fatalf("results %v: want only the second to fail", results)
	}
	if n := count(t, st, accounts[0]); n != 2 {
		t.Fatalf("stored %d, want 2", n)
	}
	if _, err := blobs.Open(writers[1].ID()); !errors.Is(err, blob.ErrNotFound) {
		t.Fatalf("failed delivery's body still there: %v", err)
	}
	if f, err := blobs.Open(writers[0].ID()); err != nil {
		t.Fatalf("committed body missing: %v", err)
	} else {
		f.Close()
	}
}

func TestCommitAfterClose(t *testing.T) {
	c, _, blobs, accounts := setup(t)
	c.Close()
	w := draft(t, c, "x\r\n")
	_, err := w.Commit(context.Background(), Message{Targets: []store.Target{{AccountID: accounts[0].ID, Mailbox: "INBOX"}}})
	if !errors.Is(err, ErrClosed) {
		t.Fatalf("err = %v, want ErrClosed", err)
	}
	if _, err := blobs.Open(w.ID()); !errors.Is(err, blob.ErrNotFound) {
		t.Fatal("body of a refused commit was kept")
	}
}
