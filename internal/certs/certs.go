// Package certs provides the TLS configuration of every listener, from one of three sources:
// certificate and key files given in the configuration (read at start; a missing or bad file is a
// start-up error), ACME through x/crypto/acme/autocert (certificates cached in DATA/acme;
// certificates for the host name and for the mta-sts, autoconfig and autodiscover names of every
// local domain, see hostPolicy), or a
// self-signed certificate generated once for the host name and kept in DATA/tls (regenerated when
// the host name changes), so a trial server has STARTTLS from its first start.
//
// ACME proves control of a name with one of two challenges, which autocert tries in this order
// (RFC 8737, RFC 8555 §8.3): tls-alpn-01, answered in the TLS handshake of the https listener
// (HTTPSConfig advertises the acme-tls/1 protocol; the CA connects to port 443), and http-01,
// answered by the http listener (ACMEHandler; the CA connects to port 80). With listen.https on
// port 443 the first succeeds; with only listen.http on port 80 autocert falls back to the
// second.
//
// Every listener gets the same protocol policy (see serverConfig): TLS 1.2 or 1.3, and with TLS
// 1.2 only forward-secret AEAD cipher suites. Config has no ALPN protocols, so a mail client
// that offers one (RFC 7301) is not refused; HTTPSConfig is Config with those of https.
package certs

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"io/fs"
	"math/big"
	"net/http"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/acme"
	"golang.org/x/crypto/acme/autocert"

	"posthorn/internal/config"
)

// Source is a TLS configuration and, with ACME, the handler for HTTP-01 challenges.
type Source struct {
	Config *tls.Config
	// ACMEHandler wraps the http listener's handler when ACME is on; nil otherwise.
	ACMEHandler func(http.Handler) http.Handler
	// policy decides the names ACME obtains certificates for; nil without ACME.
	policy *hostPolicy
	acme   bool // certificates from ACME
	// expiry is the NotAfter of each certificate served, by name (see ExpiryMetric).
	expiry *prometheus.GaugeVec
}

// HTTPSConfig is Config for the https listener: ALPN (RFC 7301) offers HTTP/2 (RFC 9113 §3.2)
// and HTTP/1.1, and with ACME the acme-tls/1 protocol of the tls-alpn-01 challenge (RFC 8737
// §6), whose handshake autocert answers with the challenge's certificate.
func (s *Source) HTTPSConfig() *tls.Config {
	c := s.Config.Clone()
	c.NextProtos = []string{"h2", "http/1.1"}
	if s.acme {
		c.NextProtos = append(c.NextProtos, acme.ALPNProto)
	}
	return c
}

// Load builds the TLS configuration for hostname from cfg.
func Load(cfg config.TLS, hostname, dataDir string) (*Source, error) {
	src := &Source{expiry: newExpiryGauge()}
	switch {
	case cfg.CertFile != "":
		cert, err := tls.LoadX509KeyPair(cfg.CertFile, cfg.KeyFile)
		if err != nil {
			return nil, fmt.Errorf("load tls.cert_file/tls.key_file: %w", err)
		}
		src.Config = serverConfig(src.static(hostname, &cert))
	case cfg.ACMEEmail != "":
		src.policy = &hostPolicy{hostname: strings.ToLower(hostname)}
		m := &autocert.Manager{
			Prompt:     autocert.AcceptTOS,
			Cache:      autocert.DirCache(filepath.Join(dataDir, "acme")),
			HostPolicy: src.policy.allow,
			Email:      cfg.ACMEEmail,
		}
		src.Config = serverConfig(src.observed(m.GetCertificate))
		src.ACMEHandler = m.HTTPHandler
		src.acme = true
	default:
		cert, err := selfSigned(hostname, filepath.Join(dataDir, "tls"))
		if err != nil {
			return nil, err
		}
		src.Config = serverConfig(src.static(hostname, cert))
	}
	return src, nil
}

// serverConfig is the configuration every listener shares: TLS 1.2 or later, and for TLS 1.2
// only the ECDHE suites with an AEAD cipher (AES-GCM, ChaCha20-Poly1305), as RFC 9325 §4.2
// recommends: the CBC suites with SHA-1 MACs that Go would otherwise offer are left out. TLS 1.3
// suites are not configurable in Go, and are all AEAD.
func serverConfig(get func(*tls.ClientHelloInfo) (*tls.Certificate, error)) *tls.Config {
	return &tls.Config{GetCertificate: get, MinVersion: tls.VersionTLS12, CipherSuites: []uint16{
		// For ECDSA and RSA certificates alike.
		tls.TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
		tls.TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
		tls.TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
	}}
}

// selfSigned loads DIR/selfsigned.pem, or creates it when absent or made for another host name.
func selfSigned(hostname, dir string) (*tls.Certificate, error) {
	path := filepath.Join(dir, "selfsigned.pem")
	data, err := os.ReadFile(path)
	if err == nil {
		cert, err := tls.X509KeyPair(data, data)
		if err == nil && slices.Contains(cert.Leaf.DNSNames, hostname) && time.Now().Before(cert.Leaf.NotAfter) {
			return &cert, nil
		}
	} else if !errors.Is(err, fs.ErrNotExist) {
		return nil, fmt.Errorf("read self-signed certificate: %w", err)
	}
	data, err = generate(hostname)
	if err != nil {
		return nil, err
	}
	if err := writeFileAtomic(path, data); err != nil {
		return nil, fmt.Errorf("write self-signed certificate: %w", err)
	}
	cert, err := tls.X509KeyPair(data, data)
	if err != nil {
		return nil, err
	}
	return &cert, nil
}

// generate makes a P-256 certificate and key for hostname (and any further names), valid for ten
// years, as one PEM file.
func generate(hostname string, more ...string) ([]byte, error) {
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, err
	}
	serial, err := rand.Int(rand.Reader, new(big.Int).Lsh(big.NewInt(1), 120))
	if err != nil {
		return nil, err
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial,
		Subject:      pkix.Name{CommonName: hostname, Organization: []string{"posthorn self-signed"}},
		DNSNames:     append([]string{hostname}, more...),
		NotBefore:    time.Now().Add(-time.Hour),
		NotAfter:     time.Now().AddDate(10, 0, 0),
		KeyUsage:     x509.KeyUsageDigitalSignature,
		ExtKeyUsage:  []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		return nil, fmt.Errorf("create certificate: %w", err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		return nil, err
	}
	out := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})
	return append(out, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER})...), nil
}

// writeFileAtomic writes a private file through a temporary file, fsync and rename.
func writeFileAtomic(path string, data []byte) error {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o700); err != nil {
		return err
	}
	tmp, err := os.CreateTemp(dir, ".tmp-*")
	if err != nil {
		return err
	}
	defer os.Remove(tmp.Name())
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return err
	}
	if err := tmp.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp.Name(), path); err != nil {
		return err
	}
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	return d.Sync()
}
