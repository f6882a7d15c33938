package queue

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"strings"
	"time"
	"unicode/utf8"

	"posthorn/internal/address"
	"posthorn/internal/delivery"
	"posthorn/internal/store"
)

// dsnKind is the Action of a notice (RFC 3464 §2.3.3).
type dsnKind string

const (
	dsnFailed  dsnKind = "failed"
	dsnDelayed dsnKind = "delayed"
)

// dsnRecipient is one recipient reported in a notice.
type dsnRecipient struct {
	q store.QueuedMessage
	f *failure
}

// notify writes a delivery status notification about recipients of one message and sender,
// and commits it: into the INBOX of the sender's account(s) when the sender's domain is local,
// into the queue (from the null sender) otherwise.
func (s *Scheduler) notify(ctx context.Context, kind dsnKind, rcpts []dsnRecipient) error {
	first := rcpts[0].q
	sender, err := address.Parse(first.Sender)
	if err != nil {
		return fmt.Errorf("sender %q: %w", first.Sender, err)
	}
	var m delivery.Message
	res, err := store.Resolve(ctx, s.Store, sender)
	switch {
	case errors.Is(err, store.ErrUnknownDomain):
		m.Outbound = []store.Outbound{{Sender: "", Recipient: first.Sender}}
	case errors.Is(err, store.ErrNoSuchUser):
		s.Logger.Info("queue: notice for a local sender without account dropped", "sender", first.Sender)
		return nil
	case err != nil:
		return fmt.Errorf("resolve sender %s: %w", first.Sender, err)
	default:
		for _, a := range res.Accounts {
			m.Targets = append(m.Targets, store.Target{AccountID: a.ID, Mailbox: "INBOX"})
		}
	}

	draft, err := s.Committer.NewDraft(ctx)
	if err != nil {
		return err
	}
	defer draft.Abort()
	if err := s.writeDSN(draft, kind, rcpts); err != nil {
		return err
	}
	if _, err := draft.Commit(ctx, m); err != nil {
		return err
	}
	s.Logger.Info("queue: notice sent", "action", kind, "to", first.Sender, "blob", draft.ID(), "recipients", len(rcpts))
	return nil
}

