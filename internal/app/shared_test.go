package app

import (
	"context"
	"path/filepath"
	"testing"
	"time"

	"posthorn/internal/store"
	"posthorn/internal/store/sqlite"
)

// nodesStore is a store that several nodes share, as PostgreSQL is.
type nodesStore struct {
	*sqlite.Store
}

func (nodesStore) SharedByNodes() bool { return true }

// TestSharedState: the throttling and the maildrop locks go to the store only when it is
// shared by nodes; the SQLite store of one process keeps them in memory.
func TestSharedState(t *testing.T) {
	st, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	if ts, ls := sharedState(st); ts != nil || ls != nil {
		t.Errorf("SQLite alone: shared state %v, %v; want none", ts, ls)
	}
	ts, ls := sharedState(nodesStore{st})
	if ts == nil || ls == nil {
		t.Fatalf("a store shared by nodes: shared state %v, %v", ts, ls)
	}
	if ok, err := ls.TryAcquireLease(t.Context(), store.MaildropLease(1), "node", time.Minute); err != nil || !ok {
		t.Errorf("lease: %v, %v", ok, err)
	}
}
