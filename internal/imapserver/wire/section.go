package wire

import (
	"bufio"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"

	"posthorn/internal/message"
)

// SectionKind says which text of a part a section names (RFC 9051 §6.4.5).
type SectionKind int

const (
	// SectionPart is the whole message ("BODY[]") or, with part numbers, the body of that part
	// ("BODY[1.2]").
	SectionPart SectionKind = iota
	// SectionHeader is the header of the message, or of the message a message/rfc822 part
	// encapsulates ("BODY[HEADER]", "BODY[2.HEADER]"), with the blank line that ends it.
	SectionHeader
	// SectionHeaderFields is that header cut to the fields named in Fields, and its blank line.
	SectionHeaderFields
	// SectionHeaderFieldsNot is that header without the fields named in Fields.
	SectionHeaderFieldsNot
	// SectionText is the body of the message, or of the encapsulated message.
	SectionText
	// SectionMIME is the MIME header of a part ("BODY[1.MIME]"); it needs part numbers.
	SectionMIME
)

// keywords are the section-text keywords of each kind, as Section.String writes them.
var keywords = [...]string{
	SectionPart:            "",
	SectionHeader:          "HEADER",
	SectionHeaderFields:    "HEADER.FIELDS",
	SectionHeaderFieldsNot: "HEADER.FIELDS.NOT",
	SectionText:            "TEXT",
	SectionMIME:            "MIME",
}

// Section is a parsed section-spec (RFC 9051 §6.4.5, §9):
//
//	section-spec    = section-msgtext / (section-part ["." section-text])
//	section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
//	section-part    = nz-number *("." nz-number)
//	section-text    = section-msgtext / "MIME"
//	header-list     = "(" header-fld-name *(SP header-fld-name) ")"
//
// The <partial> that may follow the section in a FETCH item is not part of it: see Partial.
type Section struct {
	Part   []int       // part numbers, each 1 or more; empty for the message itself
	Kind   SectionKind // which text of the part
	Fields []string    // header field names of HEADER.FIELDS and HEADER.FIELDS.NOT, as given
}

// IsBinary reports whether s is a section-binary (RFC 9051 §9: "[" [section-part] "]"), which
// BINARY[] and BINARY.SIZE[] take: part numbers and nothing else.
func (s Section) IsBinary() bool { return s.Kind == SectionPart }

// String returns the section-spec, as a FETCH response names the item: the keywords in upper
// case, the field names as astrings.
func (s Section) String() string {
	var b strings.Builder
	for i, n := range s.Part {
		if i > 0 {
			b.WriteByte('.')
		}
		b.WriteString(strconv.Itoa(n))
	}
	if s.Kind != SectionPart {
		if len(s.Part) > 0 {
			b.WriteByte('.')
		}
		b.WriteString(keywords[s.Kind])
	}
	if s.Kind == SectionHeaderFields || s.Kind == SectionHeaderFieldsNot {
		bw := bufio.NewWriterSize(&b, 256)
		bw.WriteString(" (")
		for i, f := range s.Fields {
			if i > 0 {
				bw.WriteByte(' ')
			}
			WriteAString(bw, f, true)
		}
		bw.WriteByte(')')
		_ = bw.Flush() // a strings.Builder takes everything
	}
	return b.String()
}

// ErrBadSection is the error ParseSection and ParsePartial wrap: the text does not follow the
// grammar, which the caller reports with BAD.
var ErrBadSection = errors.New("bad section")

// maxPartNumber is the largest part number: nz-number is a 32-bit number (RFC 9051 §9).
const maxPartNumber = math.MaxUint32

// ParseSection parses a section-spec, the text between the brackets of BODY[...] or
// BODY.PEEK[...], such as "1.2.HEADER.FIELDS (From Subject)". Keywords are case-insensitive.
// A header-fld-name may be an atom, a quoted string or a literal ({n} CRLF and n octets, "{n+}"
// too). An empty spec is the whole message.
func ParseSection(spec string) (Section, error) {
	p := sectionParser{s: spec}
	sec, err := p.section()
	if err != nil {
		return Section{}, fmt.Errorf("%w %q: %v", ErrBadSection, spec, err)
	}
	return sec, nil
}

// ParseBinarySection parses a section-binary, the text between the brackets of BINARY[...],
// BINARY.PEEK[...] or BINARY.SIZE[...] (RFC 9051 §6.4.5): part numbers only.
func ParseBinarySection(spec string) (Section, error) {
	s, err := ParseSection(spec)
	if err == nil && !s.IsBinary() {
		err = fmt.Errorf("%w %q: BINARY takes part numbers only", ErrBadSection, spec)
	}
	if err != nil {
		return Section{}, err
	}
	return s, nil
}

