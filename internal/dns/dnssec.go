package dns

import (
	"context"
	"encoding/hex"
	"fmt"
	"math/rand/v2"
	"net"
	"slices"
	"strconv"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
	adns "github.com/mjl-/adns"
)

// SecureResolver answers the lookups that DANE depends on together with whether the answer
// was authenticated by DNSSEC: records, or their absence, that a validating resolver vouched
// for with the Authenticated Data bit (RFC 4035 §3.2.3). Errors are as Resolver's: IsNotFound
// for a name or type that does not exist (authentic then says whether the denial was), any
// other error temporary.
type SecureResolver interface {
	// LookupMXSecure returns the MX records of name sorted by preference (equal ones shuffled,
	// RFC 5321 §5.1).
	LookupMXSecure(ctx context.Context, name string) (mxs []*net.MX, authentic bool, err error)
	// LookupIPAddrSecure returns the IPv4 and then the IPv6 addresses of host; authentic only
	// when the A and the AAAA answers were both authenticated.
	LookupIPAddrSecure(ctx context.Context, host string) (addrs []net.IPAddr, authentic bool, err error)
	// LookupTLSA returns the usable DANE TLSA records of _port._tcp.host (RFC 7672 §3.1).
	LookupTLSA(ctx context.Context, host string, port int) (records []adns.TLSA, authentic bool, err error)
}

// Validating is a SecureResolver that asks one recursive resolver with the DNSSEC OK and AD bits
// and believes the AD bit of its answers. It is meant for a resolver on a loopback address (a
// validating resolver on this host, such as unbound): an AD bit that crossed a network could
// have been set by anyone on the path (RFC 4035 §4.9.3, RFC 6698 §4.1). A loopback resolver
// that does not validate (systemd-resolved by default, dnsmasq) never sets the AD bit, so
// every answer from it is insecure, as it should be.
type Validating struct {
	Server  string // "host:port" of the resolver
	Timeout time.Duration
}

var _ SecureResolver = (*Validating)(nil)

// NewValidating returns a Validating resolver for server ("host:port"), or nil when server is
// not a loopback address, since then no AD bit could be trusted. An empty server means the
// first nameserver of /etc/resolv.conf.
func NewValidating(server string) *Validating {
	if server == "" {
		conf, err := mdns.ClientConfigFromFile("/etc/resolv.conf")
		if err != nil || len(conf.Servers) == 0 {
			return nil
		}
		server = net.JoinHostPort(conf.Servers[0], conf.Port)
	}
	host, _, err := net.SplitHostPort(server)
	if err != nil {
		return nil
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil
	}
	return &Validating{Server: server, Timeout: 10 * time.Second}
}

// query asks for one name and type. NXDOMAIN and an empty answer are errors that satisfy
// IsNotFound; any rcode but NOERROR and NXDOMAIN (SERVFAIL, what a DNSSEC-bogus answer looks
// like, REFUSED) is a temporary error. authentic is the AD bit of the answer.
func (v *Validating) query(ctx context.Context, name string, qtype uint16) (answer []mdns.RR, authentic bool, err error) {
	fqdn := mdns.Fqdn(strings.TrimSuffix(name, "."))
	m := new(mdns.Msg)
	m.SetQuestion(fqdn, qtype)
	m.SetEdns0(4096, true)
	m.AuthenticatedData = true
	client := &mdns.Client{Net: "udp", Timeout: v.Timeout}
	resp, _, err := client.ExchangeContext(ctx, m, v.Server)
	if err == nil && resp.Truncated {
		client.Net = "tcp"
		resp, _, err = client.ExchangeContext(ctx, m, v.Server)
	}
	qname := mdns.TypeToString[qtype] + " " + fqdn
	if err != nil {
		return nil, false, &net.DNSError{Err: err.Error(), Name: qname, Server: v.Server, IsTemporary: true}
	}
	for _, rr := range resp.Answer {
		if rr.Header().Rrtype == qtype {
			answer = append(answer, rr)
		}
	}
	switch {
	case resp.Rcode == mdns.RcodeNameError:
		return nil, resp.AuthenticatedData, &net.DNSError{Err: "no such host", Name: qname, Server: v.Server, IsNotFound: true}
	case resp.Rcode != mdns.RcodeSuccess:
		return nil, false, &net.DNSError{Err: "server answered " + mdns.RcodeToString[resp.Rcode], Name: qname,
			Server: v.Server, IsTemporary: true}
	case len(answer) == 0:
		return nil, resp.AuthenticatedData, &net.DNSError{Err: "no such record", Name: qname, Server: v.Server, IsNotFound: true}
	}
	return answer, resp.AuthenticatedData, nil
}

