package wire

import (
	"bufio"
	"errors"
	"reflect"
	"strings"
	"testing"
)

// mimeMessage is the message of Dovecot imaptest's fetch-body-mime test: a multipart/mixed
// holding a text part and a message/rfc822 whose body is a multipart/alternative.
const mimeMessage = fooBarHeader + `Root MIME prologue

--foo bar
Content-Type: text/x-myown; charset=us-ascii

hello

--foo bar
Content-Type: message/rfc822

` + subHeader + subText + `
--foo bar--
Root MIME epilogue
`

// subHeader and subText are the header and the body of the message mimeMessage encapsulates.
const (
	subHeader = `From: sub@domain.org
Date: Sun, 12 Aug 2012 12:34:56 +0300
Subject: submsg
Content-Type: multipart/alternative; boundary="sub1"

`
	subText = `Sub MIME prologue
--sub1
Content-Type: text/html

<p>Hello world</p>

--sub1
Content-Type: text/plain

Hello another world

--sub1--
Sub MIME epilogue
`
)

// rfc822x2 is the message of imaptest's fetch-body-message-rfc822-x2 test: a message/rfc822 in
// a message/rfc822.
const rfc822x2 = `From: user@domain.org
Date: Sat, 24 Mar 2007 23:00:00 +0200
Mime-Version: 1.0
Content-Type: message/rfc822

From: user2@domain.org
Date: Fri, 23 Mar 2007 11:22:33 +0200
Mime-Version: 1.0
Content-Type: message/rfc822

From: sub@domain.org
Date: Sun, 12 Aug 2012 12:34:56 +0300
Subject: submsg

Hello world
`

