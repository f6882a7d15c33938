package wire

import (
	"bufio"
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
	type sectionContent struct {
		s       Section
		content string
	}
	tests := []struct {
		name string
		raw  string
		want []sectionContent // LF line ends
		none []Section        // sections the message does not have
	}{{
		name: "multipart with message/rfc822",
		raw:  mimeMessage,
		want: []sectionContent{
			{Section{}, mimeMessage},
			{Section{Kind: SectionText}, mimeMessage[strings.Index(mimeMessage, "Root MIME prologue"):]},
			{Section{Kind: SectionHeader}, fooBarHeader},
			{Section{Part: []int{1}}, "hello\n"},
			{Section{Part: []int{1}, Kind: SectionMIME}, "Content-Type: text/x-myown; charset=us-ascii\n\n"},
			{Section{Part: []int{2}}, subHeader + subText},
			{Section{Part: []int{2}, Kind: SectionMIME}, "Content-Type: message/rfc822\n\n"},
			{Section{Part: []int{2}, Kind: SectionHeader}, subHeader},
			{Section{Part: []int{2}, Kind: SectionHeaderFields, Fields: []string{"from", "subject", "X-foo"}}, "From: sub@domain.org\nSubject: submsg\n\n"},
			{Section{Part: []int{2}, Kind: SectionHeaderFieldsNot, Fields: []string{"from", "subject", "X-foo"}}, "Date: Sun, 12 Aug 2012 12:34:56 +0300\nContent-Type: multipart/alternative; boundary=\"sub1\"\n\n"},
			{Section{Part: []int{2}, Kind: SectionText}, subText},
			{Section{Part: []int{2, 1}, Kind: SectionMIME}, "Content-Type: text/html\n\n"},
			{Section{Part: []int{2, 1}}, "<p>Hello world</p>\n"},
			{Section{Part: []int{2, 2}, Kind: SectionMIME}, "Content-Type: text/plain\n\n"},
			{Section{Part: []int{2, 2}}, "Hello another world\n"},
			{Section{Kind: SectionHeaderFields, Fields: []string{"Content-Type"}}, "Content-Type: multipart/mixed; boundary=\"foo\n bar\"\n\n"},
			{Section{Kind: SectionHeaderFieldsNot, Fields: []string{"from", "DATE"}}, "Mime-Version: 1.0\nContent-Type: multipart/mixed; boundary=\"foo\n bar\"\n\n"},
			{Section{Part: []int{2}, Kind: SectionHeaderFields, Fields: []string{"Subject"}}, "Subject: submsg\n\n"},
			{Section{Part: []int{2}, Kind: SectionHeaderFields, Fields: []string{"Date"}}, "Date: Sun, 12 Aug 2012 12:34:56 +0300\n\n"},
			{Section{Part: []int{2}, Kind: SectionHeaderFields, Fields: []string{"X-none", "X-foo"}}, "\n"},
		},
		none: []Section{{Part: []int{3}}, {Part: []int{1, 1}}, {Part: []int{1}, Kind: SectionHeader}, {Part: []int{1}, Kind: SectionText}, {Part: []int{1}, Kind: SectionHeaderFields, Fields: []string{"From"}}, {Part: []int{2, 3}}, {Part: []int{2, 1, 1}}, {Part: []int{2, 1}, Kind: SectionText}, {Part: []int{2, 1}, Kind: SectionHeader}, {Part: []int{3}, Kind: SectionMIME}, {Part: []int{99999}}},
	}, {
		name: "message/rfc822 in message/rfc822",
		raw:  rfc822x2,
		want: []sectionContent{
			{Section{Part: []int{1}}, rfc822x2[strings.Index(rfc822x2, "From: user2"):]},
			{Section{Kind: SectionText}, rfc822x2[strings.Index(rfc822x2, "From: user2"):]},
			{Section{Part: []int{1}, Kind: SectionMIME}, rfc822x2[:strings.Index(rfc822x2, "From: user2")]},
			{Section{Part: []int{1, 1}}, rfc822x2[strings.Index(rfc822x2, "From: sub"):]},
			{Section{Part: []int{1}, Kind: SectionHeader}, "From: user2@domain.org\nDate: Fri, 23 Mar 2007 11:22:33 +0200\nMime-Version: 1.0\nContent-Type: message/rfc822\n\n"},
			{Section{Part: []int{1}, Kind: SectionText}, rfc822x2[strings.Index(rfc822x2, "From: sub"):]},
			{Section{Part: []int{1, 1, 1}}, "Hello world\n"},
			{Section{Part: []int{1, 1}, Kind: SectionHeader}, `From: sub@domain.org
Date: Sun, 12 Aug 2012 12:34:56 +0300
Subject: submsg

`},
			{Section{Part: []int{1, 1}, Kind: SectionText}, "Hello world\n"},
			{Section{Part: []int{1, 1}, Kind: SectionHeaderFieldsNot, Fields: []string{"Date"}}, "From: sub@domain.org\nSubject: submsg\n\n"},
			{Section{Part: []int{1}, Kind: SectionHeaderFields, Fields: []string{"MIME-VERSION"}}, "Mime-Version: 1.0\n\n"},
			{Section{Part: []int{1, 1, 1}, Kind: SectionMIME}, "From: sub@domain.org\nDate: Sun, 12 Aug 2012 12:34:56 +0300\nSubject: submsg\n\n"},
			{Section{Part: []int{1, 1}, Kind: SectionHeaderFields, Fields: []string{"from"}}, "From: sub@domain.org\n\n"},
			{Section{Kind: SectionHeaderFields, Fields: []string{"from", "Date"}}, "From: user@domain.org\nDate: Sat, 24 Mar 2007 23:00:00 +0200\n\n"},
			{Section{Kind: SectionHeaderFieldsNot, Fields: []string{"Mime-Version"}}, "From: user@domain.org\nDate: Sat, 24 Mar 2007 23:00:00 +0200\nContent-Type: message/rfc822\n\n"},
		},
		none: []Section{{Part: []int{2}}, {Part: []int{1, 2}}, {Part: []int{1, 1, 2}}, {Part: []int{1, 1, 1, 1}}, {Part: []int{1, 1, 1}, Kind: SectionText}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			raw := crlf(tt.raw)
			root := parse(t, raw).Root
			for _, want := range tt.want {
				s, content := want.s, crlf(want.content)
				got, err := renderErr(t, func(w *bufio.Writer) error {
					return WriteSection(w, strings.NewReader(raw), root, s, nil)
				})
				if err != nil || got != literal(content) {
					t.Errorf("BODY[%s] = %q, %v; want %q", s, got, err, literal(content))
				}
				start, end, ok := s.Range(root)
				if !ok {
					t.Errorf("BODY[%s]: no range", s)
					continue
				}
				if s.Kind != SectionHeaderFields && s.Kind != SectionHeaderFieldsNot && raw[start:end] != content {
					t.Errorf("BODY[%s]: range [%d, %d) is %q, not the content", s, start, end, raw[start:end])
				}
			}
			for _, s := range tt.none {
				if start, end, ok := s.Range(root); ok {
					t.Errorf("BODY[%s]: range [%d, %d), want none", s, start, end)
				}
				got, err := renderErr(t, func(w *bufio.Writer) error {
					return WriteSection(w, strings.NewReader(raw), root, s, nil)
				})
				if err != nil || got != "{0}\r\n" {
					t.Errorf("BODY[%s] = %q, %v; want an empty literal", s, got, err)
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
		raw  string
		s    Section
		want string
	}{
		{header + "body\r\n", Section{Kind: SectionHeaderFields, Fields: []string{"RECEIVED", "subject"}},
			"Received: from a\r\n\tby b; Sat, 24 Mar 2007\r\n" +
				"Subject: s1\r\n continued\r\n  and more\r\n" +
				"received: from c\r\n\r\n"},
		{header + "body\r\n", Section{Kind: SectionHeaderFieldsNot, Fields: []string{"Received", "Subject"}},
			"From: User1 <user1@domain.org>\r\nX-Empty:\r\nnot a field\r\n" +
				"Comments : obsolete space before the colon\r\nDate: Sat, 24 Mar 2007 23:00:00 +0200\r\n\r\n"},
		{header + "body\r\n", Section{Kind: SectionHeaderFields, Fields: []string{"comments", "x-empty"}},
			"X-Empty:\r\nComments : obsolete space before the colon\r\n\r\n"},
		{header + "body\r\n", Section{Kind: SectionHeaderFields, Fields: []string{"From", "From"}}, "From: User1 <user1@domain.org>\r\n\r\n"},
		{header + "body\r\n", Section{Kind: SectionHeaderFields, Fields: []string{"xyz"}}, "\r\n"},
		{header + "body\r\n", Section{Kind: SectionHeaderFields, Fields: []string{""}}, "\r\n"},
		{header + "body\r\n", Section{Kind: SectionHeaderFields, Fields: []string{"From:"}}, "\r\n"},
		{"From: a\nTo: b\n  c\n\nbody\n", Section{Kind: SectionHeaderFields, Fields: []string{"to"}}, "To: b\n  c\n\n"},
		{"From: a\r\nSubject: x", Section{Kind: SectionHeaderFields, Fields: []string{"subject"}}, "Subject: x"},
		{"From: a\r\nSubject: x\r\n", Section{Kind: SectionHeaderFieldsNot, Fields: []string{"subject"}}, "From: a\r\n"},
		{" leading continuation\r\nFrom: a\r\n\r\n", Section{Kind: SectionHeaderFieldsNot, Fields: []string{"from"}}, " leading continuation\r\n\r\n"},
		{"\r\nbody", Section{Kind: SectionHeaderFields, Fields: []string{"from"}}, "\r\n"},
		{"", Section{Kind: SectionHeaderFields, Fields: []string{"from"}}, ""},
		{"Subject: " + strings.Repeat("x", 10000) + "\r\nFrom: a\r\n\r\n", Section{Kind: SectionHeaderFields, Fields: []string{"Subject"}},
			"Subject: " + strings.Repeat("x", 10000) + "\r\n\r\n"},
		{"X-Long: " + strings.Repeat("From: y", 1000) + "\r\nFrom: a\r\n\r\n", Section{Kind: SectionHeaderFields, Fields: []string{"From"}}, "From: a\r\n\r\n"},
	}
	for _, tt := range tests {
		root := parse(t, tt.raw).Root
		got, err := renderErr(t, func(w *bufio.Writer) error {
			return WriteSection(w, strings.NewReader(tt.raw), root, tt.s, nil)
		})
		if err != nil || got != literal(tt.want) {
			t.Errorf("BODY[%s] of %.40q = %.200q, %v; want %.200q", tt.s, tt.raw, got, err, literal(tt.want))
		}
	}
}

// TestPartial fetches partial sections, as imaptest's fetch-body test does.
func TestPartial(t *testing.T) {
	raw := crlf("From: User3 <user3@domain.org>\nDate: Sat, 24 Mar 2007 23:00:00 +0200\nSubject: s333\n\nbody33\n")
	root := parse(t, raw).Root
	tests := []struct {
		s    Section
		p    Partial
		want string
	}{
		{Section{Kind: SectionText}, Partial{0, 3}, "bod"},
		{Section{Kind: SectionText}, Partial{3, 3}, "y33"},
		{Section{Kind: SectionText}, Partial{0, 1}, "b"},
		{Section{Kind: SectionText}, Partial{5, 1}, "3"},
		{Section{Kind: SectionText}, Partial{5, 2}, "3\r"},
		{Section{Kind: SectionText}, Partial{5, 3}, "3\r\n"},
		{Section{Kind: SectionText}, Partial{6, 1}, "\r"},
		{Section{Kind: SectionText}, Partial{6, 2}, "\r\n"},
		{Section{Kind: SectionText}, Partial{7, 1}, "\n"},
		{Section{Kind: SectionText}, Partial{7, 100}, "\n"},
		{Section{Kind: SectionText}, Partial{8, 1}, ""},
		{Section{Kind: SectionText}, Partial{9223372036854775807, 9223372036854775807}, ""},
		{Section{Kind: SectionText}, Partial{0, 9223372036854775807}, "body33\r\n"},
		{Section{}, Partial{0, 4}, "From"},
		{Section{Kind: SectionHeader}, Partial{80, 100}, "s333\r\n\r\n"},
		{Section{Kind: SectionHeaderFields, Fields: []string{"subject", "from"}}, Partial{0, 6}, "From: "},
		{Section{Kind: SectionHeaderFields, Fields: []string{"subject", "from"}}, Partial{30, 100}, "\r\nSubject: s333\r\n\r\n"},
		{Section{Kind: SectionHeaderFields, Fields: []string{"subject", "from"}}, Partial{50, 1}, ""},
		{Section{Part: []int{2}}, Partial{0, 1}, ""},
	}
	for _, tt := range tests {
		got, err := renderErr(t, func(w *bufio.Writer) error {
			return WriteSection(w, strings.NewReader(raw), root, tt.s, &tt.p)
		})
		if err != nil || got != literal(tt.want) {
			t.Errorf("BODY[%s]<%d.%d> = %q, %v; want %q", tt.s, tt.p.Offset, tt.p.Length, got, err, literal(tt.want))
		}
	}
}

// TestNULInBody checks that a NUL in the stored message goes as 0x80, which keeps the length.
func TestNULInBody(t *testing.T) {
	raw := "Subject: x\r\n\r\na\x00b\x00\r\n"
	root := parse(t, raw).Root
	const want = "a\x80b\x80\r\n"
	for _, s := range []Section{{Kind: SectionText}, {Part: []int{1}}} {
		got, err := renderErr(t, func(w *bufio.Writer) error {
			return WriteSection(w, strings.NewReader(raw), root, s, nil)
		})
		if err != nil || got != literal(want) {
			t.Errorf("BODY[%s] = %q, %v; want %q", s, got, err, literal(want))
		}
	}
}
