package storetest

import (
	"reflect"
	"slices"
	"time"

	"posthorn/internal/store"
)

// testCreateMailbox: a new mailbox starts empty with a UIDVALIDITY of its own; names are kept
// as given except INBOX, which is case-insensitive.
func testCreateMailbox(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	f.domain("example.org")
	alice := f.account("alice@example.org")
	inbox := f.mailbox(alice, "INBOX")

	m := f.create(alice, "Lists/Go", "")
	if m.ID == 0 || m.AccountID != alice.ID || m.Name != "Lists/Go" || m.SpecialUse != "" || m.UIDNext != 1 ||
		m.HighestModSeq < 1 || m.MessageCount != 0 || m.UIDValidity == 0 || m.UIDValidity == inbox.UIDValidity {
		t.Fatalf("CreateMailbox = %+v", m)
	}
	if got := f.byID(m); !reflect.DeepEqual(got, m) {
		t.Fatalf("GetMailboxByID = %+v, want %+v", got, m)
	}
	if got := f.mailbox(alice, "Lists/Go"); !reflect.DeepEqual(got, m) {
		t.Fatalf("GetMailbox = %+v, want %+v", got, m)
	}
	spam := f.create(alice, "Spam", store.UseJunk) // a second \Junk mailbox is allowed
	if spam.SpecialUse != store.UseJunk {
		t.Fatalf("special use %q, want %q", spam.SpecialUse, store.UseJunk)
	}
	if got := f.create(alice, "Entwürfe/日本", ""); got.Name != "Entwürfe/日本" {
		t.Fatalf("UTF-8 name came back as %q", got.Name)
	}
	_, err := s.CreateMailbox(ctx, alice.ID, "Lists/Go", "")
	wantErr(t, "CreateMailbox of an existing name", err, store.ErrExists)
	_, err = s.CreateMailbox(ctx, alice.ID, "inbox", "")
	wantErr(t, "CreateMailbox(inbox)", err, store.ErrExists)
	_, err = s.CreateMailbox(ctx, alice.ID+1000, "Lists", "")
	wantErr(t, "CreateMailbox for a missing account", err, store.ErrNotFound)
	for _, bad := range []struct{ name, use string }{{"", ""}, {"a\x00b", ""}, {"Bad", `\Important`}} {
		if _, err := s.CreateMailbox(ctx, alice.ID, bad.name, bad.use); err == nil {
			t.Fatalf("CreateMailbox(%q, %q) succeeded", bad.name, bad.use)
		}
	}
	lower := f.create(alice, "lists/go", "") // only INBOX ignores case
	if lower.ID == m.ID {
		t.Fatal("lists/go is the same mailbox as Lists/Go")
	}

	boxes, err := s.ListMailboxes(ctx, alice.ID)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, b := range boxes[len(store.DefaultMailboxes):] {
		names = append(names, b.Name)
	}
	if want := []string{"Lists/Go", "Spam", "Entwürfe/日本", "lists/go"}; !slices.Equal(names, want) {
		t.Fatalf("ListMailboxes after the defaults = %v, want %v", names, want)
	}
	_, err = s.GetMailboxByID(ctx, lower.ID+1000)
	wantErr(t, "GetMailboxByID of a missing mailbox", err, store.ErrNotFound)
}

// testDeleteMailbox: deleting a mailbox drops its messages and their blob references, leaves
// the mailboxes below it, and refuses INBOX.
func testDeleteMailbox(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	f.domain("example.org")
	alice, bob := f.account("alice@example.org"), f.account("bob@example.org")
	projects := f.create(alice, "Projects", "")
	f.create(alice, "Projects/Old", "")
	f.create(bob, "Projects", "")
	shared := f.deliveryTo(store.Target{AccountID: alice.ID, Mailbox: "INBOX"},
		store.Target{AccountID: alice.ID, Mailbox: "Projects"})
	own := f.deliveryTo(store.Target{AccountID: alice.ID, Mailbox: "Projects"})
	f.deliver(shared, own)
	f.remove(projects, f.deliverTo(alice, "Projects", 1)...) // leaves an expunged record

	for _, name := range []string{"INBOX", "inbox"} {
		_, err := s.DeleteMailbox(ctx, alice.ID, name)
		wantErr(t, "DeleteMailbox("+name+")", err, store.ErrInUse)
	}
	_, err := s.DeleteMailbox(ctx, alice.ID, "Missing")
	wantErr(t, "DeleteMailbox of a missing mailbox", err, store.ErrNotFound)

	gone, err := s.DeleteMailbox(ctx, alice.ID, "Projects")
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(gone, []string{own.BlobID}) {
		t.Fatalf("DeleteMailbox returned blobs %v, want %v", gone, []string{own.BlobID})
	}
	if !f.hasBlob(shared.BlobID) || f.hasBlob(own.BlobID) {
		t.Fatal("DeleteMailbox dropped the wrong blob references")
	}
	f.checkClean()
	_, err = s.GetMailboxByID(ctx, projects.ID)
	wantErr(t, "GetMailboxByID of a deleted mailbox", err, store.ErrNotFound)
	f.mailbox(alice, "Projects/Old")
	f.mailbox(bob, "Projects")

	again := f.create(alice, "Projects", "")
	if again.UIDValidity <= projects.UIDValidity || again.UIDNext != 1 {
		t.Fatalf("mailbox created again = %+v, want a new UIDVALIDITY above %d", again, projects.UIDValidity)
	}
	if got := f.expungedSince(again, 0); len(got) != 0 {
		t.Fatalf("a new mailbox of a deleted one's name has expunged UIDs %v", got)
	}
	if _, err := s.DeleteMailbox(ctx, alice.ID, "Junk"); err != nil {
		t.Fatalf("DeleteMailbox of a special-use mailbox: %v", err)
	}
}

