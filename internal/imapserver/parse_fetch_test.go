package imapserver

import (
	"bufio"
	"errors"
	"io"
	"reflect"
	"strconv"
	"strings"
	"testing"

	"posthorn/internal/imapserver/wire"
	"posthorn/internal/message"
)

// parseFetchAtts parses "a1 FETCH 1 " + atts as a session does and returns FETCH's arguments,
// or the error: a *response for a refused command, io.EOF or io.ErrUnexpectedEOF when atts
// ends inside a literal.
func parseFetchAtts(atts string) (*fetchArgs, error) {
	in := "a1 FETCH 1 " + atts + "\r\n"
	p := newParser(bufio.NewReaderSize(strings.NewReader(in), 4096), func() error { return nil })
	c, spec, err := parseCommand(p)
	if err == nil {
		err = parseArgs(p, spec, c)
	}
	if err != nil {
		return nil, err
	}
	return c.args.(*fetchArgs), nil
}

// isBAD reports whether err is the BAD a refused command gets.
func isBAD(err error) bool {
	var r *response
	return errors.As(err, &r) && r.status == "BAD"
}

func TestParseSection(t *testing.T) {
	tests := []struct {
		spec string
		want wire.Section
		str  string // String(); the spec itself when empty
	}{
		{"", wire.Section{}, ""},
		{"1", wire.Section{Part: []int{1}}, ""},
		{"1.2.3", wire.Section{Part: []int{1, 2, 3}}, ""},
		{"4294967295", wire.Section{Part: []int{4294967295}}, ""},
		{"01", wire.Section{Part: []int{1}}, "1"},
		{"HEADER", wire.Section{Kind: wire.SectionHeader}, ""},
		{"header", wire.Section{Kind: wire.SectionHeader}, "HEADER"},
		{"TEXT", wire.Section{Kind: wire.SectionText}, ""},
		{"2.Text", wire.Section{Part: []int{2}, Kind: wire.SectionText}, "2.TEXT"},
		{"1.MIME", wire.Section{Part: []int{1}, Kind: wire.SectionMIME}, ""},
		{"3.HEADER", wire.Section{Part: []int{3}, Kind: wire.SectionHeader}, ""},
		{"HEADER.FIELDS (From)", wire.Section{Kind: wire.SectionHeaderFields, Fields: []string{"From"}}, ""},
		{"1.header.fields.not (Date X-Foo)", wire.Section{Part: []int{1}, Kind: wire.SectionHeaderFieldsNot, Fields: []string{"Date", "X-Foo"}}, "1.HEADER.FIELDS.NOT (Date X-Foo)"},
		{`HEADER.FIELDS ("Subject" X-Spam)`, wire.Section{Kind: wire.SectionHeaderFields, Fields: []string{"Subject", "X-Spam"}}, "HEADER.FIELDS (Subject X-Spam)"},
		{`HEADER.FIELDS ("a\"b\\c")`, wire.Section{Kind: wire.SectionHeaderFields, Fields: []string{`a"b\c`}}, ""},
		{"HEADER.FIELDS ({3}\r\nabc x)", wire.Section{Kind: wire.SectionHeaderFields, Fields: []string{"abc", "x"}}, "HEADER.FIELDS (abc x)"},
		{"HEADER.FIELDS ({4+}\r\nDate)", wire.Section{Kind: wire.SectionHeaderFields, Fields: []string{"Date"}}, "HEADER.FIELDS (Date)"},
		{"HEADER.FIELDS (a]b)", wire.Section{Kind: wire.SectionHeaderFields, Fields: []string{"a]b"}}, ""},
	}
	for _, tt := range tests {
		a, err := parseFetchAtts("BODY[" + tt.spec + "]")
		if err != nil || len(a.items) != 1 || !reflect.DeepEqual(a.items[0].section, tt.want) {
			t.Errorf("BODY[%q] = %+v, %v; want %+v", tt.spec, a, err, tt.want)
			continue
		}
		str := tt.str
		if str == "" {
			str = tt.spec
		}
		if got := a.items[0].section.String(); got != str {
			t.Errorf("BODY[%q]: String() = %q, want %q", tt.spec, got, str)
		}
	}
	bad := []string{
		"0", "1.0", "1.", ".1", "1..2", "1.2.", "4294967296", "99999999999999999999999",
		"MIME", "HEADERS", "HEADER.", "HEADER.FIELDS", "HEADER.FIELDS ()", "HEADER.FIELDS (a",
		"HEADER.FIELDS (a )", "HEADER.FIELDS ( a)", "HEADER.FIELDS  (a)", "HEADER.FIELDS (a) ",
		"HEADER.FIELDS(a)", "HEADER.FIELDS a", `HEADER.FIELDS ("a)`, `HEADER.FIELDS ("a\b")`,
		"HEADER.FIELDS (a\"b)", "HEADER.FIELDS ({5}\r\nab)", "HEADER.FIELDS ({x}\r\nab)",
		"HEADER.FIELDS ({1}\r\n\x00)", "HEADER.FIELDS (\"a\rb\")", "HEADER.FIELDS (a%)",
		// RFC 5322 §3.6.8: a field name is printable ASCII but ":", and not empty.
		`HEADER.FIELDS ("a b")`, `HEADER.FIELDS ("")`, `HEADER.FIELDS ("From:")`, "HEADER.FIELDS ({3+}\r\na\r\n)",
		"TEXT.1", "1.TEXT.MIME", "1.MIME.TEXT", "HEADER 1", "1 ", " 1", "1,2", "-1", "1.-2",
		"TEXT ", "MIME (a)", "HEADER (a)",
	}
	for _, spec := range bad {
		if a, err := parseFetchAtts("BODY[" + spec + "]"); !isBAD(err) {
			t.Errorf("BODY[%q] = %+v, %v; want BAD", spec, a, err)
		}
	}
}

