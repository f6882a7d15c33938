package queue

import (
	"context"
	"encoding/hex"
	"fmt"
	"net"
	"strconv"
	"strings"
	"time"

	mdns "github.com/miekg/dns"
	adns "github.com/mjl-/adns"
)

// TLSAResolver looks up the DANE TLSA records of an MX host (RFC 7672 §2.2: _PORT._tcp.HOST).
// authentic reports that the answer (records or their absence) was validated by DNSSEC.
type TLSAResolver interface {
	LookupTLSA(ctx context.Context, host string, port int) (records []adns.TLSA, authentic bool, err error)
}

// TLSAClient asks one recursive resolver for TLSA records with the DNSSEC OK bit and trusts the
// Authenticated Data bit of its answers only when the resolver is on a loopback address (a
// validating resolver on this host, such as unbound): an AD bit that crossed a network could
// have been set by anyone on the path (RFC 4035 §4.9.3, RFC 6698 §4.1).
type TLSAClient struct {
	Server  string // "host:port" of the resolver
	Timeout time.Duration
}

// NewTLSAResolver returns a TLSAClient for server ("host:port"), or nil when server is not a
// loopback address, since then no answer could be trusted and DANE cannot apply. An empty
// server means the first nameserver of /etc/resolv.conf.
func NewTLSAResolver(server string) *TLSAClient {
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
	return &TLSAClient{Server: server, Timeout: 10 * time.Second}
}

// LookupTLSA returns the usable TLSA records of _port._tcp.host (RFC 7672 §3.1: DANE-TA(2) and
// DANE-EE(3) only). A SERVFAIL from the validating resolver is an error: it is what a
// DNSSEC-bogus answer looks like, and RFC 7672 §2.2 has the delivery deferred then.
func (c *TLSAClient) LookupTLSA(ctx context.Context, host string, port int) ([]adns.TLSA, bool, error) {
	m := new(mdns.Msg)
	m.SetQuestion(mdns.Fqdn("_"+strconv.Itoa(port)+"._tcp."+strings.TrimSuffix(host, ".")), mdns.TypeTLSA)
	m.SetEdns0(4096, true)
	m.AuthenticatedData = true
	client := &mdns.Client{Net: "udp", Timeout: c.Timeout}
	resp, _, err := client.ExchangeContext(ctx, m, c.Server)
	if err == nil && resp.Truncated {
		client.Net = "tcp"
		resp, _, err = client.ExchangeContext(ctx, m, c.Server)
	}
	if err != nil {
		return nil, false, fmt.Errorf("tlsa lookup %s: %w", host, err)
	}
	switch resp.Rcode {
	case mdns.RcodeSuccess, mdns.RcodeNameError:
	default:
		return nil, false, fmt.Errorf("tlsa lookup %s: %s", host, mdns.RcodeToString[resp.Rcode])
	}
	if !resp.AuthenticatedData {
		return nil, false, nil
	}
	var out []adns.TLSA
	for _, rr := range resp.Answer {
		t, ok := rr.(*mdns.TLSA)
		if !ok || (t.Usage != 2 && t.Usage != 3) || t.Selector > 1 || t.MatchingType > 2 {
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
