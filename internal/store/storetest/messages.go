package storetest

import (
	"fmt"
	"slices"
	"sync"

	"posthorn/internal/store"
)

// testReadMessages: ListUIDs lists a mailbox in UID order; GetMessages returns the messages of
// the UIDs given, however many, in whatever order, leaving out the ones without a message.
func testReadMessages(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	f.domain("example.org")
	alice := f.account("alice@example.org")
	all := f.deliverTo(alice, "INBOX", 1200)
	inbox := f.mailbox(alice, "INBOX")
	gaps := []uint32{all[4], all[5], all[699]}
	f.remove(inbox, gaps...)
	want := slices.DeleteFunc(slices.Clone(all), func(u uint32) bool { return slices.Contains(gaps, u) })

	if got := f.uids(inbox); !slices.Equal(got, want) {
		t.Fatalf("ListUIDs has %d UIDs, want %d: %v...", len(got), len(want), got[:min(len(got), 10)])
	}
	listed := map[uint32]store.Message{}
	var size int64
	for _, m := range f.messages(inbox) {
		listed[m.UID] = m
		size += m.Size
	}

	var sparse, mixed []uint32
	for i, u := range all {
		if i%2 == 0 {
			sparse = append(sparse, u) // 600 UIDs with gaps: more than one IN list
		}
		if i < 100 || i%7 == 0 {
			mixed = append(mixed, u) // a run, then scattered UIDs
		}
	}
	last := all[len(all)-1]
	for name, uids := range map[string][]uint32{
		"a range":                    all[:1000],
		"every other UID":            sparse,
		"a run and scattered UIDs":   mixed,
		"unsorted, repeated, absent": {all[9], 0, all[3], all[9], last + 1, all[4], all[1], last + 1000},
	} {
		got := f.get(inbox, uids...)
		wantUIDs := slices.Clone(uids)
		slices.Sort(wantUIDs)
		wantUIDs = slices.DeleteFunc(slices.Compact(wantUIDs), func(u uint32) bool { _, ok := listed[u]; return !ok })
		if !slices.Equal(messageUIDs(got), wantUIDs) {
			t.Fatalf("GetMessages of %s: UIDs %v, want %v", name, messageUIDs(got), wantUIDs)
		}
		for _, m := range got {
			if l := listed[m.UID]; !sameMessage(m, l) {
				t.Fatalf("GetMessages of %s: %+v, ListMessages has %+v", name, m, l)
			}
		}
	}
	if got := f.get(inbox); len(got) != 0 {
		t.Fatalf("GetMessages of no UID = %d messages", len(got))
	}

	got, err := s.MailboxSize(ctx, inbox.ID)
	if err != nil || got != size {
		t.Fatalf("MailboxSize = %d, %v; want %d", got, err, size)
	}
	trash := f.mailbox(alice, "Trash")
	if got, err := s.MailboxSize(ctx, trash.ID); err != nil || got != 0 {
		t.Fatalf("MailboxSize of an empty mailbox = %d, %v", got, err)
	}
	if got := f.uids(trash); len(got) != 0 {
		t.Fatalf("ListUIDs of an empty mailbox = %v", got)
	}
}

func sameMessage(a, b store.Message) bool {
	return a.ID == b.ID && a.MailboxID == b.MailboxID && a.UID == b.UID && a.ModSeq == b.ModSeq &&
		slices.Equal(a.Flags, b.Flags) && a.InternalDate.Equal(b.InternalDate) && a.Size == b.Size &&
		a.BlobID == b.BlobID && string(a.Envelope) == string(b.Envelope) && string(a.Structure) == string(b.Structure)
}

