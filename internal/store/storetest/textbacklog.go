package storetest

import (
	"slices"

	"posthorn/internal/store"
)

// testTextBacklog: messages delivered without text are listed by UnindexedBlobs; IndexTexts
// makes every copy of such a message searchable through the index; a blob gone before its text
// arrives, or indexed already, is skipped without leaving an index row behind (checkClean).
func testTextBacklog(f *fixture) {
	ctx, t := f.ctx, f.t
	backlog, ok := f.s.(store.TextBacklog)
	if !ok {
		t.Fatalf("%T does not implement store.TextBacklog", f.s)
	}
	f.domain("example.org")
	alice := f.account("alice@example.org")
	inbox := store.Target{AccountID: alice.ID, Mailbox: "INBOX"}
	indexed := f.searchDelivery(searchMessages[0], inbox)
	plain := f.deliveryTo(inbox)
	gone := f.deliveryTo(inbox)
	f.deliver(indexed, plain, gone)
	box := f.mailbox(alice, "INBOX")
	archive := f.mailbox(alice, "Archive")
	copied := f.copy(box, []uint32{2}, archive) // a copy shares its blob, and so its text
	f.remove(box, 3)

	ids, err := backlog.UnindexedBlobs(ctx, "", 10)
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(ids, []string{plain.BlobID}) {
		t.Fatalf("UnindexedBlobs = %v, want [%s]", ids, plain.BlobID)
	}
	if ids, err := backlog.UnindexedBlobs(ctx, plain.BlobID, 10); err != nil || len(ids) != 0 {
		t.Fatalf("UnindexedBlobs after the last = %v, %v", ids, err)
	}

	text := store.Text{Header: "Subject: later", Body: "indexed in the background"}
	err = backlog.IndexTexts(ctx, map[string]store.Text{
		plain.BlobID:   text,
		gone.BlobID:    text,                          // expunged meanwhile
		indexed.BlobID: {Body: "must not replace it"}, // indexed at delivery
	})
	if err != nil {
		t.Fatal(err)
	}
	if got, unindexed := f.searchText(box, store.FieldBody, "in the background"); !slices.Equal(got, []uint32{2}) || len(unindexed) != 0 {
		t.Errorf("INBOX after IndexTexts: %v, unindexed %v; want [2], none", got, unindexed)
	}
	if got, _ := f.searchText(archive, store.FieldText, "subject: later"); !slices.Equal(got, []uint32{copied[0].Dst}) {
		t.Errorf("Archive copy after IndexTexts: %v, want [%d]", got, copied[0].Dst)
	}
	if got, _ := f.searchText(box, store.FieldBody, "must not replace"); len(got) != 0 {
		t.Errorf("an indexed blob was indexed again: %v", got)
	}
	if got, _ := f.searchText(box, store.FieldBody, "lazy dog"); !slices.Equal(got, []uint32{1}) {
		t.Errorf("the text indexed at delivery: %v, want [1]", got)
	}
	if ids, err := backlog.UnindexedBlobs(ctx, "", 10); err != nil || len(ids) != 0 {
		t.Errorf("UnindexedBlobs after IndexTexts = %v, %v", ids, err)
	}
	// The index row follows the blob: expunging both copies leaves none (checkClean).
	f.remove(box, 2)
	f.remove(archive, copied[0].Dst)
}
