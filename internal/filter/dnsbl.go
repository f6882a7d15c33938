package filter

import (
	"context"
	"fmt"
	"net"
	"strings"
	"sync"

	"posthorn/internal/dns"
)

// dnsbl looks ip up in every configured zone in parallel (RFC 5782) and returns a rejection
// for the first zone, in configuration order, that lists it. A lookup that fails is noted and
// otherwise ignored: a block list that cannot answer never refuses mail.
func (f *Filter) dnsbl(ctx context.Context, ip net.IP) []decision {
	name := reverseName(ip)
	if name == "" {
		return nil
	}
	listed := make([]bool, len(f.DNSBL))
	failed := make([]error, len(f.DNSBL))
	var wg sync.WaitGroup
	for i, zone := range f.DNSBL {
		wg.Go(func() { listed[i], failed[i] = lookupDNSBL(ctx, f.Resolver, name+"."+strings.TrimSuffix(zone, ".")) })
	}
	wg.Wait()
	var out []decision
	for i, zone := range f.DNSBL {
		switch {
		case failed[i] != nil:
			f.Logger.Warn("dnsbl lookup failed", "zone", zone, "ip", ip.String(), "err", failed[i])
			out = append(out, note(Reason{Name: "dnsbl-error", Detail: zone}))
		case listed[i]:
			// RFC 5782 §2.1: the reply names the client's address, not the list.
			out = append(out, reject(Reason{Name: "dnsbl", Detail: zone}, 554, [3]int{5, 7, 1}, "Client host rejected: listed as a source of abuse"))
		}
	}
	return out
}

// lookupDNSBL reports whether name has an A record in 127.0.0.0/8 (RFC 5782 §2.1). Answers in
// 127.255.255.0/24 are the list's own error codes (a refused query) and do not list.
func lookupDNSBL(ctx context.Context, r dns.Resolver, name string) (bool, error) {
	addrs, err := r.LookupIPAddr(ctx, name)
	if err != nil {
		if dns.IsNotFound(err) {
			return false, nil
		}
		return false, err
	}
	for _, a := range addrs {
		v4 := a.IP.To4()
		if v4 != nil && v4[0] == 127 && !(v4[1] == 255 && v4[2] == 255) {
			return true, nil
		}
	}
	return false, nil
}

// reverseName is ip's DNSxL query name without the zone (RFC 5782 §2.1 and §2.4): the octets
// of an IPv4 address, or the nibbles of an IPv6 one, in reverse order.
func reverseName(ip net.IP) string {
	if v4 := ip.To4(); v4 != nil {
		return fmt.Sprintf("%d.%d.%d.%d", v4[3], v4[2], v4[1], v4[0])
	}
	v6 := ip.To16()
	if v6 == nil {
		return ""
	}
	const hex = "0123456789abcdef"
	b := make([]byte, 0, 63)
	for i := len(v6) - 1; i >= 0; i-- {
		if len(b) > 0 {
			b = append(b, '.')
		}
		b = append(b, hex[v6[i]&0xf], '.', hex[v6[i]>>4])
	}
	return string(b)
}
