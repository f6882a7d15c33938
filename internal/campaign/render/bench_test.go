package render

import (
	"fmt"
	"io"
	"os"
	"strings"
	"testing"
)

// newsletter10K is testdata/newsletter.html grown to about 10 KiB with personalised, linked
// paragraphs.
func newsletter10K(b *testing.B) string {
	src, err := os.ReadFile("testdata/newsletter.html")
	if err != nil {
		b.Fatal(err)
	}
	var more strings.Builder
	for i := 0; more.Len() < 10*1024-len(src); i++ {
		fmt.Fprintf(&more, `<h3>Story %d</h3><p>{{.Name}}, as a {{attr "plan"}} member you read this first: story %d of the month, `+
			`with a <a href="https://example.org/stories/%d">link to the full text</a> and a few words more to fill it.</p>`+"\n", i, i, i)
	}
	return strings.Replace(string(src), "<hr>", more.String()+"<hr>", 1)
}

// BenchmarkRender renders and builds one personalised, tracked 10 KiB newsletter per op.
func BenchmarkRender(b *testing.B) {
	c := testContent(b)
	c.HTML = newsletter10K(b)
	camp := compile(b, c)
	r := recipient(b, "ann@example.net", "Ann Smith", map[string]any{"plan": "gold"})
	links := newTestLinks("bench")
	var size countingWriter
	if err := camp.Render(&size, r, links); err != nil {
		b.Fatal(err)
	}
	b.SetBytes(int64(size))
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		if err := camp.Render(io.Discard, r, links); err != nil {
			b.Fatal(err)
		}
	}
}

type countingWriter int

func (w *countingWriter) Write(p []byte) (int, error) {
	*w += countingWriter(len(p))
	return len(p), nil
}
