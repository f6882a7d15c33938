package queue

import (
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strings"
	"time"

	mdns "github.com/mjl-/mox/dns"
	"github.com/mjl-/mox/mtasts"

	"posthorn/internal/dns"
	"posthorn/internal/store"
)

// route is where a domain's mail goes.
type route struct {
	hosts   []string // MX hosts in preference order
	enforce bool     // an MTA-STS policy in mode enforce applies: hosts are the ones it allows
	// secure: the MX answer (or, for an implicit MX, the authenticated denial of MX records) was
	// authenticated by DNSSEC, the first condition for DANE (RFC 7672 §2.2.1).
	secure bool
}

// route looks up a domain's MX hosts (RFC 5321 §5.1) and its MTA-STS policy.
func (s *Scheduler) route(ctx context.Context, domain string) (route, error) {
	var r route
	mxs, secure, err := s.lookupMX(ctx, domain)
	r.secure = secure
	switch {
	case err == nil && isNullMX(mxs):
		// RFC 7505 §4.1: the domain accepts no mail; fail at once, do not retry.
		return r, &failure{Permanent: true, Code: 556, Status: "5.1.10",
			Text: fmt.Sprintf("556 5.1.10 domain %s accepts no mail (null MX)", domain)}
	case err == nil && len(mxs) > 0:
		// The resolver returns them sorted by preference, equal ones shuffled (RFC 5321 §5.1).
		for _, mx := range mxs {
			if h := strings.TrimSuffix(mx.Host, "."); h != "" {
				r.hosts = append(r.hosts, h)
			}
		}
	case err == nil || dns.IsNotFound(err):
		// RFC 5321 §5.1: no MX records: the domain itself is the host, if it has an address.
		if _, _, err := s.lookupIPAddr(ctx, domain); dns.IsNotFound(err) {
			return r, permanent("5.1.2", "", "domain %s has no MX and no address", domain)
		} else if err != nil {
			return r, temporary("4.4.3", "", "DNS lookup of %s: %v", domain, err)
		}
		r.hosts = []string{domain}
	default:
		return r, temporary("4.4.3", "", "DNS lookup of MX for %s: %v", domain, err)
	}

	policy := s.mtaSTS(ctx, domain)
	if policy == nil || policy.Mode != mtasts.ModeEnforce {
		return r, nil
	}
	// RFC 8461 §4.1: only MX hosts that match the policy may be used.
	var allowed []string
	for _, h := range r.hosts {
		d, err := mdns.ParseDomainLax(h)
		if err == nil && policy.Matches(d) {
			allowed = append(allowed, h)
		}
	}
	if len(allowed) == 0 {
		return r, temporary("4.7.5", "", "no MX host of %s matches its MTA-STS policy", domain)
	}
	r.hosts, r.enforce = allowed, true
	return r, nil
}

// lookupMX looks up a domain's MX records through Secure when it is set, and reports whether
// the answer was authenticated.
func (s *Scheduler) lookupMX(ctx context.Context, domain string) ([]*net.MX, bool, error) {
	if s.Secure != nil {
		return s.Secure.LookupMXSecure(ctx, domain)
	}
	mxs, err := s.Resolver.LookupMX(ctx, domain)
	return mxs, false, err
}

// lookupIPAddr looks up a host's addresses through Secure when it is set, and reports whether
// the answer was authenticated.
func (s *Scheduler) lookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, bool, error) {
	if s.Secure != nil {
		return s.Secure.LookupIPAddrSecure(ctx, host)
	}
	addrs, err := s.Resolver.LookupIPAddr(ctx, host)
	return addrs, false, err
}

func isNullMX(mxs []*net.MX) bool {
	return len(mxs) == 1 && (mxs[0].Host == "." || mxs[0].Host == "")
}

// mtaSTS returns the MTA-STS policy that applies to a domain, or nil (RFC 8461 §5.1): the TXT
// record _mta-sts.DOMAIN names the policy's id; a cached policy with that id, younger than its
// max_age, is used as it is; otherwise the policy is fetched and cached. When the record is
// missing or the fetch fails, a cached policy still in its max_age applies (§5.1, §10.2: a
// policy cannot be removed by an attacker who blocks DNS or HTTPS).
func (s *Scheduler) mtaSTS(ctx context.Context, domain string) *mtasts.Policy {
	now := s.Now()
	cached, cachedID := s.cachedPolicy(ctx, domain, now)
	txts, err := s.Resolver.LookupTXT(ctx, "_mta-sts."+domain)
	if err != nil {
		return cached
	}
	var record *mtasts.Record
	for _, txt := range txts {
		rec, isSTS, err := mtasts.ParseRecord(txt)
		if !isSTS {
			continue
		}
		if err != nil || record != nil {
			// RFC 8461 §3.1: more than one record, or a bad one, is no record.
			return cached
		}
		record = rec
	}
	if record == nil {
		return cached
	}
	if cached != nil && cachedID == record.ID {
		return cached
	}
	text, err := s.fetchPolicy(ctx, domain)
	if err != nil {
		s.Logger.Info("queue: mta-sts policy fetch failed", "domain", domain, "err", err)
		return cached
	}
	policy, err := mtasts.ParsePolicy(text)
	if err != nil {
		s.Logger.Info("queue: bad mta-sts policy", "domain", domain, "err", err)
		return cached
	}
	if err := s.Store.SetMTASTSPolicy(ctx, domain, text, record.ID, now); err != nil {
		s.Logger.Warn("queue: cache mta-sts policy", "domain", domain, "err", err)
	}
	if policy.Mode == mtasts.ModeNone {
		return nil
	}
	return policy
}

// cachedPolicy returns the cached policy of a domain if it is within its max_age.
func (s *Scheduler) cachedPolicy(ctx context.Context, domain string, now time.Time) (*mtasts.Policy, string) {
	text, id, fetched, err := s.Store.MTASTSPolicy(ctx, domain)
	if err != nil {
		if !errors.Is(err, store.ErrNotFound) {
			s.Logger.Warn("queue: read cached mta-sts policy", "domain", domain, "err", err)
		}
		return nil, ""
	}
	policy, err := mtasts.ParsePolicy(text)
	if err != nil || now.After(fetched.Add(time.Duration(policy.MaxAgeSeconds)*time.Second)) {
		return nil, ""
	}
	if policy.Mode == mtasts.ModeNone {
		return nil, id
	}
	return policy, id
}

// fetchPolicy gets https://mta-sts.DOMAIN/.well-known/mta-sts.txt (RFC 8461 §3.3): a valid
// certificate, status 200, no redirects, at most 64 KiB.
func (s *Scheduler) fetchPolicy(ctx context.Context, domain string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, time.Minute)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, "https://mta-sts."+domain+"/.well-known/mta-sts.txt", nil)
	if err != nil {
		return "", err
	}
	resp, err := s.HTTPClient.Do(req)
	if err != nil {
		return "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return "", fmt.Errorf("status %s", resp.Status)
	}
	body, err := io.ReadAll(io.LimitReader(resp.Body, 64<<10+1))
	if err != nil {
		return "", err
	}
	if len(body) > 64<<10 {
		return "", errors.New("policy larger than 64 KiB")
	}
	return string(body), nil
}

// newPolicyClient is the default HTTP client for MTA-STS policies.
func newPolicyClient(roots *x509.CertPool) *http.Client {
	return &http.Client{
		Timeout: time.Minute,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: roots, MinVersion: tls.VersionTLS12},
			DisableKeepAlives: true,
		},
		// RFC 8461 §3.3: "HTTP 3xx redirects MUST NOT be followed".
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}
