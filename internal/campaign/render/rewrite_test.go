package render

import (
	"bytes"
	"fmt"
	"strings"
	"sync"
	"testing"
)

const trackedHTML = `<html><body>
<p><a href="https://example.org/a?x=1&amp;y=2">A</a> <A HREF="https://example.org/b">B</A>
<a href="https://example.org/a?x=1&amp;y=2" class="again">A again</a></p>
<p><a href="mailto:editor@example.org">Write to us</a> <a href="#top">Top</a>
<a href="https://example.org/private" data-notrack>Untracked</a>
<a href="https://shop.example/?u={{.Email}}">Your shop</a></p>
<p>{{.Name}} <a href="{{unsubscribe_url}}">Unsubscribe</a> <a href="{{preferences_url}}">Preferences</a> <a href="{{view_url}}">View</a></p>
</body></html>`

func TestLinkRewriting(t *testing.T) {
	c := testContent(t)
	c.HTML = trackedHTML
	var mu sync.Mutex
	newLinks := map[int]string{}
	c.NewLink = func(idx int, target string) error {
		mu.Lock()
		defer mu.Unlock()
		newLinks[idx] = target
		return nil
	}
	camp := compile(t, c)
	if got, want := fmt.Sprint(camp.Targets()), "[https://example.org/a?x=1&y=2 https://example.org/b]"; got != want {
		t.Fatalf("static targets %s, want %s", got, want)
	}
	for i, addr := range []string{"ann@example.net", "bob@example.net"} {
		links := newTestLinks(fmt.Sprint("r", i))
		p, err := camp.RenderParts(recipient(t, addr, "", nil), links)
		if err != nil {
			t.Fatal(err)
		}
		html := string(p.HTML)
		id := links.id
		for _, want := range []string{
			`<a href="https://news.example.org/t/c/` + id + `-1">A</a>`,
			`<a href="https://news.example.org/t/c/` + id + `-2">B</A>`,
			`<a href="https://news.example.org/t/c/` + id + `-1" class="again">A again</a>`,
			`<a href="mailto:editor@example.org">Write to us</a>`,
			`<a href="#top">Top</a>`,
			`<a href="https://example.org/private">Untracked</a>`,
			fmt.Sprintf(`<a href="https://news.example.org/t/c/%s-%d">Your shop</a>`, id, 3+i),
			`<a href="https://news.example.org/u/` + id + `">Unsubscribe</a>`,
			`<a href="https://news.example.org/p/` + id + `">Preferences</a>`,
			`<a href="https://news.example.org/t/v/` + id + `">View</a>`,
		} {
			if !strings.Contains(html, want) {
				t.Errorf("recipient %d: html lacks %s\n%s", i, want, html)
			}
		}
		if links.clicks[1] != "https://example.org/a?x=1&y=2" || links.clicks[2] != "https://example.org/b" {
			t.Errorf("click targets %v", links.clicks)
		}
		if links.clicks[HoneypotLink] != links.ViewURL() {
			t.Errorf("honeypot target %q", links.clicks[HoneypotLink])
		}
	}
	if newLinks[3] != "https://shop.example/?u=ann%40example.net" || newLinks[4] != "https://shop.example/?u=bob%40example.net" || len(newLinks) != 2 {
		t.Errorf("NewLink calls %v", newLinks)
	}
	if n := len(camp.Targets()); n != 4 {
		t.Errorf("%d targets, want 4", n)
	}
	// A recompile that is given the table keeps every index.
	c.Links = camp.Targets()
	again := compile(t, c)
	if fmt.Sprint(again.Targets()) != fmt.Sprint(camp.Targets()) {
		t.Errorf("recompiled table %v, want %v", again.Targets(), camp.Targets())
	}
}

func TestPixelAndHoneypotOnlyWithTracking(t *testing.T) {
	for _, tc := range []struct {
		name                string
		campaign, recipient bool
		html                string
	}{
		{"tracking", true, true, "<html><body><p>Hi</p></body></html>"},
		{"tracking without body tag", true, true, "<p>Hi</p>"},
		{"campaign off", false, true, "<html><body><p>Hi</p></body></html>"},
		{"no consent", true, false, "<html><body><p>Hi <a href=\"https://example.org/\">x</a></p></body></html>"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := testContent(t)
			c.HTML, c.Tracking = tc.html, tc.campaign
			camp := compile(t, c)
			r := recipient(t, "ann@example.net", "Ann", nil)
			r.Tracking = tc.recipient
			links := newTestLinks("r1")
			p, err := camp.RenderParts(r, links)
			if err != nil {
				t.Fatal(err)
			}
			html := string(p.HTML)
			pixel := `<img src="https://news.example.org/t/o/r1.gif" alt="" width="1" height="1"`
			honeypot := `<div style="display:none;max-height:0;overflow:hidden" aria-hidden="true"><a href="https://news.example.org/t/c/r1-0" tabindex="-1"></a></div>`
			if !(tc.campaign && tc.recipient) {
				if html != tc.html || len(links.clicks) != 0 {
					t.Fatalf("html changed without tracking:\n%s", html)
				}
				return
			}
			if countOf(html, pixel) != 1 || countOf(html, honeypot) != 1 {
				t.Fatalf("want one pixel and one honeypot:\n%s", html)
			}
			if strings.Contains(tc.html, "</body>") {
				if !strings.HasSuffix(html, `"></body></html>`) || strings.Index(html, honeypot) > strings.Index(html, pixel) {
					t.Errorf("honeypot and pixel not right before </body>:\n%s", html)
				}
			} else if !strings.HasPrefix(html, "<p>Hi</p>"+honeypot) {
				t.Errorf("honeypot and pixel not at the end:\n%s", html)
			}
			// No person reads the honeypot: the text made from the tracked HTML does not show it.
			if txt := string(HTMLToText([]byte(html))); strings.Contains(txt, "t/c/") {
				t.Errorf("honeypot visible as text: %q", txt)
			}
		})
	}
}

func TestRewriteKeepsOtherBytes(t *testing.T) {
	src := "<!DOCTYPE html><HTML><Head><style>a{color:red}</style></Head><BODY Class=x><!-- c --><p>caf&eacute; &amp; <b>x</b><script>if (a<b) {}</script></BODY></HTML>"
	c := testContent(t)
	c.HTML = "x"
	camp := compile(t, c)
	var out bytes.Buffer
	if err := rewriteLinks(&out, []byte(src), camp, newTestLinks("r")); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	i := strings.Index(got, "<div style=")
	j := strings.Index(got, "</BODY>")
	if i < 0 || j < 0 || got[:i] != src[:strings.Index(src, "</BODY>")] || got[j:] != "</BODY></HTML>" {
		t.Errorf("bytes not kept:\n%s", got)
	}
}