// LookupMXSecure implements SecureResolver.
func (v *Validating) LookupMXSecure(ctx context.Context, name string) ([]*net.MX, bool, error) {
	answer, authentic, err := v.query(ctx, name, mdns.TypeMX)
	if err != nil {
		return nil, authentic, err
	}
	mxs := make([]*net.MX, 0, len(answer))
	for _, rr := range answer {
		mx := rr.(*mdns.MX)
		mxs = append(mxs, &net.MX{Host: mx.Mx, Pref: mx.Preference})
	}
	rand.Shuffle(len(mxs), func(i, j int) { mxs[i], mxs[j] = mxs[j], mxs[i] })
	slices.SortStableFunc(mxs, func(a, b *net.MX) int { return int(a.Pref) - int(b.Pref) })
	return mxs, authentic, nil
}

// LookupIPAddrSecure implements SecureResolver. An address literal is returned as it is, not
// authentic. When one of the two lookups fails but the other has addresses, those are
// returned, not authentic.
func (v *Validating) LookupIPAddrSecure(ctx context.Context, host string) ([]net.IPAddr, bool, error) {
	if ip := net.ParseIP(host); ip != nil {
		return []net.IPAddr{{IP: ip}}, false, nil
	}
	var addrs []net.IPAddr
	authentic := true
	var firstErr error
	for _, qtype := range []uint16{mdns.TypeA, mdns.TypeAAAA} {
		answer, ad, err := v.query(ctx, host, qtype)
		authentic = authentic && ad
		if err != nil {
			if firstErr == nil || (IsNotFound(firstErr) && !IsNotFound(err)) {
				firstErr = err
			}
			if !IsNotFound(err) {
				authentic = false
			}
			continue
		}
		for _, rr := range answer {
			switch a := rr.(type) {
			case *mdns.A:
				addrs = append(addrs, net.IPAddr{IP: a.A})
			case *mdns.AAAA:
				addrs = append(addrs, net.IPAddr{IP: a.AAAA})
			}
		}
	}
	if len(addrs) == 0 {
		return nil, authentic, firstErr
	}
	if firstErr != nil && !IsNotFound(firstErr) {
		authentic = false
	}
	return addrs, authentic, nil
}

// LookupTLSA implements SecureResolver: of the records of _port._tcp.host it keeps the
// DANE-TA(2) and DANE-EE(3) ones with a known selector and matching type (RFC 7672 §3.1). No
// records, or their absence (NXDOMAIN, NODATA), is no error. Records are only returned when
// authentic: unauthenticated TLSA records must be ignored (RFC 7672 §2.2).
func (v *Validating) LookupTLSA(ctx context.Context, host string, port int) ([]adns.TLSA, bool, error) {
	answer, authentic, err := v.query(ctx, "_"+strconv.Itoa(port)+"._tcp."+strings.TrimSuffix(host, "."), mdns.TypeTLSA)
	if IsNotFound(err) {
		return nil, authentic, nil
	}
	if err != nil {
		return nil, false, fmt.Errorf("tlsa lookup %s: %w", host, err)
	}
	if !authentic {
		return nil, false, nil
	}
	var out []adns.TLSA
	for _, rr := range answer {
		t := rr.(*mdns.TLSA)
		if (t.Usage != 2 && t.Usage != 3) || t.Selector > 1 || t.MatchingType > 2 {
			continue
		}
		data, err := hex.DecodeString(t.Certificate)
		if err != nil {
			continue
		}
		out = append(out, adns.TLSA{Usage: adns.TLSAUsage(t.Usage), Selector: adns.TLSASelector(t.Selector),
			MatchType: adns.TLSAMatchType(t.MatchingType), CertAssoc: data})
	}
	return out, true, nil
}