// TestSections fetches every kind of section of nested messages, with the content Dovecot
// returns for them in imaptest (fetch-body-mime, fetch-body-message-rfc822-x2). Each section
// but the filtered header ones must also be exactly the octets Range names.
func TestSections(t *testing.T) {
	tests := []struct {
		name string
		raw  string
		want map[string]string // section-spec: content, LF line ends
		none []string          // sections the message does not have
	}{{
		name: "multipart with message/rfc822",
		raw:  mimeMessage,
		want: map[string]string{
			"":                                     mimeMessage,
			"TEXT":                                 mimeMessage[strings.Index(mimeMessage, "Root MIME prologue"):],
			"HEADER":                               fooBarHeader,
			"1":                                    "hello\n",
			"1.MIME":                               "Content-Type: text/x-myown; charset=us-ascii\n\n",
			"2":                                    subHeader + subText,
			"2.MIME":                               "Content-Type: message/rfc822\n\n",
			"2.HEADER":                             subHeader,
			"2.HEADER.FIELDS (from subject X-foo)": "From: sub@domain.org\nSubject: submsg\n\n",
			"2.HEADER.FIELDS.NOT (from subject X-foo)": "Date: Sun, 12 Aug 2012 12:34:56 +0300\nContent-Type: multipart/alternative; boundary=\"sub1\"\n\n",
			"2.TEXT":                         subText,
			"2.1.MIME":                       "Content-Type: text/html\n\n",
			"2.1":                            "<p>Hello world</p>\n",
			"2.2.MIME":                       "Content-Type: text/plain\n\n",
			"2.2":                            "Hello another world\n",
			"HEADER.FIELDS (Content-Type)":   "Content-Type: multipart/mixed; boundary=\"foo\n bar\"\n\n",
			"header.fields.not (from DATE)":  "Mime-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"foo\n bar\"\n\n",
			"2.HEADER.FIELDS (\"Subject\")":  "Subject: submsg\n\n",
			"2.HEADER.FIELDS ({4}\r\nDate)":  "Date: Sun, 12 Aug 2012 12:34:56 +0300\n\n",
			"2.HEADER.FIELDS (X-none X-foo)": "\n",
		},
		none: []string{"3", "1.1", "1.HEADER", "1.TEXT", "1.HEADER.FIELDS (From)", "2.3", "2.1.1", "2.1.TEXT", "2.1.HEADER", "3.MIME", "99999"},
	}, {
		name: "message/rfc822 in message/rfc822",
		raw:  rfc822x2,
		want: map[string]string{
			"1":        rfc822x2[strings.Index(rfc822x2, "From: user2"):],
			"TEXT":     rfc822x2[strings.Index(rfc822x2, "From: user2"):],
			"1.MIME":   rfc822x2[:strings.Index(rfc822x2, "From: user2")],
			"1.1":      rfc822x2[strings.Index(rfc822x2, "From: sub"):],
			"1.HEADER": "From: user2@domain.org\nDate: Fri, 23 Mar 2007 11:22:33 +0200\nMime-Version: 1.0\nContent-Type: message/rfc822\n\n",
			"1.TEXT":   rfc822x2[strings.Index(rfc822x2, "From: sub"):],
			"1.1.1":    "Hello world\n",
			"1.1.HEADER": `From: sub@domain.org
Date: Sun, 12 Aug 2012 12:34:56 +0300
Subject: submsg

`,
			"1.1.TEXT":                         "Hello world\n",
			"1.1.HEADER.FIELDS.NOT (Date)":     "From: sub@domain.org\nSubject: submsg\n\n",
			"1.HEADER.FIELDS (MIME-VERSION)":   "Mime-Version: 1.0\n\n",
			"1.1.1.MIME":                       "From: sub@domain.org\nDate: Sun, 12 Aug 2012 12:34:56 +0300\nSubject: submsg\n\n",
			"1.1.HEADER.FIELDS (from)":         "From: sub@domain.org\n\n",
			"HEADER.FIELDS (from Date)":        "From: user@domain.org\nDate: Sat, 24 Mar 2007 23:00:00 +0200\n\n",
			"HEADER.FIELDS.NOT (Mime-Version)": "From: user@domain.org\nDate: Sat, 24 Mar 2007 23:00:00 +0200\nContent-Type: message/rfc822\n\n",
		},
		none: []string{"2", "1.2", "1.1.2", "1.1.1.1", "1.1.1.TEXT"},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := crlf(tt.raw)
			root := parse(t, raw).Root
			for spec, content := range tt.want {
				s, err := ParseSection(spec)
				if err != nil {
					t.Fatal(err)
				}
				content = crlf(content)
				got, err := renderErr(t, func(w *bufio.Writer) error {
					return WriteSection(w, strings.NewReader(raw), root, s, nil)
				})
				if err != nil || got != literal(content) {
					t.Errorf("BODY[%s] = %q, %v; want %q", spec, got, err, literal(content))
				}
				start, end, ok := s.Range(root)
				if !ok {
					t.Errorf("BODY[%s]: no range", spec)
					continue
				}
				if s.Kind != SectionHeaderFields && s.Kind != SectionHeaderFieldsNot && raw[start:end] != content {
					t.Errorf("BODY[%s]: range [%d, %d) is %q, not the content", spec, start, end, raw[start:end])
				}
			}
			for _, spec := range tt.none {
				s, err := ParseSection(spec)
				if err != nil {
					t.Fatal(err)
				}
				if start, end, ok := s.Range(root); ok {
					t.Errorf("BODY[%s]: range [%d, %d), want none", spec, start, end)
				}
				got, err := renderErr(t, func(w *bufio.Writer) error {
					return WriteSection(w, strings.NewReader(raw), root, s, nil)
				})
				if err != nil || got != "{0}\r\n" {
					t.Errorf("BODY[%s] = %q, %v; want an empty literal", spec, got, err)
				}
			}
		})
	}
}

