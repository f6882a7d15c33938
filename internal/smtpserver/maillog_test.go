package smtpserver

import (
	"io"
	"log/slog"
	"slices"
	"sync"
	"testing"

	"posthorn/internal/maillog"
)

// eventRecorder keeps what a mail log hands its Recorder.
type eventRecorder struct {
	mu      sync.Mutex
	entries []maillog.Entry
}

func (r *eventRecorder) Add(e maillog.Entry) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.entries = append(r.entries, e)
}

// A message to an alias of two accounts is logged once, with one mailbox per account.
func TestMailLogMailboxes(t *testing.T) {
	rec := &eventRecorder{}
	h := newHarness(t, func(s *Server) {
		s.MailLog = maillog.New(slog.New(slog.NewTextHandler(io.Discard, nil))).Recording(rec)
	})
	if err := sendPlain(h.addr, "a@remote.example", "team@example.org", "Subject: hi\r\n\r\nhello\r\n"); err != nil {
		t.Fatal(err)
	}
	rec.mu.Lock()
	defer rec.mu.Unlock()
	if len(rec.entries) != 1 || rec.entries[0].Event.Event != "received" || rec.entries[0].Time.IsZero() {
		t.Fatalf("recorded %+v", rec.entries)
	}
	want := []maillog.Mailbox{{Account: "alice@example.org", Name: "INBOX"}, {Account: "bob@example.org", Name: "INBOX"}}
	if got := rec.entries[0].Mailboxes; !slices.Equal(got, want) {
		t.Errorf("mailboxes %+v, want %+v", got, want)
	}
}
