package imapserver

import (
	"errors"
	"fmt"
	"io"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"posthorn/internal/bodystore"
	"posthorn/internal/message"
	"posthorn/internal/store"
)

// searchChunk is how many messages a search loads from the store at a time.
const searchChunk = 1000

// cost classes of search keys: what evaluating one needs.
const (
	costNumber   = iota // sequence number or UID only
	costMeta            // the message row: flags, dates, size, MODSEQ
	costEnvelope        // the stored envelope
	costBody            // the message itself, from the blob store
)

// search returns the messages of the view that match key, ascending, and the highest MODSEQ
// among them when key uses MODSEQ (0 otherwise).
func (s *session) search(sel *selected, key searchKey) ([]msgRef, uint64, error) {
	candidates, err := s.resolve(numSet{ranges: []numRange{{1, 0}}}, false, true)
	if err != nil {
		return nil, 0, err
	}
	ev := &searchEval{s: s, sel: sel}
	if err := ev.searchIndex(key); err != nil {
		return nil, 0, err
	}
	key = ev.orderByCost(key)
	if keep := ev.narrow(key); keep != nil {
		// Only these can match: the others need not even be loaded.
		candidates = slices.DeleteFunc(candidates, func(r msgRef) bool {
			_, ok := slices.BinarySearch(keep, r.uid)
			return !ok
		})
	}
	var matches []msgRef
	var highest uint64
	if ev.keyCost(key) == costNumber {
		for _, r := range candidates {
			if slices.Contains(sel.pending, r.uid) {
				continue // removed by another session: it matches nothing
			}
			if ev.match(key, &searchMsg{ref: r}) {
				matches = append(matches, r)
			}
		}
		return matches, 0, ev.err
	}
	wantModseq := usesKey(key, "MODSEQ")
	for len(candidates) > 0 {
		n := min(searchChunk, len(candidates))
		chunk := candidates[:n]
		candidates = candidates[n:]
		msgs, err := s.server.Store.GetMessages(s.ctx, sel.id, uidsOf(chunk))
		if err != nil {
			return nil, 0, err
		}
		i := 0
		for _, r := range chunk {
			for i < len(msgs) && msgs[i].UID < r.uid {
				i++
			}
			if i == len(msgs) || msgs[i].UID != r.uid {
				continue // removed meanwhile: it matches nothing
			}
			m := &searchMsg{ref: r, m: &msgs[i]}
			if ev.match(key, m) {
				matches = append(matches, r)
				if wantModseq {
					highest = max(highest, m.m.ModSeq)
				}
			}
			if ev.err != nil {
				return nil, 0, ev.err
			}
		}
	}
	return matches, highest, nil
}

// keyCost is the most expensive thing evaluating k needs. BODY and TEXT need only the UID when
// the full-text index answered them for every message.
func (ev *searchEval) keyCost(k searchKey) int {
	switch k.op {
	case "SEQ", "UID", "ALL", "RECENT", "OLD":
		return costNumber
	case "FROM", "TO", "CC", "BCC", "SUBJECT", "SENTBEFORE", "SENTON", "SENTSINCE":
		return costEnvelope
	case "BODY", "TEXT":
		if r := ev.text[textKey(k)]; r != nil && len(r.unindexed) == 0 {
			return costNumber
		}
		return costBody
	case "HEADER":
		return costBody
	case "AND", "OR", "NOT":
		c := costNumber
		for _, sub := range k.sub {
			c = max(c, ev.keyCost(sub))
		}
		return c
	}
	return costMeta
}

// narrow returns, ascending, the UIDs that can match k as far as the full-text index tells
// (for BODY, TEXT and HEADER: those it found the string in and those it has no whole text of;
// for AND the smallest such set of its keys; for OR the union of both sides'), or nil when it
// tells nothing.
func (ev *searchEval) narrow(k searchKey) []uint32 {
	switch k.op {
	case "BODY", "TEXT", "HEADER":
		if r := ev.text[textKey(k)]; r != nil {
			return mergeUIDs(r.matched, r.unindexed)
		}
	case "AND":
		var best []uint32
		for _, sub := range k.sub {
			if n := ev.narrow(sub); n != nil && (best == nil || len(n) < len(best)) {
				best = n
			}
		}
		return best
	case "OR":
		a, b := ev.narrow(k.sub[0]), ev.narrow(k.sub[1])
		if a != nil && b != nil {
			return mergeUIDs(a, b)
		}
	}
	return nil
}

// mergeUIDs returns the union of two UID lists, ascending, never nil.
func mergeUIDs(a, b []uint32) []uint32 {
	out := append(make([]uint32, 0, len(a)+len(b)), a...)
	out = append(out, b...)
	slices.Sort(out)
	return slices.Compact(out)
}

// orderByCost sorts the keys of every AND so that cheap ones decide first.
func (ev *searchEval) orderByCost(k searchKey) searchKey {
	if len(k.sub) == 0 {
		return k
	}
	sub := make([]searchKey, len(k.sub))
	for i, c := range k.sub {
		sub[i] = ev.orderByCost(c)
	}
	if k.op == "AND" {
		slices.SortStableFunc(sub, func(a, b searchKey) int { return ev.keyCost(a) - ev.keyCost(b) })
	}
	k.sub = sub
	return k
}

