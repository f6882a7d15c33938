package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"slices"
	"sync"
	"time"

	"posthorn/internal/store"
)

// testDeliverCounters: each message takes its mailbox's UIDNEXT as UID and HIGHESTMODSEQ+1 as
// MODSEQ, across Deliver calls and within a batch (RFC 9051 §2.3.1.1, RFC 7162 §3.1.1).
func testDeliverCounters(f *fixture) {
	t := f.t
	f.domain("example.org")
	alice := f.account("alice@example.org")
	inbox, sent := f.mailbox(alice, "INBOX"), f.mailbox(alice, "Sent")

	var got []store.Delivered
	for range 3 {
		got = append(got, f.deliver(f.delivery(alice))[0][0])
	}
	batch := f.deliver(f.delivery(alice), f.deliveryTo(
		store.Target{AccountID: alice.ID, Mailbox: "INBOX"},
		store.Target{AccountID: alice.ID, Mailbox: "Sent"}))
	got = append(got, batch[0][0], batch[1][0])

	uid, modseq := inbox.UIDNext, inbox.HighestModSeq+1
	for i, d := range got {
		if d.MailboxID != inbox.ID {
			t.Fatalf("message %d went to mailbox %d, want INBOX %d", i, d.MailboxID, inbox.ID)
		}
		if i == 0 && (d.UID != uid || d.ModSeq != modseq) {
			t.Fatalf("first message: UID %d MODSEQ %d, want UIDNEXT %d and HIGHESTMODSEQ+1 %d", d.UID, d.ModSeq, uid, modseq)
		}
		if i > 0 && (d.UID <= got[i-1].UID || d.ModSeq <= got[i-1].ModSeq) {
			t.Fatalf("message %d: UID %d MODSEQ %d, not above the previous %+v", i, d.UID, d.ModSeq, got[i-1])
		}
	}
	last := got[len(got)-1]
	after := f.mailbox(alice, "INBOX")
	if after.UIDNext != last.UID+1 || after.HighestModSeq != last.ModSeq || after.MessageCount != int64(len(got)) ||
		after.UIDValidity != inbox.UIDValidity {
		t.Fatalf("INBOX after %d messages = %+v; want UIDNEXT %d, HIGHESTMODSEQ %d, the same UIDVALIDITY %d",
			len(got), after, last.UID+1, last.ModSeq, inbox.UIDValidity)
	}
	msgs := f.messages(inbox)
	for i, m := range msgs {
		if i >= len(got) || m.UID != got[i].UID || m.ModSeq != got[i].ModSeq || m.MailboxID != inbox.ID {
			t.Fatalf("ListMessages[%d] = UID %d MODSEQ %d, want %+v", i, m.UID, m.ModSeq, got)
		}
	}
	if len(msgs) != len(got) {
		t.Fatalf("ListMessages has %d messages, want %d", len(msgs), len(got))
	}

	inSent := batch[1][1]
	if inSent.MailboxID != sent.ID || inSent.UID != sent.UIDNext || inSent.ModSeq != sent.HighestModSeq+1 {
		t.Fatalf("message in Sent = %+v, want mailbox %d UID %d MODSEQ %d", inSent, sent.ID, sent.UIDNext, sent.HighestModSeq+1)
	}
	if after := f.mailbox(alice, "Sent"); after.UIDNext != inSent.UID+1 || after.HighestModSeq != inSent.ModSeq {
		t.Fatalf("Sent after one message = %+v", after)
	}
}

func testDeliverRoundTrip(f *fixture) {
	t := f.t
	f.domain("example.org")
	alice, bob := f.account("alice@example.org"), f.account("bob@example.org")
	d := f.deliveryTo(
		store.Target{AccountID: alice.ID, Mailbox: "INBOX", Flags: []string{`\Seen`, "$Forwarded"}},
		store.Target{AccountID: bob.ID, Mailbox: "Archive"})
	d.InternalDate = time.Date(2026, 3, 4, 5, 6, 7, 0, time.FixedZone("", -7*3600))
	res := f.deliver(d)

	for i, box := range []store.Mailbox{f.mailbox(alice, "INBOX"), f.mailbox(bob, "Archive")} {
		msgs := f.messages(box)
		if len(msgs) != 1 || box.MessageCount != 1 {
			t.Fatalf("mailbox %s: %d messages, MessageCount %d; want 1", box.Name, len(msgs), box.MessageCount)
		}
		m := msgs[0]
		if m.ID == 0 || m.MailboxID != box.ID || m.UID != res[0][i].UID || m.ModSeq != res[0][i].ModSeq ||
			!slices.Equal(m.Flags, d.Targets[i].Flags) || !m.InternalDate.Equal(d.InternalDate) || m.Size != d.Size ||
			m.BlobID != d.BlobID || string(m.Envelope) != string(d.Envelope) || string(m.Structure) != string(d.Structure) {
			t.Fatalf("message in %s = %+v, want the delivery %+v as delivered %+v", box.Name, m, d, res[0][i])
		}
	}
}

