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
package maillog

import (
	"context"
	"log/slog"
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
}

// Logger writes mail log records.
type Logger struct {
	l *slog.Logger
}

// New returns a mail log writing through l (its own file or the server log).
func New(l *slog.Logger) *Logger {
	return &Logger{l: l.With("log", "mail")}
}

// Record writes one event.
func (m *Logger) Record(e Event) {
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
