package app

import (
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"io"
	"log/slog"
	"math/big"
	"net"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"posthorn/internal/admin"
	"posthorn/internal/config"
)

// testCertificate writes a certificate for names, and its key, into dir and returns the two
// paths and the pool that trusts it.
func testCertificate(t *testing.T, dir string, names ...string) (certFile, keyFile string, pool *x509.CertPool) {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber:          big.NewInt(1),
		Subject:               pkix.Name{CommonName: names[0]},
		DNSNames:              names,
		NotBefore:             time.Now().Add(-time.Hour),
		NotAfter:              time.Now().Add(24 * time.Hour),
		KeyUsage:              x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage:           []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth},
		BasicConstraintsValid: true,
		IsCA:                  true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	keyDER, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	certFile, keyFile = filepath.Join(dir, "cert.pem"), filepath.Join(dir, "key.pem")
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: keyDER}), 0o600); err != nil {
		t.Fatal(err)
	}
	leaf, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool = x509.NewCertPool()
	pool.AddCert(leaf)
	return certFile, keyFile, pool
}

// httpsClient is net/http's client trusting pool only, sending every request to addr whatever
// its URL's host (which stays the TLS server name and the Host header), over HTTP/2 when the
// server offers it, and following no redirect.
func httpsClient(pool *x509.CertPool, addr string) *http.Client {
	var d net.Dialer
	return &http.Client{
		Timeout: 30 * time.Second,
		Transport: &http.Transport{
			TLSClientConfig:   &tls.Config{RootCAs: pool, MinVersion: tls.VersionTLS12},
			ForceAttemptHTTP2: true,
			DialContext: func(ctx context.Context, network, _ string) (net.Conn, error) {
				return d.DialContext(ctx, network, addr)
			},
		},
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
	}
}

// startHTTPS starts a server with the http and https listeners, certificate files for the host
// name and the set-up names of example.org, the domain example.org and the account
// alice@example.org with password; metrics are for 192.0.2.0/24 only, so loopback gets 403.
func startHTTPS(t *testing.T, password string) (Listening, *http.Client) {
	t.Helper()
	cfg := config.Default()
	cfg.Hostname = "mx.test.example"
	cfg.DataDir = t.TempDir()
	var pool *x509.CertPool
	cfg.TLS.CertFile, cfg.TLS.KeyFile, pool = testCertificate(t, t.TempDir(),
		"mx.test.example", "mta-sts.example.org", "autoconfig.example.org", "autodiscover.example.org")
	cfg.Listen = config.Listen{HTTP: "127.0.0.1:0", HTTPS: "127.0.0.1:0"}
	cfg.HTTP.MetricsNetworks = []string{"192.0.2.0/24"}
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, listening, err := Start(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Shutdown(); err != nil {
			t.Error(err)
		}
	})
	ops := &admin.Admin{Store: s.data.Store, Credentials: s.data.Credentials, Blobs: s.data.Blobs}
	ctx := context.Background()
	if _, err := ops.AddDomain(ctx, "example.org"); err != nil {
		t.Fatal(err)
	}
	if _, err := ops.AddAccount(ctx, "alice@example.org", password); err != nil {
		t.Fatal(err)
	}
	if listening.HTTPS == "" {
		t.Fatal("listen.https: no address")
	}
	return listening, httpsClient(pool, listening.HTTPS)
}

// get fetches url with client and returns the response and its body.
func get(t *testing.T, client *http.Client, url string, cookies ...*http.Cookie) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range cookies {
		req.AddCookie(c)
	}
	resp, err := client.Do(req)
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	if err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return resp, string(body)
}

