package message

import (
	"encoding/base64"
	"io"
	"mime/quotedprintable"
	"net/url"
	"strconv"
	"strings"
)

// DecodedBody returns the content of part p read from r (its body, [p.BodyStart, p.BodyEnd)),
// with its Content-Transfer-Encoding undone (RFC 2045 §6: base64 and quoted-printable; the
// identity encodings are left as they are). Decoding is lenient: malformed input ends the
// content (io.EOF) rather than failing.
func DecodedBody(r io.Reader, p *Part) io.Reader {
	return lenientReader{transferDecoded(r, p)}
}

// transferDecoded undoes p's Content-Transfer-Encoding on r, passing its errors on.
func transferDecoded(r io.Reader, p *Part) io.Reader {
	switch p.Encoding {
	case "base64":
		return base64.NewDecoder(base64.StdEncoding, &base64Clean{r: r})
	case "quoted-printable":
		return quotedprintable.NewReader(r)
	}
	return r
}

// ParamValue returns the value of the parameter name (lower case) in params, decoded: the
// plain form, or the RFC 2231 forms, extended (name*=charset'lang'%XX..., §4) and continued
// (name*0, name*1*, ..., §3), which take precedence as mime.ParseMediaType gives them. The
// extended value's charset is decoded to UTF-8 when known; "" when the parameter is absent.
func ParamValue(params []Param, name string) string {
	plain, extended, havePlain, haveExtended := "", "", false, false
	var pieces []string // continuations, by number; "" until seen
	var seen []bool
	for _, prm := range params {
		rest, ok := strings.CutPrefix(prm.Name, name)
		if !ok {
			continue
		}
		switch {
		case rest == "":
			if !havePlain {
				plain, havePlain = prm.Value, true
			}
		case rest == "*":
			if !haveExtended {
				extended, haveExtended = decodeExtended(prm.Value, true), true
			}
		case rest[0] == '*':
			numText, encoded := strings.CutSuffix(rest[1:], "*")
			n, err := strconv.Atoi(numText)
			if err != nil || n < 0 || n >= maxContinuations || numText != strconv.Itoa(n) {
				continue
			}
			for len(pieces) <= n {
				pieces, seen = append(pieces, ""), append(seen, false)
			}
			if seen[n] {
				continue
			}
			v := prm.Value
			if encoded {
				v = decodeExtended(v, n == 0)
			}
			pieces[n], seen[n] = v, true
		}
	}
	if haveExtended {
		return extended
	}
	if len(seen) > 0 && seen[0] {
		var b strings.Builder
		for i := 0; i < len(pieces) && seen[i]; i++ {
			b.WriteString(pieces[i])
		}
		return b.String()
	}
	return plain
}

// maxContinuations bounds the RFC 2231 continuations of one parameter that ParamValue joins.
const maxContinuations = 1000

// decodeExtended decodes an RFC 2231 §4 value: charset'language'percent-encoded octets, the
// charset and language only in the first (or only) piece.
func decodeExtended(v string, first bool) string {
	charset := ""
	if first {
		parts := strings.SplitN(v, "'", 3)
		if len(parts) != 3 {
			return v
		}
		charset, v = parts[0], parts[2]
	}
	raw, err := url.PathUnescape(v)
	if err != nil {
		return v
	}
	if charset == "" {
		return raw
	}
	cr, err := CharsetReader(charset, strings.NewReader(raw))
	if err != nil {
		return raw
	}
	var b strings.Builder
	if _, err := io.Copy(&b, lenientReader{cr}); err != nil {
		return raw
	}
	return b.String()
}

// ResizeHeader changes p into the parse of the same message with delta more octets (fewer,
// when delta is negative) in its top-level header section, when those octets are whole
// header fields that Parse does not keep: trace and authentication fields (Received,
// Authentication-Results, X- fields) added on top of the message or removed from its header.
// Such fields change neither the envelope nor any part's type, so the parse of the changed
// message differs only in its offsets: the message's header still starts at 0 and everything
// from its body on moves by delta. SMTP's filter parses the message once, before it adds its
// Authentication-Results on top, and hands the resized parse to the commit.
func (p *Parsed) ResizeHeader(delta int64) {
	p.Size += delta
	p.Root.BodyStart += delta
	p.Root.BodyEnd += delta
	for _, c := range p.Root.Parts {
		c.move(delta)
	}
	if p.Root.Message != nil {
		p.Root.Message.move(delta)
	}
}

// move moves every offset of pt and of the parts below it by delta.
func (pt *Part) move(delta int64) {
	pt.HeaderStart += delta
	pt.BodyStart += delta
	pt.BodyEnd += delta
	for _, c := range pt.Parts {
		c.move(delta)
	}
	if pt.Message != nil {
		pt.Message.move(delta)
	}
}
