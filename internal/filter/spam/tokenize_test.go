package spam

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"reflect"
	"strings"
	"testing"
)

func tokenize(t testing.TB, m []byte) *Tokens {
	t.Helper()
	toks, err := Tokenize(bytes.NewReader(m), int64(len(m)))
	if err != nil {
		t.Fatal(err)
	}
	return toks
}

// TestTokenizeMIME: encodings and charsets are decoded, HTML is reduced to its text, URLs
// give their hosts and domains, structure gives its tokens.
func TestTokenizeMIME(t *testing.T) {
	m := msg(`From: =?iso-8859-1?q?J=FCrgen?= <juergen@example.de>
To: a@example.org, b@example.org
Subject: =?utf-8?b?R3LDvMOfZSBhdXMgS8O2bG4=?=
Message-ID: <abc@mail.example.de>
Received: from mx.sender.example.de (mx.sender.example.de [198.51.100.7]) by mx.example.org
X-Mailer: Example Mail 1.0
MIME-Version: 1.0
Content-Type: multipart/mixed; boundary="b1"`, `--b1
Content-Type: multipart/alternative; boundary="b2"

--b2
Content-Type: text/plain; charset=iso-8859-1
Content-Transfer-Encoding: quoted-printable

Sch=F6ne Gr=FC=DFe, see www.shop.example.com/cart?item=bicycle
--b2
Content-Type: text/html; charset=utf-8
Content-Transfer-Encoding: base64

`+b64(`<html><style>.hidden{color:red}</style><body><p>Visit <a href="https://deals.example.net/x">our<b>shop</b></a><img src="http://img.example.net/p.gif"></p><!-- c --><script>var secretword=1</script></body></html>`)+`
--b2--
--b1
Content-Type: application/octet-stream; name="invoice.exe"
Content-Transfer-Encoding: base64

TVqQAAMAAAAEAAAA
--b1--
`)
	toks := tokenize(t, m)
	for _, want := range []string{
		"from:name:jürgen", "from:domain:example.de", "to:addr:b@example.org", "subject:grüße",
		"subject:köln", "message-id:@mail.example.de", "received:example.de", "received:ip:198.51",
		"received:ip:198.51.100", "x-mailer:example", "hdr:x-mailer", "schöne", "grüße",
		"url:shop.example.com", "url:example.com", "url-path:cart", "url-path:bicycle", "visit",
		"ourshop", "url:deals.example.net", "url:example.net", "url:img.example.net", "proto:https",
		"html:img", "html:comment", "html:style", "html:script", "ct:multipart/alternative",
		"ct:text/html", "cte:quoted-printable", "cte:base64", "charset:iso-8859-1", "filename-ext:exe",
		"ct:application/octet-stream",
	} {
		if _, ok := toks.seen[want]; !ok {
			t.Errorf("no token %q", want)
		}
	}
	for _, not := range []string{"secretword", "hidden", "color", "tvqqaamaaaaeaaaa", "struct:html-only"} {
		if _, ok := toks.seen[not]; ok {
			t.Errorf("token %q should not be there", not)
		}
	}
	f := toks.Features
	if f.From != "juergen@example.de" || !f.HasMessageID || f.HasDate || f.Recipients != 2 || !f.HTML || !f.PlainText {
		t.Errorf("features %+v", f)
	}
	if got := strings.Join(f.Domains, " "); got != "example.com example.net" {
		t.Errorf("domains %q", got)
	}
	for i, tok := range toks.List {
		if tok.hash != hashToken(tok.text) {
			t.Errorf("token %d %q: hash %x", i, tok.text, tok.hash)
		}
	}
}

func b64(s string) string {
	const enc = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/"
	var out strings.Builder
	b := []byte(s)
	for i := 0; i < len(b); i += 3 {
		var n uint32
		k := min(3, len(b)-i)
		for j := 0; j < 3; j++ {
			n <<= 8
			if j < k {
				n |= uint32(b[i+j])
			}
		}
		for j := 0; j < 4; j++ {
			if j <= k {
				out.WriteByte(enc[(n>>(18-6*j))&63])
			} else {
				out.WriteByte('=')
			}
		}
		if (i/3+1)%19 == 0 {
			out.WriteString("\n")
		}
	}
	return out.String()
}

