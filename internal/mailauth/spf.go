package mailauth

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"

	"blitiri.com.ar/go/spf"

	"posthorn/internal/dns"
)

// SPF checks whether ip may send mail for the MAIL FROM domain (RFC 7208 §4), or for the HELO
// name when the reverse path is null (RFC 7208 §2.4). It can run as soon as MAIL FROM arrives.
// A DNS failure gives temperror (RFC 7208 §2.6.6); a broken policy gives permerror.
func (v *Verifier) SPF(ctx context.Context, ip net.IP, helo, mailFrom string) SPFResult {
	res := SPFResult{MailFrom: mailFrom, Helo: helo, Identity: "mailfrom"}
	sender := mailFrom
	if at := strings.LastIndexByte(mailFrom, '@'); at >= 0 {
		res.Domain = asciiDomain(mailFrom[at+1:])
		local := mailFrom[:at]
		if local == "" {
			local = "postmaster" // RFC 7208 §4.3: an empty local-part is replaced by "postmaster".
		}
		sender = local + "@" + res.Domain
	} else {
		// RFC 7208 §2.4: for the null reverse path, check "postmaster@" the HELO name.
		res.Identity = "helo"
		res.Domain = asciiDomain(helo)
		sender = "postmaster@" + res.Domain
	}
	if res.Domain == "" {
		res.Status = StatusNone
		res.Reason = "no domain to check"
		return res
	}
	resolver := &spfResolver{r: v.Resolver, ip: ip}
	r, err := spf.CheckHostWithSender(ip, helo, sender,
		spf.WithContext(ctx), spf.WithResolver(resolver))
	res.Status = Status(r)
	if err != nil && res.Status != StatusPass {
		res.Reason = err.Error()
	}
	if resolver.syntaxErr != nil {
		res.Status = StatusPermError
		res.Reason = resolver.syntaxErr.Error()
	}
	v.logger().Debug("spf", "ip", ip, "domain", res.Domain, "result", r, "err", err)
	return res
}

// spfResolver adapts dns.Resolver to the SPF library, which tells temporary errors from
// non-existent names by the fields of *net.DNSError. It also checks the syntax of every SPF
// record the evaluation fetches (see checkSPFSyntax) and rewrites what the library cannot read
// (see rewrite). One spfResolver serves one check.
type spfResolver struct {
	r         dns.Resolver
	ip        net.IP
	syntaxErr error
	aliases   map[string]string // see rewrite
	pNames    map[string]string // the validated name for %{p}, by <domain>
}

func (s *spfResolver) LookupTXT(ctx context.Context, name string) ([]string, error) {
	name = s.unalias(name)
	txt, err := s.r.LookupTXT(ctx, name)
	copied := false
	for i, t := range txt {
		lower := strings.ToLower(t)
		if lower != "v=spf1" && !strings.HasPrefix(lower, "v=spf1 ") {
			continue
		}
		if err := checkSPFSyntax(t); err != nil {
			if s.syntaxErr == nil {
				s.syntaxErr = fmt.Errorf("%s: %w", name, err)
			}
			continue
		}
		if !copied {
			txt, copied = append([]string(nil), txt...), true // the resolver's slice stays as it was
		}
		txt[i] = s.rewrite(ctx, t, name)
	}
	return txt, netError(name, err)
}

func (s *spfResolver) LookupMX(ctx context.Context, name string) ([]*net.MX, error) {
	name = s.unalias(name)
	mx, err := s.r.LookupMX(ctx, name)
	return mx, netError(name, err)
}

func (s *spfResolver) LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error) {
	host = s.unalias(host)
	ips, err := s.r.LookupIPAddr(ctx, host)
	return ips, netError(host, err)
}

func (s *spfResolver) LookupAddr(ctx context.Context, addr string) ([]string, error) {
	names, err := s.r.LookupAddr(ctx, addr)
	return names, netError(addr, err)
}

// netError turns any resolver error into a *net.DNSError that says whether the name does not
// exist or the lookup failed temporarily.
func netError(name string, err error) error {
	if err == nil {
		return nil
	}
	text := err.Error()
	var dnsErr *net.DNSError
	if errors.As(err, &dnsErr) {
		// Without the resolver's address: the text may reach a header comment.
		e := *dnsErr
		e.Server = ""
		if e.IsNotFound || e.IsTemporary || e.IsTimeout {
			return &e
		}
		text = e.Err
	}
	if dns.IsNotFound(err) {
		return &net.DNSError{Err: text, Name: name, IsNotFound: true}
	}
	return &net.DNSError{Err: text, Name: name, IsTemporary: true}
}
