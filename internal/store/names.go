package store

import (
	"fmt"
	"strings"
	"unicode/utf8"
)

// HierarchySeparator separates the levels of a mailbox name ("Archive/2026").
const HierarchySeparator = "/"

// MailboxName returns the stored form of a mailbox name: INBOX is case-insensitive (RFC 9051
// §5.1), every other name is kept as given.
func MailboxName(name string) string {
	if strings.EqualFold(name, "INBOX") {
		return "INBOX"
	}
	return name
}

// ValidMailboxName refuses what no mailbox name can be: empty, invalid UTF-8, or holding a
// control character (a NUL is also how backends mark names in passing during a rename).
func ValidMailboxName(name string) error {
	if name == "" || !utf8.ValidString(name) ||
		strings.ContainsFunc(name, func(r rune) bool { return r < ' ' || r == 0x7f }) {
		return fmt.Errorf("invalid mailbox name %q", name)
	}
	return nil
}

// ValidSpecialUse refuses a special use that is not "" or one of the Use constants.
func ValidSpecialUse(use string) error {
	switch use {
	case "", UseSent, UseDrafts, UseTrash, UseJunk, UseArchive:
		return nil
	}
	return fmt.Errorf("unknown special use %q", use)
}

// SplitAddress returns the lower-cased address and its domain; the local part may be empty
// only when catchAll allows it ("@domain", an alias's catch-all).
func SplitAddress(address string, catchAll bool) (addr, domain string, err error) {
	addr = strings.ToLower(address)
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || at == len(addr)-1 || (at == 0 && !catchAll) {
		return "", "", fmt.Errorf("invalid address %q", address)
	}
	return addr, addr[at+1:], nil
}

// DedupeLower lower-cases addresses and drops repeats and empty strings, keeping the order
// (alias targets).
func DedupeLower(addrs []string) []string {
	seen := map[string]bool{}
	var out []string
	for _, a := range addrs {
		a = strings.ToLower(strings.TrimSpace(a))
		if a != "" && !seen[a] {
			seen[a] = true
			out = append(out, a)
		}
	}
	return out
}
