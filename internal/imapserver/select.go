package imapserver

import (
	"errors"

	"posthorn/internal/store"
)

type selectArgs struct {
	mailbox   string
	condstore bool // RFC 7162 §3.1.8
	qresync   *qresyncParams
}

// parseSelect: SELECT/EXAMINE SP mailbox [SP "(" select-param *(SP select-param) ")"] with the
// CONDSTORE and QRESYNC parameters of RFC 7162 §3.1.8 and §3.2.5.
func parseSelect(p *parser, c *command) error {
	a := &selectArgs{}
	c.args = a
	return p.mailboxParams(&a.mailbox, func(name string) error {
		switch name {
		case "CONDSTORE":
			a.condstore = true
		case "QRESYNC":
			if err := p.sp(); err != nil {
				return err
			}
			var err error
			a.qresync, err = parseQresync(p)
			return err
		default:
			return badf("unknown SELECT parameter %s", name)
		}
		return nil
	})
}

// cmdSelect: SELECT and EXAMINE (RFC 9051 §6.3.2, §6.3.3), with the CONDSTORE parameter (RFC
// 7162 §3.1.8).
func (s *session) cmdSelect(c *command) error {
	a := c.args.(*selectArgs)
	if s.sel != nil {
		// RFC 9051 §6.3.2: selecting closes the mailbox selected before, without expunging;
		// RFC 7162 §3.2.11 has the server say so with [CLOSED].
		s.sel = nil
		s.state = stateAuthenticated
		s.untagged("OK [CLOSED] previous mailbox closed")
	}
	if a.qresync != nil && !s.qresync {
		return badf("QRESYNC is not enabled") // RFC 7162 §3.2.5
	}
	name, err := s.mailboxName(a.mailbox)
	if err != nil {
		return err
	}
	st := s.server.Store
	mb, err := st.GetMailbox(s.ctx, s.account.ID, name)
	if errors.Is(err, store.ErrNotFound) {
		return no("NONEXISTENT", "no such mailbox")
	}
	if err != nil {
		return err
	}
	if a.condstore {
		s.condstore = true // RFC 7162 §3.1.8: a CONDSTORE enabling command
	}
	sel := &selected{
		id:          mb.ID,
		name:        mb.Name,
		specialUse:  mb.SpecialUse,
		uidValidity: mb.UIDValidity,
		readOnly:    c.name == "EXAMINE",
		modseq:      mb.HighestModSeq,
		own:         map[uint32]uint64{},
		keywords:    mb.Keywords,
	}
	// The recent messages are claimed before the view is read, so that every UID claimed is in
	// it (a UID below UIDNEXT is committed).
	if err := s.claimRecent(sel, mb.FirstRecentUID, mb.UIDNext); err != nil {
		return err
	}
	// The view is read after the mailbox's counters: whatever arrives in between has a MODSEQ
	// above mb.HighestModSeq, so the next sync sees it again, harmlessly.
	uids, err := st.ListUIDs(s.ctx, mb.ID)
	if err != nil {
		return err
	}
	sel.uids = newUIDList(uids)
	uidNext := max(mb.UIDNext, sel.uids.last()+1)
	s.writeMailboxFlags(sel, false)
	s.untagged("%d EXISTS", sel.uids.len())
	if !s.rev2 {
		s.untagged("%d RECENT", sel.recentCount()) // RFC 3501 §6.3.1
		// RFC 3501 §6.3.1: OK [UNSEEN n], the first message without \Seen (IMAP4rev2 dropped
		// it). Left out when there is none: "If this is missing, the client can not make any
		// assumptions about the first unseen message in the mailbox."
		uid, err := st.FirstUnseen(s.ctx, mb.ID)
		if err != nil {
			return err
		}
		if seq := sel.uids.seq(uid); uid != 0 && seq != 0 {
			s.untagged("OK [UNSEEN %d] first unseen message", seq)
		}
	}
	s.untagged("OK [UIDVALIDITY %d] UIDs valid", sel.uidValidity)
	s.untagged("OK [UIDNEXT %d] predicted next UID", uidNext)
	if sel.readOnly {
		s.untagged("OK [PERMANENTFLAGS ()] read-only mailbox")
	} else {
		s.writePermanentFlags(sel)
	}
	if s.condstore {
		s.untagged("OK [HIGHESTMODSEQ %d] highest MODSEQ", sel.modseq) // RFC 7162 §3.1.2.1
	}
	if s.rev2 {
		// RFC 9051 §6.3.2: a LIST response with the mailbox's name and attributes.
		entries, err := s.listEntries()
		if err != nil {
			return err
		}
		attrs, _ := s.listAttributes(mb.Name, &mb, entries, false)
		s.writeListLine(mb.Name, attrs, "")
	}
	if a.qresync != nil && a.qresync.uidValidity == sel.uidValidity {
		if err := s.resync(sel, a.qresync); err != nil {
			return err
		}
	}
	s.sel = sel
	s.state = stateSelected
	// Changes the feed reported before now are in the view already.
	select {
	case <-s.changes:
	default:
	}
	s.changed = false
	if sel.readOnly {
		return okCode("READ-ONLY", "EXAMINE completed")
	}
	return okCode("READ-WRITE", "SELECT completed")
}

// cmdClose: CLOSE (RFC 9051 §6.4.1) expunges silently the messages marked \Deleted, unless the
// mailbox is read-only; UNSELECT (RFC 3691) does not.
func (s *session) cmdClose(c *command) error {
	sel := s.sel
	if c.name == "CLOSE" && !sel.readOnly && !sel.gone {
		if _, err := s.expunge(sel, nil); err != nil {
			return err
		}
	}
	s.sel = nil
	s.state = stateAuthenticated
	return nil
}
