package admin

import (
	"testing"
	"time"

	"posthorn/internal/mailtrace"
	"posthorn/internal/store"
)

// The tracer reads the mail log of the Admin's store.
func TestTracer(t *testing.T) {
	a := newAdmin(t)
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	if err := a.Store.(store.MailEventStore).AddMailEvents(t.Context(), []store.MailEvent{
		{Time: at, Event: "received", BlobID: "b1", From: "bob@example.net", Rcpt: "alice@example.org"},
	}); err != nil {
		t.Fatal(err)
	}
	tr, err := a.Tracer()
	if err != nil {
		t.Fatal(err)
	}
	found, err := tr.Search(t.Context(), mailtrace.Query{To: "alice@example.org"})
	if err != nil {
		t.Fatal(err)
	}
	if len(found.Events) != 1 || found.Events[0].Message != "b1" {
		t.Errorf("found %+v", found)
	}
}
