package imapserver

import (
	"bytes"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	"mime/quotedprintable"
	"net/mail"
	"net/textproto"
	"slices"
	"strings"
	"time"

	"golang.org/x/text/encoding/htmlindex"

	"posthorn/internal/blob"
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
	key = orderByCost(key)
	candidates, err := s.resolve(numSet{ranges: []numRange{{1, 0}}}, false, true)
	if err != nil {
		return nil, 0, err
	}
	ev := &searchEval{s: s, sel: sel}
	var matches []msgRef
	var highest uint64
	if keyCost(key) == costNumber {
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

// keyCost is the most expensive thing evaluating k needs.
func keyCost(k searchKey) int {
	switch k.op {
	case "SEQ", "UID", "ALL", "NEW", "RECENT", "OLD":
		return costNumber
	case "FROM", "TO", "CC", "BCC", "SUBJECT", "SENTBEFORE", "SENTON", "SENTSINCE":
		return costEnvelope
	case "HEADER", "BODY", "TEXT":
		return costBody
	case "AND", "OR", "NOT":
		c := costNumber
		for _, sub := range k.sub {
			c = max(c, keyCost(sub))
		}
		return c
	}
	return costMeta
}

// orderByCost sorts the keys of every AND so that cheap ones decide first.
func orderByCost(k searchKey) searchKey {
	if len(k.sub) == 0 {
		return k
	}
	sub := make([]searchKey, len(k.sub))
	for i, c := range k.sub {
		sub[i] = orderByCost(c)
	}
	if k.op == "AND" {
		slices.SortStableFunc(sub, func(a, b searchKey) int { return keyCost(a) - keyCost(b) })
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
}

// searchEval evaluates keys; the first error reading a message stops the search.
type searchEval struct {
	s   *session
	sel *selected
	err error
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
	case "ALL", "OLD":
		return true
	case "NEW", "RECENT":
		return false // no message is \Recent (RFC 9051 dropped it)
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

var wordDecoder = &mime.WordDecoder{CharsetReader: charsetReader}

// decodeWords decodes the RFC 2047 encoded words of a header value, leaving it as it is when
// it cannot.
func decodeWords(s string) string {
	if !strings.Contains(s, "=?") {
		return s
	}
	if d, err := wordDecoder.DecodeHeader(s); err == nil {
		return d
	}
	return s
}

// matchEnvelope matches FROM, TO, CC, BCC and SUBJECT on the stored envelope, decoded, as a
// case-insensitive substring (RFC 9051 §6.4.4).
func (ev *searchEval) matchEnvelope(k searchKey, m *searchMsg) bool {
	env := ev.envelope(m)
	needle := strings.ToLower(k.str)
	if k.op == "SUBJECT" {
		return strings.Contains(strings.ToLower(decodeWords(env.Subject)), needle)
	}
	list := map[string][]message.Address{"FROM": env.From, "TO": env.To, "CC": env.Cc, "BCC": env.Bcc}[k.op]
	for _, a := range list {
		text := decodeWords(a.Name) + " <" + a.Mailbox + "@" + a.Host + ">"
		if strings.Contains(strings.ToLower(text), needle) {
			return true
		}
	}
	return false
}

// matchMessage matches HEADER, BODY and TEXT by reading the message.
func (ev *searchEval) matchMessage(k searchKey, m *searchMsg) (bool, error) {
	if m.root == nil {
		root, err := message.UnmarshalStructure(m.m.Structure)
		if err != nil {
			return false, nil
		}
		m.root = root
	}
	f, err := ev.s.server.Blobs.Open(m.m.BlobID)
	if err != nil {
		if isNotFound(err) {
			return false, nil // expunged meanwhile
		}
		return false, err
	}
	defer f.Close()
	switch k.op {
	case "HEADER":
		return headerContains(io.NewSectionReader(f, 0, m.root.BodyStart), k.field, k.str)
	case "TEXT":
		if ok, err := containsFold(io.NewSectionReader(f, 0, m.root.BodyStart), k.str); ok || err != nil {
			return ok, err
		}
	}
	return bodyContains(ev.s.ctx, f, m.root, k.str)
}

func isNotFound(err error) bool { return errors.Is(err, blob.ErrNotFound) }

// headerContains reports whether a header has a field named name whose value, unfolded and
// decoded, holds value (case-insensitively); an empty value matches any such field.
func headerContains(r io.Reader, name, value string) (bool, error) {
	msg, err := mail.ReadMessage(io.MultiReader(r, strings.NewReader("\r\n")))
	if err != nil {
		return false, nil // a header net/mail cannot read has no field to match
	}
	needle := strings.ToLower(value)
	for _, v := range msg.Header[textproto.CanonicalMIMEHeaderKey(name)] {
		if strings.Contains(strings.ToLower(decodeWords(v)), needle) {
			return true, nil
		}
	}
	return false, nil
}

// containsFold reports whether what r yields holds needle, case-insensitively, reading it in
// chunks (bounded memory whatever the size).
func containsFold(r io.Reader, needle string) (bool, error) {
	n := []byte(strings.ToLower(needle))
	if len(n) == 0 {
		return true, nil
	}
	buf := make([]byte, 0, 32<<10+len(n))
	chunk := make([]byte, 32<<10)
	for {
		k, err := r.Read(chunk)
		buf = append(buf, chunk[:k]...)
		if bytes.Contains(bytes.ToLower(buf), n) {
			return true, nil
		}
		// Keep a tail that may begin a match, a few octets more for split UTF-8 sequences.
		if keep := len(n) + 4; len(buf) > keep {
			buf = append(buf[:0], buf[len(buf)-keep:]...)
		}
		if err == io.EOF {
			return false, nil
		}
		if err != nil {
			return false, err
		}
	}
}

// bodyContains searches the text of the message's parts: each text or message leaf with its
// Content-Transfer-Encoding and charset decoded.
func bodyContains(ctx context.Context, f io.ReaderAt, root *message.Part, needle string) (bool, error) {
	var found bool
	var ferr error
	var walk func(p *message.Part)
	walk = func(p *message.Part) {
		if found || ferr != nil || ctx.Err() != nil {
			return
		}
		switch {
		case p.IsMultipart():
			for _, c := range p.Parts {
				walk(c)
			}
		case p.IsMessage():
			if ok, err := containsFold(io.NewSectionReader(f, p.Message.HeaderStart, p.Message.BodyStart-p.Message.HeaderStart), needle); ok || err != nil {
				found, ferr = ok, err
				return
			}
			walk(p.Message)
		case p.Type == "text" || p.Type == "message" || p.Type == "":
			r := decodedText(io.NewSectionReader(f, p.BodyStart, p.Size()), p)
			found, ferr = containsFold(r, needle)
		}
	}
	walk(root)
	return found, ferr
}

// decodedText returns the text of a part with its Content-Transfer-Encoding and charset
// decoded to UTF-8. Decoding is lenient: malformed input ends the text rather than the search.
func decodedText(r io.Reader, p *message.Part) io.Reader {
	switch p.Encoding {
	case "base64":
		r = base64.NewDecoder(base64.StdEncoding, r)
	case "quoted-printable":
		r = quotedprintable.NewReader(r)
	}
	for _, param := range p.Params {
		if param.Name == "charset" {
			if cr, err := charsetReader(param.Value, r); err == nil {
				r = cr
			}
		}
	}
	return lenientReader{r}
}

// charsetReader decodes text in the named charset to UTF-8 (WHATWG labels, which cover what
// mail uses: ISO-8859-*, Windows-125*, KOI8, Shift_JIS, GB18030, ...).
func charsetReader(charset string, r io.Reader) (io.Reader, error) {
	switch strings.ToLower(charset) {
	case "", "utf-8", "us-ascii", "utf8", "ascii":
		return r, nil
	}
	enc, err := htmlindex.Get(charset)
	if err != nil {
		return nil, err
	}
	return enc.NewDecoder().Reader(r), nil
}

// lenientReader ends the text at the first error.
type lenientReader struct{ r io.Reader }

func (l lenientReader) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if err != nil && err != io.EOF {
		err = io.EOF
	}
	return n, err
}
