package sqlite

import (
	"bytes"
	"os"
	"testing"

	"posthorn/internal/store"
	"posthorn/internal/store/storetest"
)

func TestGDPRConformance(t *testing.T) {
	storetest.RunGDPR(t, func(t *testing.T) storetest.GDPRBackend {
		s, _ := openTemp(t)
		return s
	})
}

// TestPurgeFreed checks that a deleted row's text is in neither the database file nor its
// write-ahead log once PurgeFreed returns, while the store is still open.
func TestPurgeFreed(t *testing.T) {
	s, path := openTemp(t)
	ctx := t.Context()
	const secret = "subscriber-9f3c2e@example.net"
	if _, err := s.SaveSubscriber(ctx, store.Subscriber{Address: secret}); err != nil {
		t.Fatal(err)
	}
	holds := func() []string {
		var out []string
		for _, f := range []string{path, path + "-wal"} {
			b, err := os.ReadFile(f)
			if err != nil && !os.IsNotExist(err) {
				t.Fatal(err)
			}
			if bytes.Contains(b, []byte(secret)) {
				out = append(out, f)
			}
		}
		return out
	}
	if len(holds()) == 0 {
		t.Fatal("the subscriber is in no file before deletion: the test checks nothing")
	}
	if _, err := s.ErasePersonalData(ctx, secret, "1@erased.invalid"); err != nil {
		t.Fatal(err)
	}
	if len(holds()) == 0 {
		t.Fatal("deleted rows are gone from the files without PurgeFreed: the test checks nothing")
	}
	if err := s.PurgeFreed(ctx); err != nil {
		t.Fatal(err)
	}
	if got := holds(); len(got) > 0 {
		t.Errorf("after PurgeFreed the address is still in %v", got)
	}
}
