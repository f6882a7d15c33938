package postgres

import (
	"context"
	"fmt"
	"strings"
	"unicode/utf8"

	"posthorn/internal/message"
	"posthorn/internal/store"
)

// minTextQuery is the shortest query, in characters, SearchText answers: store/sqlite's trigram
// index answers none shorter, and both backends answer alike.
const minTextQuery = 3

// wholeHeaderSize is the largest message whose header's indexed text is surely whole: the
// text of a field is cut at message.MaxText octets, and decoding encoded words can make text
// up to three times longer than the octets it came from.
const wholeHeaderSize = message.MaxText / 3

// searchQuery reads the UIDs of a mailbox's messages whose text row matches the condition
// (%s, on message_text t, with the pattern as $2), and those of its messages without one (or,
// for FieldHeader, too large for their header's text to be whole: size above $3).
const searchQuery = `SELECT
	ARRAY(SELECT m.uid FROM messages m JOIN message_text t ON t.id = m.text_doc
		WHERE m.mailbox_id = b.id AND (%s) ORDER BY m.uid),
	ARRAY(SELECT m.uid FROM messages m WHERE m.mailbox_id = b.id AND (m.text_doc IS NULL OR m.size > $3)
		ORDER BY m.uid)
	FROM mailboxes b WHERE b.id = $1`

// SearchText finds the messages of a mailbox whose indexed text holds query as a substring,
// case-insensitively (text and query both lower-cased, compared bytewise), and lists apart
// those without indexed text. A query shorter than minTextQuery characters is
// store.ErrNotIndexable.
func (s *Store) SearchText(ctx context.Context, mailboxID int64, field store.TextField, query string) (matched, unindexed []uint32, err error) {
	if n := utf8.RuneCountInString(query); n < minTextQuery {
		return nil, nil, fmt.Errorf("search text of mailbox %d: %d characters: %w", mailboxID, n, store.ErrNotIndexable)
	}
	cond := "t.header LIKE $2 OR t.body LIKE $2"
	switch field {
	case store.FieldBody:
		cond = "t.body LIKE $2"
	case store.FieldHeader:
		cond = "t.header LIKE $2"
	}
	limit := int64(1<<63 - 1) // no message is too large: only the text_doc IS NULL ones
	if field == store.FieldHeader {
		limit = wholeHeaderSize
	}
	var hits, rest []int64
	err = s.pool.QueryRow(ctx, fmt.Sprintf(searchQuery, cond), mailboxID, likePattern(query), limit).Scan(&hits, &rest)
	if err != nil {
		return nil, nil, fmt.Errorf("search text of mailbox %d: %w", mailboxID, notFound(err))
	}
	return toUIDs(hits), toUIDs(rest), nil
}

// likePattern is the LIKE pattern matching text that holds query, lower-cased, as a substring:
// LIKE's wildcards and its escape character in query stand for themselves.
func likePattern(query string) string {
	escaped := strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(strings.ToLower(query))
	return "%" + escaped + "%"
}
