package imapserver

import (
	"strings"

	"posthorn/internal/imapserver/wire"
)

type fetchArgs struct {
	set          numSet
	items        []fetchItem
	changedSince uint64 // RFC 7162 §3.1.4.1; 0 for none
	hasChanged   bool
	vanished     bool // RFC 7162 §3.2.6
}

// fetchKind is a FETCH data item (RFC 9051 §6.4.5).
type fetchKind int

const (
	fetchFlags fetchKind = iota + 1
	fetchUID
	fetchInternalDate
	fetchSize // RFC822.SIZE
	fetchModSeq
	fetchEnvelope
	fetchBody          // BODY: BODYSTRUCTURE without extension data
	fetchBodyStructure // BODYSTRUCTURE
	fetchSection       // BODY[section]<partial>, BODY.PEEK[...]
	fetchBinary        // BINARY[part]<partial>, BINARY.PEEK[...] (RFC 3516)
	fetchBinarySize    // BINARY.SIZE[part]
	fetchRFC822        // RFC 3501: BODY[]
	fetchRFC822Header  // RFC 3501: BODY.PEEK[HEADER]
	fetchRFC822Text    // RFC 3501: BODY[TEXT]
)

// fetchItem is one requested data item.
type fetchItem struct {
	kind    fetchKind
	peek    bool // BODY.PEEK, BINARY.PEEK: \Seen is not set
	section wire.Section
	partial bool
	offset  int64 // with partial: first octet
	count   int64 // with partial: octets, > 0
}

// Fetch macros (RFC 9051 §6.4.5).
var fetchMacros = map[string][]fetchKind{
	"ALL":  {fetchFlags, fetchInternalDate, fetchSize, fetchEnvelope},
	"FAST": {fetchFlags, fetchInternalDate, fetchSize},
	"FULL": {fetchFlags, fetchInternalDate, fetchSize, fetchEnvelope, fetchBody},
}

var simpleFetchItems = map[string]fetchKind{
	"FLAGS": fetchFlags, "UID": fetchUID, "INTERNALDATE": fetchInternalDate,
	"RFC822.SIZE": fetchSize, "MODSEQ": fetchModSeq, "ENVELOPE": fetchEnvelope,
	"BODY": fetchBody, "BODYSTRUCTURE": fetchBodyStructure, "RFC822": fetchRFC822,
	"RFC822.HEADER": fetchRFC822Header, "RFC822.TEXT": fetchRFC822Text,
}

// maxFetchItems bounds the items of one FETCH.
const maxFetchItems = 100

// parseFetch: FETCH SP sequence-set SP ("ALL" / "FULL" / "FAST" / fetch-att / "(" fetch-att
// *(SP fetch-att) ")") [SP "(" fetch-modifier *(SP fetch-modifier) ")"] (RFC 9051 §6.4.5,
// RFC 7162 §3.1.4.1 CHANGEDSINCE, §3.2.6 VANISHED).
func parseFetch(p *parser, c *command) error {
	a := &fetchArgs{}
	c.args = a
	if err := p.spSeqSet(&a.set); err != nil {
		return err
	}
	if err := p.sp(); err != nil {
		return err
	}
	if p.peek() == '(' {
		err := p.parenList(func() error {
			if len(a.items) >= maxFetchItems {
				return badf("too many FETCH items")
			}
			item, err := parseFetchItem(p)
			a.items = append(a.items, item)
			return err
		})
		if err != nil {
			return err
		}
		if len(a.items) == 0 {
			return badf("no FETCH items")
		}
	} else {
		save := p.pos
		name := strings.ToUpper(p.takeWhile(isAtomChar))
		if kinds, ok := fetchMacros[name]; ok {
			for _, k := range kinds {
				a.items = append(a.items, fetchItem{kind: k})
			}
		} else {
			p.pos = save
			item, err := parseFetchItem(p)
			if err != nil {
				return err
			}
			a.items = []fetchItem{item}
		}
	}
	if !p.consume(' ') {
		return nil
	}
	return p.parenList(func() error {
		mod, err := p.keyword()
		switch {
		case err != nil:
			return err
		case mod == "CHANGEDSINCE":
			if err := p.sp(); err != nil {
				return err
			}
			a.changedSince, err = p.number64()
			a.hasChanged = true
			return err
		case mod == "VANISHED":
			a.vanished = true
		default:
			return badf("unknown FETCH modifier %s", mod)
		}
		return nil
	})
}

