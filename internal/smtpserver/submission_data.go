package smtpserver

import (
	"bufio"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/mail"
	"strings"
	"time"

	"github.com/emersion/go-message/textproto"
	"github.com/emersion/go-smtp"

	"posthorn/internal/address"
	"posthorn/internal/delivery"
	"posthorn/internal/mailauth"
	"posthorn/internal/maillog"
	"posthorn/internal/store"
)

// maxSubmittedHeader bounds the header section of a submitted message.
const maxSubmittedHeader = 1 << 20

// Data handles DATA and BDAT of a submission: the message is spooled, its From checked, the
// missing Message-ID and Date added, DKIM signatures computed, and the final message (Received,
// signatures, added fields, then the message as submitted) written to a new draft that is
// committed to the local INBOXes and the outbound queue together before 250.
func (s *submissionSession) Data(r io.Reader) error {
	start := time.Now()
	rcpt := strings.Join(s.rcpts, ",")
	// The message as submitted waits in a spool (memory, or an unlinked file: spool.go) until
	// the header is checked and the signatures are made.
	spool := &spool{dir: s.server.SpoolDir, memory: &s.server.spoolMemory}
	defer spool.Close()
	stats, err := copyMessage(spool, "", r, s.server.MaxMessageBytes)
	if err != nil {
		return s.transferFailed(rcpt, err)
	}
	prefix, h, reply := s.checkHeader(spool)
	if reply != nil {
		s.reject(rcpt, headerRejection(reply), reply)
		return reply
	}
	draft, err := s.finalMessage(spool, prefix, h)
	if err != nil {
		s.logger.Error("write submitted message", "err", err)
		s.reject(rcpt, "storage-failed", errTempStore)
		return errTempStore
	}
	// A refusal from here on leaves the draft: its body goes; once committed this does nothing.
	defer draft.Abort()
	return s.deliver(draft, rcpt, stats, start)
}

// checkHeader reads the spooled header section: every From address must be owned by the
// account. It returns the header fields to add (Message-ID, Date when missing) and what it read.
func (s *submissionSession) checkHeader(spool *spool) (prefix string, h submittedHeader, reply *smtp.SMTPError) {
	h, reply = readSubmittedHeader(spool, spool.Size())
	if reply != nil {
		return "", h, reply
	}
	for _, f := range h.from {
		owned, err := s.owns(s.ctx, f)
		if err != nil {
			s.logger.Error("check From", "from", f.String(), "err", err)
			return "", h, errTempLookup
		}
		if !owned {
			s.logger.Info("From not owned", "from", f.String())
			return "", h, errFromNotOwned
		}
	}
	var b strings.Builder
	// RFC 6409 §8.3 and §8.2: an MSA may add Message-ID and Date when they are missing.
	if !h.messageID {
		fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", randomID(), s.server.Hostname)
	}
	if !h.date {
		fmt.Fprintf(&b, "Date: %s\r\n", s.sub.now().Format(time.RFC1123Z))
	}
	return b.String(), h, nil
}

// headerRejection names a refusal of checkHeader for metrics and the mail log.
func headerRejection(reply *smtp.SMTPError) string {
	switch reply {
	case errFromNotOwned:
		return "from-not-owned"
	case errHeaderTooLarge:
		return "too-large"
	case errTempLookup:
		return "lookup-failed"
	}
	return "no-from"
}

// submittedHeader is what submission needs from a message's header section.
type submittedHeader struct {
	from            []address.Address // every address of every From field, at least one
	messageID, date bool              // whether the fields are present
	// end is where the header section ends: after its empty line when separated, else before
	// the first line that is no header field (or at the end of a message that is all header).
	end       int64
	separated bool
}

// readSubmittedHeader reads the header section of the message in r (size octets). Like
// Postfix, it ends the header at the first line that is not a header field (a message whose
// body follows without the empty line); the section must end within maxSubmittedHeader
// octets (552 5.3.4) and name at least one From address that parses (550 5.6.0).
func readSubmittedHeader(r io.ReaderAt, size int64) (submittedHeader, *smtp.SMTPError) {
	if size > maxSubmittedHeader && !headerEndsWithin(r, maxSubmittedHeader) {
		return submittedHeader{}, errHeaderTooLarge
	}
	// The header's own errors (a line that is no field) end it; what came before counts.
	h, _ := textproto.ReadHeader(bufio.NewReader(io.NewSectionReader(r, 0, min(size, maxSubmittedHeader))))
	froms, ferr := fromAddresses(h.Values("From"))
	if ferr != nil || len(froms) == 0 {
		return submittedHeader{}, errNoFrom
	}
	end, separated := headerSection(r, min(size, maxSubmittedHeader))
	return submittedHeader{from: froms, messageID: h.Has("Message-Id"), date: h.Has("Date"),
		end: end, separated: separated}, nil
}

// headerSection finds where the header section of r ends (see submittedHeader.end) within the
// first limit octets: a field is a line with a name of printable characters and a colon
// (RFC 5322 §2.2), or a continuation line after one.
func headerSection(r io.ReaderAt, limit int64) (end int64, separated bool) {
	br := bufio.NewReader(io.NewSectionReader(r, 0, limit))
	var off int64
	for first := true; ; first = false {
		line, err := br.ReadBytes('\n')
		switch {
		case len(line) == 0:
			return off, false
		case string(line) == "\r\n" || string(line) == "\n":
			return off + int64(len(line)), true
		case (line[0] == ' ' || line[0] == '\t') && !first:
		case !isFieldLine(line):
			return off, false
		}
		off += int64(len(line))
		if err != nil {
			return off, false
		}
	}
}

