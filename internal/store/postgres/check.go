package postgres

import (
	"context"
	"fmt"

	"github.com/jackc/pgx/v5"
)

// blobPage is how many blob ids BlobIDs reads per query.
const blobPage = 1000

// BlobIDs calls fn for every referenced blob id, in id order. It reads the ids a page at a time
// and holds no transaction open while fn runs, so fn may use the store.
func (s *Store) BlobIDs(ctx context.Context, fn func(id string) error) error {
	after := ""
	for {
		rows, _ := s.pool.Query(ctx, `SELECT id FROM blobs WHERE id > $1 AND refs > 0 ORDER BY id LIMIT $2`,
			after, blobPage)
		ids, err := pgx.CollectRows(rows, scanString)
		if err != nil {
			return fmt.Errorf("list blobs: %w", err)
		}
		for _, id := range ids {
			if err := fn(id); err != nil {
				return err
			}
		}
		if len(ids) < blobPage {
			return nil
		}
		after = ids[len(ids)-1]
	}
}

// HasBlob reports whether a blob id is referenced.
func (s *Store) HasBlob(ctx context.Context, id string) (bool, error) {
	var ok bool
	if err := s.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM blobs WHERE id = $1 AND refs > 0)`,
		id).Scan(&ok); err != nil {
		return false, fmt.Errorf("has blob %s: %w", id, err)
	}
	return ok, nil
}

// checks are the queries of Check, store/sqlite's list without SQLite's own integrity and
// foreign key checks (PostgreSQL enforces foreign keys as it writes): each returns one text
// column, a problem per row.
var checks = []struct {
	name  string
	query string
}{
	{"uidnext", `SELECT format('mailbox %s (%s of account %s): uid %s is not below uidnext %s',
			b.id, b.name, b.account_id, m.uid, b.uidnext)
		FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE m.uid >= b.uidnext`},
	{"uid range", `SELECT format('message %s: uid %s is not a 32-bit positive number', id, uid)
		FROM messages WHERE uid < 1 OR uid > 4294967295`},
	{"unique uid", `SELECT format('mailbox %s: uid %s is used %s times', mailbox_id, uid, count(*))
		FROM messages GROUP BY mailbox_id, uid HAVING count(*) > 1`},
	{"modseq", `SELECT format('mailbox %s (%s of account %s): uid %s has modseq %s above highestmodseq %s',
			b.id, b.name, b.account_id, m.uid, m.modseq, b.highestmodseq)
		FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE m.modseq > b.highestmodseq`},
	{"mailbox counters", `SELECT format('mailbox %s (%s of account %s): uidvalidity %s, uidnext %s, highestmodseq %s out of range',
			id, name, account_id, uidvalidity, uidnext, highestmodseq)
		FROM mailboxes WHERE uidvalidity < 1 OR uidvalidity > 4294967295 OR uidnext < 1 OR uidnext > 4294967295
			OR highestmodseq < 1`},
	{"blob refs", `SELECT format('blob %s: refs %s, but %s messages and %s queue rows use it', b.id, b.refs,
			(SELECT count(*) FROM messages m WHERE m.blob_id = b.id),
			(SELECT count(*) FROM queue q WHERE q.blob_id = b.id))
		FROM blobs b WHERE b.refs != (SELECT count(*) FROM messages m WHERE m.blob_id = b.id)
			+ (SELECT count(*) FROM queue q WHERE q.blob_id = b.id)`},
	{"expunged present", `SELECT format('mailbox %s: uid %s is recorded as expunged but still present', e.mailbox_id, e.uid)
		FROM expunged e JOIN messages m ON m.mailbox_id = e.mailbox_id AND m.uid = e.uid`},
	{"expunged counters", `SELECT format('mailbox %s: expunged uid %s with modseq %s, not below uidnext %s or above highestmodseq %s',
			b.id, e.uid, e.modseq, b.uidnext, b.highestmodseq)
		FROM expunged e JOIN mailboxes b ON b.id = e.mailbox_id WHERE e.uid >= b.uidnext OR e.modseq > b.highestmodseq`},
	{"mailbox usage", `SELECT format('mailbox %s (%s of account %s): counted %s messages of %s octets, holds %s of %s',
			b.id, b.name, b.account_id, b.message_count, b.message_bytes, count(m.id), coalesce(sum(m.size), 0))
		FROM mailboxes b LEFT JOIN messages m ON m.mailbox_id = b.id GROUP BY b.id
		HAVING b.message_count != count(m.id) OR b.message_bytes != coalesce(sum(m.size), 0)`},
	{"text index", `SELECT format('message %s: text_doc %s, but its blob %s has %s', m.id,
			coalesce(m.text_doc::text, 'NULL'), b.id, coalesce(b.text_doc::text, 'NULL'))
		FROM messages m JOIN blobs b ON b.id = m.blob_id WHERE m.text_doc IS DISTINCT FROM b.text_doc`},
	{"text index rows", `SELECT format('blob %s: text index row %s is missing', id, text_doc) FROM blobs b
		WHERE text_doc IS NOT NULL AND NOT EXISTS (SELECT 1 FROM message_text t WHERE t.id = b.text_doc)
		UNION ALL
		SELECT format('text index row %s belongs to no blob', id) FROM message_text t
		WHERE NOT EXISTS (SELECT 1 FROM blobs b WHERE b.text_doc = t.id)`},
	{"alias targets", `SELECT format('alias %s: target %s is neither an account nor an alias', a.address, t.target)
		FROM alias_targets t JOIN aliases a ON a.id = t.alias_id
		WHERE NOT EXISTS (SELECT 1 FROM accounts WHERE address = t.target)
			AND NOT EXISTS (SELECT 1 FROM aliases WHERE address = t.target)`},
	{"empty aliases", `SELECT format('alias %s has no target', address) FROM aliases a
		WHERE NOT EXISTS (SELECT 1 FROM alias_targets WHERE alias_id = a.id)`},
}

// Check verifies the invariants of store/sqlite's package documentation, from one snapshot,
// and returns one line per problem found.
func (s *Store) Check(ctx context.Context) ([]string, error) {
	var problems []string
	err := s.inReadTx(ctx, func(tx pgx.Tx) error {
		for _, c := range checks {
			rows, _ := tx.Query(ctx, c.query)
			lines, err := pgx.CollectRows(rows, scanString)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			problems = append(problems, lines...)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("check store: %w", err)
	}
	return problems, nil
}
