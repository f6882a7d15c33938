package maillog

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"
)

// The log line keeps its fixed keys, in order, with or without a Recorder; Mailboxes never
// reach it.
func TestRecordLine(t *testing.T) {
	var plain, recorded bytes.Buffer
	rec := &memoryRecorder{}
	e := Event{Event: "received", ID: "b1", MsgID: "m1@example.net", From: "bob@example.net",
		Rcpt: "alice@example.org", Result: "delivered", Code: "250 2.0.0", Remote: "192.0.2.1",
		Size: 42, Conn: "c1", Reasons: "spf-pass", Mailboxes: []Mailbox{{Account: "alice@example.org", Name: "INBOX"}}}
	New(textLogger(&plain)).Record(e)
	New(textLogger(&recorded)).Recording(rec).Record(e)
	want := `level=INFO msg=mail log=mail event=received id=b1 msgid=m1@example.net from=bob@example.net ` +
		`rcpt=alice@example.org result=delivered code="250 2.0.0" remote=192.0.2.1 size=42 conn=c1 reasons=spf-pass` + "\n"
	if plain.String() != want || recorded.String() != want {
		t.Errorf("log lines:\n%s%s\nwant\n%s", plain.String(), recorded.String(), want)
	}
	if len(rec.entries) != 1 || rec.entries[0].Time.IsZero() || rec.entries[0].ID != "b1" ||
		rec.entries[0].Mailboxes[0].Name != "INBOX" {
		t.Errorf("recorded %+v", rec.entries)
	}
}

func textLogger(buf *bytes.Buffer) *slog.Logger {
	return slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{
		ReplaceAttr: func(_ []string, a slog.Attr) slog.Attr {
			if a.Key == slog.TimeKey {
				return slog.Attr{}
			}
			return a
		},
	}))
}

type memoryRecorder struct{ entries []Entry }

func (m *memoryRecorder) Add(e Entry) { m.entries = append(m.entries, e) }

func TestRecordWithoutRecorder(t *testing.T) {
	var buf bytes.Buffer
	New(textLogger(&buf)).Record(Event{Event: "rejected"})
	if !strings.Contains(buf.String(), "event=rejected") {
		t.Errorf("line %q", buf.String())
	}
}