// searchMsg is one candidate message, with what was read of it so far.
type searchMsg struct {
	ref  msgRef
	m    *store.Message
	env  *message.Envelope
	root *message.Part
	text *message.Text
}

// searchEval evaluates keys; the first error reading a message stops the search.
type searchEval struct {
	s    *session
	sel  *selected
	text map[textQuery]*textMatches // what the full-text index said of each BODY and TEXT key
	err  error
}

// textQuery is a BODY or TEXT key: op and string.
type textQuery struct{ op, str string }

// textKey is the textQuery of a BODY, TEXT or HEADER key. A HEADER key's includes its field:
// the index is asked for the string alone, but whether it may answer depends on the field.
func textKey(k searchKey) textQuery {
	if k.op == "HEADER" {
		return textQuery{k.op, strings.ToLower(k.field) + ":" + k.str}
	}
	return textQuery{k.op, k.str}
}

// textMatches is the full-text index's answer for a textQuery: the UIDs whose text holds the
// string, and those it has no text of (which are read to decide). Both ascending.
type textMatches struct {
	matched, unindexed []uint32
}

// searchIndex asks the full-text index (store.SearchText) about every BODY and TEXT key of k
// whose string it can answer; the others are decided by reading the messages.
func (ev *searchEval) searchIndex(k searchKey) error {
	switch k.op {
	case "AND", "OR", "NOT":
		for _, sub := range k.sub {
			if err := ev.searchIndex(sub); err != nil {
				return err
			}
		}
		return nil
	case "BODY", "TEXT":
	case "HEADER":
		if k.str == "" || !message.IndexedField(k.field) {
			return nil
		}
	default:
		return nil
	}
	q := textKey(k)
	if _, done := ev.text[q]; done {
		return nil
	}
	field := store.FieldBody
	switch k.op {
	case "TEXT":
		field = store.FieldText
	case "HEADER":
		field = store.FieldHeader
	}
	matched, unindexed, err := ev.s.server.Store.SearchText(ev.s.ctx, ev.sel.id, field, message.NormalizeText(k.str))
	if errors.Is(err, store.ErrNotIndexable) {
		return nil
	}
	if err != nil {
		return err
	}
	if ev.text == nil {
		ev.text = map[textQuery]*textMatches{}
	}
	ev.text[q] = &textMatches{matched: matched, unindexed: unindexed}
	return nil
}

func (ev *searchEval) match(k searchKey, m *searchMsg) bool {
	if ev.err != nil {
		return false
	}
	switch k.op {
	case "AND":
		for _, sub := range k.sub {
			if !ev.match(sub, m) {
				return false
			}
		}
		return true
	case "OR":
		return ev.match(k.sub[0], m) || ev.match(k.sub[1], m)
	case "NOT":
		return !ev.match(k.sub[0], m)
	case "ALL":
		return true
	case "RECENT": // RFC 3501 §6.4.4; no message is \Recent in an IMAP4rev2 session
		return ev.sel.isRecent(m.ref.uid)
	case "OLD":
		return !ev.sel.isRecent(m.ref.uid)
	case "NEW": // RFC 3501 §6.4.4: RECENT UNSEEN
		return ev.sel.isRecent(m.ref.uid) && !hasFlag(m.m.Flags, `\Seen`)
	case "SEQ":
		if k.set.saved {
			return slices.Contains(ev.sel.saved, m.ref.uid)
		}
		return k.set.contains(m.ref.seq, ev.sel.uids.len())
	case "UID":
		if k.set.saved {
			return slices.Contains(ev.sel.saved, m.ref.uid)
		}
		return k.set.contains(m.ref.uid, ev.sel.uids.last())
	}
	if flag, want, ok := flagKey(k); ok {
		return hasFlag(m.m.Flags, flag) == want
	}
	switch k.op {
	case "KEYWORD":
		return hasFlag(m.m.Flags, k.str)
	case "UNKEYWORD":
		return !hasFlag(m.m.Flags, k.str)
	case "LARGER":
		return uint64(m.m.Size) > k.num
	case "SMALLER":
		return uint64(m.m.Size) < k.num
	case "MODSEQ":
		return m.m.ModSeq >= k.num
	case "BEFORE", "ON", "SINCE":
		return compareDay(m.m.InternalDate, k.date, k.op)
	case "SENTBEFORE", "SENTON", "SENTSINCE":
		return compareDay(ev.sentDate(m), k.date, strings.TrimPrefix(k.op, "SENT"))
	case "FROM", "TO", "CC", "BCC", "SUBJECT":
		return ev.matchEnvelope(k, m)
	case "HEADER", "BODY", "TEXT":
		ok, err := ev.matchMessage(k, m)
		if err != nil {
			ev.err = err
		}
		return ok
	}
	ev.err = fmt.Errorf("search key %s not evaluated", k.op)
	return false
}

