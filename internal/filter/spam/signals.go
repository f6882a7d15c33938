package spam

import (
	"context"
	"fmt"
	"net/netip"
	"strings"
	"sync"

	"posthorn/internal/dns"
)

// Points of the signals beside Bayes. They are small next to BayesWeight on purpose: none of
// them alone, nor two together, moves a message Bayes is sure is ham into Junk; they decide
// the messages Bayes is unsure of.
const (
	gtubePoints            = 1000
	spfFailPoints          = 1.5 // RFC 7208 §8.4: the domain says this client may not send for it
	spfSoftfailPoints      = 0.5 // §8.5: "probably not authorized"
	dkimFailPoints         = 1.0 // a signature that does not verify: altered or forged
	dkimPassPoints         = -0.5
	dmarcFailPoints        = 2.0 // the From domain is not authenticated (a p=none domain)
	dmarcPassPoints        = -1.0
	blocklistPoints        = 3.0 // per listing zone
	missingDatePoints      = 1.0 // RFC 5322 §3.6 requires Date; real mail programs write it
	missingMessageIDPoints = 0.5 // RFC 5322 §3.6.4 "SHOULD"; its absence is a bulk tool's mark
	htmlOnlyPoints         = 0.5 // people's mail programs send a text/plain alternative
	linkMismatchPoints     = 1.5 // link text that shows a different domain: phishing
	manyRecipientsPoints   = 0.5 // a visible list of many To/Cc addresses: bulk
	firstTimeSenderPoints  = 0.5
	// manyRecipients is how many To/Cc addresses are many.
	manyRecipients = 15
)

// heuristics are the header and structure signals.
func heuristics(f Features, s Signals) []Reason {
	var out []Reason
	if f.GTUBE {
		out = append(out, Reason{Name: "gtube", Points: gtubePoints, Detail: "GTUBE test string"})
	}
	if !f.HasDate {
		out = append(out, Reason{Name: "missing_date", Points: missingDatePoints})
	}
	if !f.HasMessageID {
		out = append(out, Reason{Name: "missing_message_id", Points: missingMessageIDPoints})
	}
	if f.HTML && !f.PlainText {
		out = append(out, Reason{Name: "html_only", Points: htmlOnlyPoints})
	}
	if f.LinkMismatch != "" {
		out = append(out, Reason{Name: "link_mismatch", Points: linkMismatchPoints, Detail: f.LinkMismatch})
	}
	if n := max(f.Recipients, s.Recipients); n >= manyRecipients {
		out = append(out, Reason{Name: "many_recipients", Points: manyRecipientsPoints, Detail: fmt.Sprint(n)})
	}
	return out
}

// authReasons score the authentication summary.
func authReasons(s Signals) []Reason {
	var out []Reason
	switch s.SPF {
	case "fail":
		out = append(out, Reason{Name: "spf_fail", Points: spfFailPoints})
	case "softfail":
		out = append(out, Reason{Name: "spf_softfail", Points: spfSoftfailPoints})
	}
	switch s.DKIM {
	case "fail", "permerror":
		out = append(out, Reason{Name: "dkim_fail", Points: dkimFailPoints})
	case "pass":
		out = append(out, Reason{Name: "dkim_pass", Points: dkimPassPoints})
	}
	switch s.DMARC {
	case "fail":
		out = append(out, Reason{Name: "dmarc_fail", Points: dmarcFailPoints})
	case "pass":
		out = append(out, Reason{Name: "dmarc_pass", Points: dmarcPassPoints})
	}
	return out
}

// blocklists looks the client address up in the DNSBL zones and the URL domains in the URIBL
// zones, all at once, and returns one reason per zone that lists any of them. A lookup that
// fails is logged and counts as not listed.
func (c *Classifier) blocklists(ctx context.Context, s Signals, domains []string) []Reason {
	if c.resolver == nil {
		return nil
	}
	type query struct{ kind, zone, name, item string }
	var qs []query
	if s.ClientIP.IsValid() {
		for _, z := range c.cfg.DNSBLZones {
			qs = append(qs, query{"dnsbl", z, reverseIP(s.ClientIP) + "." + z, s.ClientIP.String()})
		}
	}
	for _, z := range c.cfg.URIBLZones {
		for _, d := range domains {
			qs = append(qs, query{"uribl", z, d + "." + z, d})
		}
	}
	if len(qs) == 0 {
		return nil
	}
	hits := make([]bool, len(qs))
	var wg sync.WaitGroup
	for i, q := range qs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			hits[i] = c.isListed(ctx, c.resolver, q.name)
		}()
	}
	wg.Wait()
	var out []Reason
	done := map[string]bool{}
	for i, q := range qs {
		key := q.kind + ":" + q.zone
		if hits[i] && !done[key] {
			done[key] = true
			out = append(out, Reason{Name: key, Points: blocklistPoints, Detail: q.item})
		}
	}
	return out
}

// isListed reports whether name has an A record in 127.0.0.0/8, the blocklists' "listed"
// answer; 127.255.255.0/24 answers are their error codes (query refused, over quota).
func (c *Classifier) isListed(ctx context.Context, r dns.Resolver, name string) bool {
	addrs, err := r.LookupIPAddr(ctx, name)
	if err != nil {
		if dns.IsTemporary(err) {
			c.logger.Warn("blocklist lookup failed", "name", name, "err", err)
		}
		return false
	}
	for _, a := range addrs {
		ip, ok := netip.AddrFromSlice(a.IP)
		ip = ip.Unmap()
		if !ok || !ip.Is4() {
			continue
		}
		b := ip.As4()
		if b[0] == 127 && !(b[1] == 255 && b[2] == 255) {
			return true
		}
		if b[0] == 127 {
			c.logger.Warn("blocklist answered an error code", "name", name, "answer", ip)
		}
	}
	return false
}

// reverseIP returns the DNSBL form of an address (RFC 5782 §2.1, §2.4): IPv4 octets reversed,
// IPv6 nibbles reversed.
func reverseIP(ip netip.Addr) string {
	ip = ip.Unmap()
	if ip.Is4() {
		b := ip.As4()
		return fmt.Sprintf("%d.%d.%d.%d", b[3], b[2], b[1], b[0])
	}
	b := ip.As16()
	var sb strings.Builder
	const hex = "0123456789abcdef"
	for i := len(b) - 1; i >= 0; i-- {
		if i != len(b)-1 {
			sb.WriteByte('.')
		}
		sb.WriteByte(hex[b[i]&0xf])
		sb.WriteByte('.')
		sb.WriteByte(hex[b[i]>>4])
	}
	return sb.String()
}