func TestParseBinarySection(t *testing.T) {
	for spec, want := range map[string][]int{"": nil, "1": {1}, "2.1.3": {2, 1, 3}} {
		for _, item := range []string{"BINARY", "BINARY.PEEK", "BINARY.SIZE"} {
			a, err := parseFetchAtts(item + "[" + spec + "]")
			if err != nil || !reflect.DeepEqual(a.items[0].section, wire.Section{Part: want}) {
				t.Errorf("%s[%s] = %+v, %v; want part %v", item, spec, a, err, want)
			}
		}
	}
	for _, spec := range []string{"HEADER", "1.MIME", "1.TEXT", "TEXT", "0", "1.", ".1"} {
		if a, err := parseFetchAtts("BINARY[" + spec + "]"); !isBAD(err) {
			t.Errorf("BINARY[%s] = %+v, %v; want BAD", spec, a, err)
		}
	}
}

func TestParsePartial(t *testing.T) {
	for in, want := range map[string][2]int64{
		"<0.1>":     {0, 1},
		"<10.100>":  {10, 100},
		"<007.010>": {7, 10},
		"<9223372036854775807.9223372036854775807>": {9223372036854775807, 9223372036854775807},
	} {
		a, err := parseFetchAtts("BODY[]" + in)
		if err != nil || !a.items[0].partial || a.items[0].offset != want[0] || a.items[0].count != want[1] {
			t.Errorf("BODY[]%s = %+v, %v; want %v", in, a, err, want)
		}
	}
	for _, in := range []string{
		"<>", "<1>", "<1.>", "<.1>", "<1.0>", "<-1.2>", "<1.-2>", "<+1.2>", "<1.+2>", "0.1",
		"<0.1", "0.1>", "<0.1.2>", "< 0.1>", "<9223372036854775808.1>", "<a.b>",
	} {
		if a, err := parseFetchAtts("BODY[]" + in); !isBAD(err) {
			t.Errorf("BODY[]%s = %+v, %v; want BAD", in, a, err)
		}
	}
	// BINARY.SIZE has no partial (RFC 3516 §4.2).
	if a, err := parseFetchAtts("BINARY.SIZE[1]<0.1>"); !isBAD(err) {
		t.Errorf("BINARY.SIZE[1]<0.1> = %+v, %v; want BAD", a, err)
	}
}

