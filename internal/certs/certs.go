// Package certs provides the TLS configuration of every listener, from one of three sources:
// certificate and key files given in the configuration (read at start; a missing or bad file is a
// start-up error), ACME through x/crypto/acme/autocert (certificates cached in DATA/acme, HTTP-01
// challenges answered by the http listener, which must then be reachable on port 80; certificates
// for the host name and for the mta-sts, autoconfig and autodiscover names of every local domain,
// see hostPolicy), or a
// self-signed certificate generated once for the host name and kept in DATA/tls (regenerated when
// the host name changes), so a trial server has STARTTLS from its first start.
//
// Every listener gets the same protocol policy (see serverConfig): TLS 1.2 or 1.3, and with TLS
// 1.2 only forward-secret AEAD cipher suites.
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
	// expiry is the NotAfter of each certificate served, by name (see ExpiryMetric).
	expiry *prometheus.GaugeVec
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
