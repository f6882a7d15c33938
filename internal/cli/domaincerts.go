package cli

import (
	"fmt"
	"strings"

	"posthorn/internal/certs"
	"posthorn/internal/config"
)

// writeCertificateAdvice says which host names the records above point at this server's https
// and what provides their certificates: ACME obtains them itself; with certificate files, each
// name is checked against the certificate's names; with the self-signed fallback, none is
// trusted. RFC 8461 §3.3: a sender must not use an MTA-STS policy fetched over https whose
// certificate is not valid for mta-sts.DOMAIN.
func writeCertificateAdvice(b *strings.Builder, cfg config.Config, domain string) {
	names := append([]string{cfg.Hostname}, certs.SetupNames(domain)...)
	width := 0
	for _, n := range names {
		width = max(width, len(n))
	}
	list := func(note func(i int) string) {
		for i, n := range names {
			b.WriteString(strings.TrimRight(fmt.Sprintf(";   %-*s  %s", width, n, note(i)), " ") + "\n")
		}
	}
	b.WriteString("\n; Certificates: https on these names needs a certificate valid for each (MTA-STS, RFC 8461 §3.3, requires it).\n")
	switch {
	case cfg.TLS.ACMEEmail != "":
		b.WriteString("; ACME (tls.acme_email) obtains each at the first TLS handshake that asks for it, once the names\n" +
			"; above resolve to this server and listen.https is reachable on port 443 (tls-alpn-01) or\n" +
			"; listen.http on port 80 (http-01):\n")
		list(func(int) string { return "ACME" })
	case cfg.TLS.CertFile != "":
		covered, err := certs.Coverage(cfg.TLS.CertFile, names)
		if err != nil {
			fmt.Fprintf(b, "; tls.cert_file could not be checked: %v\n", err)
			return
		}
		fmt.Fprintf(b, "; Checked against tls.cert_file (%s):\n", cfg.TLS.CertFile)
		missing := false
		list(func(i int) string {
			if covered[i] {
				return "covered"
			}
			missing = true
			return "NOT COVERED"
		})
		if missing {
			b.WriteString("; Add the names not covered to the certificate (or use a wildcard), or set tls.acme_email\n" +
				"; instead of tls.cert_file to have them obtained automatically.\n")
		}
	default:
		fmt.Fprintf(b, "; None is configured: the server uses a self-signed certificate for %s, which senders and\n"+
			"; clients do not trust. Set tls.cert_file and tls.key_file to a certificate for all of\n", cfg.Hostname)
		list(func(int) string { return "" })
		b.WriteString("; or set tls.acme_email to obtain them automatically (Let's Encrypt, through listen.https on\n" +
			"; port 443 or listen.http on port 80).\n")
	}
}
