package mailauth

import (
	"bytes"
	"fmt"
	"strconv"
	"strings"
)

// resultSpec is one resinfo of an Authentication-Results payload (RFC 8601 §2.2): the method,
// its result, and the rest (reason and properties) as written.
type resultSpec struct {
	method, value, rest string
}

// splitAuthservID parses an Authentication-Results payload (RFC 8601 §2.2): the authserv-id,
// then each ";"-separated resinfo. Comments are dropped, quoted strings respected. It never
// fails: what cannot be parsed gives an empty authserv-id or no results.
func splitAuthservID(payload string) (string, []resultSpec) {
	parts := splitUnquoted(stripComments(payload), ';')
	first := strings.Fields(parts[0])
	if len(first) == 0 {
		return "", nil
	}
	id := unquote(first[0])
	var results []resultSpec
	for _, p := range parts[1:] {
		method, rest, ok := strings.Cut(p, "=")
		if !ok {
			continue // "none", or junk
		}
		method = strings.TrimSpace(method)
		if m, _, ok := strings.Cut(method, "/"); ok {
			method = strings.TrimSpace(m) // method version, RFC 8601 §2.2
		}
		fields := strings.Fields(rest)
		if method == "" || len(fields) == 0 {
			continue
		}
		results = append(results, resultSpec{
			method: strings.ToLower(method),
			value:  strings.ToLower(fields[0]),
			rest:   strings.Join(fields[1:], " "),
		})
	}
	return id, results
}

