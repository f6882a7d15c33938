package certs

import (
	"context"
	"crypto/x509"
	"encoding/pem"
	"fmt"
	"os"
	"slices"
	"strings"
	"sync/atomic"

	"golang.org/x/net/idna"
)

// setupLabels are the host names under every local domain that "posthorn domain dns" points at
// this server (CNAMEs to the host name): the MTA-STS policy host (RFC 8461 §3.3, which requires
// a certificate valid for it), Thunderbird's autoconfig and Outlook's autodiscover.
var setupLabels = []string{"mta-sts", "autoconfig", "autodiscover"}

// SetupNames are the host names under domain that the http listener answers for and that
// therefore need a certificate: mta-sts.DOMAIN, autoconfig.DOMAIN and autodiscover.DOMAIN.
func SetupNames(domain string) []string {
	names := make([]string, len(setupLabels))
	for i, l := range setupLabels {
		names[i] = l + "." + domain
	}
	return names
}

// LocalDomain reports whether name is one of the server's local domains, as the store says now.
type LocalDomain func(ctx context.Context, name string) (bool, error)

// hostPolicy decides, for ACME, which host names the server asks certificates for: the server's
// host name, and the set-up names of every local domain. The domains are looked up when a
// client first asks for a name, so a domain added while the server runs gets its certificates
// without a restart; any other name is refused before an order is placed, so a client cannot
// make the server request certificates for names it does not serve.
type hostPolicy struct {
	hostname string
	local    atomic.Pointer[LocalDomain] // nil until the store is open
}

// allow is an autocert.HostPolicy.
func (p *hostPolicy) allow(ctx context.Context, host string) error {
	host = strings.ToLower(strings.TrimSuffix(host, "."))
	if host == p.hostname {
		return nil
	}
	label, domain, ok := strings.Cut(host, ".")
	if !ok || domain == "" || !slices.Contains(setupLabels, label) {
		return fmt.Errorf("acme: host %q is not served here", host)
	}
	local := p.local.Load()
	if local == nil {
		return fmt.Errorf("acme: host %q: local domains not known yet", host)
	}
	// A TLS client sends the A-label form (RFC 6066 §3); the store may hold either form.
	candidates := []string{domain}
	if u, err := idna.Lookup.ToUnicode(domain); err == nil && u != domain {
		candidates = append(candidates, u)
	}
	for _, d := range candidates {
		ok, err := (*local)(ctx, d)
		if err != nil {
			return fmt.Errorf("acme: host %q: look up domain: %w", host, err)
		}
		if ok {
			return nil
		}
	}
	return fmt.Errorf("acme: host %q: %s is not a local domain", host, domain)
}

// ServeDomains gives an ACME source the store's answer to which domains are local, so it also
// obtains certificates for their set-up names. Until it is called, and for the other sources,
// only the host name is covered.
func (s *Source) ServeDomains(local LocalDomain) {
	if s.policy != nil {
		s.policy.local.Store(&local)
	}
}

// Coverage says, for each name, whether the certificate in the PEM file at certFile is valid for
// it (a SAN matches, wildcards included, RFC 6125 §6.4.3), in the order of names.
func Coverage(certFile string, names []string) ([]bool, error) {
	leaf, err := readLeaf(certFile)
	if err != nil {
		return nil, err
	}
	covered := make([]bool, len(names))
	for i, n := range names {
		covered[i] = leaf.VerifyHostname(n) == nil
	}
	return covered, nil
}

// readLeaf parses the first certificate of a PEM file.
func readLeaf(path string) (*x509.Certificate, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("read certificate: %w", err)
	}
	for {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			return nil, fmt.Errorf("read certificate %s: no CERTIFICATE block", path)
		}
		if block.Type == "CERTIFICATE" {
			leaf, err := x509.ParseCertificate(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("parse certificate %s: %w", path, err)
			}
			return leaf, nil
		}
	}
}
