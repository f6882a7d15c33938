package web

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mjl-/mox/mtasts"
	"github.com/prometheus/client_golang/prometheus"

	"posthorn/internal/store"
	"posthorn/internal/wellknown"
)

// domains is a set of local domains; a name "broken.example" fails as a store would.
type domains map[string]bool

func (d domains) GetDomain(_ context.Context, name string) (store.Domain, error) {
	if name == "broken.example" {
		return store.Domain{}, errors.New("database is locked")
	}
	if d[name] {
		return store.Domain{Name: name}, nil
	}
	return store.Domain{}, store.ErrNotFound
}

func setupHandlerForTest() http.Handler {
	setup := Setup{
		Services: wellknown.Services{Hostname: "mail.example.org", IMAPS: wellknown.ServiceOf(":993", true),
			Submissions: wellknown.ServiceOf(":465", true), Submission: wellknown.ServiceOf(":587", false)},
		Policy: wellknown.MTASTSPolicy(wellknown.ModeEnforce, []string{"mail.example.org"}, 7*24*time.Hour),
	}
	return Handler(prometheus.NewRegistry(), Health{Store: pinger{}}, loopback, slog.New(slog.DiscardHandler),
		SetupRoutes(domains{"example.org": true}, setup, slog.New(slog.DiscardHandler)))
}

func do(t *testing.T, h http.Handler, method, host, path, body string) (int, http.Header, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	req := httptest.NewRequest(method, path, strings.NewReader(body))
	req.Host = host
	req.RemoteAddr = "192.0.2.9:5000"
	h.ServeHTTP(rec, req)
	out, _ := io.ReadAll(rec.Body)
	return rec.Code, rec.Header(), string(out)
}

// TestMTASTSServed: the policy is served on mta-sts.DOMAIN of a local domain, whatever the
// case of the name or the port, parses with mox's parser, and nowhere else.
func TestMTASTSServed(t *testing.T) {
	h := setupHandlerForTest()
	code, hdr, body := do(t, h, "GET", "MTA-STS.Example.org:443", "/.well-known/mta-sts.txt", "")
	if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "text/plain") {
		t.Fatalf("policy = %d %q %q", code, hdr.Get("Content-Type"), body)
	}
	p, err := mtasts.ParsePolicy(body)
	if err != nil || p.Mode != mtasts.ModeEnforce || len(p.MX) != 1 || p.MX[0].Domain.Name() != "mail.example.org" {
		t.Errorf("policy %+v, %v", p, err)
	}
	for _, host := range []string{"mta-sts.other.example", "example.org", "mta-sts.", "mta-sts.bad_domain"} {
		if code, _, _ := do(t, h, "GET", host, "/.well-known/mta-sts.txt", ""); code != 404 {
			t.Errorf("host %q: %d, want 404", host, code)
		}
	}
	if code, _, _ := do(t, h, "GET", "mta-sts.broken.example", "/.well-known/mta-sts.txt", ""); code != 503 {
		t.Errorf("store failure: %d, want 503", code)
	}
}

func TestAutoconfigServed(t *testing.T) {
	h := setupHandlerForTest()
	for _, c := range []struct{ host, path string }{
		{"autoconfig.example.org", "/mail/config-v1.1.xml"},
		{"autoconfig.example.org", "/mail/config-v1.1.xml?emailaddress=ann%40example.org"},
		{"example.org", "/.well-known/autoconfig/mail/config-v1.1.xml"},
		{"mail.example.org", "/.well-known/autoconfig/mail/config-v1.1.xml?emailaddress=Ann@Example.ORG"},
	} {
		code, hdr, body := do(t, h, "GET", c.host, c.path, "")
		if code != 200 || !strings.HasPrefix(hdr.Get("Content-Type"), "application/xml") ||
			!strings.Contains(body, `<emailProvider id="example.org">`) || !strings.Contains(body, "<port>993</port>") {
			t.Errorf("%s%s = %d %q\n%s", c.host, c.path, code, hdr.Get("Content-Type"), body)
		}
	}
	for _, c := range []struct {
		host, path string
		want       int
	}{
		{"autoconfig.other.example", "/mail/config-v1.1.xml", 404},
		{"autoconfig.example.org", "/mail/config-v1.1.xml?emailaddress=x@other.example", 404},
		{"autoconfig.example.org", "/mail/config-v1.1.xml?emailaddress=%3Cscript%3E", 400},
	} {
		if code, _, body := do(t, h, "GET", c.host, c.path, ""); code != c.want || strings.Contains(body, "<script>") {
			t.Errorf("%s%s = %d %q, want %d", c.host, c.path, code, body, c.want)
		}
	}
}

func TestAutodiscoverServed(t *testing.T) {
	h := setupHandlerForTest()
	req := func(addr string) string {
		return `<?xml version="1.0" encoding="utf-8"?><Autodiscover xmlns="http://schemas.microsoft.com/exchange/autodiscover/outlook/requestschema/2006">` +
			`<Request><EMailAddress>` + addr + `</EMailAddress><AcceptableResponseSchema>` + wellknown.OutlookSchema +
			`</AcceptableResponseSchema></Request></Autodiscover>`
	}
	for _, path := range []string{"/autodiscover/autodiscover.xml", "/Autodiscover/Autodiscover.xml"} {
		code, hdr, body := do(t, h, "POST", "autodiscover.example.org", path, req("Ann@example.org"))
		if code != 200 || hdr.Get("Cache-Control") != "no-store" || !strings.Contains(body, "<LoginName>ann@example.org</LoginName>") ||
			!strings.Contains(body, "<Port>993</Port>") {
			t.Errorf("%s = %d\n%s", path, code, body)
		}
	}
	for _, c := range []struct {
		name, body string
		want       int
	}{
		{"not local", req("ann@other.example"), 404},
		{"bad address", req("&lt;script&gt;"), 400},
		{"not XML", "hello", 400},
		{"too large", req(strings.Repeat("a", 20000) + "@example.org"), 400},
	} {
		if code, _, body := do(t, h, "POST", "autodiscover.example.org", "/autodiscover/autodiscover.xml", c.body); code != c.want ||
			strings.Contains(body, "<script>") {
			t.Errorf("%s = %d %q, want %d", c.name, code, body, c.want)
		}
	}
	if code, _, _ := do(t, h, "GET", "autodiscover.example.org", "/autodiscover/autodiscover.xml", ""); code != 405 {
		t.Errorf("GET autodiscover = %d, want 405", code)
	}
}
