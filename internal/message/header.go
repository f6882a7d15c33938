package message

import (
	"bytes"
	"strings"
)

// Bounds on the header bytes Parse keeps; the rest of a header is read past, not kept.
const (
	maxFieldSize   = 64 << 10 // of one field's value, in octets
	maxHeaderBytes = 2 << 20  // of all kept field values of one message, in octets
)

// field names the header fields that Parse keeps.
type field int

const (
	fContentType field = iota
	fContentTransferEncoding
	fContentID
	fContentDescription
	fContentMD5
	fContentDisposition
	fContentLanguage
	fContentLocation
	// The ENVELOPE fields, kept only in a message's own header.
	fDate
	fSubject
	fFrom
	fSender
	fReplyTo
	fTo
	fCc
	fBcc
	fInReplyTo
	fMessageID
	numFields

	noField            field = -1
	firstEnvelopeField       = fDate
)

// lookupField returns the field named name (case-insensitive), or noField.
func lookupField(name []byte) field {
	var buf [32]byte
	if len(name) > len(buf) {
		return noField
	}
	lower := buf[:len(name)]
	for i, c := range name {
		if 'A' <= c && c <= 'Z' {
			c += 'a' - 'A'
		}
		lower[i] = c
	}
	switch string(lower) {
	case "content-type":
		return fContentType
	case "content-transfer-encoding":
		return fContentTransferEncoding
	case "content-id":
		return fContentID
	case "content-description":
		return fContentDescription
	case "content-md5":
		return fContentMD5
	case "content-disposition":
		return fContentDisposition
	case "content-language":
		return fContentLanguage
	case "content-location":
		return fContentLocation
	case "date":
		return fDate
	case "subject":
		return fSubject
	case "from":
		return fFrom
	case "sender":
		return fSender
	case "reply-to":
		return fReplyTo
	case "to":
		return fTo
	case "cc":
		return fCc
	case "bcc":
		return fBcc
	case "in-reply-to":
		return fInReplyTo
	case "message-id":
		return fMessageID
	}
	return noField
}

// header holds the kept fields of one header, the first occurrence of each, unfolded.
type header struct {
	seen [numFields]bool
	vals [numFields][]byte
}

// value returns a field's value, trimmed of surrounding white space.
func (h *header) value(f field) string {
	return string(bytes.Trim(h.vals[f], " \t\r\n"))
}

// fieldName returns the name of the field that a header line starts, or false when the line is
// no field: RFC 5322 §3.6.8 field-name, printable US-ASCII but ":", with the white space that
// obsolete syntax allows before the colon (RFC 5322 §4.5).
func fieldName(line []byte) (name, rest []byte, ok bool) {
	colon := bytes.IndexByte(line, ':')
	if colon <= 0 {
		return nil, nil, false
	}
	name = bytes.TrimRight(line[:colon], " \t")
	if len(name) == 0 {
		return nil, nil, false
	}
	for _, c := range name {
		if c < 33 || c > 126 {
			return nil, nil, false
		}
	}
	return name, line[colon+1:], true
}

// readHeader reads a header up to and including the blank line that ends it, keeping the fields
// Parse uses (the ENVELOPE ones only when envelope is set). It reports whether the blank line was
// found; otherwise the header ended at a boundary line or at the end of the message.
//
// Folding (RFC 5322 §2.2.3): a line that starts with white space continues the field before it;
// its line break is dropped and its white space kept. A line that is no field is skipped.
func (p *parser) readHeader(h *header, envelope bool) bool {
	cur := noField
	for {
		pc, ok := p.nextLine()
		if !ok {
			return false
		}
		line := pc.content()
		if pc.first {
			if len(line) == 0 && pc.eol > 0 {
				return true
			}
			if line[0] == ' ' || line[0] == '\t' {
				// A continuation line: cur, if kept, goes on.
			} else if name, rest, ok := fieldName(line); ok {
				cur = lookupField(name)
				if cur != noField && (h.seen[cur] || !envelope && cur >= firstEnvelopeField) {
					cur = noField
				}
				if cur != noField {
					h.seen[cur] = true
				}
				line = rest
			} else {
				cur = noField
			}
		}
		if cur != noField {
			h.vals[cur] = p.keep(h.vals[cur], line)
		}
	}
}

