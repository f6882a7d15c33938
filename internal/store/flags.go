package store

import (
	"fmt"
	"slices"
	"strings"
)

// Flags as every backend stores them: one text column, the flags separated by single spaces,
// in the normal form of NormalizeFlags: system flags in their canonical case, keywords as first
// given, no flag twice (compared case-insensitively), and never \Recent, which is the state of
// a session, not of a message (RFC 9051 §2.3.2).

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

// NormalizeFlags returns flags in the stored form, in the order given. A flag that is empty or
// holds a space or control character cannot be stored and is an error.
func NormalizeFlags(flags []string) ([]string, error) {
	var out []string
	for _, f := range flags {
		if f == "" || strings.ContainsFunc(f, func(r rune) bool { return r <= ' ' || r == 0x7f }) {
			return nil, fmt.Errorf("invalid flag %q", f)
		}
		f = canonicalFlag(f)
		if f == `\Recent` || HasFlag(out, f) {
			continue
		}
		out = append(out, f)
	}
	return out, nil
}

// HasFlag reports whether flags holds f, compared case-insensitively.
func HasFlag(flags []string, f string) bool {
	for _, g := range flags {
		if strings.EqualFold(g, f) {
			return true
		}
	}
	return false
}

// ApplyFlags returns the flags a message with flags old has after op with the normal flags
// given, and whether they differ from old (as sets, compared case-insensitively). An unknown
// op changes nothing.
func ApplyFlags(old []string, op FlagOp, given []string) ([]string, bool) {
	var out []string
	switch op {
	case FlagsReplace:
		out = slices.Clone(given)
	case FlagsAdd:
		out = append(out, old...)
		for _, f := range given {
			if !HasFlag(out, f) {
				out = append(out, f)
			}
		}
	case FlagsRemove:
		for _, f := range old {
			if !HasFlag(given, f) {
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
		if !HasFlag(b, f) {
			return false
		}
	}
	return true
}

// SplitFlags parses the stored form. Rows written before flags were normalised may hold
// duplicates or \Recent; they are read as if normal.
func SplitFlags(s string) []string {
	if s == "" {
		return nil
	}
	flags, err := NormalizeFlags(strings.Split(s, " "))
	if err != nil { // an empty flag from a doubled space: drop the empty ones
		flags, _ = NormalizeFlags(strings.Fields(s))
	}
	return flags
}

// JoinFlags is the stored form of normal flags.
func JoinFlags(flags []string) string { return strings.Join(flags, " ") }

// NewKeywords returns the keywords of flags (normal) that known lacks, in the order of flags:
// what a mailbox's Keywords grow by when a message gets flags.
func NewKeywords(known, flags []string) []string {
	var out []string
	for _, f := range flags {
		if !strings.HasPrefix(f, `\`) && !HasFlag(known, f) && !HasFlag(out, f) {
			out = append(out, f)
		}
	}
	return out
}

// SortedUIDs returns uids ascending, without duplicates and without 0 (never a UID). It returns
// uids itself when they are that already, as callers usually pass them.
func SortedUIDs(uids []uint32) []uint32 {
	ok := true
	for i, u := range uids {
		if u == 0 || (i > 0 && u <= uids[i-1]) {
			ok = false
			break
		}
	}
	if ok {
		return uids
	}
	out := slices.Clone(uids)
	slices.Sort(out)
	out = slices.Compact(out)
	if len(out) > 0 && out[0] == 0 {
		out = out[1:]
	}
	return out
}
