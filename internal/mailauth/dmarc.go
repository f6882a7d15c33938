package mailauth

import (
	"context"
	"errors"
	"net/mail"
	"strings"

	"golang.org/x/net/idna"
	"golang.org/x/net/publicsuffix"

	"posthorn/internal/dns"
)

// fromDomain returns the RFC5322.From domain (RFC 7489 §6.6.1). A message with several From
// fields, or one From field with addresses in different domains, is an error: RFC 5322 §3.6
// allows exactly one From field, and RFC 7489 §6.6.1 says such messages "are typically
// rejected".
func fromDomain(fields []headerField) (string, error) {
	froms := fieldsNamed(fields, "From")
	switch len(froms) {
	case 0:
		return "", errors.New("no From field")
	case 1:
	default:
		return "", errMultipleFrom
	}
	value := froms[0].value()
	var domains []string
	if list, err := mail.ParseAddressList(value); err == nil {
		for _, a := range list {
			if at := strings.LastIndexByte(a.Address, '@'); at >= 0 {
				domains = append(domains, a.Address[at+1:])
			}
		}
	} else if d := lenientFromDomain(value); d != "" {
		domains = append(domains, d)
	}
	if len(domains) == 0 {
		return "", errors.New("no domain in From")
	}
	d := asciiDomain(domains[0])
	for _, o := range domains[1:] {
		if asciiDomain(o) != d {
			return "", errMultipleFrom
		}
	}
	return d, nil
}

// asciiDomain returns a domain in lower case, without a trailing dot, with internationalized
// labels as A-labels (RFC 5891), which is how DNS and the public suffix list know them. A name
// that is not a valid IDN is returned lower-cased as it is.
func asciiDomain(d string) string {
	d = strings.ToLower(strings.TrimSuffix(d, "."))
	for i := 0; i < len(d); i++ {
		if d[i] >= 0x80 {
			if a, err := idna.Lookup.ToASCII(d); err == nil {
				return a
			}
			break
		}
	}
	return d
}

var errMultipleFrom = errors.New("multiple From addresses in different domains or multiple From fields")

// lenientFromDomain finds the domain of a From value that net/mail cannot parse: the address
// in the last <...>, or the last word with an @.
func lenientFromDomain(v string) string {
	if open := strings.LastIndexByte(v, '<'); open >= 0 {
		if end := strings.IndexByte(v[open:], '>'); end > 0 {
			v = v[open+1 : open+end]
		}
	}
	at := strings.LastIndexByte(v, '@')
	if at < 0 {
		return ""
	}
	d := strings.TrimRight(v[at+1:], " \t>)\"")
	if i := strings.IndexAny(d, " \t,;"); i >= 0 {
		d = d[:i]
	}
	return d
}

// orgDomain returns the organisational domain (RFC 7489 §3.2): the public suffix of the domain
// plus one label, from the public suffix list compiled into golang.org/x/net/publicsuffix.
func orgDomain(domain string) string {
	d := strings.ToLower(strings.TrimSuffix(domain, "."))
	org, err := publicsuffix.EffectiveTLDPlusOne(d)
	if err != nil {
		return d
	}
	return org
}

// aligned tells whether an authenticated domain is aligned with the From domain (RFC 7489
// §3.1): equal in strict mode, with the same organisational domain in relaxed mode.
func aligned(authDomain, from string, strict bool) bool {
	a := asciiDomain(authDomain)
	if a == "" {
		return false
	}
	if strict {
		return a == from
	}
	return orgDomain(a) == orgDomain(from)
}

// dmarcLookup is the outcome of policy discovery (RFC 7489 §6.6.3).
type dmarcLookup struct {
	record dmarcRecord
	domain string // where the record was found
	status Status // "" when a record was found, else none, temperror or permerror
	reason string
}

// lookupDMARC finds the policy record for the From domain, falling back to the organisational
// domain (RFC 7489 §6.6.3).
func (v *Verifier) lookupDMARC(ctx context.Context, from, org string) dmarcLookup {
	l := v.lookupDMARCAt(ctx, from)
	if l.status == StatusNone && org != from {
		l = v.lookupDMARCAt(ctx, org)
	}
	return l
}

func (v *Verifier) lookupDMARCAt(ctx context.Context, domain string) dmarcLookup {
	txts, err := v.Resolver.LookupTXT(ctx, "_dmarc."+domain)
	if err != nil && !dns.IsNotFound(err) {
		return dmarcLookup{domain: domain, status: StatusTempError, reason: "dns error looking up _dmarc." + domain}
	}
	var found []dmarcLookup
	for _, t := range txts {
		rec, err := parseDMARCRecord(t)
		if errors.Is(err, errNotDMARC) {
			continue
		}
		l := dmarcLookup{record: rec, domain: domain}
		if err != nil {
			l.status, l.reason = StatusPermError, err.Error()
		}
		found = append(found, l)
	}
	switch len(found) {
	case 0:
		return dmarcLookup{domain: domain, status: StatusNone, reason: "no DMARC record"}
	case 1:
		return found[0]
	default:
		// RFC 7489 §6.6.3: several records end policy discovery; no DMARC processing.
		return dmarcLookup{domain: domain, status: StatusNone, reason: "multiple DMARC records"}
	}
}

// evaluateDMARC combines the policy record with the SPF and DKIM results (RFC 7489 §6.6.2,
// §6.6.4, §6.6.5) and applies pct= sampling and sp=.
func (v *Verifier) evaluateDMARC(from, org string, l dmarcLookup, spf SPFResult, dkim []DKIMResult) DMARCResult {
	res := DMARCResult{FromDomain: from, OrgDomain: org, RecordDomain: l.domain, Policy: PolicyNone}
	if l.status != "" {
		res.Status, res.Reason = l.status, l.reason
		return res
	}
	rec := l.record
	res.Requested = rec.Policy
	if l.domain != from && rec.SubdomainPolicy != "" {
		res.Requested = rec.SubdomainPolicy // RFC 7489 §6.3 sp=, for subdomains of the record's domain.
	}
	temp := false
	if aligned(spf.Domain, from, rec.StrictSPF) {
		switch spf.Status {
		case StatusPass:
			res.SPFAligned = true
		case StatusTempError:
			temp = true
		}
	}
	for _, d := range dkim {
		if aligned(d.Domain, from, rec.StrictDKIM) {
			switch d.Status {
			case StatusPass:
				res.DKIMAligned = true
			case StatusTempError:
				temp = true
			}
		}
	}
	switch {
	case res.SPFAligned || res.DKIMAligned:
		res.Status = StatusPass
		return res
	case temp:
		// An aligned identifier could not be checked: the message may pass when retried.
		res.Status, res.Reason = StatusTempError, "aligned SPF or DKIM result is temperror"
		return res
	}
	res.Status = StatusFail
	res.Reason = "no aligned SPF or DKIM pass"
	res.Policy = res.Requested
	// RFC 7489 §6.6.4: a message not selected by pct= gets the next less strict policy.
	if rec.Percent < 100 && v.percent() >= rec.Percent {
		switch res.Policy {
		case PolicyReject:
			res.Policy = PolicyQuarantine
		case PolicyQuarantine:
			res.Policy = PolicyNone
		}
		res.Reason += ", not selected by pct="
	}
	return res
}
