package postgres

import (
	"context"
	"fmt"
	"math"
	"slices"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/store"
)

// MODSEQs (RFC 7162 §3.1.1): a mailbox's highestmodseq grows by one per command that changes
// it, and every message the command changes takes the new value; Deliver alone gives each
// message its own. Every command here locks its mailboxes first (lockMailboxes), so the rows
// of their messages cannot change under it.

// msgRef is what the write paths read of a message.
type msgRef struct {
	id     int64
	uid    uint32
	modseq int64
	flags  string
	blobID string
}

// messageRefs reads, in UID order, the messages of a mailbox with the given sorted, distinct
// UIDs, or every message when all is set; only those that may carry \Deleted when deleted is
// set (the caller decides with store.HasFlag).
func messageRefs(ctx context.Context, tx pgx.Tx, mailboxID int64, uids []uint32, all, deleted bool) ([]msgRef, error) {
	query, args := `SELECT m.id, m.uid, m.modseq, m.flags, m.blob_id FROM messages m`, []any{mailboxID}
	if !all {
		if len(uids) == 0 {
			return nil, nil
		}
		first, last := uidRanges(uids)
		query, args = query+inRanges, append(args, first, last)
	}
	query += ` WHERE m.mailbox_id = $1`
	if deleted {
		query += ` AND strpos(lower(m.flags), '\deleted') > 0`
	}
	rows, _ := tx.Query(ctx, query+` ORDER BY m.uid`, args...)
	var (
		out []msgRef
		m   msgRef
		uid int64
	)
	_, err := pgx.ForEachRow(rows, []any{&m.id, &uid, &m.modseq, &m.flags, &m.blobID}, func() error {
		m.uid = uint32(uid)
		out = append(out, m)
		return nil
	})
	return out, err
}

// UpdateFlags changes the flags of messages (RFC 9051 §6.4.6, RFC 7162 §3.1.3) in one
// transaction, then publishes store.ChangeFlags if any changed. Every message changed takes the
// same new MODSEQ. updated and failed are in UID order.
func (s *Store) UpdateFlags(ctx context.Context, mailboxID int64, uids []uint32, op store.FlagOp, flags []string,
	unchangedSince uint64) (updated []store.FlagUpdate, failed []uint32, err error) {
	given, err := store.NormalizeFlags(flags)
	if err == nil && (op < store.FlagsReplace || op > store.FlagsRemove) {
		err = fmt.Errorf("unknown flag operation %d", op)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("update flags in mailbox %d: %w", mailboxID, err)
	}
	uids = store.SortedUIDs(uids)
	err = s.inTxPublish(ctx, func(tx pgx.Tx, changes *changeLog) error {
		updated, failed = nil, nil
		mb, err := lockMailbox(ctx, tx, mailboxID)
		if err != nil {
			return err
		}
		msgs, err := messageRefs(ctx, tx, mailboxID, uids, false, false)
		if err != nil {
			return err
		}
		modseq := mb.highestModSeq + 1
		var ids []int64
		var newFlags []string
		for _, m := range msgs {
			if unchangedSince != 0 && uint64(m.modseq) > unchangedSince {
				failed = append(failed, m.uid)
				continue
			}
			next, changed := store.ApplyFlags(store.SplitFlags(m.flags), op, given)
			if !changed {
				continue
			}
			ids, newFlags = append(ids, m.id), append(newFlags, store.JoinFlags(next))
			updated = append(updated, store.FlagUpdate{UID: m.uid, ModSeq: uint64(modseq), Flags: next})
			mb.addKeywords(next)
		}
		if len(updated) == 0 {
			return nil
		}
		mb.highestModSeq = modseq
		var b pgx.Batch
		queueExec(&b, "set flags", `UPDATE messages m SET flags = u.flags, modseq = $3
			FROM unnest($1::bigint[], $2::text[]) AS u (id, flags) WHERE m.id = u.id`, ids, newFlags, modseq)
		mb.queueSave(&b)
		if err := sendBatch(ctx, tx, &b); err != nil {
			return err
		}
		changes.add(store.Change{AccountID: mb.accountID, MailboxID: mb.id, Kind: store.ChangeFlags, ModSeq: uint64(modseq)})
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("update flags in mailbox %d: %w", mailboxID, err)
	}
	return updated, failed, nil
}

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
	uids = store.SortedUIDs(uids)
	err = s.inTxPublish(ctx, func(tx pgx.Tx, changes *changeLog) error {
		expunged = nil
		mb, err := lockMailbox(ctx, tx, mailboxID)
		if err != nil {
			return err
		}
		msgs, err := messageRefs(ctx, tx, mailboxID, uids, all, onlyDeleted)
		if err != nil {
			return err
		}
		if onlyDeleted {
			msgs = slices.DeleteFunc(msgs, func(m msgRef) bool { return !store.HasFlag(store.SplitFlags(m.flags), `\Deleted`) })
		}
		if len(msgs) == 0 {
			return nil
		}
		mb.highestModSeq++
		ids := make([]int64, len(msgs))
		removed := make([]int64, len(msgs))
		for i, m := range msgs {
			ids[i], removed[i] = m.id, int64(m.uid)
			expunged = append(expunged, m.uid)
		}
		unreferenced, err = dropBlobRefs(ctx, tx, countBlobRefs(msgs), func() error {
			var b pgx.Batch
			queueExec(&b, "delete messages", `DELETE FROM messages WHERE id = ANY($1)`, ids)
			queueRecordExpunged(&b, mb.id, removed, mb.highestModSeq)
			mb.queueSave(&b)
			return sendBatch(ctx, tx, &b)
		})
		if err != nil {
			return err
		}
		changes.add(store.Change{AccountID: mb.accountID, MailboxID: mb.id, Kind: store.ChangeExpunge,
			ModSeq: uint64(mb.highestModSeq)})
		return nil
	})
	if err != nil {
		return nil, nil, err
	}
	return expunged, unreferenced, nil
}

