package imapserver

import (
	"strings"
	"testing"

	"posthorn/internal/message"
	"posthorn/internal/store"
)

// TestSearchTextSources: SEARCH BODY and TEXT are answered from the full-text index for the
// messages it has text of, by reading the message for those it has none of (delivered before
// the index existed), and by reading every message for strings too short for the index.
func TestSearchTextSources(t *testing.T) {
	h := newHarness(t)
	// Message 1's indexed text is not its body: only the index finds "indexonly", and only a
	// read of the message finds "message 1".
	h.deliverIndexed(h.alice, "INBOX", testMessage(1), func(message.Text) *store.Text {
		return &store.Text{Header: "X-Tag: headeronly", Body: "indexonly words"}
	})
	h.deliverIndexed(h.alice, "INBOX", testMessage(2), func(message.Text) *store.Text { return nil })
	h.deliver(h.alice, "INBOX", testMessage(3))
	c := h.login()
	c.cmd("s0 EXAMINE INBOX", "* FLAGS ...", "* 3 EXISTS", "* 3 RECENT", "* OK [UNSEEN 1] ...",
		"* OK [UIDVALIDITY ...] UIDs valid",
		"* OK [UIDNEXT 4] predicted next UID", "* OK [PERMANENTFLAGS ()] ...", "s0 OK [READ-ONLY] EXAMINE completed")
	for _, step := range [][]string{
		{`s1 SEARCH BODY indexonly`, "* SEARCH 1"},
		{`s2 SEARCH TEXT headeronly`, "* SEARCH 1"},
		{`s3 SEARCH BODY headeronly`, "* SEARCH"},
		{`s4 SEARCH BODY "of message"`, "* SEARCH 2 3"}, // 2 read, 3 from the index, 1 not
		{`s5 SEARCH TEXT "sender2@"`, "* SEARCH 2"},
		{`s6 SEARCH NOT BODY "of message"`, "* SEARCH 1"},
		{`s7 SEARCH BODY "1."`, "* SEARCH 1"}, // too short for the index: every message is read
		{`s8 SEARCH TEXT "X-"`, "* SEARCH"},
	} {
		c.cmd(step[0], step[1], step[0][:2]+" OK SEARCH completed")
	}
}

// TestSearchHeaderSources: SEARCH HEADER reads only the messages whose indexed header text holds
// the string (message 1's index claims it holds none, so only a read would find it), every
// message without indexed text (2), every message whose header is too large for its indexed
// text to be whole (3), and every message for a field the index leaves out (DKIM-Signature).
func TestSearchHeaderSources(t *testing.T) {
	h := newHarness(t)
	noHeader := func(message.Text) *store.Text { return &store.Text{Header: "X-Tag: nothing", Body: "x"} }
	h.deliverIndexed(h.alice, "INBOX", testMessage(1), noHeader)
	h.deliverIndexed(h.alice, "INBOX", testMessage(2), func(message.Text) *store.Text { return nil })
	large := "X-Padding: " + strings.Repeat("p", message.MaxText/3) + "\r\n" + testMessage(3)
	h.deliverIndexed(h.alice, "INBOX", large, noHeader)
	h.deliver(h.alice, "INBOX", "DKIM-Signature: v=1; d=example.net; b=signedvalue\r\n"+testMessage(4))
	c := h.login()
	c.cmd("s0 EXAMINE INBOX", "* FLAGS ...", "* 4 EXISTS", "* 4 RECENT", "* OK [UNSEEN 1] ...",
		"* OK [UIDVALIDITY ...] UIDs valid",
		"* OK [UIDNEXT 5] predicted next UID", "* OK [PERMANENTFLAGS ()] ...", "s0 OK [READ-ONLY] EXAMINE completed")
	for _, step := range [][]string{
		{`s1 SEARCH HEADER Subject "message"`, "* SEARCH 2 3 4"},
		{`s2 SEARCH HEADER Subject "message 4"`, "* SEARCH 4"},
		{`s3 SEARCH HEADER Subject "MESSAGE 2"`, "* SEARCH 2"},
		{`s4 SEARCH HEADER From "sender"`, "* SEARCH 2 3 4"},
		{`s5 SEARCH HEADER DKIM-Signature "signedvalue"`, "* SEARCH 4"},
		{`s6 SEARCH HEADER Subject ""`, "* SEARCH 1 2 3 4"}, // any Subject: every message is read
		{`s7 SEARCH HEADER Subject "e 1"`, "* SEARCH"},
		{`s8 SEARCH HEADER Subject "1"`, "* SEARCH 1"}, // too short for the index
		// The index answers for Subject, not for DKIM-Signature, though the string is the same.
		{`s9 SEARCH HEADER Subject "signedvalue" HEADER DKIM-Signature "signedvalue"`, "* SEARCH"},
		{`t1 SEARCH OR HEADER Subject "signedvalue" HEADER DKIM-Signature "signedvalue"`, "* SEARCH 4"},
		{`t2 SEARCH HEADER Subject "message" BODY "message 2"`, "* SEARCH 2"},
	} {
		c.cmd(step[0], step[1], step[0][:2]+" OK SEARCH completed")
	}
}
