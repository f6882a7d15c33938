package render

import (
	"bytes"
	"fmt"
	"html"
	"strings"

	xhtml "golang.org/x/net/html"
)

// trackable reports whether target is a link the rewriter tracks: absolute http or https.
func trackable(target string) bool {
	t := strings.TrimSpace(target)
	if len(t) < len("http://x") {
		return false
	}
	scheme, _, ok := strings.Cut(t, "://")
	return ok && (strings.EqualFold(scheme, "http") || strings.EqualFold(scheme, "https"))
}

// staticTargets returns the trackable hrefs of the HTML template src that hold no template
// action, in order of first appearance: they are the same for every recipient.
func staticTargets(src string) []string {
	if src == "" {
		return nil
	}
	var out []string
	z := xhtml.NewTokenizer(strings.NewReader(src))
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			return out
		}
		if tt != xhtml.StartTagToken && tt != xhtml.SelfClosingTagToken {
			continue
		}
		name, hasAttr := z.TagName()
		if string(name) != "a" || !hasAttr {
			continue
		}
		href, notrack := anchorAttrs(z)
		if notrack || strings.Contains(href, "{{") || !trackable(href) {
			continue
		}
		out = append(out, strings.TrimSpace(href))
	}
}

// anchorAttrs reads an <a> tag's href and whether it has data-notrack.
func anchorAttrs(z *xhtml.Tokenizer) (href string, notrack bool) {
	for {
		key, val, more := z.TagAttr()
		switch string(key) {
		case "href":
			href = string(val)
		case "data-notrack":
			notrack = true
		}
		if !more {
			return href, notrack
		}
	}
}

// rewriteLinks copies the rendered HTML src to out with tracking: every token byte for byte
// except the <a> start tags whose href it rewrites, plus the honeypot and the pixel before the
// first </body> (or at the end). See the package doc for which links are tracked.
func rewriteLinks(out *bytes.Buffer, src []byte, c *Campaign, links Links) error {
	z := xhtml.NewTokenizer(bytes.NewReader(src))
	skip := [3]string{links.UnsubscribeURL(), links.PreferencesURL(), links.ViewURL()}
	var nameBuf [16]byte
	closed := false
	for {
		tt := z.Next()
		if tt == xhtml.ErrorToken {
			if !closed {
				writeTrailer(out, links)
			}
			return nil
		}
		raw := z.Raw() // valid until the next Next; TagName and TagAttr copy before lower-casing
		switch tt {
		case xhtml.EndTagToken:
			if !closed && string(rawTagName(raw, &nameBuf)) == "body" {
				writeTrailer(out, links)
				closed = true
			}
		case xhtml.StartTagToken, xhtml.SelfClosingTagToken:
			if string(rawTagName(raw, &nameBuf)) == "a" {
				done, err := rewriteAnchor(out, z, tt == xhtml.SelfClosingTagToken, c, links, skip)
				if err != nil {
					return err
				}
				if done {
					continue
				}
			}
		}
		out.Write(raw)
	}
}

// rawTagName returns the lower-cased name of the tag whose bytes are raw ("<A href=…>" or
// "</Body >"), in buf; names longer than buf are cut (no tag this package looks for is that
// long). It is the tokenizer's TagName without its allocation.
func rawTagName(raw []byte, buf *[16]byte) []byte {
	i := 1
	if i < len(raw) && raw[i] == '/' {
		i++
	}
	n := 0
	for ; i < len(raw) && n < len(buf); i++ {
		c := raw[i]
		if c == ' ' || c == '\t' || c == '\n' || c == '\r' || c == '\f' || c == '/' || c == '>' {
			break
		}
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[n] = c
		n++
	}
	return buf[:n]
}

// anchorAttr is one attribute of an anchor being rewritten.
type anchorAttr struct{ key, val string }

// rewriteAnchor writes the <a> tag the tokenizer is at with its href tracked, or with its
// data-notrack removed, and reports false (writing nothing) when the tag keeps its bytes.
func rewriteAnchor(out *bytes.Buffer, z *xhtml.Tokenizer, selfClosing bool, c *Campaign, links Links, skip [3]string) (bool, error) {
	var attrs [8]anchorAttr
	list := attrs[:0]
	hrefAt, notrack := -1, false
	for more := true; more; {
		var key, val []byte
		key, val, more = z.TagAttr()
		switch string(key) {
		case "data-notrack":
			notrack = true
		case "href":
			if hrefAt < 0 { // the first of repeated attributes wins (HTML §13.2.5.33)
				hrefAt = len(list)
				list = append(list, anchorAttr{"href", string(val)})
			}
		default:
			list = append(list, anchorAttr{string(key), string(val)})
		}
	}
	if notrack {
		writeAnchor(out, list, selfClosing)
		return true, nil
	}
	if hrefAt < 0 {
		return false, nil
	}
	target := strings.TrimSpace(list[hrefAt].val)
	if !trackable(target) || target == skip[0] || target == skip[1] || target == skip[2] {
		return false, nil
	}
	idx, err := c.linkIndex(target)
	if err != nil {
		return false, fmt.Errorf("track link: %w", err)
	}
	list[hrefAt].val = links.ClickURL(idx, target)
	writeAnchor(out, list, selfClosing)
	return true, nil
}

func writeAnchor(out *bytes.Buffer, attrs []anchorAttr, selfClosing bool) {
	out.WriteString("<a")
	for _, a := range attrs {
		out.WriteByte(' ')
		out.WriteString(a.key)
		out.WriteString(`="`)
		out.WriteString(html.EscapeString(a.val))
		out.WriteByte('"')
	}
	if selfClosing {
		out.WriteString(" /")
	}
	out.WriteByte('>')
}

// writeTrailer writes the honeypot link (hidden from people by display:none, aria-hidden, no
// text and no tab stop; click index HoneypotLink) and the open pixel.
func writeTrailer(out *bytes.Buffer, links Links) {
	out.WriteString(`<div style="display:none;max-height:0;overflow:hidden" aria-hidden="true"><a href="`)
	out.WriteString(html.EscapeString(links.ClickURL(HoneypotLink, links.ViewURL())))
	out.WriteString(`" tabindex="-1"></a></div><img src="`)
	out.WriteString(html.EscapeString(links.OpenURL()))
	out.WriteString(`" alt="" width="1" height="1" style="display:block;border:0">`)
}
