package imapserver

import "slices"

type seqArgs struct{ set numSet } // UID EXPUNGE

// parseExpunge: EXPUNGE takes no arguments; UID EXPUNGE SP sequence-set (RFC 4315 §3, the
// set of UIDs to expunge).
func parseExpunge(p *parser, c *command) error {
	if !c.uid {
		return nil
	}
	a := &seqArgs{}
	c.args = a
	return p.spSeqSet(&a.set)
}

// cmdExpunge: EXPUNGE (RFC 9051 §6.4.3) and UID EXPUNGE (RFC 4315 §2.1, RFC 9051 §6.4.9):
// removes the messages marked \Deleted, all or those of a UID set, and announces each removal.
func (s *session) cmdExpunge(c *command) error {
	sel := s.sel
	if sel.readOnly {
		return no("READ-ONLY", "mailbox is read-only")
	}
	var uids []uint32 // nil: every message marked \Deleted
	if c.uid {
		refs, err := s.resolve(c.args.(*seqArgs).set, true, false)
		if err != nil {
			return err
		}
		if len(refs) == 0 {
			return nil
		}
		uids = uidsOf(refs)
	}
	gone, err := s.expunge(sel, uids)
	if err != nil {
		return err
	}
	// Removals by others that were waiting go out with ours, in UID order.
	all := append(gone, sel.pending...)
	slices.Sort(all)
	sel.pending = nil
	s.announceExpunged(sel, slices.Compact(all))
	return nil
}

// expunge removes from the store the messages of uids (nil: all) marked \Deleted, deletes the
// blobs left without reference, and returns the UIDs removed. It announces nothing.
func (s *session) expunge(sel *selected, uids []uint32) ([]uint32, error) {
	gone, unreferenced, err := s.server.Store.Expunge(s.ctx, sel.id, uids)
	if err != nil {
		return nil, err
	}
	s.removeBlobs(unreferenced)
	return gone, nil
}

// removeBlobs deletes message bodies nothing refers to any more. A failure only leaves a file
// behind, which the orphan sweep finds later.
func (s *session) removeBlobs(ids []string) {
	for _, id := range ids {
		if err := s.server.Bodies.Remove(s.ctx, id); err != nil {
			s.logger.Warn("remove message body", "blob", id, "err", err)
		}
	}
}
