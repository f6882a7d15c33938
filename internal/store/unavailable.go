package store

import "errors"

// A store error is either a definite answer about the data (ErrNotFound, ErrExists, ErrInUse,
// ErrUnknownDomain, ErrNoSuchUser, ErrConflict, ErrNotIndexable: asking again gives the same
// answer until the data changes) or a failure to answer at all: the database is gone, a
// connection was cut, a disk failed, a deadline passed. A backend cannot tell the second kind
// apart reliably (SQLite's "disk I/O error", pgx's "connection refused" and a context
// deadline look nothing alike), so the servers classify by the first: whatever is not a
// definite answer is temporary. The protocols answer a temporary failure with their
// "try again later" (SMTP 451 4.3.0, or 454 4.7.0 for AUTH; IMAP NO [UNAVAILABLE], RFC 5530;
// POP3 -ERR [SYS/TEMP], RFC 3206), never with a permanent refusal, never with a success the
// store did not confirm, and keep nothing of the failure: the next command asks the store
// again.

// IsDefinite reports whether err is a definite answer of the store about the data.
func IsDefinite(err error) bool {
	for _, d := range definite {
		if errors.Is(err, d) {
			return true
		}
	}
	return false
}

// IsTemporary reports whether err is a failure of the store to answer (see IsDefinite): not
// nil and not a definite answer.
func IsTemporary(err error) bool {
	return err != nil && !IsDefinite(err)
}

var definite = []error{ErrNotFound, ErrExists, ErrInUse, ErrUnknownDomain, ErrNoSuchUser, ErrConflict, ErrNotIndexable}