// isFieldLine reports whether line starts with a field name and a colon.
func isFieldLine(line []byte) bool {
	for i, c := range line {
		switch {
		case c == ':':
			return i > 0
		case c < 33 || c > 126:
			return false
		}
	}
	return false
}

// headerEndsWithin reports whether the empty line that ends the header section lies within the
// first limit octets of r.
func headerEndsWithin(r io.ReaderAt, limit int64) bool {
	br := bufio.NewReader(io.NewSectionReader(r, 0, limit))
	for {
		line, err := br.ReadSlice('\n')
		if string(line) == "\r\n" || string(line) == "\n" {
			return true
		}
		if errors.Is(err, bufio.ErrBufferFull) {
			for errors.Is(err, bufio.ErrBufferFull) { // a long line: skip the rest of it
				_, err = br.ReadSlice('\n')
			}
		}
		if err != nil {
			return false
		}
	}
}

// fromAddresses parses the From fields' address lists (RFC 5322 §3.6.2). Display names in
// unknown charsets are not an error: only the addresses matter here.
func fromAddresses(values []string) ([]address.Address, error) {
	parser := mail.AddressParser{WordDecoder: &mime.WordDecoder{
		CharsetReader: func(_ string, r io.Reader) (io.Reader, error) { return r, nil },
	}}
	var out []address.Address
	for _, v := range values {
		list, err := parser.ParseList(v)
		if err != nil {
			return nil, err
		}
		for _, m := range list {
			a, err := address.Parse(m.Address)
			if err != nil {
				return nil, err
			}
			out = append(out, a)
		}
	}
	return out, nil
}

// finalMessage writes the message to store into a new draft: Received, the DKIM signatures, the
// added fields, then the spooled message. On error nothing of it is left.
func (s *submissionSession) finalMessage(spool *spool, prefix string, h submittedHeader) (*delivery.Draft, error) {
	// The message as stored: an empty line is put where the header ends when the client sent
	// none (DKIM, RFC 6376 §3.4, and every reader need it).
	message := func() io.Reader {
		if h.separated {
			return io.NewSectionReader(spool, 0, spool.Size())
		}
		return io.MultiReader(io.NewSectionReader(spool, 0, h.end), strings.NewReader("\r\n"),
			io.NewSectionReader(spool, h.end, spool.Size()-h.end))
	}
	var sigs []string
	keys, err := s.sub.Store.DKIMKeys(s.ctx, h.from[0].Domain)
	if err != nil {
		return nil, err
	}
	if keys = mailauth.SigningKeys(keys); len(keys) > 0 {
		if sigs, err = s.sub.dkimKeys.Sign(io.MultiReader(strings.NewReader(prefix), message()), keys); err != nil {
			return nil, err
		}
	}
	draft, err := s.server.Committer.NewDraft(s.ctx)
	if err != nil {
		return nil, err
	}
	_, tls := s.conn.TLSConnectionState()
	head := submissionReceived(s.server.Hostname, s.conn.Hostname(), draft.ID(), tls, s.sub.now()) +
		strings.Join(sigs, "") + prefix
	w := bufio.NewWriterSize(draft, 64<<10)
	_, err = w.WriteString(head)
	if err == nil {
		_, err = io.Copy(w, message())
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		draft.Abort()
		return nil, err
	}
	return draft, nil
}

// submissionReceived is the trace field of a submitted message (RFC 5321 §4.4) with the
// protocol names of RFC 3848: ESMTPSA (TLS and AUTH) or ESMTPA (AUTH only). It leaves out the
// client's address on purpose (see the file comment of submission.go), also when the client
// greeted with an address literal.
func submissionReceived(hostname, helo, id string, tls bool, now time.Time) string {
	if strings.HasPrefix(helo, "[") {
		helo = ""
	}
	protocol := "ESMTPA"
	if tls {
		protocol = "ESMTPSA"
	}
	return fmt.Sprintf("Received: from %s\r\n\tby %s (posthorn) with %s id %s;\r\n\t%s\r\n",
		headerSafe(helo), hostname, protocol, id, now.Format(time.RFC1123Z))
}

// deliver delivers draft to the local recipients' INBOXes and queues it for the remote ones, in
// one transaction, then counts it against the sending limits. A refused draft is left for the
// caller to abort.
func (s *submissionSession) deliver(draft *delivery.Draft, rcpt string, stats copyStats, start time.Time) error {
	size := draft.Size()
	if err := s.checkQuota(rcpt, size); err != nil {
		return err
	}
	targets := make([]store.Target, len(s.accounts))
	for i, acc := range s.accounts {
		targets[i] = store.Target{AccountID: acc.ID, Mailbox: "INBOX"}
	}
	committed, err := s.commit(draft, rcpt, delivery.Message{Targets: targets, Outbound: s.queued})
	if err != nil {
		return err
	}
	s.sub.sent(s.server.Logger).record(store.SentRecord{AccountID: s.account.ID, Recipients: len(s.rcpts), At: s.sub.now()})
	if s.sub.Sent != nil {
		s.sub.Sent(s.account.ID, s.rcpts)
	}
	s.server.Metrics.received(size, stats.receivedHeaders, time.Since(start))
	result := "delivered"
	if len(s.queued) > 0 {
		result = "queued"
	}
	s.server.MailLog.Record(maillog.Event{
		Event: "received", ID: committed.BodyID, MsgID: committed.MessageID, From: s.from, Rcpt: rcpt,
		Result: result, Code: "250 2.0.0", Remote: s.session.remote, Size: size, Conn: s.id,
		Mailboxes: loggedMailboxes(s.accounts, targets),
	})
	return nil
}

// randomID returns 24 random hex digits for a Message-ID.
func randomID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
