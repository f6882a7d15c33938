package cli

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"math/big"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"posthorn/internal/config"
)

// certFile writes a PEM certificate for names and returns its path.
func certFile(t *testing.T, names ...string) string {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: names[0]}, DNSNames: names,
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cert.pem")
	if err := os.WriteFile(path, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// nameLine matches one listed name and what the advice says of it.
var nameLine = regexp.MustCompile(`(?m)^;   (\S+) *(.*)$`)

func certificateAdvice(cfg config.Config, domain string) map[string]string {
	var b strings.Builder
	writeCertificateAdvice(&b, cfg, domain)
	out := map[string]string{"": b.String()}
	for _, m := range nameLine.FindAllStringSubmatch(b.String(), -1) {
		out[m[1]] = m[2]
	}
	return out
}

func TestDomainDNSCertificateAdvice(t *testing.T) {
	names := []string{"mx.example.org", "mta-sts.example.org", "autoconfig.example.org", "autodiscover.example.org"}

	withFile := config.Config{Hostname: "mx.example.org",
		TLS: config.TLS{CertFile: certFile(t, "mx.example.org", "mta-sts.example.org"), KeyFile: "key.pem"}}
	got := certificateAdvice(withFile, "example.org")
	want := map[string]string{"mx.example.org": "covered", "mta-sts.example.org": "covered",
		"autoconfig.example.org": "NOT COVERED", "autodiscover.example.org": "NOT COVERED"}
	for _, n := range names {
		if got[n] != want[n] {
			t.Errorf("cert file: %s: %q, want %q\n%s", n, got[n], want[n], got[""])
		}
	}
	if !strings.Contains(got[""], "Add the names not covered") {
		t.Errorf("no advice for the names not covered:\n%s", got[""])
	}

	wildcard := config.Config{Hostname: "mx.example.org",
		TLS: config.TLS{CertFile: certFile(t, "mx.example.org", "*.example.org"), KeyFile: "key.pem"}}
	got = certificateAdvice(wildcard, "example.org")
	for _, n := range names {
		if got[n] != "covered" {
			t.Errorf("wildcard: %s: %q\n%s", n, got[n], got[""])
		}
	}
	if strings.Contains(got[""], "Add the names") {
		t.Errorf("advice although every name is covered:\n%s", got[""])
	}

	acme := certificateAdvice(config.Config{Hostname: "mx.example.org", TLS: config.TLS{ACMEEmail: "ops@example.org"}}, "example.org")
	for _, n := range names {
		if acme[n] != "ACME" {
			t.Errorf("acme: %s: %q\n%s", n, acme[n], acme[""])
		}
	}
	if !strings.Contains(acme[""], "listen.https is reachable on port 443 (tls-alpn-01)") {
		t.Errorf("acme advice does not name the tls-alpn-01 challenge on listen.https:\n%s", acme[""])
	}

	selfSigned := certificateAdvice(config.Config{Hostname: "mx.example.org"}, "example.org")
	for _, n := range names {
		if _, ok := selfSigned[n]; !ok {
			t.Errorf("self-signed: %s not listed\n%s", n, selfSigned[""])
		}
	}
	if !strings.Contains(selfSigned[""], "self-signed") || !strings.Contains(selfSigned[""], "tls.acme_email") {
		t.Errorf("self-signed advice:\n%s", selfSigned[""])
	}
}
