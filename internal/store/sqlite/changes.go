package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"slices"

	"posthorn/internal/store"
)

// MODSEQs (RFC 7162 §3.1.1): a mailbox's highestmodseq grows by one per command that changes
// it, and every message the command changes takes the new value; Deliver alone gives each
// message its own. So a session that has seen HIGHESTMODSEQ n has seen every change up to n.

// msgRef is what the write paths read of a message.
type msgRef struct {
	id     int64
	uid    uint32
	modseq int64
	flags  string
	blobID string
}

// messageRefs reads, in UID order, the messages of a mailbox with the given sorted, distinct
// UIDs, or, when all is set, every message matching the SQL condition filter ("" for none).
func messageRefs(ctx context.Context, tx *sql.Tx, mailboxID int64, uids []uint32, all bool, filter string) ([]msgRef, error) {
	var out []msgRef
	read := func(cond string, args []any) error {
		if filter != "" {
			cond += " AND " + filter
		}
		rows, err := tx.QueryContext(ctx, `SELECT id, uid, modseq, flags, blob_id FROM messages
			WHERE mailbox_id = ? AND `+cond+` ORDER BY uid`, append([]any{mailboxID}, args...)...)
		if err != nil {
			return err
		}
		return scanRows(rows, func(r scanner) error {
			var m msgRef
			err := r.Scan(&m.id, &m.uid, &m.modseq, &m.flags, &m.blobID)
			out = append(out, m)
			return err
		})
	}
	if all {
		return out, read("1", nil)
	}
	return out, forUIDChunks(uids, read)
}

// loadCounters reads the counters of a mailbox in a write transaction; store.ErrNotFound if
// it does not exist.
func loadCounters(ctx context.Context, tx *sql.Tx, mailboxID int64) (*counters, error) {
	c := &counters{id: mailboxID}
	var keywords string
	err := tx.QueryRowContext(ctx, `SELECT account_id, uidnext, highestmodseq, keywords FROM mailboxes WHERE id = ?`,
		mailboxID).Scan(&c.accountID, &c.uidNext, &c.highestModSeq, &keywords)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("mailbox %d: %w", mailboxID, store.ErrNotFound)
	}
	c.keywords = splitFlags(keywords)
	return c, err
}

// save writes the counters back, and the keywords when they grew.
func (s *Store) save(ctx context.Context, tx *sql.Tx, c *counters) error {
	if _, err := tx.StmtContext(ctx, s.stmts.updateMailbox).ExecContext(ctx, c.uidNext, c.highestModSeq, c.id); err != nil {
		return err
	}
	if !c.newKeywords {
		return nil
	}
	_, err := tx.StmtContext(ctx, s.stmts.setKeywords).ExecContext(ctx, joinFlags(c.keywords), c.id)
	c.newKeywords = false
	return err
}

