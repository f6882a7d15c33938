package imapserver

import (
	"context"
	"slices"
	"strings"
	"sync"
	"time"

	"posthorn/internal/store"
)

// DefaultMetaCacheMessages is how many messages' metadata the server keeps in memory when
// Server.MetaCacheMessages is 0: about 50 bytes each.
const DefaultMetaCacheMessages = 1_000_000

// metaCache holds, for the mailboxes sessions FETCH from, what FETCH FLAGS, UID, MODSEQ,
// INTERNALDATE and RFC822.SIZE answer: per message its flags, MODSEQ, internal date and size.
// Every session of the server shares it, so a client's "FETCH 1:* (FLAGS)", the command it
// resynchronises with, reads memory instead of the store.
//
// It is never trusted blindly. Before a FETCH reads it, the mailbox's entry is brought up to
// date with the store (refresh): one read of the mailbox's HIGHESTMODSEQ, and when that has
// moved past what the entry reflects, the metadata of the messages changed since
// (MetaChangedSince) and the UIDs expunged since (ExpungedSince). This is correct because
// MODSEQs are given in commit order (RFC 7162 §3.1.1 as the store implements it): every change
// up to the HIGHESTMODSEQ read first is in the snapshot MetaChangedSince reads next, every change
// up to the highest MODSEQ that snapshot holds is in it too, and every expunge up to that MODSEQ
// was committed before it, so ExpungedSince, read after, sees it. The entry then reflects every
// change up to the higher of the two values. Changes made by another process or another node
// are seen as well, since only the store is asked.
//
// Mailboxes are dropped least recently used first when the entries together hold more than the
// budget of messages; a mailbox larger than the whole budget is not cached, and FETCH reads the
// store for it as before.
type metaCache struct {
	store  store.MailStore
	budget int

	mu    sync.Mutex
	boxes map[int64]*boxMeta
	held  int    // messages in all boxes
	clock uint64 // for boxMeta.used
}

// boxMeta is the metadata of one mailbox's messages, ascending by UID.
type boxMeta struct {
	id   int64
	used uint64 // metaCache.clock at the last use; guarded by metaCache.mu
	size int    // len(uids) as metaCache.held counts it; guarded by metaCache.mu

	mu          sync.Mutex
	loaded      bool
	uidValidity uint32
	modseq      uint64 // every change up to this MODSEQ is reflected
	uids        []uint32
	entries     []metaEntry // entries[i] is the message with UID uids[i]
	flagSets    [][]string  // distinct flag lists, shared by the entries; each clipped
	flagIndex   map[string]uint32
}

type metaEntry struct {
	modseq uint64
	date   int64 // internal date, Unix nanoseconds
	size   int64
	flags  uint32 // index in flagSets
}

func newMetaCache(st store.MailStore, budget int) *metaCache {
	if budget <= 0 {
		budget = DefaultMetaCacheMessages
	}
	return &metaCache{store: st, budget: budget, boxes: map[int64]*boxMeta{}}
}

// current returns the mailbox's entry brought up to date with the store, or nil when the
// mailbox is not cached (it is larger than the budget); a missing mailbox is store.ErrNotFound.
func (c *metaCache) current(ctx context.Context, mailboxID int64) (*boxMeta, error) {
	c.mu.Lock()
	b := c.boxes[mailboxID]
	if b == nil {
		b = &boxMeta{id: mailboxID}
		c.boxes[mailboxID] = b
	}
	c.clock++
	b.used = c.clock
	c.mu.Unlock()

	b.mu.Lock()
	err := b.refresh(ctx, c.store)
	n := len(b.uids)
	b.mu.Unlock()
	if err != nil {
		c.drop(b)
		return nil, err
	}
	if n > c.budget {
		c.drop(b)
		return nil, nil
	}
	c.resize(b, n)
	return b, nil
}

// drop removes b from the cache, if it is still there.
func (c *metaCache) drop(b *boxMeta) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.boxes[b.id] == b {
		delete(c.boxes, b.id)
		c.held -= b.size
		b.size = 0
	}
}

// resize records that b holds n messages and, over the budget, drops the mailboxes used least
// recently, b itself last of all.
func (c *metaCache) resize(b *boxMeta, n int) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.boxes[b.id] != b {
		return // dropped meanwhile
	}
	c.held += n - b.size
	b.size = n
	for c.held > c.budget {
		var oldest *boxMeta
		for _, o := range c.boxes {
			if o != b && (oldest == nil || o.used < oldest.used) {
				oldest = o
			}
		}
		if oldest == nil {
			return
		}
		delete(c.boxes, oldest.id)
		c.held -= oldest.size
		oldest.size = 0
	}
}

