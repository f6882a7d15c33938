package wire

import (
	"bufio"
	"io"
	"strings"
	"testing"
)

// BenchmarkWriteStructure writes the ENVELOPE and BODYSTRUCTURE of a nested message, as FETCH
// (ENVELOPE BODYSTRUCTURE) does for each message.
func BenchmarkWriteStructure(b *testing.B) {
	p := parse(b, crlf(dovecotTestMessage))
	w := bufio.NewWriter(io.Discard)
	b.ReportAllocs()
	for b.Loop() {
		WriteEnvelope(w, &p.Envelope, false)
		WriteBodyStructure(w, p.Root, true, false)
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkWriteSection writes BODY[2.HEADER.FIELDS (...)] and BODY[2.1], as a client listing
// messages and opening one does.
func BenchmarkWriteSection(b *testing.B) {
	raw := crlf(mimeMessage)
	p := parse(b, raw)
	r := strings.NewReader(raw)
	fields := Section{Part: []int{2}, Kind: SectionHeaderFields, Fields: []string{"From", "Subject", "Date", "Content-Type"}}
	body := Section{Part: []int{2, 1}}
	w := bufio.NewWriter(io.Discard)
	b.ReportAllocs()
	for b.Loop() {
		if err := WriteSection(w, r, p.Root, fields, nil); err != nil {
			b.Fatal(err)
		}
		if err := WriteSection(w, r, p.Root, body, nil); err != nil {
			b.Fatal(err)
		}
	}
	if err := w.Flush(); err != nil {
		b.Fatal(err)
	}
}