// testUnknownMailbox: every method on a mailbox id that does not exist is store.ErrNotFound.
func testUnknownMailbox(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	f.domain("example.org")
	alice := f.account("alice@example.org")
	inbox := f.mailbox(alice, "INBOX")
	f.deliverTo(alice, "INBOX", 1)
	gone := f.create(alice, "Gone", "").ID
	if _, err := s.DeleteMailbox(ctx, alice.ID, "Gone"); err != nil {
		t.Fatal(err)
	}
	_, err := s.MailboxSize(ctx, gone)
	wantErr(t, "MailboxSize", err, store.ErrNotFound)
	_, err = s.ListUIDs(ctx, gone)
	wantErr(t, "ListUIDs", err, store.ErrNotFound)
	_, err = s.GetMessages(ctx, gone, []uint32{1})
	wantErr(t, "GetMessages", err, store.ErrNotFound)
	_, err = s.ChangedSince(ctx, gone, 0)
	wantErr(t, "ChangedSince", err, store.ErrNotFound)
	_, err = s.ExpungedSince(ctx, gone, 0)
	wantErr(t, "ExpungedSince", err, store.ErrNotFound)
	_, _, err = s.UpdateFlags(ctx, gone, []uint32{1}, store.FlagsAdd, []string{`\Seen`}, 0)
	wantErr(t, "UpdateFlags", err, store.ErrNotFound)
	_, _, err = s.Expunge(ctx, gone, nil)
	wantErr(t, "Expunge", err, store.ErrNotFound)
	for name, op := range map[string]transfer{"Copy": s.Copy, "Move": s.Move} {
		_, err = op(ctx, gone, []uint32{1}, inbox.ID)
		wantErr(t, name+" from a missing mailbox", err, store.ErrNotFound)
		_, err = op(ctx, inbox.ID, []uint32{1}, gone)
		wantErr(t, name+" to a missing mailbox", err, store.ErrNotFound)
	}
	if got := f.uids(inbox); len(got) != 1 {
		t.Fatalf("INBOX has UIDs %v after failed calls, want its one message", got)
	}
}

