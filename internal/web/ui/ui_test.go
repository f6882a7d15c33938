package ui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"posthorn/internal/auth"
)

func TestAccountPages(t *testing.T) {
	u := newTestUI(t)
	resp, body := u.get(t, u.User, "/account/")
	wantStatus(t, "account page", resp, http.StatusOK)
	wantContains(t, "account page", body, userAddress, "Recent logins", "127.0.0.1", "Go-http-client")
	if strings.Contains(body, `href="/admin/"`) {
		t.Error("a user's page links to the admin pages")
	}
	_, body = u.get(t, u.Admin, "/account/")
	wantContains(t, "admin's account page", body, `href="/admin/"`)
	resp, body = u.get(t, u.Admin, "/admin/")
	wantStatus(t, "admin page", resp, http.StatusOK)
	wantContains(t, "admin page", body, "Logged in as <strong>"+adminAddress)
	for _, h := range []string{"Content-Security-Policy", "X-Content-Type-Options", "Referrer-Policy"} {
		if resp.Header.Get(h) == "" {
			t.Errorf("no %s header", h)
		}
	}
	if resp.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control %q", resp.Header.Get("Cache-Control"))
	}
	resp, _ = u.get(t, u.client(t), "/")
	wantStatus(t, "root", resp, http.StatusSeeOther)
}

func TestAppPasswordPages(t *testing.T) {
	u := newTestUI(t)
	resp, body := u.post(t, u.User, "/account/app-passwords", "/account/app-passwords", url.Values{"name": {"phone"}})
	wantStatus(t, "create", resp, http.StatusOK)
	m := regexpNew.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no new password shown:\n%s", body)
	}
	// The app password works for IMAP, not for the web.
	if _, err := u.auth.Login(t.Context(), "imap", userAddress, m[1], ip("127.0.0.1")); err != nil {
		t.Fatalf("app password over IMAP: %v", err)
	}
	resp, _ = u.login(t, u.client(t), userAddress, m[1])
	wantStatus(t, "web login with an app password", resp, http.StatusUnauthorized)
	_, body = u.get(t, u.User, "/account/app-passwords")
	if strings.Contains(body, m[1]) {
		t.Error("the app password is shown again")
	}
	wantContains(t, "list", body, "<td>phone</td>")
	resp, body = u.post(t, u.User, "/account/app-passwords", "/account/app-passwords", url.Values{"name": {"phone"}})
	wantStatus(t, "create twice", resp, http.StatusConflict)
	wantContains(t, "create twice", body, `data-field="name"`, "already has an app password")
	resp, _ = u.post(t, u.User, "/account/app-passwords", "/account/app-passwords/remove", url.Values{"name": {"phone"}})
	wantStatus(t, "remove", resp, http.StatusSeeOther)
	_, body = u.get(t, u.User, "/account/app-passwords")
	if strings.Contains(body, "<td>phone</td>") {
		t.Error("removed app password still listed")
	}
}

func TestChangePasswordPage(t *testing.T) {
	u := newTestUI(t)
	other := u.client(t)
	u.login(t, other, userAddress, testPassword)
	resp, body := u.post(t, u.User, "/account/password", "/account/password",
		url.Values{"current": {"wrong one!"}, "new": {"a new passphrase"}, "repeat": {"a new passphrase"}})
	wantStatus(t, "wrong current", resp, http.StatusBadRequest)
	wantContains(t, "wrong current", body, `data-field="current"`)
	resp, body = u.post(t, u.User, "/account/password", "/account/password",
		url.Values{"current": {testPassword}, "new": {"short"}, "repeat": {"short"}})
	wantStatus(t, "weak", resp, http.StatusBadRequest)
	wantContains(t, "weak", body, `data-field="password"`, "at least 8")
	resp, body = u.post(t, u.User, "/account/password", "/account/password",
		url.Values{"current": {testPassword}, "new": {"a new passphrase"}, "repeat": {"a new passphrase"}})
	wantStatus(t, "change", resp, http.StatusOK)
	wantContains(t, "change", body, `id="changed"`)
	resp, _ = u.get(t, other, "/account/")
	wantStatus(t, "the other session", resp, http.StatusSeeOther)
	resp, _ = u.get(t, u.User, "/account/")
	wantStatus(t, "this session", resp, http.StatusOK)
}

func TestTOTPPagesAndLogin(t *testing.T) {
	u := newTestUI(t)
	_, body := u.post(t, u.User, "/account/totp", "/account/totp", url.Values{"action": {"begin"}})
	m := regexpSecret.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no secret shown:\n%s", body)
	}
	wantContains(t, "set-up", body, "otpauth://totp/")
	key, err := auth.DecodeTOTPSecret(m[1])
	if err != nil {
		t.Fatal(err)
	}
	resp, body := u.post(t, u.User, "/account/totp", "/account/totp",
		url.Values{"action": {"confirm"}, "code": {auth.TOTP(key, time.Now().Add(-time.Hour))}})
	wantStatus(t, "wrong confirming code", resp, http.StatusBadRequest)
	resp, body = u.post(t, u.User, "/account/totp", "/account/totp",
		url.Values{"action": {"confirm"}, "code": {auth.TOTP(key, time.Now())}})
	wantStatus(t, "confirm", resp, http.StatusOK)
	codes := regexpCode.FindAllStringSubmatch(body, -1)
	if len(codes) != 10 {
		t.Fatalf("%d recovery codes shown:\n%s", len(codes), body)
	}
	c := u.client(t)
	resp, _ = u.login(t, c, userAddress, testPassword)
	if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login/totp" {
		t.Fatalf("login with TOTP on: %s to %s", resp.Status, resp.Header.Get("Location"))
	}
	resp, _ = u.get(t, c, "/account/")
	wantStatus(t, "account before the second step", resp, http.StatusSeeOther)
	resp, _ = u.post(t, c, "/login/totp", "/login/totp", url.Values{"code": {"000000"}})
	wantStatus(t, "wrong code", resp, http.StatusUnauthorized)
	resp, _ = u.post(t, c, "/login/totp", "/login/totp", url.Values{"code": {codes[0][1]}})
	wantStatus(t, "recovery code", resp, http.StatusSeeOther)
	resp, _ = u.get(t, c, "/account/")
	wantStatus(t, "account after the second step", resp, http.StatusOK)
}

func TestMobileconfig(t *testing.T) {
	u := newTestUI(t)
	resp, body := u.get(t, u.User, "/account/mobileconfig")
	wantStatus(t, "mobileconfig", resp, http.StatusOK)
	if ct := resp.Header.Get("Content-Type"); ct != "application/x-apple-aspen-config" {
		t.Errorf("Content-Type %q", ct)
	}
	wantContains(t, "profile", body, "<string>com.apple.mail.managed</string>", "<string>"+userAddress+"</string>",
		"<integer>993</integer>", "<integer>587</integer>", "<string>mail.example.org</string>")
	resp, _ = u.get(t, u.client(t), "/account/mobileconfig")
	wantStatus(t, "mobileconfig without a login", resp, http.StatusSeeOther)
}
