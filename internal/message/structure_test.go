package message

import (
	"errors"
	"io"
	"strconv"
	"strings"
	"testing"
)

// crlf turns a message written with LF line ends into the stored form.
func crlf(s string) string { return strings.ReplaceAll(s, "\n", "\r\n") }

// nested is a multipart/mixed holding a text part and a message/rfc822 whose body is a
// multipart/alternative.
const nested = `From: a@example.com
Subject: outer
Content-Type: multipart/mixed; boundary="X"

preamble
--X
Content-Type: text/plain; charset=utf-8
Content-Disposition: inline

hello
--X
Content-Type: message/rfc822
Content-Description: forwarded

Subject: inner
From: b@example.com
Content-Type: multipart/alternative; boundary=Y

--Y

plain
--Y
Content-Type: text/html

<p>html</p>
--Y--

--X--
epilogue
`

func TestSections(t *testing.T) {
	type want struct {
		spec, content string
	}
	tests := []struct {
		name  string
		raw   string
		parts string // dump of the tree, offsets left out
		want  []want
		none  []string // sections that do not exist
	}{{
		name: "nested",
		raw:  crlf(nested),
		parts: `root multipart/mixed boundary="X"
1 text/plain charset="utf-8"
2 message/rfc822
2.msg multipart/alternative boundary="Y"
2.msg.1 text/plain charset="us-ascii"
2.msg.2 text/html
`,
		want: []want{
			{"HEADER", crlf("From: a@example.com\nSubject: outer\nContent-Type: multipart/mixed; boundary=\"X\"\n\n")},
			{"1", "hello"},
			{"1.MIME", crlf("Content-Type: text/plain; charset=utf-8\nContent-Disposition: inline\n\n")},
			{"2", crlf("Subject: inner\nFrom: b@example.com\nContent-Type: multipart/alternative; boundary=Y\n\n--Y\n\nplain\n--Y\nContent-Type: text/html\n\n<p>html</p>\n--Y--\n")},
			{"2.MIME", crlf("Content-Type: message/rfc822\nContent-Description: forwarded\n\n")},
			{"2.HEADER", crlf("Subject: inner\nFrom: b@example.com\nContent-Type: multipart/alternative; boundary=Y\n\n")},
			{"2.TEXT", crlf("--Y\n\nplain\n--Y\nContent-Type: text/html\n\n<p>html</p>\n--Y--\n")},
			{"2.1", "plain"},
			{"2.1.MIME", "\r\n"},
			{"2.2", "<p>html</p>"},
			{"2.2.MIME", "Content-Type: text/html\r\n\r\n"},
		},
		none: []string{"0", "3", "1.1", "1.HEADER", "2.3", "2.1.1", "2.2.1"},
	}, {
		name:  "single part: its body is part 1",
		raw:   crlf("Subject: x\n\nbody\nlines\n"),
		parts: "root text/plain charset=\"us-ascii\"\n",
		want: []want{
			{"", crlf("Subject: x\n\nbody\nlines\n")},
			{"HEADER", "Subject: x\r\n\r\n"},
			{"TEXT", "body\r\nlines\r\n"},
			{"1", "body\r\nlines\r\n"},
			{"1.MIME", "Subject: x\r\n\r\n"},
		},
		none: []string{"2", "1.1", "1.TEXT"},
	}, {
		name:  "message/rfc822 around a single part",
		raw:   crlf("Content-Type: message/rfc822\n\nSubject: inner\n\ninner body\n"),
		parts: "root message/rfc822\nmsg text/plain charset=\"us-ascii\"\n",
		want: []want{
			{"1", "Subject: inner\r\n\r\ninner body\r\n"},
			{"1.HEADER", "Subject: inner\r\n\r\n"},
			{"1.TEXT", "inner body\r\n"},
			{"1.1", "inner body\r\n"},
		},
		none: []string{"1.2", "1.1.1"},
	}, {
		name:  "bare LF line ends",
		raw:   strings.ReplaceAll(crlf(nested), "\r\n", "\n"),
		parts: "root multipart/mixed boundary=\"X\"\n1 text/plain charset=\"utf-8\"\n2 message/rfc822\n2.msg multipart/alternative boundary=\"Y\"\n2.msg.1 text/plain charset=\"us-ascii\"\n2.msg.2 text/html\n",
		want: []want{
			{"1", "hello"},
			{"2.HEADER", "Subject: inner\nFrom: b@example.com\nContent-Type: multipart/alternative; boundary=Y\n\n"},
			{"2.1", "plain"},
			{"2.2", "<p>html</p>"},
		},
	}, {
		name:  "missing boundary: text/plain",
		raw:   crlf("Content-Type: multipart/mixed\n\n--X\n\nbody\n--X--\n"),
		parts: "root text/plain charset=\"us-ascii\"\n",
		want:  []want{{"1", crlf("--X\n\nbody\n--X--\n")}},
	}, {
		name:  "no boundary line: text/plain",
		raw:   crlf("Content-Type: multipart/mixed; boundary=Z\n\n--X\n\nbody\n"),
		parts: "root text/plain charset=\"us-ascii\"\n",
		want:  []want{{"TEXT", crlf("--X\n\nbody\n")}},
	}, {
		name:  "no close delimiter, no final line break",
		raw:   crlf("Content-Type: multipart/mixed; boundary=X\n\n--X\n\none\n--X\n\ntwo"),
		parts: "root multipart/mixed boundary=\"X\"\n1 text/plain charset=\"us-ascii\"\n2 text/plain charset=\"us-ascii\"\n",
		want:  []want{{"1", "one"}, {"2", "two"}},
	}, {
		name: "boundary lines with padding; similar boundaries",
		raw: crlf("Content-Type: multipart/mixed; boundary=\"X \"\n\n--X \t\n\none\n--Xa\n--X--x\n" +
			"--X\nContent-Type: multipart/related; boundary=X-\n\n--X-\n\nin\n--X---  \n--X--\n"),
		parts: "root multipart/mixed boundary=\"X \"\n1 text/plain charset=\"us-ascii\"\n2 multipart/related boundary=\"X-\"\n2.1 text/plain charset=\"us-ascii\"\n",
		want:  []want{{"1", "one\r\n--Xa\r\n--X--x"}, {"2.1", "in"}, {"2", "--X-\r\n\r\nin\r\n--X---  "}},
	}, {
		name: "an outer boundary closes inner parts",
		raw: crlf("Content-Type: multipart/mixed; boundary=X\n\n--X\nContent-Type: multipart/alternative; boundary=Y\n\n" +
			"--Y\n\nunclosed\n--X\n\nlast\n--X--\n"),
		parts: "root multipart/mixed boundary=\"X\"\n1 multipart/alternative boundary=\"Y\"\n1.1 text/plain charset=\"us-ascii\"\n2 text/plain charset=\"us-ascii\"\n",
		want:  []want{{"1.1", "unclosed"}, {"1", "--Y\r\n\r\nunclosed"}, {"2", "last"}},
	}, {
		name: "header ends at a boundary line; empty parts",
		raw: crlf("Content-Type: multipart/mixed; boundary=X\n\n--X\nContent-Type: text/html\n--X\n--X\n\n--X\n" +
			"Content-Type: text/plain\n\n\n--X--\n"),
		parts: "root multipart/mixed boundary=\"X\"\n1 text/html\n2 text/plain charset=\"us-ascii\"\n3 text/plain charset=\"us-ascii\"\n4 text/plain\n",
		want: []want{
			{"1", ""}, {"1.MIME", "Content-Type: text/html"},
			{"2", ""}, {"2.MIME", ""},
			{"3", ""}, {"3.MIME", ""},
			{"4", ""}, {"4.MIME", "Content-Type: text/plain\r\n\r\n"},
		},
	}, {
		name: "empty parts at an enclosing boundary",
		raw: crlf("Content-Type: multipart/mixed; boundary=X\n\n--X\nContent-Type: multipart/mixed; boundary=Y\n\n--Y\n--X\n" +
			"Content-Type: message/rfc822\n\nSubject: x\n\n--X--\n"),
		parts: "root multipart/mixed boundary=\"X\"\n1 multipart/mixed boundary=\"Y\"\n1.1 text/plain charset=\"us-ascii\"\n2 message/rfc822\n2.msg text/plain charset=\"us-ascii\"\n",
		want: []want{
			{"1", "--Y"}, {"1.1", ""}, {"1.1.MIME", ""},
			{"2", "Subject: x\r\n"}, {"2.HEADER", "Subject: x\r\n"}, {"2.TEXT", ""},
		},
	}, {
		name: "digest parts default to message/rfc822",
		raw: crlf("Content-Type: multipart/digest; boundary=D\n\n--D\n\nSubject: one\n\nfirst\n--D\n" +
			"Content-Type: text/plain\n\nnote\n--D--\n"),
		parts: "root multipart/digest boundary=\"D\"\n1 message/rfc822\n1.msg text/plain charset=\"us-ascii\"\n2 text/plain\n",
		want:  []want{{"1.HEADER", "Subject: one\r\n\r\n"}, {"1.1", "first"}, {"2", "note"}},
	}, {
		name:  "encoded message/rfc822 is not entered",
		raw:   crlf("Content-Type: message/rfc822\nContent-Transfer-Encoding: base64\n\nU3ViamVjdDogeA0KDQp4DQo=\n"),
		parts: "root message/rfc822\n",
		want:  []want{{"1", "U3ViamVjdDogeA0KDQp4DQo=\r\n"}},
		none:  []string{"1.HEADER", "1.1"},
	}, {
		name:  "no header",
		raw:   crlf("\nonly a body\n"),
		parts: "root text/plain charset=\"us-ascii\"\n",
		want:  []want{{"HEADER", "\r\n"}, {"TEXT", "only a body\r\n"}},
	}, {
		name:  "no blank line",
		raw:   "Subject: x\r\nFrom: y@example.com",
		parts: "root text/plain charset=\"us-ascii\"\n",
		want:  []want{{"HEADER", "Subject: x\r\nFrom: y@example.com"}, {"TEXT", ""}},
	}, {
		name:  "empty message",
		raw:   "",
		parts: "root text/plain charset=\"us-ascii\"\n",
		want:  []want{{"HEADER", ""}, {"TEXT", ""}, {"1", ""}},
	}}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p := parseString(t, tt.raw)
			if got := dumpTypes(p.Root); got != tt.parts {
				t.Errorf("parts:\n%swant\n%s", got, tt.parts)
			}
			for _, w := range tt.want {
				got, ok := fetchSection(tt.raw, p.Root, w.spec)
				if !ok || got != w.content {
					t.Errorf("BODY[%s] = %q, %v; want %q\n%s", w.spec, got, ok, w.content, dump(p.Root))
				}
			}
			for _, spec := range tt.none {
				if got, ok := fetchSection(tt.raw, p.Root, spec); ok {
					t.Errorf("BODY[%s] = %q, want no such section", spec, got)
				}
			}
		})
	}
}

