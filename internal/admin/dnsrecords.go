package admin

import (
	"context"
	"fmt"
	"net"
	"strings"

	"posthorn/internal/config"
	"posthorn/internal/mailauth"
	"posthorn/internal/wellknown"
)

// DNSSetup is what a domain's DNS records point at: the server's host name, its listeners
// (for the SRV records) and its MTA-STS policy (app.MTASTSPolicy).
type DNSSetup struct {
	Hostname string
	Listen   config.Listen
	Policy   wellknown.Policy
}

// recordTTL is the TTL of every record DNSRecords gives, in seconds.
const recordTTL = 3600

// DNSRecords returns every record a local domain needs for mail to and from it to work and to
// authenticate: MX, SPF, DKIM (generating its keys first if it has none, DomainKeys), DMARC,
// MTA-STS, TLS reporting, the SRV records of the client services (RFC 6186) and the
// autoconfiguration names.
func (a *Admin) DNSRecords(ctx context.Context, domain string, setup DNSSetup) ([]DNSRecord, error) {
	domain, err := ParseDomain("domain", domain)
	if err != nil {
		return nil, err
	}
	keys, err := a.DomainKeys(ctx, domain)
	if err != nil {
		return nil, err
	}
	host := setup.Hostname + "."
	d := domain + "."
	var records []DNSRecord
	purpose := ""
	rec := func(name, typ, value string) {
		records = append(records, DNSRecord{Name: name, Type: typ, TTL: recordTTL, Value: value, Purpose: purpose})
	}
	purpose = "Mail for the domain goes to this server."
	rec(d, "MX", "10 "+host)
	purpose = "SPF (RFC 7208): only the domain's MX host sends its mail."
	rec(d, "TXT", `"v=spf1 mx -all"`)
	for _, k := range keys {
		name, value, err := mailauth.DKIMRecord(k)
		if err != nil {
			return nil, err
		}
		rfc := "RFC 6376"
		if k.Algorithm == mailauth.DKIMAlgorithmEd25519 {
			rfc += ", RFC 8463"
		}
		purpose = fmt.Sprintf("DKIM (%s), selector %s.", rfc, k.Selector)
		rec(name+".", "TXT", txtStrings(value))
	}
	purpose = "DMARC (RFC 7489): unauthenticated mail claiming the domain goes to spam; aggregate reports to postmaster."
	rec("_dmarc."+d, "TXT", fmt.Sprintf(`"v=DMARC1; p=quarantine; rua=mailto:postmaster@%s"`, domain))
	purpose = fmt.Sprintf("MTA-STS (RFC 8461): senders fetch the policy from https://mta-sts.%s/.well-known/mta-sts.txt,\n"+
		"which this server %s as:\n  %s\n"+
		"The id changes whenever [mta_sts] or the host name does: publish the new record then.",
		domain, httpsServer(setup.Listen), strings.ReplaceAll(strings.TrimSpace(setup.Policy.Text), "\r\n", "\n  "))
	rec("_mta-sts."+d, "TXT", fmt.Sprintf(`"v=STSv1; id=%s"`, setup.Policy.ID))
	rec("mta-sts."+d, "CNAME", host)
	purpose = "TLS reporting (RFC 8460)."
	rec("_smtp._tls."+d, "TXT", fmt.Sprintf(`"v=TLSRPTv1; rua=mailto:postmaster@%s"`, domain))
	purpose = "Client configuration (RFC 6186, RFC 8314): port 0 and target \".\" mean the service is not offered."
	l := setup.Listen
	for _, s := range []struct{ service, listen string }{
		{"_submissions._tcp.", l.Submissions},
		{"_submission._tcp.", l.Submission},
		{"_imaps._tcp.", l.IMAPS},
		{"_imap._tcp.", l.IMAP},
		{"_pop3s._tcp.", l.POP3S},
		{"_pop3._tcp.", l.POP3},
	} {
		rec(s.service+d, "SRV", srvValue(s.listen, host))
	}
	purpose = "Autoconfiguration (Thunderbird autoconfig, Outlook autodiscover), which this server " + httpsServer(setup.Listen) + "."
	rec("autoconfig."+d, "CNAME", host)
	rec("autodiscover."+d, "CNAME", host)
	return records, nil
}

// httpsServer says how this server serves https to senders and clients, which connect to port
// 443: on listen.https, or, without it, through an https front before listen.http.
func httpsServer(l config.Listen) string {
	if l.HTTPS == "" {
		return "serves on listen.http, behind an https front on port 443 (a TLS-terminating proxy, or set listen.https)"
	}
	if _, port, err := net.SplitHostPort(l.HTTPS); err == nil && port != "443" {
		return "serves on listen.https (" + l.HTTPS + "; senders and clients connect to port 443, so forward it there)"
	}
	return "serves on listen.https (port 443)"
}

// srvValue is "priority weight port target" for a listener address, or the RFC 6186 §4 form
// of a service not offered.
func srvValue(listen, host string) string {
	_, port, err := net.SplitHostPort(listen)
	if listen == "" || err != nil {
		return "0 0 0 ."
	}
	return "0 1 " + port + " " + host
}

// txtStrings splits a TXT value into quoted strings of at most 255 octets (RFC 1035 §3.3),
// which a DKIM RSA key needs.
func txtStrings(v string) string {
	var parts []string
	for len(v) > 255 {
		parts = append(parts, `"`+v[:255]+`"`)
		v = v[255:]
	}
	parts = append(parts, `"`+v+`"`)
	return "( " + strings.Join(parts, "\n"+strings.Repeat(" ", 56)) + " )"
}
