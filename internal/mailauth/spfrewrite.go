package mailauth

import (
	"context"
	"fmt"
	"net"
	"regexp"
	"strconv"
	"strings"

	"posthorn/internal/dns"
)

// The SPF library has two gaps, which spfResolver closes by rewriting each record before the
// library reads it (after checkSPFSyntax has seen the original):
//
//   - It expands %{p} to "unknown" always. RFC 7208 §7.3 defines p as the validated domain
//     name of <ip> (§5.5: a PTR name that resolves back to <ip>, preferably <domain> or one of
//     its subdomains), so the record's %{p} macros are expanded here.
//   - It reads the first "/" after an a or mx domain-spec as a CIDR length, while RFC 7208
//     §7.1 lets a domain-spec hold any visible character but "%". Such a domain (without
//     macros) is replaced by an alias under .invalid that the resolver maps back.

// aliasSuffix names the stand-ins for domain-specs the library cannot parse.
const aliasSuffix = ".spf-alias.invalid"

// pMacro matches the body of a p macro: its letter, transformers and delimiters (RFC 7208
// §7.1).
var pMacro = regexp.MustCompile(`^([pP])([0-9]*)([rR]?)([-.+,/_=]*)$`)

// expandP replaces the p macros of a term, leaving the other macros and the escapes %%, %_ and
// %- to the library.
func (s *spfResolver) expandP(ctx context.Context, term, domain string) string {
	if !strings.Contains(term, "%") {
		return term
	}
	var b strings.Builder
	for i := 0; i < len(term); i++ {
		c := term[i]
		if c != '%' || i+1 >= len(term) {
			b.WriteByte(c)
			continue
		}
		if term[i+1] != '{' {
			b.WriteString(term[i : i+2]) // %%, %_ or %-
			i++
			continue
		}
		end := strings.IndexByte(term[i:], '}')
		if end < 0 {
			b.WriteString(term[i:])
			break
		}
		m := pMacro.FindStringSubmatch(term[i+2 : i+end])
		if m == nil {
			b.WriteString(term[i : i+end+1])
		} else {
			b.WriteString(expandMacroValue(s.validatedName(ctx, domain), m[2], m[3] != "", m[4], m[1] == "P"))
		}
		i += end
	}
	return b.String()
}

// rewrite returns record as the library should read it when evaluated for domain.
func (s *spfResolver) rewrite(ctx context.Context, record, domain string) string {
	terms := strings.Split(record, " ")
	for i, t := range terms {
		terms[i] = s.expandP(ctx, s.aliasDomainSpec(t), domain)
	}
	return strings.Join(terms, " ")
}

// aliasDomainSpec replaces the domain of an a or mx term when it holds a "/".
func (s *spfResolver) aliasDomainSpec(term string) string {
	q := ""
	if term != "" && strings.ContainsRune("+-?~", rune(term[0])) {
		q, term = term[:1], term[1:]
	}
	mech, rest, ok := strings.Cut(term, ":")
	if !ok || (!strings.EqualFold(mech, "a") && !strings.EqualFold(mech, "mx")) {
		return q + term
	}
	m := cidrSuffix.FindStringSubmatch(rest)
	spec, cidr := m[1], m[2]
	if !strings.Contains(spec, "/") || strings.Contains(spec, "%") {
		return q + term
	}
	if s.aliases == nil {
		s.aliases = map[string]string{}
	}
	alias := fmt.Sprintf("d%d%s", len(s.aliases), aliasSuffix)
	s.aliases[alias] = spec
	return q + mech + ":" + alias + cidr
}

// unalias maps an alias back to the domain it stands for.
func (s *spfResolver) unalias(name string) string {
	if d, ok := s.aliases[strings.TrimSuffix(strings.ToLower(name), ".")]; ok {
		return d
	}
	return name
}

// validatedName finds the validated domain name of the client address for %{p} (RFC 7208
// §7.3, §5.5): among at most 10 PTR names that resolve back to the address, domain itself, then
// a subdomain of it, then any other; "unknown" when there is none.
func (s *spfResolver) validatedName(ctx context.Context, domain string) string {
	domain = strings.ToLower(strings.TrimSuffix(domain, "."))
	if p, ok := s.pNames[domain]; ok {
		return p
	}
	if s.pNames == nil {
		s.pNames = map[string]string{}
	}
	s.pNames[domain] = "unknown"
	names, err := s.r.LookupAddr(ctx, s.ip.String())
	if err != nil {
		return s.pNames[domain]
	}
	if len(names) > maxIPRevNames {
		names = names[:maxIPRevNames]
	}
	best, rank := "", 0
	for _, n := range names {
		n = strings.ToLower(strings.TrimSuffix(n, "."))
		if !resolvesTo(ctx, s.r, n, s.ip) {
			continue
		}
		r := 1
		switch {
		case n == domain:
			r = 3
		case strings.HasSuffix(n, "."+domain):
			r = 2
		}
		if r > rank {
			best, rank = n, r
		}
	}
	if best != "" {
		s.pNames[domain] = best
	}
	return s.pNames[domain]
}

func resolvesTo(ctx context.Context, r dns.Resolver, name string, ip net.IP) bool {
	addrs, err := r.LookupIPAddr(ctx, name)
	if err != nil {
		return false
	}
	for _, a := range addrs {
		if a.IP.Equal(ip) {
			return true
		}
	}
	return false
}

// expandMacroValue applies a macro's transformers to value (RFC 7208 §7.3): split at the
// delimiters (default "."), reverse when asked, keep the rightmost digits parts, join with ".",
// and URL-escape for an upper-case macro letter.
func expandMacroValue(value, digits string, reverse bool, delims string, escape bool) string {
	if delims == "" {
		delims = "."
	}
	parts := strings.FieldsFunc(value, func(r rune) bool { return strings.ContainsRune(delims, r) })
	if reverse {
		for i, j := 0, len(parts)-1; i < j; i, j = i+1, j-1 {
			parts[i], parts[j] = parts[j], parts[i]
		}
	}
	if n, err := strconv.Atoi(digits); err == nil && n > 0 && n < len(parts) {
		parts = parts[len(parts)-n:]
	}
	out := strings.Join(parts, ".")
	if escape {
		out = urlEscape(out)
	}
	return out
}

// urlEscape escapes every character outside the URI unreserved set (RFC 3986 §2.3).
func urlEscape(s string) string {
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		c := s[i]
		if isAlpha(c) || (c >= '0' && c <= '9') || strings.IndexByte("-._~", c) >= 0 {
			b.WriteByte(c)
		} else {
			fmt.Fprintf(&b, "%%%02X", c)
		}
	}
	return b.String()
}