// fuzzMessage is a multipart/mixed holding a text part and a message/rfc822 whose body is a
// multipart/alternative, so that every kind of section names something in it.
const fuzzMessage = "From: user@example.org\r\nSubject: test\r\nMime-Version: 1.0\r\n" +
	"Content-Type: multipart/mixed; boundary=\"b1\"\r\n\r\nprologue\r\n" +
	"--b1\r\nContent-Type: text/plain\r\n\r\nhello\r\n" +
	"--b1\r\nContent-Type: message/rfc822\r\n\r\n" +
	"From: sub@example.org\r\nSubject: sub\r\nContent-Type: multipart/alternative; boundary=\"b2\"\r\n\r\n" +
	"--b2\r\nContent-Type: text/html\r\n\r\n<p>hi</p>\r\n" +
	"--b2\r\nContent-Type: text/plain\r\nContent-Transfer-Encoding: base64\r\n\r\naGVsbG8gd29ybGQ=\r\n" +
	"--b2--\r\n" +
	"--b1--\r\nepilogue\r\n"

// FuzzFetchItems feeds arbitrary FETCH data items to the command parser as a session reads
// them: it must never panic and refuse only with BAD (or run out of input inside a literal).
// Every section it accepts must print, by String, to one that parses back to the same
// section, as a FETCH response names the item; and must be fetchable from a nested message,
// giving a literal. The seed corpus in testdata/fuzz/FuzzFetchItems holds every kind of item
// and section, and malformed ones.
func FuzzFetchItems(f *testing.F) {
	for _, s := range []string{
		"BODY[]", "BODY.PEEK[1.2]<0.10>", "(FLAGS BODY[2.HEADER.FIELDS (From \"X\")])", "BINARY[2.2]",
		"BINARY.SIZE[1]", "BODY[1.MIME]", "BODY[HEADER.FIELDS.NOT ({1}\r\nx)]", "FULL",
	} {
		f.Add(s)
	}
	root, err := message.Parse(strings.NewReader(fuzzMessage), int64(len(fuzzMessage)))
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, atts string) {
		a, err := parseFetchAtts(atts)
		if err != nil {
			if !isBAD(err) && !errors.Is(err, io.EOF) && !errors.Is(err, io.ErrUnexpectedEOF) {
				t.Fatalf("%q: %v, not a BAD", atts, err)
			}
			return
		}
		for _, it := range a.items {
			name := ""
			switch it.kind {
			case fetchSection:
				name = "BODY.PEEK"
			case fetchBinary, fetchBinarySize:
				name = "BINARY.PEEK"
			default:
				continue
			}
			printed := name + "[" + it.section.String() + "]"
			again, err := parseFetchAtts(printed)
			if err != nil || !reflect.DeepEqual(again.items[0].section, it.section) {
				t.Fatalf("%q: section %+v prints as %q, which parses to %+v, %v", atts, it.section, printed, again, err)
			}
			if it.kind == fetchSection {
				checkSectionFetch(t, root.Root, it)
			}
		}
	})
}

// checkSectionFetch fetches the item's section, with its partial or <3.50>, from fuzzMessage
// and checks that the result is a literal of at most the partial's length.
func checkSectionFetch(t *testing.T, root *message.Part, it fetchItem) {
	t.Helper()
	if start, end, ok := it.section.Range(root); ok && (start < 0 || start > end || end > int64(len(fuzzMessage))) {
		t.Fatalf("BODY[%s]: range [%d, %d) out of the message", it.section, start, end)
	}
	partial := &wire.Partial{Offset: 3, Length: 50}
	if it.partial {
		partial = &wire.Partial{Offset: it.offset, Length: it.count}
	}
	var b strings.Builder
	w := bufio.NewWriter(&b)
	if err := wire.WriteSection(w, strings.NewReader(fuzzMessage), root, it.section, partial); err != nil {
		t.Fatalf("BODY[%s]: %v", it.section, err)
	}
	if err := w.Flush(); err != nil {
		t.Fatal(err)
	}
	out := b.String()
	size, rest, ok := strings.Cut(strings.TrimPrefix(out, "{"), "}\r\n")
	n, err := strconv.ParseInt(size, 10, 64)
	if !strings.HasPrefix(out, "{") || !ok || err != nil || int64(len(rest)) != n || n > partial.Length {
		t.Fatalf("BODY[%s]<%d.%d> = %.200q: not a literal of at most %d octets", it.section, partial.Offset, partial.Length, out, partial.Length)
	}
}