// testUpdateFlags: the three operations, the stored form of flags, one new MODSEQ per call,
// and UNCHANGEDSINCE (RFC 9051 §6.4.6, RFC 7162 §3.1.3).
func testUpdateFlags(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	f.domain("example.org")
	alice := f.account("alice@example.org")
	first := f.deliverTo(alice, "INBOX", 1, `\seen`, "$Label1", `\Recent`, `\SEEN`)
	uids := append(first, f.deliverTo(alice, "INBOX", 3)...)
	inbox := f.mailbox(alice, "INBOX")
	if got := f.get(inbox, first[0])[0].Flags; !slices.Equal(got, []string{`\Seen`, "$Label1"}) {
		t.Fatalf("delivered flags stored as %q, want [\\Seen $Label1]", got)
	}

	// The given flags are normalised: \flagged twice is one \Flagged, \Recent is session state,
	// $label1 is the $Label1 the first message has.
	updated, failed := f.updateFlags(inbox, append(uids, 999), store.FlagsAdd,
		[]string{`\Flagged`, `\flagged`, `\Recent`, "$label1"}, 0)
	modseq := inbox.HighestModSeq + 1
	wantFlags := [][]string{{`\Seen`, "$Label1", `\Flagged`}, {`\Flagged`, "$label1"}, {`\Flagged`, "$label1"}, {`\Flagged`, "$label1"}}
	checkUpdates(f, "+FLAGS", updated, failed, uids, modseq, wantFlags, nil)
	checkStored(f, inbox, updated)
	if got := f.byID(inbox).HighestModSeq; got != modseq {
		t.Fatalf("HIGHESTMODSEQ after one UpdateFlags = %d, want %d", got, modseq)
	}

	updated, failed = f.updateFlags(inbox, uids, store.FlagsAdd, []string{`\FLAGGED`}, 0)
	if len(updated) != 0 || len(failed) != 0 || f.byID(inbox).HighestModSeq != modseq {
		t.Fatalf("+FLAGS of flags already set: updated %v, failed %v, HIGHESTMODSEQ %d; want no change",
			updated, failed, f.byID(inbox).HighestModSeq)
	}

	updated, failed = f.updateFlags(inbox, uids[:2], store.FlagsRemove, []string{"$LABEL1", `\Answered`}, 0)
	checkUpdates(f, "-FLAGS", updated, failed, uids[:2], modseq+1, [][]string{{`\Seen`, `\Flagged`}, {`\Flagged`}}, nil)
	updated, failed = f.updateFlags(inbox, uids[2:3], store.FlagsReplace, []string{`\answered`, "Work"}, 0)
	checkUpdates(f, "FLAGS", updated, failed, uids[2:3], modseq+2, [][]string{{`\Answered`, "Work"}}, nil)
	checkStored(f, inbox, updated)
	updated, _ = f.updateFlags(inbox, uids[2:3], store.FlagsReplace, []string{"WORK", `\ANSWERED`}, 0)
	if len(updated) != 0 {
		t.Fatalf("FLAGS of the same flags in other case changed %v", updated)
	}

	// UNCHANGEDSINCE: uids[3] last changed at modseq, uids[1] after it. uids[1] fails even
	// though the change would be none.
	updated, failed = f.updateFlags(inbox, []uint32{uids[1], uids[3]}, store.FlagsAdd, []string{`\Flagged`, `\Deleted`}, modseq)
	checkUpdates(f, "UNCHANGEDSINCE", updated, failed, uids[3:], modseq+3, [][]string{{`\Flagged`, "$label1", `\Deleted`}},
		[]uint32{uids[1]})
	if got := f.changedSince(inbox, modseq); !slices.Equal(got, uids) {
		t.Fatalf("ChangedSince(%d) = %v, want %v", modseq, got, uids)
	}
	if got := f.changedSince(inbox, modseq+2); !slices.Equal(got, uids[3:]) {
		t.Fatalf("ChangedSince(%d) = %v, want %v", modseq+2, got, uids[3:])
	}
	if got := f.changedSince(inbox, 1<<63+5); len(got) != 0 {
		t.Fatalf("ChangedSince of a huge MODSEQ = %v", got)
	}

	// FirstUnseen: uids[0] is \Seen, uids[1] not; then none is unseen.
	if got, err := s.FirstUnseen(ctx, inbox.ID); err != nil || got != uids[1] {
		t.Fatalf("FirstUnseen = %d, %v; want %d", got, err, uids[1])
	}
	f.updateFlags(inbox, uids, store.FlagsAdd, []string{`\Seen`}, 0)
	if got, err := s.FirstUnseen(ctx, inbox.ID); err != nil || got != 0 {
		t.Fatalf("FirstUnseen with every message seen = %d, %v; want 0", got, err)
	}

	for _, bad := range []string{"", "two words", "line\r\nbreak"} {
		if _, _, err := s.UpdateFlags(ctx, inbox.ID, uids, store.FlagsAdd, []string{bad}, 0); err == nil {
			t.Fatalf("UpdateFlags with flag %q succeeded", bad)
		}
	}
	if _, _, err := s.UpdateFlags(ctx, inbox.ID, uids, store.FlagOp(99), []string{"x"}, 0); err == nil {
		t.Fatal("UpdateFlags with an unknown operation succeeded")
	}
}

// checkUpdates compares an UpdateFlags result with the UIDs, MODSEQ and flags expected.
func checkUpdates(f *fixture, what string, updated []store.FlagUpdate, failed, uids []uint32, modseq uint64,
	flags [][]string, wantFailed []uint32) {
	f.t.Helper()
	if len(updated) != len(uids) || !slices.Equal(failed, wantFailed) {
		f.t.Fatalf("%s: updated %+v, failed %v; want UIDs %v updated, %v failed", what, updated, failed, uids, wantFailed)
	}
	for i, u := range updated {
		if u.UID != uids[i] || u.ModSeq != modseq || !slices.Equal(u.Flags, flags[i]) {
			f.t.Fatalf("%s: update %d = %+v, want UID %d MODSEQ %d flags %q", what, i, u, uids[i], modseq, flags[i])
		}
	}
}