func TestTokenizeBounds(t *testing.T) {
	var body strings.Builder
	for i := range 2 * MaxTokens {
		fmt.Fprintf(&body, "word%d ", i)
	}
	toks := tokenize(t, msg("Subject: many", body.String()))
	if len(toks.List) != MaxTokens || !toks.Features.Truncated {
		t.Errorf("%d tokens, truncated %v; want %d, true", len(toks.List), toks.Features.Truncated, MaxTokens)
	}
	long := strings.Repeat("x", 3*MaxTextBytes)
	toks = tokenize(t, msg("Subject: long", long+" "+long))
	if !toks.Features.Truncated {
		t.Error("text beyond MaxTextBytes: not truncated")
	}
	if _, ok := toks.seen["skip:x 262140"]; !ok {
		t.Errorf("long word: tokens %v", toks.List)
	}
}

// TestTokenizeLinkMismatch finds a link whose text shows another domain than its target.
func TestTokenizeLinkMismatch(t *testing.T) {
	for _, tc := range []struct{ html, want string }{
		{`<a href="http://evil.example/login">https://www.bank.example/</a>`, "bank.example -> evil.example"},
		{`<a href="https://login.bank.example/">www.bank.example</a>`, ""},
		{`<a href="https://evil.example/">click here</a>`, ""},
	} {
		toks := tokenize(t, msg("Content-Type: text/html", tc.html))
		if toks.Features.LinkMismatch != tc.want {
			t.Errorf("%s: %q, want %q", tc.html, toks.Features.LinkMismatch, tc.want)
		}
	}
}

// failingReader serves the message once, to the parser's pass, and fails when a part is read
// again, as a disk error in the middle of the work would.
type failingReader struct {
	data   []byte
	served int64 // reads below this offset were served before
}

func (f *failingReader) ReadAt(p []byte, off int64) (int, error) {
	if off < f.served {
		return 0, errors.New("read error")
	}
	n := copy(p, f.data[min(off, int64(len(f.data))):])
	f.served = off + int64(n)
	if n < len(p) {
		return n, io.EOF
	}
	return n, nil
}

// TestTokenizeReadError: a reader failing under a lenient decoder (base64 in a charset) is an
// error, not a shorter message.
func TestTokenizeReadError(t *testing.T) {
	m := msg("Subject: x\nContent-Type: text/plain; charset=iso-8859-1\nContent-Transfer-Encoding: base64", strings.Repeat("aGVsbG8gd29ybGQK\n", 4000))
	if _, err := Tokenize(&failingReader{data: m}, int64(len(m))); err == nil {
		t.Fatal("no error from a failing reader")
	}
}

// TestTokenizeMboxFromLine: an mbox "From " line before the header is not a field.
func TestTokenizeMboxFromLine(t *testing.T) {
	toks := tokenize(t, []byte("From fork-admin@xent.com  Mon Jul 29 11:40:35 2002\nSubject: hi\n\nbody\n"))
	for _, tok := range toks.List {
		if strings.Contains(tok.text, "jul") || strings.Contains(tok.text, "xent") {
			t.Errorf("token %q from the mbox From line", tok.text)
		}
	}
	if _, ok := toks.seen["subject:hi"]; !ok {
		t.Errorf("tokens %v, want subject:hi", toks.List)
	}
}

// TestRepeatedURLsTokenizedOnce: a URL that comes back in a message (a newsletter's link in
// every paragraph) gives the same tokens and domains as one occurrence of it.
func TestRepeatedURLsTokenizedOnce(t *testing.T) {
	once := msg("Subject: minutes", "read https://Docs.Example.com/Minutes?id=7 before lunch and https://other.example.net/\n")
	many := msg("Subject: minutes", "read https://Docs.Example.com/Minutes?id=7 before lunch and https://other.example.net/\n"+
		strings.Repeat("again https://Docs.Example.com/Minutes?id=7 https://other.example.net/\n", 50))
	a, err := Tokenize(bytes.NewReader(once), int64(len(once)))
	if err != nil {
		t.Fatal(err)
	}
	b, err := Tokenize(bytes.NewReader(many), int64(len(many)))
	if err != nil {
		t.Fatal(err)
	}
	var onceList, manyList []string
	for _, tok := range a.List {
		onceList = append(onceList, tok.text)
	}
	for _, tok := range b.List {
		if tok.text != "again" {
			manyList = append(manyList, tok.text)
		}
	}
	if !reflect.DeepEqual(onceList, manyList) || !reflect.DeepEqual(a.Features.Domains, b.Features.Domains) {
		t.Fatalf("once: %v %v\nrepeated: %v %v", onceList, a.Features.Domains, manyList, b.Features.Domains)
	}
	if len(a.Features.Domains) != 2 {
		t.Fatalf("domains %v", a.Features.Domains)
	}
}
