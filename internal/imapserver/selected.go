package imapserver

import (
	"errors"
	"slices"
	"strconv"

	"posthorn/internal/store"
)

// selected is the state of the selected mailbox (RFC 9051 §3.3).
//
// The session's view is the list of UIDs it has told the client about; message sequence
// numbers are positions in it. Other sessions change the mailbox at any time; this session
// learns of it from the change feed and, at the end of a command, reads what changed since
// the highest MODSEQ it has seen (store.ChangedSince, store.ExpungedSince): new messages are
// announced with EXISTS, flag changes with FETCH, removals with EXPUNGE (or VANISHED). A
// removal found while the command is FETCH, STORE or SEARCH is kept in pending and announced
// after a later command, so the sequence numbers the client knows stay valid until then
// (RFC 9051 §7.5.1).
type selected struct {
	id          int64
	name        string
	specialUse  string
	uidValidity uint32
	readOnly    bool
	uids        *uidList
	modseq      uint64   // the highest MODSEQ the view is up to date with
	pending     []uint32 // removed by others, not yet announced: still in uids; ascending
	// own are the flag changes this session announced itself (its STORE), by UID, with their
	// MODSEQ: the next sync does not announce them again.
	own   map[uint32]uint64
	saved []uint32 // the result of SEARCH RETURN (SAVE), for "$" (RFC 5182)
	gone  bool     // the mailbox was deleted
	// keywords are the mailbox's keywords the client has been told of (FLAGS, flags.go).
	keywords []string
	// recent are the UIDs that are \Recent in this IMAP4rev1 session, ascending (flags.go).
	recent []uidRange
}

// sync brings the view up to date with the store after a command, if the change feed says
// something changed, and tells the client. Removals are announced only when allowExpunge.
func (s *session) sync(allowExpunge bool) error {
	if s.changes == nil {
		return nil
	}
	select {
	case <-s.changes:
		s.changed = true
	default:
	}
	sel := s.sel
	if sel == nil {
		s.changed = false
		return nil
	}
	if s.changed && !sel.gone {
		// Changed stays set until the changes are read: after a store failure the next
		// command (or IDLE's next try) reads them again.
		if err := s.readChanges(sel); err != nil {
			return err
		}
		s.changed = false
	}
	if allowExpunge && len(sel.pending) > 0 {
		s.announceExpunged(sel, sel.pending)
		sel.pending = nil
	}
	return nil
}

// readChanges reads what changed in the store since sel.modseq: removals go to sel.pending,
// new messages are announced with EXISTS, flag changes by others with FETCH.
func (s *session) readChanges(sel *selected) error {
	st := s.server.Store
	mb, err := st.GetMailboxByID(s.ctx, sel.id)
	if errors.Is(err, store.ErrNotFound) {
		sel.gone = true
		return nil
	}
	if err != nil {
		return err
	}
	s.learnKeywords(sel, mb.Keywords)
	if mb.HighestModSeq <= sel.modseq && mb.UIDNext <= sel.uids.last()+1 {
		clear(sel.own)
		return nil
	}
	// Changes before removals: a removal with a MODSEQ up to the highest change read is
	// committed before the change was, so the second query sees it (MODSEQs are given in
	// commit order).
	changed, err := st.ChangedSince(s.ctx, sel.id, sel.modseq)
	if err != nil {
		return err
	}
	expunged, err := st.ExpungedSince(s.ctx, sel.id, sel.modseq)
	if err != nil {
		return err
	}
	modseq := max(sel.modseq, mb.HighestModSeq)
	for _, u := range expunged {
		if sel.uids.seq(u) != 0 && !slices.Contains(sel.pending, u) {
			sel.pending = append(sel.pending, u)
		}
	}
	slices.Sort(sel.pending)
	before := sel.uids.len()
	var flagChanges []store.Message
	for _, m := range changed {
		modseq = max(modseq, m.ModSeq)
		switch {
		case m.UID > sel.uids.last():
			sel.uids.append(m.UID)
		case sel.own[m.UID] == m.ModSeq:
		case sel.uids.seq(m.UID) != 0 && !slices.Contains(sel.pending, m.UID):
			flagChanges = append(flagChanges, m)
		}
	}
	clear(sel.own)
	for _, m := range flagChanges {
		s.writeFlagsUpdate(sel, sel.uids.seq(m.UID), m.UID, m.ModSeq, m.Flags)
	}
	// The view is up to date from here on, whatever becomes of the claim below: a failure
	// must not make the next sync announce the same messages again.
	sel.modseq = modseq
	if n := sel.uids.len(); n != before {
		s.untagged("%d EXISTS", n)
		if !s.rev2 {
			// RFC 3501 §7.3.2: the RECENT count goes with the new messages. A claim the store
			// could not make leaves them for another session, or the next SELECT, to claim.
			if err := s.claimRecent(sel, mb.FirstRecentUID, mb.UIDNext); err != nil {
				s.logger.Warn("claim recent messages", "err", err)
			}
			s.untagged("%d RECENT", sel.recentCount())
		}
	}
	return nil
}

