package render

import (
	"bytes"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"

	xhtml "golang.org/x/net/html"
)

// textWidth is the column at which the text part's words wrap.
const textWidth = 76

// HTMLToText returns the plain text the package makes of an HTML body (see the package doc).
func HTMLToText(src []byte) []byte {
	var b bytes.Buffer
	htmlToText(&b, src)
	return b.Bytes()
}

// textWriter lays out words into wrapped lines.
type textWriter struct {
	out      *bytes.Buffer
	col      int    // runes on the current line
	prefix   string // indentation of continuation lines (list items)
	space    bool   // a space is due before the next word
	breaks   int    // line breaks due before the next word: 1 a new line, 2 a blank line
	started  bool   // something was written
	pre      int    // depth of <pre>
	lineText bool   // the current line has a word
}

// block asks for a blank line before what follows.
func (t *textWriter) block() { t.breaks = max(t.breaks, 2); t.space = false }

// newline asks for a line break before what follows.
func (t *textWriter) newline() { t.breaks = max(t.breaks, 1); t.space = false }

func (t *textWriter) flushBreaks() {
	if !t.started {
		t.breaks = 0
		return
	}
	for ; t.breaks > 0; t.breaks-- {
		t.out.WriteString("\r\n")
		t.col = 0
		t.lineText = false
	}
}

// word writes w (no spaces in it, control characters dropped), wrapping first when it would
// pass textWidth.
func (t *textWriter) word(w []byte) {
	n, clean := 0, true
	for i := 0; i < len(w); {
		r, size := utf8.DecodeRune(w[i:])
		if dropControl(r) < 0 {
			clean = false
		} else {
			n++
		}
		i += size
	}
	if n == 0 {
		return
	}
	t.flushBreaks()
	if t.lineText && t.col+1+n > textWidth {
		t.out.WriteString("\r\n")
		t.col = 0
		t.lineText = false
		t.space = false
	}
	if t.col == 0 && t.prefix != "" && !t.lineText {
		t.out.WriteString(t.prefix)
		t.col = utf8.RuneCountInString(t.prefix)
	}
	if t.space && t.lineText {
		t.out.WriteByte(' ')
		t.col++
	}
	if clean {
		t.out.Write(w)
	} else {
		for i := 0; i < len(w); {
			r, size := utf8.DecodeRune(w[i:])
			if dropControl(r) >= 0 {
				t.out.Write(w[i : i+size])
			}
			i += size
		}
	}
	t.col += n
	t.space = false
	t.lineText = true
	t.started = true
}

func (t *textWriter) wordString(w string) { t.word([]byte(w)) }

// marker writes a list marker at the start of a line, indented by the item's depth.
func (t *textWriter) marker(indent, m string) {
	t.newline()
	t.flushBreaks()
	t.out.WriteString(indent)
	t.out.WriteString(m)
	t.col = utf8.RuneCountInString(indent) + utf8.RuneCountInString(m)
	t.prefix = indent + strings.Repeat(" ", utf8.RuneCountInString(m))
	t.space = false
	t.lineText = true
	t.started = true
}

// text writes character data, collapsing white space (outside <pre>).
func (t *textWriter) text(s []byte) {
	if t.pre > 0 {
		t.preText(string(s))
		return
	}
	for len(s) > 0 {
		i := bytes.IndexFunc(s, unicode.IsSpace)
		if i == 0 {
			t.space = true
			s = bytes.TrimLeftFunc(s, unicode.IsSpace)
			continue
		}
		if i < 0 {
			i = len(s)
		}
		t.word(s[:i])
		s = s[i:]
	}
}

// preText writes the text of a <pre> element with its lines and spaces kept.
func (t *textWriter) preText(s string) {
	for i, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if i > 0 {
			t.breaks = 1
			t.flushBreaks()
		}
		line = strings.Map(dropControlKeepTab, line)
		if line != "" {
			t.flushBreaks()
			t.out.WriteString(line)
			t.col += utf8.RuneCountInString(line)
			t.lineText, t.started = true, true
		}
	}
}

func dropControl(r rune) rune {
	if r < 0x20 || r == 0x7f {
		return -1
	}
	return r
}

func dropControlKeepTab(r rune) rune {
	if r == '\t' {
		return r
	}
	return dropControl(r)
}

// Bounds that keep the conversion linear on hostile input: list indentation stops growing after
// maxIndent levels, and at most maxAnchors nested links are followed.
const (
	maxIndent  = 8
	maxAnchors = 8
)

// list is an open <ul> or <ol>.
type list struct {
	ordered bool
	n       int
}

// anchor is an open <a>: its target, and where its text began.
type anchor struct {
	href  string
	start int
}

