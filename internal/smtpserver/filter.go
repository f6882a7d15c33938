package smtpserver

// The inbound filter (internal/filter) in the MX session. Each stage asks the filter as soon as
// it has the input a check needs:
//
//   - accept: Filter.Connect (connection rates) before the greeting; a refusal is 421 and the
//     connection is closed, like the connection limit;
//   - EHLO/HELO: Filter.Hello (DNSBL) when the session is created; a refusal answers EHLO and
//     leaves the client without a session, so every later command is refused too;
//   - MAIL FROM: Connection.Mail starts the transaction's checks (SPF and iprev in the
//     background; iprev at the connection's first transaction only, its answer is reused);
//   - RCPT TO: Transaction.RcptAttempt (recipient rates) before the lookup, so that unknown
//     addresses count too; Transaction.Rcpt (greylisting) once the recipient resolved;
//   - end of data: Transaction.Data on the message, which waits in a spool (memory up to 1 MiB
//     within a budget shared by the sessions, an unlinked temporary file beyond; spool.go) instead of its draft (delivery.Draft). A refusal
//     leaves the draft to be aborted. On acceptance the message is written into the draft
//     once, as it will be stored: the filter's header fields (Authentication-Results first) on
//     top, then our Received header, then the message with the Authentication-Results fields
//     that claim our host name removed (RFC 8601 §5). The verdict names the mailbox of each
//     account's copy (INBOX or Junk) before the commit.

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/emersion/go-smtp"

	"posthorn/internal/delivery"
	"posthorn/internal/filter"
	"posthorn/internal/maillog"
	"posthorn/internal/message"
	"posthorn/internal/store"
)

// maxFilterHeader bounds the header section read to strip forged Authentication-Results; a
// longer header section is copied unchanged.
const maxFilterHeader = 1 << 20

// verdictError is the SMTP reply of a verdict that refuses.
func verdictError(v *filter.Verdict) *smtp.SMTPError {
	return &smtp.SMTPError{Code: v.Code, EnhancedCode: smtp.EnhancedCode(v.Enhanced), Message: v.Text}
}

// filterConnect decides on a new connection before its greeting; "" lets it in, otherwise the
// reply line to send before closing.
func (s *Server) filterConnect(c net.Conn) string {
	if s.Filter == nil {
		return ""
	}
	addr, ok := c.RemoteAddr().(*net.TCPAddr)
	if !ok {
		return ""
	}
	v := s.Filter.Connect(addr.IP)
	if v.Action == filter.Accept {
		return ""
	}
	s.MailLog.Record(mailEvent("tempfail", &v, addr.IP.String(), ""))
	return fmt.Sprintf("%d %d.%d.%d %s %s\r\n", v.Code, v.Enhanced[0], v.Enhanced[1], v.Enhanced[2], s.Hostname, v.Text)
}

// filterHello decides on a client when its session starts (at EHLO or HELO).
func (s *Server) filterHello(sess *session) error {
	if s.Filter == nil {
		return nil
	}
	v := s.Filter.Hello(sess.ctx, net.ParseIP(sess.remote))
	if v.Action == filter.Accept || v.Action == filter.Junk {
		return nil
	}
	sess.logger.Info("client refused", "reasons", v.ReasonNames())
	s.MailLog.Record(mailEvent(eventOf(&v), &v, sess.remote, sess.id))
	return verdictError(&v)
}

// filterMail starts the filter's transaction at MAIL FROM, on the connection's filter state, so
// that what depends on the client alone (iprev) is looked up once per connection.
func (s *session) filterMail() {
	if s.server.Filter == nil {
		return
	}
	if s.filterConn == nil {
		s.filterConn = s.server.Filter.Connection()
	}
	s.filterTx = s.filterConn.Mail(s.ctx, filter.Envelope{
		IP: net.ParseIP(s.remote), HELO: s.conn.Hostname(), From: s.from,
	})
}

