package queue

import (
	"testing"

	"posthorn/internal/testutil/dnstest"
)

func TestNewTLSAResolverTrustsOnlyLoopback(t *testing.T) {
	if r := NewTLSAResolver("192.0.2.1:53"); r != nil {
		t.Error("a resolver across the network was trusted for DANE")
	}
	if r := NewTLSAResolver("127.0.0.1:53"); r == nil {
		t.Error("a loopback resolver was not used for DANE")
	}
}

// TestTLSAClientWithoutAD: a resolver that does not validate (no AD bit, as the test DNS
// server) gives records that are not authentic, which DANE must ignore.
func TestTLSAClientWithoutAD(t *testing.T) {
	srv := dnstest.Start(t, map[string][]string{
		"_25._tcp.mx.remote.example.": {"_25._tcp.mx.remote.example. 300 IN TLSA 3 1 1 " +
			"0000000000000000000000000000000000000000000000000000000000000000"},
	})
	c := NewTLSAResolver(srv.Addr)
	records, authentic, err := c.LookupTLSA(t.Context(), "mx.remote.example.", 25)
	if err != nil || authentic || records != nil {
		t.Errorf("LookupTLSA = %v, %v, %v; want nothing authentic", records, authentic, err)
	}
	if _, _, err := c.LookupTLSA(t.Context(), "missing.example", 25); err != nil {
		t.Errorf("NXDOMAIN: %v", err)
	}
}
