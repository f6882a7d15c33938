package imapserver

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"posthorn/internal/store"
)

// checkMeta compares what the cache holds for the mailbox with what the store answers.
func checkMeta(t *testing.T, c *metaCache, st store.Store, mailboxID int64, what string) {
	t.Helper()
	b, err := c.current(context.Background(), mailboxID)
	if err != nil || b == nil {
		t.Fatalf("%s: current = %v, %v", what, b, err)
	}
	uids, err := st.ListUIDs(context.Background(), mailboxID)
	if err != nil {
		t.Fatal(err)
	}
	want, err := st.GetMessageMeta(context.Background(), mailboxID, uids)
	if err != nil {
		t.Fatal(err)
	}
	got := b.messages(nil, append(uids, uids[len(uids)-1]+10)) // a UID past the end is left out
	if len(got) != len(want) {
		t.Fatalf("%s: %d messages cached, the store has %d", what, len(got), len(want))
	}
	for i, m := range got {
		w := want[i]
		if m.UID != w.UID || m.ModSeq != w.ModSeq || !slices.Equal(m.Flags, w.Flags) ||
			!m.InternalDate.Equal(w.InternalDate) || m.Size != w.Size || m.MailboxID != mailboxID {
			t.Fatalf("%s: cached %+v, stored %+v", what, m, w)
		}
	}
}

