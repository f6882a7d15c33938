package postgres

import (
	"context"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/store"
)

// uidRanges turns sorted, distinct UIDs into the ranges of consecutive ones, as two arrays of
// first and last UIDs: the queries join them to the (mailbox_id, uid) index, one range scan per
// run, so a sequence set like 1:100000 costs one range and not a list of 100000 values.
func uidRanges(uids []uint32) (first, last []int64) {
	for i, u := range uids {
		if i > 0 && u == uids[i-1]+1 {
			last[len(last)-1] = int64(u)
			continue
		}
		first, last = append(first, int64(u)), append(last, int64(u))
	}
	return first, last
}

// inRanges is the join of messages m to uidRanges' arrays, bound as $2 and $3.
const inRanges = ` JOIN unnest($2::bigint[], $3::bigint[]) AS r (lo, hi) ON m.uid BETWEEN r.lo AND r.hi `

// MailboxSize is the total size in bytes of a mailbox's messages (RFC 8438 STATUS SIZE), from
// the counters of the mailbox row.
func (s *Store) MailboxSize(ctx context.Context, mailboxID int64) (int64, error) {
	var size int64
	if err := s.pool.QueryRow(ctx, `SELECT message_bytes FROM mailboxes WHERE id = $1`, mailboxID).Scan(&size); err != nil {
		return 0, fmt.Errorf("size of mailbox %d: %w", mailboxID, notFound(err))
	}
	return size, nil
}

// FirstUnseen returns the lowest UID without \Seen, 0 when there is none.
func (s *Store) FirstUnseen(ctx context.Context, mailboxID int64) (uint32, error) {
	var uid int64
	err := s.pool.QueryRow(ctx, `SELECT uid FROM messages WHERE mailbox_id = $1
		AND strpos(' ' || flags || ' ', ' \Seen ') = 0 ORDER BY uid LIMIT 1`, mailboxID).Scan(&uid)
	if errNoRows(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("first unseen message of mailbox %d: %w", mailboxID, err)
	}
	return uint32(uid), nil
}

// ListUIDs returns the UIDs of a mailbox, ascending; store.ErrNotFound if it does not exist.
// They come as one array from the (mailbox_id, uid) index: one row to read, not one per
// message.
func (s *Store) ListUIDs(ctx context.Context, mailboxID int64) ([]uint32, error) {
	var list []int64
	err := s.pool.QueryRow(ctx, `SELECT ARRAY(SELECT uid FROM messages WHERE mailbox_id = b.id ORDER BY uid)
		FROM mailboxes b WHERE id = $1`, mailboxID).Scan(&list)
	if err != nil {
		return nil, fmt.Errorf("list uids of mailbox %d: %w", mailboxID, notFound(err))
	}
	return toUIDs(list), nil
}

// toUIDs converts UIDs read as bigint; nil for none.
func toUIDs(list []int64) []uint32 {
	if len(list) == 0 {
		return nil
	}
	uids := make([]uint32, len(list))
	for i, u := range list {
		uids[i] = uint32(u)
	}
	return uids
}

// GetMessages returns the messages of a mailbox with the given UIDs, in UID order, leaving out
// the UIDs that have none; store.ErrNotFound if the mailbox does not exist.
func (s *Store) GetMessages(ctx context.Context, mailboxID int64, uids []uint32) ([]store.Message, error) {
	first, last := uidRanges(store.SortedUIDs(uids))
	out, err := mailboxRows(ctx, s, mailboxID, scanMessage, len(first) == 0, `SELECT m.id, m.mailbox_id, m.uid,
		m.modseq, m.flags, m.internal_date, m.size, m.blob_id, m.envelope, m.structure FROM messages m`+inRanges+
		`WHERE m.mailbox_id = $1 ORDER BY m.uid`, mailboxID, first, last)
	if err != nil {
		return nil, fmt.Errorf("get messages of mailbox %d: %w", mailboxID, err)
	}
	return out, nil
}

