package spam

import (
	"context"
	"reflect"
	"testing"
	"time"

	"posthorn/internal/store"
)

// TestCachedModel: cached lookups equal the store's, training through the cache or Changed
// refreshes them, the TTL and the bound empty the cache, an account's lookups pass through.
func TestCachedModel(t *testing.T) {
	st, alice := openStore(t)
	ctx := context.Background()
	cm := NewCachedModel(st)
	lookup := func(account int64, toks ...uint64) map[uint64]store.SpamCounts {
		t.Helper()
		g, _, err := cm.SpamTokens(ctx, account, toks)
		if err != nil {
			t.Fatal(err)
		}
		return g
	}
	train := func(m store.SpamModel, toks ...uint64) {
		t.Helper()
		if err := m.TrainSpam(ctx, []store.SpamTraining{{AccountID: alice.ID, Spam: true, Tokens: toks}}); err != nil {
			t.Fatal(err)
		}
	}
	one := store.SpamCounts{Spam: 1}
	two := store.SpamCounts{Spam: 2}
	train(st, 1)
	if g := lookup(0, 1, 2); !reflect.DeepEqual(g, map[uint64]store.SpamCounts{1: one}) {
		t.Fatalf("first lookup %v", g)
	}
	train(st, 1, 2) // behind the cache's back
	if g := lookup(0, 1, 2); !reflect.DeepEqual(g, map[uint64]store.SpamCounts{1: one}) {
		t.Errorf("cached lookup %v, want the counts as cached (absent 2 included)", g)
	}
	if g := lookup(alice.ID, 1, 2); !reflect.DeepEqual(g, map[uint64]store.SpamCounts{1: two, 2: one}) {
		t.Errorf("an account's lookup %v, want the store's", g)
	}
	cm.Changed()
	if g := lookup(0, 1, 2); !reflect.DeepEqual(g, map[uint64]store.SpamCounts{1: two, 2: one}) {
		t.Errorf("after Changed %v", g)
	}
	train(cm, 2)
	if g := lookup(0, 2); g[2] != two {
		t.Errorf("after training through the cache %v", g)
	}
	train(st, 2)
	cm.TTL = time.Nanosecond
	time.Sleep(time.Millisecond)
	if g := lookup(0, 2); g[2] != (store.SpamCounts{Spam: 3}) {
		t.Errorf("after the TTL %v", g)
	}
	cm.TTL, cm.MaxTokens = time.Hour, 3
	lookup(0, 10, 11, 12)
	lookup(0, 13, 14)
	cm.mu.Lock()
	n := len(cm.tokens)
	cm.mu.Unlock()
	if n != 2 {
		t.Errorf("%d tokens cached, want 2: the cache is emptied before it would pass MaxTokens", n)
	}
}
