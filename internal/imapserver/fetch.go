package imapserver

import (
	"bufio"
	"errors"
	"fmt"
	"slices"
	"strconv"

	"posthorn/internal/bodystore"
	"posthorn/internal/imapserver/wire"
	"posthorn/internal/message"
	"posthorn/internal/store"
)

// fetchChunk is how many messages FETCH loads from the store at a time; fewer when it sends
// message text, which costs more per message than the metadata.
const (
	fetchChunk     = 1000
	fetchBodyChunk = 100
)

// cmdFetch: FETCH and UID FETCH (RFC 9051 §6.4.5, §6.4.9) with CHANGEDSINCE (CONDSTORE, RFC
// 7162 §3.1.4.1). FLAGS, UID, INTERNALDATE, RFC822.SIZE and MODSEQ come from the message row,
// ENVELOPE and BODYSTRUCTURE from the parse results stored at delivery; only BODY[...],
// BINARY[...] and RFC822* read the message, and only the octets they need (package wire).
// Fetching text without .PEEK sets \Seen, and the response then carries the new FLAGS.
func (s *session) cmdFetch(c *command) error {
	a := c.args.(*fetchArgs)
	sel := s.sel
	if a.vanished && (!s.qresync || !c.uid || !a.hasChanged) {
		return badf("VANISHED needs QRESYNC, UID FETCH and CHANGEDSINCE") // RFC 7162 §3.2.6
	}
	refs, err := s.resolve(a.set, c.uid, false)
	if err != nil {
		return err
	}
	if a.vanished {
		if err := s.writeVanishedEarlier(a.set, a.changedSince); err != nil {
			return err
		}
	}
	items := uniqueItems(a.items)
	has := func(k fetchKind) bool {
		return slices.ContainsFunc(items, func(it fetchItem) bool { return it.kind == k })
	}
	if c.uid && !has(fetchUID) {
		items = append([]fetchItem{{kind: fetchUID}}, items...) // RFC 9051 §6.4.9
	}
	if a.hasChanged && !has(fetchModSeq) {
		items = append(items, fetchItem{kind: fetchModSeq}) // RFC 7162 §3.1.4.1
	}
	if a.hasChanged || has(fetchModSeq) {
		s.enableCondstore()
	}
	f := &fetcher{s: s, sel: sel, items: items, changedSince: a.changedSince}
	for _, it := range items {
		switch it.kind {
		case fetchSection, fetchBinary, fetchBinarySize, fetchRFC822, fetchRFC822Header, fetchRFC822Text:
			f.needBlob = true
			f.needStructure = true
			if !it.peek && it.kind != fetchRFC822Header && it.kind != fetchBinarySize {
				f.setSeen = !sel.readOnly
			}
		case fetchBody, fetchBodyStructure:
			f.needStructure = true
		case fetchFlags:
			f.hasFlags = true
		}
	}
	f.metaOnly = !slices.ContainsFunc(items, func(it fetchItem) bool {
		switch it.kind {
		case fetchFlags, fetchUID, fetchInternalDate, fetchSize, fetchModSeq:
			return false
		}
		return true
	})
	if len(items) == 1 && items[0].kind == fetchUID {
		for _, r := range refs {
			s.untagged("%d FETCH (UID %d)", r.seq, r.uid)
		}
		return nil
	}
	if f.metaOnly {
		// On an error the store is read, and answers for itself.
		f.meta, _ = s.server.meta.current(s.ctx, sel.id)
	}
	chunk := fetchChunk
	if f.needBlob {
		chunk = fetchBodyChunk
	}
	fetchAll := func() error {
		for len(refs) > 0 {
			n := min(chunk, len(refs))
			if err := f.fetchChunk(refs[:n]); err != nil {
				return err
			}
			refs = refs[n:]
		}
		return nil
	}
	if f.needBlob && len(refs) > 1 {
		err = s.withLargeWriteBuffer(fetchAll)
	} else {
		err = fetchAll()
	}
	if err != nil {
		return err
	}
	if f.missing {
		return no("EXPUNGEISSUED", "some of the requested messages no longer exist") // RFC 5530
	}
	return nil
}

// uniqueItems returns the items with each response item once, in the order first asked
// for: a client may name an item twice ("UID UID", "BODY[TEXT] BODY.PEEK[TEXT]"), and RFC
// 9051 §7.5.2 has a FETCH response carry each data item once. Of two items with the same
// response name the first is kept, except that one that sets \Seen makes the kept one set it
// too.
func uniqueItems(items []fetchItem) []fetchItem {
	out := make([]fetchItem, 0, len(items))
	for _, it := range items {
		i := slices.IndexFunc(out, func(o fetchItem) bool { return sameResponseItem(o, it) })
		if i < 0 {
			out = append(out, it)
			continue
		}
		out[i].peek = out[i].peek && it.peek
	}
	return out
}

