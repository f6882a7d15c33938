// Package address parses and normalises mail addresses (RFC 5321 §4.1.2 Mailbox) the way posthorn
// keys them in the store: the domain is lower-cased (and must be a syntactically valid host name),
// the local part is lower-cased too, because users expect "Alice@" and "alice@" to be one mailbox.
// A sub-address "user+tag" keeps its tag; Base strips it for delivery to "user".
package address

import (
	"errors"
	"fmt"
	"strings"
)

// Address is a normalised mail address.
type Address struct {
	Local  string // lower-case local part, as given (with any +tag)
	Domain string // lower-case domain, without a trailing dot
}

// String returns local@domain, or "@domain" for a catch-all pattern.
func (a Address) String() string { return a.Local + "@" + a.Domain }

// Base returns the address without its sub-address tag: "user+tag@d" becomes "user@d".
// The second result reports whether a tag was removed.
func (a Address) Base() (Address, bool) {
	if i := strings.IndexByte(a.Local, '+'); i > 0 {
		return Address{Local: a.Local[:i], Domain: a.Domain}, true
	}
	return a, false
}

// ErrInvalid is wrapped by every parse error.
var ErrInvalid = errors.New("invalid address")

// Parse parses and normalises "local@domain". It accepts dot-atom local parts and, for SMTPUTF8
// (RFC 6531), UTF-8 in both parts; quoted local parts are refused, as almost no provider creates them.
func Parse(s string) (Address, error) {
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return Address{}, fmt.Errorf("%w %q: want local@domain", ErrInvalid, s)
	}
	local, domain := strings.ToLower(s[:at]), s[at+1:]
	if err := checkLocal(local); err != nil {
		return Address{}, fmt.Errorf("%w %q: %v", ErrInvalid, s, err)
	}
	d, err := ParseDomain(domain)
	if err != nil {
		return Address{}, fmt.Errorf("%w %q: %v", ErrInvalid, s, err)
	}
	return Address{Local: local, Domain: d}, nil
}

// ParseDomain normalises a domain name: lower case, no trailing dot, labels of letters, digits,
// hyphens (or UTF-8), each 1..63 bytes, 253 bytes at most.
func ParseDomain(s string) (string, error) {
	d := strings.TrimSuffix(strings.ToLower(s), ".")
	if d == "" || len(d) > 253 {
		return "", fmt.Errorf("domain must be 1 to 253 characters")
	}
	for _, label := range strings.Split(d, ".") {
		if label == "" || len(label) > 63 {
			return "", fmt.Errorf("domain label %q must be 1 to 63 characters", label)
		}
		if label[0] == '-' || label[len(label)-1] == '-' {
			return "", fmt.Errorf("domain label %q must not start or end with a hyphen", label)
		}
		for _, c := range label {
			if !(c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c >= 0x80) {
				return "", fmt.Errorf("domain label %q has invalid character %q", label, c)
			}
		}
	}
	return d, nil
}

func checkLocal(local string) error {
	if len(local) > 64 {
		return errors.New("local part longer than 64 characters")
	}
	if local[0] == '.' || local[len(local)-1] == '.' || strings.Contains(local, "..") {
		return errors.New("local part has a misplaced dot")
	}
	for _, c := range local {
		if c < 0x80 && !isAtext(byte(c)) && c != '.' {
			return fmt.Errorf("local part has invalid character %q", c)
		}
	}
	return nil
}

// isAtext reports whether c is an RFC 5322 §3.2.3 atext character.
func isAtext(c byte) bool {
	switch {
	case c >= 'a' && c <= 'z', c >= 'A' && c <= 'Z', c >= '0' && c <= '9':
		return true
	}
	return strings.IndexByte("!#$%&'*+-/=?^_`{|}~", c) >= 0
}
