package storetest

import (
	"context"
	"reflect"
	"slices"
	"time"

	"posthorn/internal/store"
)

// transfer is the signature of Copy and Move.
type transfer func(ctx context.Context, srcMailboxID int64, uids []uint32, dstMailboxID int64) ([]store.UIDPair, error)

func (f *fixture) copy(src store.Mailbox, uids []uint32, dst store.Mailbox) []store.UIDPair {
	f.t.Helper()
	return f.transfer(f.s.Copy, src, uids, dst)
}

func (f *fixture) move(src store.Mailbox, uids []uint32, dst store.Mailbox) []store.UIDPair {
	f.t.Helper()
	return f.transfer(f.s.Move, src, uids, dst)
}

func (f *fixture) transfer(op transfer, src store.Mailbox, uids []uint32, dst store.Mailbox) []store.UIDPair {
	f.t.Helper()
	pairs, err := op(f.ctx, src.ID, uids, dst.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	f.checkClean()
	return pairs
}

// testExpunge: only messages with \Deleted go, each recorded for ExpungedSince with the one
// new MODSEQ of the call; a blob is reported when its last message goes.
func testExpunge(f *fixture) {
	t := f.t
	f.domain("example.org")
	alice := f.account("alice@example.org")
	shared := f.deliveryTo(store.Target{AccountID: alice.ID, Mailbox: "INBOX"},
		store.Target{AccountID: alice.ID, Mailbox: "Archive"})
	ds := []store.Delivery{shared, f.delivery(alice), f.delivery(alice), f.delivery(alice), f.delivery(alice)}
	ds[4].Targets[0].Flags = []string{`\deleted`} // normalised on delivery, expunged like the others
	var uids []uint32
	for _, r := range f.deliver(ds...) {
		uids = append(uids, r[0].UID)
	}
	inbox := f.mailbox(alice, "INBOX")
	f.updateFlags(inbox, []uint32{uids[0], uids[1], uids[3]}, store.FlagsAdd, []string{`\Deleted`}, 0)
	start := f.byID(inbox).HighestModSeq

	got, gone := f.expunge(inbox, []uint32{uids[1], uids[2]})
	if !slices.Equal(got, uids[1:2]) || !slices.Equal(gone, []string{ds[1].BlobID}) {
		t.Fatalf("Expunge of UIDs %v = %v, blobs %v; want %v, blobs [%s]", uids[1:3], got, gone, uids[1:2], ds[1].BlobID)
	}
	first := f.byID(inbox)
	if first.HighestModSeq != start+1 || first.MessageCount != 4 {
		t.Fatalf("INBOX after expunging one message = %+v, want HIGHESTMODSEQ %d and 4 messages", first, start+1)
	}

	got, gone = f.expunge(inbox, nil)
	slices.Sort(gone)
	wantGone := []string{ds[3].BlobID, ds[4].BlobID}
	slices.Sort(wantGone)
	if want := []uint32{uids[0], uids[3], uids[4]}; !slices.Equal(got, want) || !slices.Equal(gone, wantGone) {
		t.Fatalf("Expunge of all = %v, blobs %v; want %v, blobs %v", got, gone, want, wantGone)
	}
	if !f.hasBlob(shared.BlobID) || f.hasBlob(ds[3].BlobID) {
		t.Fatal("Expunge dropped the wrong blob references")
	}
	if got := f.uids(inbox); !slices.Equal(got, uids[2:3]) {
		t.Fatalf("INBOX UIDs after expunge = %v, want %v", got, uids[2:3])
	}
	end := f.byID(inbox).HighestModSeq
	for since, want := range map[uint64][]uint32{
		start:     {uids[0], uids[1], uids[3], uids[4]},
		start + 1: {uids[0], uids[3], uids[4]},
		end:       nil,
	} {
		if got := f.expungedSince(inbox, since); !slices.Equal(got, want) {
			t.Fatalf("ExpungedSince(%d) = %v, want %v", since, got, want)
		}
	}
	if end != start+2 {
		t.Fatalf("HIGHESTMODSEQ after two expunges = %d, want %d", end, start+2)
	}

	for _, uids := range [][]uint32{nil, {}, uids} {
		got, gone = f.expunge(inbox, uids)
		if len(got) != 0 || len(gone) != 0 {
			t.Fatalf("Expunge(%v) without \\Deleted messages = %v, %v", uids, got, gone)
		}
	}
	if got := f.byID(inbox).HighestModSeq; got != end {
		t.Fatalf("Expunge that removed nothing moved HIGHESTMODSEQ from %d to %d", end, got)
	}
	if got := f.expungedSince(f.mailbox(alice, "Archive"), 0); len(got) != 0 {
		t.Fatalf("Archive has expunged UIDs %v", got)
	}
}

// testCopyMove: copies take new UIDs in source UID order and share blobs; a move also
// records the source UIDs as expunged (RFC 4315 COPYUID, RFC 6851).
func testCopyMove(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	f.domain("example.org")
	alice, bob := f.account("alice@example.org"), f.account("bob@example.org")
	uids := f.deliverTo(alice, "INBOX", 3)
	f.deliverTo(alice, "Archive", 1)
	inbox, archive, trash := f.mailbox(alice, "INBOX"), f.mailbox(alice, "Archive"), f.mailbox(alice, "Trash")
	f.updateFlags(inbox, uids[2:], store.FlagsAdd, []string{`\Flagged`, "$Work"}, 0)
	inbox = f.byID(inbox)
	originals := f.messages(inbox)

	pairs := f.copy(inbox, []uint32{uids[2], 999, uids[0]}, archive)
	want := []store.UIDPair{{Src: uids[0], Dst: archive.UIDNext}, {Src: uids[2], Dst: archive.UIDNext + 1}}
	if !slices.Equal(pairs, want) {
		t.Fatalf("Copy = %v, want %v", pairs, want)
	}
	after := f.byID(archive)
	if after.UIDNext != archive.UIDNext+2 || after.HighestModSeq <= archive.HighestModSeq || after.MessageCount != 3 {
		t.Fatalf("Archive after copying 2 = %+v, was %+v", after, archive)
	}
	if got := f.byID(inbox); !reflect.DeepEqual(got, inbox) {
		t.Fatalf("Copy changed the source: %+v, was %+v", got, inbox)
	}
	for i, c := range f.get(archive, want[0].Dst, want[1].Dst) {
		o := originals[[]int{0, 2}[i]]
		if c.BlobID != o.BlobID || !slices.Equal(c.Flags, o.Flags) || !c.InternalDate.Equal(o.InternalDate) ||
			c.Size != o.Size || string(c.Envelope) != string(o.Envelope) || c.ModSeq > after.HighestModSeq {
			t.Fatalf("copy %+v of %+v", c, o)
		}
	}

	// The originals go; the copies keep the blobs.
	if gone := f.remove(inbox, uids[0], uids[2]); len(gone) != 0 {
		t.Fatalf("expunging copied originals unreferenced %v", gone)
	}
	if gone := f.remove(archive, want[0].Dst); len(gone) != 1 || gone[0] != originals[0].BlobID {
		t.Fatalf("expunging the last copy unreferenced %v, want [%s]", gone, originals[0].BlobID)
	}

	inbox, archive = f.byID(inbox), f.byID(archive)
	pairs = f.move(inbox, []uint32{uids[1]}, trash)
	if want := []store.UIDPair{{Src: uids[1], Dst: trash.UIDNext}}; !slices.Equal(pairs, want) {
		t.Fatalf("Move = %v, want %v", pairs, want)
	}
	if got := f.uids(inbox); len(got) != 0 {
		t.Fatalf("INBOX after moving its last message has UIDs %v", got)
	}
	if got := f.expungedSince(inbox, inbox.HighestModSeq); !slices.Equal(got, uids[1:2]) {
		t.Fatalf("ExpungedSince of the source after Move = %v, want %v", got, uids[1:2])
	}
	if got := f.byID(trash); got.HighestModSeq <= trash.HighestModSeq || got.MessageCount != 1 {
		t.Fatalf("Trash after Move = %+v, was %+v", got, trash)
	}
	if moved := f.get(trash, trash.UIDNext); len(moved) != 1 || moved[0].BlobID != originals[1].BlobID {
		t.Fatalf("moved message = %+v, want blob %s", moved, originals[1].BlobID)
	}

	// A move within one mailbox renumbers the message.
	trash = f.byID(trash)
	if pairs := f.move(trash, []uint32{pairs[0].Dst}, trash); len(pairs) != 1 || pairs[0].Dst != trash.UIDNext {
		t.Fatalf("Move within Trash = %v, want the UID %d", pairs, trash.UIDNext)
	}
	if got := f.expungedSince(trash, trash.HighestModSeq); len(got) != 1 {
		t.Fatalf("Move within Trash recorded %v as expunged", got)
	}

	other := f.mailbox(bob, "INBOX")
	archive = f.byID(archive)
	for name, op := range map[string]transfer{"Copy": s.Copy, "Move": s.Move} {
		_, err := op(ctx, archive.ID, f.uids(archive), other.ID)
		wantErr(t, name+" to another account's mailbox", err, store.ErrNotFound)
		if pairs, err := op(ctx, archive.ID, nil, trash.ID); err != nil || len(pairs) != 0 {
			t.Fatalf("%s of no UID = %v, %v", name, pairs, err)
		}
	}
	if got := f.byID(archive); !reflect.DeepEqual(got, archive) || f.byID(other).MessageCount != 0 {
		t.Fatalf("refused or empty transfers changed Archive %+v or bob's INBOX", got)
	}
	f.checkClean()
}

// testChangeFeed: every change to a mailbox reaches the account's subscribers once committed,
// and no other account's.
func testChangeFeed(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	f.domain("example.org")
	alice, bob := f.account("alice@example.org"), f.account("bob@example.org")
	inbox, archive := f.mailbox(alice, "INBOX"), f.mailbox(alice, "Archive")
	feed, cancel := s.Subscribe(alice.ID)
	defer cancel()
	bobFeed, cancelBob := s.Subscribe(bob.ID)
	defer cancelBob()

	// expect receives what is pending and checks that it is one of the changes wanted, that
	// what it announces is visible already, and that bob heard nothing.
	expect := func(what string, want ...store.Change) {
		t.Helper()
		got := receive(feed)
		if len(got) == 0 {
			t.Fatalf("%s: no change published", what)
		}
		for _, c := range got {
			i := slices.IndexFunc(want, func(w store.Change) bool {
				return w.AccountID == c.AccountID && w.MailboxID == c.MailboxID && w.Kind == c.Kind
			})
			if i < 0 {
				t.Fatalf("%s: change %+v, want one of %+v", what, c, want)
			}
			if c.Kind == store.ChangeMailbox {
				continue
			}
			if now := f.byID(store.Mailbox{ID: c.MailboxID}); now.HighestModSeq < c.ModSeq || c.ModSeq == 0 {
				t.Fatalf("%s: change %+v announces more than the mailbox shows, %+v", what, c, now)
			}
		}
		if got := drain(bobFeed); len(got) != 0 {
			t.Fatalf("%s: bob heard %+v", what, got)
		}
	}
	change := func(m store.Mailbox, kind store.ChangeKind) store.Change {
		return store.Change{AccountID: m.AccountID, MailboxID: m.ID, Kind: kind}
	}

	uids := f.deliverTo(alice, "INBOX", 2)
	expect("Deliver", change(inbox, store.ChangeNew))
	f.updateFlags(inbox, uids, store.FlagsAdd, []string{`\Seen`}, 0)
	expect("UpdateFlags", change(inbox, store.ChangeFlags))
	f.updateFlags(inbox, uids, store.FlagsAdd, []string{`\Seen`}, 0)
	if got := drain(feed); len(got) != 0 {
		t.Fatalf("UpdateFlags that changed nothing published %+v", got)
	}
	f.remove(inbox, uids[0])
	expect("flags and Expunge", change(inbox, store.ChangeFlags), change(inbox, store.ChangeExpunge))
	f.move(inbox, uids[1:], archive)
	expect("Move", change(archive, store.ChangeNew), change(inbox, store.ChangeExpunge))

	created := f.create(alice, "Feed", "")
	expect("CreateMailbox", change(created, store.ChangeMailbox))
	if err := s.RenameMailbox(ctx, alice.ID, "Feed", "Fed"); err != nil {
		t.Fatal(err)
	}
	expect("RenameMailbox", change(created, store.ChangeMailbox))
	if _, err := s.DeleteMailbox(ctx, alice.ID, "Fed"); err != nil {
		t.Fatal(err)
	}
	expect("DeleteMailbox", change(created, store.ChangeMailbox))

	f.deliver(f.delivery(bob))
	if got := receive(bobFeed); len(got) == 0 || got[0].MailboxID != f.mailbox(bob, "INBOX").ID {
		t.Fatalf("bob's delivery published %+v", got)
	}
	cancel()
	f.deliverTo(alice, "INBOX", 1)
	if got := drain(feed); len(got) != 0 {
		t.Fatalf("changes after unsubscribing: %+v", got)
	}
}

// receive waits for a change and returns it with any others pending.
func receive(ch <-chan store.Change) []store.Change {
	select {
	case c := <-ch:
		return append([]store.Change{c}, drain(ch)...)
	case <-time.After(5 * time.Second):
		return nil
	}
}

// drain returns the changes pending, without waiting.
func drain(ch <-chan store.Change) []store.Change {
	var out []store.Change
	for {
		select {
		case c := <-ch:
			out = append(out, c)
		default:
			return out
		}
	}
}

// testRemoveMessages: RemoveMessages removes exactly the UIDs given, flagged \Deleted or not,
// in one change recorded for ExpungedSince, skips UIDs that are gone, and drops the blob
// references it held.
func testRemoveMessages(f *fixture) {
	ctx, t := f.ctx, f.t
	f.domain("example.org")
	alice := f.account("alice@example.org")
	uids := f.deliverTo(alice, "INBOX", 4)
	inbox := f.mailbox(alice, "INBOX")
	f.updateFlags(inbox, uids[3:], store.FlagsAdd, []string{`\Deleted`}, 0)
	start := f.byID(inbox).HighestModSeq
	removed, gone, err := f.s.RemoveMessages(ctx, inbox.ID, []uint32{uids[2], uids[0], uids[3] + 100})
	if err != nil {
		t.Fatal(err)
	}
	if want := []uint32{uids[0], uids[2]}; !slices.Equal(removed, want) || len(gone) != 2 {
		t.Fatalf("RemoveMessages = %v, blobs %v; want %v and 2 blobs", removed, gone, want)
	}
	after := f.byID(inbox)
	if got := f.uids(inbox); !slices.Equal(got, []uint32{uids[1], uids[3]}) || after.HighestModSeq != start+1 {
		t.Fatalf("INBOX after RemoveMessages: UIDs %v, HIGHESTMODSEQ %d; want %v, %d", got, after.HighestModSeq,
			[]uint32{uids[1], uids[3]}, start+1)
	}
	if got := f.expungedSince(inbox, start); !slices.Equal(got, removed) {
		t.Fatalf("ExpungedSince after RemoveMessages = %v, want %v", got, removed)
	}
	if removed, _, err := f.s.RemoveMessages(ctx, inbox.ID, []uint32{uids[0]}); err != nil || len(removed) != 0 {
		t.Fatalf("RemoveMessages of a removed UID = %v, %v", removed, err)
	}
}