// dumpTypes is dump without the offsets.
func dumpTypes(p *Part) string {
	var b strings.Builder
	for line := range strings.Lines(dump(p)) {
		before, after, _ := strings.Cut(line, " [")
		_, params, _ := strings.Cut(after, " lines=")
		_, params, _ = strings.Cut(params, " ")
		if params != "" && params != "\n" {
			b.WriteString(before + " " + params)
		} else {
			b.WriteString(before + "\n")
		}
	}
	return b.String()
}

func TestPartFields(t *testing.T) {
	raw := crlf(`Content-Type: multipart/mixed; boundary="B"; X-Extra = "a;b" (comment)

--B
Content-Type: Application/PDF; NAME="R\"1\".pdf"; name*0*=utf-8''a%20; name*1=b
Content-Transfer-Encoding: "BASE64" (quoted, wrongly)
Content-ID: <part1@example.com>
Content-Description: =?utf-8?q?Rapport_annuel?=
Content-MD5: Q2hlY2sgSW50ZWdyaXR5IQ==
Content-Disposition: Attachment; filename=r.pdf;
 size=3; broken
Content-Language: en, fr-CA
Content-Location: http://example.com/r.pdf

JVBE
--B
Content-Type: text

bad type
--B--
`)
	p := parseString(t, raw)
	root := p.Root
	wantRootParams := []Param{{"boundary", "B"}, {"x-extra", "a;b"}}
	if !equalParams(root.Params, wantRootParams) {
		t.Errorf("root params %q, want %q", root.Params, wantRootParams)
	}
	pdf := root.Parts[0]
	checks := []struct{ name, got, want string }{
		{"type", pdf.Type + "/" + pdf.Subtype, "application/pdf"},
		{"encoding", pdf.Encoding, "base64"},
		{"id", pdf.ID, "<part1@example.com>"},
		{"description", pdf.Description, "=?utf-8?q?Rapport_annuel?="},
		{"md5", pdf.MD5, "Q2hlY2sgSW50ZWdyaXR5IQ=="},
		{"disposition", pdf.Disposition, "attachment"},
		{"language", strings.Join(pdf.Language, "|"), "en|fr-CA"},
		{"location", pdf.Location, "http://example.com/r.pdf"},
		{"size", strconv.FormatInt(pdf.Size(), 10), "4"},
		{"second part", root.Parts[1].Type + "/" + root.Parts[1].Subtype + " " + root.Parts[1].Encoding, "text/plain 7bit"},
	}
	for _, c := range checks {
		if c.got != c.want {
			t.Errorf("%s = %q, want %q", c.name, c.got, c.want)
		}
	}
	wantParams := []Param{{"name", `R"1".pdf`}, {"name*0*", "utf-8''a%20"}, {"name*1", "b"}}
	if !equalParams(pdf.Params, wantParams) {
		t.Errorf("params %q, want %q", pdf.Params, wantParams)
	}
	wantDisp := []Param{{"filename", "r.pdf"}, {"size", "3"}}
	if !equalParams(pdf.DispositionParams, wantDisp) {
		t.Errorf("disposition params %q, want %q", pdf.DispositionParams, wantDisp)
	}
	if pdf.Lines != 0 || root.Parts[1].Lines != 1 {
		t.Errorf("lines %d and %d, want 0 (not text) and 1", pdf.Lines, root.Parts[1].Lines)
	}
}

