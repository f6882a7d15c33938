package blob

import (
	"context"
	"testing"
	"time"

	"posthorn/internal/bodystore"
	"posthorn/internal/bodystore/bodystoretest"
)

// TestBodystoreConformance runs the suite of every body backend on the file store.
func TestBodystoreConformance(t *testing.T) {
	bodystoretest.Run(t, func(t testing.TB) bodystoretest.Backend {
		fs := openTB(t)
		return bodystoretest.Backend{Store: fs.Bodies(), Stored: func(context.Context) ([]string, error) {
			// Empty files are the pool's, or bodies still empty.
			var ids []string
			err := fs.Walk(time.Time{}, func(id string, size int64) error {
				if size > 0 {
					ids = append(ids, id)
				}
				return nil
			})
			return ids, err
		}}
	})
}

func BenchmarkBodies(b *testing.B) {
	bodystoretest.Benchmark(b, func(b testing.TB) bodystore.Store { return openTB(b).Bodies() })
}

func openTB(t testing.TB) *FS {
	t.Helper()
	s, err := OpenFS(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}
