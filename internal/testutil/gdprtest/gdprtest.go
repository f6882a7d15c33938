// Package gdprtest holds what the tests of personal data's export and erasure share (package
// gdpr, the command line, the web UI, the API and the end-to-end tests): reading an export's
// zip, and finding the files of a data directory that still hold a person's data.
package gdprtest

import (
	"archive/zip"
	"bytes"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// ReadZip returns the files of the zip b by name, failing the test on a malformed one.
func ReadZip(t testing.TB, b []byte) map[string]string {
	t.Helper()
	z, err := zip.NewReader(bytes.NewReader(b), int64(len(b)))
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]string{}
	for _, f := range z.File {
		r, err := f.Open()
		if err != nil {
			t.Fatal(err)
		}
		data, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		out[f.Name] = string(data)
	}
	return out
}

// ReadZipFile is ReadZip of the file at path.
func ReadZipFile(t testing.TB, path string) map[string]string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return ReadZip(t, b)
}

// FilesHolding lists, as "PATH holds NEEDLE", the files under dir whose bytes hold one of
// needles, compared case-insensitively (ASCII): every file, the database's WAL and its index,
// the message bodies, certificates and all.
func FilesHolding(t testing.TB, dir string, needles ...string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(dir, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		b, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		lower := bytes.ToLower(b)
		for _, n := range needles {
			if bytes.Contains(lower, []byte(strings.ToLower(n))) {
				out = append(out, path+" holds "+n)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}