// writeFlagsUpdate writes an unsolicited FETCH with a message's flags, its UID, and its MODSEQ
// once CONDSTORE is on (RFC 7162 §3.1.4: every FETCH then carries MODSEQ).
func (s *session) writeFlagsUpdate(sel *selected, seq, uid uint32, modseq uint64, flags []string) {
	b := s.bw
	b.WriteString("* ")
	b.WriteString(strconv.FormatUint(uint64(seq), 10))
	b.WriteString(" FETCH (UID ")
	b.WriteString(strconv.FormatUint(uint64(uid), 10))
	b.WriteString(" FLAGS ")
	writeMessageFlags(b, sel, uid, flags)
	if s.condstore {
		b.WriteString(" MODSEQ (")
		b.WriteString(strconv.FormatUint(modseq, 10))
		b.WriteByte(')')
	}
	b.WriteString(")\r\n")
}

// announceExpunged removes uids from the view and tells the client: VANISHED with QRESYNC
// (RFC 7162 §3.2.10), one EXPUNGE per message otherwise (RFC 9051 §7.5.1).
func (s *session) announceExpunged(sel *selected, uids []uint32) {
	if s.qresync {
		var gone []uint32
		for _, u := range uids {
			if sel.uids.remove(u) {
				gone = append(gone, u)
			}
		}
		if len(gone) > 0 {
			s.untagged("VANISHED %s", compactUIDs(gone))
		}
	} else {
		for _, u := range uids {
			if seq := sel.uids.seq(u); seq != 0 {
				sel.uids.remove(u)
				s.untagged("%d EXPUNGE", seq)
			}
		}
	}
	sel.saved = slices.DeleteFunc(sel.saved, func(u uint32) bool { return slices.Contains(uids, u) })
}

// resolve returns the (sequence number, UID) pairs a set names in the view, ascending and
// without duplicates. As sequence numbers (uid false) every number must exist: "*" is the last
// message, and a number past it is an error (BAD) unless lenient. As UIDs, "*" is the highest
// UID and UIDs not in the view are left out (RFC 9051 §6.4.8).
func (s *session) resolve(set numSet, uid, lenient bool) ([]msgRef, error) {
	sel := s.sel
	if set.saved {
		var out []msgRef
		for _, u := range sel.saved {
			if q := sel.uids.seq(u); q != 0 {
				out = append(out, msgRef{q, u})
			}
		}
		return out, nil
	}
	var out []msgRef
	if uid {
		last := sel.uids.last()
		for _, r := range set.ranges {
			lo, hi := r.bounds(last)
			sel.uids.eachUIDIn(lo, hi, func(q, u uint32) { out = append(out, msgRef{q, u}) })
		}
	} else {
		n := sel.uids.len()
		for _, r := range set.ranges {
			lo, hi := r.bounds(n)
			if hi > n || lo == 0 {
				if lenient {
					hi = min(hi, n)
				} else {
					return nil, badf("message sequence number out of range (mailbox has %d messages)", n)
				}
			}
			for q := max(lo, 1); q <= hi && q != 0; q++ {
				out = append(out, msgRef{q, sel.uids.uid(q)})
			}
		}
	}
	if len(set.ranges) > 1 {
		slices.SortFunc(out, func(a, b msgRef) int { return int(a.seq) - int(b.seq) })
		out = slices.Compact(out)
	}
	return out, nil
}

// msgRef is a message of the view: its sequence number and UID.
type msgRef struct{ seq, uid uint32 }

// uidsOf returns the UIDs of refs.
func uidsOf(refs []msgRef) []uint32 {
	out := make([]uint32, len(refs))
	for i, r := range refs {
		out[i] = r.uid
	}
	return out
}
