package storetest

import (
	"slices"
	"strings"

	"posthorn/internal/message"
	"posthorn/internal/store"
)

// searchMessages are the messages testSearchText delivers, in this order, their text computed
// as delivery computes it (message.ExtractText).
var searchMessages = []string{
	// 1: plain text, and a header value only TEXT sees.
	"Subject: plain\nX-Project: Zanzibar\n\nThe quick brown fox jumps over the lazy dog.\n",
	// 2: base64, in UTF-8.
	"Subject: encoded\nContent-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n" +
		"RGllIEvDtmNoaW4gYmVzdGVsbHQgZWluZW4gS2FmZmVlLg==\n",
	// 3: quoted-printable, in Latin-1, with a soft line break inside a word.
	"Subject: qp\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: quoted-printable\n\n" +
		"Le pr=E9sident a sign=\n=E9 le d=E9cret.\n",
	// 4: HTML, whose tags, attributes and style sheet are not text.
	"Subject: html\nContent-Type: text/html\n\n" +
		"<html><head><style>.secretclass { color: red }</style></head>" +
		"<body><p class=\"secretclass\">Say &quot;cheese&quot; <b>now</b></p></body></html>\n",
}

// searchDelivery is a delivery of raw (LF line ends made CRLF) to the targets, with its text.
func (f *fixture) searchDelivery(raw string, targets ...store.Target) store.Delivery {
	f.t.Helper()
	raw = strings.ReplaceAll(raw, "\n", "\r\n")
	p, err := message.Parse(strings.NewReader(raw), int64(len(raw)))
	if err != nil {
		f.t.Fatal(err)
	}
	text, err := message.ExtractText(strings.NewReader(raw), p.Root)
	if err != nil {
		f.t.Fatal(err)
	}
	d := f.deliveryTo(targets...)
	d.Size = int64(len(raw))
	d.Text = &store.Text{Header: text.Header, Body: text.Body}
	return d
}

// searchText runs SearchText and fails the test on an error.
func (f *fixture) searchText(m store.Mailbox, field store.TextField, query string) (matched, unindexed []uint32) {
	f.t.Helper()
	matched, unindexed, err := f.s.SearchText(f.ctx, m.ID, field, query)
	if err != nil {
		f.t.Fatalf("SearchText(%s, %q): %v", m.Name, query, err)
	}
	return matched, unindexed
}

