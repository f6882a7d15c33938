package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"
	"strings"
	"unicode/utf8"

	"posthorn/internal/message"
	"posthorn/internal/store"
)

// minTextQuery is the shortest query, in characters, the trigram index answers: a shorter one
// holds no trigram to look up.
const minTextQuery = 3

// searchTextQuery reads, from one snapshot, the UIDs of a mailbox's messages whose text row
// matches, and those of its messages without one. The first goes from the index's matches to
// the (mailbox_id, text_doc) index; the second is a range of that index.
const searchTextQuery = `SELECT
	(SELECT group_concat(uid, ' ') FROM (SELECT uid FROM messages WHERE mailbox_id = b.id
		AND text_doc IN (SELECT rowid FROM message_text WHERE message_text MATCH ?) ORDER BY uid)),
	(SELECT group_concat(uid, ' ') FROM (SELECT uid FROM messages WHERE mailbox_id = b.id
		AND text_doc IS NULL ORDER BY uid))
	FROM mailboxes b WHERE id = ?`

// searchHeaderQuery is searchTextQuery for FieldHeader: besides the messages without text, it
// lists apart those large enough that their header may be longer than its indexed text.
const searchHeaderQuery = `SELECT
	(SELECT group_concat(uid, ' ') FROM (SELECT uid FROM messages WHERE mailbox_id = b.id
		AND text_doc IN (SELECT rowid FROM message_text WHERE message_text MATCH ?) ORDER BY uid)),
	(SELECT group_concat(uid, ' ') FROM (SELECT uid FROM messages WHERE mailbox_id = b.id
		AND (text_doc IS NULL OR size > ?) ORDER BY uid))
	FROM mailboxes b WHERE id = ?`

// wholeHeaderSize is the largest message whose header's indexed text is surely whole: the
// text of a field is cut at message.MaxText octets, and decoding encoded words can make text
// up to three times longer than the octets it came from.
const wholeHeaderSize = message.MaxText / 3

// SearchText finds the messages of a mailbox whose indexed text holds query as a substring,
// case-insensitively (the trigram tokenizer folds case), and lists apart those without indexed
// text. A query shorter than minTextQuery characters is store.ErrNotIndexable.
func (s *Store) SearchText(ctx context.Context, mailboxID int64, field store.TextField, query string) (matched, unindexed []uint32, err error) {
	if utf8.RuneCountInString(query) < minTextQuery {
		return nil, nil, fmt.Errorf("search text of mailbox %d: %d characters: %w", mailboxID,
			utf8.RuneCountInString(query), store.ErrNotIndexable)
	}
	var hits, rest sql.NullString
	if field == store.FieldHeader {
		err = s.read.QueryRowContext(ctx, searchHeaderQuery, matchPhrase(field, query), wholeHeaderSize,
			mailboxID).Scan(&hits, &rest)
	} else {
		err = s.read.QueryRowContext(ctx, searchTextQuery, matchPhrase(field, query), mailboxID).Scan(&hits, &rest)
	}
	if errors.Is(err, sql.ErrNoRows) {
		err = store.ErrNotFound
	}
	if err == nil {
		if matched, err = parseUIDList(hits.String); err == nil {
			unindexed, err = parseUIDList(rest.String)
		}
	}
	if err != nil {
		return nil, nil, fmt.Errorf("search text of mailbox %d: %w", mailboxID, err)
	}
	return matched, unindexed, nil
}

// matchPhrase is the FTS5 query for query as one phrase (a double quote doubled inside it), in
// column body, column header, or both. Every character of a phrase counts for the trigram
// tokenizer, white space and punctuation included.
func matchPhrase(field store.TextField, query string) string {
	phrase := `"` + strings.ReplaceAll(query, `"`, `""`) + `"`
	switch field {
	case store.FieldBody:
		return "{body} : " + phrase
	case store.FieldHeader:
		return "{header} : " + phrase
	}
	return phrase
}
