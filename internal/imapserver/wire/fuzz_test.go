package wire

import (
	"bufio"
	"bytes"
	"errors"
	"reflect"
	"strings"
	"testing"
	"testing/iotest"
)

// FuzzParseSection checks that ParseSection never panics and fails only with ErrBadSection;
// that what it accepts prints, by String, to a spec that parses back to the same section; and
// that any accepted section can be fetched from a nested message, giving a literal. The seed
// corpus in testdata/fuzz/FuzzParseSection holds every kind of section and malformed ones.
func FuzzParseSection(f *testing.F) {
	for _, s := range []string{"", "1.2", "2.HEADER.FIELDS (From \"X\")", "TEXT", "1.MIME", "HEADER.FIELDS.NOT ({1}\r\nx)"} {
		f.Add(s)
	}
	raw := crlf(mimeMessage)
	root := parse(f, raw).Root
	f.Fuzz(func(t *testing.T, spec string) {
		s, err := ParseSection(spec)
		if err != nil {
			if !errors.Is(err, ErrBadSection) {
				t.Fatalf("ParseSection(%q): %v, not an ErrBadSection", spec, err)
			}
			return
		}
		again, err := ParseSection(s.String())
		if err != nil || !reflect.DeepEqual(again, s) {
			t.Fatalf("ParseSection(%q) = %+v; its String %q parses to %+v, %v", spec, s, s.String(), again, err)
		}
		if start, end, ok := s.Range(root); ok && (start < 0 || start > end || end > int64(len(raw))) {
			t.Fatalf("BODY[%s]: range [%d, %d) out of the message", spec, start, end)
		}
		var b strings.Builder
		w := bufio.NewWriter(&b)
		if err := WriteSection(w, strings.NewReader(raw), root, s, &Partial{Offset: 3, Length: 50}); err != nil {
			t.Fatalf("BODY[%s]: %v", spec, err)
		}
		if err := w.Flush(); err != nil {
			t.Fatal(err)
		}
		if content, _, err := readLiteral(b.String()); err != nil || len(content) > 50 {
			t.Fatalf("BODY[%s]<3.50> = %q: %v", spec, b.String(), err)
		}
	})
}

// FuzzDecode checks that the decoders never fail on content nor panic, and that their output
// does not depend on how the input is read.
func FuzzDecode(f *testing.F) {
	f.Add([]byte("aGVsbG8=\r\n=41=\r\nb"))
	f.Fuzz(func(t *testing.T, data []byte) {
		for _, decode := range []func(*bytes.Buffer, []byte, bool) error{
			func(out *bytes.Buffer, in []byte, bytewise bool) error {
				if bytewise {
					return decodeBase64(out, iotest.OneByteReader(bytes.NewReader(in)))
				}
				return decodeBase64(out, bytes.NewReader(in))
			},
			func(out *bytes.Buffer, in []byte, bytewise bool) error {
				if bytewise {
					return decodeQuotedPrintable(out, iotest.OneByteReader(bytes.NewReader(in)))
				}
				return decodeQuotedPrintable(out, bytes.NewReader(in))
			},
		} {
			var whole, bytewise bytes.Buffer
			if err := decode(&whole, data, false); err != nil {
				t.Fatal(err)
			}
			if err := decode(&bytewise, data, true); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(whole.Bytes(), bytewise.Bytes()) {
				t.Fatalf("%q read whole, %q byte by byte", whole.Bytes(), bytewise.Bytes())
			}
		}
	})
}
