package imapserver

import "slices"

// qresyncParams are SELECT's QRESYNC parameters (RFC 7162 §3.2.5).
type qresyncParams struct {
	uidValidity uint32
	modSeq      uint64
	knownUIDs   *numSet
	seqMatch    [2]numSet // known sequence numbers and the UIDs they have
	hasSeqMatch bool
}

// parseQresync: "(" uidvalidity SP mod-sequence-value [SP known-uids] [SP seq-match-data] ")"
// with seq-match-data = "(" known-sequence-set SP known-uid-set ")" (RFC 7162 §7).
func parseQresync(p *parser) (*qresyncParams, error) {
	q := &qresyncParams{}
	if err := p.expect('('); err != nil {
		return nil, err
	}
	var err error
	if q.uidValidity, err = p.nzNumber(); err != nil {
		return nil, err
	}
	if err := p.sp(); err != nil {
		return nil, err
	}
	if q.modSeq, err = p.number64(); err != nil {
		return nil, err
	}
	if p.consume(' ') && p.peek() != '(' {
		uids, err := p.uidSet()
		if err != nil {
			return nil, err
		}
		q.knownUIDs = &uids
		p.consume(' ')
	}
	if p.consume('(') {
		if q.seqMatch[0], err = p.uidSet(); err != nil {
			return nil, err
		}
		if err := p.sp(); err != nil {
			return nil, err
		}
		if q.seqMatch[1], err = p.uidSet(); err != nil {
			return nil, err
		}
		if err := p.expect(')'); err != nil {
			return nil, err
		}
		q.hasSeqMatch = true
	}
	return q, p.expect(')')
}

// resync answers SELECT's QRESYNC parameter (RFC 7162 §3.2.5) when the client's UIDVALIDITY is
// still right: a VANISHED (EARLIER) with the UIDs expunged since its MODSEQ, then a FETCH with
// UID, FLAGS and MODSEQ for every message of the view changed since then. Both are limited to
// the client's known UIDs when it sent them. (The sequence match data only helps a server that
// cannot list expunged UIDs; ExpungedSince lists them exactly, so it is read and not needed.)
func (s *session) resync(sel *selected, q *qresyncParams) error {
	st := s.server.Store
	known := func(uid uint32) bool {
		return q.knownUIDs == nil || q.knownUIDs.contains(uid, sel.uids.last())
	}
	expunged, err := st.ExpungedSince(s.ctx, sel.id, q.modSeq)
	if err != nil {
		return err
	}
	expunged = slices.DeleteFunc(expunged, func(u uint32) bool { return !known(u) })
	if len(expunged) > 0 {
		s.untagged("VANISHED (EARLIER) %s", compactUIDs(expunged))
	}
	changed, err := st.ChangedSince(s.ctx, sel.id, q.modSeq)
	if err != nil {
		return err
	}
	for _, m := range changed {
		seq := sel.uids.seq(m.UID)
		if seq == 0 || !known(m.UID) {
			continue
		}
		s.writeFlagsUpdate(sel, seq, m.UID, m.ModSeq, m.Flags)
	}
	return nil
}

// writeVanishedEarlier answers UID FETCH's VANISHED modifier (RFC 7162 §3.2.6): the UIDs of
// the set expunged since changedSince, before any FETCH response.
func (s *session) writeVanishedEarlier(set numSet, changedSince uint64) error {
	sel := s.sel
	expunged, err := s.server.Store.ExpungedSince(s.ctx, sel.id, changedSince)
	if err != nil {
		return err
	}
	last := max(sel.uids.last(), slices.Max(append(expunged, 0)))
	var saved []uint32
	if set.saved {
		saved = sel.saved
	}
	expunged = slices.DeleteFunc(expunged, func(u uint32) bool {
		if set.saved {
			return !slices.Contains(saved, u)
		}
		return !set.contains(u, last)
	})
	if len(expunged) > 0 {
		s.untagged("VANISHED (EARLIER) %s", compactUIDs(expunged))
	}
	return nil
}
