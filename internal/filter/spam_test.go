package filter

import (
	"net"
	"os"
	"strings"
	"testing"

	"posthorn/internal/filter/spam"
	"posthorn/internal/testutil"
)

// TestSpamClassifier: the built-in classifier's Score decides the mailbox: the GTUBE sample
// goes to Junk, and is refused once the reject threshold is enabled; a plain message stays in
// INBOX.
func TestSpamClassifier(t *testing.T) {
	gtube, err := os.ReadFile(testutil.SharedTestdata(t, "spam") + "/sample-spam.txt")
	if err != nil {
		t.Fatal(err)
	}
	verdict := func(f *Filter, msg string) Verdict {
		tx := f.Mail(t.Context(), Envelope{IP: net.ParseIP("192.0.2.1"), From: "a@example.net"})
		defer tx.Close()
		tx.Rcpt(t.Context(), "alice@example.org")
		return tx.Data(t.Context(), strings.NewReader(msg), int64(len(msg)), []int64{7})
	}
	classifier := spam.New(spam.NewMemoryModel(), nil, nil, nil, spam.Config{}, discard())
	f := &Filter{Logger: discard(), Spam: Spam{Classifier: classifier}}
	v := verdict(f, string(gtube))
	if v.Action != Accept || v.Mailbox(7) != "Junk" || !strings.HasPrefix(v.ReasonNames(), "spam-score(") {
		t.Fatalf("GTUBE: %+v", v)
	}
	if v := verdict(f, "From: a@example.net\r\nSubject: lunch\r\nDate: Mon, 1 Jan 2024 00:00:00 +0000\r\nMessage-ID: <1@example.net>\r\n\r\nat noon?\r\n"); v.Mailbox(7) != "INBOX" {
		t.Fatalf("ham: %+v", v)
	}
	f.Spam = Spam{Classifier: spam.New(spam.NewMemoryModel(), nil, nil, nil, spam.Config{RejectThreshold: 50}, discard())}
	if v := verdict(f, string(gtube)); v.Action != Reject || v.Reply() != "554 5.7.1" {
		t.Fatalf("GTUBE with reject threshold: %+v", v)
	}
}