func equalParams(a, b []Param) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

func TestLimits(t *testing.T) {
	t.Run("deep multiparts", func(t *testing.T) {
		var b strings.Builder
		n := MaxDepth + 50
		for i := range n {
			b.WriteString("Content-Type: multipart/mixed; boundary=b" + itoa(i) + "\r\n\r\n--b" + itoa(i) + "\r\n")
		}
		b.WriteString("\r\ndeepest\r\n")
		p := parseString(t, b.String())
		depth, leaf := 0, p.Root
		for leaf.IsMultipart() {
			leaf, depth = leaf.Parts[0], depth+1
		}
		if depth != MaxDepth || leaf.Type != "text" {
			t.Errorf("deepest part %s/%s at depth %d, want text at %d", leaf.Type, leaf.Subtype, depth, MaxDepth)
		}
	})
	t.Run("deep messages", func(t *testing.T) {
		raw := strings.Repeat("Content-Type: message/rfc822\r\n\r\n", MaxDepth+50) + "Subject: deepest\r\n\r\nx\r\n"
		p := parseString(t, raw)
		depth, leaf := 0, p.Root
		for leaf.Message != nil {
			leaf, depth = leaf.Message, depth+1
		}
		if depth != MaxDepth || leaf.Type != "message" {
			t.Errorf("deepest part %s/%s at depth %d, want an unparsed message at %d", leaf.Type, leaf.Subtype, depth, MaxDepth)
		}
	})
	t.Run("many parts", func(t *testing.T) {
		raw := "Content-Type: multipart/mixed; boundary=b\r\n\r\n" + strings.Repeat("--b\r\n\r\nx\r\n", MaxParts+100) + "--b--\r\n"
		p := parseString(t, raw)
		if len(p.Root.Parts) != MaxParts-1 {
			t.Errorf("%d parts, want %d", len(p.Root.Parts), MaxParts-1)
		}
	})
	t.Run("long header field", func(t *testing.T) {
		raw := "Subject: " + strings.Repeat("x", 3*maxFieldSize) + "\r\n\r\nbody"
		p := parseString(t, raw)
		if len(p.Envelope.Subject) != maxFieldSize-1 {
			t.Errorf("subject of %d octets, want it cut at %d", len(p.Envelope.Subject), maxFieldSize-1)
		}
	})
}

func itoa(i int) string {
	if i < 10 {
		return string(rune('0' + i))
	}
	return itoa(i/10) + string(rune('0'+i%10))
}

// failingReader fails after some octets.
type failingReader struct{ n int64 }

var errDisk = errors.New("disk on fire")

func (r failingReader) ReadAt(b []byte, off int64) (int, error) {
	if off >= r.n {
		return 0, errDisk
	}
	n := min(int64(len(b)), r.n-off)
	for i := range n {
		b[i] = 'x'
	}
	return int(n), nil
}

func TestReadErrors(t *testing.T) {
	if _, err := Parse(failingReader{n: 100}, 1<<20); !errors.Is(err, errDisk) {
		t.Errorf("read error: got %v, want %v", err, errDisk)
	}
	if _, err := Parse(strings.NewReader("Subject: x\r\n\r\n"), 100); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("short message: got %v, want %v", err, io.ErrUnexpectedEOF)
	}
	if _, err := Parse(strings.NewReader(""), -1); err == nil {
		t.Error("negative size: no error")
	}
}
