package sqlite

import (
	"context"
	"database/sql"
	"fmt"
	"strings"

	"posthorn/internal/store"
)

var _ store.MailEventStore = (*Store)(nil)

// mailEventColumns are the columns scanMailEvent reads.
const mailEventColumns = `e.id, e.time, e.event, e.blob_id, e.msgid, e.sender, e.rcpt, e.result, e.code,
	e.remote, e.size, e.conn, e.reasons`

func scanMailEvent(r scanner) (store.MailEvent, error) {
	var e store.MailEvent
	var at int64
	err := r.Scan(&e.ID, &at, &e.Event, &e.BlobID, &e.MsgID, &e.From, &e.Rcpt, &e.Result, &e.Code,
		&e.Remote, &e.Size, &e.Conn, &e.Reasons)
	e.Time = fromNanos(at).UTC()
	return e, err
}

// AddMailEvents inserts the batch, its recipients and mailboxes in one transaction.
func (s *Store) AddMailEvents(ctx context.Context, events []store.MailEvent) error {
	if len(events) == 0 {
		return nil
	}
	err := s.inTx(ctx, func(tx *sql.Tx) error {
		for _, e := range events {
			if err := insertMailEvent(ctx, tx, e); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("add %d mail events: %w", len(events), err)
	}
	return nil
}

func insertMailEvent(ctx context.Context, tx *sql.Tx, e store.MailEvent) error {
	from := store.MailEventAddress(e.From)
	at := e.Time
	var id int64
	if err := tx.QueryRowContext(ctx, `INSERT INTO mail_events
		(time, event, blob_id, msgid, sender, sender_domain, rcpt, result, code, remote, size, conn, reasons)
		VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) RETURNING id`,
		at.UnixNano(), e.Event, e.BlobID, e.MsgID, from, domainOf(from), e.Rcpt, e.Result, e.Code,
		e.Remote, e.Size, e.Conn, e.Reasons).Scan(&id); err != nil {
		return err
	}
	for _, r := range store.MailEventRecipients(e.Rcpt) {
		if _, err := tx.ExecContext(ctx, `INSERT INTO mail_event_rcpts (event_id, address, domain) VALUES (?, ?, ?)`,
			id, r, domainOf(r)); err != nil {
			return err
		}
	}
	for _, m := range e.Mailboxes {
		if _, err := tx.ExecContext(ctx, `INSERT OR IGNORE INTO mail_event_mailboxes (event_id, account, mailbox)
			VALUES (?, ?, ?)`, id, m.Account, m.Mailbox); err != nil {
			return err
		}
	}
	return nil
}

// domainOf returns what follows the last @ of a searchable address, "" without one.
func domainOf(a string) string {
	at := strings.LastIndexByte(a, '@')
	if at < 0 {
		return ""
	}
	return a[at+1:]
}

// SearchMailEvents builds one query from the fields q sets, newest first.
func (s *Store) SearchMailEvents(ctx context.Context, q store.MailEventQuery) ([]store.MailEvent, error) {
	var where []string
	var args []any
	if q.From != "" {
		from := store.MailEventAddress(q.From)
		if d, ok := strings.CutPrefix(from, "@"); ok {
			where, args = append(where, `e.sender_domain = ?`), append(args, d)
		} else {
			where, args = append(where, `e.sender = ?`), append(args, from)
		}
	}
	if q.Rcpt != "" {
		rcpt := store.MailEventAddress(q.Rcpt)
		column := "address"
		if d, ok := strings.CutPrefix(rcpt, "@"); ok {
			column, rcpt = "domain", d
		}
		where = append(where, `e.id IN (SELECT event_id FROM mail_event_rcpts WHERE `+column+` = ?)`)
		args = append(args, rcpt)
	}
	if q.MsgID != "" {
		where, args = append(where, `e.msgid = ?`), append(args, strings.Trim(q.MsgID, "<> "))
	}
	if !q.Since.IsZero() {
		where, args = append(where, `e.time >= ?`), append(args, q.Since.UnixNano())
	}
	if !q.Until.IsZero() {
		where, args = append(where, `e.time < ?`), append(args, q.Until.UnixNano())
	}
	if q.After > 0 {
		where, args = append(where, `e.id < ?`), append(args, q.After)
	}
	limit := q.Limit
	if limit <= 0 {
		limit = store.DefaultMailEventLimit
	}
	query := `SELECT ` + mailEventColumns + ` FROM mail_events e`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY e.id DESC LIMIT ?`
	events, err := s.readMailEvents(ctx, query, append(args, limit)...)
	if err != nil {
		return nil, fmt.Errorf("search mail events: %w", err)
	}
	return events, nil
}

// MailEventsOf reads one message's events in the order they were added.
func (s *Store) MailEventsOf(ctx context.Context, blobID string) ([]store.MailEvent, error) {
	if blobID == "" {
		return nil, nil
	}
	events, err := s.readMailEvents(ctx, `SELECT `+mailEventColumns+` FROM mail_events e
		WHERE e.blob_id = ? ORDER BY e.id`, blobID)
	if err != nil {
		return nil, fmt.Errorf("mail events of %s: %w", blobID, err)
	}
	return events, nil
}

// readMailEvents runs query and fills in each event's mailboxes, in one snapshot.
func (s *Store) readMailEvents(ctx context.Context, query string, args ...any) ([]store.MailEvent, error) {
	var events []store.MailEvent
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		rows, err := tx.QueryContext(ctx, query, args...)
		if err != nil {
			return err
		}
		if events, err = collect(rows, scanMailEvent); err != nil {
			return err
		}
		for i := range events {
			rows, err := tx.QueryContext(ctx, `SELECT account, mailbox FROM mail_event_mailboxes
				WHERE event_id = ? ORDER BY account, mailbox`, events[i].ID)
			if err != nil {
				return err
			}
			if events[i].Mailboxes, err = collect(rows, func(r scanner) (store.MailEventMailbox, error) {
				var m store.MailEventMailbox
				return m, r.Scan(&m.Account, &m.Mailbox)
			}); err != nil {
				return err
			}
		}
		return nil
	})
	return events, err
}