// ChangedSince returns, in UID order, the messages of a mailbox whose MODSEQ is above modseq
// (RFC 7162 §3.1.4), found with the (mailbox_id, modseq) index.
func (s *Store) ChangedSince(ctx context.Context, mailboxID int64, modseq uint64) ([]store.Message, error) {
	out, err := mailboxRows(ctx, s, mailboxID, scanMessage, false,
		messageColumns+` WHERE mailbox_id = $1 AND modseq > $2 ORDER BY uid`, mailboxID, clampModSeq(modseq))
	if err != nil {
		return nil, fmt.Errorf("messages of mailbox %d changed since %d: %w", mailboxID, modseq, err)
	}
	return out, nil
}

// mailboxRows reads the rows of a query on one mailbox's messages; when it reads none (or when
// none is set, without running it), whether the mailbox exists decides between no rows and
// store.ErrNotFound. One round trip in the usual case, where a transaction for one snapshot
// would take four; a mailbox deleted between the two queries reads as either.
func mailboxRows[T any](ctx context.Context, s *Store, mailboxID int64, scan pgx.RowToFunc[T], none bool,
	query string, args ...any) ([]T, error) {
	var out []T
	if !none {
		rows, _ := s.pool.Query(ctx, query, args...)
		var err error
		if out, err = pgx.CollectRows(rows, scan); err != nil || len(out) > 0 {
			return out, err
		}
	}
	return nil, exists(ctx, s.pool, `SELECT EXISTS (SELECT 1 FROM mailboxes WHERE id = $1)`, mailboxID)
}

// ExpungedSince returns, ascending, the UIDs expunged from a mailbox with a MODSEQ above modseq
// (RFC 7162 §3.2.10 VANISHED).
func (s *Store) ExpungedSince(ctx context.Context, mailboxID int64, modseq uint64) ([]uint32, error) {
	var list []int64
	err := s.pool.QueryRow(ctx, `SELECT ARRAY(SELECT uid FROM expunged WHERE mailbox_id = b.id AND modseq > $2
		ORDER BY uid) FROM mailboxes b WHERE id = $1`, mailboxID, clampModSeq(modseq)).Scan(&list)
	if err != nil {
		return nil, fmt.Errorf("uids expunged from mailbox %d since %d: %w", mailboxID, modseq, notFound(err))
	}
	return toUIDs(list), nil
}

// clampModSeq turns a MODSEQ a client sent into what a bigint compares: RFC 7162 MODSEQs are
// 63-bit, so anything larger is as good as the largest.
func clampModSeq(m uint64) int64 {
	return int64(min(m, 1<<63-1))
}

// AccountUsage returns the bytes and the number of messages of an account's mailboxes, a
// message in two mailboxes counted twice (RFC 9208 §5.1), from the counters of the mailbox rows
// that triggers keep. store.ErrNotFound if the account does not exist.
func (s *Store) AccountUsage(ctx context.Context, accountID int64) (bytes, messages int64, err error) {
	err = s.pool.QueryRow(ctx, `SELECT coalesce(sum(b.message_bytes), 0)::bigint, coalesce(sum(b.message_count), 0)::bigint
		FROM accounts a LEFT JOIN mailboxes b ON b.account_id = a.id WHERE a.id = $1 GROUP BY a.id`,
		accountID).Scan(&bytes, &messages)
	if err != nil {
		return 0, 0, fmt.Errorf("usage of account %d: %w", accountID, notFound(err))
	}
	return bytes, messages, nil
}

// RecordJunkMove records that a message moved into (toJunk) or out of Junk; store.ErrNotFound
// if the account does not exist.
func (s *Store) RecordJunkMove(ctx context.Context, accountID int64, blobID string, toJunk bool, at time.Time) error {
	if err := affectedOne(s.pool.Exec(ctx, `INSERT INTO junk_moves (account_id, blob_id, to_junk, at)
		SELECT id, $1, $2, $3 FROM accounts WHERE id = $4`, blobID, toJunk, at.UnixNano(), accountID)); err != nil {
		return fmt.Errorf("record junk move of blob %s for account %d: %w", blobID, accountID, err)
	}
	return nil
}

