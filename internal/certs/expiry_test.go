package certs

import (
	"crypto/tls"
	"errors"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"posthorn/internal/config"
)

func TestExpiryOfTheSelfSignedCertificate(t *testing.T) {
	src, err := Load(config.TLS{}, "mx.example.org", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	cert, err := src.Config.GetCertificate(&tls.ClientHelloInfo{})
	if err != nil {
		t.Fatal(err)
	}
	got := testutil.ToFloat64(src.expiry.WithLabelValues("mx.example.org"))
	if want := float64(cert.Leaf.NotAfter.Unix()); got != want {
		t.Fatalf("expiry %v, want %v", got, want)
	}
	if n := testutil.CollectAndCount(src.ExpiryMetric()); n != 1 {
		t.Fatalf("%d series, want 1", n)
	}
}

// TestExpiryFollowsServedCertificates: with ACME, each name is reported once a certificate was
// served for it, and a renewal replaces the value.
func TestExpiryFollowsServedCertificates(t *testing.T) {
	src := &Source{expiry: newExpiryGauge()}
	old, err := generate("mta-sts.example.org")
	if err != nil {
		t.Fatal(err)
	}
	oldCert, err := tls.X509KeyPair(old, old)
	if err != nil {
		t.Fatal(err)
	}
	serve := &oldCert
	get := src.observed(func(hello *tls.ClientHelloInfo) (*tls.Certificate, error) {
		if hello.ServerName == "refused.example" {
			return nil, errors.New("refused")
		}
		return serve, nil
	})
	if n := testutil.CollectAndCount(src.ExpiryMetric()); n != 0 {
		t.Fatalf("%d series before any handshake", n)
	}
	get(&tls.ClientHelloInfo{ServerName: "refused.example"})
	get(&tls.ClientHelloInfo{ServerName: "MTA-STS.example.org."})
	if got := testutil.ToFloat64(src.expiry.WithLabelValues("mta-sts.example.org")); got != float64(oldCert.Leaf.NotAfter.Unix()) {
		t.Fatalf("expiry %v, want %v", got, oldCert.Leaf.NotAfter.Unix())
	}

	renewed := oldCert
	leaf := *oldCert.Leaf
	leaf.NotAfter = leaf.NotAfter.AddDate(0, 3, 0)
	renewed.Leaf = &leaf
	serve = &renewed
	get(&tls.ClientHelloInfo{ServerName: "mta-sts.example.org"})
	if got := testutil.ToFloat64(src.expiry.WithLabelValues("mta-sts.example.org")); got != float64(leaf.NotAfter.Unix()) {
		t.Fatalf("after renewal %v, want %v", got, leaf.NotAfter.Unix())
	}
	if n := testutil.CollectAndCount(src.ExpiryMetric()); n != 1 {
		t.Fatalf("%d series, want 1 (the refused name is not reported)", n)
	}
}