// testRenameMailbox: a renamed mailbox keeps its id, UIDVALIDITY and messages and takes the
// mailboxes below it along; renaming INBOX moves its messages out instead (RFC 9051 §6.3.6).
func testRenameMailbox(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	f.domain("example.org")
	alice := f.account("alice@example.org")
	work := f.create(alice, "Work", "")
	below := []store.Mailbox{f.create(alice, "Work/2025", ""), f.create(alice, "Work/2025/Q1", "")}
	workshop := f.create(alice, "Workshop", "")
	f.create(alice, "Other", "")
	uids := f.deliverTo(alice, "Work", 2)

	if err := s.RenameMailbox(ctx, alice.ID, "Work", "Job"); err != nil {
		t.Fatal(err)
	}
	f.checkClean()
	job := f.mailbox(alice, "Job")
	if job.ID != work.ID || job.UIDValidity != work.UIDValidity || !slices.Equal(f.uids(job), uids) {
		t.Fatalf("renamed mailbox = %+v with UIDs %v, want %+v's id, UIDVALIDITY and UIDs %v", job, f.uids(job), work, uids)
	}
	for i, name := range []string{"Job/2025", "Job/2025/Q1"} {
		if got := f.mailbox(alice, name); got.ID != below[i].ID {
			t.Fatalf("%s has id %d, want the id of %s, %d", name, got.ID, below[i].Name, below[i].ID)
		}
	}
	if got := f.mailbox(alice, "Workshop"); got.ID != workshop.ID {
		t.Fatal("renaming Work renamed Workshop")
	}
	for _, name := range []string{"Work", "Work/2025"} {
		_, err := s.GetMailbox(ctx, alice.ID, name)
		wantErr(t, "GetMailbox of the old name "+name, err, store.ErrNotFound)
	}

	wantErr(t, "RenameMailbox to a taken name", s.RenameMailbox(ctx, alice.ID, "Job", "Other"), store.ErrExists)
	wantErr(t, "RenameMailbox to INBOX", s.RenameMailbox(ctx, alice.ID, "Job", "inbox"), store.ErrExists)
	wantErr(t, "RenameMailbox of a missing mailbox", s.RenameMailbox(ctx, alice.ID, "Missing", "New"), store.ErrNotFound)
	f.create(alice, "Target/2025", "")
	wantErr(t, "RenameMailbox whose child's new name is taken", s.RenameMailbox(ctx, alice.ID, "Job", "Target"),
		store.ErrExists)
	if got := f.mailbox(alice, "Job/2025"); got.ID != below[0].ID {
		t.Fatal("a refused rename renamed a child")
	}

	// Below itself: "Job" becomes "Job/Sub", and "Job/2025" becomes "Job/Sub/2025".
	if err := s.RenameMailbox(ctx, alice.ID, "Job", "Job/Sub"); err != nil {
		t.Fatal(err)
	}
	for name, id := range map[string]int64{"Job/Sub": work.ID, "Job/Sub/2025": below[0].ID, "Job/Sub/2025/Q1": below[1].ID} {
		if got := f.mailbox(alice, name); got.ID != id {
			t.Fatalf("%s has id %d, want %d", name, got.ID, id)
		}
	}
	f.checkClean()

	// A new name that is, in passing, the old name of another mailbox of the tree.
	x := []store.Mailbox{f.create(alice, "x", ""), f.create(alice, "x/c", ""), f.create(alice, "x/b/c", "")}
	if err := s.RenameMailbox(ctx, alice.ID, "x", "x/b"); err != nil {
		t.Fatal(err)
	}
	for i, name := range []string{"x/b", "x/b/c", "x/b/b/c"} {
		if got := f.mailbox(alice, name); got.ID != x[i].ID {
			t.Fatalf("%s has id %d, want the id of %s, %d", name, got.ID, x[i].Name, x[i].ID)
		}
	}
	testRenameInbox(f, alice)
}

