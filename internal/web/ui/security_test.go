package ui

import (
	"crypto/tls"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"posthorn/internal/credentials"
)

// Over TLS, or from an address other than loopback, the cookies are Secure, HttpOnly and
// SameSite; over plain HTTP from loopback (the tests' own server), they are not Secure.
func TestCookieFlags(t *testing.T) {
	u := newTestUI(t)
	for _, tc := range []struct {
		name   string
		tls    bool
		remote string
		secure bool
	}{
		{"https", true, "192.0.2.1:4000", true},
		{"plain from afar", false, "192.0.2.1:4000", true},
		{"plain from loopback", false, "127.0.0.1:4000", false},
	} {
		// The login page sets the login cookie; logging in sets the session cookie.
		req := httptest.NewRequest("GET", "/login", nil)
		req.RemoteAddr = tc.remote
		if tc.tls {
			req.TLS = &tls.ConnectionState{}
		}
		rec := httptest.NewRecorder()
		u.srv.Config.Handler.ServeHTTP(rec, req)
		login := findCookie(rec.Result().Cookies(), loginCookie)
		if login == nil {
			t.Fatalf("%s: no login cookie", tc.name)
		}
		token := csrfOf(t, rec.Body.String())
		form := url.Values{"address": {userAddress}, "password": {testPassword}, "csrf": {token}}
		req = httptest.NewRequest("POST", "/login", strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.AddCookie(login)
		req.RemoteAddr, req.TLS = tc.remote, nil
		if tc.tls {
			req.TLS = &tls.ConnectionState{}
		}
		rec = httptest.NewRecorder()
		u.srv.Config.Handler.ServeHTTP(rec, req)
		if rec.Code != http.StatusSeeOther {
			t.Fatalf("%s: login %d\n%s", tc.name, rec.Code, rec.Body)
		}
		sess := findCookie(rec.Result().Cookies(), sessionCookie)
		if sess == nil {
			t.Fatalf("%s: no session cookie", tc.name)
		}
		for _, c := range []*http.Cookie{login, sess} {
			if c.Secure != tc.secure || !c.HttpOnly || c.Path != "/" {
				t.Errorf("%s: cookie %s: Secure %v HttpOnly %v Path %q", tc.name, c.Name, c.Secure, c.HttpOnly, c.Path)
			}
		}
		if sess.SameSite != http.SameSiteLaxMode || login.SameSite != http.SameSiteStrictMode {
			t.Errorf("%s: SameSite %v, %v", tc.name, sess.SameSite, login.SameSite)
		}
		if len(sess.Value) != 43 {
			t.Errorf("%s: session id %q", tc.name, sess.Value)
		}
	}
}

func findCookie(cs []*http.Cookie, name string) *http.Cookie {
	for _, c := range cs {
		if c.Name == name && c.MaxAge >= 0 {
			return c
		}
	}
	return nil
}

// A session id planted in the browser before login is not the one after it.
func TestSessionFixation(t *testing.T) {
	u := newTestUI(t)
	c := u.client(t)
	srvURL, _ := url.Parse(u.srv.URL)
	c.Jar.SetCookies(srvURL, []*http.Cookie{{Name: sessionCookie, Value: "planted-by-an-attacker", Path: "/"}})
	u.login(t, c, userAddress, testPassword)
	after := u.cookie(c, sessionCookie)
	if after == "" || after == "planted-by-an-attacker" {
		t.Fatalf("session id after login %q", after)
	}
	// A session the browser had is replaced and ended by the next login.
	first := u.cookie(u.User, sessionCookie)
	// Logged in, the login page sends to the account: log in with the token of the account page.
	u.post(t, u.User, "/account/", "/login", url.Values{"address": {userAddress}, "password": {testPassword}})
	if second := u.cookie(u.User, sessionCookie); second == first {
		t.Fatal("the session id did not change at login")
	}
	if _, err := u.sessions.Lookup(t.Context(), first); err == nil {
		t.Error("the earlier session lives on")
	}
}

func TestCSRF(t *testing.T) {
	u := newTestUI(t)
	for _, tc := range []struct {
		name  string
		token string
	}{{"without a token", ""}, {"with a wrong token", "AAAA" + strings.Repeat("x", 39)}} {
		form := url.Values{"name": {"phone"}}
		if tc.token != "" {
			form.Set("csrf", tc.token)
		}
		resp, _ := u.postRaw(t, u.User, "/account/app-passwords", form)
		wantStatus(t, tc.name, resp, http.StatusForbidden)
		resp, _ = u.postRaw(t, u.client(t), "/login", url.Values{"address": {userAddress}, "password": {testPassword}, "csrf": {tc.token}})
		wantStatus(t, "login "+tc.name, resp, http.StatusForbidden)
	}
	// Another session's token is no good either.
	_, page := u.get(t, u.Admin, "/account/app-passwords")
	resp, _ := u.postRaw(t, u.User, "/account/app-passwords", url.Values{"name": {"phone"}, "csrf": {csrfOf(t, page)}})
	wantStatus(t, "another session's token", resp, http.StatusForbidden)
	if list, _ := u.ops.AppPasswords(t.Context(), userAddress); len(list) != 0 {
		t.Fatalf("a refused form created %v", list)
	}
}

func TestStoredValuesAreEscaped(t *testing.T) {
	u := newTestUI(t)
	name := `<script>alert("x")</script>`
	resp, _ := u.post(t, u.User, "/account/app-passwords", "/account/app-passwords", url.Values{"name": {name}})
	wantStatus(t, "create", resp, http.StatusOK)
	_, body := u.get(t, u.User, "/account/app-passwords")
	if strings.Contains(body, "<script>") {
		t.Fatalf("unescaped name in\n%s", body)
	}
	wantContains(t, "list", body, "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;")
	// The user agent shown among recent logins.
	c := u.client(t)
	req, _ := http.NewRequest("GET", u.srv.URL+"/login", nil)
	req.Header.Set("User-Agent", "<script>evil()</script>")
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	form := url.Values{"address": {userAddress}, "password": {testPassword}, "csrf": {csrfOf(t, readBody(t, resp))}}
	req, _ = http.NewRequest("POST", u.srv.URL+"/login", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("User-Agent", "<script>evil()</script>")
	if resp, err = c.Do(req); err != nil {
		t.Fatal(err)
	}
	readBody(t, resp)
	_, body = u.get(t, u.User, "/account/")
	if strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;evil()&lt;/script&gt;") {
		t.Fatalf("user agent not escaped in\n%s", body)
	}
}

func TestEndedSessionsGoToLogin(t *testing.T) {
	u := newTestUI(t)
	id := u.cookie(u.User, sessionCookie)
	resp, _ := u.post(t, u.User, "/account/", "/logout", url.Values{})
	wantStatus(t, "logout", resp, http.StatusSeeOther)
	if _, err := u.sessions.Lookup(t.Context(), id); err == nil {
		t.Fatal("session lives on after logout")
	}
	// The old cookie, presented again, is no session.
	c := u.client(t)
	srvURL, _ := url.Parse(u.srv.URL)
	c.Jar.SetCookies(srvURL, []*http.Cookie{{Name: sessionCookie, Value: id, Path: "/"}})
	resp, _ = u.get(t, c, "/account/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("deleted session: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
	resp, _ = u.postRaw(t, c, "/account/password", url.Values{})
	wantStatus(t, "POST with a deleted session", resp, http.StatusForbidden)
	// Expired: the admin's session, idle past the limit.
	ws, err := u.env.Store.GetWebSession(t.Context(), hashOf(u.cookie(u.Admin, sessionCookie)))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := u.env.Store.DeleteExpiredWebSessions(t.Context(), ws.LastSeen.Add(1), ws.CreatedAt); err != nil {
		t.Fatal(err)
	}
	resp, _ = u.get(t, u.Admin, "/admin/")
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
		t.Fatalf("expired session: %s to %q", resp.Status, resp.Header.Get("Location"))
	}
}

func TestThrottledLogin(t *testing.T) {
	u := newTestUI(t)
	c := u.client(t)
	var resp *http.Response
	var body string
	for i := 0; i <= credentials.HardLimit; i++ {
		resp, body = u.login(t, c, userAddress, "not the password")
		if resp.StatusCode == http.StatusTooManyRequests {
			break
		}
		wantStatus(t, "failed login", resp, http.StatusUnauthorized)
	}
	wantStatus(t, "login after many failures", resp, http.StatusTooManyRequests)
	wantContains(t, "throttled", body, "Too many attempts")
	// The right password does not get through either.
	resp, _ = u.login(t, c, userAddress, testPassword)
	wantStatus(t, "right password when throttled", resp, http.StatusTooManyRequests)
}

func TestAdminPagesNeedTheFlag(t *testing.T) {
	u := newTestUI(t)
	resp, _ := u.get(t, u.User, "/admin/")
	wantStatus(t, "user on /admin/", resp, http.StatusForbidden)
	resp, _ = u.get(t, u.client(t), "/admin/")
	wantStatus(t, "anonymous on /admin/", resp, http.StatusSeeOther)
	resp, _ = u.get(t, u.Admin, "/admin/")
	wantStatus(t, "admin on /admin/", resp, http.StatusOK)
	// Revoking the flag ends the admin's sessions.
	if err := u.ops.SetWebAdmin(t.Context(), adminAddress, false); err != nil {
		t.Fatal(err)
	}
	resp, _ = u.get(t, u.Admin, "/admin/")
	wantStatus(t, "after revoking", resp, http.StatusSeeOther)
}
