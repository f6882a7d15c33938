package sqlite

import (
	"fmt"
	"slices"
	"strings"

	"posthorn/internal/store"
)

// Flags are stored as one text column, the flags separated by single spaces. The stored form is
// normal: system flags in their canonical case, keywords as first given, no flag twice (compared
// case-insensitively), and never \Recent, which is the state of a session, not of a message
// (RFC 9051 §2.3.2).

// canonicalFlag returns the canonical spelling of a system flag of RFC 9051 §2.3.2, and f itself
// for a keyword.
func canonicalFlag(f string) string {
	if !strings.HasPrefix(f, `\`) {
		return f
	}
	for _, sys := range []string{`\Seen`, `\Answered`, `\Flagged`, `\Deleted`, `\Draft`, `\Recent`} {
		if strings.EqualFold(f, sys) {
			return sys
		}
	}
	return f
}

// normalizeFlags returns flags in the stored form, in the order given. A flag that is empty or
// holds a space or control character cannot be stored and is an error.
func normalizeFlags(flags []string) ([]string, error) {
	var out []string
	for _, f := range flags {
		if f == "" || strings.ContainsFunc(f, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return nil, fmt.Errorf("invalid flag %q", f)
		}
		f = canonicalFlag(f)
		if f == `\Recent` || hasFlag(out, f) {
			continue
		}
		out = append(out, f)
	}
	return out, nil
}

// hasFlag reports whether flags holds f, compared case-insensitively.
func hasFlag(flags []string, f string) bool {
	for _, g := range flags {
		if strings.EqualFold(g, f) {
			return true
		}
	}
	return false
}

// applyFlags returns the flags a message with flags old has after op with the normal flags
// given, and whether they differ from old (as sets, compared case-insensitively). An unknown
// op changes nothing.
func applyFlags(old []string, op store.FlagOp, given []string) ([]string, bool) {
	var out []string
	switch op {
	case store.FlagsReplace:
		out = slices.Clone(given)
	case store.FlagsAdd:
		out = append(out, old...)
		for _, f := range given {
			if !hasFlag(out, f) {
				out = append(out, f)
			}
		}
	case store.FlagsRemove:
		for _, f := range old {
			if !hasFlag(given, f) {
				out = append(out, f)
			}
		}
	default:
		return old, false
	}
	return out, !sameFlags(old, out)
}

// sameFlags reports whether a and b, both without duplicates, hold the same flags.
func sameFlags(a, b []string) bool {
	if len(a) != len(b) {
		return false
	}
	for _, f := range a {
		if !hasFlag(b, f) {
			return false
		}
	}
	return true
}

// splitFlags parses the stored form. Rows written before flags were normalised may hold
// duplicates or \Recent; they are read as if normal.
func splitFlags(s string) []string {
	if s == "" {
		return nil
	}
	flags, err := normalizeFlags(strings.Split(s, " "))
	if err != nil { // an empty flag from a doubled space: drop the empty ones
		flags, _ = normalizeFlags(strings.Fields(s))
	}
	return flags
}

// joinFlags is the stored form of normal flags.
func joinFlags(flags []string) string { return strings.Join(flags, " ") }
