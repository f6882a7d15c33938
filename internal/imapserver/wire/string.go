package wire

import (
	"bufio"
	"strconv"
	"unicode/utf8"
)

// Text is what the string writers take: a string or a byte slice.
type Text interface {
	~string | ~[]byte
}

// StringForm is the syntax a value takes on the wire (RFC 9051 §4.1, §4.3).
type StringForm int

const (
	// Atom is a bare atom: only ASTRING-CHARs, not empty, and not "NIL".
	Atom StringForm = iota + 1
	// Quoted is a quoted string: "text", with \ before each " and \.
	Quoted
	// Literal is a synchronizing literal: {n} CRLF, then the n octets.
	Literal
)

func (f StringForm) String() string {
	switch f {
	case Atom:
		return "atom"
	case Quoted:
		return "quoted"
	case Literal:
		return "literal"
	}
	return "StringForm(" + strconv.Itoa(int(f)) + ")"
}

// maxQuotedEscapes is the most quoted-specials a quoted string may hold before a literal is
// shorter or about as short: each costs one octet more, a literal's prefix five or more. Dovecot
// switches at the same count (lib-imap/imap-quote.c).
const maxQuotedEscapes = 4

// ChooseString returns the form of an IMAP string (RFC 9051 §4.3) for s: Quoted when the grammar
// allows it, Literal otherwise. A quoted string holds no NUL, CR or LF (QUOTED-CHAR, TEXT-CHAR);
// 8-bit octets only when utf8 is set (an IMAP4rev2 session, or IMAP4rev1 after ENABLE
// UTF8=ACCEPT, RFC 6855 §3) and they form valid UTF-8 (UTF8-2 / UTF8-3 / UTF8-4). A string with
// more than a few quoted-specials goes as a literal too, as it would be longer quoted.
func ChooseString[T Text](s T, utf8 bool) StringForm {
	escapes, high := 0, false
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == 0, c == '\r', c == '\n':
			return Literal
		case c == '"', c == '\\':
			escapes++
			if escapes > maxQuotedEscapes {
				return Literal
			}
		case c >= 0x80:
			if !utf8 {
				return Literal
			}
			high = true
		}
	}
	if high && !validUTF8(s) {
		return Literal
	}
	return Quoted
}

// ChooseAString returns the form of an astring (RFC 9051 §9: astring = 1*ASTRING-CHAR / string)
// for s: Atom when it can be one, else what ChooseString returns. "NIL" in any case is not written
// as an atom, so that it is never mistaken for nil.
func ChooseAString[T Text](s T, utf8 bool) StringForm {
	if isAtom(s) {
		return Atom
	}
	return ChooseString(s, utf8)
}

// isAtom reports whether s can go as a bare astring.
func isAtom[T Text](s T) bool {
	if len(s) == 0 {
		return false
	}
	for i := 0; i < len(s); i++ {
		if !isAStringChar(s[i]) {
			return false
		}
	}
	return !(len(s) == 3 && (s[0]|0x20) == 'n' && (s[1]|0x20) == 'i' && (s[2]|0x20) == 'l')
}

// isAStringChar reports whether c is an ASTRING-CHAR (RFC 9051 §9): a CHAR but CTL, SP and the
// atom-specials "(" ")" "{" "%" "*" DQUOTE "\", with "]" allowed.
func isAStringChar(c byte) bool {
	if c <= ' ' || c >= 0x7f {
		return false
	}
	switch c {
	case '(', ')', '{', '%', '*', '"', '\\':
		return false
	}
	return true
}

// validUTF8 reports whether s is valid UTF-8.
func validUTF8[T Text](s T) bool {
	switch v := any(s).(type) {
	case string:
		return utf8.ValidString(v)
	case []byte:
		return utf8.Valid(v)
	}
	return utf8.ValidString(string(s))
}

// WriteString writes s as an IMAP string, quoted or a literal as ChooseString says.
func WriteString[T Text](w *bufio.Writer, s T, utf8 bool) {
	if ChooseString(s, utf8) == Quoted {
		writeQuoted(w, s)
	} else {
		WriteLiteral(w, s)
	}
}

// WriteNString writes s as an nstring (RFC 9051 §9: nstring = string / nil): NIL when s is
// empty. Use it where the grammar says nstring and an empty value means "absent".
func WriteNString[T Text](w *bufio.Writer, s T, utf8 bool) {
	if len(s) == 0 {
		w.WriteString("NIL")
		return
	}
	WriteString(w, s, utf8)
}

// WriteAString writes s as an astring: an atom when it can be one (see ChooseAString), else a
// string.
func WriteAString[T Text](w *bufio.Writer, s T, utf8 bool) {
	if isAtom(s) {
		writeText(w, s)
		return
	}
	WriteString(w, s, utf8)
}

// WriteLiteral writes s as a synchronizing literal: "{" len "}" CRLF and the octets (RFC 9051
// §4.3). A literal holds no NUL (CHAR8 is %x01-ff), so each NUL is written as 0x80, as Dovecot
// does for message data; everything else goes as it is.
func WriteLiteral[T Text](w *bufio.Writer, s T) {
	writeLiteralPrefix(w, int64(len(s)), false)
	for i := 0; i < len(s); {
		j := i
		for j < len(s) && s[j] != 0 {
			j++
		}
		writeText(w, s[i:j])
		if j < len(s) {
			w.WriteByte(nulReplacement)
			j++
		}
		i = j
	}
}

// nulReplacement stands for a NUL octet where IMAP allows none.
const nulReplacement = 0x80

// writeLiteralPrefix writes "{n}" CRLF, or "~{n}" CRLF for a literal8 (RFC 9051 §4.3.1).
func writeLiteralPrefix(w *bufio.Writer, n int64, literal8 bool) {
	if literal8 {
		w.WriteByte('~')
	}
	w.WriteByte('{')
	w.Write(strconv.AppendInt(w.AvailableBuffer(), n, 10))
	w.WriteString("}\r\n")
}

// writeQuoted writes s, which ChooseString allows, as a quoted string.
func writeQuoted[T Text](w *bufio.Writer, s T) {
	w.WriteByte('"')
	start := 0
	for i := 0; i < len(s); i++ {
		if c := s[i]; c == '"' || c == '\\' {
			writeText(w, s[start:i])
			w.WriteByte('\\')
			start = i
		}
	}
	writeText(w, s[start:])
	w.WriteByte('"')
}

// writeText writes s as it is.
func writeText[T Text](w *bufio.Writer, s T) {
	switch v := any(s).(type) {
	case string:
		w.WriteString(v)
	case []byte:
		w.Write(v)
	default:
		w.WriteString(string(s))
	}
}

// WriteFlags writes a flag list (RFC 9051 §7.5.2 FLAGS: flag-list = "(" [flag *(SP flag)] ")").
// The flags are written as they are: system flags ("\Seen") and keywords, which the caller has
// kept to the flag grammar when they were stored.
func WriteFlags(w *bufio.Writer, flags []string) {
	w.WriteByte('(')
	for i, f := range flags {
		if i > 0 {
			w.WriteByte(' ')
		}
		w.WriteString(f)
	}
	w.WriteByte(')')
}

// writeNumber writes a non-negative number.
func writeNumber(w *bufio.Writer, n int64) {
	w.Write(strconv.AppendInt(w.AvailableBuffer(), n, 10))
}
