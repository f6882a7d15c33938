package postgres

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"posthorn/internal/store"
)

// The conformance cases of the interfaces beside store.Store take a store.Store too, for the
// few directory and delivery calls that set them up. Until the mail store's methods are on
// *Store, sqlCore stands in for them: AddDomain, AddAccount, RemoveAccount, Deliver,
// RecordJunkMove and Check
// written in plain SQL over the same schema; any other store.Store method panics (its
// embedded interface is nil). Once *Store is a store.Store, core returns it and the cases run
// on the real thing.

// openStore opens a new, empty database.
func openStore(t *testing.T) *Store {
	t.Helper()
	return openURL(t, server.Database(t))
}

// core is the store.Store the conformance cases get for s.
func core(s *Store) store.Store {
	if c, ok := any(s).(store.Store); ok {
		return c
	}
	return &sqlCore{s: s}
}

type sqlCore struct {
	store.Store // nil: what the cases do not call
	s           *Store
}

func (c *sqlCore) Ping(ctx context.Context) error { return c.s.Ping(ctx) }
func (c *sqlCore) Close() error                   { return c.s.Close() }

func (c *sqlCore) AddDomain(ctx context.Context, name string) (store.Domain, error) {
	d := store.Domain{Name: strings.ToLower(name), CreatedAt: timeOf(c.s.now().UnixNano())}
	err := c.s.pool.QueryRow(ctx, `INSERT INTO domains (name, created_at) VALUES ($1, $2) RETURNING id`,
		d.Name, d.CreatedAt.UnixNano()).Scan(&d.ID)
	if isUnique(err) {
		err = store.ErrExists
	}
	return d, wrapf(err, "add domain %s", name)
}

func (c *sqlCore) AddAccount(ctx context.Context, address, hash string) (store.Account, error) {
	addr := strings.ToLower(address)
	a := store.Account{Address: addr, PasswordHash: hash, QuotaBytes: store.QuotaDefault,
		CreatedAt: timeOf(c.s.now().UnixNano())}
	err := pgx.BeginFunc(ctx, c.s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `SELECT id FROM domains WHERE name = $1`, addr[strings.LastIndexByte(addr, '@')+1:]).
			Scan(&a.DomainID)
		if err == pgx.ErrNoRows {
			return store.ErrUnknownDomain
		} else if err != nil {
			return err
		}
		if err := tx.QueryRow(ctx, `INSERT INTO accounts (address, domain_id, password_hash, created_at)
			VALUES ($1, $2, $3, $4) RETURNING id`, addr, a.DomainID, hash, a.CreatedAt.UnixNano()).Scan(&a.ID); err != nil {
			return err
		}
		for _, m := range store.DefaultMailboxes {
			if _, err := tx.Exec(ctx, `WITH v AS (UPDATE counters SET value = value + 1 WHERE name = 'uidvalidity'
				RETURNING value) INSERT INTO mailboxes (account_id, name, special_use, uidvalidity)
				SELECT $1, $2, $3, value FROM v`, a.ID, m.Name, m.SpecialUse); err != nil {
				return err
			}
		}
		return nil
	})
	return a, wrapf(err, "add account %s", addr)
}

func (c *sqlCore) RemoveAccount(ctx context.Context, address string) ([]string, error) {
	var gone []string
	err := pgx.BeginFunc(ctx, c.s.pool, func(tx pgx.Tx) error {
		var id int64
		if err := tx.QueryRow(ctx, `SELECT id FROM accounts WHERE address = $1`, strings.ToLower(address)).Scan(&id); err != nil {
			return notFound(err)
		}
		rows, err := tx.Query(ctx, `SELECT m.blob_id FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id
			WHERE b.account_id = $1`, id)
		if err != nil {
			return err
		}
		blobs, err := pgx.CollectRows(rows, pgx.RowTo[string])
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `DELETE FROM accounts WHERE id = $1`, id); err != nil {
			return err
		}
		refs := map[string]int64{}
		for _, b := range blobs {
			refs[b]++
		}
		gone, err = dropBlobRefs(ctx, tx, refs)
		return err
	})
	return gone, wrapf(err, "remove account %s", address)
}

