package wire

import (
	"bufio"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"posthorn/internal/message"
)

// TestCorpus runs every file of the shared MIME corpus (shared/testdata/mime: other parsers'
// test messages, malformed ones included, and files that are no messages at all) through
// message.Parse and every writer of this package, and checks that what they write is well-formed
// IMAP that agrees with the structure: ENVELOPE and BODY/BODYSTRUCTURE with and without UTF-8,
// the sections of every part, and BINARY of every part.
func TestCorpus(t *testing.T) {
	root := sharedDir(t, "mime")
	n := 0
	err := filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		data, err := os.ReadFile(path)
		if err != nil {
			return err
		}
		n++
		rel, _ := filepath.Rel(root, path)
		t.Run(rel, func(t *testing.T) {
			raw := string(data)
			p := parse(t, raw)
			checkStructure(t, p)
			checkSections(t, raw, p.Root)
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if n == 0 {
		t.Fatal("the corpus is empty")
	}
}

// checkStructure writes the ENVELOPE and the BODY and BODYSTRUCTURE of p and checks them.
func checkStructure(t *testing.T, p *message.Parsed) {
	t.Helper()
	for _, utf8 := range []bool{false, true} {
		env := render(t, func(w *bufio.Writer) { WriteEnvelope(w, &p.Envelope, utf8) })
		v, err := readValue(env, utf8)
		if err != nil {
			t.Fatalf("ENVELOPE (utf8 %v) not well-formed: %v\n%.2000q", utf8, err, env)
		}
		if err := checkEnvelope(v, &p.Envelope); err != nil {
			t.Errorf("ENVELOPE (utf8 %v): %v\n%.2000q", utf8, err, env)
		}
		for _, extended := range []bool{false, true} {
			body := render(t, func(w *bufio.Writer) { WriteBodyStructure(w, p.Root, extended, utf8) })
			v, err := readValue(body, utf8)
			if err != nil {
				t.Fatalf("body structure (extended %v, utf8 %v) not well-formed: %v\n%.2000q", extended, utf8, err, body)
			}
			if err := checkBody(v, p.Root, extended); err != nil {
				t.Errorf("body structure (extended %v, utf8 %v): %v\n%.2000q", extended, utf8, err, body)
			}
		}
	}
}

// checkSections fetches the sections of every part of a message and checks each literal: the
// octets Range names, NUL made 0x80, or for HEADER.FIELDS a subset of the header's lines; and
// BINARY of every part, which must decode or give ErrUnknownCTE.
func checkSections(t *testing.T, raw string, root *message.Part) {
	t.Helper()
	r := strings.NewReader(raw)
	sections := []Section{
		{}, {Kind: SectionHeader}, {Kind: SectionText},
		{Kind: SectionHeaderFields, Fields: []string{"From", "Subject", "Content-Type"}},
		{Kind: SectionHeaderFieldsNot, Fields: []string{"Received"}},
	}
	parts := 0
	walkParts(root, nil, true, func(section []int, pt *message.Part, atRoot bool) {
		if len(section) == 0 || atRoot {
			return
		}
		if parts++; parts > 200 {
			return // enough for one message
		}
		sections = append(sections, Section{Part: section}, Section{Part: section, Kind: SectionMIME})
		if pt.Message != nil {
			sections = append(sections, Section{Part: section, Kind: SectionHeader}, Section{Part: section, Kind: SectionText},
				Section{Part: section, Kind: SectionHeaderFields, Fields: []string{"Date"}})
		}
		checkBinary(t, r, root, section)
	})
	for _, s := range sections {
		got, err := renderErr(t, func(w *bufio.Writer) error { return WriteSection(w, r, root, s, nil) })
		if err != nil {
			t.Fatalf("BODY[%s]: %v", s, err)
		}
		content, eight, err := readLiteral(got)
		if err != nil || eight {
			t.Fatalf("BODY[%s]: not a literal: %v\n%.200q", s, err, got)
		}
		start, end, ok := s.Range(root)
		if !ok {
			t.Errorf("BODY[%s]: no such section", s)
			continue
		}
		whole := strings.ReplaceAll(raw[start:end], "\x00", "\x80")
		if s.Kind == SectionHeaderFields || s.Kind == SectionHeaderFieldsNot {
			if !isLineSubset(content, whole) {
				t.Errorf("BODY[%s] = %.500q: not lines of the header %.500q", s, content, whole)
			}
		} else if content != whole {
			t.Errorf("BODY[%s]: %d octets that are not the range [%d, %d)", s, len(content), start, end)
		}
	}
}

// checkBinary fetches BINARY and BINARY.SIZE of a part and checks that they agree.
func checkBinary(t *testing.T, r *strings.Reader, root *message.Part, section []int) {
	t.Helper()
	s := Section{Part: section}
	size, serr := BinarySize(r, root, s)
	got, err := renderErr(t, func(w *bufio.Writer) error { return WriteBinary(w, r, root, s, nil) })
	if errors.Is(err, ErrUnknownCTE) && errors.Is(serr, ErrUnknownCTE) && got == "" {
		return
	}
	if err != nil || serr != nil {
		t.Fatalf("BINARY[%s]: %v; BINARY.SIZE: %v", s, err, serr)
	}
	content, eight, err := readLiteral(got)
	if err != nil {
		t.Fatalf("BINARY[%s]: %v\n%.200q", s, err, got)
	}
	if int64(len(content)) != size || eight != strings.Contains(content, "\x00") {
		t.Errorf("BINARY[%s]: %d octets (literal8 %v), BINARY.SIZE %d", s, len(content), eight, size)
	}
}

// isLineSubset reports whether sub is made of lines of whole, in their order.
func isLineSubset(sub, whole string) bool {
	for line := range strings.Lines(sub) {
		i := strings.Index(whole, line)
		if i < 0 {
			return false
		}
		whole = whole[i+len(line):]
	}
	return true
}