// sectionParser reads a section-spec.
type sectionParser struct {
	s string
	i int
}

func (p *sectionParser) section() (Section, error) {
	var sec Section
	for p.i < len(p.s) && isDigit(p.s[p.i]) {
		n, err := p.number()
		if err != nil {
			return Section{}, err
		}
		sec.Part = append(sec.Part, n)
		if p.i == len(p.s) {
			return sec, nil
		}
		if p.s[p.i] != '.' {
			return Section{}, fmt.Errorf("%q after a part number", p.s[p.i])
		}
		p.i++
		if p.i == len(p.s) {
			return Section{}, errors.New("a dot at the end")
		}
	}
	if p.i == len(p.s) {
		return sec, nil
	}
	kind, ok := p.keyword()
	if !ok {
		return Section{}, fmt.Errorf("unknown section text %q", p.s[p.i:])
	}
	if kind == SectionMIME && len(sec.Part) == 0 {
		return Section{}, errors.New("MIME needs a part number")
	}
	sec.Kind = kind
	if kind == SectionHeaderFields || kind == SectionHeaderFieldsNot {
		fields, err := p.headerList()
		if err != nil {
			return Section{}, err
		}
		sec.Fields = fields
	}
	if p.i != len(p.s) {
		return Section{}, fmt.Errorf("%q after the section", p.s[p.i:])
	}
	return sec, nil
}

// number reads an nz-number.
func (p *sectionParser) number() (int, error) {
	start := p.i
	for p.i < len(p.s) && isDigit(p.s[p.i]) {
		p.i++
	}
	digits := p.s[start:p.i]
	if digits[0] == '0' {
		return 0, fmt.Errorf("part number %q: not an nz-number", digits)
	}
	n, err := strconv.ParseUint(digits, 10, 64)
	if err != nil || n > maxPartNumber {
		return 0, fmt.Errorf("part number %q out of range", digits)
	}
	return int(n), nil
}

// keyword reads a section-text keyword. The longest one that fits is taken: a keyword is the
// rest of the spec, or is followed by the header list.
func (p *sectionParser) keyword() (SectionKind, bool) {
	rest := p.s[p.i:]
	for _, k := range [...]SectionKind{SectionHeaderFieldsNot, SectionHeaderFields, SectionHeader, SectionText, SectionMIME} {
		kw := keywords[k]
		if len(rest) >= len(kw) && strings.EqualFold(rest[:len(kw)], kw) {
			next := rest[len(kw):]
			withList := k == SectionHeaderFields || k == SectionHeaderFieldsNot
			if withList && strings.HasPrefix(next, " ") || !withList && next == "" {
				p.i += len(kw)
				return k, true
			}
		}
	}
	return 0, false
}

// headerList reads SP header-list.
func (p *sectionParser) headerList() ([]string, error) {
	if !strings.HasPrefix(p.s[p.i:], " (") {
		return nil, errors.New("expected a header list")
	}
	p.i += 2
	var fields []string
	for {
		f, err := p.astring()
		if err != nil {
			return nil, err
		}
		fields = append(fields, f)
		if p.i == len(p.s) {
			return nil, errors.New("unclosed header list")
		}
		switch p.s[p.i] {
		case ')':
			p.i++
			return fields, nil
		case ' ':
			p.i++
		default:
			return nil, fmt.Errorf("%q in the header list", p.s[p.i])
		}
	}
}

// astring reads an astring: atom, quoted string or literal (RFC 9051 §9).
func (p *sectionParser) astring() (string, error) {
	if p.i == len(p.s) {
		return "", errors.New("expected a header field name")
	}
	switch p.s[p.i] {
	case '"':
		return p.quoted()
	case '{':
		return p.literal()
	}
	start := p.i
	for p.i < len(p.s) && isAStringChar(p.s[p.i]) {
		p.i++
	}
	if p.i == start {
		return "", fmt.Errorf("%q where a header field name belongs", p.s[p.i])
	}
	return p.s[start:p.i], nil
}

