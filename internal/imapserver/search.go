package imapserver

import (
	"slices"
	"strconv"
	"strings"
	"time"
)

// searchArgs are the arguments of SEARCH and UID SEARCH (RFC 9051 §6.4.4, ESEARCH RFC 4731,
// SEARCHRES RFC 5182, CONDSTORE RFC 7162 §3.1.5).
type searchArgs struct {
	charset string // upper case; "" when not given
	// ret are the RETURN options, upper case; nil without RETURN (a SEARCH response in
	// IMAP4rev1, ESEARCH in IMAP4rev2); RETURN () means ALL.
	ret    []string
	hasRet bool
	key    searchKey // the program: an AND of its keys
}

// searchKey is one search key; "AND" holds the keys of a list or of the whole program.
type searchKey struct {
	op    string    // upper case: "ALL", "FROM", "OR", "AND", "SEQ", "UID", ...
	str   string    // string argument: FROM, BODY, HEADER value, KEYWORD flag, ...
	field string    // HEADER field name
	date  time.Time // BEFORE, ON, SINCE, SENT*: midnight UTC of the day
	num   uint64    // LARGER, SMALLER, MODSEQ
	set   numSet    // SEQ, UID
	sub   []searchKey
}

// searchKeyArgs tells what follows each search key of RFC 9051 §9 (plus RFC 3501's NEW, OLD,
// RECENT and RFC 7162's MODSEQ).
var searchKeyArgs = map[string]byte{
	"ALL": 0, "ANSWERED": 0, "DELETED": 0, "DRAFT": 0, "FLAGGED": 0, "SEEN": 0,
	"UNANSWERED": 0, "UNDELETED": 0, "UNDRAFT": 0, "UNFLAGGED": 0, "UNSEEN": 0,
	"NEW": 0, "OLD": 0, "RECENT": 0,
	"BCC": 's', "BODY": 's', "CC": 's', "FROM": 's', "SUBJECT": 's', "TEXT": 's', "TO": 's',
	"BEFORE": 'd', "ON": 'd', "SINCE": 'd', "SENTBEFORE": 'd', "SENTON": 'd', "SENTSINCE": 'd',
	"KEYWORD": 'k', "UNKEYWORD": 'k',
	"LARGER": 'n', "SMALLER": 'n',
	"HEADER": 'h', "NOT": '1', "OR": '2', "UID": 'u', "MODSEQ": 'm',
}

// maxSearchDepth bounds the nesting of NOT, OR and parentheses; maxSearchKeys their number.
const (
	maxSearchDepth = 100
	maxSearchKeys  = 10_000
)

var searchReturnOpts = map[string]bool{"MIN": true, "MAX": true, "ALL": true, "COUNT": true, "SAVE": true}

// parseSearch: SEARCH [SP "RETURN" SP "(" [search-return-opt *(SP search-return-opt)] ")"]
// SP ["CHARSET" SP charset SP] search-key *(SP search-key).
func parseSearch(p *parser, c *command) error {
	a := &searchArgs{}
	c.args = a
	if err := p.sp(); err != nil {
		return err
	}
	if p.tryKeyword("RETURN") {
		a.hasRet = true
		if err := p.sp(); err != nil {
			return err
		}
		a.ret = []string{}
		err := p.parenList(func() error {
			opt, err := p.keyword()
			if err == nil && !searchReturnOpts[opt] {
				err = badf("unknown SEARCH return option %s", opt)
			}
			a.ret = append(a.ret, opt)
			return err
		})
		if err != nil {
			return err
		}
		if err := p.sp(); err != nil {
			return err
		}
	}
	if p.tryKeyword("CHARSET") {
		if err := p.sp(); err != nil {
			return err
		}
		cs, err := p.astring()
		if err != nil {
			return err
		}
		a.charset = strings.ToUpper(cs)
		if err := p.sp(); err != nil {
			return err
		}
	}
	sp := &searchParser{p: p}
	a.key.op = "AND"
	for {
		k, err := sp.key(0)
		if err != nil {
			return err
		}
		a.key.sub = append(a.key.sub, k)
		if !p.consume(' ') {
			return nil
		}
	}
}

type searchParser struct {
	p    *parser
	keys int
}

// key reads one search-key.
func (sp *searchParser) key(depth int) (searchKey, error) {
	p := sp.p
	if depth > maxSearchDepth {
		return searchKey{}, badf("search program nested too deeply")
	}
	if sp.keys++; sp.keys > maxSearchKeys {
		return searchKey{}, badf("search program too long")
	}
	switch c := p.peek(); {
	case c == '(':
		k := searchKey{op: "AND"}
		err := p.parenList(func() error {
			sub, err := sp.key(depth + 1)
			k.sub = append(k.sub, sub)
			return err
		})
		if err != nil {
			return k, err
		}
		if len(k.sub) == 0 {
			return k, badf("empty search key list")
		}
		return k, nil
	case isDigit(c) || c == '*' || c == '$':
		set, err := p.seqSet()
		return searchKey{op: "SEQ", set: set}, err
	}
	op, err := p.keyword()
	if err != nil {
		return searchKey{}, p.missing("search key")
	}
	kind, ok := searchKeyArgs[op]
	if !ok {
		return searchKey{}, badf("unknown search key %s", op)
	}
	k := searchKey{op: op}
	if kind == 0 {
		return k, nil
	}
	if err := p.sp(); err != nil {
		return k, err
	}
	switch kind {
	case 's':
		k.str, err = p.astring()
	case 'd':
		k.date, err = p.date()
	case 'k':
		k.str, err = p.flag()
	case 'n':
		k.num, err = p.number64()
	case 'h':
		if k.field, err = p.astring(); err == nil {
			if err = p.sp(); err == nil {
				k.str, err = p.astring()
			}
		}
	case '1':
		var sub searchKey
		sub, err = sp.key(depth + 1)
		k.sub = []searchKey{sub}
	case '2':
		var a, b searchKey
		if a, err = sp.key(depth + 1); err == nil {
			if err = p.sp(); err == nil {
				b, err = sp.key(depth + 1)
			}
		}
		k.sub = []searchKey{a, b}
	case 'u':
		k.set, err = p.seqSet()
	case 'm':
		err = sp.modseq(&k)
	}
	return k, err
}

// modseq reads the arguments of MODSEQ: [entry-name SP entry-type-req SP] mod-sequence-valzer
// (RFC 7162 §3.1.5). The entry names a flag ("/flags/\\seen") whose own MODSEQ is meant; as
// we keep one MODSEQ per message, the entry is read and otherwise ignored, which the RFC
// allows ("the server MAY ... use the message's MODSEQ").
func (sp *searchParser) modseq(k *searchKey) error {
	p := sp.p
	if p.peek() == '"' {
		if _, err := p.quoted(); err != nil {
			return err
		}
		if err := p.sp(); err != nil {
			return err
		}
		typ, err := p.keyword()
		if err != nil {
			return err
		}
		if typ != "PRIV" && typ != "SHARED" && typ != "ALL" {
			return badf("bad MODSEQ entry type")
		}
		if err := p.sp(); err != nil {
			return err
		}
	}
	var err error
	k.num, err = p.number64()
	return err
}

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
