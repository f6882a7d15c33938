package imapserver

import "sort"

// uidList is a session's view of the UIDs of its selected mailbox: the message with sequence
// number n (RFC 9051 §2.3.1.2) has the n-th UID of the list. It is kept as runs of consecutive
// UIDs, so a mailbox of 100,000 messages with few expunges costs a few bytes instead of 400 KB
// per session.
type uidList struct {
	runs []uidRun
	n    uint32 // number of UIDs
}

// uidRun is count UIDs from first on, and before says how many UIDs precede the run.
type uidRun struct {
	first, count, before uint32
}

func newUIDList(uids []uint32) *uidList {
	l := &uidList{}
	for _, u := range uids {
		l.append(u)
	}
	return l
}

// len is the number of messages.
func (l *uidList) len() uint32 { return l.n }

// last is the highest UID, 0 for none.
func (l *uidList) last() uint32 {
	if len(l.runs) == 0 {
		return 0
	}
	r := l.runs[len(l.runs)-1]
	return r.first + r.count - 1
}

// append adds a UID higher than every UID of the list.
func (l *uidList) append(u uint32) {
	if n := len(l.runs); n > 0 && l.runs[n-1].first+l.runs[n-1].count == u {
		l.runs[n-1].count++
	} else {
		l.runs = append(l.runs, uidRun{first: u, count: 1, before: l.n})
	}
	l.n++
}

// uid returns the UID of sequence number seq (1-based); 0 if out of range.
func (l *uidList) uid(seq uint32) uint32 {
	if seq == 0 || seq > l.n {
		return 0
	}
	i := sort.Search(len(l.runs), func(i int) bool { return l.runs[i].before+l.runs[i].count >= seq })
	r := l.runs[i]
	return r.first + (seq - 1 - r.before)
}

// seq returns the sequence number of uid, 0 if it is not in the list.
func (l *uidList) seq(uid uint32) uint32 {
	i := sort.Search(len(l.runs), func(i int) bool { return l.runs[i].first+l.runs[i].count > uid })
	if i == len(l.runs) || uid < l.runs[i].first {
		return 0
	}
	r := l.runs[i]
	return r.before + (uid - r.first) + 1
}

// remove takes uid out of the list; the sequence numbers after it go down by one.
func (l *uidList) remove(uid uint32) bool {
	i := sort.Search(len(l.runs), func(i int) bool { return l.runs[i].first+l.runs[i].count > uid })
	if i == len(l.runs) || uid < l.runs[i].first {
		return false
	}
	r := l.runs[i]
	switch {
	case r.count == 1:
		l.runs = append(l.runs[:i], l.runs[i+1:]...)
	case uid == r.first:
		l.runs[i].first++
		l.runs[i].count--
		i++
	case uid == r.first+r.count-1:
		l.runs[i].count--
		i++
	default:
		head := uidRun{first: r.first, count: uid - r.first, before: r.before}
		tail := uidRun{first: uid + 1, count: r.first + r.count - uid - 1, before: r.before + head.count}
		l.runs[i] = head
		l.runs = append(l.runs, uidRun{})
		copy(l.runs[i+2:], l.runs[i+1:])
		l.runs[i+1] = tail
		i += 2
	}
	for ; i < len(l.runs); i++ {
		l.runs[i].before--
	}
	l.n--
	return true
}

// each calls fn with every (seq, uid) pair whose UID lies in [lo, hi], in order.
func (l *uidList) eachUIDIn(lo, hi uint32, fn func(seq, uid uint32)) {
	i := sort.Search(len(l.runs), func(i int) bool { return l.runs[i].first+l.runs[i].count > lo })
	for ; i < len(l.runs) && l.runs[i].first <= hi; i++ {
		r := l.runs[i]
		a, b := max(lo, r.first), min(hi, r.first+r.count-1)
		for u := a; u <= b && u >= a; u++ { // u >= a guards against wrapping at 2^32-1
			fn(r.before+(u-r.first)+1, u)
		}
	}
}

// all returns every UID, ascending.
func (l *uidList) all() []uint32 {
	out := make([]uint32, 0, l.n)
	for _, r := range l.runs {
		for k := uint32(0); k < r.count; k++ {
			out = append(out, r.first+k)
		}
	}
	return out
}
