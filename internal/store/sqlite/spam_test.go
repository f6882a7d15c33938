package sqlite

import (
	"testing"

	"posthorn/internal/store"
	"posthorn/internal/store/storetest"
)

func TestSpamConformance(t *testing.T) {
	storetest.RunSpam(t, func(t *testing.T) storetest.SpamBackend {
		s, _ := openTemp(t)
		return s
	})
}

// TestSpamTokensPruned: a token whose counts fall back to zero leaves no row behind.
func TestSpamTokensPruned(t *testing.T) {
	s, alice := openWithAlice(t)
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
	if err := s.read.QueryRow(`SELECT count(*) FROM spam_tokens`).Scan(&rows); err != nil || rows != 0 {
		t.Errorf("%d token rows left at zero counts (%v), want none", rows, err)
	}
}
