package cli

import (
	"fmt"
	"io"
	"strings"

	"github.com/spf13/cobra"

	"posthorn/internal/admin"
	"posthorn/internal/app"
	"posthorn/internal/config"
	"posthorn/internal/dns"
)

// domainDNSCmd: "domain dns NAME" prints, in zone-file syntax, every record a domain needs for
// mail to and from it to work and to authenticate (admin.DNSRecords), and which names need a
// certificate; with --check it looks each record up instead (admin.CheckDNS) and fails while
// one is not published.
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
				records, err := a.DNSRecords(cmd.Context(), name, app.DNSSetup(cfg))
				if err != nil {
					return err
				}
				if !check {
					return writeDNSRecords(e.stdout, cfg, name, records)
				}
				a.Resolver = dns.New(cfg.DNS.Resolver)
				return writeDNSCheck(cmd.Context(), e.stdout, a, records)
			})
		},
	}
	cmd.Flags().BoolVar(&check, "check", false, "look each record up through the server's resolver and say whether it is published")
	return cmd
}

// writeDNSRecords writes the records of domain served by cfg.Hostname as a zone file, each
// group of records after a comment saying what it is for, then the certificate advice.
func writeDNSRecords(w io.Writer, cfg config.Config, domain string, records []admin.DNSRecord) error {
	var b strings.Builder
	fmt.Fprintf(&b, "; DNS records for %s, served by %s. Paste into the zone of %s.\n", domain, cfg.Hostname, domain)
	purpose := ""
	for _, r := range records {
		if r.Purpose != purpose {
			purpose = r.Purpose
			fmt.Fprintf(&b, "\n; %s\n", strings.ReplaceAll(purpose, "\n", "\n; "))
		}
		fmt.Fprintf(&b, "%-40s %d IN %-5s %s\n", r.Name, r.TTL, r.Type, r.Value)
	}
	writeCertificateAdvice(&b, cfg, domain)
	_, err := io.WriteString(w, b.String())
	return err
}
