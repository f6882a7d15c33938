package storetest

import (
	"slices"

	"posthorn/internal/store"
)

// testKeywords: a mailbox's Keywords gain every keyword a delivery, UpdateFlags or a copy sets
// in it, once (compared case-insensitively, spelled as first given), in the order first used,
// and keep them when no message has them any more.
func testKeywords(f *fixture) {
	t := f.t
	f.domain("example.org")
	alice := f.account("alice@example.org")
	inbox := f.mailbox(alice, "INBOX")
	if kw := inbox.Keywords; len(kw) != 0 {
		t.Fatalf("new INBOX has keywords %v", kw)
	}
	uids := f.deliverTo(alice, "INBOX", 2, `\Seen`, "$Label1")
	f.updateFlags(inbox, uids[:1], store.FlagsAdd, []string{"Work", `\Flagged`, "$label1"}, 0)
	f.updateFlags(inbox, uids, store.FlagsReplace, []string{"Home"}, 0)
	f.updateFlags(inbox, uids, store.FlagsRemove, []string{"Home", "Other"}, 0)
	want := []string{"$Label1", "Work", "Home"}
	if got := f.byID(inbox).Keywords; !slices.Equal(got, want) {
		t.Fatalf("INBOX keywords = %v, want %v", got, want)
	}
	if got := f.mailbox(alice, "INBOX").Keywords; !slices.Equal(got, want) {
		t.Fatalf("GetMailbox keywords = %v, want %v", got, want)
	}
	f.updateFlags(inbox, uids[:1], store.FlagsAdd, []string{"Copied"}, 0)
	archive := f.mailbox(alice, "Archive")
	f.copy(inbox, uids, archive)
	if got := f.byID(archive).Keywords; !slices.Equal(got, []string{"Copied"}) {
		t.Fatalf("Archive keywords after the copy = %v, want [Copied]", got)
	}
}

// testClaimRecent: ClaimRecent hands the messages delivered since the last claim to one caller
// only, and CountFrom counts from a UID.
func testClaimRecent(f *fixture) {
	t := f.t
	f.domain("example.org")
	alice := f.account("alice@example.org")
	inbox := f.mailbox(alice, "INBOX")
	claim := func() (uint32, uint32) {
		t.Helper()
		first, next, err := f.s.ClaimRecent(f.ctx, inbox.ID)
		if err != nil {
			t.Fatal(err)
		}
		return first, next
	}
	if first, next := claim(); first != next {
		t.Fatalf("claim of an empty mailbox = [%d, %d), want empty", first, next)
	}
	uids := f.deliverTo(alice, "INBOX", 3)
	if mb := f.byID(inbox); mb.FirstRecentUID != uids[0] {
		t.Fatalf("FirstRecentUID = %d, want %d", mb.FirstRecentUID, uids[0])
	}
	if n, err := f.s.CountFrom(f.ctx, inbox.ID, uids[1]); err != nil || n != 2 {
		t.Fatalf("CountFrom(%d) = %d, %v; want 2", uids[1], n, err)
	}
	if first, next := claim(); first != uids[0] || next != uids[2]+1 {
		t.Fatalf("claim = [%d, %d), want [%d, %d)", first, next, uids[0], uids[2]+1)
	}
	if first, next := claim(); first != next {
		t.Fatalf("second claim = [%d, %d), want empty", first, next)
	}
	if mb := f.byID(inbox); mb.FirstRecentUID != mb.UIDNext {
		t.Fatalf("after the claim FirstRecentUID = %d, UIDNEXT %d", mb.FirstRecentUID, mb.UIDNext)
	}
	more := f.deliverTo(alice, "INBOX", 1)
	if first, next := claim(); first != more[0] || next != more[0]+1 {
		t.Fatalf("claim after a delivery = [%d, %d), want [%d, %d)", first, next, more[0], more[0]+1)
	}
	if _, _, err := f.s.ClaimRecent(f.ctx, inbox.ID+1000); err == nil {
		t.Fatal("ClaimRecent of a missing mailbox succeeded")
	}
}