// testDeliverAtomic: a batch with one target that does not exist commits nothing.
func testDeliverAtomic(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	f.domain("example.org")
	alice := f.account("alice@example.org")
	before := f.mailbox(alice, "INBOX")

	good := f.delivery(alice)
	for what, bad := range map[string]store.Delivery{
		"missing mailbox": f.deliveryTo(store.Target{AccountID: alice.ID, Mailbox: "INBOX"},
			store.Target{AccountID: alice.ID, Mailbox: "No such folder"}),
		"missing account": f.deliveryTo(store.Target{AccountID: alice.ID + 1000, Mailbox: "INBOX"}),
	} {
		_, err := s.Deliver(ctx, []store.Delivery{good, bad})
		wantErr(t, "Deliver to a "+what, err, store.ErrNotFound)
		if after := f.mailbox(alice, "INBOX"); !reflect.DeepEqual(after, before) {
			t.Fatalf("INBOX after a failed batch = %+v, want %+v", after, before)
		}
		if msgs := f.messages(before); len(msgs) != 0 {
			t.Fatalf("a failed batch left %d messages", len(msgs))
		}
		for _, d := range []store.Delivery{good, bad} {
			if f.hasBlob(d.BlobID) {
				t.Fatalf("a failed batch left blob %s referenced", d.BlobID)
			}
		}
	}
	if res := f.deliver(good); res[0][0].UID != before.UIDNext {
		t.Fatalf("delivery after failed batches got UID %d, want %d", res[0][0].UID, before.UIDNext)
	}
}

func testDeliverInvalid(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	f.domain("example.org")
	alice := f.account("alice@example.org")
	if res, err := s.Deliver(ctx, nil); err != nil || len(res) != 0 {
		t.Fatalf("Deliver(nil) = %v, %v; want nothing", res, err)
	}
	noTarget := f.deliveryTo()
	noBlob := f.delivery(alice)
	noBlob.BlobID = ""
	for what, d := range map[string]store.Delivery{"without target": noTarget, "without blob id": noBlob} {
		if _, err := s.Deliver(ctx, []store.Delivery{f.delivery(alice), d}); err == nil {
			t.Fatalf("Deliver of a delivery %s succeeded", what)
		}
	}
	if msgs := f.messages(f.mailbox(alice, "INBOX")); len(msgs) != 0 {
		t.Fatalf("refused batches left %d messages", len(msgs))
	}
}

// testBlobRefcounts: a blob has one reference per target, and RemoveAccount reports it only when
// its last reference goes.
func testBlobRefcounts(f *fixture) {
	t := f.t
	f.domain("example.org")
	alice, bob, carol := f.account("alice@example.org"), f.account("bob@example.org"), f.account("carol@example.org")
	shared := f.delivery(alice, bob, carol)
	own := f.delivery(alice)
	twice := f.deliveryTo(store.Target{AccountID: carol.ID, Mailbox: "INBOX"},
		store.Target{AccountID: carol.ID, Mailbox: "Archive"})
	f.deliver(shared, own, twice)
	for _, d := range []store.Delivery{shared, own, twice} {
		if !f.hasBlob(d.BlobID) {
			t.Fatalf("delivered blob %s is not referenced", d.BlobID)
		}
	}
	f.checkClean()

	steps := []struct {
		account string
		gone    []string
		kept    []string
	}{
		{"alice@example.org", []string{own.BlobID}, []string{shared.BlobID, twice.BlobID}},
		{"bob@example.org", nil, []string{shared.BlobID, twice.BlobID}},
		{"carol@example.org", []string{shared.BlobID, twice.BlobID}, nil},
	}
	for _, st := range steps {
		gone := f.removeAccount(st.account)
		slices.Sort(gone)
		slices.Sort(st.gone)
		if !slices.Equal(gone, st.gone) {
			t.Fatalf("RemoveAccount(%s) returned blobs %v, want %v", st.account, gone, st.gone)
		}
		for _, id := range st.gone {
			if f.hasBlob(id) {
				t.Fatalf("after RemoveAccount(%s), blob %s is still referenced", st.account, id)
			}
		}
		for _, id := range st.kept {
			if !f.hasBlob(id) {
				t.Fatalf("after RemoveAccount(%s), blob %s lost its other references", st.account, id)
			}
		}
		f.checkClean()
	}
}

