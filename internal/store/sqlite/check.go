package sqlite

import (
	"context"
	"database/sql"
	"fmt"
)

// blobPage is how many blob ids BlobIDs reads per query.
const blobPage = 1000

// BlobIDs calls fn for every referenced blob id, in id order. It reads the ids a page at a time
// and holds no transaction open while fn runs, so fn may use the store.
func (s *Store) BlobIDs(ctx context.Context, fn func(id string) error) error {
	after := ""
	for {
		rows, err := s.read.QueryContext(ctx, `SELECT id FROM blobs WHERE id > ? AND refs > 0 ORDER BY id LIMIT ?`,
			after, blobPage)
		if err != nil {
			return fmt.Errorf("list blobs: %w", err)
		}
		ids, err := collect(rows, scanString)
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
	if err := s.read.QueryRowContext(ctx, `SELECT EXISTS (SELECT 1 FROM blobs WHERE id = ? AND refs > 0)`,
		id).Scan(&ok); err != nil {
		return false, fmt.Errorf("has blob %s: %w", id, err)
	}
	return ok, nil
}

// checks are the queries of Check: each returns one text column, a problem per row.
var checks = []struct {
	name  string
	query string
}{
	{"integrity", `SELECT integrity_check FROM pragma_integrity_check WHERE integrity_check != 'ok'`},
	{"foreign keys", `SELECT format('%s row %d refers to a missing row of %s', "table", rowid, parent)
		FROM pragma_foreign_key_check`},
	{"uidnext", `SELECT format('mailbox %d (%s of account %d): uid %d is not below uidnext %d',
			b.id, b.name, b.account_id, m.uid, b.uidnext)
		FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE m.uid >= b.uidnext`},
	{"uid range", `SELECT format('message %d: uid %d is not a 32-bit positive number', id, uid)
		FROM messages WHERE uid < 1 OR uid > 4294967295`},
	{"unique uid", `SELECT format('mailbox %d: uid %d is used %d times', mailbox_id, uid, count(*))
		FROM messages GROUP BY mailbox_id, uid HAVING count(*) > 1`},
	{"modseq", `SELECT format('mailbox %d (%s of account %d): uid %d has modseq %d above highestmodseq %d',
			b.id, b.name, b.account_id, m.uid, m.modseq, b.highestmodseq)
		FROM messages m JOIN mailboxes b ON b.id = m.mailbox_id WHERE m.modseq > b.highestmodseq`},
	{"mailbox counters", `SELECT format('mailbox %d (%s of account %d): uidvalidity %d, uidnext %d, highestmodseq %d out of range',
			id, name, account_id, uidvalidity, uidnext, highestmodseq)
		FROM mailboxes WHERE uidvalidity < 1 OR uidvalidity > 4294967295 OR uidnext < 1 OR uidnext > 4294967295
			OR highestmodseq < 1`},
	{"blob refs", `SELECT format('blob %s: refs %d, but %d messages and %d queue rows use it', b.id, b.refs,
			(SELECT count(*) FROM messages m WHERE m.blob_id = b.id),
			(SELECT count(*) FROM queue q WHERE q.blob_id = b.id))
		FROM blobs b WHERE b.refs != (SELECT count(*) FROM messages m WHERE m.blob_id = b.id)
			+ (SELECT count(*) FROM queue q WHERE q.blob_id = b.id)`},
	{"expunged present", `SELECT format('mailbox %d: uid %d is recorded as expunged but still present', e.mailbox_id, e.uid)
		FROM expunged e JOIN messages m ON m.mailbox_id = e.mailbox_id AND m.uid = e.uid`},
	{"expunged counters", `SELECT format('mailbox %d: expunged uid %d with modseq %d, not below uidnext %d or above highestmodseq %d',
			b.id, e.uid, e.modseq, b.uidnext, b.highestmodseq)
		FROM expunged e JOIN mailboxes b ON b.id = e.mailbox_id WHERE e.uid >= b.uidnext OR e.modseq > b.highestmodseq`},
	{"mailbox usage", `SELECT format('mailbox %d (%s of account %d): counted %d messages of %d octets, holds %d of %d',
			b.id, b.name, b.account_id, b.message_count, b.message_bytes, count(m.id), coalesce(sum(m.size), 0))
		FROM mailboxes b LEFT JOIN messages m ON m.mailbox_id = b.id GROUP BY b.id
		HAVING b.message_count != count(m.id) OR b.message_bytes != coalesce(sum(m.size), 0)`},
	{"text index", `SELECT format('message %d: text_doc %s, but its blob %s has %s', m.id,
			coalesce(m.text_doc, 'NULL'), b.id, coalesce(b.text_doc, 'NULL'))
		FROM messages m JOIN blobs b ON b.id = m.blob_id WHERE m.text_doc IS NOT b.text_doc`},
	{"text index rows", `SELECT format('blob %s: text index row %d is missing', id, text_doc) FROM blobs
		WHERE text_doc IS NOT NULL AND text_doc NOT IN (SELECT rowid FROM message_text)
		UNION ALL
		SELECT format('text index row %d belongs to no blob', rowid) FROM message_text
		WHERE rowid NOT IN (SELECT text_doc FROM blobs WHERE text_doc IS NOT NULL)`},
	{"alias targets", `SELECT format('alias %s: target %s is neither an account nor an alias', a.address, t.target)
		FROM alias_targets t JOIN aliases a ON a.id = t.alias_id
		WHERE NOT EXISTS (SELECT 1 FROM accounts WHERE address = t.target)
			AND NOT EXISTS (SELECT 1 FROM aliases WHERE address = t.target)`},
	{"empty aliases", `SELECT format('alias %s has no target', address) FROM aliases a
		WHERE NOT EXISTS (SELECT 1 FROM alias_targets WHERE alias_id = a.id)`},
}

// Check verifies the invariants of the package documentation and SQLite's integrity check, from
// one snapshot, and returns one line per problem found.
func (s *Store) Check(ctx context.Context) ([]string, error) {
	var problems []string
	err := s.inReadTx(ctx, func(tx *sql.Tx) error {
		for _, c := range checks {
			rows, err := tx.QueryContext(ctx, c.query)
			if err != nil {
				return fmt.Errorf("%s: %w", c.name, err)
			}
			lines, err := collect(rows, scanString)
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