// TestHeaderFields filters headers with folded fields, repeated fields, lines that are no
// fields, bare LF line ends and no blank line.
func TestHeaderFields(t *testing.T) {
	const header = "From: User1 <user1@domain.org>\r\n" +
		"Received: from a\r\n\tby b; Sat, 24 Mar 2007\r\n" +
		"Subject: s1\r\n continued\r\n  and more\r\n" +
		"X-Empty:\r\n" +
		"not a field\r\n" +
		"received: from c\r\n" +
		"Comments : obsolete space before the colon\r\n" +
		"Date: Sat, 24 Mar 2007 23:00:00 +0200\r\n" +
		"\r\n"
	tests := []struct {
		raw, spec, want string
	}{
		{header + "body\r\n", "HEADER.FIELDS (RECEIVED subject)",
			"Received: from a\r\n\tby b; Sat, 24 Mar 2007\r\n" +
				"Subject: s1\r\n continued\r\n  and more\r\n" +
				"received: from c\r\n\r\n"},
		{header + "body\r\n", "HEADER.FIELDS.NOT (Received Subject)",
			"From: User1 <user1@domain.org>\r\nX-Empty:\r\nnot a field\r\n" +
				"Comments : obsolete space before the colon\r\nDate: Sat, 24 Mar 2007 23:00:00 +0200\r\n\r\n"},
		{header + "body\r\n", "HEADER.FIELDS (comments x-empty)",
			"X-Empty:\r\nComments : obsolete space before the colon\r\n\r\n"},
		{header + "body\r\n", "HEADER.FIELDS (From From)", "From: User1 <user1@domain.org>\r\n\r\n"},
		{header + "body\r\n", "HEADER.FIELDS (xyz)", "\r\n"},
		{header + "body\r\n", "HEADER.FIELDS (\"\")", "\r\n"},
		{header + "body\r\n", "HEADER.FIELDS (From:)", "\r\n"},
		{"From: a\nTo: b\n  c\n\nbody\n", "HEADER.FIELDS (to)", "To: b\n  c\n\n"},
		{"From: a\r\nSubject: x", "HEADER.FIELDS (subject)", "Subject: x"},
		{"From: a\r\nSubject: x\r\n", "HEADER.FIELDS.NOT (subject)", "From: a\r\n"},
		{" leading continuation\r\nFrom: a\r\n\r\n", "HEADER.FIELDS.NOT (from)", " leading continuation\r\n\r\n"},
		{"\r\nbody", "HEADER.FIELDS (from)", "\r\n"},
		{"", "HEADER.FIELDS (from)", ""},
		{"Subject: " + strings.Repeat("x", 10000) + "\r\nFrom: a\r\n\r\n", "HEADER.FIELDS (Subject)",
			"Subject: " + strings.Repeat("x", 10000) + "\r\n\r\n"},
		{"X-Long: " + strings.Repeat("From: y", 1000) + "\r\nFrom: a\r\n\r\n", "HEADER.FIELDS (From)", "From: a\r\n\r\n"},
	}
	for _, tt := range tests {
		root := parse(t, tt.raw).Root
		s, err := ParseSection(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		got, err := renderErr(t, func(w *bufio.Writer) error {
			return WriteSection(w, strings.NewReader(tt.raw), root, s, nil)
		})
		if err != nil || got != literal(tt.want) {
			t.Errorf("BODY[%s] of %.40q = %.200q, %v; want %.200q", tt.spec, tt.raw, got, err, literal(tt.want))
		}
	}
}

// TestPartial fetches partial sections, as imaptest's fetch-body test does.
func TestPartial(t *testing.T) {
	raw := crlf("From: User3 <user3@domain.org>\nDate: Sat, 24 Mar 2007 23:00:00 +0200\nSubject: s333\n\nbody33\n")
	root := parse(t, raw).Root
	tests := []struct {
		spec, partial, want string
	}{
		{"TEXT", "<0.3>", "bod"},
		{"TEXT", "<3.3>", "y33"},
		{"TEXT", "<0.1>", "b"},
		{"TEXT", "<5.1>", "3"},
		{"TEXT", "<5.2>", "3\r"},
		{"TEXT", "<5.3>", "3\r\n"},
		{"TEXT", "<6.1>", "\r"},
		{"TEXT", "<6.2>", "\r\n"},
		{"TEXT", "<7.1>", "\n"},
		{"TEXT", "<7.100>", "\n"},
		{"TEXT", "<8.1>", ""},
		{"TEXT", "<9223372036854775807.9223372036854775807>", ""},
		{"TEXT", "<0.9223372036854775807>", "body33\r\n"},
		{"", "<0.4>", "From"},
		{"HEADER", "<80.100>", "s333\r\n\r\n"},
		{"HEADER.FIELDS (subject from)", "<0.6>", "From: "},
		{"HEADER.FIELDS (subject from)", "<30.100>", "\r\nSubject: s333\r\n\r\n"},
		{"HEADER.FIELDS (subject from)", "<50.1>", ""},
		{"2", "<0.1>", ""},
	}
	for _, tt := range tests {
		s, err := ParseSection(tt.spec)
		if err != nil {
			t.Fatal(err)
		}
		p, err := ParsePartial(tt.partial)
		if err != nil {
			t.Fatal(err)
		}
		got, err := renderErr(t, func(w *bufio.Writer) error {
			return WriteSection(w, strings.NewReader(raw), root, s, &p)
		})
		if err != nil || got != literal(tt.want) {
			t.Errorf("BODY[%s]%s = %q, %v; want %q", tt.spec, tt.partial, got, err, literal(tt.want))
		}
	}
}

// TestNULInBody checks that a NUL in the stored message goes as 0x80, which keeps the length.
func TestNULInBody(t *testing.T) {
	raw := "Subject: x\r\n\r\na\x00b\x00\r\n"
	root := parse(t, raw).Root
	for spec, want := range map[string]string{"TEXT": "a\x80b\x80\r\n", "1": "a\x80b\x80\r\n"} {
		s, _ := ParseSection(spec)
		got, err := renderErr(t, func(w *bufio.Writer) error {
			return WriteSection(w, strings.NewReader(raw), root, s, nil)
		})
		if err != nil || got != literal(want) {
			t.Errorf("BODY[%s] = %q, %v; want %q", spec, got, err, literal(want))
		}
	}
}

func TestParseSection(t *testing.T) {
	tests := []struct {
		spec string
		want Section
		str  string // String(); the spec itself when empty
	}{
		{"", Section{}, ""},
		{"1", Section{Part: []int{1}}, ""},
		{"1.2.3", Section{Part: []int{1, 2, 3}}, ""},
		{"4294967295", Section{Part: []int{4294967295}}, ""},
		{"HEADER", Section{Kind: SectionHeader}, ""},
		{"header", Section{Kind: SectionHeader}, "HEADER"},
		{"TEXT", Section{Kind: SectionText}, ""},
		{"2.Text", Section{Part: []int{2}, Kind: SectionText}, "2.TEXT"},
		{"1.MIME", Section{Part: []int{1}, Kind: SectionMIME}, ""},
		{"3.HEADER", Section{Part: []int{3}, Kind: SectionHeader}, ""},
		{"HEADER.FIELDS (From)", Section{Kind: SectionHeaderFields, Fields: []string{"From"}}, ""},
		{"1.header.fields.not (Date X-Foo)", Section{Part: []int{1}, Kind: SectionHeaderFieldsNot, Fields: []string{"Date", "X-Foo"}}, "1.HEADER.FIELDS.NOT (Date X-Foo)"},
		{`HEADER.FIELDS ("Subject" "a b" "")`, Section{Kind: SectionHeaderFields, Fields: []string{"Subject", "a b", ""}}, `HEADER.FIELDS (Subject "a b" "")`},
		{`HEADER.FIELDS ("a\"b\\c")`, Section{Kind: SectionHeaderFields, Fields: []string{`a"b\c`}}, ""},
		{"HEADER.FIELDS ({3}\r\nabc x)", Section{Kind: SectionHeaderFields, Fields: []string{"abc", "x"}}, "HEADER.FIELDS (abc x)"},
		{"HEADER.FIELDS ({3+}\r\na\r\n)", Section{Kind: SectionHeaderFields, Fields: []string{"a\r\n"}}, "HEADER.FIELDS ({3}\r\na\r\n)"},
		{"HEADER.FIELDS (a]b)", Section{Kind: SectionHeaderFields, Fields: []string{"a]b"}}, ""},
	}
	for _, tt := range tests {
		got, err := ParseSection(tt.spec)
		if err != nil || !reflect.DeepEqual(got, tt.want) {
			t.Errorf("ParseSection(%q) = %+v, %v; want %+v", tt.spec, got, err, tt.want)
			continue
		}
		str := tt.str
		if str == "" {
			str = tt.spec
		}
		if got.String() != str {
			t.Errorf("ParseSection(%q).String() = %q, want %q", tt.spec, got.String(), str)
		}
	}
	bad := []string{
		"0", "01", "1.0", "1.", ".1", "1..2", "1.2.", "4294967296", "99999999999999999999999",
		"MIME", "HEADERS", "HEADER.", "HEADER.FIELDS", "HEADER.FIELDS ()", "HEADER.FIELDS (a",
		"HEADER.FIELDS (a )", "HEADER.FIELDS ( a)", "HEADER.FIELDS  (a)", "HEADER.FIELDS (a) ",
		"HEADER.FIELDS(a)", "HEADER.FIELDS a", `HEADER.FIELDS ("a)`, `HEADER.FIELDS ("a\b")`,
		"HEADER.FIELDS (a\"b)", "HEADER.FIELDS ({5}\r\nab)", "HEADER.FIELDS ({x}\r\nab)",
		"HEADER.FIELDS ({1}\r\n\x00)", "HEADER.FIELDS (\"a\rb\")", "HEADER.FIELDS (a%)",
		"TEXT.1", "1.TEXT.MIME", "1.MIME.TEXT", "HEADER 1", "1 ", " 1", "1,2", "-1", "1.-2",
		"TEXT ", "MIME (a)", "HEADER (a)",
	}
	for _, spec := range bad {
		if got, err := ParseSection(spec); err == nil || !errors.Is(err, ErrBadSection) {
			t.Errorf("ParseSection(%q) = %+v, %v; want an ErrBadSection", spec, got, err)
		}
	}
}

func TestParseBinarySection(t *testing.T) {
	for spec, want := range map[string][]int{"": nil, "1": {1}, "2.1.3": {2, 1, 3}} {
		s, err := ParseBinarySection(spec)
		if err != nil || !reflect.DeepEqual(s.Part, want) || !s.IsBinary() {
			t.Errorf("ParseBinarySection(%q) = %+v, %v", spec, s, err)
		}
	}
	for _, spec := range []string{"HEADER", "1.MIME", "1.TEXT", "TEXT", "0"} {
		if _, err := ParseBinarySection(spec); !errors.Is(err, ErrBadSection) {
			t.Errorf("ParseBinarySection(%q): %v, want an ErrBadSection", spec, err)
		}
	}
}

func TestParsePartial(t *testing.T) {
	for in, want := range map[string]Partial{
		"<0.1>":     {0, 1},
		"<10.100>":  {10, 100},
		"<007.010>": {7, 10},
		"<9223372036854775807.9223372036854775807>": {9223372036854775807, 9223372036854775807},
	} {
		if got, err := ParsePartial(in); err != nil || got != want {
			t.Errorf("ParsePartial(%q) = %+v, %v; want %+v", in, got, err, want)
		}
	}
	for _, in := range []string{
		"", "<>", "<1>", "<1.>", "<.1>", "<1.0>", "<-1.2>", "<1.-2>", "<+1.2>", "<1.+2>", "0.1",
		"<0.1", "0.1>", "<0.1.2>", "< 0.1>", "<9223372036854775808.1>", "<a.b>",
	} {
		if got, err := ParsePartial(in); !errors.Is(err, ErrBadSection) {
			t.Errorf("ParsePartial(%q) = %+v, %v; want an ErrBadSection", in, got, err)
		}
	}
}
