package wire

import (
	"bufio"

	"posthorn/internal/message"
)

// defaultCharset is the charset of a text part that names none (RFC 2046 §4.1.2). Dovecot adds
// it to the parameters of such a part, and so does WriteBodyStructure.
const defaultCharset = "us-ascii"

// WriteBodyStructure writes the body structure of part (RFC 9051 §7.5.2, RFC 3501 §7.4.2): BODY
// when extended is false, BODYSTRUCTURE when it is true.
//
//	body            = "(" (body-type-1part / body-type-mpart) ")"
//	body-type-1part = (body-type-basic / body-type-msg / body-type-text) [SP body-ext-1part]
//	body-type-mpart = 1*body SP media-subtype [SP body-ext-mpart]
//
// The tokens the message package lower-cases (media type and subtype, parameter names,
// transfer encoding, disposition type) are written in upper case, as RFC 3501 §7.4.2 shows them:
// ("TEXT" "PLAIN" ("CHARSET" "us-ascii") NIL NIL "7BIT" 3028 92). Clients compare them without
// regard to case. A text part without a charset parameter gets ("CHARSET" "us-ascii"), the
// default that RFC 2046 §4.1.2 gives it, as Dovecot adds it too.
//
// The extension data is written in full: for a single part md5, disposition, language and
// location; for a multipart the parameters, disposition, language and location.
//
// A message/rfc822 or message/global part whose encapsulated message was not parsed (Message is
// nil: it is base64 or quoted-printable encoded, or beyond the parser's limits) is written as a
// basic body, with no envelope, body or line count, as the message package asks. RFC 9051's
// media-basic excludes MESSAGE/RFC822 and MESSAGE/GLOBAL, but no other form tells the truth
// about such a part, and a parser that tells body-type-msg apart by the "(" of its envelope, as
// mox's client does, reads it as what it is.
func WriteBodyStructure(w *bufio.Writer, part *message.Part, extended bool, utf8 bool) {
	w.WriteByte('(')
	if part.IsMultipart() && len(part.Parts) > 0 {
		writeMultipart(w, part, extended, utf8)
	} else {
		writeSinglePart(w, part, extended, utf8)
	}
	w.WriteByte(')')
}

// writeMultipart writes the inside of a body-type-mpart.
//
//	body-ext-mpart = body-fld-param [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc
//	                 *(SP body-extension)]]]
func writeMultipart(w *bufio.Writer, part *message.Part, extended bool, utf8 bool) {
	for _, c := range part.Parts {
		WriteBodyStructure(w, c, extended, utf8)
	}
	w.WriteByte(' ')
	writeToken(w, part.Subtype, utf8)
	if !extended {
		return
	}
	w.WriteByte(' ')
	writeParams(w, part.Params, false, utf8)
	writeExtensionTail(w, part, utf8)
}

// writeSinglePart writes the inside of a body-type-1part.
//
//	body-type-basic = media-basic SP body-fields
//	body-type-msg   = media-message SP body-fields SP envelope SP body SP body-fld-lines
//	body-type-text  = media-text SP body-fields SP body-fld-lines
//	body-fields     = body-fld-param SP body-fld-id SP body-fld-desc SP body-fld-enc SP
//	                  body-fld-octets
//	body-ext-1part  = body-fld-md5 [SP body-fld-dsp [SP body-fld-lang [SP body-fld-loc
//	                  *(SP body-extension)]]]
func writeSinglePart(w *bufio.Writer, part *message.Part, extended bool, utf8 bool) {
	text := part.Type == "text"
	writeToken(w, part.Type, utf8)
	w.WriteByte(' ')
	writeToken(w, part.Subtype, utf8)
	w.WriteByte(' ')
	writeParams(w, part.Params, text, utf8)
	w.WriteByte(' ')
	WriteNString(w, part.ID, utf8)
	w.WriteByte(' ')
	WriteNString(w, part.Description, utf8)
	w.WriteByte(' ')
	writeToken(w, part.Encoding, utf8)
	w.WriteByte(' ')
	writeNumber(w, part.Size())
	switch {
	case text:
		w.WriteByte(' ')
		writeNumber(w, part.Lines)
	case part.IsMessage():
		w.WriteByte(' ')
		WriteEnvelope(w, part.Envelope, utf8)
		w.WriteByte(' ')
		WriteBodyStructure(w, part.Message, extended, utf8)
		w.WriteByte(' ')
		writeNumber(w, part.Lines)
	}
	if !extended {
		return
	}
	w.WriteByte(' ')
	WriteNString(w, part.MD5, utf8)
	writeExtensionTail(w, part, utf8)
}

// writeExtensionTail writes SP body-fld-dsp SP body-fld-lang SP body-fld-loc, which both kinds
// of extension data end with.
//
//	body-fld-dsp  = "(" string SP body-fld-param ")" / nil
//	body-fld-lang = nstring / "(" string *(SP string) ")"
//	body-fld-loc  = nstring
func writeExtensionTail(w *bufio.Writer, part *message.Part, utf8 bool) {
	w.WriteByte(' ')
	if part.Disposition == "" {
		w.WriteString("NIL")
	} else {
		w.WriteByte('(')
		writeToken(w, part.Disposition, utf8)
		w.WriteByte(' ')
		writeParams(w, part.DispositionParams, false, utf8)
		w.WriteByte(')')
	}
	w.WriteByte(' ')
	if len(part.Language) == 0 {
		w.WriteString("NIL")
	} else {
		w.WriteByte('(')
		for i, l := range part.Language {
			if i > 0 {
				w.WriteByte(' ')
			}
			WriteString(w, l, utf8)
		}
		w.WriteByte(')')
	}
	w.WriteByte(' ')
	WriteNString(w, part.Location, utf8)
}

// writeParams writes a body-fld-param:
//
//	body-fld-param = "(" string SP string *(SP string SP string) ")" / nil
//
// with the names in upper case and the values as they are. With addCharset, a list without a
// charset parameter gets the default one.
func writeParams(w *bufio.Writer, params []message.Param, addCharset bool, utf8 bool) {
	if addCharset {
		for _, p := range params {
			if p.Name == "charset" {
				addCharset = false
				break
			}
		}
	}
	if len(params) == 0 && !addCharset {
		w.WriteString("NIL")
		return
	}
	w.WriteByte('(')
	for i, p := range params {
		if i > 0 {
			w.WriteByte(' ')
		}
		writeToken(w, p.Name, utf8)
		w.WriteByte(' ')
		WriteString(w, p.Value, utf8)
	}
	if addCharset {
		if len(params) > 0 {
			w.WriteByte(' ')
		}
		w.WriteString(`"CHARSET" "` + defaultCharset + `"`)
	}
	w.WriteByte(')')
}

// writeToken writes a case-insensitive MIME token (a media type or subtype, a parameter name, a
// transfer encoding, a disposition type) as a string, in upper case. Upper-casing ASCII letters
// changes neither the length nor the form ChooseString picks.
func writeToken(w *bufio.Writer, s string, utf8 bool) {
	if ChooseString(s, utf8) == Literal {
		WriteLiteral(w, upperASCII(make([]byte, 0, len(s)), s))
		return
	}
	w.WriteByte('"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			w.WriteByte('\\')
		case 'a' <= c && c <= 'z':
			c -= 'a' - 'A'
		}
		w.WriteByte(c)
	}
	w.WriteByte('"')
}

// upperASCII appends s to dst with its ASCII letters in upper case; other octets, 8-bit ones
// included, are kept, so that the length does not change.
func upperASCII(dst []byte, s string) []byte {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		dst = append(dst, c)
	}
	return dst
}
