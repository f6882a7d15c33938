package imapserver

import (
	"errors"
	"fmt"
	"slices"
	"time"

	"posthorn/internal/store"
)

type copyArgs struct {
	set     numSet
	mailbox string
}

// parseCopy: COPY/MOVE SP sequence-set SP mailbox.
func parseCopy(p *parser, c *command) error {
	a := &copyArgs{}
	c.args = a
	if err := p.spSeqSet(&a.set); err != nil {
		return err
	}
	return p.spAstring(&a.mailbox)
}

// cmdCopy: COPY, MOVE and their UID forms (RFC 9051 §6.4.7, §6.4.8, RFC 6851), with COPYUID
// (UIDPLUS, RFC 4315 §3). A MOVE announces the removed messages at once, after the COPYUID
// (RFC 6851 §4.3). Moving or copying into Junk, or moving out of it, is recorded for the spam
// filter to learn from.
func (s *session) cmdCopy(c *command) error {
	a := c.args.(*copyArgs)
	sel := s.sel
	move := c.name == "MOVE" || c.name == "UID MOVE"
	if move && sel.readOnly {
		return no("READ-ONLY", "mailbox is read-only")
	}
	refs, err := s.resolve(a.set, c.uid, false)
	if err != nil {
		return err
	}
	name, err := s.mailboxName(a.mailbox)
	if err != nil {
		return err
	}
	st := s.server.Store
	dst, err := st.GetMailbox(s.ctx, s.account.ID, name)
	if errors.Is(err, store.ErrNotFound) {
		return no("TRYCREATE", "mailbox does not exist") // RFC 9051 §6.4.7
	}
	if err != nil {
		return err
	}
	if len(refs) == 0 {
		return nil
	}
	uids := uidsOf(refs)
	junk := s.junkMove(sel.specialUse, dst.SpecialUse, move)
	if !move {
		// RFC 9208 §4.3.1: a COPY that would go over quota is refused. A MOVE leaves the
		// account's usage as it is.
		if err := s.checkCopyQuota(uids); err != nil {
			return err
		}
	}
	var blobs []store.Message
	if junk != 0 {
		if blobs, err = st.GetMessages(s.ctx, sel.id, uids); err != nil {
			return err
		}
	}
	var pairs []store.UIDPair
	if move {
		pairs, err = st.Move(s.ctx, sel.id, uids, dst.ID)
	} else {
		pairs, err = st.Copy(s.ctx, sel.id, uids, dst.ID)
	}
	if errors.Is(err, store.ErrNotFound) {
		return no("TRYCREATE", "mailbox does not exist")
	}
	if err != nil {
		return err
	}
	for _, m := range blobs {
		if err := st.RecordJunkMove(s.ctx, s.account.ID, m.BlobID, junk > 0, time.Now()); err != nil {
			s.logger.Warn("record junk move", "err", err)
		}
	}
	if len(pairs) == 0 {
		return nil
	}
	src, dstUIDs := make([]uint32, len(pairs)), make([]uint32, len(pairs))
	for i, p := range pairs {
		src[i], dstUIDs[i] = p.Src, p.Dst
	}
	code := fmt.Sprintf("COPYUID %d %s %s", dst.UIDValidity, compactUIDs(src), compactUIDs(dstUIDs))
	if !move {
		return okCode(code, "COPY completed")
	}
	s.untagged("OK [%s] moved", code)
	all := append(src, sel.pending...)
	slices.Sort(all)
	sel.pending = nil
	s.announceExpunged(sel, slices.Compact(all))
	return &response{status: "OK", text: c.name + " completed"}
}

// checkCopyQuota answers NO [OVERQUOTA] when copies of the messages with the given UIDs would
// take the account over its storage quota. It reads their sizes only when there is a quota.
func (s *session) checkCopyQuota(uids []uint32) error {
	q, err := s.quota()
	if err != nil || q.Limit == 0 {
		return err
	}
	msgs, err := s.server.Store.GetMessages(s.ctx, s.sel.id, uids)
	if err != nil {
		return err
	}
	var size int64
	for _, m := range msgs {
		size += m.Size
	}
	if q.Exceeded(size) {
		return errOverQuota
	}
	return nil
}

// junkMove says whether messages going from a mailbox with special use from to one with to
// teach the spam filter: 1 for "this is spam" (into Junk), -1 for "this is not" (moved out of
// Junk), 0 for neither.
func (s *session) junkMove(from, to string, move bool) int {
	switch {
	case to == store.UseJunk && from != store.UseJunk:
		return 1
	case move && from == store.UseJunk && to != store.UseJunk && to != store.UseTrash:
		return -1
	}
	return 0
}