// parseFetchItem reads one fetch-att.
func parseFetchItem(p *parser) (fetchItem, error) {
	name := strings.ToUpper(p.takeWhile(func(c byte) bool {
		return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '.'
	}))
	if name == "" {
		return fetchItem{}, p.missing("FETCH item")
	}
	if p.peek() != '[' {
		if k, ok := simpleFetchItems[name]; ok {
			return fetchItem{kind: k}, nil
		}
		return fetchItem{}, badf("unknown FETCH item %s", name)
	}
	var item fetchItem
	switch name {
	case "BODY":
		item.kind = fetchSection
	case "BODY.PEEK":
		item.kind, item.peek = fetchSection, true
	case "BINARY":
		item.kind = fetchBinary
	case "BINARY.PEEK":
		item.kind, item.peek = fetchBinary, true
	case "BINARY.SIZE":
		item.kind = fetchBinarySize
	default:
		return fetchItem{}, badf("unknown FETCH item %s", name)
	}
	var err error
	if item.kind == fetchSection {
		item.section, err = parseSection(p)
	} else {
		item.section, err = parseBinarySection(p)
	}
	if err != nil {
		return fetchItem{}, err
	}
	if item.kind != fetchBinarySize && p.consume('<') {
		off, err := p.number64()
		if err != nil {
			return fetchItem{}, err
		}
		if err := p.expect('.'); err != nil {
			return fetchItem{}, err
		}
		n, err := p.number64()
		if err != nil {
			return fetchItem{}, err
		}
		if n == 0 {
			return fetchItem{}, badf("partial of zero octets")
		}
		if err := p.expect('>'); err != nil {
			return fetchItem{}, err
		}
		item.partial, item.offset, item.count = true, int64(off), int64(n)
	}
	return item, nil
}

// maxSectionDepth bounds the numbers of a section part.
const maxSectionDepth = 100

// parseSection: "[" [section-spec] "]" with section-spec = section-msgtext / (section-part
// ["." section-text]), section-text = section-msgtext / "MIME".
func parseSection(p *parser) (wire.Section, error) {
	var s wire.Section
	if err := p.expect('['); err != nil {
		return s, err
	}
	if p.consume(']') {
		return s, nil
	}
	wantText := false
	for isDigit(p.peek()) {
		if err := readPart(p, &s); err != nil {
			return s, err
		}
		if !p.consume('.') {
			break
		}
		if !isDigit(p.peek()) {
			wantText = true
			break
		}
	}
	if !wantText && len(s.Part) > 0 {
		return s, p.expect(']')
	}
	text := strings.ToUpper(p.takeWhile(func(c byte) bool {
		return c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c == '.'
	}))
	switch text {
	case "HEADER":
		s.Kind = wire.SectionHeader
	case "TEXT":
		s.Kind = wire.SectionText
	case "MIME":
		s.Kind = wire.SectionMIME
		if len(s.Part) == 0 {
			return s, badf("MIME needs a part number")
		}
	case "HEADER.FIELDS", "HEADER.FIELDS.NOT":
		s.Kind = wire.SectionHeaderFields
		if text == "HEADER.FIELDS.NOT" {
			s.Kind = wire.SectionHeaderFieldsNot
		}
		if err := p.sp(); err != nil {
			return s, err
		}
		err := p.parenList(func() error {
			f, err := p.astring()
			switch {
			case err != nil:
				return err
			case !validFieldName(f):
				return badf("bad header field name")
			case len(s.Fields) >= 1000:
				return badf("too many header fields")
			}
			s.Fields = append(s.Fields, f)
			return nil
		})
		if err != nil {
			return s, err
		}
		if len(s.Fields) == 0 {
			return s, badf("empty header field list")
		}
	default:
		return s, badf("bad section")
	}
	return s, p.expect(']')
}

// readPart reads the next number of the section's part.
func readPart(p *parser, s *wire.Section) error {
	n, err := p.nzNumber()
	if err != nil {
		return err
	}
	if len(s.Part) >= maxSectionDepth {
		return badf("section too deep")
	}
	s.Part = append(s.Part, int(n))
	return nil
}

// validFieldName: RFC 5322 §3.6.8 field-name = 1*ftext, printable ASCII but ":".
func validFieldName(f string) bool {
	if f == "" {
		return false
	}
	for i := 0; i < len(f); i++ {
		if f[i] <= ' ' || f[i] >= 0x7f || f[i] == ':' {
			return false
		}
	}
	return true
}

// parseBinarySection: section-binary = "[" [section-part] "]" (RFC 3516 §6).
func parseBinarySection(p *parser) (wire.Section, error) {
	var s wire.Section
	if err := p.expect('['); err != nil {
		return s, err
	}
	for !p.consume(']') {
		if len(s.Part) > 0 {
			if err := p.expect('.'); err != nil {
				return s, err
			}
		}
		if err := readPart(p, &s); err != nil {
			return s, err
		}
	}
	return s, nil
}
