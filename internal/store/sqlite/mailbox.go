package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"math"
	"strings"

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
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		if err := exists(ctx, tx, `SELECT EXISTS (SELECT 1 FROM accounts WHERE id = ?)`, accountID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, mailboxColumns+` WHERE account_id = ? ORDER BY id`, accountID)
		if err != nil {
			return err
		}
		out, err = collect(rows, scanMailbox)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list mailboxes of account %d: %w", accountID, err)
	}
	return out, nil
}

// GetMailbox returns an account's mailbox by name; store.ErrNotFound if absent.
func (s *Store) GetMailbox(ctx context.Context, accountID int64, name string) (store.Mailbox, error) {
	name = mailboxName(name)
	m, err := scanMailbox(s.read.QueryRowContext(ctx, mailboxColumns+` WHERE account_id = ? AND name = ?`, accountID, name))
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err != nil {
		return store.Mailbox{}, fmt.Errorf("get mailbox %q of account %d: %w", name, accountID, err)
	}
	return m, nil
}

// ListMessages returns a mailbox's messages in UID order; store.ErrNotFound if the mailbox does
// not exist.
func (s *Store) ListMessages(ctx context.Context, mailboxID int64) ([]store.Message, error) {
	var out []store.Message
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		if err := exists(ctx, tx, `SELECT EXISTS (SELECT 1 FROM mailboxes WHERE id = ?)`, mailboxID); err != nil {
			return err
		}
		rows, err := tx.QueryContext(ctx, messageColumns+` WHERE mailbox_id = ? ORDER BY uid`, mailboxID)
		if err != nil {
			return err
		}
		out, err = collect(rows, scanMessage)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("list messages of mailbox %d: %w", mailboxID, err)
	}
	return out, nil
}