// keep appends b to a field value within the bounds on kept header bytes.
func (p *parser) keep(dst, b []byte) []byte {
	n := min(len(b), maxFieldSize-len(dst), p.budget)
	if n <= 0 {
		return dst
	}
	p.budget -= n
	return append(dst, b[:n]...)
}

// apply sets the body fields of a part from its header. inDigest selects the default media type
// of a part of a multipart/digest.
func (h *header) apply(pt *Part, inDigest bool) {
	typ, sub, params, ok := parseMediaType(h.value(fContentType))
	switch {
	case ok:
		pt.Type, pt.Subtype, pt.Params = typ, sub, params
	case inDigest:
		// RFC 2046 §5.1.5: the default in a digest.
		pt.Type, pt.Subtype = "message", "rfc822"
	default:
		// RFC 2045 §5.2: absent or syntactically invalid.
		setTextPlain(pt)
	}
	pt.Encoding = parseEncoding(h.value(fContentTransferEncoding))
	pt.ID = h.value(fContentID)
	pt.Description = h.value(fContentDescription)
	pt.MD5 = h.value(fContentMD5)
	if d := h.value(fContentDisposition); d != "" {
		// RFC 2183 §2: disposition-type *(";" disposition-parm), the same shape as a media type
		// without the subtype.
		s := scanner{s: d}
		if t := s.token(); t != "" {
			pt.Disposition = strings.ToLower(t)
			pt.DispositionParams = s.params()
		}
	}
	pt.Language = parseLanguages(h.value(fContentLanguage))
	pt.Location = h.value(fContentLocation)
}

// setTextPlain makes pt the default part of RFC 2045 §5.2.
func setTextPlain(pt *Part) {
	pt.Type, pt.Subtype = "text", "plain"
	pt.Params = []Param{{Name: "charset", Value: "us-ascii"}}
}

// envelope returns the ENVELOPE of a message's header (RFC 9051 §7.5.2).
func (h *header) envelope() *Envelope {
	env := &Envelope{
		Date:      h.value(fDate),
		Subject:   h.value(fSubject),
		From:      parseAddressList(h.value(fFrom)),
		Sender:    parseAddressList(h.value(fSender)),
		ReplyTo:   parseAddressList(h.value(fReplyTo)),
		To:        parseAddressList(h.value(fTo)),
		Cc:        parseAddressList(h.value(fCc)),
		Bcc:       parseAddressList(h.value(fBcc)),
		InReplyTo: h.value(fInReplyTo),
		MessageID: h.value(fMessageID),
	}
	env.setDefaults()
	return env
}

// setDefaults applies RFC 9051 §7.5.2: "If the Sender or Reply-To lines are absent in the
// [RFC-5322] header, or are present but empty, the server sets the corresponding member of the
// envelope to be the same value as the from member".
func (env *Envelope) setDefaults() {
	if len(env.Sender) == 0 {
		env.Sender = env.From
	}
	if len(env.ReplyTo) == 0 {
		env.ReplyTo = env.From
	}
}

// parseMediaType parses a Content-Type value (RFC 2045 §5.1): type "/" subtype *(";" parameter),
// with comments allowed between the tokens. It reports false when the type or subtype is missing
// or invalid; malformed parameters are skipped, not fatal.
func parseMediaType(v string) (typ, sub string, params []Param, ok bool) {
	s := scanner{s: v}
	typ = s.token()
	if typ == "" || !s.consume('/') {
		return "", "", nil, false
	}
	sub = s.token()
	if sub == "" {
		return "", "", nil, false
	}
	return strings.ToLower(typ), strings.ToLower(sub), s.params(), true
}

