package certs

import (
	"context"
	"crypto/tls"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"posthorn/internal/config"
)

// localDomains is a store's set of local domains that a test changes while the policy runs.
type localDomains struct {
	mu    sync.Mutex
	names map[string]bool
	err   error
}

func (l *localDomains) add(name string) { l.mu.Lock(); l.names[name] = true; l.mu.Unlock() }

func (l *localDomains) lookup(_ context.Context, name string) (bool, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.names[name], l.err
}

func TestACMEHostPolicyCoversSetupNamesOfLocalDomains(t *testing.T) {
	src, err := Load(config.TLS{ACMEEmail: "ops@example.org"}, "MX.example.org", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	allow := src.policy.allow
	if err := allow(ctx, "mx.example.org"); err != nil {
		t.Fatalf("host name refused: %v", err)
	}
	if err := allow(ctx, "mta-sts.example.org"); err == nil {
		t.Fatal("set-up name accepted before the store is known")
	}

	domains := &localDomains{names: map[string]bool{"example.org": true, "bücher.example": true}}
	src.ServeDomains(domains.lookup)
	for _, host := range []string{"mx.example.org", "mx.example.org.", "mta-sts.example.org", "autoconfig.example.org",
		"Autodiscover.Example.Org", "mta-sts.xn--bcher-kva.example"} {
		if err := allow(ctx, host); err != nil {
			t.Errorf("%s refused: %v", host, err)
		}
	}
	for _, host := range []string{"example.org", "www.example.org", "mta-sts.other.example", "mta-sts.sub.example.org",
		"imap.example.org", "mta-sts", "mta-sts.", "x.mx.example.org"} {
		if err := allow(ctx, host); err == nil {
			t.Errorf("%s accepted", host)
		}
	}

	// A domain added while the server runs is covered at once.
	if err := allow(ctx, "mta-sts.new.example"); err == nil {
		t.Fatal("unknown domain accepted")
	}
	domains.add("new.example")
	if err := allow(ctx, "mta-sts.new.example"); err != nil {
		t.Fatalf("domain added later refused: %v", err)
	}

	// A store failure refuses, and says why.
	domains.err = errors.New("database is locked")
	if err := allow(ctx, "autoconfig.example.org"); err == nil || !strings.Contains(err.Error(), "database is locked") {
		t.Fatalf("store failure: %v", err)
	}

	// The manager asks the policy before it orders anything: a refused name fails the handshake
	// without reaching an ACME server.
	_, err = src.Config.GetCertificate(&tls.ClientHelloInfo{ServerName: "www.example.org"})
	if err == nil || !strings.Contains(err.Error(), "not served here") {
		t.Fatalf("handshake for a foreign name: %v", err)
	}
}

func TestServeDomainsIsHarmlessWithoutACME(t *testing.T) {
	src, err := Load(config.TLS{}, "mx.example.org", t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	src.ServeDomains(func(context.Context, string) (bool, error) { return true, nil })
}

func TestCoverage(t *testing.T) {
	dir := t.TempDir()
	data, err := generate("mx.example.org", "mta-sts.example.org", "*.example.net")
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(dir, "cert.pem")
	if err := os.WriteFile(path, data, 0o600); err != nil {
		t.Fatal(err)
	}
	names := []string{"mx.example.org", "mta-sts.example.org", "autoconfig.example.org", "autoconfig.example.net", "a.b.example.net"}
	got, err := Coverage(path, names)
	if err != nil {
		t.Fatal(err)
	}
	want := []bool{true, true, false, true, false}
	for i := range names {
		if got[i] != want[i] {
			t.Errorf("%s covered = %v, want %v", names[i], got[i], want[i])
		}
	}
	if _, err := Coverage(filepath.Join(dir, "missing.pem"), names); err == nil {
		t.Fatal("missing file accepted")
	}
}
