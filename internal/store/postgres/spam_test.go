package postgres

import (
	"errors"
	"testing"

	"posthorn/internal/store"
	"posthorn/internal/store/storetest"
)

func TestSpamConformance(t *testing.T) {
	storetest.RunSpam(t, func(t *testing.T) storetest.SpamBackend {
		return openStore(t)
	})
}

// TestSpamTokensPruned: a token whose counts fall back to zero leaves no row behind.
func TestSpamTokensPruned(t *testing.T) {
	s, alice := withAlice(t)
	ctx := t.Context()
	spam := store.SpamTraining{AccountID: alice.ID, BlobID: "b1", Spam: true, Tokens: []uint64{1, 2}}
	forget := spam
	forget.Forget = true
	for _, batch := range [][]store.SpamTraining{{spam}, {forget}} {
		if err := s.TrainSpam(ctx, batch); err != nil {
			t.Fatal(err)
		}
	}
	var rows int
	if err := s.pool.QueryRow(ctx, `SELECT count(*) FROM spam_tokens`).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("%d token rows left at zero counts (%v), want none", rows, err)
	}
}

// TestConsumeJunkMovesTwoNodes: two nodes consuming the same moves at once train them once.
func TestConsumeJunkMovesTwoNodes(t *testing.T) {
	s, alice := withAlice(t)
	other := openURL(t, s.pool.Config().ConnString())
	ctx := t.Context()
	if _, err := s.pool.Exec(ctx, `INSERT INTO junk_moves (account_id, blob_id, to_junk, at) VALUES ($1, 'b', true, 1)`,
		alice.ID); err != nil {
		t.Fatal(err)
	}
	moves, err := s.PendingJunkMoves(ctx, 10)
	if err != nil || len(moves) != 1 {
		t.Fatalf("pending: %v %v", moves, err)
	}
	batch := []store.SpamTraining{{AccountID: alice.ID, BlobID: "b", Spam: true, Tokens: []uint64{1, 2, 3}}}
	errs := make(chan error, 2)
	for _, n := range []*Store{s, other} {
		go func() { errs <- n.ConsumeJunkMoves(ctx, moves, batch) }()
	}
	var consumed, refused int
	for range 2 {
		switch err := <-errs; {
		case err == nil:
			consumed++
		case errors.Is(err, store.ErrJunkMovesConsumed):
			refused++
		default:
			t.Fatal(err)
		}
	}
	if consumed != 1 || refused != 1 {
		t.Errorf("%d consumed, %d refused; want one each", consumed, refused)
	}
	if g, a, err := s.SpamTotals(ctx, alice.ID); err != nil || g != (store.SpamCounts{Spam: 1}) || a != g {
		t.Errorf("totals %v %v %v, want one spam in each", g, a, err)
	}
}
