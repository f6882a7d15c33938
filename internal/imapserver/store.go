package imapserver

import (
	"slices"
	"strings"

	"posthorn/internal/store"
)

type storeArgs struct {
	set            numSet
	unchangedSince uint64 // RFC 7162 §3.1.3
	hasUnchanged   bool
	op             string // "FLAGS", "+FLAGS", "-FLAGS"
	silent         bool
	flags          []string
}

// parseStore: STORE SP sequence-set [SP "(" "UNCHANGEDSINCE" SP mod-sequence-valzer ")"] SP
// store-att-flags, with store-att-flags = (["+" / "-"] "FLAGS" [".SILENT"]) SP (flag-list /
// (flag *(SP flag))) (RFC 9051 §6.4.6, RFC 7162 §3.1.3).
func parseStore(p *parser, c *command) error {
	a := &storeArgs{}
	c.args = a
	if err := p.spSeqSet(&a.set); err != nil {
		return err
	}
	if err := p.sp(); err != nil {
		return err
	}
	var err error
	if p.consume('(') {
		if !p.tryKeyword("UNCHANGEDSINCE") {
			return badf("unknown STORE modifier")
		}
		if err := p.sp(); err != nil {
			return err
		}
		if a.unchangedSince, err = p.number64(); err != nil {
			return err
		}
		a.hasUnchanged = true
		if err := p.expect(')'); err != nil {
			return err
		}
		if err := p.sp(); err != nil {
			return err
		}
	}
	sign := ""
	if p.consume('+') {
		sign = "+"
	} else if p.consume('-') {
		sign = "-"
	}
	item, err := p.keyword()
	if err != nil {
		return err
	}
	switch item {
	case "FLAGS":
	case "FLAGS.SILENT":
		a.silent = true
	default:
		return badf("unknown STORE item %s", item)
	}
	a.op = sign + "FLAGS"
	if err := p.sp(); err != nil {
		return err
	}
	if p.peek() == '(' {
		a.flags, err = p.flagList()
		return err
	}
	for {
		f, err := p.flag()
		if err != nil {
			return err
		}
		a.flags = append(a.flags, f)
		if !p.consume(' ') {
			return nil
		}
	}
}

// cmdStore: STORE and UID STORE (RFC 9051 §6.4.6, §6.4.9) with UNCHANGEDSINCE (CONDSTORE, RFC
// 7162 §3.1.3). Each changed message gets a new MODSEQ and, unless .SILENT, an untagged FETCH
// with its flags; with CONDSTORE on, a .SILENT change still gets a FETCH with its MODSEQ. The
// messages UNCHANGEDSINCE refused are listed in [MODIFIED].
func (s *session) cmdStore(c *command) error {
	a := c.args.(*storeArgs)
	sel := s.sel
	if sel.readOnly {
		return no("READ-ONLY", "mailbox is read-only")
	}
	var flags []string
	for _, f := range a.flags {
		switch {
		case f == `\Recent`:
			continue // RFC 9051 §2.3.2: not settable
		case strings.HasPrefix(f, `\`) && !isSystemFlag(f):
			return badf("unknown system flag %s", f)
		}
		flags = append(flags, f)
	}
	refs, err := s.resolve(a.set, c.uid, false)
	if err != nil {
		return err
	}
	if a.hasUnchanged {
		s.enableCondstore()
	}
	if len(refs) == 0 {
		return nil
	}
	op := map[string]store.FlagOp{"FLAGS": store.FlagsReplace, "+FLAGS": store.FlagsAdd, "-FLAGS": store.FlagsRemove}[a.op]
	var updated []store.FlagUpdate
	var failed []uint32
	if a.hasUnchanged && a.unchangedSince == 0 {
		// Every message has a MODSEQ of at least 1, so none passes (RFC 7162 §3.1.3).
		failed = uidsOf(refs)
	} else {
		updated, failed, err = s.server.Store.UpdateFlags(s.ctx, sel.id, uidsOf(refs), op, flags, a.unchangedSince)
		if err != nil {
			return err
		}
	}
	for _, u := range updated {
		seq := sel.uids.seq(u.UID)
		if seq == 0 {
			continue
		}
		s.learnKeywords(sel, u.Flags) // a new keyword: FLAGS before the FETCH that shows it
		sel.own[u.UID] = u.ModSeq
		switch {
		case !a.silent:
			s.writeFlagsUpdate(sel, seq, u.UID, u.ModSeq, u.Flags)
		case s.condstore:
			s.untagged("%d FETCH (UID %d MODSEQ (%d))", seq, u.UID, u.ModSeq)
		}
	}
	if len(failed) > 0 {
		// RFC 7162 §3.1.3: the failed messages, as sequence numbers or UIDs as the command used.
		var nums []uint32
		for _, u := range failed {
			if !c.uid {
				u = sel.uids.seq(u)
			}
			if u != 0 {
				nums = append(nums, u)
			}
		}
		return okCode("MODIFIED "+compactNumbers(nums), "conditional STORE failed for some messages")
	}
	return nil
}

// compactNumbers writes numbers as a set, ascending: "1:3,7".
func compactNumbers(nums []uint32) string {
	return compactUIDs(slices.Compact(slices.Sorted(slices.Values(nums))))
}