// checkStored checks that the messages read back have the flags and MODSEQs of the updates.
func checkStored(f *fixture, m store.Mailbox, updated []store.FlagUpdate) {
	f.t.Helper()
	for _, u := range updated {
		got := f.get(m, u.UID)
		if len(got) != 1 || got[0].ModSeq != u.ModSeq || !slices.Equal(got[0].Flags, u.Flags) {
			f.t.Fatalf("message %d read back as %+v, want %+v", u.UID, got, u)
		}
	}
}

// testModSeqMonotonic: every change takes MODSEQs above every earlier one, also with calls
// from many goroutines at once.
func testModSeqMonotonic(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	f.domain("example.org")
	alice := f.account("alice@example.org")
	uids := f.deliverTo(alice, "INBOX", 8)
	inbox, archive := f.mailbox(alice, "INBOX"), f.mailbox(alice, "Archive")

	steps := []struct {
		name    string
		do      func()
		changed []store.Mailbox
	}{
		{"deliver", func() { f.deliverTo(alice, "INBOX", 1) }, []store.Mailbox{inbox}},
		{"flags", func() { f.updateFlags(inbox, uids[:2], store.FlagsAdd, []string{`\Deleted`}, 0) }, []store.Mailbox{inbox}},
		{"expunge", func() { f.expunge(inbox, nil) }, []store.Mailbox{inbox}},
		{"copy", func() { f.copy(inbox, uids[2:4], archive) }, []store.Mailbox{archive}},
		{"move", func() { f.move(inbox, uids[4:5], archive) }, []store.Mailbox{inbox, archive}},
	}
	for _, st := range steps {
		before := map[int64]uint64{inbox.ID: f.byID(inbox).HighestModSeq, archive.ID: f.byID(archive).HighestModSeq}
		st.do()
		for _, m := range []store.Mailbox{inbox, archive} {
			after := f.byID(m).HighestModSeq
			changed := slices.ContainsFunc(st.changed, func(c store.Mailbox) bool { return c.ID == m.ID })
			if changed && after <= before[m.ID] || !changed && after != before[m.ID] {
				t.Fatalf("%s: HIGHESTMODSEQ of %s went from %d to %d", st.name, m.Name, before[m.ID], after)
			}
			if changed && len(f.changedSince(m, before[m.ID]))+len(f.expungedSince(m, before[m.ID])) == 0 {
				t.Fatalf("%s: nothing in %s changed since %d", st.name, m.Name, before[m.ID])
			}
		}
	}

	// Concurrent flag changes on distinct messages each take a MODSEQ of their own.
	rest := f.uids(inbox)
	const rounds = 10
	modseqs := make(chan uint64, len(rest)*rounds)
	errs := make(chan error, len(rest))
	var wg sync.WaitGroup
	for _, uid := range rest {
		wg.Go(func() {
			for i := range rounds {
				op := store.FlagsAdd
				if i%2 == 1 {
					op = store.FlagsRemove
				}
				updated, _, err := s.UpdateFlags(ctx, inbox.ID, []uint32{uid}, op, []string{`\Seen`}, 0)
				if err == nil && len(updated) != 1 {
					err = fmt.Errorf("UID %d: %d updates, want 1", uid, len(updated))
				}
				if err != nil {
					errs <- err
					return
				}
				modseqs <- updated[0].ModSeq
			}
		})
	}
	wg.Wait()
	close(errs)
	close(modseqs)
	for err := range errs {
		t.Fatalf("concurrent UpdateFlags: %v", err)
	}
	seen := map[uint64]bool{}
	var highest uint64
	for m := range modseqs {
		if seen[m] {
			t.Fatalf("MODSEQ %d given to two concurrent UpdateFlags calls", m)
		}
		seen[m] = true
		highest = max(highest, m)
	}
	if got := f.byID(inbox).HighestModSeq; got != highest || len(seen) != len(rest)*rounds {
		t.Fatalf("HIGHESTMODSEQ %d after %d changes, want the highest given, %d", got, len(seen), highest)
	}
}

