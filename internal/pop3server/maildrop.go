package pop3server

import (
	"context"
	"fmt"
	"strconv"

	"posthorn/internal/store"
)

// getChunk bounds the messages read from the store at once when a maildrop is opened, so the
// parse results that come with them stay small in memory.
const getChunk = 1000

// maildrop is the INBOX as a session saw it at login (RFC 1939 §5: message numbers stay fixed
// for the session; deliveries after login show in the next session).
type maildrop struct {
	mailboxID   int64
	uidValidity uint32
	msgs        []dropMessage // message n is msgs[n-1]
	count       int           // messages not marked as deleted
	size        int64         // their octets
}

type dropMessage struct {
	uid       uint32
	size      int64
	blobID    string
	deleted   bool // DELE: removed at QUIT
	retrieved bool // RETR: marked \Seen at QUIT
}

// openMaildrop reads the INBOX of acc.
func openMaildrop(ctx context.Context, st store.Store, acc store.Account) (*maildrop, error) {
	mb, err := st.GetMailbox(ctx, acc.ID, "INBOX")
	if err != nil {
		return nil, fmt.Errorf("get INBOX: %w", err)
	}
	uids, err := st.ListUIDs(ctx, mb.ID)
	if err != nil {
		return nil, fmt.Errorf("list INBOX: %w", err)
	}
	d := &maildrop{mailboxID: mb.ID, uidValidity: mb.UIDValidity, msgs: make([]dropMessage, 0, len(uids))}
	for len(uids) > 0 {
		chunk := uids[:min(len(uids), getChunk)]
		uids = uids[len(chunk):]
		// Messages expunged since ListUIDs are left out.
		msgs, err := st.GetMessages(ctx, mb.ID, chunk)
		if err != nil {
			return nil, fmt.Errorf("read INBOX: %w", err)
		}
		for _, m := range msgs {
			d.msgs = append(d.msgs, dropMessage{uid: m.UID, size: m.Size, blobID: m.BlobID})
			d.size += m.Size
		}
	}
	d.count = len(d.msgs)
	return d, nil
}

// message returns message number arg, which must exist and not be marked as deleted.
func (d *maildrop) message(arg string) (*dropMessage, int, error) {
	n, ok := parseNumber(arg)
	if !ok {
		return nil, 0, errorf("", "invalid message number %.20q", arg)
	}
	if n < 1 || n > len(d.msgs) {
		return nil, 0, errorf("", "no such message")
	}
	m := &d.msgs[n-1]
	if m.deleted {
		return nil, 0, errorf("", "message %d already deleted", n)
	}
	return m, n, nil
}

// uidl is a message's unique-id (RFC 1939 §7): UIDVALIDITY and UID in hexadecimal, 16
// characters. The store never gives a UID twice under one UIDVALIDITY, so an id is never
// reused, and it stays the same across sessions and for IMAP.
func (d *maildrop) uidl(dst []byte, m *dropMessage) []byte {
	return appendHex8(appendHex8(dst, d.uidValidity), m.uid)
}

func appendHex8(dst []byte, v uint32) []byte {
	const digits = "0123456789abcdef"
	for shift := 28; shift >= 0; shift -= 4 {
		dst = append(dst, digits[v>>uint(shift)&0xf])
	}
	return dst
}

// cmdStat: STAT (RFC 1939 §5), the drop listing.
func (s *session) cmdStat(args []string) error {
	s.ok("%d %d", s.drop.count, s.drop.size)
	return nil
}

// cmdList: LIST (RFC 1939 §5), scan listings of one message or of every message not marked as
// deleted. Sizes are the octets of the stored message, CRLF line ends included, before
// byte-stuffing.
func (s *session) cmdList(args []string) error {
	first := fmt.Sprintf("%d messages (%d octets)", s.drop.count, s.drop.size)
	return s.listing(args, first, func(b []byte, m *dropMessage) []byte {
		return strconv.AppendInt(b, m.size, 10)
	})
}

// cmdUidl: UIDL (RFC 1939 §7), unique-id listings.
func (s *session) cmdUidl(args []string) error {
	return s.listing(args, "unique-id listing follows", s.drop.uidl)
}

// listing writes the listing of one message (args[0]) or, as a multi-line response after
// "+OK first", of every message not marked as deleted.
func (s *session) listing(args []string, first string, value func([]byte, *dropMessage) []byte) error {
	buf := make([]byte, 0, 64)
	if len(args) == 1 {
		m, n, err := s.drop.message(args[0])
		if err != nil {
			return err
		}
		buf = append(strconv.AppendInt(append(buf, "+OK "...), int64(n), 10), ' ')
		s.bw.Write(append(value(buf, m), "\r\n"...))
		return nil
	}
	s.ok("%s", first)
	for i := range s.drop.msgs {
		m := &s.drop.msgs[i]
		if m.deleted {
			continue
		}
		buf = append(strconv.AppendInt(buf[:0], int64(i+1), 10), ' ')
		s.bw.Write(append(value(buf, m), "\r\n"...))
	}
	s.bw.WriteString(".\r\n")
	return nil
}

// cmdDele: DELE (RFC 1939 §5) marks a message as deleted; QUIT removes it.
func (s *session) cmdDele(args []string) error {
	m, n, err := s.drop.message(args[0])
	if err != nil {
		return err
	}
	m.deleted = true
	s.drop.count--
	s.drop.size -= m.size
	s.ok("message %d deleted", n)
	return nil
}

// cmdRset: RSET (RFC 1939 §5) unmarks every message marked as deleted.
func (s *session) cmdRset(args []string) error {
	d := s.drop
	for i := range d.msgs {
		d.msgs[i].deleted = false
	}
	d.count, d.size = len(d.msgs), 0
	for _, m := range d.msgs {
		d.size += m.size
	}
	s.ok("maildrop has %d messages (%d octets)", d.count, d.size)
	return nil
}
