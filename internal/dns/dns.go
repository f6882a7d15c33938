// Package dns is the resolver every DNS-using part of posthorn goes through: SPF, DKIM, DMARC and
// ARC lookups, iprev, DNSBLs, and the outbound queue's MX and address lookups.
//
// Resolver is an interface so that tests can answer from a table (see internal/testutil/dnstest
// for a real DNS server on loopback). New returns the production resolver: Go's own stub resolver,
// sent to the configured recursive resolver ([dns] resolver) or to the system's.
//
// Cache wraps a Resolver and keeps its answers for a short fixed time (60 s, not-found answers
// 15 s, never temporary failures; Resolver does not give record TTLs), with concurrent lookups
// of one name sharing one query: the inbound checks use it, so that mail from one sender does
// not ask for the same SPF, DMARC and DKIM key records at every message.
//
// Go's resolver does not say whether an answer was authenticated by DNSSEC, which DANE needs for
// the MX, address and TLSA lookups of outbound delivery. SecureResolver answers those with the
// AD bit, and Validating implements it over miekg/dns; NewValidating returns one only for a
// resolver on loopback, the only place an AD bit can be believed from (RFC 4035 §4.9.3).
package dns

import (
	"context"
	"errors"
	"net"
)

// Resolver answers the lookups posthorn needs. Errors for names that do not exist satisfy
// IsNotFound; every other error is temporary (a timeout, SERVFAIL).
type Resolver interface {
	LookupTXT(ctx context.Context, name string) ([]string, error)
	LookupMX(ctx context.Context, name string) ([]*net.MX, error)
	LookupIPAddr(ctx context.Context, host string) ([]net.IPAddr, error)
	LookupAddr(ctx context.Context, addr string) ([]string, error)
}

// New returns a resolver that asks server ("host:port") over UDP, falling back to TCP for
// truncated answers; an empty server uses the system's resolver configuration.
func New(server string) *net.Resolver {
	if server == "" {
		return &net.Resolver{PreferGo: true}
	}
	return &net.Resolver{
		PreferGo: true,
		Dial: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, server)
		},
	}
}

// IsNotFound reports whether err says the name or the record type does not exist (NXDOMAIN or
// an empty answer), as opposed to a failure to get an answer.
func IsNotFound(err error) bool {
	var dnsErr *net.DNSError
	return errors.As(err, &dnsErr) && dnsErr.IsNotFound
}

// IsTemporary reports whether err is a failure to get an answer (timeout, SERVFAIL, network),
// after which the lookup may be tried again later.
func IsTemporary(err error) bool {
	return err != nil && !IsNotFound(err)
}