func htmlToText(out *bytes.Buffer, src []byte) {
	t := &textWriter{out: out}
	z := xhtml.NewTokenizer(bytes.NewReader(src))
	var lists []list
	var links []anchor
	hidden := "" // the tag whose content is skipped, and how deep
	hiddenDepth := 0
	var nameBuf [16]byte
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			break
		}
		var name []byte
		if tt == xhtml.StartTagToken || tt == xhtml.SelfClosingTagToken || tt == xhtml.EndTagToken {
			name = rawTagName(z.Raw(), &nameBuf)
		}
		tag := name // compared as string(tag), which does not allocate
		if hiddenDepth > 0 {
			switch {
			case tt == xhtml.StartTagToken && string(tag) == hidden:
				hiddenDepth++
			case tt == xhtml.EndTagToken && string(tag) == hidden:
				hiddenDepth--
			}
			continue
		}
		switch tt {
		case xhtml.TextToken:
			t.text(z.Text())
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			attrs := readAttrs(z, z.Raw(), string(tag))
			if tt == xhtml.StartTagToken && (skippedTag(string(tag)) || isHidden(attrs)) && !voidTag(string(tag)) {
				hidden, hiddenDepth = string(tag), 1
				continue
			}
			switch string(tag) {
			case "br":
				t.breaks = min(t.breaks+1, 2)
				t.space = false
			case "p", "div", "table", "blockquote", "section", "article", "header", "footer", "center", "dl", "address":
				t.block()
			case "tr", "dt", "dd":
				t.newline()
			case "td", "th":
				t.space = true
			case "hr":
				t.block()
				t.wordString("--------------------")
				t.block()
			case "h1", "h2", "h3", "h4", "h5", "h6":
				t.block()
				t.wordString("######"[:int(tag[1]-'0')])
				t.space = true
			case "ul", "ol":
				if len(lists) == 0 {
					t.block()
				}
				lists = append(lists, list{ordered: string(tag) == "ol"})
			case "li":
				indent := ""
				if len(lists) > 1 {
					indent = "                "[:2*min(len(lists)-1, maxIndent)]
				}
				m := "- "
				if len(lists) > 0 && lists[len(lists)-1].ordered {
					lists[len(lists)-1].n++
					m = strconv.Itoa(lists[len(lists)-1].n) + ". "
				}
				t.marker(indent, m)
			case "pre":
				t.block()
				t.pre++
			case "img":
				if alt := attrs.alt; alt != "" {
					t.text([]byte(alt))
				}
			case "a":
				if tt == xhtml.StartTagToken && len(links) < maxAnchors {
					links = append(links, anchor{href: strings.TrimSpace(attrs.href), start: out.Len()})
				}
			}
		case xhtml.EndTagToken:
			switch string(tag) {
			case "p", "div", "table", "blockquote", "section", "article", "header", "footer", "center", "dl", "address",
				"h1", "h2", "h3", "h4", "h5", "h6":
				t.block()
			case "tr", "li":
				t.newline()
			case "ul", "ol":
				if len(lists) > 0 {
					lists = lists[:len(lists)-1]
				}
				if len(lists) == 0 {
					t.prefix = ""
					t.block()
				} else {
					t.newline()
				}
			case "pre":
				t.pre = max(t.pre-1, 0)
				t.block()
			case "a":
				if len(links) > 0 {
					a := links[len(links)-1]
					links = links[:len(links)-1]
					writeLinkTarget(t, a, out)
				}
			}
		}
	}
	if t.started {
		out.WriteString("\r\n")
	}
}

// writeLinkTarget adds " (url)" after a link's text, or the url alone for a link without text;
// not when the text is the url already, nor for in-page and javascript links.
func writeLinkTarget(t *textWriter, a anchor, out *bytes.Buffer) {
	href := a.href
	if href == "" || strings.HasPrefix(href, "#") || strings.HasPrefix(strings.ToLower(href), "javascript:") {
		return
	}
	shown := strings.TrimPrefix(href, "mailto:")
	var text []byte
	if a.start <= out.Len() {
		text = bytes.TrimSpace(out.Bytes()[a.start:])
	}
	if string(text) == shown || string(text) == href || bytes.HasSuffix(text, []byte(shown)) {
		return
	}
	if len(text) == 0 {
		t.text([]byte(shown))
		return
	}
	t.space = true
	t.text([]byte("(" + shown + ")")) // text, not word: a URL may hold spaces

}

// tagAttrs are the attributes the text conversion reads.
type tagAttrs struct {
	href, alt, style, ariaHidden string
	hidden                       bool
}

// readAttrs reads the attributes of the start tag z is at (raw its bytes, tag its name) when
// they can matter: href and alt of a and img, and what hides an element (TagAttr allocates, and
// most tags of a newsletter have only attributes of no interest here).
func readAttrs(z *xhtml.Tokenizer, raw []byte, tag string) tagAttrs {
	var a tagAttrs
	if tag != "a" && tag != "img" && !containsFold(raw, "hidden") && !containsFold(raw, "none") {
		return a
	}
	for more := true; more; {
		var k, v []byte
		k, v, more = z.TagAttr()
		switch string(k) {
		case "href":
			a.href = string(v)
		case "alt":
			a.alt = string(v)
		case "style":
			a.style = string(v)
		case "aria-hidden":
			a.ariaHidden = string(v)
		case "hidden":
			a.hidden = true
		case "":
			return a // no attributes
		}
	}
	return a
}

// containsFold reports whether b contains the lower-case ASCII word, in any case.
func containsFold(b []byte, word string) bool {
	for i := 0; i+len(word) <= len(b); i++ {
		j := 0
		for ; j < len(word); j++ {
			c := b[i+j]
			if c >= 'A' && c <= 'Z' {
				c += 'a' - 'A'
			}
			if c != word[j] {
				break
			}
		}
		if j == len(word) {
			return true
		}
	}
	return false
}

// skippedTag reports elements whose content is never text.
func skippedTag(tag string) bool {
	switch tag {
	case "head", "script", "style", "title", "template", "noscript", "svg", "object":
		return true
	}
	return false
}

func voidTag(tag string) bool {
	switch tag {
	case "area", "base", "br", "col", "embed", "hr", "img", "input", "link", "meta", "source", "track", "wbr":
		return true
	}
	return false
}

// isHidden reports an element no person sees: hidden, aria-hidden, or display:none.
func isHidden(a tagAttrs) bool {
	if a.hidden || strings.EqualFold(a.ariaHidden, "true") {
		return true
	}
	if a.style == "" {
		return false
	}
	style := strings.ToLower(strings.Join(strings.Fields(a.style), ""))
	return strings.Contains(style, "display:none") || strings.Contains(style, "visibility:hidden")
}
