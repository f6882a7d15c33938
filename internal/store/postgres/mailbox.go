package postgres

import (
	"context"
	"errors"
	"fmt"
	"math"
	"slices"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"posthorn/internal/address"
	"posthorn/internal/store"
)

const messageColumns = `SELECT id, mailbox_id, uid, modseq, flags, internal_date, size, blob_id,
	envelope, structure FROM messages`

const mailboxColumns = `SELECT id, account_id, name, special_use, uidvalidity, uidnext, highestmodseq,
	message_count, keywords, first_recent_uid FROM mailboxes b`

// ListMailboxes returns an account's mailboxes in creation order; store.ErrNotFound if the
// account does not exist.
func (s *Store) ListMailboxes(ctx context.Context, accountID int64) ([]store.Mailbox, error) {
	var out []store.Mailbox
	err := s.inReadTx(ctx, func(tx pgx.Tx) error {
		if err := exists(ctx, tx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = $1)`, accountID); err != nil {
			return err
		}
		rows, _ := tx.Query(ctx, mailboxColumns+` WHERE account_id = $1 ORDER BY id`, accountID)
		var err error
		out, err = pgx.CollectRows(rows, collectMailbox)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list mailboxes of account %d: %w", accountID, err)
	}
	return out, nil
}

// GetMailbox returns an account's mailbox by name; store.ErrNotFound if absent.
func (s *Store) GetMailbox(ctx context.Context, accountID int64, name string) (store.Mailbox, error) {
	name = store.MailboxName(name)
	m, err := scanMailbox(s.pool.QueryRow(ctx, mailboxColumns+` WHERE account_id = $1 AND name = $2`, accountID, name))
	if err != nil {
		return store.Mailbox{}, fmt.Errorf("get mailbox %q of account %d: %w", name, accountID, notFound(err))
	}
	return m, nil
}

// ListMessages returns a mailbox's messages in UID order; store.ErrNotFound if the mailbox does
// not exist.
func (s *Store) ListMessages(ctx context.Context, mailboxID int64) ([]store.Message, error) {
	out, err := mailboxRows(ctx, s, mailboxID, scanMessage, false,
		messageColumns+` WHERE mailbox_id = $1 ORDER BY uid`, mailboxID)
	if err != nil {
		return nil, fmt.Errorf("list messages of mailbox %d: %w", mailboxID, err)
	}
	return out, nil
}

// counters are a locked mailbox's UIDNEXT and HIGHESTMODSEQ while a write changes it; save
// writes them back once at the end.
type counters struct {
	id            int64
	accountID     int64
	name          string
	uidNext       int64
	highestModSeq int64
	keywords      []string // the mailbox's keywords (store.Mailbox.Keywords)
	newKeywords   bool     // keywords grew: save writes them
}

// addKeywords adds to the mailbox's keywords those of flags (normal) it does not have.
func (c *counters) addKeywords(flags []string) {
	if add := store.NewKeywords(c.keywords, flags); len(add) > 0 {
		c.keywords = append(c.keywords, add...)
		c.newKeywords = true
	}
}

// lockMailboxes locks the mailbox rows with the given ids FOR UPDATE, in ascending id order
// (so that two writers of the same mailboxes cannot deadlock), and returns their counters as
// the last commit left them, by id. A mailbox that does not exist is missing from the map.
func lockMailboxes(ctx context.Context, tx pgx.Tx, ids ...int64) (map[int64]*counters, error) {
	ids = slices.Clone(ids)
	slices.Sort(ids)
	ids = slices.Compact(ids)
	return lockQuery(ctx, tx, `WHERE b.id = ANY($1)`, ids)
}

// lockQuery locks the mailbox rows b the condition selects, in id order (the rows are sorted
// before they are locked), and returns their counters by id.
func lockQuery(ctx context.Context, tx pgx.Tx, cond string, args ...any) (map[int64]*counters, error) {
	rows, _ := tx.Query(ctx, `SELECT b.id, b.account_id, b.name, b.uidnext, b.highestmodseq, b.keywords
		FROM mailboxes b `+cond+` ORDER BY b.id FOR UPDATE OF b`, args...)
	out := map[int64]*counters{}
	var (
		c        counters
		keywords string
	)
	_, err := pgx.ForEachRow(rows, []any{&c.id, &c.accountID, &c.name, &c.uidNext, &c.highestModSeq, &keywords}, func() error {
		m := c
		m.keywords = store.SplitFlags(keywords)
		out[m.id] = &m
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("lock mailboxes: %w", err)
	}
	return out, nil
}

// lockMailbox is lockMailboxes of one mailbox; store.ErrNotFound if it does not exist.
func lockMailbox(ctx context.Context, tx pgx.Tx, id int64) (*counters, error) {
	m, err := lockMailboxes(ctx, tx, id)
	if err != nil {
		return nil, err
	}
	if m[id] == nil {
		return nil, fmt.Errorf("mailbox %d: %w", id, store.ErrNotFound)
	}
	return m[id], nil
}

// queueSave adds to b the statement that writes the counters back, with the keywords when they
// grew.
func (c *counters) queueSave(b *pgx.Batch) {
	if c.newKeywords {
		queueExec(b, fmt.Sprintf("update mailbox %d", c.id), `UPDATE mailboxes
			SET uidnext = $1, highestmodseq = $2, keywords = $3 WHERE id = $4`,
			c.uidNext, c.highestModSeq, store.JoinFlags(c.keywords), c.id)
		c.newKeywords = false
		return
	}
	queueExec(b, fmt.Sprintf("update mailbox %d", c.id), `UPDATE mailboxes SET uidnext = $1, highestmodseq = $2
		WHERE id = $3`, c.uidNext, c.highestModSeq, c.id)
}

// queueExec adds a statement to b whose failure is reported as what failed.
func queueExec(b *pgx.Batch, what, sql string, args ...any) {
	b.Queue(sql, args...).Fn = func(br pgx.BatchResults) error {
		if _, err := br.Exec(); err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
}

// queueExecCheck is queueExec with a check of the command's result.
func queueExecCheck(b *pgx.Batch, what string, check func(pgconn.CommandTag) error, sql string, args ...any) {
	b.Queue(sql, args...).Fn = func(br pgx.BatchResults) error {
		tag, err := br.Exec()
		if err == nil {
			err = check(tag)
		}
		if err != nil {
			return fmt.Errorf("%s: %w", what, err)
		}
		return nil
	}
}

// sendBatch sends b in tx (one round trip) and returns the first failure.
func sendBatch(ctx context.Context, tx pgx.Tx, b *pgx.Batch) error {
	if b.Len() == 0 {
		return nil
	}
	return tx.SendBatch(ctx, b).Close()
}

// Deliver commits the deliveries in one transaction, then publishes one store.ChangeNew per
// mailbox delivered to. A delivery without InternalDate gets the time of the call; flags are
// normalised as by UpdateFlags. The target mailboxes are locked in id order before any UID is
// given out (lockMailboxes).
func (s *Store) Deliver(ctx context.Context, deliveries []store.Delivery) ([][]store.Delivered, error) {
	if len(deliveries) == 0 {
		return nil, nil
	}
	for _, d := range deliveries {
		if err := store.ValidDelivery(d); err != nil {
			return nil, fmt.Errorf("deliver: %w", err)
		}
	}
	var out [][]store.Delivered
	err := s.inTxPublish(ctx, func(tx pgx.Tx, changes *changeLog) error {
		var err error
		out, err = s.deliver(ctx, tx, deliveries, changes)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("deliver: %w", err)
	}
	s.wakeQueue(deliveries)
	return out, nil
}

// mailboxKey names a delivery target's mailbox.
type mailboxKey struct {
	accountID int64
	name      string
}

func (s *Store) deliver(ctx context.Context, tx pgx.Tx, deliveries []store.Delivery,
	changes *changeLog) ([][]store.Delivered, error) {
	boxes, touched, err := lockTargets(ctx, tx, deliveries)
	if err != nil {
		return nil, err
	}
	docs, err := insertTexts(ctx, tx, deliveries)
	if err != nil {
		return nil, err
	}
	// Everything else goes in one batch: one round trip, whatever the number of messages.
	var b pgx.Batch
	queueBlobs(&b, deliveries, docs)
	now := s.nowNanos()
	var rows messageRows
	out := make([][]store.Delivered, len(deliveries))
	for i, d := range deliveries {
		date := now
		if !d.InternalDate.IsZero() {
			date = d.InternalDate.UnixNano()
		}
		out[i] = make([]store.Delivered, len(d.Targets))
		for j, t := range d.Targets {
			mb := boxes[mailboxKey{t.AccountID, store.MailboxName(t.Mailbox)}]
			// RFC 9051 §2.3.1.1: UIDs are 32-bit, and so must the UIDNEXT after them be; a full
			// mailbox needs a new UIDVALIDITY.
			if mb.uidNext >= math.MaxUint32 {
				return nil, fmt.Errorf("blob %s: mailbox %q of account %d has used every UID", d.BlobID, mb.name, mb.accountID)
			}
			uid := mb.uidNext
			mb.uidNext++
			mb.highestModSeq++
			flags, _ := store.NormalizeFlags(t.Flags) // ValidDelivery checked them
			mb.addKeywords(flags)
			rows.add(mb.id, uid, mb.highestModSeq, store.JoinFlags(flags), date, d)
			if t.ImportKey != nil {
				queueExecCheck(&b, fmt.Sprintf("blob %s: mailbox %d: record import", d.BlobID, mb.id), func(tag pgconn.CommandTag) error {
					if tag.RowsAffected() == 0 {
						return store.ErrExists
					}
					return nil
				}, `INSERT INTO imported_messages (mailbox_id, key) VALUES ($1, $2) ON CONFLICT DO NOTHING`, mb.id, t.ImportKey)
			}
			out[i][j] = store.Delivered{MailboxID: mb.id, UID: uint32(uid), ModSeq: uint64(mb.highestModSeq)}
		}
		queueOutbound(&b, d, date)
	}
	// The message rows all in one statement (the blob rows they refer to are queued before).
	rows.queue(&b)
	for _, mb := range touched {
		mb.queueSave(&b)
		changes.add(store.Change{AccountID: mb.accountID, MailboxID: mb.id, Kind: store.ChangeNew,
			ModSeq: uint64(mb.highestModSeq)})
	}
	changes.queueNotify(&b)
	if err := sendBatch(ctx, tx, &b); err != nil {
		return nil, err
	}
	return out, nil
}

// messageRows are the new message rows of a delivery, as columns.
type messageRows struct {
	mailboxes, uids, modseqs, dates, sizes []int64
	flags, blobs                           []string
	envelopes, structures                  [][]byte
}

func (r *messageRows) add(mailbox, uid, modseq int64, flags string, date int64, d store.Delivery) {
	r.mailboxes, r.uids, r.modseqs = append(r.mailboxes, mailbox), append(r.uids, uid), append(r.modseqs, modseq)
	r.flags, r.dates, r.sizes = append(r.flags, flags), append(r.dates, date), append(r.sizes, d.Size)
	r.blobs, r.envelopes, r.structures = append(r.blobs, d.BlobID), append(r.envelopes, d.Envelope), append(r.structures, d.Structure)
}

// queue adds to b the statement that inserts the rows, each with the text row its blob kept
// (see queueBlobs).
func (r *messageRows) queue(b *pgx.Batch) {
	if len(r.uids) == 0 {
		return
	}
	queueExec(b, "insert messages", `INSERT INTO messages
		(mailbox_id, uid, modseq, flags, internal_date, size, blob_id, envelope, structure, text_doc)
		SELECT r.mailbox_id, r.uid, r.modseq, r.flags, r.internal_date, r.size, r.blob_id, r.envelope, r.structure,
			(SELECT text_doc FROM blobs WHERE id = r.blob_id)
		FROM unnest($1::bigint[], $2::bigint[], $3::bigint[], $4::text[], $5::bigint[], $6::bigint[], $7::text[],
			$8::bytea[], $9::bytea[]) AS r (mailbox_id, uid, modseq, flags, internal_date, size, blob_id, envelope, structure)`,
		r.mailboxes, r.uids, r.modseqs, r.flags, r.dates, r.sizes, r.blobs, r.envelopes, r.structures)
}

// lockTargets locks the mailboxes the deliveries go to, found by account and name, in id order
// (lockQuery). It returns them by key, and in id order. A mailbox renamed meanwhile is not
// locked: PostgreSQL checks the condition again on the row it waited for.
func lockTargets(ctx context.Context, tx pgx.Tx, deliveries []store.Delivery) (map[mailboxKey]*counters, []*counters, error) {
	var accounts []int64
	var names []string
	seen := map[mailboxKey]bool{}
	for _, d := range deliveries {
		for _, t := range d.Targets {
			k := mailboxKey{t.AccountID, store.MailboxName(t.Mailbox)}
			if !seen[k] {
				seen[k] = true
				accounts, names = append(accounts, k.accountID), append(names, k.name)
			}
		}
	}
	boxes := map[mailboxKey]*counters{}
	if len(accounts) == 0 {
		return boxes, nil, nil
	}
	locked, err := lockQuery(ctx, tx, `JOIN unnest($1::bigint[], $2::text[]) AS k (account_id, name)
		ON b.account_id = k.account_id AND b.name = k.name`, accounts, names)
	if err != nil {
		return nil, nil, err
	}
	var touched []*counters
	for _, c := range locked {
		boxes[mailboxKey{c.accountID, c.name}] = c
		touched = append(touched, c)
	}
	slices.SortFunc(touched, func(a, b *counters) int { return int(a.id - b.id) })
	for _, d := range deliveries {
		for _, t := range d.Targets {
			if k := (mailboxKey{t.AccountID, store.MailboxName(t.Mailbox)}); boxes[k] == nil {
				return nil, nil, fmt.Errorf("blob %s: mailbox %q of account %d: %w", d.BlobID, k.name, k.accountID, store.ErrNotFound)
			}
		}
	}
	return boxes, touched, nil
}

// insertTexts adds the text rows of the deliveries that have a text, lower-cased, and returns
// their ids per delivery (nil: no text).
func insertTexts(ctx context.Context, tx pgx.Tx, deliveries []store.Delivery) ([]*int64, error) {
	docs := make([]*int64, len(deliveries))
	var b pgx.Batch
	for i, d := range deliveries {
		if d.Text == nil {
			continue
		}
		b.Queue(`INSERT INTO message_text (header, body) VALUES ($1, $2) RETURNING id`,
			strings.ToLower(d.Text.Header), strings.ToLower(d.Text.Body)).Fn = func(br pgx.BatchResults) error {
			var id int64
			if err := br.QueryRow().Scan(&id); err != nil {
				return fmt.Errorf("blob %s: index text: %w", d.BlobID, err)
			}
			docs[i] = &id
			return nil
		}
	}
	if err := sendBatch(ctx, tx, &b); err != nil {
		return nil, err
	}
	return docs, nil
}

// queueBlobs adds to b the blob rows of the deliveries, or their references to rows that
// exist already, with their text rows docs. A blob id delivered again (blob ids are new for
// every body, so only by a caller's mistake) keeps the text it was first indexed with, and the
// text rows no blob took are deleted again.
func queueBlobs(b *pgx.Batch, deliveries []store.Delivery, docs []*int64) {
	// The blob rows in id order, as every writer of reference counts locks them.
	order := make([]int, len(deliveries))
	for i := range order {
		order[i] = i
	}
	slices.SortStableFunc(order, func(i, j int) int { return strings.Compare(deliveries[i].BlobID, deliveries[j].BlobID) })
	var ids []string
	var added []int64
	for _, i := range order {
		d := deliveries[i]
		queueExec(b, "blob "+d.BlobID, `INSERT INTO blobs (id, size, refs, text_doc) VALUES ($1, $2, $3, $4)
			ON CONFLICT (id) DO UPDATE SET refs = blobs.refs + excluded.refs`,
			d.BlobID, d.Size, len(d.Targets)+len(d.Outbound), docs[i])
		if docs[i] != nil {
			ids, added = append(ids, d.BlobID), append(added, *docs[i])
		}
	}
	if len(added) > 0 {
		queueExec(b, "drop unused text rows", `DELETE FROM message_text t WHERE t.id = ANY($1)
			AND NOT EXISTS (SELECT 1 FROM blobs b WHERE b.id = ANY($2) AND b.text_doc = t.id)`, added, ids)
	}
}

// queueOutbound adds to b one queue row per outbound recipient of d, due at once (its blob row
// already counts them), and moves the campaign ledger row each delivers from pending to queued;
// a ledger row that is not pending is store.ErrConflict, so the delivery fails rather than
// queue it twice.
func queueOutbound(b *pgx.Batch, d store.Delivery, now int64) {
	for _, o := range d.Outbound {
		rcpt, _ := address.Parse(o.Recipient) // ValidDelivery checked it
		what := fmt.Sprintf("blob %s: queue %s", d.BlobID, o.Recipient)
		queueExec(b, what, `INSERT INTO queue (blob_id, size, sender, recipient, domain,
			priority, ret, envid, notify, orcpt, requiretls, smtputf8, eightbit, queued_at, next_attempt,
			campaign_recipient_id) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)`,
			d.BlobID, d.Size, o.Sender, o.Recipient, rcpt.Domain, int(o.Priority), o.Ret, o.EnvID, o.Notify, o.ORcpt,
			o.RequireTLS, o.SMTPUTF8, o.EightBit, now, now, o.CampaignRecipient)
		if o.CampaignRecipient == 0 {
			continue
		}
		id := o.CampaignRecipient
		queueExecCheck(b, what, func(tag pgconn.CommandTag) error {
			if tag.RowsAffected() != 1 {
				return fmt.Errorf("campaign recipient %d is not pending: %w", id, store.ErrConflict)
			}
			return nil
		}, `UPDATE campaign_recipients SET state = 'queued', updated_at = $1 WHERE id = $2 AND state = 'pending'`, now, id)
	}
}

func collectMailbox(r pgx.CollectableRow) (store.Mailbox, error) { return scanMailbox(r) }

func scanMailbox(r pgx.Row) (store.Mailbox, error) {
	var (
		m                                store.Mailbox
		validity, next, modseq, firstNew int64
		keywords                         string
	)
	err := r.Scan(&m.ID, &m.AccountID, &m.Name, &m.SpecialUse, &validity, &next, &modseq,
		&m.MessageCount, &keywords, &firstNew)
	m.UIDValidity, m.UIDNext, m.HighestModSeq, m.FirstRecentUID = uint32(validity), uint32(next), uint64(modseq), uint32(firstNew)
	m.Keywords = store.SplitFlags(keywords)
	return m, err
}

func scanMessage(r pgx.CollectableRow) (store.Message, error) {
	var (
		m           store.Message
		flags       string
		uid, modseq int64
		date        int64
	)
	err := r.Scan(&m.ID, &m.MailboxID, &uid, &modseq, &flags, &date, &m.Size, &m.BlobID, &m.Envelope, &m.Structure)
	m.UID, m.ModSeq = uint32(uid), uint64(modseq)
	m.Flags = store.SplitFlags(flags)
	m.InternalDate = fromNanos(date)
	return m, err
}

// errNoRows reports whether err is pgx.ErrNoRows.
func errNoRows(err error) bool { return errors.Is(err, pgx.ErrNoRows) }