// ClaimRecent moves a mailbox's first_recent_uid up to its uidnext and returns the range it
// covered (RFC 3501 §2.3.2: one session sees a new message as \Recent). The statement reads
// the row it updates, locked, so two sessions on any nodes never claim the same UIDs; a
// mailbox with nothing to claim costs a read, not a write.
func (s *Store) ClaimRecent(ctx context.Context, mailboxID int64) (first, next uint32, err error) {
	var f, n int64
	err = s.pool.QueryRow(ctx, `SELECT first_recent_uid, uidnext FROM mailboxes WHERE id = $1`, mailboxID).Scan(&f, &n)
	if err == nil && f < n {
		err = s.inTx(ctx, func(tx pgx.Tx) error {
			if err := tx.QueryRow(ctx, `SELECT first_recent_uid, uidnext FROM mailboxes WHERE id = $1 FOR UPDATE`,
				mailboxID).Scan(&f, &n); err != nil {
				return err
			}
			if f >= n {
				return nil
			}
			_, err := tx.Exec(ctx, `UPDATE mailboxes SET first_recent_uid = $1 WHERE id = $2`, n, mailboxID)
			return err
		})
	}
	if err != nil {
		return 0, 0, fmt.Errorf("claim recent messages of mailbox %d: %w", mailboxID, notFound(err))
	}
	return uint32(f), uint32(max(f, n)), nil
}

// CountFrom counts the messages of a mailbox with a UID of at least uid, on the (mailbox_id,
// uid) index.
func (s *Store) CountFrom(ctx context.Context, mailboxID int64, uid uint32) (int64, error) {
	var n int64
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM messages WHERE mailbox_id = $1 AND uid >= $2`,
		mailboxID, int64(uid)).Scan(&n); err != nil {
		return 0, fmt.Errorf("count messages of mailbox %d from uid %d: %w", mailboxID, uid, err)
	}
	return n, nil
}

// metaColumns are what scanMeta reads.
const metaColumns = `SELECT m.uid, m.modseq, m.internal_date, m.size, m.flags FROM messages m`

// GetMessageMeta returns the UID, MODSEQ, flags, internal date and size of the messages of a
// mailbox with the given UIDs, in UID order, leaving out the UIDs that have none;
// store.ErrNotFound if the mailbox does not exist.
func (s *Store) GetMessageMeta(ctx context.Context, mailboxID int64, uids []uint32) ([]store.Message, error) {
	first, last := uidRanges(store.SortedUIDs(uids))
	out, err := mailboxRows(ctx, s, mailboxID, scanMeta(mailboxID), len(first) == 0,
		metaColumns+inRanges+`WHERE m.mailbox_id = $1 ORDER BY m.uid`, mailboxID, first, last)
	if err != nil {
		return nil, fmt.Errorf("get message metadata of mailbox %d: %w", mailboxID, err)
	}
	return out, nil
}

// MetaChangedSince returns, in UID order, the metadata of the messages of a mailbox whose
// MODSEQ is above modseq (with 0: of every message).
func (s *Store) MetaChangedSince(ctx context.Context, mailboxID int64, modseq uint64) ([]store.Message, error) {
	out, err := mailboxRows(ctx, s, mailboxID, scanMeta(mailboxID), false,
		metaColumns+` WHERE m.mailbox_id = $1 AND m.modseq > $2 ORDER BY m.uid`, mailboxID, clampModSeq(modseq))
	if err != nil {
		return nil, fmt.Errorf("metadata of mailbox %d changed since %d: %w", mailboxID, modseq, err)
	}
	return out, nil
}

// scanMeta reads a row of a metaColumns query on mailbox mailboxID.
func scanMeta(mailboxID int64) pgx.RowToFunc[store.Message] {
	return func(r pgx.CollectableRow) (store.Message, error) {
		var (
			uid, modseq, date, size int64
			flags                   string
		)
		err := r.Scan(&uid, &modseq, &date, &size, &flags)
		return store.Message{MailboxID: mailboxID, UID: uint32(uid), ModSeq: uint64(modseq),
			InternalDate: fromNanos(date), Size: size, Flags: store.SplitFlags(flags)}, err
	}
}
