package backup

import (
	"testing"

	"posthorn/internal/blob"
	"posthorn/internal/bodystore"
)

// openBodies opens the body store a restore wrote, closed when the test ends.
func openBodies(t *testing.T, dir string) (bodystore.Bodies, error) {
	t.Helper()
	fs, err := blob.OpenFS(dir)
	if err != nil {
		return nil, err
	}
	t.Cleanup(func() { fs.Close() })
	return fs.Bodies(), nil
}
