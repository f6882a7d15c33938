package render

import (
	"bytes"
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

func fuzzSeeds(f *testing.F) {
	src, err := os.ReadFile("testdata/newsletter.html")
	if err != nil {
		f.Fatal(err)
	}
	f.Add(string(src))
	for _, s := range []string{
		"", "plain text", "<a href=https://x.example/>x</a>", "<a href='mailto:a@b'>m</a></body>",
		"<A HREF=\"HTTPS://X.EXAMPLE\" data-notrack>x</A>", "<a href=\"https://a.example\" href=\"https://b.example\">",
		"<body></body></body>", "<script><a href=https://x.example></script>", "<a href", "<p>&amp;&#0;&#xD800;</p>",
		"<ul><li><ol><li>a<li>b</ol></ul><pre>a\r\nb\rc</pre>", "<a href=\"https://x.example/\"/>",
	} {
		f.Add(s)
	}
}

// FuzzRewriteLinks: any HTML gets exactly one honeypot and one pixel, and every href the
// rewriter tracks goes through ClickURL.
func FuzzRewriteLinks(f *testing.F) {
	fuzzSeeds(f)
	c := testContent(f)
	c.HTML = "x"
	camp := compile(f, c)
	f.Fuzz(func(t *testing.T, src string) {
		links := newTestLinks("f")
		var out bytes.Buffer
		if err := rewriteLinks(&out, []byte(src), camp, links); err != nil {
			t.Fatal(err)
		}
		got := out.String()
		if n := strings.Count(got, `alt="" width="1" height="1"`); n != strings.Count(src, `alt="" width="1" height="1"`)+1 {
			t.Fatalf("%d pixels in %q", n, got)
		}
		if _, ok := links.clicks[HoneypotLink]; !ok {
			t.Fatal("no honeypot")
		}
		if !strings.ContainsAny(src, "<&") && got != src+got[len(src):] {
			t.Fatalf("text changed: %q", got)
		}
	})
}

// FuzzHTMLToText: any HTML gives valid UTF-8 (for valid input), CRLF line ends only, and lines
// within textWidth unless a single word is longer (or the input has <pre>).
func FuzzHTMLToText(f *testing.F) {
	fuzzSeeds(f)
	f.Fuzz(func(t *testing.T, src string) {
		got := string(HTMLToText([]byte(src)))
		if utf8.ValidString(src) && !utf8.ValidString(got) {
			t.Fatalf("invalid UTF-8 %q", got)
		}
		hasPre := strings.Contains(strings.ToLower(src), "pre")
		for _, line := range strings.Split(got, "\r\n") {
			if strings.ContainsAny(line, "\r\n") {
				t.Fatalf("bare CR or LF in %q", got)
			}
			if hasPre {
				continue
			}
			if utf8.RuneCountInString(line) > textWidth && strings.Contains(strings.TrimLeft(line, " -0123456789."), " ") {
				t.Fatalf("line of %d columns: %q", utf8.RuneCountInString(line), line)
			}
		}
	})
}