func testRenameInbox(f *fixture, alice store.Account) {
	ctx, s, t := f.ctx, f.s, f.t
	f.create(alice, "INBOX/Sub", "")
	uids := f.deliverTo(alice, "INBOX", 3)
	f.remove(f.mailbox(alice, "INBOX"), uids[0]) // UID 1 is gone: the new mailbox renumbers
	uids = uids[1:]
	f.updateFlags(f.mailbox(alice, "INBOX"), uids[:1], store.FlagsAdd, []string{`\Flagged`}, 0)
	before := f.mailbox(alice, "INBOX")
	old := f.messages(before)

	if err := s.RenameMailbox(ctx, alice.ID, "inbox", "Old Mail"); err != nil {
		t.Fatal(err)
	}
	f.checkClean()
	moved := f.mailbox(alice, "Old Mail")
	inbox := f.mailbox(alice, "INBOX")
	if moved.ID == before.ID || moved.UIDValidity == before.UIDValidity || moved.MessageCount != int64(len(old)) {
		t.Fatalf("mailbox the INBOX was renamed to = %+v, want a new mailbox with %d messages", moved, len(old))
	}
	for i, m := range f.messages(moved) {
		o := old[i]
		if m.UID != uint32(i+1) || m.BlobID != o.BlobID || !slices.Equal(m.Flags, o.Flags) || !m.InternalDate.Equal(o.InternalDate) {
			t.Fatalf("message %d after INBOX rename = %+v, want UID %d and the data of %+v", i, m, i+1, o)
		}
	}
	if inbox.ID != before.ID || inbox.UIDValidity != before.UIDValidity || inbox.MessageCount != 0 ||
		inbox.UIDNext != before.UIDNext || inbox.HighestModSeq <= before.HighestModSeq {
		t.Fatalf("INBOX after rename = %+v, want it empty with UIDVALIDITY and UIDNEXT of %+v and a higher HIGHESTMODSEQ",
			inbox, before)
	}
	if got := f.expungedSince(inbox, before.HighestModSeq); !slices.Equal(got, uids) {
		t.Fatalf("ExpungedSince of INBOX after rename = %v, want %v", got, uids)
	}
	f.mailbox(alice, "INBOX/Sub")
	if next := f.deliverTo(alice, "INBOX", 1); next[0] != before.UIDNext {
		t.Fatalf("delivery to the renamed INBOX got UID %d, want %d", next[0], before.UIDNext)
	}
}

