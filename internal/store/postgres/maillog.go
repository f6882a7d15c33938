package postgres

import (
	"context"
	"fmt"
	"strings"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/store"
)

// The mail log of the message trace (store.MailEventStore): tables mail_events, with one
// mail_event_rcpts row per recipient (by address and by domain, for search) and one
// mail_event_mailboxes row per local copy.

var _ store.MailEventStore = (*Store)(nil)

// mailEventColumns are the columns scanMailEvent reads.
const mailEventColumns = `e.id, e.time, e.event, e.blob_id, e.msgid, e.sender, e.rcpt, e.result, e.code,
	e.remote, e.size, e.conn, e.reasons`

func scanMailEvent(r pgx.CollectableRow) (store.MailEvent, error) {
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
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
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

func insertMailEvent(ctx context.Context, tx pgx.Tx, e store.MailEvent) error {
	from := store.MailEventAddress(e.From)
	var id int64
	if err := tx.QueryRow(ctx, `INSERT INTO mail_events
		(time, event, blob_id, msgid, sender, sender_domain, rcpt, result, code, remote, size, conn, reasons)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13) RETURNING id`,
		e.Time.UnixNano(), e.Event, e.BlobID, e.MsgID, from, domainOf(from), e.Rcpt, e.Result, e.Code,
		e.Remote, e.Size, e.Conn, e.Reasons).Scan(&id); err != nil {
		return err
	}
	for _, r := range store.MailEventRecipients(e.Rcpt) {
		if _, err := tx.Exec(ctx, `INSERT INTO mail_event_rcpts (event_id, address, domain) VALUES ($1, $2, $3)`,
			id, r, domainOf(r)); err != nil {
			return err
		}
	}
	for _, m := range e.Mailboxes {
		if _, err := tx.Exec(ctx, `INSERT INTO mail_event_mailboxes (event_id, account, mailbox)
			VALUES ($1, $2, $3) ON CONFLICT DO NOTHING`, id, m.Account, m.Mailbox); err != nil {
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
	var args params
	if q.From != "" {
		from := store.MailEventAddress(q.From)
		if d, ok := strings.CutPrefix(from, "@"); ok {
			where = append(where, `e.sender_domain = `+args.add(d))
		} else {
			where = append(where, `e.sender = `+args.add(from))
		}
	}
	if q.Rcpt != "" {
		rcpt := store.MailEventAddress(q.Rcpt)
		column := "address"
		if d, ok := strings.CutPrefix(rcpt, "@"); ok {
			column, rcpt = "domain", d
		}
		where = append(where, `e.id IN (SELECT event_id FROM mail_event_rcpts WHERE `+column+` = `+args.add(rcpt)+`)`)
	}
	if q.MsgID != "" {
		where = append(where, `e.msgid = `+args.add(strings.Trim(q.MsgID, "<> ")))
	}
	if !q.Since.IsZero() {
		where = append(where, `e.time >= `+args.add(q.Since.UnixNano()))
	}
	if !q.Until.IsZero() {
		where = append(where, `e.time < `+args.add(q.Until.UnixNano()))
	}
	if q.After > 0 {
		where = append(where, `e.id < `+args.add(q.After))
	}
	limit := q.Limit
	if limit <= 0 {
		limit = store.DefaultMailEventLimit
	}
	query := `SELECT ` + mailEventColumns + ` FROM mail_events e`
	if len(where) > 0 {
		query += ` WHERE ` + strings.Join(where, ` AND `)
	}
	query += ` ORDER BY e.id DESC LIMIT ` + args.add(limit)
	events, err := s.readMailEvents(ctx, query, args...)
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
		WHERE e.blob_id = $1 ORDER BY e.id`, blobID)
	if err != nil {
		return nil, fmt.Errorf("mail events of %s: %w", blobID, err)
	}
	return events, nil
}

// readMailEvents runs query and fills in the events' mailboxes, in one snapshot.
func (s *Store) readMailEvents(ctx context.Context, query string, args ...any) ([]store.MailEvent, error) {
	var events []store.MailEvent
	err := s.inReadTx(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, query, args...)
		if err != nil {
			return err
		}
		if events, err = pgx.CollectRows(rows, scanMailEvent); err != nil {
			return err
		}
		if len(events) == 0 {
			return nil
		}
		index := map[int64]int{}
		ids := make([]int64, len(events))
		for i, e := range events {
			ids[i], index[e.ID] = e.ID, i
		}
		rows, err = tx.Query(ctx, `SELECT event_id, account, mailbox FROM mail_event_mailboxes
			WHERE event_id = ANY($1) ORDER BY event_id, account, mailbox`, ids)
		if err != nil {
			return err
		}
		var id int64
		var m store.MailEventMailbox
		_, err = pgx.ForEachRow(rows, []any{&id, &m.Account, &m.Mailbox}, func() error {
			i := index[id]
			events[i].Mailboxes = append(events[i].Mailboxes, m)
			return nil
		})
		return err
	})
	return events, err
}
