package mailauth

import (
	"errors"
	"fmt"
	"strings"
)

// parseTags parses a tag-list (RFC 6376 §3.2), the syntax of DKIM-Signature, DKIM keys,
// ARC-Seal, ARC-Message-Signature (RFC 8617 §4.1) and DMARC records (RFC 7489 §6.4):
// tag=value pairs separated by ";", with white space (and folding) around tags and values.
// A tag may appear once; an empty trailing element is allowed. Names keep their case, values
// are trimmed but otherwise untouched.
func parseTags(s string) (map[string]string, []string, error) {
	tags := map[string]string{}
	var order []string
	parts := strings.Split(s, ";")
	for i, p := range parts {
		p = strings.Trim(p, " \t\r\n")
		if p == "" {
			if i == len(parts)-1 {
				break
			}
			return nil, nil, errors.New("empty tag-spec")
		}
		name, value, ok := strings.Cut(p, "=")
		if !ok {
			return nil, nil, fmt.Errorf("tag-spec %q has no =", p)
		}
		name = strings.Trim(name, " \t\r\n")
		if !isTagName(name) {
			return nil, nil, fmt.Errorf("invalid tag name %q", name)
		}
		if _, dup := tags[name]; dup {
			return nil, nil, fmt.Errorf("tag %q appears twice", name)
		}
		tags[name] = strings.Trim(value, " \t\r\n")
		order = append(order, name)
	}
	return tags, order, nil
}

// isTagName checks tag-name = ALPHA *ALNUMPUNC (RFC 6376 §3.2).
func isTagName(s string) bool {
	if s == "" || !isAlpha(s[0]) {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !isAlpha(c) && !(c >= '0' && c <= '9') && c != '_' {
			return false
		}
	}
	return true
}

func isAlpha(c byte) bool { return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') }

// stripFWS removes all white space, as for base64 tag values (RFC 6376 §3.5 b=, bh=).
func stripFWS(s string) string {
	return strings.Map(func(r rune) rune {
		if r == ' ' || r == '\t' || r == '\r' || r == '\n' {
			return -1
		}
		return r
	}, s)
}