// TestHTTPSListener: a client trusting only the configured certificate reads /healthz over
// HTTP/2 with HSTS, the MTA-STS policy and the autoconfig file by their domain's names (SNI),
// and is refused /metrics as over plain HTTP; plain HTTP carries no HSTS.
func TestHTTPSListener(t *testing.T) {
	listening, client := startHTTPS(t, "correct horse battery staple 42")

	resp, body := get(t, client, "https://mx.test.example/healthz")
	if resp.StatusCode != http.StatusOK || body != "ok\n" {
		t.Fatalf("GET /healthz over https: %s %q", resp.Status, body)
	}
	if resp.Proto != "HTTP/2.0" {
		t.Errorf("GET /healthz over https: %s, want HTTP/2.0", resp.Proto)
	}
	if got := resp.Header.Get("Strict-Transport-Security"); got != "max-age=31536000" {
		t.Errorf("Strict-Transport-Security: %q", got)
	}
	if resp.TLS == nil || resp.TLS.PeerCertificates[0].VerifyHostname("mx.test.example") != nil {
		t.Errorf("TLS state: %+v", resp.TLS)
	}

	resp, body = get(t, client, "https://mta-sts.example.org/.well-known/mta-sts.txt")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "version: STSv1") || !strings.Contains(body, "mx: mx.test.example") {
		t.Fatalf("MTA-STS policy over https: %s\n%s", resp.Status, body)
	}
	if resp.TLS.ServerName != "mta-sts.example.org" {
		t.Errorf("MTA-STS policy fetched with server name %q", resp.TLS.ServerName)
	}
	resp, body = get(t, client, "https://autoconfig.example.org/mail/config-v1.1.xml")
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "<clientConfig") {
		t.Fatalf("autoconfig over https: %s\n%s", resp.Status, body)
	}

	if resp, _ := get(t, client, "https://mx.test.example/metrics"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET /metrics over https from loopback outside metrics_networks: %s", resp.Status)
	}
	resp, body = get(t, http.DefaultClient, "http://"+listening.HTTP+"/healthz")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Strict-Transport-Security") != "" {
		t.Errorf("GET /healthz over http: %s, Strict-Transport-Security %q", resp.Status, resp.Header.Get("Strict-Transport-Security"))
	}
	if resp, _ := get(t, http.DefaultClient, "http://"+listening.HTTP+"/metrics"); resp.StatusCode != http.StatusForbidden {
		t.Errorf("GET /metrics over http: %s", resp.Status)
	}

	// A client that does not trust the certificate gets no answer.
	if _, err := httpsClient(x509.NewCertPool(), listening.HTTPS).Get("https://mx.test.example/healthz"); err == nil {
		t.Error("a client without the certificate in its roots got an answer")
	}
}

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// cookieOf returns the cookie name that resp sets, checking that it is Secure and HttpOnly
// with the SameSite mode same.
func cookieOf(t *testing.T, resp *http.Response, name string, same http.SameSite) *http.Cookie {
	t.Helper()
	for _, c := range resp.Cookies() {
		if c.Name != name {
			continue
		}
		if !c.Secure || !c.HttpOnly || c.SameSite != same {
			t.Errorf("cookie %s: Secure %v, HttpOnly %v, SameSite %v (want %v); Set-Cookie: %q",
				name, c.Secure, c.HttpOnly, c.SameSite, same, resp.Header.Values("Set-Cookie"))
		}
		return c
	}
	t.Fatalf("no cookie %s in %q", name, resp.Header.Values("Set-Cookie"))
	return nil
}

// TestHTTPSWebUILogin: the web UI's login over https; its cookies are Secure, HttpOnly and
// SameSite, and the session they carry opens the account page.
func TestHTTPSWebUILogin(t *testing.T) {
	const password = "correct horse battery staple 42"
	_, client := startHTTPS(t, password)

	resp, body := get(t, client, "https://mx.test.example/login")
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("GET /login: %s", resp.Status)
	}
	login := cookieOf(t, resp, "posthorn_login", http.SameSiteStrictMode)
	m := csrfField.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no csrf field in the login page:\n%s", body)
	}
	form := url.Values{"address": {"alice@example.org"}, "password": {password}, "csrf": {m[1]}}
	req, err := http.NewRequest(http.MethodPost, "https://mx.test.example/login", strings.NewReader(form.Encode()))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(login)
	resp, err = client.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/account/" {
		t.Fatalf("POST /login: %s, Location %q", resp.Status, resp.Header.Get("Location"))
	}
	if resp.Header.Get("Strict-Transport-Security") == "" {
		t.Error("POST /login over https: no Strict-Transport-Security")
	}
	session := cookieOf(t, resp, "posthorn_session", http.SameSiteLaxMode)

	resp, body = get(t, client, "https://mx.test.example/account/", session)
	if resp.StatusCode != http.StatusOK || !strings.Contains(body, "alice@example.org") {
		t.Fatalf("GET /account/ with the session: %s\n%s", resp.Status, body)
	}
}
