package imapserver

import (
	"strconv"
	"strings"
)

// numRange is one element of a sequence set: start:stop, or a single number when they are
// equal. 0 stands for "*", the largest number in use (RFC 9051 §9 seq-number).
type numRange struct {
	start, stop uint32
}

// numSet is a sequence-set or uid-set (RFC 9051 §9), or "$", the result saved by SEARCH
// RETURN (SAVE) (RFC 5182 SEARCHRES).
type numSet struct {
	ranges []numRange
	saved  bool // "$"
}

// maxSetRanges bounds the elements of one sequence set.
const maxSetRanges = 100_000

// seqSet reads sequence-set = (seq-number / seq-range) ["," sequence-set] / "$".
func (p *parser) seqSet() (numSet, error) {
	if p.consume('$') {
		return numSet{saved: true}, nil
	}
	var s numSet
	for {
		start, err := p.seqNumber()
		if err != nil {
			return s, err
		}
		stop := start
		if p.consume(':') {
			if stop, err = p.seqNumber(); err != nil {
				return s, err
			}
		}
		if len(s.ranges) >= maxSetRanges {
			return s, badf("sequence set too long")
		}
		s.ranges = append(s.ranges, numRange{start, stop})
		if !p.consume(',') {
			return s, nil
		}
	}
}

// spSeqSet reads SP sequence-set into dst.
func (p *parser) spSeqSet(dst *numSet) error {
	if err := p.sp(); err != nil {
		return err
	}
	var err error
	*dst, err = p.seqSet()
	return err
}

// seqNumber reads nz-number / "*" ("*" as 0).
func (p *parser) seqNumber() (uint32, error) {
	if p.consume('*') {
		return 0, nil
	}
	if !isDigit(p.peek()) {
		return 0, p.missing("sequence set")
	}
	return p.nzNumber()
}

// uidSet reads a set of UIDs with no "*" and no "$" (QRESYNC known-uids, RFC 7162 §3.2.5).
func (p *parser) uidSet() (numSet, error) {
	var s numSet
	for {
		start, err := p.nzNumber()
		if err != nil {
			return s, err
		}
		stop := start
		if p.consume(':') {
			if stop, err = p.nzNumber(); err != nil {
				return s, err
			}
		}
		if len(s.ranges) >= maxSetRanges {
			return s, badf("set too long")
		}
		s.ranges = append(s.ranges, numRange{start, stop})
		if !p.consume(',') {
			return s, nil
		}
	}
}

// bounds returns the range with "*" replaced by max and start <= stop.
func (r numRange) bounds(max uint32) (uint32, uint32) {
	a, b := r.start, r.stop
	if a == 0 {
		a = max
	}
	if b == 0 {
		b = max
	}
	if a > b {
		a, b = b, a
	}
	return a, b
}

// contains reports whether n is in the set, with "*" standing for max. A saved set ("$") is
// resolved by the caller first.
func (s numSet) contains(n, max uint32) bool {
	for _, r := range s.ranges {
		a, b := r.bounds(max)
		if n >= a && n <= b {
			return true
		}
	}
	return false
}

// String writes the set in IMAP syntax.
func (s numSet) String() string {
	if s.saved {
		return "$"
	}
	var b strings.Builder
	for i, r := range s.ranges {
		if i > 0 {
			b.WriteByte(',')
		}
		writeSeqNumber(&b, r.start)
		if r.stop != r.start {
			b.WriteByte(':')
			writeSeqNumber(&b, r.stop)
		}
	}
	return b.String()
}

func writeSeqNumber(b *strings.Builder, n uint32) {
	if n == 0 {
		b.WriteByte('*')
		return
	}
	b.WriteString(strconv.FormatUint(uint64(n), 10))
}

// compactUIDs writes ascending UIDs as a uid-set with ranges: "1:3,7,9:10" (RFC 4315 COPYUID,
// RFC 4731 ESEARCH ALL, RFC 7162 VANISHED). It returns "" for none.
func compactUIDs(uids []uint32) string {
	var b strings.Builder
	for i := 0; i < len(uids); {
		j := i
		for j+1 < len(uids) && uids[j+1] == uids[j]+1 {
			j++
		}
		if b.Len() > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strconv.FormatUint(uint64(uids[i]), 10))
		if j > i {
			b.WriteByte(':')
			b.WriteString(strconv.FormatUint(uint64(uids[j]), 10))
		}
		i = j + 1
	}
	return b.String()
}
