package mailauth

import (
	"context"
	"net"
	"strings"

	"posthorn/internal/dns"
)

// maxIPRevNames bounds the PTR names that are forward-checked.
const maxIPRevNames = 10

// IPRev runs the iprev check (RFC 8601 §3): the client address's PTR names are looked up, and
// each (up to 10) is resolved forward; the check passes when one of them resolves back to the
// address. No PTR record or no confirming name is fail; a DNS failure that leaves the answer
// open is temperror. It can run as soon as the client connects.
func (v *Verifier) IPRev(ctx context.Context, ip net.IP) IPRevResult {
	res := IPRevResult{IP: ip}
	if ip == nil {
		res.Status, res.Reason = StatusPermError, "no client address"
		return res
	}
	names, err := v.Resolver.LookupAddr(ctx, ip.String())
	if err != nil {
		if dns.IsNotFound(err) {
			res.Status, res.Reason = StatusFail, "no PTR record"
		} else {
			res.Status, res.Reason = StatusTempError, "PTR lookup failed"
		}
		return res
	}
	if len(names) == 0 {
		res.Status, res.Reason = StatusFail, "no PTR record"
		return res
	}
	if len(names) > maxIPRevNames {
		names = names[:maxIPRevNames]
	}
	temp := false
	for _, name := range names {
		addrs, err := v.Resolver.LookupIPAddr(ctx, name)
		if err != nil {
			temp = temp || dns.IsTemporary(err)
			continue
		}
		for _, a := range addrs {
			if a.IP.Equal(ip) {
				res.Status = StatusPass
				res.Name = strings.TrimSuffix(name, ".")
				return res
			}
		}
	}
	if temp {
		res.Status, res.Reason = StatusTempError, "forward lookup failed"
		return res
	}
	res.Status, res.Reason = StatusFail, "no PTR name resolves back to the address"
	return res
}
