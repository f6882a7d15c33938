package cli

import (
	"fmt"
	"io"
	"net"
	"strings"

	"github.com/spf13/cobra"

	"posthorn/internal/admin"
	"posthorn/internal/app"
	"posthorn/internal/config"
	"posthorn/internal/dns"
	"posthorn/internal/mailauth"
	"posthorn/internal/store"
)

// domainDNSCmd: "domain dns NAME" prints, in zone-file syntax, every record a domain needs for
// mail to and from it to work and to authenticate, and which names need a certificate; with
// --check it looks each record up instead (admin.CheckDNS) and fails while one is not published.
func (e *env) domainDNSCmd() *cobra.Command {
	var check bool
	cmd := &cobra.Command{
		Use:   "dns NAME",
		Short: "Print the DNS records to publish for a domain (MX, SPF, DKIM, DMARC, MTA-STS, TLS-RPT, SRV)",
		Args:  exactArgs(1, "one domain name"),
		RunE: func(cmd *cobra.Command, args []string) error {
			name, err := admin.ParseDomain("domain", args[0])
			if err != nil {
				return err
			}
			cfg, err := e.config()
			if err != nil {
				return err
			}
			return e.withAdmin(cmd.Context(), func(a *admin.Admin) error {
				keys, err := a.DomainKeys(cmd.Context(), name)
				if err != nil {
					return err
				}
				if !check {
					_, err := writeDNSRecords(e.stdout, cfg, name, keys)
					return err
				}
				records, err := writeDNSRecords(io.Discard, cfg, name, keys)
				if err != nil {
					return err
				}
				a.Resolver = dns.New(cfg.DNS.Resolver)
				return writeDNSCheck(cmd.Context(), e.stdout, a, records)
			})
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "look each record up through the server's resolver and say whether it is published")
	return cmd
}

// writeDNSRecords writes the records of domain served by cfg.Hostname, and returns them.
func writeDNSRecords(w io.Writer, cfg config.Config, domain string, keys []store.DKIMKey) ([]admin.DNSRecord, error) {
	host := cfg.Hostname + "."
	d := domain + "."
	var b strings.Builder
	var records []admin.DNSRecord
	rec := func(name, typ, value string) {
		records = append(records, admin.DNSRecord{Name: name, Type: typ, Value: value})
		fmt.Fprintf(&b, "%-40s 3600 IN %-5s %s\n", name, typ, value)
	}
	comment := func(text string) { fmt.Fprintf(&b, "\n; %s\n", text) }

	fmt.Fprintf(&b, "; DNS records for %s, served by %s. Paste into the zone of %s.\n", domain, cfg.Hostname, domain)
	comment("Mail for the domain goes to this server.")
	rec(d, "MX", "10 "+host)
	comment("SPF (RFC 7208): only the domain's MX host sends its mail.")
	rec(d, "TXT", `"v=spf1 mx -all"`)
	for _, k := range keys {
		name, value, err := mailauth.DKIMRecord(k)
		if err != nil {
			return nil, err
		}
		comment(fmt.Sprintf("DKIM (RFC 6376%s), selector %s.", map[bool]string{true: ", RFC 8463"}[k.Algorithm == mailauth.DKIMAlgorithmEd25519], k.Selector))
		rec(name+".", "TXT", txtStrings(value))
	}
	comment("DMARC (RFC 7489): unauthenticated mail claiming the domain goes to spam; aggregate reports to postmaster.")
	rec("_dmarc."+d, "TXT", fmt.Sprintf(`"v=DMARC1; p=quarantine; rua=mailto:postmaster@%s"`, domain))
	policy := app.MTASTSPolicy(cfg)
	comment(fmt.Sprintf("MTA-STS (RFC 8461): senders fetch the policy from https://mta-sts.%s/.well-known/mta-sts.txt,\n"+
		"; which this server's http listener serves (behind https) as:\n;   %s\n"+
		"; The id changes whenever [mta_sts] or the host name does: publish the new record then.",
		domain, strings.ReplaceAll(strings.TrimSpace(policy.Text), "\r\n", "\n;   ")))
	rec("_mta-sts."+d, "TXT", fmt.Sprintf(`"v=STSv1; id=%s"`, policy.ID))
	rec("mta-sts."+d, "CNAME", host)
	comment("TLS reporting (RFC 8460).")
	rec("_smtp._tls."+d, "TXT", fmt.Sprintf(`"v=TLSRPTv1; rua=mailto:postmaster@%s"`, domain))
	comment("Client configuration (RFC 6186, RFC 8314): port 0 and target \".\" mean the service is not offered.")
	for _, s := range []struct{ service, listen string }{
		{"_submissions._tcp.", cfg.Listen.Submissions},
		{"_submission._tcp.", cfg.Listen.Submission},
		{"_imaps._tcp.", cfg.Listen.IMAPS},
		{"_imap._tcp.", cfg.Listen.IMAP},
		{"_pop3s._tcp.", cfg.Listen.POP3S},
		{"_pop3._tcp.", cfg.Listen.POP3},
	} {
		rec(s.service+d, "SRV", srvValue(s.listen, host))
	}
	comment("Autoconfiguration (Thunderbird autoconfig, Outlook autodiscover), served by the http listener (behind https).")
	rec("autoconfig."+d, "CNAME", host)
	rec("autodiscover."+d, "CNAME", host)
	writeCertificateAdvice(&b, cfg, domain)
	_, err := io.WriteString(w, b.String())
	return records, err
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