// queueRecordExpunged adds to b the statement that records UIDs of a mailbox as expunged with
// a MODSEQ (RFC 7162 §3.2.10).
func queueRecordExpunged(b *pgx.Batch, mailboxID int64, uids []int64, modseq int64) {
	queueExec(b, "record expunged", `INSERT INTO expunged (mailbox_id, uid, modseq)
		SELECT $1, uid, $3 FROM unnest($2::bigint[]) AS u (uid)
		ON CONFLICT (mailbox_id, uid) DO UPDATE SET modseq = excluded.modseq`, mailboxID, uids, modseq)
}

// countBlobRefs counts the messages per blob.
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
	err := s.inTxPublish(ctx, func(tx pgx.Tx, changes *changeLog) error {
		var err error
		pairs, err = s.transfer(ctx, tx, srcID, store.SortedUIDs(uids), dstID, move, changes)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("%s from mailbox %d to %d: %w", what, srcID, dstID, err)
	}
	return pairs, nil
}

// transfer copies or moves the messages with the given sorted, distinct UIDs, or all of them
// when uids is nil, from one mailbox to another of the same account. Both mailboxes are locked
// first, in id order.
func (s *Store) transfer(ctx context.Context, tx pgx.Tx, srcID int64, uids []uint32, dstID int64, move bool,
	changes *changeLog) ([]store.UIDPair, error) {
	boxes, err := lockMailboxes(ctx, tx, srcID, dstID)
	if err != nil {
		return nil, err
	}
	src, dst := boxes[srcID], boxes[dstID]
	for id, c := range map[int64]*counters{srcID: src, dstID: dst} {
		if c == nil {
			return nil, fmt.Errorf("mailbox %d: %w", id, store.ErrNotFound)
		}
	}
	if dst.accountID != src.accountID {
		return nil, fmt.Errorf("mailbox %d is not of the account of mailbox %d: %w", dstID, srcID, store.ErrNotFound)
	}
	msgs, err := messageRefs(ctx, tx, srcID, uids, uids == nil, false)
	if err != nil || len(msgs) == 0 {
		return nil, err
	}
	// RFC 9051 §2.3.1.1: UIDs are 32-bit, and so must the UIDNEXT after them be.
	if dst.uidNext+int64(len(msgs)) > math.MaxUint32 {
		return nil, fmt.Errorf("mailbox %d has no room for %d more UIDs", dstID, len(msgs))
	}
	if !move {
		// The blob rows first (see dropBlobRefs); a copy then reads the blob's text row as it
		// is now, which IndexTexts, waiting on the blob's lock, cannot change meanwhile.
		if err := addBlobRefs(ctx, tx, countBlobRefs(msgs)); err != nil {
			return nil, err
		}
	}
	dst.highestModSeq++
	if dst != src {
		for _, m := range msgs {
			dst.addKeywords(store.SplitFlags(m.flags))
		}
	}
	pairs := make([]store.UIDPair, len(msgs))
	ids := make([]int64, len(msgs))
	newUIDs := make([]int64, len(msgs))
	oldUIDs := make([]int64, len(msgs))
	for i, m := range msgs {
		uid := dst.uidNext
		dst.uidNext++
		pairs[i] = store.UIDPair{Src: m.uid, Dst: uint32(uid)}
		ids[i], newUIDs[i], oldUIDs[i] = m.id, uid, int64(m.uid)
	}
	var b pgx.Batch
	if move {
		queueExec(&b, "move messages", `UPDATE messages m SET mailbox_id = $3, uid = u.uid, modseq = $4
			FROM unnest($1::bigint[], $2::bigint[]) AS u (id, uid) WHERE m.id = u.id`, ids, newUIDs, dst.id, dst.highestModSeq)
		// The source records the UIDs as expunged, with a new MODSEQ of its own (the one just
		// taken when a message moves within its own mailbox).
		if src != dst {
			src.highestModSeq++
			src.queueSave(&b)
		}
		queueRecordExpunged(&b, src.id, oldUIDs, src.highestModSeq)
	} else {
		queueExec(&b, "copy messages", `INSERT INTO messages
			(mailbox_id, uid, modseq, flags, internal_date, size, blob_id, envelope, structure, text_doc)
			SELECT $3, u.uid, $4, m.flags, m.internal_date, m.size, m.blob_id, m.envelope, m.structure, bl.text_doc
			FROM unnest($1::bigint[], $2::bigint[]) WITH ORDINALITY AS u (id, uid, n)
			JOIN messages m ON m.id = u.id JOIN blobs bl ON bl.id = m.blob_id ORDER BY u.n`,
			ids, newUIDs, dst.id, dst.highestModSeq)
	}
	dst.queueSave(&b)
	if err := sendBatch(ctx, tx, &b); err != nil {
		return nil, err
	}
	changes.add(store.Change{AccountID: dst.accountID, MailboxID: dst.id, Kind: store.ChangeNew, ModSeq: uint64(dst.highestModSeq)})
	if move {
		changes.add(store.Change{AccountID: src.accountID, MailboxID: src.id, Kind: store.ChangeExpunge,
			ModSeq: uint64(src.highestModSeq)})
	}
	return pairs, nil
}

// addBlobRefs adds references to blobs that have rows already, in id order.
func addBlobRefs(ctx context.Context, tx pgx.Tx, refs []blobRef) error {
	slices.SortFunc(refs, func(a, b blobRef) int {
		switch {
		case a.id < b.id:
			return -1
		case a.id > b.id:
			return 1
		}
		return 0
	})
	var b pgx.Batch
	for _, r := range refs {
		queueExec(&b, "blob "+r.id, `UPDATE blobs SET refs = refs + $1 WHERE id = $2`, r.n, r.id)
	}
	return sendBatch(ctx, tx, &b)
}