// sameResponseItem reports whether two items are answered by the same response item: the
// same name, section and partial origin.
func sameResponseItem(a, b fetchItem) bool {
	if a.kind != b.kind {
		return false
	}
	switch a.kind {
	case fetchSection, fetchBinary, fetchBinarySize:
		return a.section.String() == b.section.String() && a.partial == b.partial && a.offset == b.offset
	}
	return true
}

// fetcher writes the FETCH responses of one command.
type fetcher struct {
	s             *session
	sel           *selected
	items         []fetchItem
	changedSince  uint64
	needBlob      bool
	needStructure bool
	hasFlags      bool     // FLAGS is one of the items
	metaOnly      bool     // every item comes from the message's metadata (store.GetMessageMeta)
	meta          *boxMeta // with metaOnly: the mailbox's metadata, current (metacache.go); nil: read the store
	setSeen       bool
	missing       bool // a message of the view is gone from the store
}

func (f *fetcher) fetchChunk(refs []msgRef) error {
	s := f.s
	var msgs []store.Message
	if f.meta != nil {
		msgs = f.meta.messages(make([]store.Message, 0, len(refs)), uidsOf(refs))
	} else {
		get := s.server.Store.GetMessages
		if f.metaOnly {
			get = s.server.Store.GetMessageMeta
		}
		var err error
		if msgs, err = get(s.ctx, f.sel.id, uidsOf(refs)); err != nil {
			return err
		}
	}
	seen := map[uint32]bool{} // messages whose \Seen this FETCH set
	if f.setSeen {
		var unseen []uint32
		for _, m := range msgs {
			if !hasFlag(m.Flags, `\Seen`) && (f.changedSince == 0 || m.ModSeq > f.changedSince) {
				unseen = append(unseen, m.UID)
			}
		}
		if len(unseen) > 0 {
			updated, _, err := s.server.Store.UpdateFlags(s.ctx, f.sel.id, unseen, store.FlagsAdd, []string{`\Seen`}, 0)
			if err != nil {
				return err
			}
			byUID := map[uint32]store.FlagUpdate{}
			for _, u := range updated {
				byUID[u.UID] = u
				f.sel.own[u.UID] = u.ModSeq
				seen[u.UID] = true
			}
			for i := range msgs {
				if u, ok := byUID[msgs[i].UID]; ok {
					msgs[i].Flags, msgs[i].ModSeq = u.Flags, u.ModSeq
				}
			}
		}
	}
	i := 0
	for _, r := range refs {
		for i < len(msgs) && msgs[i].UID < r.uid {
			i++
		}
		if i == len(msgs) || msgs[i].UID != r.uid {
			f.missing = true
			continue
		}
		m := &msgs[i]
		if f.changedSince > 0 && m.ModSeq <= f.changedSince {
			continue
		}
		if err := f.writeMessage(r.seq, m, seen[m.UID]); err != nil {
			return err
		}
	}
	return nil
}

// writeMessage writes "* seq FETCH (...)" for one message.
func (f *fetcher) writeMessage(seq uint32, m *store.Message, flagsChanged bool) error {
	s := f.s
	var root *message.Part
	if f.needStructure {
		var err error
		if root, err = message.UnmarshalStructure(m.Structure); err != nil {
			s.logger.Error("stored structure unreadable", "uid", m.UID, "err", err)
			f.missing = true
			return nil
		}
	}
	var body bodystore.Body
	if f.needBlob {
		var err error
		if body, err = s.server.Bodies.Open(s.ctx, m.BlobID); err != nil {
			if isNotFound(err) {
				f.missing = true // expunged since the rows were read
				return nil
			}
			return err
		}
		defer body.Close()
		if err := f.checkBinary(root); err != nil {
			return err
		}
	}
	if f.hasFlags || flagsChanged {
		s.learnKeywords(f.sel, m.Flags) // a keyword set by another session since the last sync
	}
	b := s.bw
	b.WriteString("* ")
	b.WriteString(strconv.FormatUint(uint64(seq), 10))
	b.WriteString(" FETCH (")
	wroteFlags := false
	for i, it := range f.items {
		if i > 0 {
			b.WriteByte(' ')
		}
		if it.kind == fetchFlags {
			wroteFlags = true
		}
		if err := f.writeItem(b, it, m, root, body); err != nil {
			return err
		}
	}
	if flagsChanged && !wroteFlags {
		b.WriteString(" FLAGS ")
		writeMessageFlags(b, f.sel, m.UID, m.Flags)
	}
	b.WriteString(")\r\n")
	return nil
}