func testBlobIDs(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	f.domain("example.org")
	alice, bob := f.account("alice@example.org"), f.account("bob@example.org")
	var want []string
	for range 5 {
		d := f.delivery(alice, bob)
		f.deliver(d)
		want = append(want, d.BlobID)
	}
	var got []string
	if err := s.BlobIDs(ctx, func(id string) error {
		got = append(got, id)
		return nil
	}); err != nil {
		t.Fatal(err)
	}
	slices.Sort(got)
	if !slices.Equal(got, want) {
		t.Fatalf("BlobIDs = %v, want %v", got, want)
	}

	stop := errors.New("stop")
	calls := 0
	err := s.BlobIDs(ctx, func(string) error {
		calls++
		return stop
	})
	if !errors.Is(err, stop) || calls != 1 {
		t.Fatalf("BlobIDs with a failing fn: %d calls, error %v; want 1 call and its error", calls, err)
	}
	if f.hasBlob("20260102-unknown") {
		t.Fatal("HasBlob of an unknown id is true")
	}
}

// testConcurrentDeliver: deliveries from many goroutines, beside account creation, get unique
// UIDs and MODSEQs.
func testConcurrentDeliver(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	f.domain("example.org")
	alice, bob := f.account("alice@example.org"), f.account("bob@example.org")

	const workers, calls = 16, 20
	batches := make([][][]store.Delivery, workers) // worker, call, batch
	total := 0
	for w := range batches {
		for range calls {
			var batch []store.Delivery
			for range w%3 + 1 {
				batch = append(batch, f.delivery(alice, bob))
			}
			batches[w] = append(batches[w], batch)
			total += len(batch)
		}
	}

	results := make([][]store.Delivered, workers)
	errs := make(chan error, workers+1)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for _, batch := range batches[w] {
				res, err := s.Deliver(ctx, batch)
				if err != nil {
					errs <- err
					return
				}
				for _, r := range res {
					results[w] = append(results[w], r...)
				}
			}
		})
	}
	wg.Go(func() {
		for i := range 10 {
			if _, err := s.AddAccount(ctx, fmt.Sprintf("user%d@example.org", i), "hash"); err != nil {
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

	type slot struct {
		mailbox int64
		n       uint64
	}
	uids, modseqs := map[slot]bool{}, map[slot]bool{}
	for _, rs := range results {
		for _, r := range rs {
			u, m := slot{r.MailboxID, uint64(r.UID)}, slot{r.MailboxID, r.ModSeq}
			if uids[u] || modseqs[m] {
				t.Fatalf("UID %d or MODSEQ %d given twice in mailbox %d", r.UID, r.ModSeq, r.MailboxID)
			}
			uids[u], modseqs[m] = true, true
		}
	}
	for _, a := range []store.Account{alice, bob} {
		inbox := f.mailbox(a, "INBOX")
		msgs := f.messages(inbox)
		if len(msgs) != total || inbox.MessageCount != int64(total) {
			t.Fatalf("%s INBOX: %d messages, MessageCount %d; want %d", a.Address, len(msgs), inbox.MessageCount, total)
		}
		for i, m := range msgs {
			if i > 0 && m.UID <= msgs[i-1].UID {
				t.Fatalf("%s INBOX: UID %d listed after %d", a.Address, m.UID, msgs[i-1].UID)
			}
			if !uids[slot{inbox.ID, uint64(m.UID)}] {
				t.Fatalf("%s INBOX: UID %d was not reported by Deliver", a.Address, m.UID)
			}
		}
		if last := msgs[len(msgs)-1]; inbox.UIDNext <= last.UID || inbox.HighestModSeq < last.ModSeq {
			t.Fatalf("%s INBOX = %+v, below its last message %+v", a.Address, inbox, last)
		}
	}
	accounts, err := s.ListAccounts(ctx, "example.org")
	if err != nil {
		t.Fatal(err)
	}
	if len(accounts) != 12 {
		t.Fatalf("%d accounts after concurrent creation, want 12", len(accounts))
	}
}
