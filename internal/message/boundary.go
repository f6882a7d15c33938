package message

import "bytes"

// maxBoundary is the longest boundary accepted. RFC 2046 §5.1.1 allows 70 characters; longer
// ones are seen, but one longer than a line may be (RFC 5322 §2.1.1) is no boundary.
const maxBoundary = 998

// boundaries are the boundaries of the multiparts being read, outermost first. A line is matched
// against all of them in one map look-up, so that deep nesting costs no time per line.
type boundaries struct {
	stack []boundaryEntry
	index map[string]int // boundary -> index of the innermost multipart using it
}

type boundaryEntry struct {
	b       string
	prev    int // index that b had in the map before this entry, if shadowed
	shadows bool
}

// push adds the boundary of a multipart being entered and returns its index.
func (bs *boundaries) push(b string) int {
	if bs.index == nil {
		bs.index = make(map[string]int)
	}
	e := boundaryEntry{b: b}
	e.prev, e.shadows = bs.index[b]
	i := len(bs.stack)
	bs.stack = append(bs.stack, e)
	bs.index[b] = i
	return i
}

// pop removes the innermost boundary.
func (bs *boundaries) pop() {
	e := bs.stack[len(bs.stack)-1]
	bs.stack = bs.stack[:len(bs.stack)-1]
	if e.shadows {
		bs.index[e.b] = e.prev
	} else {
		delete(bs.index, e.b)
	}
}

// match reports whether line (without its line break) is a boundary line of an open multipart,
// "--" boundary, optionally followed by "--" for the close delimiter, then optional white space
// (RFC 2046 §5.1.1, transport-padding). It returns the index of the multipart.
func (bs *boundaries) match(line []byte) (idx int, isClose, ok bool) {
	if len(bs.stack) == 0 || len(line) < 3 || line[0] != '-' || line[1] != '-' {
		return 0, false, false
	}
	b := bytes.TrimRight(line[2:], " \t\r")
	if i, ok := bs.index[string(b)]; ok {
		return i, false, true
	}
	if c, found := bytes.CutSuffix(b, []byte("--")); found {
		if i, ok := bs.index[string(c)]; ok {
			return i, true, true
		}
	}
	return 0, false, false
}