// testSubscriptions: subscriptions are names, sorted, without duplicates, that need not exist.
func testSubscriptions(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	f.domain("example.org")
	alice, bob := f.account("alice@example.org"), f.account("bob@example.org")
	list := func(a store.Account) []string {
		t.Helper()
		names, err := s.ListSubscriptions(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		return names
	}
	set := func(name string, on bool) {
		t.Helper()
		if err := s.SetSubscribed(ctx, alice.ID, name, on); err != nil {
			t.Fatal(err)
		}
	}
	for _, name := range []string{"Work", "Archive", "Not/There", "inbox", "Work"} {
		set(name, true)
	}
	if got, want := list(alice), []string{"Archive", "INBOX", "Not/There", "Work"}; !slices.Equal(got, want) {
		t.Fatalf("ListSubscriptions = %v, want %v", got, want)
	}
	set("Work", false)
	set("Never subscribed", false)
	if got, want := list(alice), []string{"Archive", "INBOX", "Not/There"}; !slices.Equal(got, want) {
		t.Fatalf("ListSubscriptions after unsubscribing = %v, want %v", got, want)
	}
	if got := list(bob); len(got) != 0 {
		t.Fatalf("bob's subscriptions = %v, want none", got)
	}
	wantErr(t, "SetSubscribed for a missing account", s.SetSubscribed(ctx, bob.ID+1000, "X", true), store.ErrNotFound)
	_, err := s.ListSubscriptions(ctx, bob.ID+1000)
	wantErr(t, "ListSubscriptions of a missing account", err, store.ErrNotFound)
	f.removeAccount("alice@example.org")
	if got := list(f.account("alice@example.org")); len(got) != 0 {
		t.Fatalf("a new account of a removed one's address has subscriptions %v", got)
	}
}

// testAccountUsage: the bytes and count of an account's messages, a copy counted again.
func testAccountUsage(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	f.domain("example.org")
	alice, bob := f.account("alice@example.org"), f.account("bob@example.org")
	usage := func(a store.Account) (int64, int64) {
		t.Helper()
		b, n, err := s.AccountUsage(ctx, a.ID)
		if err != nil {
			t.Fatal(err)
		}
		return b, n
	}
	if b, n := usage(alice); b != 0 || n != 0 {
		t.Fatalf("usage of a new account = %d bytes, %d messages", b, n)
	}
	uids := f.deliverTo(alice, "INBOX", 3)
	f.deliverTo(alice, "Archive", 1)
	inbox := f.mailbox(alice, "INBOX")
	if _, err := s.Copy(ctx, inbox.ID, uids[:1], f.mailbox(alice, "Sent").ID); err != nil {
		t.Fatal(err)
	}
	var want int64
	for _, name := range []string{"INBOX", "Archive", "Sent"} {
		for _, m := range f.messages(f.mailbox(alice, name)) {
			want += m.Size
		}
	}
	if b, n := usage(alice); b != want || n != 5 {
		t.Fatalf("usage = %d bytes, %d messages; want %d bytes, 5 messages", b, n, want)
	}
	if b, n := usage(bob); b != 0 || n != 0 {
		t.Fatalf("bob's usage = %d bytes, %d messages; want none", b, n)
	}
	size, err := s.MailboxSize(ctx, inbox.ID)
	if err != nil {
		t.Fatal(err)
	}
	f.remove(inbox, uids...)
	if b, n := usage(alice); b != want-size || n != 2 {
		t.Fatalf("usage after expunging INBOX = %d bytes, %d messages; want %d, 2", b, n, want-size)
	}
	_, _, err = s.AccountUsage(ctx, bob.ID+1000)
	wantErr(t, "AccountUsage of a missing account", err, store.ErrNotFound)

	// Moving and renaming keep the usage; deleting a mailbox takes its messages away.
	want, _ = usage(alice)
	archive := f.mailbox(alice, "Archive")
	f.move(archive, f.uids(archive), f.mailbox(alice, "Trash"))
	if err := s.RenameMailbox(ctx, alice.ID, "Trash", "Bin"); err != nil {
		t.Fatal(err)
	}
	if b, n := usage(alice); b != want || n != 2 {
		t.Fatalf("usage after a move and a rename = %d bytes, %d messages; want %d, 2", b, n, want)
	}
	if size, err = s.MailboxSize(ctx, f.mailbox(alice, "Bin").ID); err != nil || size == 0 {
		t.Fatalf("MailboxSize of Bin = %d, %v", size, err)
	}
	if _, err := s.DeleteMailbox(ctx, alice.ID, "Bin"); err != nil {
		t.Fatal(err)
	}
	if b, n := usage(alice); b != want-size || n != 1 {
		t.Fatalf("usage after deleting Bin = %d bytes, %d messages; want %d, 1", b, n, want-size)
	}
}

// testQuota: an account's quota follows the server's default until set; 0 means none.
func testQuota(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	f.domain("example.org")
	alice := f.account("alice@example.org")
	if alice.QuotaBytes != store.QuotaDefault || alice.Quota(5<<20) != 5<<20 || alice.Quota(0) != 0 {
		t.Fatalf("new account: QuotaBytes %d, Quota(5 MiB) %d", alice.QuotaBytes, alice.Quota(5<<20))
	}
	for _, q := range []int64{1000, 0, store.QuotaDefault} {
		if err := s.SetQuota(ctx, "ALICE@example.org", q); err != nil {
			t.Fatal(err)
		}
		got, err := s.GetAccountByID(ctx, alice.ID)
		if err != nil || got.QuotaBytes != q {
			t.Fatalf("after SetQuota(%d): QuotaBytes %d, %v", q, got.QuotaBytes, err)
		}
		if want := map[int64]int64{1000: 1000, 0: 0, store.QuotaDefault: 7}[q]; got.Quota(7) != want {
			t.Fatalf("after SetQuota(%d): Quota(7) = %d, want %d", q, got.Quota(7), want)
		}
	}
	wantErr(t, "SetQuota of a missing account", s.SetQuota(ctx, "nobody@example.org", 1), store.ErrNotFound)
	if err := s.SetQuota(ctx, "alice@example.org", -5); err == nil {
		t.Fatal("SetQuota(-5) succeeded")
	}
}

func testRecordJunkMove(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	f.domain("example.org")
	alice := f.account("alice@example.org")
	at := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	for _, toJunk := range []bool{true, false} {
		if err := s.RecordJunkMove(ctx, alice.ID, "20260102-blob", toJunk, at); err != nil {
			t.Fatal(err)
		}
	}
	wantErr(t, "RecordJunkMove for a missing account",
		s.RecordJunkMove(ctx, alice.ID+1000, "20260102-blob", true, at), store.ErrNotFound)
	f.removeAccount("alice@example.org")
}
