package imapserver

import (
	"slices"
	"strconv"
	"strings"

	"posthorn/internal/store"
)

type statusArgs struct {
	mailbox string
	items   []string // upper case
}

// statusItems are the STATUS data items we answer (RFC 9051 §6.3.11, RFC 8438 SIZE, RFC 7162
// HIGHESTMODSEQ, RFC 7889 APPENDLIMIT, RFC 9208 DELETED-STORAGE, and RECENT of RFC 3501).
var statusItems = map[string]bool{
	"MESSAGES": true, "UIDNEXT": true, "UIDVALIDITY": true, "UNSEEN": true, "DELETED": true,
	"SIZE": true, "RECENT": true, "HIGHESTMODSEQ": true, "APPENDLIMIT": true, "DELETED-STORAGE": true,
}

// parseStatusItems: "(" status-att *(SP status-att) ")".
func parseStatusItems(p *parser) ([]string, error) {
	var items []string
	err := p.parenList(func() error {
		item, err := p.keyword()
		if err != nil {
			return err
		}
		if !statusItems[item] {
			return badf("unknown STATUS item %s", item)
		}
		if len(items) < len(statusItems) {
			items = append(items, item)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	if len(items) == 0 {
		return nil, badf("no STATUS items")
	}
	return items, nil
}

func parseStatus(p *parser, c *command) error {
	a := &statusArgs{}
	c.args = a
	if err := p.sp(); err != nil {
		return err
	}
	var err error
	if a.mailbox, err = p.astring(); err != nil {
		return err
	}
	if err := p.sp(); err != nil {
		return err
	}
	a.items, err = parseStatusItems(p)
	return err
}

// cmdStatus: STATUS (RFC 9051 §6.3.11), with SIZE (RFC 8438), HIGHESTMODSEQ (RFC 7162 §3.1.6),
// APPENDLIMIT (RFC 7889), DELETED-STORAGE (RFC 9208 §4.1.4: the octets an EXPUNGE would free
// from the quota, the sum of the RFC822.SIZE of the messages with \Deleted) and IMAP4rev1's
// RECENT (the messages no session has claimed as \Recent, flags.go).
func (s *session) cmdStatus(c *command) error {
	a := c.args.(*statusArgs)
	mb, err := s.existingMailbox(a.mailbox)
	if err != nil {
		return err
	}
	return s.writeMailboxStatus(mb, a.items)
}

// writeMailboxStatus writes "* STATUS name (item value ...)" with items in the order asked.
func (s *session) writeMailboxStatus(mb store.Mailbox, items []string) error {
	var unseen, deleted, deletedSize int64
	if slices.Contains(items, "UNSEEN") || slices.Contains(items, "DELETED") || slices.Contains(items, "DELETED-STORAGE") {
		var err error
		if unseen, deleted, deletedSize, err = s.countFlags(mb.ID); err != nil {
			return err
		}
	}
	var recent int64
	if slices.Contains(items, "RECENT") {
		var err error
		if recent, err = s.server.Store.CountFrom(s.ctx, mb.ID, mb.FirstRecentUID); err != nil {
			return err
		}
	}
	var size int64
	if slices.Contains(items, "SIZE") {
		var err error
		if size, err = s.server.Store.MailboxSize(s.ctx, mb.ID); err != nil {
			return err
		}
	}
	b := s.bw
	b.WriteString("* STATUS ")
	s.writeMailbox(mb.Name)
	b.WriteString(" (")
	for i, item := range items {
		if i > 0 {
			b.WriteByte(' ')
		}
		var v int64
		switch item {
		case "MESSAGES":
			v = mb.MessageCount
		case "UIDNEXT":
			v = int64(mb.UIDNext)
		case "UIDVALIDITY":
			v = int64(mb.UIDValidity)
		case "UNSEEN":
			v = unseen
		case "DELETED":
			v = deleted
		case "DELETED-STORAGE":
			v = deletedSize
		case "SIZE":
			v = size
		case "HIGHESTMODSEQ":
			v = int64(mb.HighestModSeq)
		case "APPENDLIMIT":
			v = s.server.appendLimit()
		case "RECENT":
			v = recent
		}
		b.WriteString(item)
		b.WriteByte(' ')
		b.WriteString(strconv.FormatInt(v, 10))
	}
	b.WriteString(")\r\n")
	return nil
}

// countFlags returns how many messages of a mailbox lack \Seen, how many have \Deleted and
// their total size. It reads every message's metadata: fine for mailboxes of thousands of
// messages; a store query that counts would serve large ones better.
func (s *session) countFlags(mailboxID int64) (unseen, deleted, deletedSize int64, err error) {
	msgs, err := s.server.Store.ChangedSince(s.ctx, mailboxID, 0)
	if err != nil {
		return 0, 0, 0, err
	}
	for _, m := range msgs {
		if !hasFlag(m.Flags, `\Seen`) {
			unseen++
		}
		if hasFlag(m.Flags, `\Deleted`) {
			deleted++
			deletedSize += m.Size
		}
	}
	return unseen, deleted, deletedSize, nil
}

// hasFlag reports whether flags holds f, compared case-insensitively.
func hasFlag(flags []string, f string) bool {
	return slices.ContainsFunc(flags, func(g string) bool { return strings.EqualFold(g, f) })
}
