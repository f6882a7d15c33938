package test

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"fmt"
	"math/big"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestHTTPSWithCurl: the running server's https listener, with certificate files for the host
// name and mta-sts.example.org, serves the MTA-STS policy to curl by that name (SNI), over
// HTTP/2 with Strict-Transport-Security, with the certificate verified against it.
func TestHTTPSWithCurl(t *testing.T) {
	curl := requireTool(t, "curl")
	dir := t.TempDir()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(7), Subject: pkix.Name{CommonName: "mx.test.example"},
		DNSNames:  []string{"mx.test.example", "mta-sts.example.org"},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(24 * time.Hour),
		KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign, ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true, IsCA: true}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile := filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}

	https := freePort(t)
	// The first line of extra is still in [listen].
	s := NewServer(t, fmt.Sprintf("https = %q\n[tls]\ncert_file = %q\nkey_file = %q\n", https, certFile, keyFile))
	s.HTTPS = https
	s.MustCLI("", "domain", "add", "example.org")
	if out := s.MustCLI("", "domain", "dns", "example.org"); !strings.Contains(out, "serves on listen.https") ||
		!regexp.MustCompile(`mta-sts\.example\.org +covered`).MatchString(out) {
		t.Errorf("domain dns does not say the policy is on listen.https, or the certificate's coverage:\n%s", out)
	}
	s.Start()

	port := portOf(t, s.HTTPS)
	out, err := exec.Command(curl, "-sS", "--max-time", "20", "--http2", "--cacert", certFile,
		"--resolve", "mta-sts.example.org:"+port+":127.0.0.1", "-D", "-",
		"https://mta-sts.example.org:"+port+"/.well-known/mta-sts.txt").CombinedOutput()
	text := strings.ToLower(string(out))
	if err != nil || !strings.HasPrefix(text, "http/2 200") || !strings.Contains(text, "strict-transport-security: max-age=31536000") ||
		!strings.Contains(text, "version: stsv1") || !strings.Contains(text, "mx: mx.test.example") {
		t.Fatalf("curl the MTA-STS policy over https (%v):\n%s", err, out)
	}
}