// filterRcptAttempt counts a RCPT TO against the recipient rates before its lookup.
func (s *session) filterRcptAttempt(rcpt string) error {
	if s.filterTx == nil {
		return nil
	}
	v := s.filterTx.RcptAttempt()
	if v.Action == filter.Accept {
		return nil
	}
	s.rejectVerdict(rcpt, &v)
	return verdictError(&v)
}

// filterRcpt decides on one resolved recipient.
func (s *session) filterRcpt(rcpt string) error {
	if s.filterTx == nil {
		return nil
	}
	v := s.filterTx.Rcpt(s.ctx, rcpt)
	if v.Action == filter.Accept || v.Action == filter.Junk {
		return nil
	}
	e := verdictError(&v)
	s.rejectVerdict(rcpt, &v)
	return e
}

// newSpool returns the spool the message waits in for the verdict, or for the special
// recipients (special.go); nil without either.
func (s *session) newSpool() *spool {
	if s.filterTx == nil && len(s.special) == 0 {
		return nil
	}
	return &spool{dir: s.server.SpoolDir, memory: &s.server.spoolMemory}
}

// filterData runs the body checks on the spooled message (our Received header, receivedLen
// octets, and the message) and, when they accept, writes it into body as it will be stored.
// The message is parsed once (message.Parse), for every check and for the commit: the parse
// returned is the stored message's, whose header section differs from the spool's only by the
// fields writeFiltered adds and removes (message.Parsed.ResizeHeader). When the checks refuse,
// the error is the reply and body is left for the caller to abort. The caller closes the spool
// (special recipients read it after the verdict). Without the filter the message is in body
// already, and the parse is nil.
func (s *session) filterData(body *delivery.Draft, sp *spool, receivedLen int) (*filter.Verdict, *message.Parsed, error) {
	if sp == nil {
		return &filter.Verdict{}, nil, nil
	}
	ids := make([]int64, len(s.accounts))
	for i, acc := range s.accounts {
		ids[i] = acc.ID
	}
	var v filter.Verdict
	parsed, err := message.Parse(sp, sp.Size())
	if err != nil {
		parsed = nil // the spool could not be read: each check meets that itself
		v = s.filterTx.Data(s.ctx, sp, sp.Size(), ids)
	} else {
		v = s.filterTx.DataParsed(s.ctx, sp, parsed, ids)
	}
	if v.Action == filter.Reject || v.Action == filter.TempFail {
		s.logger.Info("message refused", "reasons", v.ReasonNames())
		s.rejectVerdict(strings.Join(s.rcpts, ","), &v)
		return nil, nil, verdictError(&v)
	}
	err = s.ensureJunk(&v)
	if err != nil {
		s.logger.Error("junk mailbox", "err", err)
	} else if err = s.writeFiltered(body, sp, &v, receivedLen); err != nil {
		s.logger.Error("write message", "err", err)
	}
	if err != nil {
		s.reject(strings.Join(s.rcpts, ","), "storage-failed", errTempStore)
		return nil, nil, errTempStore
	}
	if parsed != nil {
		parsed.ResizeHeader(body.Size() - sp.Size())
	}
	return &v, parsed, nil
}

// writeFiltered writes the message to store into body: the verdict's header fields
// (Authentication-Results first), then the spool with the Authentication-Results fields of its
// header section that claim our host name removed (RFC 8601 §5). Our Received header, at the
// top of the spool, has none.
func (s *session) writeFiltered(body *delivery.Draft, sp *spool, v *filter.Verdict, receivedLen int) error {
	w := bufio.NewWriterSize(body, 64<<10)
	_, err := w.WriteString(v.AuthResults)
	for _, h := range v.Headers {
		if err == nil {
			_, err = w.WriteString(h.Name + ": " + h.Value + "\r\n")
		}
	}
	if err == nil {
		_, err = io.Copy(w, io.NewSectionReader(sp, 0, int64(receivedLen)))
	}
	br := bufio.NewReaderSize(io.NewSectionReader(sp, int64(receivedLen), sp.Size()-int64(receivedLen)), 32<<10)
	header, complete, herr := readHeaderSection(br)
	if err == nil {
		err = herr
	}
	if err == nil && complete {
		header = filter.StripAuthResults(header, s.server.Hostname)
	}
	if err == nil {
		_, err = w.Write(header)
	}
	if err == nil {
		_, err = io.Copy(w, br)
	}
	if err == nil {
		err = w.Flush()
	}
	return err
}

