package message

import (
	"io/fs"
	"os"
	"path/filepath"
	"testing"
)

// corpusDir finds the shared MIME corpus: shared/testdata/mime in this directory or one above it.
func corpusDir(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	for {
		d := filepath.Join(dir, "shared", "testdata", "mime")
		if _, err := os.Stat(d); err == nil {
			return d
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			t.Fatal("no shared/testdata/mime above the package directory: the shared test material must sit beside the repository")
		}
		dir = parent
	}
}

// eachCorpusFile calls fn with every file of the shared corpus, as a subtest named by its path
// in the corpus.
func eachCorpusFile(t *testing.T, fn func(t *testing.T, raw []byte)) {
	root := corpusDir(t)
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		raw, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		rel, _ := filepath.Rel(root, path)
		t.Run(rel, func(t *testing.T) { fn(t, raw) })
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("the corpus is empty")
	}
}

// TestCorpus parses every file of the shared corpus: messages from other parsers' test suites,
// malformed ones included, and some files that are no messages at all. Each must parse without
// error, with the invariants that parseString checks.
func TestCorpus(t *testing.T) {
	eachCorpusFile(t, func(t *testing.T, raw []byte) {
		p := parseString(t, string(raw))
		walk(p.Root, func(pt *Part) {
			if pt.Type == "" || pt.Subtype == "" || pt.Encoding == "" {
				t.Errorf("part at %d: type %q/%q, encoding %q", pt.HeaderStart, pt.Type, pt.Subtype, pt.Encoding)
			}
		})
	})
}
