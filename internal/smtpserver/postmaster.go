package smtpserver

import (
	"context"
	"errors"
	"strings"

	"posthorn/internal/store"
)

// RFC 5321 §4.1.1.3 and §4.5.1: a server must accept "RCPT TO:<Postmaster>" (no domain, any
// case) as the postmaster of the server's own domain. go-smtp hands the path over as given
// ("Postmaster"); postmasterAddress turns it into postmaster@PRIMARY (see primaryDomain),
// which the session then resolves like any other address, in every session: plain text,
// after STARTTLS and on implicit TLS.

// postmasterAddress returns the address a bare postmaster path stands for, and whether path
// is one. With no local domain the address is "" and the recipient is unknown; an error is a
// store that did not answer, a temporary failure (the recipient is not unknown for it).
func (s *Server) postmasterAddress(ctx context.Context, path string) (string, bool, error) {
	if !strings.EqualFold(path, "postmaster") {
		return "", false, nil
	}
	domain, err := s.primaryDomain(ctx)
	if err != nil || domain == "" {
		return "", true, err
	}
	return "postmaster@" + domain, true, nil
}

// primaryDomain is the domain whose postmaster receives mail for the bare "postmaster": the
// server's host name when it is a local domain, else the nearest parent domain of it that is
// local (mx.example.org: example.org), else the local domain added first. "" when there are no
// local domains.
func (s *Server) primaryDomain(ctx context.Context) (string, error) {
	for d := strings.ToLower(strings.TrimSuffix(s.Hostname, ".")); d != ""; {
		if _, err := s.Store.GetDomain(ctx, d); err == nil {
			return d, nil
		} else if !errors.Is(err, store.ErrNotFound) {
			return "", err
		}
		_, parent, ok := strings.Cut(d, ".")
		if !ok || !strings.Contains(parent, ".") {
			break
		}
		d = parent
	}
	domains, err := s.Store.ListDomains(ctx)
	if err != nil {
		return "", err
	}
	first := ""
	var firstID int64
	for _, d := range domains {
		if first == "" || d.ID < firstID {
			first, firstID = d.Name, d.ID
		}
	}
	return first, nil
}