// refresh brings b up to date with the store (see metaCache); b.mu is held.
func (b *boxMeta) refresh(ctx context.Context, st store.MailStore) error {
	mb, err := st.GetMailboxByID(ctx, b.id)
	if err != nil {
		return err
	}
	if b.loaded && mb.UIDValidity == b.uidValidity && mb.HighestModSeq <= b.modseq {
		return nil
	}
	if !b.loaded || mb.UIDValidity != b.uidValidity {
		msgs, err := st.MetaChangedSince(ctx, b.id, 0)
		if err != nil {
			return err
		}
		b.reset(mb.UIDValidity)
		b.modseq = mb.HighestModSeq
		b.apply(msgs)
		b.loaded = true
		return nil
	}
	changed, err := st.MetaChangedSince(ctx, b.id, b.modseq)
	if err != nil {
		return err
	}
	expunged, err := st.ExpungedSince(ctx, b.id, b.modseq)
	if err != nil {
		return err
	}
	b.modseq = max(b.modseq, mb.HighestModSeq)
	b.apply(changed)
	b.remove(expunged)
	return nil
}

func (b *boxMeta) reset(uidValidity uint32) {
	b.uidValidity = uidValidity
	b.uids, b.entries = nil, nil
	b.flagSets, b.flagIndex = nil, map[string]uint32{}
}

// apply sets the metadata of msgs (ascending by UID) and raises b.modseq to theirs.
func (b *boxMeta) apply(msgs []store.Message) {
	for _, m := range msgs {
		b.modseq = max(b.modseq, m.ModSeq)
		e := metaEntry{modseq: m.ModSeq, date: m.InternalDate.UnixNano(), size: m.Size, flags: b.flagSet(m.Flags)}
		if n := len(b.uids); n == 0 || m.UID > b.uids[n-1] {
			b.uids = append(b.uids, m.UID)
			b.entries = append(b.entries, e)
			continue
		}
		i, found := slices.BinarySearch(b.uids, m.UID)
		if found {
			b.entries[i] = e
			continue
		}
		b.uids = slices.Insert(b.uids, i, m.UID)
		b.entries = slices.Insert(b.entries, i, e)
	}
}

// remove drops the expunged UIDs (ascending), in one pass.
func (b *boxMeta) remove(expunged []uint32) {
	if len(expunged) == 0 {
		return
	}
	j, k := 0, 0
	for i, u := range b.uids {
		for k < len(expunged) && expunged[k] < u {
			k++
		}
		if k < len(expunged) && expunged[k] == u {
			continue
		}
		b.uids[j], b.entries[j] = u, b.entries[i]
		j++
	}
	b.uids, b.entries = b.uids[:j], b.entries[:j]
}

// flagSet returns the index of flags among b's distinct flag lists, adding it if new.
func (b *boxMeta) flagSet(flags []string) uint32 {
	key := strings.Join(flags, " ")
	if i, ok := b.flagIndex[key]; ok {
		return i
	}
	i := uint32(len(b.flagSets))
	b.flagSets = append(b.flagSets, slices.Clip(slices.Clone(flags)))
	b.flagIndex[key] = i
	return i
}

// messages appends to out, ascending, the metadata of the messages of uids (ascending) that b
// holds, as GetMessageMeta returns it. The flag lists are shared: a caller may replace one but
// never change it in place.
func (b *boxMeta) messages(out []store.Message, uids []uint32) []store.Message {
	b.mu.Lock()
	defer b.mu.Unlock()
	i := 0 // the first of b.uids not below the UIDs done
	for _, u := range uids {
		if i < len(b.uids) && b.uids[i] < u {
			// Mostly the next one: a short step, else a search in the rest.
			if i+1 < len(b.uids) && b.uids[i+1] >= u {
				i++
			} else {
				j, _ := slices.BinarySearch(b.uids[i:], u)
				i += j
			}
		}
		if i == len(b.uids) {
			break
		}
		if b.uids[i] != u {
			continue
		}
		e := &b.entries[i]
		out = append(out, store.Message{MailboxID: b.id, UID: u, ModSeq: e.modseq, Flags: b.flagSets[e.flags],
			InternalDate: time.Unix(0, e.date), Size: e.size})
		i++
	}
	return out
}
