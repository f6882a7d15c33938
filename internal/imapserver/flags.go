package imapserver

import (
	"bufio"
	"strings"

	"posthorn/internal/imapserver/wire"
)

// systemFlagList are the flags of RFC 9051 §2.3.2 every mailbox has, as FLAGS lists them.
const systemFlagList = `\Answered \Flagged \Deleted \Seen \Draft`

// The mailbox's flags. FLAGS lists the system flags and every keyword of the mailbox
// (store.Mailbox.Keywords, which only grows); PERMANENTFLAGS lists the same and \*, since a
// client may create keywords (RFC 9051 §7.1, §7.3.5). A session announces them at SELECT and
// again, with an untagged FLAGS and OK [PERMANENTFLAGS], before the first response that shows
// a keyword the client has not been told of: RFC 3501 §7.2.6 "The update from the FLAGS
// response MUST be recorded by the client", and clients build their tag lists from it.

// writeMailboxFlags writes "* FLAGS (...)", and for a read-write mailbox "* OK
// [PERMANENTFLAGS (...)]" when withPermanent.
func (s *session) writeMailboxFlags(sel *selected, withPermanent bool) {
	b := s.bw
	b.WriteString("* FLAGS (" + systemFlagList)
	writeKeywords(b, sel.keywords)
	b.WriteString(")\r\n")
	if withPermanent && !sel.readOnly {
		s.writePermanentFlags(sel)
	}
}

// writePermanentFlags writes "* OK [PERMANENTFLAGS (...)]" of a read-write mailbox.
func (s *session) writePermanentFlags(sel *selected) {
	b := s.bw
	b.WriteString("* OK [PERMANENTFLAGS (" + systemFlagList)
	writeKeywords(b, sel.keywords)
	b.WriteString(` \*)] flags permitted` + "\r\n")
}

func writeKeywords(b *bufio.Writer, keywords []string) {
	for _, k := range keywords {
		b.WriteByte(' ')
		b.WriteString(k)
	}
}

// learnKeywords adds the keywords of flags the session has not announced to its list and, if
// there were any, announces the new list (FLAGS, PERMANENTFLAGS).
func (s *session) learnKeywords(sel *selected, flags []string) {
	grew := false
	for _, f := range flags {
		if strings.HasPrefix(f, `\`) || hasFlag(sel.keywords, f) {
			continue
		}
		sel.keywords = append(sel.keywords, f)
		grew = true
	}
	if grew {
		s.writeMailboxFlags(sel, true)
	}
}

// \Recent (RFC 3501 §2.3.2) for IMAP4rev1 sessions. RFC 9051 dropped the flag, the RECENT
// response and the RECENT, NEW and OLD search keys; a session that enabled IMAP4rev2 never
// sees them. For the others, as in Dovecot, one session sees a new message as recent: the store
// keeps per mailbox the lowest UID not yet claimed (store.Mailbox.FirstRecentUID), and a
// session that selects the mailbox read-write, or has it selected when messages arrive, claims
// every UID up to UIDNEXT at once (store.ClaimRecent); whatever it claimed is \Recent in its
// view until it deselects. A read-only session (EXAMINE) sees the unclaimed messages as recent
// and claims nothing, so a later SELECT still does.

// uidRange is the UIDs lo up to, not including, hi.
type uidRange struct{ lo, hi uint32 }

// claimRecent claims the mailbox's unclaimed messages for the session's view: in a read-write
// IMAP4rev1 session from the store, in a read-only one by noting the unclaimed UIDs
// (firstRecent up to uidNext, of the mailbox row the caller read).
func (s *session) claimRecent(sel *selected, firstRecent, uidNext uint32) error {
	if s.rev2 {
		return nil
	}
	lo, hi := firstRecent, uidNext
	if !sel.readOnly {
		var err error
		if lo, hi, err = s.server.Store.ClaimRecent(s.ctx, sel.id); err != nil {
			return err
		}
	}
	if lo >= hi {
		return nil
	}
	if n := len(sel.recent); n > 0 && sel.recent[n-1].hi >= lo {
		sel.recent[n-1].hi = max(sel.recent[n-1].hi, hi)
		return nil
	}
	sel.recent = append(sel.recent, uidRange{lo, hi})
	return nil
}

// isRecent reports whether a message of the view is \Recent in this session.
func (sel *selected) isRecent(uid uint32) bool {
	for _, r := range sel.recent {
		if uid >= r.lo && uid < r.hi {
			return true
		}
	}
	return false
}

// recentCount is the number of messages of the view that are \Recent (the RECENT response).
func (sel *selected) recentCount() uint32 {
	var n uint32
	for _, r := range sel.recent {
		sel.uids.eachUIDIn(r.lo, r.hi-1, func(_, _ uint32) { n++ })
	}
	return n
}

// writeMessageFlags writes a message's flags as a parenthesised list, with \Recent first when
// it is recent in this session.
func writeMessageFlags(b *bufio.Writer, sel *selected, uid uint32, flags []string) {
	if sel == nil || len(sel.recent) == 0 || !sel.isRecent(uid) {
		wire.WriteFlags(b, flags)
		return
	}
	b.WriteString(`(\Recent`)
	for _, f := range flags {
		b.WriteByte(' ')
		b.WriteString(f)
	}
	b.WriteByte(')')
}
