package render

import (
	"os"
	"strings"
	"testing"
	"unicode/utf8"
)

func TestHTMLToTextOfANewsletter(t *testing.T) {
	src, err := os.ReadFile("testdata/newsletter.html")
	if err != nil {
		t.Fatal(err)
	}
	c := testContent(t)
	c.HTML = string(src)
	camp := compile(t, c)
	p, err := camp.RenderParts(recipient(t, "ann@example.net", "Ann Smith", nil), newTestLinks("r1"))
	if err != nil {
		t.Fatal(err)
	}
	got := strings.ReplaceAll(string(p.Text), "\r\n", "\n")
	want, err := os.ReadFile("testdata/newsletter.txt")
	if err != nil {
		t.Fatal(err)
	}
	if got != string(want) {
		t.Errorf("text part:\n%s\nwant:\n%s", got, want)
	}
	for _, line := range strings.Split(got, "\n") {
		if n := utf8.RuneCountInString(line); n > textWidth && strings.Contains(strings.TrimSpace(line), " ") {
			t.Errorf("line of %d columns: %q", n, line)
		}
	}
}

func TestHTMLToTextCases(t *testing.T) {
	for _, tc := range []struct{ html, want string }{
		{"<p>a</p><p>b</p>", "a\n\nb\n"},
		{"a<br>b<br><br>c", "a\nb\n\nc\n"},
		{`<a href="https://x.example/">X</a>`, "X (https://x.example/)\n"},
		{`<a href="https://x.example/"></a>`, "https://x.example/\n"},
		{`<a href="mailto:a@example.org">write</a>`, "write (a@example.org)\n"},
		{`<a href="#top">top</a>`, "top\n"},
		{"<h3>T&amp;C</h3>text", "### T&C\n\ntext\n"},
		{"<ol><li>x</li><li>y</li></ol>", "1. x\n2. y\n"},
		{`<span hidden>no</span><span aria-hidden="true">no</span>yes`, "yes\n"},
		{"", ""},
	} {
		if got := strings.ReplaceAll(string(HTMLToText([]byte(tc.html))), "\r\n", "\n"); got != tc.want {
			t.Errorf("HTMLToText(%q) = %q, want %q", tc.html, got, tc.want)
		}
	}
}
