package smtpserver

import (
	"bufio"
	"context"
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
	"posthorn/internal/blob"
	"posthorn/internal/mailauth"
	"posthorn/internal/maillog"
	"posthorn/internal/store"
)

// maxSubmittedHeader bounds the header section of a submitted message.
const maxSubmittedHeader = 1 << 20

// Data handles DATA and BDAT of a submission: the message is spooled, its From checked, the
// missing Message-ID and Date added, DKIM signatures computed, and the final message (Received,
// signatures, added fields, then the message as submitted) written to a new blob that is
// committed to the local INBOXes and the outbound queue together before 250.
func (s *submissionSession) Data(r io.Reader) error {
	start := time.Now()
	rcpt := strings.Join(s.rcpts, ",")
	// The message as submitted waits in a spool (memory, or an unlinked file past 256 KiB)
	// until the header is checked and the signatures are made.
	spool := &spool{dir: s.server.SpoolDir}
	defer spool.Close()
	stats, err := copyMessage(spool, "", r, s.server.MaxMessageBytes)
	if err != nil {
		return s.transferFailed(rcpt, err)
	}
	prefix, signDomain, reply := s.checkHeader(spool)
	if reply != nil {
		s.reject(rcpt, "bad-header", reply)
		return reply
	}
	body, err := s.finalMessage(spool, prefix, signDomain)
	if err != nil {
		s.logger.Error("write submitted message", "err", err)
		s.reject(rcpt, "storage-failed", errTempStore)
		return errTempStore
	}
	return s.deliver(body, rcpt, stats, start)
}

// checkHeader reads the spooled header section: every From address must be owned by the
// account. It returns the header fields to add (Message-ID, Date when missing) and the domain
// to sign for (the first From address's).
func (s *submissionSession) checkHeader(spool *spool) (prefix, signDomain string, reply *smtp.SMTPError) {
	br := bufio.NewReader(io.LimitReader(io.NewSectionReader(spool, 0, spool.Size()), maxSubmittedHeader))
	h, err := textproto.ReadHeader(br)
	if err != nil {
		if spool.Size() >= maxSubmittedHeader {
			return "", "", errHeaderTooLarge
		}
		return "", "", errNoFrom
	}
	froms, err := fromAddresses(h.Values("From"))
	if err != nil || len(froms) == 0 {
		return "", "", errNoFrom
	}
	for _, f := range froms {
		owned, err := s.owns(context.Background(), f)
		if err != nil {
			s.logger.Error("check From", "from", f.String(), "err", err)
			return "", "", errTempLookup
		}
		if !owned {
			s.logger.Info("From not owned", "from", f.String())
			return "", "", errFromNotOwned
		}
	}
	var b strings.Builder
	// RFC 6409 §8.3 and §8.2: an MSA may add Message-ID and Date when they are missing.
	if !h.Has("Message-Id") {
		fmt.Fprintf(&b, "Message-ID: <%s@%s>\r\n", randomID(), s.server.Hostname)
	}
	if !h.Has("Date") {
		fmt.Fprintf(&b, "Date: %s\r\n", s.sub.now().Format(time.RFC1123Z))
	}
	return b.String(), froms[0].Domain, nil
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

// finalMessage writes the blob to store: Received, the DKIM signatures, the added fields, then
// the spooled message.
func (s *submissionSession) finalMessage(spool *spool, prefix, signDomain string) (*blob.Writer, error) {
	var sigs []string
	keys, err := s.sub.Store.DKIMKeys(context.Background(), signDomain)
	if err != nil {
		return nil, err
	}
	if keys = mailauth.SigningKeys(keys); len(keys) > 0 {
		msg := io.MultiReader(strings.NewReader(prefix), io.NewSectionReader(spool, 0, spool.Size()))
		if sigs, err = mailauth.SignDKIM(msg, keys); err != nil {
			return nil, err
		}
	}
	body, err := s.server.Blobs.Create()
	if err != nil {
		return nil, err
	}
	_, tls := s.conn.TLSConnectionState()
	head := submissionReceived(s.server.Hostname, s.conn.Hostname(), body.ID(), tls, s.sub.now()) +
		strings.Join(sigs, "") + prefix
	w := bufio.NewWriterSize(body, 64<<10)
	_, err = w.WriteString(head)
	if err == nil {
		_, err = io.Copy(w, io.NewSectionReader(spool, 0, spool.Size()))
	}
	if err == nil {
		err = w.Flush()
	}
	if err != nil {
		return nil, errors.Join(err, body.Abort())
	}
	return body, nil
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

// deliver delivers body to the local recipients' INBOXes and queues it for the remote ones, in
// one transaction, then counts it against the sending limits.
func (s *submissionSession) deliver(body *blob.Writer, rcpt string, stats copyStats, start time.Time) error {
	size := body.Size()
	if err := s.checkQuota(rcpt, size); err != nil {
		_ = body.Abort()
		return err
	}
	targets := make([]store.Target, len(s.accounts))
	for i, acc := range s.accounts {
		targets[i] = store.Target{AccountID: acc.ID, Mailbox: "INBOX"}
	}
	id := body.ID()
	analysis, err := s.commit(body, rcpt, targets, s.queued)
	if err != nil {
		return err
	}
	if err := s.sub.Store.RecordSent(context.Background(), s.account.ID, len(s.rcpts), s.sub.now()); err != nil {
		// The message is accepted; only the count is missing.
		s.logger.Error("record sent message", "err", err)
	}
	s.server.Metrics.received(size, stats.receivedHeaders, time.Since(start))
	result := "delivered"
	if len(s.queued) > 0 {
		result = "queued"
	}
	s.server.MailLog.Record(maillog.Event{
		Event: "received", ID: id, MsgID: analysis.MessageID, From: s.from, Rcpt: rcpt,
		Result: result, Code: "250 2.0.0", Remote: s.session.remote, Size: size, Conn: s.id,
	})
	return nil
}

// randomID returns 24 random hex digits for a Message-ID.
func randomID() string {
	b := make([]byte, 12)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}
