package mailauth

import (
	"errors"
	"fmt"
	"net/netip"
	"regexp"
	"strconv"
	"strings"
)

// checkSPFSyntax checks an SPF record against the ABNF of RFC 7208 §12. The SPF library evaluates
// records lazily and leniently; RFC 7208 §4.6 wants a syntax error anywhere in a record to give
// permerror, even after a mechanism has matched, so every record the evaluation fetches is
// checked here as well.
func checkSPFSyntax(record string) error {
	terms := strings.Split(record, " ")
	if !strings.EqualFold(terms[0], "v=spf1") {
		return errors.New("not an SPF version 1 record")
	}
	var redirect, exp bool
	for _, term := range terms[1:] {
		if term == "" {
			continue // RFC 7208 §4.6.1: terms are separated by one or more spaces.
		}
		for i := 0; i < len(term); i++ {
			if term[i] < 0x21 || term[i] > 0x7e {
				// RFC 7208 §3.1 (7-bit ASCII) and §4.6.1 (only SP separates terms).
				return fmt.Errorf("invalid character %q in term %q", term[i], term)
			}
		}
		if name, value, ok := modifier(term); ok {
			switch strings.ToLower(name) {
			case "redirect":
				if redirect {
					return errors.New("redirect= appears twice") // RFC 7208 §6
				}
				redirect = true
				if err := checkDomainSpec(value); err != nil {
					return fmt.Errorf("redirect=: %w", err)
				}
			case "exp":
				if exp {
					return errors.New("exp= appears twice") // RFC 7208 §6
				}
				exp = true
				if err := checkDomainSpec(value); err != nil {
					return fmt.Errorf("exp=: %w", err)
				}
			default:
				if err := checkMacroString(value, true); err != nil {
					return fmt.Errorf("%s=: %w", name, err)
				}
			}
			continue
		}
		if err := checkDirective(term); err != nil {
			return err
		}
	}
	return nil
}

var modifierName = regexp.MustCompile(`^[A-Za-z][A-Za-z0-9._-]*$`)

// modifier splits name=value when term is a modifier (RFC 7208 §4.6.1: name = ALPHA *( ALPHA /
// DIGIT / "-" / "_" / "." )).
func modifier(term string) (name, value string, ok bool) {
	name, value, ok = strings.Cut(term, "=")
	if !ok || !modifierName.MatchString(name) {
		return "", "", false
	}
	return name, value, true
}

// cidrSuffix matches an optional ip4-cidr-length and ip6-cidr-length at the end of a term.
var cidrSuffix = regexp.MustCompile(`^(.*?)((?:/[0-9]+)?(?://[0-9]+)?)$`)

func checkDirective(term string) error {
	if strings.ContainsRune("+-?~", rune(term[0])) {
		term = term[1:]
	}
	name, arg, hasArg := strings.Cut(term, ":")
	switch strings.ToLower(name) {
	case "all":
		if hasArg {
			return fmt.Errorf("all takes no argument: %q", term)
		}
		return nil
	case "include", "exists":
		if !hasArg {
			return fmt.Errorf("%s needs a domain: %q", name, term)
		}
		return checkDomainSpec(arg)
	case "ptr":
		if hasArg {
			return checkDomainSpec(arg)
		}
		return nil
	case "ip4", "ip6":
		if !hasArg {
			return fmt.Errorf("%s needs a network: %q", name, term)
		}
		return checkIPNetwork(strings.ToLower(name), arg)
	}
	// a and mx: the name may carry a CIDR length directly ("a/24"), or a domain-spec then one.
	lower := strings.ToLower(term)
	var rest string
	switch {
	case strings.HasPrefix(lower, "a"):
		rest = term[1:]
	case strings.HasPrefix(lower, "mx"):
		rest = term[2:]
	default:
		return fmt.Errorf("unknown mechanism %q", term)
	}
	m := cidrSuffix.FindStringSubmatch(rest)
	spec, cidr := m[1], m[2]
	if spec != "" {
		if spec[0] != ':' {
			return fmt.Errorf("unknown mechanism %q", term)
		}
		if err := checkDomainSpec(spec[1:]); err != nil {
			return err
		}
	}
	return checkDualCIDR(cidr)
}