// flagKey maps the flag keys to the flag and whether it must be set.
func flagKey(k searchKey) (string, bool, bool) {
	switch k.op {
	case "ANSWERED", "DELETED", "DRAFT", "FLAGGED", "SEEN":
		return `\` + k.op[:1] + strings.ToLower(k.op[1:]), true, true
	case "UNANSWERED", "UNDELETED", "UNDRAFT", "UNFLAGGED", "UNSEEN":
		return `\` + k.op[2:3] + strings.ToLower(k.op[3:]), false, true
	}
	return "", false, false
}

// compareDay compares the day of t, in its own time zone, with day (RFC 9051 §6.4.4: "disregarding
// time and timezone").
func compareDay(t, day time.Time, op string) bool {
	d := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
	switch op {
	case "BEFORE":
		return d.Before(day)
	case "ON":
		return d.Equal(day)
	default: // SINCE
		return !d.Before(day)
	}
}

func (ev *searchEval) envelope(m *searchMsg) *message.Envelope {
	if m.env == nil {
		env, err := message.UnmarshalEnvelope(m.m.Envelope)
		if err != nil {
			env = &message.Envelope{}
		}
		m.env = env
	}
	return m.env
}

// sentDate is the Date header's time, or the internal date when there is none that parses.
func (ev *searchEval) sentDate(m *searchMsg) time.Time {
	if t, err := mail.ParseDate(ev.envelope(m).Date); err == nil {
		return t
	}
	return m.m.InternalDate
}

// matchEnvelope matches FROM, TO, CC, BCC and SUBJECT on the stored envelope, decoded, as a
// case-insensitive substring (RFC 9051 §6.4.4).
func (ev *searchEval) matchEnvelope(k searchKey, m *searchMsg) bool {
	env := ev.envelope(m)
	needle := strings.ToLower(k.str)
	if k.op == "SUBJECT" {
		return strings.Contains(strings.ToLower(message.DecodeWords(env.Subject)), needle)
	}
	list := map[string][]message.Address{"FROM": env.From, "TO": env.To, "CC": env.Cc, "BCC": env.Bcc}[k.op]
	for _, a := range list {
		text := message.DecodeWords(a.Name) + " <" + a.Mailbox + "@" + a.Host + ">"
		if strings.Contains(strings.ToLower(text), needle) {
			return true
		}
	}
	return false
}

// matchMessage matches BODY and TEXT from the full-text index, or, for a message it has no text
// of or a string it cannot answer, by extracting the text as delivery does
// (message.ExtractText) and looking in it. HEADER is matched by reading the message's header,
// of only the messages the index finds the string in (in any field) when it could answer, and
// those it cannot vouch for (store.FieldHeader).
func (ev *searchEval) matchMessage(k searchKey, m *searchMsg) (bool, error) {
	if indexed := ev.text[textKey(k)]; indexed != nil {
		_, hit := slices.BinarySearch(indexed.matched, m.ref.uid)
		if hit && k.op != "HEADER" {
			return true, nil // a HEADER hit may be in another field: read it
		}
		if _, unindexed := slices.BinarySearch(indexed.unindexed, m.ref.uid); !hit && !unindexed {
			return false, nil
		}
	}
	if m.m == nil {
		return false, nil // removed meanwhile
	}
	if m.root == nil {
		root, err := message.UnmarshalStructure(m.m.Structure)
		if err != nil {
			return false, nil
		}
		m.root = root
	}
	f, err := ev.s.server.Bodies.Open(ev.s.ctx, m.m.BlobID)
	if err != nil {
		if isNotFound(err) {
			return false, nil // expunged meanwhile
		}
		return false, err
	}
	defer f.Close()
	if k.op == "HEADER" {
		return headerContains(io.NewSectionReader(f, 0, m.root.BodyStart), k.field, k.str)
	}
	if m.text == nil {
		text, err := message.ExtractText(f, m.root)
		if err != nil {
			return false, err
		}
		m.text = &text
	}
	needle := strings.ToLower(message.NormalizeText(k.str))
	return k.op == "TEXT" && strings.Contains(strings.ToLower(m.text.Header), needle) ||
		strings.Contains(strings.ToLower(m.text.Body), needle), nil
}

func isNotFound(err error) bool { return errors.Is(err, bodystore.ErrNotFound) }

// headerContains reports whether a header has a field named name whose value, unfolded and
// decoded, holds value (case-insensitively); an empty value matches any such field.
func headerContains(r io.Reader, name, value string) (bool, error) {
	msg, err := mail.ReadMessage(io.MultiReader(r, strings.NewReader("\r\n")))
	if err != nil {
		return false, nil // a header net/mail cannot read has no field to match
	}
	needle := strings.ToLower(value)
	for _, v := range msg.Header[textproto.CanonicalMIMEHeaderKey(name)] {
		if strings.Contains(strings.ToLower(message.DecodeWords(v)), needle) {
			return true, nil
		}
	}
	return false, nil
}