// quoted reads a quoted string: QUOTED-CHARs, with "\" only before DQUOTE or "\". 8-bit octets
// are taken as they come; a field name never has them, so they only fail to match.
func (p *sectionParser) quoted() (string, error) {
	p.i++ // the opening quote
	var b strings.Builder
	for p.i < len(p.s) {
		c := p.s[p.i]
		p.i++
		switch c {
		case '"':
			return b.String(), nil
		case '\\':
			if p.i == len(p.s) || p.s[p.i] != '"' && p.s[p.i] != '\\' {
				return "", errors.New(`"\" before neither DQUOTE nor "\" in a quoted string`)
			}
			c = p.s[p.i]
			p.i++
		case 0, '\r', '\n':
			return "", fmt.Errorf("%q in a quoted string", c)
		}
		b.WriteByte(c)
	}
	return "", errors.New("unclosed quoted string")
}

// literal reads a literal: "{" number64 ["+"] "}" CRLF *CHAR8.
func (p *sectionParser) literal() (string, error) {
	end := strings.Index(p.s[p.i:], "}\r\n")
	if end < 0 {
		return "", errors.New("bad literal")
	}
	digits := strings.TrimSuffix(p.s[p.i+1:p.i+end], "+")
	n, err := strconv.ParseUint(digits, 10, 63)
	if err != nil || digits == "" || digits[0] == '+' {
		return "", fmt.Errorf("bad literal length %q", digits)
	}
	p.i += end + 3
	if n > uint64(len(p.s)-p.i) {
		return "", errors.New("literal longer than the section")
	}
	v := p.s[p.i : p.i+int(n)]
	if strings.IndexByte(v, 0) >= 0 {
		return "", errors.New("NUL in a literal")
	}
	p.i += int(n)
	return v, nil
}

func isDigit(c byte) bool { return '0' <= c && c <= '9' }

// Partial is the <partial> of a FETCH item (RFC 9051 §6.4.5): Length octets from Offset of the
// text a section names (after HEADER.FIELDS filtering or BINARY decoding). The response gives
// Offset back: BODY[...]<Offset>.
type Partial struct {
	Offset int64 // first octet, counted from 0
	Length int64 // most octets to return; more than 0
}

// ParsePartial parses a <partial> as it follows the section in a FETCH item, angle brackets
// included:
//
//	partial = "<" number64 "." nz-number64 ">"
func ParsePartial(s string) (Partial, error) {
	inner, ok := strings.CutPrefix(s, "<")
	if ok {
		inner, ok = strings.CutSuffix(inner, ">")
	}
	origin, length, dot := strings.Cut(inner, ".")
	if !ok || !dot {
		return Partial{}, fmt.Errorf("%w: partial %q is not <origin.length>", ErrBadSection, s)
	}
	off, err1 := parseNumber64(origin)
	n, err2 := parseNumber64(length)
	if err1 != nil || err2 != nil || n == 0 {
		return Partial{}, fmt.Errorf("%w: partial %q: bad number", ErrBadSection, s)
	}
	return Partial{Offset: off, Length: n}, nil
}

// parseNumber64 parses a number64: digits only, at most 2^63-1 (RFC 9051 §9).
func parseNumber64(s string) (int64, error) {
	if s == "" || s[0] < '0' || s[0] > '9' {
		return 0, errors.New("not a number")
	}
	return strconv.ParseInt(s, 10, 64)
}

// Range returns the octets of the stored message that s names, [start, end), by the offsets the
// message package records (see its doc); ok is false when the message has no such section. For
// HEADER.FIELDS and HEADER.FIELDS.NOT it is the whole header, which WriteSection then filters.
//
// Part numbers are resolved by message.Part.Find. HEADER, HEADER.FIELDS[.NOT] and TEXT after part
// numbers need a message/rfc822 (or message/global) part whose message was parsed; MIME is the
// header of the part itself, so "1.MIME" of a message that is not multipart is the message's
// header, as in Dovecot.
func (s Section) Range(root *message.Part) (start, end int64, ok bool) {
	pt, ok := root.Find(s.Part)
	if !ok {
		return 0, 0, false
	}
	switch s.Kind {
	case SectionPart:
		if len(s.Part) == 0 {
			return pt.HeaderStart, pt.BodyEnd, true
		}
		return pt.BodyStart, pt.BodyEnd, true
	case SectionMIME:
		if len(s.Part) == 0 {
			return 0, 0, false
		}
		return pt.HeaderStart, pt.BodyStart, true
	}
	msg := pt
	if len(s.Part) > 0 {
		if msg = pt.Message; msg == nil {
			return 0, 0, false
		}
	}
	if s.Kind == SectionText {
		return msg.BodyStart, msg.BodyEnd, true
	}
	return msg.HeaderStart, msg.BodyStart, true
}
