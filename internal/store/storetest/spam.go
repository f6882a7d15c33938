package storetest

import (
	"errors"
	"fmt"
	"reflect"
	"testing"
	"time"

	"posthorn/internal/store"
)

// SpamBackend is a store with the spam classifier's storage.
type SpamBackend interface {
	store.Store
	store.SpamModel
	store.SpamLists
	store.Correspondents
	store.JunkMoveFeed
}

// RunSpam runs the conformance tests of the spam classifier's storage; open returns a new,
// empty store. It pins down: a message's training is undone when it is learnt as the other
// class or forgotten, a batch applies in order, counts never go below zero and tokens of 64
// bits survive; list entries are lower-cased, an entry is on one list only, matches are exact;
// an account keeps its store.MaxCorrespondents most recent correspondents, and those of an
// unknown account are skipped; junk moves are consumed once, a second consumer of the same
// moves failing with store.ErrJunkMovesConsumed and changing nothing.
func RunSpam(t *testing.T, open func(t *testing.T) SpamBackend) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, SpamBackend)
	}{
		{"TrainAndUnlearn", testSpamTrainAndUnlearn},
		{"Lists", testSpamLists},
		{"Correspondents", testCorrespondents},
		{"ConsumeJunkMoves", testConsumeJunkMoves},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

func testSpamTrainAndUnlearn(t *testing.T, s SpamBackend) {
	alice := withAlice(t, s)
	ctx := t.Context()
	toks := []uint64{1, 2, 1 << 63} // the top bit survives the signed column
	train := func(tr ...store.SpamTraining) {
		t.Helper()
		if err := s.TrainSpam(ctx, tr); err != nil {
			t.Fatal(err)
		}
	}
	check := func(what string, wantG, wantA store.SpamCounts, wantTok map[uint64]store.SpamCounts) {
		t.Helper()
		g, a, err := s.SpamTotals(ctx, alice.ID)
		if err != nil {
			t.Fatal(err)
		}
		if g != wantG || a != wantA {
			t.Errorf("%s: totals %v %v, want %v %v", what, g, a, wantG, wantA)
		}
		gt, at, err := s.SpamTokens(ctx, alice.ID, append(toks, 99))
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(gt, wantTok) || !reflect.DeepEqual(at, wantTok) {
			t.Errorf("%s: tokens %v %v, want %v in both", what, gt, at, wantTok)
		}
	}
	spam := store.SpamTraining{AccountID: alice.ID, BlobID: "b1", Spam: true, Tokens: toks}
	ham := spam
	ham.Spam = false
	train(spam)
	check("learnt as spam", store.SpamCounts{Spam: 1}, store.SpamCounts{Spam: 1},
		map[uint64]store.SpamCounts{1: {Spam: 1}, 2: {Spam: 1}, 1 << 63: {Spam: 1}})
	train(spam) // the same class again changes nothing
	check("spam again", store.SpamCounts{Spam: 1}, store.SpamCounts{Spam: 1},
		map[uint64]store.SpamCounts{1: {Spam: 1}, 2: {Spam: 1}, 1 << 63: {Spam: 1}})
	train(ham) // moved out of Junk: unlearn spam, learn ham
	check("moved to ham", store.SpamCounts{Ham: 1}, store.SpamCounts{Ham: 1},
		map[uint64]store.SpamCounts{1: {Ham: 1}, 2: {Ham: 1}, 1 << 63: {Ham: 1}})
	forget := ham
	forget.Forget = true
	train(spam, forget) // both in one batch: back to spam, then forgotten
	check("forgotten", store.SpamCounts{}, store.SpamCounts{}, map[uint64]store.SpamCounts{})
	// The global model alone, without a record.
	train(store.SpamTraining{Spam: true, Tokens: toks}, store.SpamTraining{Spam: true, Tokens: toks[:1]})
	g, a, err := s.SpamTotals(ctx, alice.ID)
	if err != nil || g != (store.SpamCounts{Spam: 2}) || a != (store.SpamCounts{}) {
		t.Errorf("global training: %v %v %v", g, a, err)
	}
}

func testSpamLists(t *testing.T, s SpamBackend) {
	alice := withAlice(t, s)
	ctx := t.Context()
	allow := store.SpamListEntry{Entry: "Friend@Example.NET"}
	block := store.SpamListEntry{Entry: "@spam.example", Block: true}
	for _, e := range []store.SpamListEntry{allow, block} {
		if err := s.AddSpamListEntry(ctx, alice.ID, e); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.AddSpamListEntry(ctx, alice.ID, store.SpamListEntry{Entry: "friend@example.net", Block: true}); !errors.Is(err, store.ErrExists) {
		t.Errorf("adding an entry of the allow list to the block list: %v, want ErrExists", err)
	}
	if err := s.AddSpamListEntry(ctx, alice.ID+99, allow); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("unknown account: %v, want ErrNotFound", err)
	}
	got, err := s.SpamListEntries(ctx, alice.ID)
	want := []store.SpamListEntry{{Entry: "friend@example.net"}, {Entry: "@spam.example", Block: true}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("entries %v %v, want %v", got, err, want)
	}
	got, err = s.MatchSpamList(ctx, alice.ID, []string{"x@spam.example", "@spam.example", "friend@example.net"})
	want = []store.SpamListEntry{{Entry: "@spam.example", Block: true}, {Entry: "friend@example.net"}}
	if err != nil || !reflect.DeepEqual(got, want) {
		t.Errorf("match %v %v, want %v", got, err, want)
	}
	if err := s.RemoveSpamListEntry(ctx, alice.ID, store.SpamListEntry{Entry: "@spam.example"}); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("removing from the wrong list: %v, want ErrNotFound", err)
	}
	if err := s.RemoveSpamListEntry(ctx, alice.ID, block); err != nil {
		t.Fatal(err)
	}
}

