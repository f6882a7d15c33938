package smtpserver

import (
	"context"
	"strings"
)

// RFC 5321 §4.1.1.3 and §4.5.1: a server must accept "RCPT TO:<Postmaster>" (no domain, any
// case) as the postmaster of the server's own domain. go-smtp hands the path over as given
// ("Postmaster"); postmasterAddress turns it into postmaster@PRIMARY (see primaryDomain),
// which the session then resolves like any other address, in every session: plain text,
// after STARTTLS and on implicit TLS.

// postmasterAddress returns the address a bare postmaster path stands for, and whether path
// is one. With no local domain the address is "" and the recipient is unknown.
func (s *Server) postmasterAddress(ctx context.Context, path string) (string, bool) {
	if !strings.EqualFold(path, "postmaster") {
		return "", false
	}
	domain := s.primaryDomain(ctx)
	if domain == "" {
		return "", true
	}
	return "postmaster@" + domain, true
}

// primaryDomain is the domain whose postmaster receives mail for the bare "postmaster": the
// server's host name when it is a local domain, else the nearest parent domain of it that is
// local (mx.example.org: example.org), else the local domain added first. "" when there are no
// local domains.
func (s *Server) primaryDomain(ctx context.Context) string {
	for d := strings.ToLower(strings.TrimSuffix(s.Hostname, ".")); d != ""; {
		if _, err := s.Store.GetDomain(ctx, d); err == nil {
			return d
		}
		_, parent, ok := strings.Cut(d, ".")
		if !ok || !strings.Contains(parent, ".") {
			break
		}
		d = parent
	}
	domains, err := s.Store.ListDomains(ctx)
	if err != nil {
		s.Logger.Warn("list domains for the postmaster", "err", err)
		return ""
	}
	first := ""
	var firstID int64
	for _, d := range domains {
		if first == "" || d.ID < firstID {
			first, firstID = d.Name, d.ID
		}
	}
	return first
}