// checkBinary refuses BINARY of a part whose encoding cannot be removed, before anything of
// the message's response is written (RFC 3516 §4.3: NO [UNKNOWN-CTE]).
func (f *fetcher) checkBinary(root *message.Part) error {
	for _, it := range f.items {
		if (it.kind != fetchBinary && it.kind != fetchBinarySize) || len(it.section.Part) == 0 {
			continue
		}
		if p, ok := root.Find(it.section.Part); ok && !p.IsMultipart() {
			switch p.Encoding {
			case "", "7bit", "8bit", "binary", "base64", "quoted-printable":
			default:
				return no("UNKNOWN-CTE", "cannot decode the part's content-transfer-encoding")
			}
		}
	}
	return nil
}

// writeItem writes one data item: its name and value.
func (f *fetcher) writeItem(b *bufio.Writer, it fetchItem, m *store.Message, root *message.Part, body bodystore.Body) error {
	utf8 := f.s.utf8()
	switch it.kind {
	case fetchFlags:
		b.WriteString("FLAGS ")
		writeMessageFlags(b, f.sel, m.UID, m.Flags)
	case fetchUID:
		b.WriteString("UID " + strconv.FormatUint(uint64(m.UID), 10))
	case fetchInternalDate:
		b.WriteString(m.InternalDate.Format(`INTERNALDATE "02-Jan-2006 15:04:05 -0700"`))
	case fetchSize:
		b.WriteString("RFC822.SIZE " + strconv.FormatInt(m.Size, 10))
	case fetchModSeq:
		b.WriteString("MODSEQ (" + strconv.FormatUint(m.ModSeq, 10) + ")")
	case fetchEnvelope:
		env, err := message.UnmarshalEnvelope(m.Envelope)
		if err != nil {
			f.s.logger.Error("stored envelope unreadable", "uid", m.UID, "err", err)
			env = nil
		}
		b.WriteString("ENVELOPE ")
		wire.WriteEnvelope(b, env, utf8)
	case fetchBody, fetchBodyStructure:
		if it.kind == fetchBody {
			b.WriteString("BODY ")
		} else {
			b.WriteString("BODYSTRUCTURE ")
		}
		wire.WriteBodyStructure(b, root, it.kind == fetchBodyStructure, utf8)
	case fetchSection, fetchRFC822, fetchRFC822Header, fetchRFC822Text:
		sec, name := it.section, ""
		switch it.kind {
		case fetchRFC822:
			name = "RFC822 "
		case fetchRFC822Header:
			sec, name = wire.Section{Kind: wire.SectionHeader}, "RFC822.HEADER "
		case fetchRFC822Text:
			sec, name = wire.Section{Kind: wire.SectionText}, "RFC822.TEXT "
		default:
			name = "BODY[" + sec.String() + "]" + partialOrigin(it) + " "
		}
		b.WriteString(name)
		return f.bodyError(wire.WriteSection(b, body, root, sec, partialOf(it)))
	case fetchBinary:
		b.WriteString("BINARY[" + it.section.String() + "]" + partialOrigin(it) + " ")
		return f.bodyError(wire.WriteBinary(b, body, root, it.section, partialOf(it)))
	case fetchBinarySize:
		n, err := wire.BinarySize(body, root, it.section)
		if err != nil {
			return f.bodyError(err)
		}
		b.WriteString("BINARY.SIZE[" + it.section.String() + "] " + strconv.FormatInt(n, 10))
	default:
		return fmt.Errorf("fetch item %d not written", it.kind)
	}
	return nil
}

// bodyError turns a failure to read a message in the middle of its response into the end of
// the connection: the response cannot be completed (wire.WriteSection).
func (f *fetcher) bodyError(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, wire.ErrUnknownCTE) {
		return no("UNKNOWN-CTE", "cannot decode the part's content-transfer-encoding")
	}
	f.s.logger.Error("read message body", "err", err)
	return &connError{err}
}

func partialOf(it fetchItem) *wire.Partial {
	if !it.partial {
		return nil
	}
	return &wire.Partial{Offset: it.offset, Length: it.count}
}

// partialOrigin is the "<origin>" a response gives after a partial item's name (RFC 9051
// §7.5.2).
func partialOrigin(it fetchItem) string {
	if !it.partial {
		return ""
	}
	return "<" + strconv.FormatInt(it.offset, 10) + ">"
}
