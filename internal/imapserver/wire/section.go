package wire

import (
	"bufio"
	"errors"
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

// Section is a section-spec (RFC 9051 §6.4.5, §9), as the server's FETCH parser reads it:
//
//	section-spec    = section-msgtext / (section-part ["." section-text])
//	section-msgtext = "HEADER" / "HEADER.FIELDS" [".NOT"] SP header-list / "TEXT"
//	section-part    = nz-number *("." nz-number)
//	section-text    = section-msgtext / "MIME"
//	header-list     = "(" header-fld-name *(SP header-fld-name) ")"
//
// The <partial> that may follow the section in a FETCH item is not part of it: see Partial.
// String writes it back in the form a FETCH response names the item.
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

// ErrBadSection is the error WriteBinary and BinarySize wrap when given a section that is not a
// section-binary: the caller's parser should not have let it through.
var ErrBadSection = errors.New("bad section")

// Partial is the <partial> of a FETCH item (RFC 9051 §6.4.5): Length octets from Offset of the
// text a section names (after HEADER.FIELDS filtering or BINARY decoding). The response gives
// Offset back: BODY[...]<Offset>.
type Partial struct {
	Offset int64 // first octet, counted from 0
	Length int64 // most octets to return; more than 0
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