// UpdateFlags changes the flags of messages (RFC 9051 §6.4.6, RFC 7162 §3.1.3) in one
// transaction, then publishes store.ChangeFlags if any changed. Every message changed takes the
// same new MODSEQ. updated and failed are in UID order.
func (s *Store) UpdateFlags(ctx context.Context, mailboxID int64, uids []uint32, op store.FlagOp, flags []string,
	unchangedSince uint64) (updated []store.FlagUpdate, failed []uint32, err error) {
	given, err := normalizeFlags(flags)
	if err == nil && (op < store.FlagsReplace || op > store.FlagsRemove) {
		err = fmt.Errorf("unknown flag operation %d", op)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("update flags in mailbox %d: %w", mailboxID, err)
	}
	uids = sortedUIDs(uids)
	err = s.inTxPublish(ctx, func(tx *sql.Tx, publish func(store.Change)) error {
		mb, err := loadCounters(ctx, tx, mailboxID)
		if err != nil {
			return err
		}
		msgs, err := messageRefs(ctx, tx, mailboxID, uids, false, "")
		if err != nil {
			return err
		}
		modseq := mb.highestModSeq + 1
		setFlags := tx.StmtContext(ctx, s.stmts.setFlags)
		for _, m := range msgs {
			if unchangedSince != 0 && uint64(m.modseq) > unchangedSince {
				failed = append(failed, m.uid)
				continue
			}
			next, changed := applyFlags(splitFlags(m.flags), op, given)
			if !changed {
				continue
			}
			if _, err := setFlags.ExecContext(ctx, joinFlags(next), modseq, m.id); err != nil {
				return fmt.Errorf("uid %d: %w", m.uid, err)
			}
			updated = append(updated, store.FlagUpdate{UID: m.uid, ModSeq: uint64(modseq), Flags: next})
			mb.addKeywords(next)
		}
		if len(updated) == 0 {
			return nil
		}
		mb.highestModSeq = modseq
		if err := s.save(ctx, tx, mb); err != nil {
			return err
		}
		publish(store.Change{AccountID: mb.accountID, MailboxID: mb.id, Kind: store.ChangeFlags, ModSeq: uint64(modseq)})
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("update flags in mailbox %d: %w", mailboxID, err)
	}
	return updated, failed, nil
}

// deletedFilter narrows a mailbox's messages to those that may carry \Deleted; LIKE ignores
// ASCII case, and hasFlag decides.
const deletedFilter = `flags LIKE '%\Deleted%'`

// Expunge removes the messages with the given UIDs, or all when uids is nil, that carry
// \Deleted (RFC 9051 §6.4.3, RFC 4315 UID EXPUNGE), records each with one new MODSEQ in the
// expunged table, and publishes store.ChangeExpunge. It returns the removed UIDs ascending and,
// sorted, the blobs left without reference.
func (s *Store) Expunge(ctx context.Context, mailboxID int64, uids []uint32) (expunged []uint32, unreferenced []string, err error) {
	expunged, unreferenced, err = s.expunge(ctx, mailboxID, uids, true)
	if err != nil {
		return nil, nil, fmt.Errorf("expunge in mailbox %d: %w", mailboxID, err)
	}
	return expunged, unreferenced, nil
}

// RemoveMessages implements store.MailStore: Expunge without the \Deleted condition.
func (s *Store) RemoveMessages(ctx context.Context, mailboxID int64, uids []uint32) (removed []uint32, unreferenced []string, err error) {
	if len(uids) == 0 {
		return nil, nil, nil
	}
	removed, unreferenced, err = s.expunge(ctx, mailboxID, uids, false)
	if err != nil {
		return nil, nil, fmt.Errorf("remove messages in mailbox %d: %w", mailboxID, err)
	}
	return removed, unreferenced, nil
}

// expunge removes the messages of uids (nil: all), only those with \Deleted when
// onlyDeleted, in one transaction.
func (s *Store) expunge(ctx context.Context, mailboxID int64, uids []uint32, onlyDeleted bool) (expunged []uint32, unreferenced []string, err error) {
	all := uids == nil
	uids = sortedUIDs(uids)
	filter := ""
	if onlyDeleted {
		filter = deletedFilter
	}
	err = s.inTxPublish(ctx, func(tx *sql.Tx, publish func(store.Change)) error {
		mb, err := loadCounters(ctx, tx, mailboxID)
		if err != nil {
			return err
		}
		msgs, err := messageRefs(ctx, tx, mailboxID, uids, all, filter)
		if err != nil {
			return err
		}
		if onlyDeleted {
			msgs = slices.DeleteFunc(msgs, func(m msgRef) bool { return !hasFlag(splitFlags(m.flags), `\Deleted`) })
		}
		if len(msgs) == 0 {
			return nil
		}
		mb.highestModSeq++
		del, record := tx.StmtContext(ctx, s.stmts.deleteMessage), tx.StmtContext(ctx, s.stmts.addExpunged)
		for _, m := range msgs {
			if _, err := del.ExecContext(ctx, m.id); err != nil {
				return fmt.Errorf("uid %d: %w", m.uid, err)
			}
			if _, err := record.ExecContext(ctx, mb.id, m.uid, mb.highestModSeq); err != nil {
				return fmt.Errorf("uid %d: %w", m.uid, err)
			}
			expunged = append(expunged, m.uid)
		}
		if unreferenced, err = dropBlobRefs(ctx, tx, countBlobRefs(msgs)); err != nil {
			return err
		}
		if err := s.save(ctx, tx, mb); err != nil {
			return err
		}
		publish(store.Change{AccountID: mb.accountID, MailboxID: mb.id, Kind: store.ChangeExpunge,
			ModSeq: uint64(mb.highestModSeq)})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return expunged, unreferenced, nil
}

// countBlobRefs counts the messages per blob, in the order the blobs first appear.
func countBlobRefs(msgs []msgRef) []blobRef {
	var refs []blobRef
	index := map[string]int{}
	for _, m := range msgs {
		i, ok := index[m.blobID]
		if !ok {
			i = len(refs)
			index[m.blobID] = i
			refs = append(refs, blobRef{id: m.blobID})
		}
		refs[i].n++
	}
	return refs
}

// Copy copies messages to another mailbox of the same account (RFC 9051 §6.4.7) and publishes
// store.ChangeNew. The copies take new UIDs in the order of the source UIDs, one new MODSEQ,
// and the flags, internal date and blob of their originals. UIDs without a message are left
// out of the result; a destination of another account is store.ErrNotFound.
func (s *Store) Copy(ctx context.Context, srcMailboxID int64, uids []uint32, dstMailboxID int64) ([]store.UIDPair, error) {
	return s.copyOrMove(ctx, srcMailboxID, uids, dstMailboxID, false)
}

// Move is Copy that also removes the originals (RFC 6851), in the same transaction: the message
// rows change mailbox, so a message keeps its id and its blob reference. The source records
// the UIDs as expunged with a new MODSEQ and gets store.ChangeExpunge.
func (s *Store) Move(ctx context.Context, srcMailboxID int64, uids []uint32, dstMailboxID int64) ([]store.UIDPair, error) {
	return s.copyOrMove(ctx, srcMailboxID, uids, dstMailboxID, true)
}

func (s *Store) copyOrMove(ctx context.Context, srcID int64, uids []uint32, dstID int64, move bool) ([]store.UIDPair, error) {
	what := "copy"
	if move {
		what = "move"
	}
	if uids == nil {
		uids = []uint32{} // nil would mean every message to transfer
	}
	var pairs []store.UIDPair
	err := s.inTxPublish(ctx, func(tx *sql.Tx, publish func(store.Change)) error {
		var err error
		pairs, err = s.transfer(ctx, tx, srcID, sortedUIDs(uids), dstID, move, publish)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s from mailbox %d to %d: %w", what, srcID, dstID, err)
	}
	return pairs, nil
}

// transfer copies or moves the messages with the given sorted, distinct UIDs, or all of them
// when uids is nil, from one mailbox to another of the same account.
func (s *Store) transfer(ctx context.Context, tx *sql.Tx, srcID int64, uids []uint32, dstID int64, move bool,
	publish func(store.Change)) ([]store.UIDPair, error) {
	src, err := loadCounters(ctx, tx, srcID)
	if err != nil {
		return nil, err
	}
	dst := src
	if dstID != srcID {
		if dst, err = loadCounters(ctx, tx, dstID); err != nil {
			return nil, err
		}
	}
	if dst.accountID != src.accountID {
		return nil, fmt.Errorf("mailbox %d is not of the account of mailbox %d: %w", dstID, srcID, store.ErrNotFound)
	}
	msgs, err := messageRefs(ctx, tx, srcID, uids, uids == nil, "")
	if err != nil || len(msgs) == 0 {
		return nil, err
	}
	// RFC 9051 §2.3.1.1: UIDs are 32-bit, and so must the UIDNEXT after them be.
	if dst.uidNext+int64(len(msgs)) > math.MaxUint32 {
		return nil, fmt.Errorf("mailbox %d has no room for %d more UIDs", dstID, len(msgs))
	}

	stmt := s.stmts.copyMessage
	if move {
		stmt = s.stmts.moveMessage
	}
	put := tx.StmtContext(ctx, stmt)
	dst.highestModSeq++
	if dst != src {
		for _, m := range msgs {
			dst.addKeywords(splitFlags(m.flags))
		}
	}
	pairs := make([]store.UIDPair, len(msgs))
	for i, m := range msgs {
		uid := uint32(dst.uidNext)
		dst.uidNext++
		if _, err := put.ExecContext(ctx, dst.id, uid, dst.highestModSeq, m.id); err != nil {
			return nil, fmt.Errorf("uid %d: %w", m.uid, err)
		}
		pairs[i] = store.UIDPair{Src: m.uid, Dst: uid}
	}
	if move {
		if err := s.recordMovedOut(ctx, tx, src, dst, msgs); err != nil {
			return nil, err
		}
	} else if err := s.addBlobRefs(ctx, tx, countBlobRefs(msgs)); err != nil {
		return nil, err
	}
	if err := s.save(ctx, tx, dst); err != nil {
		return nil, err
	}
	publish(store.Change{AccountID: dst.accountID, MailboxID: dst.id, Kind: store.ChangeNew, ModSeq: uint64(dst.highestModSeq)})
	if move {
		publish(store.Change{AccountID: src.accountID, MailboxID: src.id, Kind: store.ChangeExpunge,
			ModSeq: uint64(src.highestModSeq)})
	}
	return pairs, nil
}

// recordMovedOut records the source UIDs of moved messages as expunged, with a new MODSEQ of
// the source mailbox (the one just taken when a message moves within its own mailbox), and
// saves the source's counters.
func (s *Store) recordMovedOut(ctx context.Context, tx *sql.Tx, src, dst *counters, msgs []msgRef) error {
	if src != dst {
		src.highestModSeq++
	}
	record := tx.StmtContext(ctx, s.stmts.addExpunged)
	for _, m := range msgs {
		if _, err := record.ExecContext(ctx, src.id, m.uid, src.highestModSeq); err != nil {
			return fmt.Errorf("uid %d: %w", m.uid, err)
		}
	}
	if src == dst {
		return nil // saved with the destination
	}
	return s.save(ctx, tx, src)
}

// addBlobRefs adds references to blobs that have rows already.
func (s *Store) addBlobRefs(ctx context.Context, tx *sql.Tx, refs []blobRef) error {
	add := tx.StmtContext(ctx, s.stmts.addBlobRefs)
	for _, r := range refs {
		if _, err := add.ExecContext(ctx, r.n, r.id); err != nil {
			return fmt.Errorf("blob %s: %w", r.id, err)
		}
	}
	return nil
}