// TestMetaCacheFollowsStore: flag changes, expunges and new messages made straight in the store
// (as by another node or process, with no change feed) are in the cache at the next use.
func TestMetaCacheFollowsStore(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	var uids []uint32
	for i := range 20 {
		uids = append(uids, h.deliver(h.alice, "INBOX", testMessage(i), `\Seen`))
	}
	inbox, err := h.store.GetMailbox(ctx, h.alice.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	c := newMetaCache(h.store, 0)
	checkMeta(t, c, h.store, inbox.ID, "loaded")
	if _, _, err := h.store.UpdateFlags(ctx, inbox.ID, uids[3:6], store.FlagsAdd, []string{`\Flagged`, "$Work"}, 0); err != nil {
		t.Fatal(err)
	}
	checkMeta(t, c, h.store, inbox.ID, "after flags added")
	if _, _, err := h.store.UpdateFlags(ctx, inbox.ID, uids[:1], store.FlagsReplace, nil, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.store.UpdateFlags(ctx, inbox.ID, []uint32{uids[2], uids[7], uids[19]}, store.FlagsAdd, []string{`\Deleted`}, 0); err != nil {
		t.Fatal(err)
	}
	if _, _, err := h.store.Expunge(ctx, inbox.ID, nil); err != nil {
		t.Fatal(err)
	}
	checkMeta(t, c, h.store, inbox.ID, "after an expunge")
	h.deliver(h.alice, "INBOX", testMessage(21), "$New")
	h.deliver(h.alice, "INBOX", testMessage(22))
	checkMeta(t, c, h.store, inbox.ID, "after deliveries")
	b, _ := c.current(ctx, inbox.ID)
	if got := b.messages(nil, []uint32{uids[2], uids[7]}); len(got) != 0 {
		t.Fatalf("expunged messages still cached: %+v", got)
	}
	// Messages with the same flags share one list: \Seen; \Seen \Flagged $Work; none; $New.
	if n := len(b.flagSets); n != 4 {
		t.Fatalf("%d flag lists for 4 distinct ones: %q", n, b.flagSets)
	}

	if _, err := h.store.CreateMailbox(ctx, h.alice.ID, "Gone", ""); err != nil {
		t.Fatal(err)
	}
	gone, err := h.store.GetMailbox(ctx, h.alice.ID, "Gone")
	if err != nil {
		t.Fatal(err)
	}
	h.deliver(h.alice, "Gone", testMessage(1))
	checkMeta(t, c, h.store, gone.ID, "second mailbox")
	if _, err := h.store.DeleteMailbox(ctx, h.alice.ID, "Gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := c.current(ctx, gone.ID); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("current of a deleted mailbox: %v, want ErrNotFound", err)
	}
	if _, ok := c.boxes[gone.ID]; ok {
		t.Fatal("a deleted mailbox stays in the cache")
	}
}

// TestMetaCacheBudget: over the budget the mailbox used least recently goes; a mailbox larger
// than the budget is not cached.
func TestMetaCacheBudget(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	ids := map[string]int64{}
	for _, name := range []string{"A", "B", "C"} {
		if _, err := h.store.CreateMailbox(ctx, h.alice.ID, name, ""); err != nil {
			t.Fatal(err)
		}
		n := 4
		if name == "C" {
			n = 11
		}
		for i := range n {
			h.deliver(h.alice, name, testMessage(i))
		}
		m, err := h.store.GetMailbox(ctx, h.alice.ID, name)
		if err != nil {
			t.Fatal(err)
		}
		ids[name] = m.ID
	}
	c := newMetaCache(h.store, 10)
	held := func() []string {
		var names []string
		for name, id := range ids {
			if _, ok := c.boxes[id]; ok {
				names = append(names, name)
			}
		}
		slices.Sort(names)
		return names
	}
	for _, step := range []struct {
		use  string
		held string
	}{
		{"A", "[A]"}, {"B", "[A B]"}, {"A", "[A B]"}, {"C", "[A B]"}, {"B", "[A B]"},
	} {
		b, err := c.current(ctx, ids[step.use])
		if err != nil {
			t.Fatal(err)
		}
		if (b == nil) != (step.use == "C") {
			t.Fatalf("use %s: cached %v", step.use, b != nil)
		}
		if got := fmt.Sprint(held()); got != step.held || c.held != 4*len(held()) {
			t.Fatalf("after %s: held %s (%d messages), want %s", step.use, got, c.held, step.held)
		}
	}
	// A fourth mailbox of 4 pushes out the one used least recently (A).
	if _, err := h.store.CreateMailbox(ctx, h.alice.ID, "D", ""); err != nil {
		t.Fatal(err)
	}
	for i := range 4 {
		h.deliver(h.alice, "D", testMessage(i))
	}
	d, err := h.store.GetMailbox(ctx, h.alice.ID, "D")
	if err != nil {
		t.Fatal(err)
	}
	ids["D"] = d.ID
	if _, err := c.current(ctx, d.ID); err != nil {
		t.Fatal(err)
	}
	if got := fmt.Sprint(held()); got != "[B D]" {
		t.Fatalf("after D: held %s, want [B D]", got)
	}
}

// TestFetchFlagsSeesOtherSessions: FETCH FLAGS, answered from the cache, shows at once what
// another session stored, and a message another session expunged is reported missing
// (EXPUNGEISSUED) as before, not answered from memory.
func TestFetchFlagsSeesOtherSessions(t *testing.T) {
	h := newHarness(t)
	for i := range 3 {
		h.deliver(h.alice, "INBOX", testMessage(i))
	}
	a, b := h.login(), h.login()
	a.cmd("a0 ENABLE IMAP4rev2", "* ENABLED IMAP4rev2", "a0 OK ...")
	b.cmd("b0 ENABLE IMAP4rev2", "* ENABLED IMAP4rev2", "b0 OK ...")
	a.run("a1 SELECT INBOX")
	b.run("b1 SELECT INBOX")
	a.cmd("a2 FETCH 1:* (FLAGS)", "* 1 FETCH (FLAGS ())", "* 2 FETCH (FLAGS ())", "* 3 FETCH (FLAGS ())", "a2 OK FETCH completed")
	b.run(`b2 STORE 2 +FLAGS.SILENT (\Flagged $Work)`) // with an untagged FLAGS for $Work
	// The change may come as an unsolicited FETCH first; the FETCH asked for must show it.
	lines := a.run("a3 FETCH 2 (FLAGS)")
	if !slices.Contains(lines, `* 2 FETCH (FLAGS (\Flagged $Work))`) {
		t.Fatalf("FETCH after another session's STORE:\n%q", lines)
	}
	b.run(`b3 STORE 1 +FLAGS.SILENT (\Deleted)`)
	b.cmd("b4 EXPUNGE", "* 1 EXPUNGE", "b4 OK EXPUNGE completed")
	lines = a.run("a4 FETCH 1:* (FLAGS)")
	if last := lines[len(lines)-1]; last != "a4 NO [EXPUNGEISSUED] some of the requested messages no longer exist" {
		t.Fatalf("FETCH of an expunged message:\n%q", lines)
	}
	if slices.ContainsFunc(lines, func(l string) bool { return strings.HasPrefix(l, "* 1 FETCH") && !strings.Contains(l, "Deleted") }) {
		t.Fatalf("FETCH answered for the expunged message:\n%q", lines)
	}
}

// run sends a tagged command and returns every line up to and with its tagged response.
func (c *conn) run(line string) []string {
	c.t.Helper()
	tag, _, _ := strings.Cut(line, " ")
	c.send(line)
	var lines []string
	for {
		l := c.readLine()
		lines = append(lines, l)
		if strings.HasPrefix(l, tag+" ") {
			return lines
		}
	}
}

// TestMetaCacheConcurrent: sessions reading while another writes end up with the store's state
// (run with -race).
func TestMetaCacheConcurrent(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	var uids []uint32
	for i := range 50 {
		uids = append(uids, h.deliver(h.alice, "INBOX", testMessage(i)))
	}
	inbox, err := h.store.GetMailbox(ctx, h.alice.ID, "INBOX")
	if err != nil {
		t.Fatal(err)
	}
	c := newMetaCache(h.store, 0)
	done := make(chan error)
	for range 4 {
		go func() {
			for range 20 {
				b, err := c.current(ctx, inbox.ID)
				if err != nil {
					done <- err
					return
				}
				if got := b.messages(nil, uids); len(got) != len(uids) {
					done <- fmt.Errorf("%d of %d messages", len(got), len(uids))
					return
				}
			}
			done <- nil
		}()
	}
	for i, u := range uids[:20] {
		op := store.FlagsAdd
		if i%2 == 1 {
			op = store.FlagsRemove
		}
		if _, _, err := h.store.UpdateFlags(ctx, inbox.ID, []uint32{u, uids[0]}, op, []string{`\Seen`}, 0); err != nil {
			t.Fatal(err)
		}
	}
	for range 4 {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	checkMeta(t, c, h.store, inbox.ID, "after concurrent changes")
}
