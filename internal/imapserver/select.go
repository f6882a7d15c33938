package imapserver

import (
	"errors"

	"posthorn/internal/store"
)

// permanentFlags are the flags a client may store (RFC 9051 §7.1: PERMANENTFLAGS); "\*" says
// it may create keywords.
const permanentFlags = `(\Answered \Flagged \Deleted \Seen \Draft \*)`

// mailboxFlags is the FLAGS response of SELECT (RFC 9051 §7.3.5). Keywords in use are not
// listed: clients learn them from FETCH FLAGS, and PERMANENTFLAGS says any may be set.
const mailboxFlags = `(\Answered \Flagged \Deleted \Seen \Draft)`

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
	// The view is read after the mailbox's counters: whatever arrives in between has a MODSEQ
	// above mb.HighestModSeq, so the next sync sees it again, harmlessly.
	uids, err := st.ListUIDs(s.ctx, mb.ID)
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
		uids:        newUIDList(uids),
		modseq:      mb.HighestModSeq,
		own:         map[uint32]uint64{},
	}
	uidNext := max(mb.UIDNext, sel.uids.last()+1)
	s.untagged("FLAGS %s", mailboxFlags)
	s.untagged("%d EXISTS", sel.uids.len())
	if !s.rev2 {
		s.untagged("0 RECENT") // RFC 3501 §6.3.1; \Recent is not kept (RFC 9051 dropped it)
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
		s.untagged("OK [PERMANENTFLAGS %s] flags permitted", permanentFlags)
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
