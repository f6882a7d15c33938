package ui

import (
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/netip"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"posthorn/internal/admin"
	"posthorn/internal/campaign"
	"posthorn/internal/config"
	"posthorn/internal/credentials"
	"posthorn/internal/gdpr"
	"posthorn/internal/mailtrace"
	"posthorn/internal/testutil/storeenv"
	"posthorn/internal/websession"
	"posthorn/internal/wellknown"
)

// The accounts of newTestUI, with testPassword.
const (
	adminAddress = "admin@example.org"
	userAddress  = "user@example.org"
	testPassword = "correct horse battery"
)

// testUI is the UI over a real store on an httptest server, with an admin and a user logged in.
type testUI struct {
	srv      *httptest.Server
	env      *storeenv.Env
	ops      *admin.Admin
	auth     *credentials.Authenticator
	sessions *websession.Service
	// Admin and User are clients logged in as adminAddress and userAddress; they do not follow
	// redirects, so that tests see them.
	Admin, User *http.Client
}

// newTestUI builds the UI with the accounts adminAddress (with the admin flag) and
// userAddress, and logs both in through the login form.
func newTestUI(t *testing.T) *testUI {
	t.Helper()
	env := storeenv.New(t)
	ops := &admin.Admin{Store: env.Store, Credentials: env.Store, Blobs: env.Blobs}
	ctx := t.Context()
	for _, addr := range []string{adminAddress, userAddress} {
		if _, err := ops.AddAccount(ctx, addr, testPassword); err != nil {
			t.Fatal(err)
		}
	}
	if err := ops.SetWebAdmin(ctx, adminAddress, true); err != nil {
		t.Fatal(err)
	}
	a := credentials.NewAuthenticator(env.Store, env.Logger, nil)
	a.SetSleep(func(context.Context, time.Duration) error { return nil }) // throttling counts, without its waits
	sessions := &websession.Service{Store: env.Store, Auth: a, Passwords: ops, Issuer: "mail.example.org", Logger: env.Logger}
	auditLog, err := ops.Audit()
	if err != nil {
		t.Fatal(err)
	}
	exports := &gdpr.Service{Store: env.Store, Bodies: env.Blobs, Accounts: ops}
	s, err := New(Config{Sessions: sessions, AppPasswords: ops, Logger: env.Logger, Operations: ops, Exports: exports,
		Trace: &mailtrace.Tracer{Store: env.Store}, Audit: auditLog,
		DNS: admin.DNSSetup{Hostname: "mail.example.org", Listen: config.Listen{IMAPS: ":993", Submission: ":587"},
			Policy: wellknown.MTASTSPolicy("enforce", []string{"mail.example.org"}, 24*time.Hour)},
		Services: wellknown.Services{Hostname: "mail.example.org", IMAPS: wellknown.Service{Port: 993, Implicit: true},
			Submission: wellknown.Service{Port: 587}}, Campaigns: &campaign.Service{Store: env.Store}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	s.Routes()(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	u := &testUI{srv: srv, env: env, ops: ops, auth: a, sessions: sessions}
	u.Admin, u.User = u.client(t), u.client(t)
	for c, addr := range map[*http.Client]string{u.Admin: adminAddress, u.User: userAddress} {
		if resp, _ := u.login(t, c, addr, testPassword); resp.StatusCode != http.StatusSeeOther ||
			resp.Header.Get("Location") != "/account/" {
			t.Fatalf("login of %s: %s to %q", addr, resp.Status, resp.Header.Get("Location"))
		}
	}
	return u
}

// client returns a new client with its own cookie jar that does not follow redirects.
func (u *testUI) client(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 30 * time.Second,
		CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

// get fetches path and returns the response and its body.
func (u *testUI) get(t *testing.T, c *http.Client, path string) (*http.Response, string) {
	t.Helper()
	resp, err := c.Get(u.srv.URL + path)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}

// post fetches the page form (for its CSRF token and cookies) and posts values with that token
// to action.
func (u *testUI) post(t *testing.T, c *http.Client, form, action string, values url.Values) (*http.Response, string) {
	t.Helper()
	_, page := u.get(t, c, form)
	values.Set("csrf", csrfOf(t, page))
	return u.postRaw(t, c, action, values)
}

// postRaw posts values as they are.
func (u *testUI) postRaw(t *testing.T, c *http.Client, action string, values url.Values) (*http.Response, string) {
	t.Helper()
	resp, err := c.PostForm(u.srv.URL+action, values)
	if err != nil {
		t.Fatal(err)
	}
	return resp, readBody(t, resp)
}

// login posts the login form as a browser would.
func (u *testUI) login(t *testing.T, c *http.Client, addr, password string) (*http.Response, string) {
	t.Helper()
	return u.post(t, c, "/login", "/login", url.Values{"address": {addr}, "password": {password}})
}

func readBody(t *testing.T, resp *http.Response) string {
	t.Helper()
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

var csrfInput = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrfOf is the CSRF token of the first form of page.
func csrfOf(t *testing.T, page string) string {
	t.Helper()
	m := csrfInput.FindStringSubmatch(page)
	if m == nil {
		t.Fatalf("no CSRF field in page:\n%s", page)
	}
	return m[1]
}

// cookie is the value of the client's cookie name for the server, "" if none.
func (u *testUI) cookie(c *http.Client, name string) string {
	uu, _ := url.Parse(u.srv.URL)
	for _, ck := range c.Jar.Cookies(uu) {
		if ck.Name == name {
			return ck.Value
		}
	}
	return ""
}

func wantStatus(t *testing.T, what string, resp *http.Response, status int) {
	t.Helper()
	if resp.StatusCode != status {
		t.Fatalf("%s: %s, want %d", what, resp.Status, status)
	}
}

func wantContains(t *testing.T, what, body string, parts ...string) {
	t.Helper()
	for _, p := range parts {
		if !strings.Contains(body, p) {
			t.Fatalf("%s: no %q in\n%s", what, p, body)
		}
	}
}

var (
	regexpNew    = regexp.MustCompile(`id="new-password" class="secret" readonly value="([^"]+)"`)
	regexpSecret = regexp.MustCompile(`<code id="totp-secret">([A-Z2-7]+)</code>`)
	regexpCode   = regexp.MustCompile(`<li>([a-z2-9]{5}-[a-z2-9]{5})</li>`)
)

func ip(s string) netip.Addr { return netip.MustParseAddr(s) }

// hashOf is the stored form of a session id.
func hashOf(id string) []byte { return websession.HashID(id) }
