package message

import (
	"cmp"
	"strings"
)

// Placeholders for the parts of an address that its header lacks, as Dovecot writes them, so that
// an address keeps a non-empty mailbox and host and is never taken for a group marker.
const (
	missingMailbox = "MISSING_MAILBOX"
	missingDomain  = "MISSING_DOMAIN"
)

// maxAddresses bounds the addresses read from one header field.
const maxAddresses = 2000

// parseAddressList parses an RFC 5322 §3.4 address-list, obsolete forms (§4.4) included, into the
// flat form of an ENVELOPE list. It never fails: text that fits no rule is skipped or becomes an
// address with placeholders. Display names stay raw: RFC 2047 words are not decoded; quoted
// strings lose their quotes; white space between words becomes one space.
func parseAddressList(s string) []Address {
	var (
		out     []Address
		lx      = addrLexer{s: s}
		inGroup bool
	)
	for len(out) < maxAddresses {
		words, comment, end := lx.words()
		switch end.kind {
		case '<':
			// RFC 5322 §3.4 name-addr: [display-name] angle-addr
			route, spec := lx.angleAddr()
			a := addrSpec(spec)
			a.Name, a.Adl = phrase(words), route
			var trailing string
			end, trailing = lx.skipRest()
			if a.Name == "" {
				a.Name = cmp.Or(comment, trailing)
			}
			out = append(out, a)
		case ':':
			// RFC 5322 §3.4 group: display-name ":" [group-list] ";". A colon inside a group has
			// no meaning, and the words before it are dropped.
			if !inGroup {
				inGroup = true
				name := phrase(words)
				if name == "" {
					name = missingMailbox
				}
				out = append(out, Address{Mailbox: name})
			}
			continue
		default:
			// An addr-spec, or words that are not one.
			if len(words) > 0 {
				a := addrSpec(words)
				a.Name = comment
				out = append(out, a)
			}
		}
		if end.kind == ';' && inGroup {
			out = append(out, Address{})
			inGroup = false
		}
		if end.kind == 0 {
			break
		}
	}
	if inGroup {
		out = append(out, Address{})
	}
	return out
}

// addrSpec makes an address of the words of an addr-spec, local-part "@" domain, split at the last
// "@". The parts keep their raw form, quotes and domain-literal brackets included.
func addrSpec(words []addrToken) Address {
	at := -1
	for i, w := range words {
		if w.kind == '@' {
			at = i
		}
	}
	var a Address
	if at < 0 {
		a.Mailbox = joinRaw(words)
	} else {
		a.Mailbox, a.Host = joinRaw(words[:at]), joinRaw(words[at+1:])
	}
	if a.Mailbox == "" {
		a.Mailbox = missingMailbox
	}
	if a.Host == "" {
		a.Host = missingDomain
	}
	return a
}

// joinRaw joins words as written, without the white space between them.
func joinRaw(words []addrToken) string {
	if len(words) == 1 {
		return words[0].raw
	}
	var b strings.Builder
	for _, w := range words {
		b.WriteString(w.raw)
	}
	return b.String()
}

// phrase renders a display name: words separated by one space where white space stood, quoted
// strings without their quotes.
func phrase(words []addrToken) string {
	var b strings.Builder
	for i, w := range words {
		if i > 0 && w.space {
			b.WriteByte(' ')
		}
		b.WriteString(w.text)
	}
	return b.String()
}

// addrToken is a lexical token of an address list.
type addrToken struct {
	kind  byte   // 'a' atom, '"' quoted string, '[' domain literal, '(' comment, 0 at the end, or the special character itself
	raw   string // as written
	text  string // a quoted string's or comment's content; otherwise raw
	space bool   // white space or a comment stands before it
}

type addrLexer struct {
	s string
	i int
}

// addrSpecials end an atom (RFC 5322 §3.2.3 specials, and white space).
const addrSpecials = "()<>[]:;@\\,.\" \t\r\n"

