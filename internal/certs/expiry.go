package certs

import (
	"crypto/tls"
	"crypto/x509"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"golang.org/x/crypto/acme"
)

// newExpiryGauge is posthorn_tls_certificate_expiry_timestamp_seconds. A certificate from files
// or the self-signed one is reported at start under the server's host name; with ACME, each name
// is reported from its first handshake on and follows every renewal, since autocert hands out
// the renewed certificate from then on.
func newExpiryGauge() *prometheus.GaugeVec {
	return prometheus.NewGaugeVec(prometheus.GaugeOpts{
		Name: "posthorn_tls_certificate_expiry_timestamp_seconds",
		Help: "When the certificate served for a host name expires (its NotAfter), as a Unix time in seconds; " +
			"name is the server's host name, or with ACME each name a certificate was obtained for.",
	}, []string{"name"})
}

// ExpiryMetric is the certificate expiry gauge, for the server's registry.
func (s *Source) ExpiryMetric() prometheus.Collector { return s.expiry }

// static serves cert for every handshake and reports its expiry under hostname.
func (s *Source) static(hostname string, cert *tls.Certificate) func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	s.observe(hostname, cert)
	return func(*tls.ClientHelloInfo) (*tls.Certificate, error) { return cert, nil }
}

// observed wraps get so that the expiry of each certificate it returns is reported under the
// name the client asked for.
func (s *Source) observed(get func(*tls.ClientHelloInfo) (*tls.Certificate, error)) func(*tls.ClientHelloInfo) (*tls.Certificate, error) {
	return func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		cert, err := get(hello)
		// A tls-alpn-01 challenge's handshake (RFC 8737 §3: acme-tls/1 its only protocol)
		// gets the challenge's short-lived certificate, which is served to no one else.
		if err == nil && !slices.Equal(hello.SupportedProtos, []string{acme.ALPNProto}) {
			s.observe(strings.ToLower(strings.TrimSuffix(hello.ServerName, ".")), cert)
		}
		return cert, err
	}
}

func (s *Source) observe(name string, cert *tls.Certificate) {
	leaf := cert.Leaf
	if leaf == nil && len(cert.Certificate) > 0 {
		var err error
		if leaf, err = x509.ParseCertificate(cert.Certificate[0]); err != nil {
			return
		}
	}
	if leaf == nil || name == "" {
		return
	}
	s.expiry.WithLabelValues(name).Set(float64(leaf.NotAfter.Unix()))
}