func checkDualCIDR(s string) error {
	v4, v6, dual := strings.Cut(s, "//")
	if dual {
		if err := checkCIDRLength(v6, 128); err != nil {
			return err
		}
	}
	if v4 != "" {
		return checkCIDRLength(strings.TrimPrefix(v4, "/"), 32)
	}
	return nil
}

// checkCIDRLength checks "0" / %x31-39 0*nDIGIT within max (RFC 7208 §5.6).
func checkCIDRLength(s string, max int) error {
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 || n > max || (len(s) > 1 && s[0] == '0') {
		return fmt.Errorf("invalid CIDR length %q", s)
	}
	return nil
}

func checkIPNetwork(kind, arg string) error {
	addr, length, hasLength := strings.Cut(arg, "/")
	ip, err := netip.ParseAddr(addr)
	if err != nil || (kind == "ip4") != ip.Is4() || ip.Zone() != "" {
		return fmt.Errorf("invalid %s network %q", kind, arg)
	}
	if !hasLength {
		return nil
	}
	if kind == "ip4" {
		return checkCIDRLength(length, 32)
	}
	return checkCIDRLength(length, 128)
}

// checkDomainSpec checks domain-spec = macro-string domain-end, with domain-end = ( "." toplabel
// [ "." ] ) / macro-expand (RFC 7208 §7.1). The c, r and t macros are for exp text only (§7.2).
func checkDomainSpec(s string) error {
	if s == "" {
		return errors.New("empty domain-spec")
	}
	if err := checkMacroString(s, false); err != nil {
		return err
	}
	if expandEnd.MatchString(s) {
		return nil
	}
	t := strings.TrimSuffix(s, ".")
	dot := strings.LastIndexByte(t, '.')
	if dot < 0 {
		return fmt.Errorf("domain-spec %q has no top label", s)
	}
	if !toplabel.MatchString(t[dot+1:]) {
		return fmt.Errorf("invalid top label in %q", s)
	}
	return nil
}

var (
	expandEnd = regexp.MustCompile(`(%\{[A-Za-z][0-9]*[rR]?[-.+,/_=]*\}|%%|%_|%-)$`)
	// toplabel = ( *alphanum ALPHA *alphanum ) / ( 1*alphanum "-" *( alphanum / "-" ) alphanum )
	toplabel = regexp.MustCompile(`^([A-Za-z0-9]*[A-Za-z][A-Za-z0-9]*|[A-Za-z0-9]+-[A-Za-z0-9-]*[A-Za-z0-9])$`)
)

// checkMacroString checks macro-string = *( macro-expand / macro-literal ) (RFC 7208 §7.1).
func checkMacroString(s string, expLetters bool) error {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c < 0x21 || c > 0x7e {
			return fmt.Errorf("invalid character %q", c)
		}
		if c != '%' {
			continue
		}
		if i+1 >= len(s) {
			return errors.New("macro-string ends in %")
		}
		switch s[i+1] {
		case '%', '_', '-':
			i++
			continue
		case '{':
		default:
			return fmt.Errorf("invalid macro %q", s[i:])
		}
		end := strings.IndexByte(s[i:], '}')
		if end < 0 {
			return fmt.Errorf("unterminated macro %q", s[i:])
		}
		body := s[i+2 : i+end]
		if !macroBody.MatchString(body) {
			return fmt.Errorf("invalid macro %q", s[i:i+end+1])
		}
		if !expLetters && strings.ContainsRune("crtCRT", rune(body[0])) {
			return fmt.Errorf("macro %%{%c} is allowed in exp text only", body[0])
		}
		i += end
	}
	return nil
}

var macroBody = regexp.MustCompile(`^[slodiphcrtvSLODIPHCRTV][0-9]*[rR]?[-.+,/_=]*$`)
