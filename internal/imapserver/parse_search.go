package imapserver

import (
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