func testCorrespondents(t *testing.T, s SpamBackend) {
	alice := withAlice(t, s)
	ctx := t.Context()
	known, any, err := s.KnownCorrespondent(ctx, alice.ID, "bob@example.net")
	if err != nil || known || any {
		t.Fatalf("empty: %v %v %v", known, any, err)
	}
	now := time.Now()
	var cs []store.Correspondent
	for i := range store.MaxCorrespondents + 10 {
		cs = append(cs, store.Correspondent{AccountID: alice.ID, Address: fmt.Sprintf("a%d@example.net", i), At: now.Add(time.Duration(i) * time.Second)})
	}
	cs = append(cs, store.Correspondent{AccountID: alice.ID + 99, Address: "ghost@example.net", At: now})
	if err := s.NoteCorrespondents(ctx, cs); err != nil {
		t.Fatal(err)
	}
	for addr, want := range map[string]bool{"A5009@example.net": true, "a10@example.net": true, "a9@example.net": false, "bob@example.net": false} {
		known, any, err := s.KnownCorrespondent(ctx, alice.ID, addr)
		if err != nil || known != want || !any {
			t.Errorf("%s: known %v any %v %v, want %v true", addr, known, any, err, want)
		}
	}
}

func testConsumeJunkMoves(t *testing.T, s SpamBackend) {
	alice := withAlice(t, s)
	ctx := t.Context()
	for i, toJunk := range []bool{true, false, true} {
		if err := s.RecordJunkMove(ctx, alice.ID, fmt.Sprintf("blob%d", i), toJunk, time.Now()); err != nil {
			t.Fatal(err)
		}
	}
	moves, err := s.PendingJunkMoves(ctx, 2)
	if err != nil || len(moves) != 2 || !moves[0].ToJunk || moves[1].ToJunk || moves[0].BlobID != "blob0" {
		t.Fatalf("pending: %+v %v", moves, err)
	}
	batch := []store.SpamTraining{{AccountID: alice.ID, BlobID: "blob0", Spam: true, Tokens: []uint64{7}}}
	if err := s.ConsumeJunkMoves(ctx, moves, batch); err != nil {
		t.Fatal(err)
	}
	// A second trainer with the same moves changes nothing.
	if err := s.ConsumeJunkMoves(ctx, moves, batch); !errors.Is(err, store.ErrJunkMovesConsumed) {
		t.Errorf("consuming again: %v, want ErrJunkMovesConsumed", err)
	}
	g, _, err := s.SpamTotals(ctx, alice.ID)
	if err != nil || g != (store.SpamCounts{Spam: 1}) {
		t.Errorf("totals %v %v, want one spam", g, err)
	}
	rest, err := s.PendingJunkMoves(ctx, 10)
	if err != nil || len(rest) != 1 || rest[0].BlobID != "blob2" {
		t.Errorf("left: %+v %v", rest, err)
	}
}
