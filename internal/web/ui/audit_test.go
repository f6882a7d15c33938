package ui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"posthorn/internal/audit"
	"posthorn/internal/auth"
	"posthorn/internal/store"
)

// TestSelfServiceChangesAudited: a user's own password change, app password added and removed,
// and TOTP turned on and off are in the audit log with the account as the web actor, and no
// password, app password, TOTP secret or recovery code appears in any entry.
func TestSelfServiceChangesAudited(t *testing.T) {
	u := newTestUI(t)
	const newPassword = "a new passphrase for the audit"
	resp, _ := u.post(t, u.User, "/account/password", "/account/password",
		url.Values{"current": {testPassword}, "new": {newPassword}, "repeat": {newPassword}})
	wantStatus(t, "password change", resp, http.StatusOK)

	resp, body := u.post(t, u.User, "/account/app-passwords", "/account/app-passwords", url.Values{"name": {"phone"}})
	wantStatus(t, "app password", resp, http.StatusOK)
	m := regexpNew.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no new app password shown:\n%s", body)
	}
	appPassword := m[1]
	resp, _ = u.post(t, u.User, "/account/app-passwords", "/account/app-passwords/remove", url.Values{"name": {"phone"}})
	wantStatus(t, "app password removed", resp, http.StatusSeeOther)

	_, body = u.post(t, u.User, "/account/totp", "/account/totp", url.Values{"action": {"begin"}})
	sm := regexpSecret.FindStringSubmatch(body)
	if sm == nil {
		t.Fatalf("no TOTP secret shown:\n%s", body)
	}
	key, err := auth.DecodeTOTPSecret(sm[1])
	if err != nil {
		t.Fatal(err)
	}
	resp, body = u.post(t, u.User, "/account/totp", "/account/totp",
		url.Values{"action": {"confirm"}, "code": {auth.TOTP(key, time.Now())}})
	wantStatus(t, "TOTP on", resp, http.StatusOK)
	codes := regexpCode.FindAllStringSubmatch(body, -1)
	if len(codes) == 0 {
		t.Fatalf("no recovery codes shown:\n%s", body)
	}
	resp, _ = u.post(t, u.User, "/account/totp", "/account/totp", url.Values{"action": {"disable"}, "proof": {newPassword}})
	wantStatus(t, "TOTP off", resp, http.StatusOK)

	entries, err := audit.New(u.env.Store.(store.AuditStore)).List(t.Context(), store.AuditFilter{ActorKind: audit.KindWeb})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range entries {
		if e.Actor != userAddress || e.Target != userAddress {
			t.Errorf("entry %s: actor %s, target %s; want %s for both", e.Action, e.Actor, e.Target, userAddress)
		}
		got = append(got, e.Action+" "+e.Details)
		text := e.Action + e.Target + e.Details
		for _, secret := range []string{newPassword, testPassword, appPassword, sm[1], codes[0][1]} {
			if strings.Contains(text, secret) {
				t.Errorf("entry %s %s holds a secret (%q)", e.Action, e.Details, secret)
			}
		}
	}
	want := []string{
		"user.password ",
		`app_password.add {"name":"phone"}`,
		`app_password.remove {"name":"phone"}`,
		`user.totp {"enabled":true}`,
		`user.totp {"enabled":false}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("web entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
