package auth

import (
	"strings"

	"golang.org/x/text/unicode/norm"
)

// saslprep prepares a password for SCRAM (RFC 5802 §2.2: Normalize(str) is SASLprep, RFC 4013):
// non-ASCII spaces (RFC 3454 table C.1.2) become SPACE, the characters "commonly mapped to
// nothing" (table B.1) are removed, and the result is in Unicode normalization form KC. The
// prohibited-output and bidirectional checks of RFC 4013 §2.3-2.4 are left out: a password
// that would fail them still works, as long as the client sends it the same way. An ASCII
// password is returned unchanged.
func saslprep(s string) string {
	ascii := true
	for i := 0; i < len(s); i++ {
		if s[i] >= 0x80 {
			ascii = false
			break
		}
	}
	if ascii {
		return s
	}
	var b strings.Builder
	for _, r := range s {
		switch {
		case mappedToNothing(r):
			continue
		case nonASCIISpace(r):
			b.WriteByte(' ')
		default:
			b.WriteRune(r)
		}
	}
	return norm.NFKC.String(b.String())
}

// mappedToNothing is RFC 3454 table B.1.
func mappedToNothing(r rune) bool {
	switch {
	case r == 0x00AD, r == 0x034F, r == 0x1806, r == 0x2060, r == 0xFEFF,
		r >= 0x180B && r <= 0x180D, r >= 0x200B && r <= 0x200D, r >= 0xFE00 && r <= 0xFE0F:
		return true
	}
	return false
}

// nonASCIISpace is RFC 3454 table C.1.2.
func nonASCIISpace(r rune) bool {
	switch {
	case r == 0x00A0, r == 0x1680, r == 0x202F, r == 0x205F, r == 0x3000,
		r >= 0x2000 && r <= 0x200B:
		return true
	}
	return false
}
