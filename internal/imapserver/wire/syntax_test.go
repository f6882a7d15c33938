package wire

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"posthorn/internal/message"
)

// This file holds a small reader of IMAP response data, strict about the grammar of RFC 9051
// §9, with which the tests check what the writers produce: nil, numbers, quoted strings,
// literals and literal8s, and parenthesized lists. It then checks ENVELOPE and BODYSTRUCTURE
// against their grammar and against the message's structure.

// imapKind is the kind of an imapValue.
type imapKind int

const (
	kindNil imapKind = iota
	kindNumber
	kindString // quoted or literal
	kindList
)

// imapValue is one value of response data.
type imapValue struct {
	kind    imapKind
	str     string // kindString: the decoded string; kindNumber: its digits
	literal bool   // kindString: written as a literal
	list    []imapValue
}

func (v imapValue) String() string {
	switch v.kind {
	case kindNil:
		return "NIL"
	case kindNumber:
		return v.str
	case kindString:
		return strconv.Quote(v.str)
	}
	parts := make([]string, len(v.list))
	for i, e := range v.list {
		parts[i] = e.String()
	}
	return "(" + strings.Join(parts, " ") + ")"
}

// imapReader reads response data from s. utf8 says whether 8-bit text may stand in quoted
// strings.
type imapReader struct {
	s    string
	i    int
	utf8 bool
}

// readValue reads exactly one value that spans all of s.
func readValue(s string, utf8 bool) (imapValue, error) {
	r := &imapReader{s: s, utf8: utf8}
	v, err := r.value()
	if err != nil {
		return imapValue{}, err
	}
	if r.i != len(s) {
		return imapValue{}, r.errorf("trailing data")
	}
	return v, nil
}

func (r *imapReader) errorf(format string, args ...any) error {
	ctx := r.s[max(0, r.i-20):min(len(r.s), r.i+20)]
	return fmt.Errorf("at %d (near %q): %s", r.i, ctx, fmt.Sprintf(format, args...))
}

func (r *imapReader) value() (imapValue, error) {
	if r.i >= len(r.s) {
		return imapValue{}, r.errorf("unexpected end")
	}
	switch c := r.s[r.i]; {
	case c == '(':
		return r.listValue()
	case c == '"':
		return r.quoted()
	case c == '{' || c == '~':
		return r.literal()
	case c >= '0' && c <= '9':
		start := r.i
		for r.i < len(r.s) && r.s[r.i] >= '0' && r.s[r.i] <= '9' {
			r.i++
		}
		return imapValue{kind: kindNumber, str: r.s[start:r.i]}, nil
	case strings.HasPrefix(r.s[r.i:], "NIL"):
		r.i += 3
		return imapValue{kind: kindNil}, nil
	}
	return imapValue{}, r.errorf("no value starts with %q", r.s[r.i])
}

// listValue reads a list. Its elements are separated by a space, but for a list that follows a
// list: "1*body" and "1*address" stand side by side.
func (r *imapReader) listValue() (imapValue, error) {
	r.i++
	v := imapValue{kind: kindList}
	for {
		if r.i < len(r.s) && r.s[r.i] == ')' {
			if len(v.list) > 0 && r.s[r.i-1] == ' ' {
				return imapValue{}, r.errorf("space before )")
			}
			r.i++
			return v, nil
		}
		if len(v.list) > 0 {
			prevList := v.list[len(v.list)-1].kind == kindList
			switch {
			case r.i < len(r.s) && r.s[r.i] == ' ':
				r.i++
			case prevList && r.i < len(r.s) && r.s[r.i] == '(':
			default:
				return imapValue{}, r.errorf("expected space or )")
			}
		}
		e, err := r.value()
		if err != nil {
			return imapValue{}, err
		}
		v.list = append(v.list, e)
	}
}

// quoted reads a quoted string: QUOTED-CHARs, "\" only before DQUOTE or "\", no CR, LF or NUL,
// 8-bit only as UTF-8 and only when allowed.
func (r *imapReader) quoted() (imapValue, error) {
	r.i++
	var b strings.Builder
	for r.i < len(r.s) {
		c := r.s[r.i]
		r.i++
		switch {
		case c == '"':
			s := b.String()
			if !utf8.ValidString(s) {
				return imapValue{}, r.errorf("quoted string is not UTF-8")
			}
			return imapValue{kind: kindString, str: s}, nil
		case c == '\\':
			if r.i == len(r.s) || r.s[r.i] != '"' && r.s[r.i] != '\\' {
				return imapValue{}, r.errorf("bad escape")
			}
			c = r.s[r.i]
			r.i++
		case c == 0 || c == '\r' || c == '\n':
			return imapValue{}, r.errorf("%q in a quoted string", c)
		case c >= 0x80 && !r.utf8:
			return imapValue{}, r.errorf("8-bit octet in a quoted string")
		}
		b.WriteByte(c)
	}
	return imapValue{}, r.errorf("unclosed quoted string")
}

