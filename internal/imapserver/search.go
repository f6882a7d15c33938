package imapserver

import (
	"slices"
	"strconv"
	"strings"
)

// cmdSearch: SEARCH and UID SEARCH (RFC 9051 §6.4.4) with ESEARCH return options MIN, MAX, ALL,
// COUNT (RFC 4731), SAVE (SEARCHRES, RFC 5182) and the MODSEQ key (CONDSTORE, RFC 7162
// §3.1.5). Keys on flags, dates, sizes, UIDs and MODSEQ are evaluated on the message metadata;
// address and subject keys on the stored envelope; BODY and TEXT on the full-text index;
// HEADER reads the message.
func (s *session) cmdSearch(c *command) error {
	a := c.args.(*searchArgs)
	switch a.charset {
	case "", "US-ASCII", "UTF-8":
	default:
		return no("BADCHARSET (US-ASCII UTF-8)", "unsupported charset") // RFC 9051 §7.1
	}
	sel := s.sel
	if usesKey(a.key, "MODSEQ") {
		s.enableCondstore()
	}
	matches, highest, err := s.search(sel, a.key)
	if err != nil {
		return err
	}
	if highest > 0 && minMaxOnly(a.ret) {
		// RFC 4731 §3.2: with MIN and/or MAX and neither ALL nor COUNT, MODSEQ is the highest
		// mod-sequence of the messages returned.
		msgs, err := s.server.Store.GetMessages(s.ctx, sel.id, savedResult(matches, a.ret))
		if err != nil {
			return err
		}
		highest = 0
		for _, m := range msgs {
			highest = max(highest, m.ModSeq)
		}
	}
	save := slices.Contains(a.ret, "SAVE")
	if save {
		sel.saved = savedResult(matches, a.ret)
	}
	switch {
	case a.hasRet && save && len(a.ret) == 1:
		// RFC 5182 §2.4: SAVE alone returns no ESEARCH.
	case a.hasRet || s.rev2:
		s.writeESearch(c, a.ret, matches, highest)
	default:
		s.writeSearch(c.uid, matches, highest)
	}
	return nil
}

// minMaxOnly reports whether the RETURN options ask for MIN or MAX but neither ALL nor COUNT.
func minMaxOnly(ret []string) bool {
	return (slices.Contains(ret, "MIN") || slices.Contains(ret, "MAX")) &&
		!slices.Contains(ret, "ALL") && !slices.Contains(ret, "COUNT")
}

// savedResult is what SAVE keeps (RFC 5182 §2.1): with MIN or MAX (and not ALL or COUNT), only
// those messages; otherwise all matches.
func savedResult(matches []msgRef, ret []string) []uint32 {
	if len(matches) == 0 || !minMaxOnly(ret) {
		return uidsOf(matches)
	}
	var out []uint32
	if slices.Contains(ret, "MIN") {
		out = append(out, matches[0].uid)
	}
	if slices.Contains(ret, "MAX") && (len(out) == 0 || matches[len(matches)-1].uid != out[0]) {
		out = append(out, matches[len(matches)-1].uid)
	}
	return out
}

// writeSearch writes the IMAP4rev1 SEARCH response (RFC 3501 §7.2.5), with "(MODSEQ n)" after a
// search on MODSEQ (RFC 7162 §3.1.5).
func (s *session) writeSearch(uid bool, matches []msgRef, highest uint64) {
	b := s.bw
	b.WriteString("* SEARCH")
	for _, m := range matches {
		b.WriteByte(' ')
		n := m.seq
		if uid {
			n = m.uid
		}
		b.WriteString(strconv.FormatUint(uint64(n), 10))
	}
	if highest > 0 && len(matches) > 0 {
		b.WriteString(" (MODSEQ " + strconv.FormatUint(highest, 10) + ")")
	}
	b.WriteString("\r\n")
}

// writeESearch writes an ESEARCH response (RFC 4731 §3.1, RFC 9051 §7.3.4). No RETURN options
// (IMAP4rev2's plain SEARCH) or RETURN () mean ALL.
func (s *session) writeESearch(c *command, ret []string, matches []msgRef, highest uint64) {
	if len(ret) == 0 || len(ret) == 1 && ret[0] == "SAVE" {
		ret = append(ret, "ALL")
	}
	nums := make([]uint32, len(matches))
	for i, m := range matches {
		nums[i] = m.seq
		if c.uid {
			nums[i] = m.uid
		}
	}
	b := s.bw
	b.WriteString(`* ESEARCH (TAG "`)
	b.WriteString(strings.NewReplacer(`\`, `\\`, `"`, `\"`).Replace(c.tag))
	b.WriteString(`")`)
	if c.uid {
		b.WriteString(" UID")
	}
	for _, opt := range []string{"MIN", "MAX", "COUNT", "ALL"} {
		if !slices.Contains(ret, opt) || len(nums) == 0 && opt != "COUNT" {
			continue
		}
		b.WriteString(" " + opt + " ")
		switch opt {
		case "MIN":
			b.WriteString(strconv.FormatUint(uint64(nums[0]), 10))
		case "MAX":
			b.WriteString(strconv.FormatUint(uint64(nums[len(nums)-1]), 10))
		case "COUNT":
			b.WriteString(strconv.Itoa(len(nums)))
		case "ALL":
			b.WriteString(compactUIDs(nums))
		}
	}
	if highest > 0 && len(nums) > 0 {
		b.WriteString(" MODSEQ " + strconv.FormatUint(highest, 10))
	}
	b.WriteString("\r\n")
}

// usesKey reports whether a search program uses the key op anywhere.
func usesKey(k searchKey, op string) bool {
	if k.op == op {
		return true
	}
	for _, sub := range k.sub {
		if usesKey(sub, op) {
			return true
		}
	}
	return false
}