// testSearchText: SearchText finds a substring of the delivered text, case-insensitively, in
// the body (FieldBody) or in the header and the body (FieldText), in one mailbox; copies and
// moved messages are found where they are; messages delivered without text are reported apart.
func testSearchText(f *fixture) {
	ctx, s, t := f.ctx, f.s, f.t
	f.domain("example.org")
	alice, bob := f.account("alice@example.org"), f.account("bob@example.org")
	inbox := store.Target{AccountID: alice.ID, Mailbox: "INBOX"}
	var ds []store.Delivery
	for _, raw := range searchMessages {
		ds = append(ds, f.searchDelivery(raw, inbox))
	}
	// bob has message 1 too: a search in alice's INBOX must not find his.
	ds = append(ds, f.searchDelivery(searchMessages[0], store.Target{AccountID: bob.ID, Mailbox: "INBOX"}))
	f.deliver(ds...)
	box := f.mailbox(alice, "INBOX")

	for _, c := range []struct {
		field store.TextField
		query string
		want  []uint32
	}{
		{store.FieldBody, "quick brown", []uint32{1}},
		{store.FieldBody, "QUICK bRoWn FOX", []uint32{1}},
		{store.FieldBody, "ick bro", []uint32{1}},           // inside words
		{store.FieldBody, "Köchin", []uint32{2}},            // base64
		{store.FieldBody, "KÖCHIN BESTELLT", []uint32{2}},   // non-ASCII case folding
		{store.FieldBody, "président a signé", []uint32{3}}, // QP, charset, soft break
		{store.FieldBody, `say "cheese" now`, []uint32{4}},  // entities decoded; a quote in the query
		{store.FieldBody, "secretclass", nil},               // attributes and style sheets are no text
		{store.FieldBody, "<b>", nil},                       // nor are tags
		{store.FieldBody, "zanzibar", nil},                  // a header value is not in the body
		{store.FieldText, "zanzibar", []uint32{1}},          // but TEXT sees it
		{store.FieldText, "subject: enc", []uint32{2}},      // field names included
		{store.FieldText, "the", []uint32{1}},               // 3 characters are enough
		{store.FieldText, "nowhere to be found", nil},
		{store.FieldHeader, "zanzibar", []uint32{1}},    // the header's text only
		{store.FieldHeader, "subject: qp", []uint32{3}}, // field names included
		{store.FieldHeader, "lazy dog", nil},            // not the body
	} {
		got, unindexed := f.searchText(box, c.field, c.query)
		if !slices.Equal(got, c.want) || len(unindexed) != 0 {
			t.Errorf("SearchText(%d, %q) = %v, unindexed %v; want %v", c.field, c.query, got, unindexed, c.want)
		}
	}

	// Too short for the index; an unknown mailbox.
	_, _, err := s.SearchText(ctx, box.ID, store.FieldBody, "ox")
	wantErr(t, "SearchText of 2 characters", err, store.ErrNotIndexable)
	_, _, err = s.SearchText(ctx, box.ID+1000, store.FieldBody, "quick")
	wantErr(t, "SearchText in an unknown mailbox", err, store.ErrNotFound)

	// A copy is found in its mailbox through the original's index row; a moved message in its
	// new one only.
	archive, trash := f.mailbox(alice, "Archive"), f.mailbox(alice, "Trash")
	copied := f.copy(box, []uint32{1, 2}, archive)
	if got, _ := f.searchText(archive, store.FieldBody, "lazy dog"); !slices.Equal(got, []uint32{copied[0].Dst}) {
		t.Errorf("SearchText in Archive after Copy = %v, want [%d]", got, copied[0].Dst)
	}
	moved := f.move(box, []uint32{3}, trash)
	if got, _ := f.searchText(trash, store.FieldBody, "décret"); !slices.Equal(got, []uint32{moved[0].Dst}) {
		t.Errorf("SearchText in Trash after Move = %v, want [%d]", got, moved[0].Dst)
	}
	if got, _ := f.searchText(box, store.FieldBody, "décret"); len(got) != 0 {
		t.Errorf("SearchText in INBOX after moving out = %v", got)
	}

	// Expunging the original leaves the copy's text; expunging the copy too drops it (Check,
	// run after every subtest, finds no index row without a blob).
	f.remove(box, 1)
	if got, _ := f.searchText(archive, store.FieldBody, "lazy dog"); !slices.Equal(got, []uint32{copied[0].Dst}) {
		t.Errorf("SearchText in Archive after expunging the original = %v", got)
	}
	f.remove(archive, copied[0].Dst)
	if got, _ := f.searchText(archive, store.FieldBody, "lazy dog"); len(got) != 0 {
		t.Errorf("SearchText in Archive after expunging the copy = %v", got)
	}

	// For FieldHeader, a message large enough for its header's text to be cut short is
	// reported apart too, indexed or not.
	large := f.searchDelivery(searchMessages[0], inbox)
	large.Size = message.MaxText
	largeUID := f.deliver(large)[0][0].UID
	if got, unindexed := f.searchText(box, store.FieldHeader, "zanzibar"); !slices.Contains(got, largeUID) ||
		!slices.Equal(unindexed, []uint32{largeUID}) {
		t.Errorf("FieldHeader with a large message = %v, unindexed %v; want it in both", got, unindexed)
	}
	if _, unindexed := f.searchText(box, store.FieldBody, "zanzibar"); len(unindexed) != 0 {
		t.Errorf("FieldBody lists a large indexed message as unindexed: %v", unindexed)
	}
	f.remove(box, largeUID)

	// A message delivered without text is reported apart, whatever the query.
	plain := f.deliveryTo(inbox)
	uid := f.deliver(plain)[0][0].UID
	if got, unindexed := f.searchText(box, store.FieldText, "quick"); len(got) != 0 || !slices.Equal(unindexed, []uint32{uid}) {
		t.Errorf("SearchText with an unindexed message = %v, unindexed %v; want none, [%d]", got, unindexed, uid)
	}
	f.checkClean()
}
