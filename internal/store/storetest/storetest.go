// Package storetest is the conformance suite every store.Store backend passes: the same subtests
// run against store/sqlite (and any later backend), so the backends behave the same to callers.
//
// A backend's test calls Run with a function that opens a new, empty store; that function closes
// the store itself, with t.Cleanup. The suite pins down what the store.Store documentation leaves
// to a reading of the model:
//   - domains and addresses are lower-cased; alias targets are lower-cased and deduplicated, in
//     the order given;
//   - List methods return domains, accounts and aliases sorted by name or address, mailboxes in
//     creation order (store.DefaultMailboxes first); a List of an unknown parent (domain, account,
//     mailbox) is store.ErrNotFound;
//   - the mailbox name INBOX is case-insensitive (RFC 9051 §5.1);
//   - removing an account or alias removes the alias targets naming it, and an alias left
//     without target goes too;
//   - a new mailbox starts with UIDNEXT 1 and a HIGHESTMODSEQ of at least 1 (RFC 7162 §3.1.1);
//     each delivered message takes the mailbox's UIDNEXT as UID and HIGHESTMODSEQ+1 as MODSEQ.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"posthorn/internal/store"
)

// Run runs the conformance suite; open returns a new, empty store for one subtest.
func Run(t *testing.T, open func(t *testing.T) store.Store) {
	tests := []struct {
		name string
		fn   func(f *fixture)
	}{
		{"Domains", testDomains},
		{"RemoveDomainInUse", testRemoveDomainInUse},
		{"Accounts", testAccounts},
		{"DefaultMailboxes", testDefaultMailboxes},
		{"UIDValidityNotReused", testUIDValidityNotReused},
		{"Aliases", testAliases},
		{"AliasErrors", testAliasErrors},
		{"RemovePrunesAliases", testRemovePrunesAliases},
		{"DeliverAssignsUIDsAndModSeqs", testDeliverCounters},
		{"DeliverRoundTrip", testDeliverRoundTrip},
		{"DeliverBatchIsAtomic", testDeliverAtomic},
		{"DeliverInvalid", testDeliverInvalid},
		{"BlobRefcounts", testBlobRefcounts},
		{"BlobIDs", testBlobIDs},
		{"Resolve", testResolve},
		{"ConcurrentDeliver", testConcurrentDeliver},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &fixture{t: t, ctx: t.Context(), s: open(t)}
			tt.fn(f)
			f.checkClean()
		})
	}
}

// fixture carries a subtest's store and its helpers, which fail the test on any error.
type fixture struct {
	t     *testing.T
	ctx   context.Context
	s     store.Store
	blobs int // blob ids handed out by delivery
}

func (f *fixture) domain(name string) store.Domain {
	f.t.Helper()
	d, err := f.s.AddDomain(f.ctx, name)
	if err != nil {
		f.t.Fatal(err)
	}
	return d
}

func (f *fixture) account(address string) store.Account {
	f.t.Helper()
	a, err := f.s.AddAccount(f.ctx, address, "hash-of-"+address)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

func (f *fixture) alias(address string, targets ...string) store.Alias {
	f.t.Helper()
	a, err := f.s.AddAlias(f.ctx, address, targets)
	if err != nil {
		f.t.Fatal(err)
	}
	return a
}

func (f *fixture) mailbox(a store.Account, name string) store.Mailbox {
	f.t.Helper()
	m, err := f.s.GetMailbox(f.ctx, a.ID, name)
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

func (f *fixture) messages(m store.Mailbox) []store.Message {
	f.t.Helper()
	msgs, err := f.s.ListMessages(f.ctx, m.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return msgs
}

// delivery returns a delivery of a new blob id to the INBOX of each account.
func (f *fixture) delivery(to ...store.Account) store.Delivery {
	targets := make([]store.Target, len(to))
	for i, a := range to {
		targets[i] = store.Target{AccountID: a.ID, Mailbox: "INBOX"}
	}
	return f.deliveryTo(targets...)
}

// deliveryTo returns a delivery of a new blob id to the targets.
func (f *fixture) deliveryTo(targets ...store.Target) store.Delivery {
	f.blobs++
	return store.Delivery{
		BlobID:       fmt.Sprintf("20260102-%024x", f.blobs),
		Size:         int64(100 + f.blobs),
		InternalDate: time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).Add(time.Duration(f.blobs) * time.Second),
		Envelope:     fmt.Appendf(nil, "envelope %d", f.blobs),
		Structure:    fmt.Appendf(nil, "structure %d", f.blobs),
		Targets:      targets,
	}
}

func (f *fixture) deliver(ds ...store.Delivery) [][]store.Delivered {
	f.t.Helper()
	res, err := f.s.Deliver(f.ctx, ds)
	if err != nil {
		f.t.Fatal(err)
	}
	if len(res) != len(ds) {
		f.t.Fatalf("Deliver of %d deliveries returned %d results", len(ds), len(res))
	}
	for i, d := range ds {
		if len(res[i]) != len(d.Targets) {
			f.t.Fatalf("delivery %d: %d results for %d targets", i, len(res[i]), len(d.Targets))
		}
	}
	return res
}

func (f *fixture) removeAccount(address string) []string {
	f.t.Helper()
	gone, err := f.s.RemoveAccount(f.ctx, address)
	if err != nil {
		f.t.Fatal(err)
	}
	return gone
}

func (f *fixture) hasBlob(id string) bool {
	f.t.Helper()
	ok, err := f.s.HasBlob(f.ctx, id)
	if err != nil {
		f.t.Fatal(err)
	}
	return ok
}

// checkClean fails the test if Check finds a problem.
func (f *fixture) checkClean() {
	f.t.Helper()
	problems, err := f.s.Check(f.ctx)
	if err != nil {
		f.t.Fatal(err)
	}
	for _, p := range problems {
		f.t.Errorf("Check: %s", p)
	}
}

// wantErr fails the test unless errors.Is(err, target).
func wantErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Fatalf("%s: error %v, want %v", what, err, target)
	}
}
