package admin

import (
	"context"
	"errors"
	"fmt"
	"net"
	"regexp"
	"slices"
	"strconv"
	"strings"

	"posthorn/internal/dns"
)

// DNSRecord is one record an operator is told to publish, in zone-file terms: an owner name and
// a type (MX, TXT, CNAME, SRV) with the value as a zone file writes it (TXT values quoted, a long
// one as several strings in parentheses).
type DNSRecord struct {
	Name  string // fully qualified, with or without the final dot
	Type  string
	Value string // the record data as a zone file holds it (TXT values quoted)
	// TTL, in seconds, and Purpose, what the record is for (shared by the records of one
	// group), are what DNSRecords gives besides.
	TTL     int
	Purpose string
}

// DNSStatus is what the resolver says of a record to publish.
type DNSStatus string

const (
	// DNSPublished: the resolver returns the record.
	DNSPublished DNSStatus = "published"
	// DNSMissing: the name or that type at the name does not exist (NXDOMAIN, or no record of
	// the kind the record is: no TXT starting with the same "v=" tag, say).
	DNSMissing DNSStatus = "missing"
	// DNSDifferent: a record of that kind exists with another value.
	DNSDifferent DNSStatus = "different"
	// DNSLookupFailed: no answer (timeout, SERVFAIL); the record may or may not be published.
	DNSLookupFailed DNSStatus = "lookup failed"
)

// DNSCheck is one record and what the resolver returned for its name and type now.
type DNSCheck struct {
	Record DNSRecord
	Status DNSStatus
	// Found are the values the resolver returned for the record's name and type (for TXT
	// records only those of the record's kind), in zone-file form; Error says why none came
	// back when the lookup failed.
	Found []string
	Error string
}

// CNAMESRVResolver is the part of a resolver that checking CNAME and SRV records needs beyond
// dns.Resolver; *net.Resolver (dns.New) has it.
type CNAMESRVResolver interface {
	LookupCNAME(ctx context.Context, host string) (string, error)
	LookupSRV(ctx context.Context, service, proto, name string) (string, []*net.SRV, error)
}

// CheckDNS looks each record up through a.Resolver and says whether it is published as given.
// It is the live check of "posthorn domain dns --check" and of the web UI's domain page: the
// answers are what the server's resolver sees now (a record just published may take its
// negative-caching time to appear, RFC 2308 §5).
//
// How a value is compared: MX by the exchange host (a preference of its own is the operator's
// choice); TXT by kind, the "v=" tag that starts it (SPF "v=spf1", DKIM "v=DKIM1", DMARC,
// MTA-STS, TLS-RPT), with white space ignored, so that another SPF policy is "different" while
// an unrelated TXT record at the same name (a site verification) is not looked at; CNAME by the
// canonical name; SRV by port and target.
func (a *Admin) CheckDNS(ctx context.Context, records []DNSRecord) ([]DNSCheck, error) {
	if a.Resolver == nil {
		return nil, errors.New("check dns: no resolver")
	}
	checks := make([]DNSCheck, len(records))
	for i, rec := range records {
		checks[i] = a.checkRecord(ctx, rec)
	}
	return checks, nil
}

