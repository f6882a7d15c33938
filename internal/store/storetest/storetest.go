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
//     each delivered message takes the mailbox's UIDNEXT as UID and HIGHESTMODSEQ+1 as MODSEQ;
//   - flags are stored normalised: system flags in canonical case, no flag twice (keywords
//     compared case-insensitively, the first spelling kept), never \Recent; UpdateFlags,
//     Expunge, Copy and Move take exactly one new MODSEQ per mailbox they change, and a call
//     that changes nothing takes none and publishes nothing;
//   - Copy and Move assign destination UIDs in source UID order and leave out UIDs without a
//     message; Move records the source UIDs for ExpungedSince;
//   - DeleteMailbox leaves the mailboxes below it and the subscriptions; RenameMailbox of a
//     tree keeps ids and UIDVALIDITY; renaming INBOX renumbers its messages from 1 in a new
//     mailbox;
//   - SearchText matches a substring of the text as delivered (store.Text), case-insensitively,
//     in one mailbox, copies and moved messages included; a message delivered without text is
//     reported apart, and a query shorter than the index can answer is store.ErrNotIndexable;
//   - AccountUsage counts a message once per mailbox it is in; a new account's QuotaBytes is
//     store.QuotaDefault; account-level methods on an
//     unknown account, and mailbox-level ones on an unknown mailbox, are store.ErrNotFound.
package storetest

import (
	"context"
	"errors"
	"fmt"
	"slices"
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
		{"CreateMailbox", testCreateMailbox},
		{"DeleteMailbox", testDeleteMailbox},
		{"RenameMailbox", testRenameMailbox},
		{"Subscriptions", testSubscriptions},
		{"ReadMessages", testReadMessages},
		{"UnknownMailbox", testUnknownMailbox},
		{"UpdateFlags", testUpdateFlags},
		{"ModSeqMonotonic", testModSeqMonotonic},
		{"Expunge", testExpunge},
		{"RemoveMessages", testRemoveMessages},
		{"CopyMove", testCopyMove},
		{"ChangeFeed", testChangeFeed},
		{"SearchText", testSearchText},
		{"TextBacklog", testTextBacklog},
		{"AccountUsage", testAccountUsage},
		{"Quota", testQuota},
		{"RecordJunkMove", testRecordJunkMove},
		{"Keywords", testKeywords},
		{"ClaimRecent", testClaimRecent},
		{"GetMessageMeta", testGetMessageMeta},
		{"MetaChangedSince", testMetaChangedSince},
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

func (f *fixture) create(a store.Account, name, specialUse string) store.Mailbox {
	f.t.Helper()
	m, err := f.s.CreateMailbox(f.ctx, a.ID, name, specialUse)
	if err != nil {
		f.t.Fatal(err)
	}
	return m
}

// byID returns a mailbox as it is now.
func (f *fixture) byID(m store.Mailbox) store.Mailbox {
	f.t.Helper()
	got, err := f.s.GetMailboxByID(f.ctx, m.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return got
}

// deliverTo delivers n new messages to one mailbox in one batch and returns their UIDs.
func (f *fixture) deliverTo(a store.Account, mailbox string, n int, flags ...string) []uint32 {
	f.t.Helper()
	ds := make([]store.Delivery, n)
	for i := range ds {
		ds[i] = f.deliveryTo(store.Target{AccountID: a.ID, Mailbox: mailbox, Flags: flags})
	}
	var uids []uint32
	for _, r := range f.deliver(ds...) {
		uids = append(uids, r[0].UID)
	}
	return uids
}

func (f *fixture) uids(m store.Mailbox) []uint32 {
	f.t.Helper()
	uids, err := f.s.ListUIDs(f.ctx, m.ID)
	if err != nil {
		f.t.Fatal(err)
	}
	return uids
}

func (f *fixture) get(m store.Mailbox, uids ...uint32) []store.Message {
	f.t.Helper()
	msgs, err := f.s.GetMessages(f.ctx, m.ID, uids)
	if err != nil {
		f.t.Fatal(err)
	}
	return msgs
}

func (f *fixture) updateFlags(m store.Mailbox, uids []uint32, op store.FlagOp, flags []string,
	unchangedSince uint64) ([]store.FlagUpdate, []uint32) {
	f.t.Helper()
	updated, failed, err := f.s.UpdateFlags(f.ctx, m.ID, uids, op, flags, unchangedSince)
	if err != nil {
		f.t.Fatal(err)
	}
	f.checkClean()
	return updated, failed
}

func (f *fixture) expunge(m store.Mailbox, uids []uint32) (expunged []uint32, unreferenced []string) {
	f.t.Helper()
	expunged, unreferenced, err := f.s.Expunge(f.ctx, m.ID, uids)
	if err != nil {
		f.t.Fatal(err)
	}
	f.checkClean()
	return expunged, unreferenced
}

// remove marks messages \Deleted and expunges them.
func (f *fixture) remove(m store.Mailbox, uids ...uint32) []string {
	f.t.Helper()
	f.updateFlags(m, uids, store.FlagsAdd, []string{`\Deleted`}, 0)
	got, unreferenced := f.expunge(m, uids)
	if !slices.Equal(got, uids) {
		f.t.Fatalf("Expunge of %v in %s removed %v", uids, m.Name, got)
	}
	return unreferenced
}

func (f *fixture) expungedSince(m store.Mailbox, modseq uint64) []uint32 {
	f.t.Helper()
	uids, err := f.s.ExpungedSince(f.ctx, m.ID, modseq)
	if err != nil {
		f.t.Fatal(err)
	}
	return uids
}

func (f *fixture) changedSince(m store.Mailbox, modseq uint64) []uint32 {
	f.t.Helper()
	msgs, err := f.s.ChangedSince(f.ctx, m.ID, modseq)
	if err != nil {
		f.t.Fatal(err)
	}
	return messageUIDs(msgs)
}

func messageUIDs(msgs []store.Message) []uint32 {
	uids := make([]uint32, len(msgs))
	for i, m := range msgs {
		uids[i] = m.UID
	}
	return uids
}
