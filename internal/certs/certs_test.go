package certs

import (
	"crypto/tls"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"posthorn/internal/config"
)

func TestSelfSignedIsGeneratedOnceAndRenewedForANewHostname(t *testing.T) {
	dir := t.TempDir()
	first, err := Load(config.TLS{}, "mx.example.org", dir)
	if err != nil {
		t.Fatal(err)
	}
	c1, err := first.Config.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil || c1.Leaf.DNSNames[0] != "mx.example.org" {
		t.Fatalf("certificate %v, %v", c1.Leaf.DNSNames, err)
	}
	again, _ := Load(config.TLS{}, "mx.example.org", dir)
	c2, _ := again.Config.GetCertificate(&tls.ClientHelloInfo{})
	if c1.Leaf.SerialNumber.Cmp(c2.Leaf.SerialNumber) != 0 {
		t.Fatal("a second start generated a new certificate")
	}
	other, _ := Load(config.TLS{}, "mail.example.net", dir)
	c3, _ := other.Config.GetCertificate(&tls.ClientHelloInfo{})
	if c3.Leaf.DNSNames[0] != "mail.example.net" {
		t.Fatalf("hostname change kept %v", c3.Leaf.DNSNames)
	}
}

func TestConfiguredFiles(t *testing.T) {
	dir := t.TempDir()
	pem, err := generate("files.example.org")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "both.pem")
	if err := os.WriteFile(path, pem, 0o600); err != nil {
		t.Fatal(err)
	}
	src, err := Load(config.TLS{CertFile: path, KeyFile: path}, "ignored.example", dir)
	if err != nil {
		t.Fatal(err)
	}
	c, _ := src.Config.GetCertificate(&tls.ClientHelloInfo{})
	if c.Leaf.DNSNames[0] != "files.example.org" {
		t.Fatalf("got %v", c.Leaf.DNSNames)
	}
	bad := filepath.Join(dir, "bad.pem")
	os.WriteFile(bad, []byte("not pem"), 0o600)
	if _, err := Load(config.TLS{CertFile: bad, KeyFile: bad}, "x.example", dir); err == nil || !strings.Contains(err.Error(), "tls.cert_file") {
		t.Fatalf("bad file: %v", err)
	}
}