// readHeaderSection reads the header section and the empty line after it. complete is false
// when the section is longer than maxFilterHeader (what was read is returned) or has no end.
func readHeaderSection(br *bufio.Reader) (header []byte, complete bool, err error) {
	for len(header) < maxFilterHeader {
		line, err := br.ReadSlice('\n')
		header = append(header, line...)
		if errors.Is(err, bufio.ErrBufferFull) {
			continue
		}
		if errors.Is(err, io.EOF) {
			return header, false, nil
		}
		if err != nil {
			return nil, false, err
		}
		if string(line) == "\r\n" {
			return header, true, nil
		}
	}
	return header, false, nil
}

// ensureJunk makes sure every account the verdict sends to Junk has that mailbox: one the user
// deleted is created again (with the \Junk special use, RFC 6154), rather than failing the
// delivery. The copy goes to the mailbox the account marked \Junk if it renamed it.
func (s *session) ensureJunk(v *filter.Verdict) error {
	ctx := s.ctx
	for _, acc := range s.accounts {
		if v.Mailbox(acc.ID) != "Junk" {
			continue
		}
		_, err := s.server.Store.GetMailbox(ctx, acc.ID, "Junk")
		if err == nil {
			continue
		}
		if !errors.Is(err, store.ErrNotFound) {
			return err
		}
		boxes, err := s.server.Store.ListMailboxes(ctx, acc.ID)
		if err != nil {
			return err
		}
		name := ""
		for _, mb := range boxes {
			if mb.SpecialUse == store.UseJunk {
				name = mb.Name
				break
			}
		}
		if name == "" {
			if _, err := s.server.Store.CreateMailbox(ctx, acc.ID, "Junk", store.UseJunk); err != nil && !errors.Is(err, store.ErrExists) {
				return err
			}
			continue
		}
		if s.junkNames == nil {
			s.junkNames = map[int64]string{}
		}
		s.junkNames[acc.ID] = name
	}
	return nil
}

// mailbox is where the verdict puts acc's copy.
func (s *session) mailbox(v *filter.Verdict, acc int64) string {
	name := v.Mailbox(acc)
	if name == "Junk" && s.junkNames[acc] != "" {
		return s.junkNames[acc]
	}
	return name
}

// rejectVerdict writes the mail log record and metric of a refused recipient or message.
func (s *session) rejectVerdict(rcpt string, v *filter.Verdict) {
	s.server.Metrics.rejected(v.Result())
	e := mailEvent(eventOf(v), v, s.remote, s.id)
	e.From, e.Rcpt = s.from, rcpt
	s.server.MailLog.Record(e)
}

func eventOf(v *filter.Verdict) string {
	if v.Action == filter.TempFail {
		return "tempfail"
	}
	return "rejected"
}

// filterClose ends the filter's transaction.
func (s *session) filterClose() {
	s.filterTx.Close()
	s.filterTx = nil
	s.junkNames = nil
}

// mailEvent is the mail log record of a verdict.
func mailEvent(event string, v *filter.Verdict, remote, conn string) maillog.Event {
	return maillog.Event{Event: event, Result: v.Result(), Code: v.Reply(), Remote: remote, Conn: conn, Reasons: v.ReasonNames()}
}

// deliveredResult is the mail log result of an accepted message: "junk" when every copy went
// to Junk, "delivered" otherwise.
func deliveredResult(v *filter.Verdict, accounts []store.Account) string {
	for _, acc := range accounts {
		if v.Mailbox(acc.ID) != "Junk" {
			return "delivered"
		}
	}
	if len(accounts) == 0 {
		return "delivered"
	}
	return "junk"
}
