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

// TestTLS12OffersOnlyAEADSuites: a TLS 1.2 client that offers only a CBC suite fails the
// handshake with a listener's configuration; one that offers an AEAD suite succeeds, and so does
// TLS 1.3.
func TestTLS12OffersOnlyAEADSuites(t *testing.T) {
	src, err := Load(config.TLS{}, "mx.example.org", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	l, err := tls.Listen("tcp", "127.0.0.1:0", src.Config)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				_ = c.(*tls.Conn).Handshake()
				c.Close()
			}()
		}
	}()
	handshake := func(version uint16, suite uint16) (tls.ConnectionState, error) {
		cfg := &tls.Config{InsecureSkipVerify: true, MinVersion: version, MaxVersion: version}
		if suite != 0 {
			cfg.CipherSuites = []uint16{suite}
		}
		c, err := tls.Dial("tcp", l.Addr().String(), cfg)
		if err != nil {
			return tls.ConnectionState{}, err
		}
		defer c.Close()
		return c.ConnectionState(), nil
	}
	for _, suite := range []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA, tls.TLS_ECDHE_ECDSA_WITH_AES_256_CBC_SHA,
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_CBC_SHA256} {
		if _, err := handshake(tls.VersionTLS12, suite); err == nil {
			t.Errorf("TLS 1.2 with %s only: handshake succeeded", tls.CipherSuiteName(suite))
		}
	}
	for _, suite := range []uint16{tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256} {
		if st, err := handshake(tls.VersionTLS12, suite); err != nil || st.CipherSuite != suite {
			t.Errorf("TLS 1.2 with %s: %v (suite %s)", tls.CipherSuiteName(suite), err, tls.CipherSuiteName(st.CipherSuite))
		}
	}
	if st, err := handshake(tls.VersionTLS13, 0); err != nil || st.Version != tls.VersionTLS13 {
		t.Errorf("TLS 1.3: %v", err)
	}
}

// TestHTTPSConfigOffersHTTP2AndTheACMEChallenge: the https listener's configuration offers
// HTTP/2 and HTTP/1.1 by ALPN, and with ACME the tls-alpn-01 protocol; the configuration the
// mail listeners share offers none, so a mail client's ALPN protocol is not refused.
func TestHTTPSConfigOffersHTTP2AndTheACMEChallenge(t *testing.T) {
	self, err := Load(config.TLS{}, "mx.example.org", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	acmeSrc, err := Load(config.TLS{ACMEEmail: "ops@example.org"}, "mx.example.org", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name string
		got  []string
		want string
	}{
		{"self-signed https", self.HTTPSConfig().NextProtos, "h2 http/1.1"},
		{"acme https", acmeSrc.HTTPSConfig().NextProtos, "h2 http/1.1 acme-tls/1"},
		{"self-signed shared", self.Config.NextProtos, ""},
		{"acme shared", acmeSrc.Config.NextProtos, ""},
	} {
		if strings.Join(tc.got, " ") != tc.want {
			t.Errorf("%s: NextProtos %q, want %q", tc.name, tc.got, tc.want)
		}
	}

	l, err := tls.Listen("tcp", "127.0.0.1:0", self.HTTPSConfig())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { l.Close() })
	go func() {
		for {
			c, err := l.Accept()
			if err != nil {
				return
			}
			go func() {
				_ = c.(*tls.Conn).Handshake()
				c.Close()
			}()
		}
	}()
	c, err := tls.Dial("tcp", l.Addr().String(), &tls.Config{InsecureSkipVerify: true, NextProtos: []string{"h2", "http/1.1"}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if p := c.ConnectionState().NegotiatedProtocol; p != "h2" {
		t.Errorf("negotiated %q, want h2", p)
	}
}