// testGetMessageMeta: GetMessageMeta gives the UID, MODSEQ, flags, date and size GetMessages
// gives, for ranges and lists of UIDs alike, and leaves out missing UIDs.
func testGetMessageMeta(f *fixture) {
	t := f.t
	f.domain("example.org")
	alice := f.account("alice@example.org")
	inbox := f.mailbox(alice, "INBOX")
	uids := f.deliverTo(alice, "INBOX", 70, `\Seen`, "$Work")
	f.updateFlags(inbox, uids[3:5], store.FlagsReplace, nil, 0)
	for _, want := range [][]uint32{uids, {uids[0], uids[4], uids[69], uids[69] + 5}} {
		full := f.get(inbox, want...)
		meta, err := f.s.GetMessageMeta(f.ctx, inbox.ID, want)
		if err != nil {
			t.Fatal(err)
		}
		if len(meta) != len(full) {
			t.Fatalf("GetMessageMeta returned %d messages, GetMessages %d", len(meta), len(full))
		}
		for i, m := range meta {
			g := full[i]
			if m.UID != g.UID || m.ModSeq != g.ModSeq || !slices.Equal(m.Flags, g.Flags) ||
				!m.InternalDate.Equal(g.InternalDate) || m.Size != g.Size {
				t.Fatalf("GetMessageMeta = %+v, GetMessages %+v", m, g)
			}
		}
	}
	if _, err := f.s.GetMessageMeta(f.ctx, inbox.ID+1000, uids); err == nil {
		t.Fatal("GetMessageMeta of a missing mailbox succeeded")
	}
}

// testMetaChangedSince: the metadata of ChangedSince's messages, everything with 0, and an
// unknown mailbox refused.
func testMetaChangedSince(f *fixture) {
	t := f.t
	f.domain("example.org")
	alice := f.account("alice@example.org")
	inbox := f.mailbox(alice, "INBOX")
	uids := f.deliverTo(alice, "INBOX", 30, `\Seen`)
	f.updateFlags(inbox, uids[10:12], store.FlagsAdd, []string{"$Work"}, 0)
	mid := f.mailbox(alice, "INBOX").HighestModSeq
	f.updateFlags(inbox, uids[20:21], store.FlagsRemove, []string{`\Seen`}, 0)
	for _, modseq := range []uint64{0, 1, mid, mid + 100} {
		full, err := f.s.ChangedSince(f.ctx, inbox.ID, modseq)
		if err != nil {
			t.Fatal(err)
		}
		meta, err := f.s.MetaChangedSince(f.ctx, inbox.ID, modseq)
		if err != nil {
			t.Fatal(err)
		}
		if len(meta) != len(full) {
			t.Fatalf("MetaChangedSince(%d) returned %d messages, ChangedSince %d", modseq, len(meta), len(full))
		}
		for i, m := range meta {
			g := full[i]
			if m.UID != g.UID || m.ModSeq != g.ModSeq || !slices.Equal(m.Flags, g.Flags) ||
				!m.InternalDate.Equal(g.InternalDate) || m.Size != g.Size {
				t.Fatalf("MetaChangedSince(%d) = %+v, ChangedSince %+v", modseq, m, g)
			}
		}
	}
	if got, err := f.s.MetaChangedSince(f.ctx, inbox.ID, 0); err != nil || len(got) != 30 {
		t.Fatalf("MetaChangedSince(0) = %d messages, %v; want 30", len(got), err)
	}
	if got, err := f.s.MetaChangedSince(f.ctx, inbox.ID, mid); err != nil || len(got) != 1 || got[0].UID != uids[20] {
		t.Fatalf("MetaChangedSince(%d) = %v, %v; want UID %d", mid, got, err, uids[20])
	}
	_, err := f.s.MetaChangedSince(f.ctx, inbox.ID+1000, 0)
	wantErr(t, "MetaChangedSince", err, store.ErrNotFound)
}
