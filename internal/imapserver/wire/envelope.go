package wire

import (
	"bufio"
	"strings"

	"posthorn/internal/message"
)

// WriteEnvelope writes an ENVELOPE (RFC 9051 §7.5.2):
//
//	envelope = "(" env-date SP env-subject SP env-from SP env-sender SP env-reply-to SP
//	           env-to SP env-cc SP env-bcc SP env-in-reply-to SP env-message-id ")"
//
// Each empty field is NIL. Address lists are written as RFC 3501 §7.4.2 shows them, groups
// included; the message package has already made sender and reply-to default to from. The subject
// and the display names are written "for humans" as Dovecot does: runs of white space become one
// space, and line breaks go (see forHumans). A nil env is written with every field NIL.
func WriteEnvelope(w *bufio.Writer, env *message.Envelope, utf8 bool) {
	if env == nil {
		w.WriteString("(NIL NIL NIL NIL NIL NIL NIL NIL NIL NIL)")
		return
	}
	w.WriteByte('(')
	WriteNString(w, env.Date, utf8)
	w.WriteByte(' ')
	writeHumanNString(w, env.Subject, utf8)
	for _, list := range [...][]message.Address{env.From, env.Sender, env.ReplyTo, env.To, env.Cc, env.Bcc} {
		w.WriteByte(' ')
		writeAddresses(w, list, utf8)
	}
	w.WriteByte(' ')
	WriteNString(w, env.InReplyTo, utf8)
	w.WriteByte(' ')
	WriteNString(w, env.MessageID, utf8)
	w.WriteByte(')')
}

// writeAddresses writes an address list: "(" 1*address ")" / nil, the addresses side by side
// without a space, as the grammar has it.
//
//	address      = "(" addr-name SP addr-adl SP addr-mailbox SP addr-host ")"
//
// RFC 3501 §7.4.2: a group starts with an address whose host is NIL and whose mailbox is the
// group's name, and ends with one whose four fields are NIL. message.Address has that form
// already, so every address is written as it is.
func writeAddresses(w *bufio.Writer, list []message.Address, utf8 bool) {
	if len(list) == 0 {
		w.WriteString("NIL")
		return
	}
	w.WriteByte('(')
	for _, a := range list {
		w.WriteByte('(')
		writeHumanNString(w, a.Name, utf8)
		w.WriteByte(' ')
		WriteNString(w, a.Adl, utf8)
		w.WriteByte(' ')
		WriteNString(w, a.Mailbox, utf8)
		w.WriteByte(' ')
		WriteNString(w, a.Host, utf8)
		w.WriteByte(')')
	}
	w.WriteByte(')')
}

// writeHumanNString writes a text meant to be read, a subject or a display name, as an nstring
// after forHumans.
func writeHumanNString(w *bufio.Writer, s string, utf8 bool) {
	if s == "" {
		w.WriteString("NIL")
		return
	}
	WriteString(w, forHumans(s), utf8)
}

// forHumans returns s as Dovecot writes a subject or display name
// (imap_append_string_for_humans): CR and LF removed, each run of spaces and tabs made one space,
// white space at either end removed, and NUL made 0x80. It returns s itself when nothing changes,
// which is the common case.
func forHumans(s string) string {
	if !needsHumanizing(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s))
	space := false // a space is pending: white space was seen after some text
	for i := 0; i < len(s); i++ {
		switch c := s[i]; c {
		case '\r', '\n':
		case ' ', '\t':
			space = b.Len() > 0
		default:
			if space {
				b.WriteByte(' ')
				space = false
			}
			if c == 0 {
				c = nulReplacement
			}
			b.WriteByte(c)
		}
	}
	return b.String()
}

// needsHumanizing reports whether forHumans would change s.
func needsHumanizing(s string) bool {
	prevSpace := true // at the start, a space would be leading
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case 0, '\r', '\n', '\t':
			return true
		case ' ':
			if prevSpace {
				return true
			}
			prevSpace = true
		default:
			prevSpace = false
		}
	}
	return prevSpace && len(s) > 0
}
