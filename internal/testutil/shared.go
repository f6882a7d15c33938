// Package testutil holds helpers that tests of several packages share.
package testutil

import (
	"os"
	"path/filepath"
	"testing"
)

// SharedTestdata returns the directory of the shared test material named name
// (shared/testdata/NAME, beside the repository: see shared/testdata/README.md), looking in the
// current directory and every one above it. The test fails when it is missing.
func SharedTestdata(t testing.TB, name string) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		d := filepath.Join(dir, "shared", "testdata", name)
		if _, err := os.Stat(d); err == nil {
			return d
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatalf("no shared/testdata/%s above %s: the shared test material must sit beside the repository", name, dir)
		}
		dir = parent
	}
}
