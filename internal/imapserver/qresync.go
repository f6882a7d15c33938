package imapserver

import "slices"

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