// Deliver commits the deliveries in one write transaction, then publishes one store.ChangeNew
// per mailbox delivered to. A delivery without InternalDate gets the time of the call; flags are
// normalised as by UpdateFlags.
func (s *Store) Deliver(ctx context.Context, deliveries []store.Delivery) ([][]store.Delivered, error) {
	if len(deliveries) == 0 {
		return nil, nil
	}
	for _, d := range deliveries {
		if err := validDelivery(d); err != nil {
			return nil, fmt.Errorf("deliver: %w", err)
		}
	}
	var out [][]store.Delivered
	err := s.inTxPublish(ctx, func(tx *sql.Tx, publish func(store.Change)) error {
		var err error
		out, err = s.deliver(ctx, tx, deliveries, publish)
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("deliver: %w", err)
	}
	s.wakeQueue(deliveries)
	return out, nil
}

func validDelivery(d store.Delivery) error {
	if d.BlobID == "" {
		return errors.New("delivery without blob id")
	}
	if len(d.Targets) == 0 && len(d.Outbound) == 0 {
		return fmt.Errorf("blob %s: no target", d.BlobID)
	}
	if err := store.ValidateOutbound(d.Outbound); err != nil {
		return fmt.Errorf("blob %s: %w", d.BlobID, err)
	}
	for _, t := range d.Targets {
		if _, err := normalizeFlags(t.Flags); err != nil {
			return fmt.Errorf("blob %s: %w", d.BlobID, err)
		}
	}
	return nil
}

// mailboxKey names a delivery target's mailbox.
type mailboxKey struct {
	accountID int64
	name      string
}

// counters are a mailbox's UIDNEXT and HIGHESTMODSEQ while a batch is being delivered; they are
// written back once per mailbox at the end of the batch.
type counters struct {
	id            int64
	accountID     int64
	uidNext       int64
	highestModSeq int64
	keywords      []string // the mailbox's keywords (store.Mailbox.Keywords)
	newKeywords   bool     // keywords grew: save writes them
}

// addKeywords adds to the mailbox's keywords those of flags (normal) it does not have.
func (c *counters) addKeywords(flags []string) {
	for _, f := range flags {
		if !strings.HasPrefix(f, `\`) && !hasFlag(c.keywords, f) {
			c.keywords = append(c.keywords, f)
			c.newKeywords = true
		}
	}
}

func (s *Store) deliver(ctx context.Context, tx *sql.Tx, deliveries []store.Delivery,
	publish func(store.Change)) ([][]store.Delivered, error) {
	find := tx.StmtContext(ctx, s.stmts.findMailbox)
	insertBlob := tx.StmtContext(ctx, s.stmts.insertBlob)
	insertMessage := tx.StmtContext(ctx, s.stmts.insertMessage)
	boxes := map[mailboxKey]*counters{}
	var touched []*counters
	now := s.nowNanos()

	docs, err := s.indexTexts(ctx, tx, deliveries)
	if err != nil {
		return nil, err
	}
	out := make([][]store.Delivered, len(deliveries))
	for i, d := range deliveries {
		textDoc, err := s.insertBlob(ctx, tx, insertBlob, d, docs[i])
		if err != nil {
			return nil, fmt.Errorf("blob %s: %w", d.BlobID, err)
		}
		date := now
		if !d.InternalDate.IsZero() {
			date = d.InternalDate.UnixNano()
		}
		out[i] = make([]store.Delivered, len(d.Targets))
		for j, t := range d.Targets {
			key := mailboxKey{t.AccountID, mailboxName(t.Mailbox)}
			mb := boxes[key]
			if mb == nil {
				mb = &counters{accountID: key.accountID}
				var keywords string
				err := find.QueryRowContext(ctx, key.accountID, key.name).Scan(&mb.id, &mb.uidNext, &mb.highestModSeq, &keywords)
				mb.keywords = splitFlags(keywords)
				if errors.Is(err, sql.ErrNoRows) {
					err = store.ErrNotFound
				}
				if err != nil {
					return nil, fmt.Errorf("blob %s: mailbox %q of account %d: %w", d.BlobID, key.name, key.accountID, err)
				}
				boxes[key] = mb
				touched = append(touched, mb)
			}
			// RFC 9051 §2.3.1.1: UIDs are 32-bit, and so must the UIDNEXT after them be; a full
			// mailbox needs a new UIDVALIDITY.
			if mb.uidNext >= math.MaxUint32 {
				return nil, fmt.Errorf("blob %s: mailbox %q of account %d has used every UID", d.BlobID, key.name, key.accountID)
			}
			uid := mb.uidNext
			mb.uidNext++
			mb.highestModSeq++
			flags, _ := normalizeFlags(t.Flags) // validDelivery checked them
			mb.addKeywords(flags)
			if _, err := insertMessage.ExecContext(ctx, mb.id, uid, mb.highestModSeq, joinFlags(flags),
				date, d.Size, d.BlobID, d.Envelope, d.Structure, textDoc); err != nil {
				return nil, fmt.Errorf("blob %s: insert into mailbox %d: %w", d.BlobID, mb.id, err)
			}
			if t.ImportKey != nil {
				if err := recordImport(ctx, tx, mb.id, t.ImportKey); err != nil {
					return nil, fmt.Errorf("blob %s: mailbox %d: %w", d.BlobID, mb.id, err)
				}
			}
			out[i][j] = store.Delivered{MailboxID: mb.id, UID: uint32(uid), ModSeq: uint64(mb.highestModSeq)}
		}
		if err := s.enqueue(ctx, tx, d, date); err != nil {
			return nil, fmt.Errorf("blob %s: %w", d.BlobID, err)
		}
	}
	for _, mb := range touched {
		if err := s.save(ctx, tx, mb); err != nil {
			return nil, fmt.Errorf("update mailbox %d: %w", mb.id, err)
		}
		publish(store.Change{AccountID: mb.accountID, MailboxID: mb.id, Kind: store.ChangeNew,
			ModSeq: uint64(mb.highestModSeq)})
	}
	return out, nil
}

// indexTexts adds the text of every delivery that has one to the full-text index and returns
// the rowids, NULL for a delivery without text. The rows are written one after the other, before
// any other row of the transaction: FTS5 writes what it holds in memory out as a new segment at
// the start of every later statement that opens a statement journal (its xSavepoint), so
// interleaving them with the message rows would make one segment per message, several times
// slower to write and to merge.
func (s *Store) indexTexts(ctx context.Context, tx *sql.Tx, deliveries []store.Delivery) ([]sql.NullInt64, error) {
	docs := make([]sql.NullInt64, len(deliveries))
	var insert *sql.Stmt
	for i, d := range deliveries {
		if d.Text == nil {
			continue
		}
		if insert == nil {
			insert = tx.StmtContext(ctx, s.stmts.insertText)
		}
		res, err := insert.ExecContext(ctx, d.Text.Header, d.Text.Body)
		if err == nil {
			docs[i].Int64, err = res.LastInsertId()
		}
		if err != nil {
			return nil, fmt.Errorf("blob %s: index text: %w", d.BlobID, err)
		}
		docs[i].Valid = true
	}
	return docs, nil
}

// insertBlob adds the blob row of a delivery, or its references to the row that exists already,
// with doc, the rowid of its text in the index. It returns the rowid the blob keeps, which every
// message row of the blob carries: NULL when the blob has no indexed text.
func (s *Store) insertBlob(ctx context.Context, tx *sql.Tx, insertBlob *sql.Stmt, d store.Delivery,
	doc sql.NullInt64) (sql.NullInt64, error) {
	var kept sql.NullInt64
	if err := insertBlob.QueryRowContext(ctx, d.BlobID, d.Size, len(d.Targets)+len(d.Outbound), doc).Scan(&kept); err != nil {
		return kept, err
	}
	// A blob id delivered again (blob ids are new for every body, so only by a caller's
	// mistake) keeps the text it was first indexed with.
	if doc.Valid && kept != doc {
		if _, err := tx.StmtContext(ctx, s.stmts.deleteText).ExecContext(ctx, doc.Int64); err != nil {
			return kept, fmt.Errorf("drop text index row: %w", err)
		}
	}
	return kept, nil
}

// exists runs a SELECT EXISTS query and returns store.ErrNotFound if it is false.
func exists(ctx context.Context, tx *sql.Tx, query string, args ...any) error {
	var ok bool
	if err := tx.QueryRowContext(ctx, query, args...).Scan(&ok); err != nil {
		return err
	}
	if !ok {
		return store.ErrNotFound
	}
	return nil
}

func scanMailbox(r scanner) (store.Mailbox, error) {
	var m store.Mailbox
	var keywords string
	err := r.Scan(&m.ID, &m.AccountID, &m.Name, &m.SpecialUse, &m.UIDValidity, &m.UIDNext, &m.HighestModSeq,
		&m.MessageCount, &keywords, &m.FirstRecentUID)
	m.Keywords = splitFlags(keywords)
	return m, err
}

func scanMessage(r scanner) (store.Message, error) {
	var (
		m     store.Message
		flags string
		date  int64
	)
	err := r.Scan(&m.ID, &m.MailboxID, &m.UID, &m.ModSeq, &flags, &date, &m.Size, &m.BlobID, &m.Envelope, &m.Structure)
	m.Flags = splitFlags(flags)
	m.InternalDate = fromNanos(date)
	return m, err
}