func (c *sqlCore) Deliver(ctx context.Context, deliveries []store.Delivery) ([][]store.Delivered, error) {
	for _, d := range deliveries {
		if err := store.ValidateOutbound(d.Outbound); err != nil {
			return nil, fmt.Errorf("deliver: blob %s: %w", d.BlobID, err)
		}
	}
	out := make([][]store.Delivered, len(deliveries))
	err := pgx.BeginFunc(ctx, c.s.pool, func(tx pgx.Tx) error {
		now := c.s.now().UnixNano()
		for i, d := range deliveries {
			if _, err := tx.Exec(ctx, `INSERT INTO blobs (id, size, refs) VALUES ($1, $2, $3)
				ON CONFLICT (id) DO UPDATE SET refs = blobs.refs + excluded.refs`,
				d.BlobID, d.Size, len(d.Targets)+len(d.Outbound)); err != nil {
				return err
			}
			for _, t := range d.Targets {
				var got store.Delivered
				var uid int64
				err := tx.QueryRow(ctx, `UPDATE mailboxes SET uidnext = uidnext + 1, highestmodseq = highestmodseq + 1
					WHERE account_id = $1 AND name = $2 RETURNING id, uidnext - 1, highestmodseq`,
					t.AccountID, t.Mailbox).Scan(&got.MailboxID, &uid, &got.ModSeq)
				if err != nil {
					return fmt.Errorf("mailbox %q of account %d: %w", t.Mailbox, t.AccountID, notFound(err))
				}
				got.UID = uint32(uid)
				if _, err := tx.Exec(ctx, `INSERT INTO messages (mailbox_id, uid, modseq, internal_date, size, blob_id)
					VALUES ($1, $2, $3, $4, $5, $6)`, got.MailboxID, uid, got.ModSeq, now, d.Size, d.BlobID); err != nil {
					return err
				}
				if t.ImportKey != nil {
					if err := recordImport(ctx, tx, got.MailboxID, t.ImportKey); err != nil {
						return err
					}
				}
				out[i] = append(out[i], got)
			}
			if err := enqueue(ctx, tx, d, now); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("deliver: %w", err)
	}
	c.s.wakeQueue(deliveries)
	return out, nil
}

func (c *sqlCore) RecordJunkMove(ctx context.Context, accountID int64, blobID string, toJunk bool, at time.Time) error {
	_, err := c.s.pool.Exec(ctx, `INSERT INTO junk_moves (account_id, blob_id, to_junk, at) VALUES ($1, $2, $3, $4)`,
		accountID, blobID, toJunk, at.UnixNano())
	return wrapf(err, "record junk move")
}

// Check verifies the blob reference counts, the invariant the queue's methods keep.
func (c *sqlCore) Check(ctx context.Context) ([]string, error) {
	rows, err := c.s.pool.Query(ctx, `SELECT b.id, b.refs,
		(SELECT count(*) FROM messages m WHERE m.blob_id = b.id) + (SELECT count(*) FROM queue q WHERE q.blob_id = b.id)
		FROM blobs b ORDER BY b.id`)
	if err != nil {
		return nil, err
	}
	var problems []string
	var id string
	var refs, used int64
	_, err = pgx.ForEachRow(rows, []any{&id, &refs, &used}, func() error {
		if refs != used {
			problems = append(problems, fmt.Sprintf("blob %s: refs %d, used by %d rows", id, refs, used))
		}
		return nil
	})
	return problems, err
}

// wrapf wraps a non-nil err with a lower-case context, as fmt.Errorf("...: %w").
func wrapf(err error, format string, args ...any) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf(format+": %w", append(args, err)...)
}