// literal reads a literal, or a literal8 ("~{n}"), which only BINARY may use.
func (r *imapReader) literal() (imapValue, error) {
	eight := r.s[r.i] == '~'
	if eight {
		r.i++
	}
	end := strings.Index(r.s[r.i:], "}\r\n")
	if r.s[r.i] != '{' || end < 0 {
		return imapValue{}, r.errorf("bad literal")
	}
	n, err := strconv.ParseUint(r.s[r.i+1:r.i+end], 10, 63)
	if err != nil {
		return imapValue{}, r.errorf("bad literal length: %v", err)
	}
	r.i += end + 3
	if n > uint64(len(r.s)-r.i) {
		return imapValue{}, r.errorf("literal of %d octets, %d left", n, len(r.s)-r.i)
	}
	s := r.s[r.i : r.i+int(n)]
	r.i += int(n)
	if !eight && strings.IndexByte(s, 0) >= 0 {
		return imapValue{}, errors.New("NUL in a literal")
	}
	return imapValue{kind: kindString, str: s, literal: true}, nil
}

// readLiteral reads s as one literal and returns its content; eight says whether it was a
// literal8.
func readLiteral(s string) (content string, eight bool, err error) {
	r := &imapReader{s: s}
	if s == "" || s[0] != '{' && s[0] != '~' {
		return "", false, fmt.Errorf("%q is no literal", s)
	}
	v, err := r.literal()
	if err != nil {
		return "", false, err
	}
	if r.i != len(s) {
		return "", false, r.errorf("trailing data after the literal")
	}
	return v.str, s[0] == '~', nil
}

// checkNString checks that v is an nstring, and NIL exactly when want is empty.
func checkNString(v imapValue, want, what string) error {
	switch {
	case v.kind == kindNil && want == "":
		return nil
	case v.kind == kindString && v.str != "":
		return nil
	}
	return fmt.Errorf("%s: %v for %q", what, v, want)
}

// checkEnvelope checks an ENVELOPE against its grammar: ten fields, strings or NIL, six address
// lists of (name adl mailbox host), with groups opened and closed in turn.
func checkEnvelope(v imapValue, env *message.Envelope) error {
	if v.kind != kindList || len(v.list) != 10 {
		return fmt.Errorf("envelope: %v is no list of 10", v)
	}
	for _, i := range []int{0, 1, 8, 9} {
		if e := v.list[i]; e.kind != kindNil && e.kind != kindString {
			return fmt.Errorf("envelope field %d: %v is no nstring", i, e)
		}
	}
	if err := checkNString(v.list[0], env.Date, "date"); err != nil {
		return err
	}
	lists := [][]message.Address{env.From, env.Sender, env.ReplyTo, env.To, env.Cc, env.Bcc}
	for i, want := range lists {
		if err := checkAddresses(v.list[2+i], want); err != nil {
			return fmt.Errorf("envelope field %d: %w", 2+i, err)
		}
	}
	return nil
}

func checkAddresses(v imapValue, want []message.Address) error {
	if v.kind == kindNil && len(want) == 0 {
		return nil
	}
	if v.kind != kindList || len(v.list) != len(want) {
		return fmt.Errorf("%v for %d addresses", v, len(want))
	}
	inGroup := false
	for i, a := range v.list {
		if a.kind != kindList || len(a.list) != 4 {
			return fmt.Errorf("address %v is no list of 4", a)
		}
		for j, f := range a.list {
			if f.kind != kindNil && f.kind != kindString {
				return fmt.Errorf("address %v: field %d is no nstring", a, j)
			}
		}
		w := want[i]
		if err := checkNString(a.list[2], w.Mailbox, "mailbox"); err != nil {
			return err
		}
		if err := checkNString(a.list[3], w.Host, "host"); err != nil {
			return err
		}
		switch {
		case w.IsGroupStart():
			if inGroup {
				return fmt.Errorf("group %v inside a group", a)
			}
			inGroup = true
		case w.IsGroupEnd():
			if !inGroup {
				return errors.New("group end outside a group")
			}
			inGroup = false
		}
	}
	return nil
}

// checkBody checks a BODY (extended false) or BODYSTRUCTURE against its grammar and against the
// part it describes: the media type in upper case, the size, the line count, the children.
func checkBody(v imapValue, pt *message.Part, extended bool) error {
	if v.kind != kindList || len(v.list) == 0 {
		return fmt.Errorf("body %v is no list", v)
	}
	if v.list[0].kind == kindList {
		return checkMultipart(v, pt, extended)
	}
	return checkSinglePart(v, pt, extended)
}

