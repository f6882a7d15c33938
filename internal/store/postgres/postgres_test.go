package postgres

import (
	"os"
	"sync"
	"testing"

	"posthorn/internal/testutil/pgtest"
)

// server is the PostgreSQL server of this test binary, started by TestMain.
var server *pgtest.Server

func TestMain(m *testing.M) {
	os.Exit(pgtest.Main(m, func(s *pgtest.Server) { server = s }))
}

// TestConcurrentOpen opens one new database from several stores at once, as nodes starting
// together do: every Open succeeds, and the migrations are applied exactly once.
func TestConcurrentOpen(t *testing.T) {
	url := server.Database(t)
	const nodes = 4
	stores := make([]*Store, nodes)
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range nodes {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			stores[i], errs[i] = Open(t.Context(), url)
		}()
	}
	close(start)
	wg.Wait()
	all, err := migrations()
	if err != nil {
		t.Fatal(err)
	}
	applied := 0
	for i, s := range stores {
		if errs[i] != nil {
			t.Fatalf("open %d: %v", i, errs[i])
		}
		defer s.Close()
		applied += s.Migrated()
	}
	if applied != len(all) {
		t.Errorf("the stores applied %d migrations together, want %d (once each)", applied, len(all))
	}
	var versions int
	if err := stores[0].pool.QueryRow(t.Context(), `SELECT count(*) FROM schema_version`).Scan(&versions); err != nil {
		t.Fatal(err)
	}
	if versions != len(all) {
		t.Errorf("schema_version has %d rows, want %d", versions, len(all))
	}
	// Opening again applies nothing.
	again := openURL(t, url)
	if again.Migrated() != 0 {
		t.Errorf("a second Open applied %d migrations", again.Migrated())
	}
}

// openStore opens a Store on a new, empty database.
func openStore(t *testing.T) *Store {
	t.Helper()
	return openURL(t, server.Database(t))
}

func openURL(t testing.TB, url string) *Store {
	t.Helper()
	s, err := Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// TestNewerSchemaRefused: a database migrated by a newer program is not opened.
func TestNewerSchemaRefused(t *testing.T) {
	url := server.Database(t)
	s := openURL(t, url)
	if _, err := s.pool.Exec(t.Context(), `INSERT INTO schema_version (version, name, applied_at) VALUES (9999, 'future', 0)`); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(t.Context(), url); err == nil {
		t.Fatal("Open of a database with a newer schema succeeded")
	}
}