// stripComments replaces RFC 5322 comments (nested parentheses, with quoted-pairs) outside
// quoted strings by a space.
func stripComments(s string) string {
	var b strings.Builder
	depth := 0
	quoted := false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '\\' && (quoted || depth > 0) && i+1 < len(s):
			if depth == 0 {
				b.WriteByte(c)
				b.WriteByte(s[i+1])
			}
			i++
		case quoted:
			b.WriteByte(c)
			if c == '"' {
				quoted = false
			}
		case c == '(':
			depth++
		case c == ')' && depth > 0:
			depth--
			if depth == 0 {
				b.WriteByte(' ')
			}
		case depth > 0:
		case c == '"':
			quoted = true
			b.WriteByte(c)
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// splitUnquoted splits s at sep outside quoted strings.
func splitUnquoted(s string, sep byte) []string {
	var parts []string
	quoted := false
	start := 0
	for i := 0; i < len(s); i++ {
		switch c := s[i]; {
		case c == '\\' && quoted:
			i++
		case c == '"':
			quoted = !quoted
		case c == sep && !quoted:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	return append(parts, s[start:])
}

func unquote(s string) string {
	if len(s) >= 2 && s[0] == '"' && s[len(s)-1] == '"' {
		if u, err := strconv.Unquote(s); err == nil {
			return u
		}
		return s[1 : len(s)-1]
	}
	return s
}

// StripAuthResults returns the header section without the Authentication-Results fields whose
// authserv-id is authservID (compared case-insensitively), as RFC 8601 §5 requires before a
// server adds its own: a field claiming our identity on arriving mail is forged or stale.
// Other fields, ARC-Authentication-Results among them, are kept byte for byte. header may
// include the empty line that ends the section and anything after it, which is kept.
func StripAuthResults(header []byte, authservID string) []byte {
	out := make([]byte, 0, len(header))
	rest := header
	for len(rest) > 0 {
		// One field: its first line and every continuation line.
		end := 0
		for {
			nl := bytes.IndexByte(rest[end:], '\n')
			if nl < 0 {
				end = len(rest)
				break
			}
			end += nl + 1
			if end >= len(rest) || (rest[end] != ' ' && rest[end] != '\t') {
				break
			}
		}
		field := rest[:end]
		if len(bytes.TrimRight(field, "\r\n")) == 0 {
			return append(out, rest...) // the end of the header section
		}
		if !claimsAuthservID(field, authservID) {
			out = append(out, field...)
		}
		rest = rest[end:]
	}
	return out
}

func claimsAuthservID(field []byte, authservID string) bool {
	name, value, ok := bytes.Cut(field, []byte(":"))
	if !ok || !strings.EqualFold(strings.TrimRight(string(name), " \t"), "Authentication-Results") {
		return false
	}
	unfolded := strings.NewReplacer("\r", "", "\n", "").Replace(string(value))
	id, _ := splitAuthservID(unfolded)
	return id != "" && strings.EqualFold(id, authservID)
}

// Header renders every result as one Authentication-Results field (RFC 8601 §2.2), folded,
// ending in CRLF, ready to be prepended to the message:
//
//	Authentication-Results: mx.example.org;
//		iprev=pass policy.iprev=192.0.2.1 (mail.example.com);
//		spf=pass smtp.mailfrom=alice@example.com;
//		dkim=pass header.d=example.com header.s=sel header.a=rsa-sha256 header.b=abcdefgh;
//		arc=none;
//		dmarc=pass (p=reject) header.from=example.com
func (r Results) Header(authservID string) string {
	var specs []string
	if r.IPRev.Status != "" {
		s := "iprev=" + string(r.IPRev.Status)
		if r.IPRev.IP != nil {
			s += " policy.iprev=" + r.IPRev.IP.String()
		}
		if r.IPRev.Name != "" {
			s += " " + comment(r.IPRev.Name)
		} else if r.IPRev.Reason != "" {
			s += " " + comment(r.IPRev.Reason)
		}
		specs = append(specs, s)
	}
	if r.SPF.Status != "" {
		s := "spf=" + string(r.SPF.Status)
		if r.SPF.Reason != "" && r.SPF.Status != StatusPass {
			s += " " + comment(r.SPF.Reason)
		}
		if r.SPF.Identity == "helo" {
			s += " smtp.helo=" + pvalue(r.SPF.Helo)
		} else if r.SPF.MailFrom != "" {
			s += " smtp.mailfrom=" + pvalue(r.SPF.MailFrom)
		}
		specs = append(specs, s)
	}
	if len(r.DKIM) == 0 {
		specs = append(specs, "dkim=none")
	}
	for _, d := range r.DKIM {
		s := "dkim=" + string(d.Status)
		if d.Reason != "" && d.Status != StatusPass {
			s += " " + comment(d.Reason)
		}
		if d.Domain != "" {
			s += " header.d=" + pvalue(d.Domain)
		}
		if d.Identifier != "" {
			s += " header.i=" + pvalue(d.Identifier)
		}
		if d.Selector != "" {
			s += " header.s=" + pvalue(d.Selector)
		}
		if d.Algorithm != "" {
			s += " header.a=" + pvalue(d.Algorithm)
		}
		if d.HeaderB != "" {
			s += " header.b=" + pvalue(d.HeaderB) // RFC 6008
		}
		specs = append(specs, s)
	}
	if r.ARC.Status != "" {
		s := "arc=" + string(r.ARC.Status)
		if r.ARC.Instances > 0 {
			c := fmt.Sprintf("i=%d", r.ARC.Instances)
			if r.ARC.Sealer != "" {
				c += " sealer " + r.ARC.Sealer
			}
			if r.ARC.Reason != "" {
				c += ": " + r.ARC.Reason
			}
			s += " " + comment(c)
		}
		if r.ARC.Status == StatusPass && r.ARC.OldestPass > 0 {
			s += fmt.Sprintf(" header.oldest-pass=%d", r.ARC.OldestPass) // RFC 8617 §10.1
		}
		specs = append(specs, s)
	}
	if r.DMARC.Status != "" {
		s := "dmarc=" + string(r.DMARC.Status)
		var c []string
		if r.DMARC.Requested != "" {
			c = append(c, "p="+string(r.DMARC.Requested))
		}
		if r.DMARC.Status == StatusFail && r.DMARC.Policy != "" {
			c = append(c, "dis="+string(r.DMARC.Policy))
		}
		if r.DMARC.ARCOverride {
			c = append(c, "arc-override")
		} else if r.DMARC.Reason != "" && r.DMARC.Status != StatusPass && r.DMARC.Status != StatusNone {
			c = append(c, r.DMARC.Reason)
		}
		if len(c) > 0 {
			s += " " + comment(strings.Join(c, " "))
		}
		if r.DMARC.FromDomain != "" {
			s += " header.from=" + pvalue(r.DMARC.FromDomain)
		}
		specs = append(specs, s)
	}
	var b strings.Builder
	b.WriteString("Authentication-Results: ")
	b.WriteString(pvalue(authservID))
	if len(specs) == 0 {
		b.WriteString("; none\r\n")
		return b.String()
	}
	for i, s := range specs {
		b.WriteString(";\r\n\t")
		b.WriteString(s)
		if i == len(specs)-1 {
			b.WriteString("\r\n")
		}
	}
	return b.String()
}

// pvalue writes a property value or authserv-id (RFC 8601 §2.2: value / addr-spec): a token
// when it is one, an address as is when its parts are, a quoted string otherwise.
func pvalue(s string) string {
	if isToken(s) {
		return s
	}
	if at := strings.LastIndexByte(s, '@'); at >= 0 && isToken(strings.ReplaceAll(s[:at], ".", "x")+"x") && isToken(s[at+1:]+"x") {
		return s
	}
	var b strings.Builder
	b.WriteByte('"')
	for _, r := range s {
		switch {
		case r == '"' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r < 0x20 || r == 0x7f:
		default:
			b.WriteRune(r)
		}
	}
	b.WriteByte('"')
	return b.String()
}

// isToken reports whether s is an RFC 2045 token: printable ASCII without tspecials.
func isToken(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c <= 0x20 || c >= 0x7f || strings.IndexByte(`()<>@,;:\"/[]?=`, c) >= 0 {
			return false
		}
	}
	return true
}

// comment renders s as an RFC 5322 comment, without characters that would end it early.
func comment(s string) string {
	s = strings.Map(func(r rune) rune {
		switch {
		case r == '(' || r == ')' || r == '\\':
			return -1
		case r < 0x20 || r == 0x7f:
			return ' '
		}
		return r
	}, s)
	return "(" + s + ")"
}