// parseEncoding parses Content-Transfer-Encoding (RFC 2045 §6.1): a token, lower-cased, with
// comments and stray quotes ignored; "7bit", the default, when there is none.
func parseEncoding(v string) string {
	s := scanner{s: v}
	s.consume('"')
	if t := s.token(); t != "" {
		return strings.ToLower(t)
	}
	return "7bit"
}

// parseLanguages parses Content-Language (RFC 3282 §2): a comma-separated list of tags.
func parseLanguages(v string) []string {
	var tags []string
	for t := range strings.SplitSeq(v, ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	return tags
}

// scanner reads the tokens of a structured MIME field value.
type scanner struct {
	s string
	i int
}

// skipCFWS skips white space and comments (RFC 5322 §3.2.2).
func (s *scanner) skipCFWS() {
	for s.i < len(s.s) {
		switch s.s[s.i] {
		case ' ', '\t', '\r', '\n':
			s.i++
		case '(':
			s.i = skipComment(s.s, s.i)
		default:
			return
		}
	}
}

// consume skips CFWS, then c if it comes next.
func (s *scanner) consume(c byte) bool {
	s.skipCFWS()
	if s.i < len(s.s) && s.s[s.i] == c {
		s.i++
		return true
	}
	return false
}

// isTSpecial reports whether c ends a token (RFC 2045 §5.1 tspecials, white space, controls).
func isTSpecial(c byte) bool {
	return c <= ' ' || c == 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0
}

// token reads an RFC 2045 token after CFWS; "" when none comes next.
func (s *scanner) token() string {
	s.skipCFWS()
	start := s.i
	for s.i < len(s.s) && !isTSpecial(s.s[s.i]) {
		s.i++
	}
	return s.s[start:s.i]
}

// params reads *(";" attribute "=" value). It tolerates what mail in the wild has: unquoted values
// with tspecials, a missing closing quote, stray text and empty parameters, each of which is kept
// or skipped rather than ending the list. RFC 2231 parameters (name*0*=...) are kept as given.
func (s *scanner) params() []Param {
	var params []Param
	for {
		// Skip to the next ";", whatever stands before it.
		for s.i < len(s.s) && s.s[s.i] != ';' {
			if s.s[s.i] == '(' {
				s.i = skipComment(s.s, s.i)
			} else {
				s.i++
			}
		}
		if !s.consume(';') {
			return params
		}
		name := s.token()
		if name == "" || !s.consume('=') {
			continue
		}
		s.skipCFWS()
		var value string
		if s.i < len(s.s) && s.s[s.i] == '"' {
			value, s.i = quotedString(s.s, s.i)
		} else {
			start := s.i
			for s.i < len(s.s) && s.s[s.i] != ';' && s.s[s.i] != ' ' && s.s[s.i] != '\t' {
				s.i++
			}
			value = s.s[start:s.i]
		}
		params = append(params, Param{Name: strings.ToLower(name), Value: value})
	}
}

// quotedString reads the quoted-string at s[i] (RFC 5322 §3.2.4) and returns its content with
// quoted-pairs resolved, and the index after it. An unclosed one runs to the end.
func quotedString(s string, i int) (string, int) {
	i++ // the opening quote
	start := i
	for i < len(s) && s[i] != '"' && s[i] != '\\' {
		i++
	}
	if i < len(s) && s[i] == '"' {
		return s[start:i], i + 1 // the common case: nothing to unescape
	}
	var b strings.Builder
	b.WriteString(s[start:i])
	for i < len(s) {
		switch c := s[i]; c {
		case '"':
			return b.String(), i + 1
		case '\\':
			if i+1 < len(s) {
				i++
			}
			b.WriteByte(s[i])
		default:
			b.WriteByte(c)
		}
		i++
	}
	return b.String(), i
}

// skipComment returns the index after the comment at s[i] (RFC 5322 §3.2.2), which may nest and
// hold quoted-pairs. An unclosed one runs to the end.
func skipComment(s string, i int) int {
	depth := 0
	for ; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case '(':
			depth++
		case ')':
			depth--
			if depth == 0 {
				return i + 1
			}
		}
	}
	return len(s)
}
