package spam

import (
	"net/url"
	"strings"

	"golang.org/x/net/html"
	"golang.org/x/net/publicsuffix"
)

// urlOf finds a URL in a word of text: one that starts with http://, https:// or www.
// (possibly after a quote or bracket).
func urlOf(w string) (string, bool) {
	if !mayBeURL(w) {
		return "", false
	}
	lw := strings.ToLower(w)
	for _, p := range []string{"http://", "https://", "www."} {
		if i := strings.Index(lw, p); i >= 0 && i <= 2 {
			u := strings.TrimRightFunc(w[i:], isTrimmed)
			if p == "www." {
				u = "http://" + u
			}
			return u, true
		}
	}
	return "", false
}

// mayBeURL is a quick test that rules most words out before urlOf lower-cases them: an 'h'
// or a 'w' among the first three octets, and a '.' or ':' somewhere.
func mayBeURL(w string) bool {
	if len(w) < 5 {
		return false
	}
	for i := 0; i < 3; i++ {
		if c := w[i] | 0x20; c == 'h' || c == 'w' {
			return strings.ContainsAny(w, ".:")
		}
	}
	return false
}

// url adds the tokens of a URL: its scheme, its host and every parent domain of it, and the
// pieces of its path; its registrable domain goes to Features.Domains. A URL seen before in
// the message adds nothing new (its tokens and domain are kept once), so it is not parsed
// again.
func (t *Tokens) url(raw string) {
	if _, ok := t.urls[raw]; ok {
		return
	}
	if len(t.urls) < maxRememberedURLs {
		t.urls[raw] = struct{}{}
	}
	u, err := url.Parse(strings.TrimSpace(raw))
	if err != nil || u.Host == "" {
		t.add("url:unparsable")
		return
	}
	t.add("proto:" + strings.ToLower(u.Scheme))
	host := strings.ToLower(strings.TrimSuffix(u.Hostname(), "."))
	if host == "" {
		return
	}
	if isIPv4(host) || strings.Contains(host, ":") {
		t.add("url:ip-host")
	} else {
		labels := strings.Split(host, ".")
		for i := 0; i < len(labels)-1 && i < 5; i++ {
			t.add("url:" + strings.Join(labels[i:], "."))
		}
		t.domain(host)
	}
	if u.Port() != "" {
		t.add("url:port")
	}
	if u.User != nil {
		t.add("url:userinfo")
	}
	pieces := strings.FieldsFunc(u.EscapedPath()+"?"+u.RawQuery, func(c rune) bool {
		return strings.ContainsRune("/?&=._-%+~#", c)
	})
	for i, p := range pieces {
		if i >= 10 {
			break
		}
		if len(p) >= minWord && len(p) <= maxWord {
			t.add("url-path:" + strings.ToLower(p))
		}
	}
}

// domain notes the registrable domain of host for the URI blocklists.
func (t *Tokens) domain(host string) {
	d, err := publicsuffix.EffectiveTLDPlusOne(host)
	if err != nil {
		return
	}
	if _, ok := t.domains[d]; ok || len(t.Features.Domains) >= maxURLs {
		return
	}
	t.domains[d] = struct{}{}
	t.Features.Domains = append(t.Features.Domains, d)
}

// htmlTags are the elements whose presence becomes a token: layout and tricks of bulk mail
// more than of people's mail.
var htmlTags = map[string]bool{
	"img": true, "font": true, "table": true, "center": true, "form": true, "input": true,
	"script": true, "iframe": true, "base": true, "map": true, "area": true, "style": true,
	"body": true, "meta": true, "blink": true, "object": true, "embed": true,
}

// html tokenizes an HTML document: the text a reader sees (no scripts, style sheets or
// comments), the URLs of links and images, a few tags, and links whose text shows a
// different domain from the one they go to.
func (t *Tokens) html(doc string) {
	z := html.NewTokenizer(strings.NewReader(doc))
	z.SetMaxBuf(MaxTextBytes)
	hidden := ""
	var anchor *strings.Builder // the text of the open <a>, and where it goes
	href := ""
	var text strings.Builder
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			t.text(text.String(), "")
			return
		case html.CommentToken:
			t.add("html:comment")
		case html.TextToken:
			if hidden != "" {
				continue
			}
			s := string(z.Text())
			text.WriteString(s)
			if anchor != nil {
				anchor.WriteString(s)
			}
		case html.StartTagToken, html.EndTagToken, html.SelfClosingTagToken:
			name, hasAttr := z.TagName()
			tag := string(name)
			if hidden != "" {
				if tag == hidden && tt == html.EndTagToken {
					hidden = ""
				}
				continue
			}
			if tt == html.EndTagToken {
				if tag == "a" && anchor != nil {
					t.checkLink(anchor.String(), href)
					anchor = nil
				}
				text.WriteByte(' ')
				continue
			}
			if htmlTags[tag] {
				t.add("html:" + tag)
			}
			if (tag == "script" || tag == "style") && tt == html.StartTagToken {
				hidden = tag
			}
			for hasAttr {
				var k, v []byte
				k, v, hasAttr = z.TagAttr()
				switch string(k) {
				case "href", "src", "action", "background":
					if u := string(v); strings.HasPrefix(strings.ToLower(u), "http") {
						t.url(u)
						if tag == "a" && string(k) == "href" {
							href = u
						}
					} else if strings.HasPrefix(strings.ToLower(u), "mailto:") {
						t.add("html:mailto")
					}
				}
			}
			if tag == "a" && tt == html.StartTagToken {
				anchor = &strings.Builder{}
			}
			if tag != "a" && tag != "b" && tag != "i" && tag != "u" && tag != "font" && tag != "span" {
				text.WriteByte(' ')
			}
		}
	}
}

// checkLink notes a link whose visible text is a URL or domain other than its target's: the
// phisher's "<a href=http://evil.example>https://bank.example</a>".
func (t *Tokens) checkLink(text, href string) {
	if t.Features.LinkMismatch != "" || href == "" {
		return
	}
	shown, ok := urlOf(strings.TrimSpace(text))
	if !ok {
		return
	}
	su, err1 := url.Parse(shown)
	hu, err2 := url.Parse(href)
	if err1 != nil || err2 != nil || su.Hostname() == "" || hu.Hostname() == "" {
		return
	}
	sd, err1 := publicsuffix.EffectiveTLDPlusOne(strings.ToLower(su.Hostname()))
	hd, err2 := publicsuffix.EffectiveTLDPlusOne(strings.ToLower(hu.Hostname()))
	if err1 == nil && err2 == nil && sd != hd {
		t.Features.LinkMismatch = sd + " -> " + hd
		t.add("html:link-mismatch")
	}
}
