package store

import "context"

// ImportLedger is the record of the messages internal/importer copied into each mailbox, by a
// key of the message's raw octets (Target.ImportKey), so that a second run copies nothing that
// is there already. A backend that has it implements it beside Store; the rows go with their
// mailbox.
type ImportLedger interface {
	// Imported reports whether the mailbox holds an imported message with this key.
	Imported(ctx context.Context, mailboxID int64, key []byte) (bool, error)
}
