// Package bodystore is the contract between the code that handles message bodies and the
// backend that keeps them: a few interfaces and ErrNotFound, no implementation. It is its own
// package, below every user and every backend, so that the protocol servers (SMTP, IMAP, POP3)
// and the delivery service name no backend at all: internal/blob (files) implements it today,
// and a PostgreSQL or S3 store can come in behind the same interfaces without touching them.
//
// Who uses what:
//
//   - Bodies is what a protocol server reads through: open a committed body by id (IMAP FETCH
//     and SEARCH, POP3 RETR and TOP), remove one that nothing refers to any more (after
//     EXPUNGE, DELETE, POP3 QUIT).
//   - Store adds what internal/delivery needs to bring in a new body: Create one, and SyncAll
//     to make a batch of them durable together (group commit). Protocols never see a Writer:
//     they write new mail into a delivery.Draft, which owns it.
//
// A body is immutable once written: no interface changes a committed body.
package bodystore

import (
	"context"
	"errors"
	"io"
)

// ErrNotFound is the error, tested with errors.Is, of a body id that names no stored body
// (removed since its row was read, or never written).
var ErrNotFound = errors.New("message body not found")

// Body is one committed message body open for reading. Reads at any offset may run
// concurrently; Close releases it.
type Body interface {
	io.ReaderAt
	io.Closer
	// Size is the length of the body in octets. Readers that know it from the metadata (IMAP,
	// POP3, the queue's rows) need not ask: for some backends it costs a call.
	Size() (int64, error)
}

// Bodies reads and removes committed bodies.
type Bodies interface {
	// Open opens the body id; an unknown id is ErrNotFound.
	Open(ctx context.Context, id string) (Body, error)
	// Remove deletes the body id after its last reference went away; an unknown id is no
	// error.
	Remove(ctx context.Context, id string) error
}

// Writer receives the octets of one new body. Nothing refers to it until its store's SyncAll
// has returned and the metadata naming it is committed.
type Writer interface {
	io.Writer
	// ReadAt reads back what was written, for parsing before the commit.
	io.ReaderAt
	// ID is the body's id, known from its creation on (SMTP puts it in the Received header).
	ID() string
	// Size is the number of octets written so far.
	Size() int64
	// Close releases a body after SyncAll; the body stays.
	Close() error
	// Abort releases and deletes a body that will not be committed.
	Abort() error
}

// Store is a body backend: reading, and bringing in new bodies with group commit.
type Store interface {
	Bodies
	// Create starts a new body.
	Create(ctx context.Context) (Writer, error)
	// SyncAll makes every body of batch durable: after it returns without error, a crash
	// loses none of them. The batch's Writers come from this store's Create.
	SyncAll(ctx context.Context, batch []Writer) error
}
