// Package faultstore wraps a test store (storeenv.Store, SQLite underneath) so that a test can
// make it fail like a database that went away: while Fail(true) holds, every call returns
// ErrLost, an error that is no definite answer (store.IsTemporary), as a cut connection or a
// database that does not answer gives, and reaches nothing underneath; Fail(false) and every
// call works again on the same store. The change feed (Subscribe) and Close are passed through.
//
// It is the same Store for every interface a server finds on its store: the metadata store,
// submission's, the login store, the credentials the authenticator reads, and greylisting's.
// The methods are one line of forwarding each (methods.go, written from those interfaces); the
// wrapped store is embedded, so a method added to an interface since works through it, without
// faults, until it gets its line there.
package faultstore

import (
	"errors"
	"sync/atomic"

	"posthorn/internal/store"
	"posthorn/internal/testutil/storeenv"
)

// ErrLost is what every call returns while the store fails.
var ErrLost = errors.New("faultstore: connection to the database lost")

// Store is a storeenv.Store that fails on demand.
type Store struct {
	storeenv.Store
	on     atomic.Bool
	failed atomic.Int64
}

// New wraps inner, working until Fail(true).
func New(inner storeenv.Store) *Store {
	return &Store{Store: inner}
}

// Fail switches the fault on (every call fails with ErrLost) or off.
func (s *Store) Fail(on bool) { s.on.Store(on) }

// Failed is the number of calls failed so far.
func (s *Store) Failed() int64 { return s.failed.Load() }

// Inner is the wrapped store, which never fails: for a test's own checks.
func (s *Store) Inner() storeenv.Store { return s.Store }

func (s *Store) fault() error {
	if s.on.Load() {
		s.failed.Add(1)
		return ErrLost
	}
	return nil
}

// greylist is the wrapped store's greylisting.
func (s *Store) greylist() store.GreylistStore {
	return s.Store.(store.GreylistStore)
}

var (
	_ storeenv.Store      = (*Store)(nil)
	_ store.GreylistStore = (*Store)(nil)
)