// writeDSN writes an RFC 3464 report: multipart/report (RFC 6522) with a human-readable part, a
// message/delivery-status part, and the original message (RET=FULL, the default) or its header
// (RET=HDRS) as message/rfc822 or text/rfc822-headers.
func (s *Scheduler) writeDSN(w io.Writer, kind dsnKind, rcpts []dsnRecipient) error {
	first := rcpts[0].q
	now := s.Now()
	var token [12]byte
	_, _ = rand.Read(token[:])
	boundary := "=_dsn_" + hex.EncodeToString(token[:])
	bw := bufio.NewWriter(w)
	subject := "Undelivered Mail Returned to Sender"
	if kind == dsnDelayed {
		subject = "Delayed Mail (still being retried)"
	}
	line := func(format string, args ...any) { fmt.Fprintf(bw, format+"\r\n", args...) }
	line("From: Mail Delivery System <MAILER-DAEMON@%s>", s.Hostname)
	line("To: <%s>", first.Sender)
	line("Subject: %s", subject)
	line("Date: %s", now.Format(time.RFC1123Z))
	line("Message-ID: <%s.dsn@%s>", hex.EncodeToString(token[:]), s.Hostname)
	line("Auto-Submitted: auto-replied") // RFC 3834 §5
	line("MIME-Version: 1.0")
	line(`Content-Type: multipart/report; report-type=delivery-status; boundary="%s"`, boundary)
	line("")
	line("This is a MIME-encapsulated delivery status notification.")
	line("")

	line("--%s", boundary)
	line("Content-Type: text/plain; charset=utf-8")
	line("Content-Transfer-Encoding: 8bit")
	line("")
	if kind == dsnFailed {
		line("This is the mail system at %s.", s.Hostname)
		line("")
		line("Your message could not be delivered to the following recipients:")
	} else {
		line("This is the mail system at %s.", s.Hostname)
		line("")
		line("Your message has not been delivered yet to the following recipients.")
		line("Delivery will be retried until %s; you need not send it again.",
			first.QueuedAt.Add(s.Lifetime).Format(time.RFC1123Z))
	}
	line("")
	for _, r := range rcpts {
		line("  <%s>: %s", r.q.Recipient, oneLine(r.f.Text))
	}
	line("")

	// RFC 3464 §2.2: per-message fields, then per-recipient fields each after a blank line.
	line("--%s", boundary)
	line("Content-Type: message/delivery-status")
	line("")
	line("Reporting-MTA: dns; %s", s.Hostname)
	if first.EnvID != "" {
		line("Original-Envelope-Id: %s", fieldValue(first.EnvID))
	}
	line("Arrival-Date: %s", first.QueuedAt.Format(time.RFC1123Z))
	for _, r := range rcpts {
		line("")
		if r.q.ORcpt != "" {
			line("Original-Recipient: %s", fieldValue(r.q.ORcpt))
		}
		line("Final-Recipient: rfc822; %s", r.q.Recipient)
		line("Action: %s", kind)
		// RFC 3464 §2.3.4: a delay is a transient status; a failure a permanent one, except an
		// expiry, which keeps RFC 3463's transient 4.4.7 with Action: failed.
		status := r.f.Status
		if kind == dsnDelayed {
			status = "4" + status[1:]
		} else if status != "4.4.7" {
			status = "5" + status[1:]
		}
		line("Status: %s", status)
		if r.f.RemoteMTA != "" {
			line("Remote-MTA: dns; %s", r.f.RemoteMTA)
		}
		if r.f.Code != 0 {
			line("Diagnostic-Code: smtp; %s", fieldValue(r.f.Text))
		} else {
			line("Diagnostic-Code: X-Posthorn; %s", fieldValue(r.f.Text))
		}
		line("Last-Attempt-Date: %s", now.Format(time.RFC1123Z))
		if kind == dsnDelayed {
			line("Will-Retry-Until: %s", r.q.QueuedAt.Add(s.Lifetime).Format(time.RFC1123Z))
		}
	}
	line("")

	line("--%s", boundary)
	headersOnly := strings.EqualFold(first.Ret, "HDRS")
	if headersOnly {
		line("Content-Type: text/rfc822-headers")
	} else {
		line("Content-Type: message/rfc822")
	}
	line("")
	if err := s.copyOriginal(bw, first.BlobID, headersOnly); err != nil {
		return err
	}
	line("")
	line("--%s--", boundary)
	return bw.Flush()
}

// copyOriginal copies the queued message, or only its header, as CRLF lines.
func (s *Scheduler) copyOriginal(w *bufio.Writer, blobID string, headersOnly bool) error {
	f, err := s.Bodies.Open(context.Background(), blobID)
	if err != nil {
		return fmt.Errorf("original message %s: %w", blobID, err)
	}
	defer f.Close()
	size, err := f.Size()
	if err != nil {
		return fmt.Errorf("original message %s: %w", blobID, err)
	}
	r := bufio.NewReader(io.NewSectionReader(f, 0, size))
	for {
		l, err := r.ReadSlice('\n')
		if len(l) > 0 {
			if headersOnly && (string(l) == "\r\n" || string(l) == "\n") {
				return nil
			}
			if _, werr := w.Write(l); werr != nil {
				return werr
			}
		}
		if errors.Is(err, io.EOF) {
			if len(l) > 0 && l[len(l)-1] != '\n' {
				_, err := w.WriteString("\r\n")
				return err
			}
			return nil
		}
		if err != nil && !errors.Is(err, bufio.ErrBufferFull) {
			return err
		}
	}
}

// oneLine makes text one line of printable characters: runs of white space become one space,
// other control characters are dropped. For the human-readable part, which is UTF-8.
func oneLine(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	return strings.Map(func(r rune) rune {
		if r < 0x20 || r == 0x7f || r == utf8.RuneError {
			return -1
		}
		return r
	}, s)
}

// fieldValue makes text a safe value of a message/delivery-status field, which is US-ASCII
// (RFC 3464 §2.1; UTF-8 would need message/global-delivery-status, RFC 6533): one line, and
// every byte outside printable ASCII shown as '?'.
func fieldValue(s string) string {
	s = strings.Join(strings.Fields(s), " ")
	b := []byte(s)
	for i, c := range b {
		if c < 0x20 || c > 0x7e {
			b[i] = '?'
		}
	}
	return string(b)
}