// next returns the next token, comments included.
func (lx *addrLexer) next() addrToken {
	start := lx.i
	for lx.i < len(lx.s) && (lx.s[lx.i] == ' ' || lx.s[lx.i] == '\t' || lx.s[lx.i] == '\r' || lx.s[lx.i] == '\n') {
		lx.i++
	}
	t := addrToken{space: lx.i > start}
	if lx.i >= len(lx.s) {
		return t
	}
	start = lx.i
	switch c := lx.s[lx.i]; c {
	case '"':
		t.kind = '"'
		t.text, lx.i = quotedString(lx.s, lx.i)
	case '(':
		t.kind = '('
		lx.i = skipComment(lx.s, lx.i)
		t.text = strings.TrimSpace(strings.TrimSuffix(lx.s[start+1:lx.i], ")"))
	case '[':
		t.kind = '['
		if end := strings.IndexByte(lx.s[lx.i:], ']'); end >= 0 {
			lx.i += end + 1
		} else {
			lx.i = len(lx.s)
		}
	case '<', '>', ':', ';', '@', ',', '.', ']', ')', '\\':
		t.kind = c
		lx.i++
	default:
		t.kind = 'a'
		for lx.i < len(lx.s) && strings.IndexByte(addrSpecials, lx.s[lx.i]) < 0 {
			lx.i++
		}
	}
	t.raw = lx.s[start:lx.i]
	if t.kind != '"' && t.kind != '(' {
		t.text = t.raw
	}
	return t
}

// words reads the words of a phrase or addr-spec up to the token that ends them: one of < : ; ,
// or the end. Comments are dropped (a comment counts as white space) but the first one is returned,
// as the name of an address that has no display name.
func (lx *addrLexer) words() (words []addrToken, comment string, end addrToken) {
	space := false
	for {
		t := lx.next()
		t.space = t.space || space
		space = false
		switch t.kind {
		case '(':
			if comment == "" {
				comment = t.text
			}
			space = true
		case '<', ':', ';', ',', 0:
			return words, comment, t
		case '>':
			// Stray; dropped.
		default:
			words = append(words, t)
		}
	}
}

// angleAddr reads what follows "<" up to ">": an optional obsolete route (RFC 5322 §4.4 obs-route,
// "@a,@b:") and an addr-spec. A missing ">" ends at the next "," or the end.
func (lx *addrLexer) angleAddr() (route string, spec []addrToken) {
	var routeEnd = -1
	start := lx.i
	for {
		save := lx.i
		t := lx.next()
		switch t.kind {
		case '>', 0:
			return routeOf(lx.s, start, routeEnd), spec
		case ',', ';':
			if routeEnd < 0 && len(spec) > 0 && spec[0].kind == '@' {
				// Inside a route: "@a,@b:" goes on.
				spec = append(spec, t)
				continue
			}
			lx.i = save // the mailbox ends here, without its ">"
			return routeOf(lx.s, start, routeEnd), spec
		case ':':
			if routeEnd < 0 && len(spec) > 0 && spec[0].kind == '@' {
				routeEnd = save
				spec = spec[:0]
			}
		case '(':
		default:
			spec = append(spec, t)
		}
	}
}

// routeOf returns the route between start and routeEnd, white space removed; "" when routeEnd < 0.
func routeOf(s string, start, routeEnd int) string {
	if routeEnd < 0 {
		return ""
	}
	return strings.Join(strings.Fields(s[start:routeEnd]), "")
}

// skipRest skips what follows an angle-addr up to the token that ends the mailbox ("," ";" or
// the end), and returns that token and the text of the first comment on the way, as in
// "<a@example.org> (Name)". A "<" there starts the next mailbox, as if a comma stood before it.
func (lx *addrLexer) skipRest() (end addrToken, comment string) {
	for {
		save := lx.i
		t := lx.next()
		switch t.kind {
		case ',', ';', 0:
			return t, comment
		case '<':
			lx.i = save
			return addrToken{kind: ','}, comment
		case '(':
			if comment == "" {
				comment = t.text
			}
		}
	}
}
