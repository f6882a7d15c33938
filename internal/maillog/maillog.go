// Package maillog writes the mail log: one record per mail event, with fixed keys that operators,
// log shippers and fail2ban can rely on. The keys never change meaning:
//
//	event   received | rejected | tempfail (inbound); delivered | deferred | bounced (outbound queue)
//	id      posthorn's id of the message (its blob id), "" when no body was accepted
//	msgid   the Message-ID header, without angle brackets, "" when absent
//	from    the envelope sender (MAIL FROM), "" for the null sender
//	rcpt    the envelope recipient(s), comma-separated
//	result  what happened, e.g. "delivered", "unknown-user", "relay-denied", "too-large", "loop"
//	code    the SMTP reply code sent, e.g. "250", "550 5.1.1" (outbound: the one received)
//	remote  the client's IP address (outbound: the host delivered to)
//	size    message size in bytes (0 when the body was not read)
//	conn    the connection id, to join with the server log
//	reasons the inbound filter's findings, comma-separated names with details in parentheses,
//	        e.g. "dmarc-quarantine,virus(Eicar-Signature)"; "" when it found nothing
//
// Besides the log line, a Logger made with Recording hands every event, stamped with its time,
// to a Recorder: the server's is a Writer, which stores them in batches for the message trace
// (writer.go). An Event's Mailboxes (where a local delivery put the message) go only to the
// Recorder, so the log line keeps exactly the keys above.
package maillog

import (
	"context"
	"log/slog"
	"time"
)

// Event is one mail log record.
type Event struct {
	Event  string
	ID     string
	MsgID  string
	From   string
	Rcpt   string
	Result string
	Code   string
	Remote string
	Size   int64
	Conn   string
	// Reasons are the inbound filter's findings (filter.Verdict.ReasonNames).
	Reasons string
	// Mailboxes are the local copies a received message made, one per account; they reach
	// the Recorder only, never the log line.
	Mailboxes []Mailbox
}

// Mailbox is one local copy of a message: the account's address and the mailbox it went to.
type Mailbox struct {
	Account string
	Name    string
}

// Entry is an event as a Recorder receives it: with the time the Logger wrote it.
type Entry struct {
	Time time.Time
	Event
}

// Recorder receives every event a Logger writes. Add must not block: it is called on the
// paths of mail (SMTP sessions, the queue).
type Recorder interface {
	Add(e Entry)
}

// Logger writes mail log records.
type Logger struct {
	l        *slog.Logger
	recorder Recorder // nil: the log line only
}

// New returns a mail log writing through l (its own file or the server log).
func New(l *slog.Logger) *Logger {
	return &Logger{l: l.With("log", "mail")}
}

// Recording returns a Logger writing the same log lines as m that also hands every event to r.
func (m *Logger) Recording(r Recorder) *Logger {
	return &Logger{l: m.l, recorder: r}
}

// Record writes one event, and hands it to the Recorder if there is one.
func (m *Logger) Record(e Event) {
	if m.recorder != nil {
		m.recorder.Add(Entry{Time: time.Now(), Event: e})
	}
	m.l.LogAttrs(context.Background(), slog.LevelInfo, "mail",
		slog.String("event", e.Event),
		slog.String("id", e.ID),
		slog.String("msgid", e.MsgID),
		slog.String("from", e.From),
		slog.String("rcpt", e.Rcpt),
		slog.String("result", e.Result),
		slog.String("code", e.Code),
		slog.String("remote", e.Remote),
		slog.Int64("size", e.Size),
		slog.String("conn", e.Conn),
		slog.String("reasons", e.Reasons),
	)
}