func checkMultipart(v imapValue, pt *message.Part, extended bool) error {
	n := 0
	for n < len(v.list) && v.list[n].kind == kindList {
		n++
	}
	if !pt.IsMultipart() || n != len(pt.Parts) {
		return fmt.Errorf("%d bodies for %s/%s with %d parts", n, pt.Type, pt.Subtype, len(pt.Parts))
	}
	for i, c := range pt.Parts {
		if err := checkBody(v.list[i], c, extended); err != nil {
			return fmt.Errorf("part %d: %w", i+1, err)
		}
	}
	rest := v.list[n:]
	want := 1
	if extended {
		want = 5
	}
	if len(rest) != want {
		return fmt.Errorf("multipart: %d fields after the bodies, want %d", len(rest), want)
	}
	if err := checkToken(rest[0], pt.Subtype); err != nil {
		return err
	}
	if extended {
		if err := checkParams(rest[1]); err != nil {
			return err
		}
		return checkExtensionTail(rest[2:])
	}
	return nil
}

func checkSinglePart(v imapValue, pt *message.Part, extended bool) error {
	f := v.list
	if len(f) < 7 {
		return fmt.Errorf("body %v: fewer than 7 fields", v)
	}
	if err := checkToken(f[0], pt.Type); err != nil {
		return err
	}
	if err := checkToken(f[1], pt.Subtype); err != nil {
		return err
	}
	if err := checkParams(f[2]); err != nil {
		return err
	}
	if err := checkNString(f[3], pt.ID, "id"); err != nil {
		return err
	}
	if err := checkNString(f[4], pt.Description, "description"); err != nil {
		return err
	}
	if err := checkToken(f[5], pt.Encoding); err != nil {
		return err
	}
	if err := checkNumber(f[6], pt.Size()); err != nil {
		return fmt.Errorf("size: %w", err)
	}
	f = f[7:]
	switch {
	case pt.Type == "text":
		if len(f) == 0 {
			return errors.New("text body without a line count")
		}
		if err := checkNumber(f[0], pt.Lines); err != nil {
			return fmt.Errorf("lines: %w", err)
		}
		f = f[1:]
	case pt.IsMessage():
		if len(f) < 3 {
			return errors.New("message body without envelope, body and lines")
		}
		if err := checkEnvelope(f[0], pt.Envelope); err != nil {
			return err
		}
		if err := checkBody(f[1], pt.Message, extended); err != nil {
			return fmt.Errorf("encapsulated message: %w", err)
		}
		if err := checkNumber(f[2], pt.Lines); err != nil {
			return fmt.Errorf("lines: %w", err)
		}
		f = f[3:]
	}
	if !extended {
		if len(f) != 0 {
			return fmt.Errorf("BODY with extension data %v", f)
		}
		return nil
	}
	if len(f) != 4 {
		return fmt.Errorf("%d extension fields, want 4", len(f))
	}
	if err := checkNString(f[0], pt.MD5, "md5"); err != nil {
		return err
	}
	return checkExtensionTail(f[1:])
}

// checkExtensionTail checks body-fld-dsp, body-fld-lang and body-fld-loc.
func checkExtensionTail(f []imapValue) error {
	dsp, lang, loc := f[0], f[1], f[2]
	if dsp.kind != kindNil {
		if dsp.kind != kindList || len(dsp.list) != 2 || dsp.list[0].kind != kindString {
			return fmt.Errorf("disposition %v", dsp)
		}
		if err := checkParams(dsp.list[1]); err != nil {
			return err
		}
	}
	switch lang.kind {
	case kindNil, kindString:
	case kindList:
		for _, l := range lang.list {
			if l.kind != kindString {
				return fmt.Errorf("language %v", lang)
			}
		}
	default:
		return fmt.Errorf("language %v", lang)
	}
	if loc.kind != kindNil && loc.kind != kindString {
		return fmt.Errorf("location %v", loc)
	}
	return nil
}

// checkParams checks a body-fld-param: NIL or a list of pairs of strings, names in upper case.
func checkParams(v imapValue) error {
	if v.kind == kindNil {
		return nil
	}
	if v.kind != kindList || len(v.list) == 0 || len(v.list)%2 != 0 {
		return fmt.Errorf("params %v", v)
	}
	for i, e := range v.list {
		if e.kind != kindString {
			return fmt.Errorf("params %v: %v is no string", v, e)
		}
		if i%2 == 0 && e.str != strings.ToUpper(e.str) {
			return fmt.Errorf("params %v: name %q not in upper case", v, e.str)
		}
	}
	return nil
}

// checkToken checks that v is the string want in upper case.
func checkToken(v imapValue, want string) error {
	if v.kind != kindString || v.str != string(upperASCII(nil, want)) {
		return fmt.Errorf("%v for %q", v, want)
	}
	return nil
}

func checkNumber(v imapValue, want int64) error {
	if v.kind != kindNumber || v.str != strconv.FormatInt(want, 10) {
		return fmt.Errorf("%v, want %d", v, want)
	}
	return nil
}
