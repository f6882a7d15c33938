package smtpserver

// Special recipients: addresses of local domains whose mail is not for a mailbox but for a
// service, the campaign feedback loop (internal/campaign): the VERP addresses
// bounce+TOKEN@DOMAIN that asynchronous DSNs (RFC 3464) come back to, the List-Unsubscribe
// mailto addresses unsubscribe+TOKEN@DOMAIN (RFC 2369, RFC 8058), and the abuse address that
// ARF reports (RFC 5965) are sent to.
//
// At RCPT TO, before the usual resolution (store.Resolve: a bounce+ local part would
// otherwise be a sub-address of a user "bounce"), Server.SpecialRecipients is asked whether it
// claims the address; a claimed address on a local domain is accepted as it is, from any
// sender, the null reverse-path included (RFC 5321 §4.5.5: that is how DSNs come). The
// recipient rates of the inbound filter count it like any RCPT; greylisting does not apply,
// since a reporting MTA's retry would only delay the report.
//
// At the end of data, the message (with our Received header on top) is held in a spool and
// handed to SpecialRecipients.Deliver once per claimed recipient; it goes to no mailbox. The
// body checks of the inbound filter (SPF, DKIM, DMARC, spam, virus) judge only what goes into
// mailboxes: a transaction of claimed recipients only is not filtered at all, so a DSN from a
// host without SPF or a complaint quoting spam is never refused or put aside for what it
// reports. In a transaction that mixes claimed and ordinary recipients the filter runs as for
// any message, and since DATA has one reply, a refusal refuses the message for every
// recipient. The ordinary recipients' copies are committed as usual, after every Deliver has
// returned; 250 is written only then, so a report the client was told we took is recorded in
// the store (Deliver returns when it is). A Deliver that fails is a temporary failure (451
// 4.3.0) of the whole message: the client retries it, and Deliver may see a message twice.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	"posthorn/internal/address"
	"posthorn/internal/maillog"
	"posthorn/internal/store"
)

// SpecialRecipients takes the mail of addresses that are no mailbox (see above).
type SpecialRecipients interface {
	// Claims reports whether rcpt's mail is Deliver's. It is asked for addresses on local
	// domains only, and must answer from the address alone, quickly.
	Claims(rcpt address.Address) bool
	// Deliver takes the message r for rcpt and returns once what it needs of it is durable. It
	// returns nil for a message it drops (a forged token, no report): the client must not
	// retry. An error is a temporary failure.
	Deliver(ctx context.Context, rcpt address.Address, r io.Reader) error
}

// claimSpecial accepts a as a special recipient when SpecialRecipients claims it and its
// domain is local. handled reports that RCPT was answered (err is the reply, nil for 250).
func (s *session) claimSpecial(a address.Address) (handled bool, err error) {
	sr := s.server.SpecialRecipients
	if sr == nil || s.server.Submission != nil || !sr.Claims(a) {
		return false, nil
	}
	if _, err := s.server.Store.GetDomain(s.ctx, a.Domain); errors.Is(err, store.ErrNotFound) {
		return false, nil // not ours: refused as a relay by the usual path
	} else if err != nil {
		return true, s.lookupFailed(a.String(), "look up domain", err)
	}
	if err := s.filterRcptAttempt(a.String()); err != nil {
		return true, err
	}
	if slices.Contains(s.special, a) {
		return true, nil // named twice: one copy
	}
	s.rcpts = append(s.rcpts, a.String())
	s.special = append(s.special, a)
	s.logger.Debug("recipient accepted", "rcpt", a.String(), "via", "special")
	return true, nil
}

// deliverSpecial hands the spooled message to SpecialRecipients for every claimed recipient,
// and writes the mail log record of each.
func (s *session) deliverSpecial(sp *spool, draftID string) error {
	for _, a := range s.special {
		r := io.NewSectionReader(sp, 0, sp.Size())
		if err := s.server.SpecialRecipients.Deliver(s.ctx, a, r); err != nil {
			s.logger.Error("deliver to special recipient", "rcpt", a.String(), "err", err)
			s.reject(strings.Join(s.rcpts, ","), "storage-failed", errTempStore)
			return errTempStore
		}
		s.server.MailLog.Record(maillog.Event{
			Event: "received", ID: draftID, From: s.from, Rcpt: a.String(), Result: "feedback",
			Code: "250 2.0.0", Remote: s.remote, Size: sp.Size(), Conn: s.id,
		})
	}
	return nil
}

// copySpool writes the spooled message into w as it is: the message of a transaction with
// special recipients waits in the spool even without the filter.
func copySpool(w io.Writer, sp *spool) error {
	if _, err := io.Copy(w, io.NewSectionReader(sp, 0, sp.Size())); err != nil {
		return fmt.Errorf("copy spooled message: %w", err)
	}
	return nil
}

// ordinaryRcpts are the accepted recipients that are not special: mailboxes.
func (s *session) ordinaryRcpts() []string {
	var out []string
	for _, r := range s.rcpts {
		if !slices.ContainsFunc(s.special, func(a address.Address) bool { return a.String() == r }) {
			out = append(out, r)
		}
	}
	return out
}
