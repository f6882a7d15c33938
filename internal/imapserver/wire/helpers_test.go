package wire

import (
	"bufio"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"posthorn/internal/message"
)

// fooBarHeader is the header the messages of Dovecot's tests start with: a multipart/mixed with
// a folded boundary parameter.
const fooBarHeader = `From: user@domain.org
Date: Sat, 24 Mar 2007 23:00:00 +0200
Mime-Version: 1.0
Content-Type: multipart/mixed; boundary="foo
 bar"

`

// crlf turns a message written with LF line ends into the stored form.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// parse parses a stored message.
func parse(t testing.TB, raw string) *message.Parsed {
	t.Helper()
	p, err := message.Parse(strings.NewReader(raw), int64(len(raw)))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	return p
}

// render returns what write writes, flushed.
func render(t testing.TB, write func(w *bufio.Writer)) string {
	t.Helper()
	var b strings.Builder
	w := bufio.NewWriter(&b)
	write(w)
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// renderErr is render for a writer that can fail.
func renderErr(t testing.TB, write func(w *bufio.Writer) error) (string, error) {
	t.Helper()
	var b strings.Builder
	w := bufio.NewWriter(&b)
	err := write(w)
	if ferr := w.Flush(); ferr != nil {
		t.Fatal(ferr)
	}
	return b.String(), err
}

// literal returns s as a literal.
func literal(s string) string { return "{" + itoa(len(s)) + "}\r\n" + s }

func itoa(n int) string {
	if n == 0 {
		return "0"
	}
	var b []byte
	for ; n > 0; n /= 10 {
		b = append([]byte{byte('0' + n%10)}, b...)
	}
	return string(b)
}

// walkParts calls f on every part of a message by its section number (RFC 9051 §6.4.5), as
// message.Part.Find resolves them: pt is the root of a message at section (atRoot set), or a part.
// The root of a message that is not multipart is visited twice: as the root, and as its part 1.
func walkParts(pt *message.Part, section []int, atRoot bool, f func(section []int, pt *message.Part, atRoot bool)) {
	f(section, pt, atRoot)
	sub := func(n int) []int { return append(section[:len(section):len(section)], n) }
	switch {
	case pt.IsMultipart():
		for i, c := range pt.Parts {
			walkParts(c, sub(i+1), false, f)
		}
	case atRoot:
		walkParts(pt, sub(1), false, f)
	case pt.Message != nil:
		walkParts(pt.Message, section, true, f)
	}
}

// sharedDir finds shared/testdata/<name> in this directory or one above it.
func sharedDir(t testing.TB, name string) string {
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
			t.Fatalf("no shared/testdata/%s above the package directory: the shared test material must sit beside the repository", name)
		}
		dir = parent
	}
}
