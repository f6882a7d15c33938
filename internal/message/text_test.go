package message

import (
	"errors"
	"strings"
	"testing"
	"unicode/utf8"
)

func extract(t *testing.T, raw string) Text {
	t.Helper()
	raw = strings.ReplaceAll(raw, "\n", "\r\n")
	p := parseString(t, raw)
	text, err := ExtractText(strings.NewReader(raw), p.Root)
	if err != nil {
		t.Fatal(err)
	}
	return text
}

func TestExtractText(t *testing.T) {
	for _, tt := range []struct {
		name         string
		raw          string
		header, body string
	}{
		{
			name: "plain, folded and encoded header",
			raw: "Subject: =?ISO-8859-1?Q?caf=E9?=\n\tau lait\nDKIM-Signature: v=1; b=c2lnbmF0dXJl\n\tZm9sZGVk\n" +
				"X-Header:  qwertyuiop\n\n" +
				"Line one\n  line   two\n\n",
			header: "Subject: café au lait X-Header: qwertyuiop",
			body:   "Line one line two ",
		},
		{
			name: "quoted-printable in a charset",
			raw: "Content-Type: text/plain; charset=iso-8859-15\nContent-Transfer-Encoding: quoted-printable\n\n" +
				"Pr=E9sident soft=\nbreak =A4\n",
			header: "Content-Type: text/plain; charset=iso-8859-15 Content-Transfer-Encoding: quoted-printable",
			body:   "Président softbreak € ",
		},
		{
			name: "base64 with stray white space",
			raw: "Content-Type: text/plain; charset=utf-8\nContent-Transfer-Encoding: base64\n\n" +
				"SGVsbG8s IHfDtnJs\nZCE=\n",
			header: "Content-Type: text/plain; charset=utf-8 Content-Transfer-Encoding: base64",
			body:   "Hello, wörld!",
		},
		{
			name: "html reduced to its text",
			raw: "Content-Type: text/html\n\n" +
				"<html><head><style>p { color: red }</style><script>var secret = 1;</script></head>" +
				"<body><p>First&nbsp;para<b>graph</b></p><p>Second &amp; last</p><!-- hidden --></body></html>\n",
			header: "Content-Type: text/html",
			body:   "First paragraph Second & last ",
		},
		{
			name: "multipart: text parts only, encapsulated header included",
			raw: "Content-Type: multipart/mixed; boundary=b\n\n" +
				"--b\nContent-Type: text/plain\n\nalpha\n" +
				"--b\nContent-Type: application/octet-stream\nContent-Transfer-Encoding: base64\n\nYmV0YQ==\n" +
				"--b\nContent-Type: message/rfc822\n\nSubject: gamma\n\ndelta\n" +
				"--b--\n",
			header: "Content-Type: multipart/mixed; boundary=b",
			body:   "alpha Subject: gamma delta",
		},
		{
			name: "alternative: the plain text only",
			raw: "Content-Type: multipart/alternative; boundary=b\n\n" +
				"--b\nContent-Type: text/plain\n\nplain words\n" +
				"--b\nContent-Type: text/html\n\n<p>html words</p>\n" +
				"--b--\n",
			header: "Content-Type: multipart/alternative; boundary=b",
			body:   "plain words",
		},
		{
			name: "alternative without plain text: every alternative",
			raw: "Content-Type: multipart/alternative; boundary=b\n\n" +
				"--b\nContent-Type: text/enriched\n\nrich words\n" +
				"--b\nContent-Type: text/html\n\n<p>html words</p>\n" +
				"--b--\n",
			header: "Content-Type: multipart/alternative; boundary=b",
			body:   "rich words html words ",
		},
		{
			name:   "empty body",
			raw:    "Subject: x\n\n",
			header: "Subject: x",
			body:   "",
		},
	} {
		t.Run(tt.name, func(t *testing.T) {
			got := extract(t, tt.raw)
			if got.Header != tt.header {
				t.Errorf("header %q, want %q", got.Header, tt.header)
			}
			if got.Body != tt.body {
				t.Errorf("body %q, want %q", got.Body, tt.body)
			}
		})
	}
}

func TestExtractTextBounded(t *testing.T) {
	line := strings.Repeat("é", 40) + "\n"
	raw := "Subject: big\n\n" + strings.Repeat(line, 2*MaxText/len(line))
	got := extract(t, raw)
	if len(got.Body) > MaxText || len(got.Body) < MaxText-8 {
		t.Errorf("body of %d octets, want just under %d", len(got.Body), MaxText)
	}
	if !utf8.ValidString(got.Body) {
		t.Error("body cut inside a character")
	}
	// Characters split between two reads are kept whole.
	if want := strings.Repeat(strings.Repeat("é", 40)+" ", 2*MaxText/len(line)); !strings.HasPrefix(want, got.Body) {
		t.Error("body is not the normalised text of the message")
	}
}

func TestNormalizeText(t *testing.T) {
	for in, want := range map[string]string{
		"":                "",
		"a  b\r\n\tc":     "a b c",
		" lead":           " lead",
		"trail\r\n":       "trail ",
		"x\x00y\xffz":     "x y z",
		"no\u00a0break":   "no break",
		"message 4242.":   "message 4242.",
		"\t\t\r\n   \t\t": " ",
	} {
		if got := NormalizeText(in); got != want {
			t.Errorf("NormalizeText(%q) = %q, want %q", in, got, want)
		}
	}
}

type failingReaderAt struct{}

func (failingReaderAt) ReadAt(p []byte, off int64) (int, error) { return 0, errors.New("disk on fire") }

// TestExtractTextReadError: a failing reader is an error, not an empty text.
func TestExtractTextReadError(t *testing.T) {
	raw := "Subject: x\r\n\r\nbody\r\n"
	p := parseString(t, raw)
	if _, err := ExtractText(failingReaderAt{}, p.Root); err == nil {
		t.Fatal("no error from a failing reader")
	}
}

// TestExtractTextCorpus extracts the text of every file of the shared corpus: none fails, and
// every text is valid UTF-8 within the bound.
func TestExtractTextCorpus(t *testing.T) {
	eachCorpusFile(t, func(t *testing.T, raw []byte) {
		r := strings.NewReader(string(raw))
		p, err := Parse(r, int64(len(raw)))
		if err != nil {
			t.Fatal(err)
		}
		text, err := ExtractText(r, p.Root)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range []string{text.Header, text.Body} {
			if !utf8.ValidString(s) || len(s) > MaxText {
				t.Errorf("%d octets, valid UTF-8 %v", len(s), utf8.ValidString(s))
			}
		}
	})
}