func (a *Admin) checkRecord(ctx context.Context, rec DNSRecord) DNSCheck {
	name := strings.TrimSuffix(rec.Name, ".") + "."
	c := DNSCheck{Record: rec}
	var want string
	var found []string
	var err error
	switch strings.ToUpper(rec.Type) {
	case "MX":
		want = mxHost(rec.Value)
		var mxs []*net.MX
		if mxs, err = a.Resolver.LookupMX(ctx, name); err == nil {
			for _, mx := range mxs {
				found = append(found, fmt.Sprintf("%d %s", mx.Pref, fqdn(mx.Host)))
			}
		}
		c.Status = match(found, func(v string) bool { return mxHost(v) == want })
	case "TXT":
		want = txtText(rec.Value)
		kind := txtKind(want)
		var txts []string
		if txts, err = a.Resolver.LookupTXT(ctx, name); err == nil {
			for _, t := range txts {
				if txtKind(t) == kind {
					found = append(found, strconv.Quote(t))
				}
			}
		}
		c.Status = match(found, func(v string) bool { uq, _ := strconv.Unquote(v); return sameTXT(uq, want) })
	case "CNAME":
		want = fqdn(rec.Value)
		r, ok := a.Resolver.(CNAMESRVResolver)
		if !ok {
			err = errors.New("the resolver cannot look up CNAME records")
			break
		}
		found, err = a.lookupCNAME(ctx, r, name)
		c.Status = match(found, func(v string) bool { return strings.EqualFold(v, want) })
	case "SRV":
		want = srvText(rec.Value)
		r, ok := a.Resolver.(CNAMESRVResolver)
		if !ok {
			err = errors.New("the resolver cannot look up SRV records")
			break
		}
		var srvs []*net.SRV
		if _, srvs, err = r.LookupSRV(ctx, "", "", name); err == nil {
			for _, s := range srvs {
				found = append(found, fmt.Sprintf("%d %d %d %s", s.Priority, s.Weight, s.Port, fqdn(s.Target)))
			}
		}
		c.Status = match(found, func(v string) bool { return srvText(v) == want })
	default:
		err = fmt.Errorf("record type %s is not checked", rec.Type)
	}
	c.Found = found
	switch {
	case err == nil:
	case dns.IsNotFound(err):
		c.Status, c.Found = DNSMissing, nil
	default:
		c.Status, c.Found, c.Error = DNSLookupFailed, nil, err.Error()
	}
	return c
}

// lookupCNAME returns the canonical name of name, or when name is no alias, its addresses
// (which may well be this server's: the operator chose A records over the CNAME).
func (a *Admin) lookupCNAME(ctx context.Context, r CNAMESRVResolver, name string) ([]string, error) {
	cname, err := r.LookupCNAME(ctx, name)
	if err != nil {
		return nil, err
	}
	if !strings.EqualFold(fqdn(cname), name) {
		return []string{fqdn(cname)}, nil
	}
	addrs, err := a.Resolver.LookupIPAddr(ctx, name)
	if err != nil {
		return nil, err
	}
	var found []string
	for _, addr := range addrs {
		typ := "A"
		if addr.IP.To4() == nil {
			typ = "AAAA"
		}
		found = append(found, typ+" "+addr.IP.String())
	}
	return found, nil
}

// match is published when one value matches, different when values of the kind exist, missing
// when none does.
func match(found []string, matches func(string) bool) DNSStatus {
	switch {
	case slices.ContainsFunc(found, matches):
		return DNSPublished
	case len(found) > 0:
		return DNSDifferent
	}
	return DNSMissing
}

func fqdn(name string) string { return strings.ToLower(strings.TrimSuffix(name, ".")) + "." }

// mxHost is the exchange of an MX value "preference host".
func mxHost(value string) string {
	f := strings.Fields(value)
	if len(f) == 0 {
		return ""
	}
	return fqdn(f[len(f)-1])
}

// srvText is "port target" of an SRV value "priority weight port target": what a client uses.
func srvText(value string) string {
	f := strings.Fields(value)
	if len(f) != 4 {
		return value
	}
	return f[2] + " " + fqdn(f[3])
}

// quoted is one character-string of a zone file's TXT value (RFC 1035 §5.1), escapes included.
var quoted = regexp.MustCompile(`"((?:[^"\\]|\\.)*)"`)

// txtText is the text of a TXT value: its character-strings concatenated (RFC 7208 §3.3, RFC
// 6376 §3.6.2.2 read them so), each unescaped.
func txtText(value string) string {
	ms := quoted.FindAllStringSubmatch(value, -1)
	if ms == nil {
		return value
	}
	var b strings.Builder
	for _, m := range ms {
		if s, err := strconv.Unquote(`"` + m[1] + `"`); err == nil {
			b.WriteString(s)
		} else {
			b.WriteString(m[1])
		}
	}
	return b.String()
}

// txtKind is the version tag a TXT record starts with ("v=spf1"), lower-cased; "" for none.
func txtKind(text string) string {
	first, _, _ := strings.Cut(strings.TrimSpace(text), ";")
	f := strings.Fields(first)
	if len(f) == 0 || !strings.HasPrefix(strings.ToLower(f[0]), "v=") {
		return ""
	}
	return strings.ToLower(f[0])
}

// sameTXT compares two TXT texts, white space ignored.
func sameTXT(a, b string) bool {
	strip := func(s string) string { return strings.Join(strings.Fields(s), "") }
	return strip(a) == strip(b)
}
