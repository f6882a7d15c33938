package imapserver

import (
	"errors"
	"strings"
	"unicode/utf8"

	"posthorn/internal/imapserver/wire"
	"posthorn/internal/store"
)

// mailboxName decodes a mailbox name as the client sent it: UTF-8 in IMAP4rev2 and after
// ENABLE UTF8=ACCEPT, modified UTF-7 otherwise (RFC 3501 §5.1.3). "INBOX" is case-insensitive
// (RFC 9051 §5.1), and so is the INBOX at the start of a name below it.
func (s *session) mailboxName(raw string) (string, error) {
	name := raw
	if s.utf8() {
		if !utf8.ValidString(name) {
			return "", no("CANNOT", "mailbox name is not valid UTF-8")
		}
	} else {
		var err error
		if name, err = decodeMUTF7(raw); err != nil {
			return "", no("CANNOT", err.Error())
		}
	}
	if strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return "", no("CANNOT", "mailbox name holds a control character")
	}
	return normalizeInbox(name), nil
}

// existingMailbox returns the account's mailbox of a name as the client sent it; NO
// [NONEXISTENT] when there is none (RFC 9051 §7.1).
func (s *session) existingMailbox(raw string) (store.Mailbox, error) {
	name, err := s.mailboxName(raw)
	if err != nil {
		return store.Mailbox{}, err
	}
	mb, err := s.server.Store.GetMailbox(s.ctx, s.account.ID, name)
	if errors.Is(err, store.ErrNotFound) {
		return mb, no("NONEXISTENT", "no such mailbox")
	}
	return mb, err
}

// normalizeInbox spells INBOX, and INBOX as the first level of a name, in upper case.
func normalizeInbox(name string) string {
	if len(name) >= 5 && strings.EqualFold(name[:5], "INBOX") && (len(name) == 5 || name[5] == hierarchyDelimiter) {
		return "INBOX" + name[5:]
	}
	return name
}

// writeMailbox writes a mailbox name for the client: as it is in UTF-8 sessions, in modified
// UTF-7 otherwise; an astring.
func (s *session) writeMailbox(name string) {
	if !s.utf8() {
		name = encodeMUTF7(name)
	}
	wire.WriteAString(s.bw, name, s.utf8())
}

// matchPattern reports whether name matches a LIST pattern (RFC 9051 §6.3.9): "*" matches
// anything, "%" anything but the hierarchy delimiter; other characters match themselves, and
// a pattern starting with INBOX matches INBOX case-insensitively. It takes time proportional
// to len(pattern) × len(name), whatever the wildcards.
func matchPattern(pattern, name string) bool {
	pattern = normalizeInbox(pattern)
	// row[j] says whether the pattern so far matches name[:j].
	row := make([]bool, len(name)+1)
	row[0] = true
	for i := 0; i < len(pattern); i++ {
		c := pattern[i]
		switch c {
		case '*', '%':
			for j := 1; j <= len(name); j++ {
				row[j] = row[j] || row[j-1] && (c == '*' || name[j-1] != hierarchyDelimiter)
			}
		default:
			for j := len(name); j >= 1; j-- {
				row[j] = row[j-1] && name[j-1] == c
			}
			row[0] = false
		}
	}
	return row[len(name)]
}
