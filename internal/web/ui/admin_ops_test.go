package ui

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"posthorn/internal/dns"
	"posthorn/internal/testutil/browser"
	"posthorn/internal/testutil/dnstest"
)

var adminPages = []string{"/admin/domains", "/admin/domains/example.org", "/admin/users", "/admin/users/" + userAddress,
	"/admin/aliases", "/admin/queue", "/admin/spam", "/admin/spam?account=" + userAddress}

// Every admin page renders for an admin, is refused to a user and sends a visitor to /login.
func TestAdminOpsPagesAccess(t *testing.T) {
	u := newTestUI(t)
	u.ops.Resolver = dns.New(dnstest.Start(t, nil).Addr)
	for _, p := range adminPages {
		resp, body := u.get(t, u.Admin, p)
		wantStatus(t, "admin "+p, resp, http.StatusOK)
		wantContains(t, p, body, `name="csrf"`)
		u.wantAdminOnly(t, p)
	}
	resp, _ := u.postRaw(t, u.Admin, "/admin/users", url.Values{"address": {"x@example.org"}, "password": {testPassword}})
	wantStatus(t, "create without CSRF", resp, http.StatusForbidden)
	resp, _ = u.post(t, u.User, "/account/", "/admin/users", url.Values{"address": {"x@example.org"}, "password": {testPassword}})
	wantStatus(t, "create by a user", resp, http.StatusForbidden)
	if _, err := u.ops.Account(t.Context(), "x@example.org"); err == nil {
		t.Fatal("a refused form created the user")
	}
}

func TestAdminDomainsPages(t *testing.T) {
	u := newTestUI(t)
	srv := dnstest.Start(t, map[string][]string{
		"example.org.": {"example.org. 300 IN MX 10 mail.example.org.", `example.org. 300 IN TXT "v=spf1 a -all"`},
	})
	u.ops.Resolver = dns.New(srv.Addr)
	resp, body := u.get(t, u.Admin, "/admin/domains/example.org")
	wantStatus(t, "domain page", resp, http.StatusOK)
	wantContains(t, "domain page", body, `<td class="status-published">published</td>`, `<td class="status-different">different</td>`,
		`<td class="status-missing">missing</td>`, "&#34;v=spf1 a -all&#34;", "_dmarc.example.org.")
	resp, body = u.post(t, u.Admin, "/admin/domains", "/admin/domains", url.Values{"domain": {"new.example"}})
	wantStatus(t, "add", resp, http.StatusSeeOther)
	_, body = u.get(t, u.Admin, "/admin/domains")
	wantContains(t, "list", body, `href="/admin/domains/new.example"`)
	resp, body = u.post(t, u.Admin, "/admin/domains", "/admin/domains", url.Values{"domain": {`"><script>alert(1)</script>`}})
	wantStatus(t, "bad domain", resp, http.StatusBadRequest)
	wantContains(t, "bad domain", body, `data-field="domain"`, "&lt;script&gt;")
	if strings.Contains(body, "<script>") {
		t.Fatalf("markup not escaped:\n%s", body)
	}
	resp, body = u.post(t, u.Admin, "/admin/domains", "/admin/domains/remove", url.Values{"domain": {"new.example"}})
	wantStatus(t, "remove unconfirmed", resp, http.StatusBadRequest)
	wantContains(t, "remove unconfirmed", body, `data-field="confirm"`)
	resp, body = u.post(t, u.Admin, "/admin/domains", "/admin/domains/remove", url.Values{"domain": {"example.org"}, "confirm": {"yes"}})
	wantStatus(t, "remove in use", resp, http.StatusConflict)
	resp, _ = u.post(t, u.Admin, "/admin/domains", "/admin/domains/remove", url.Values{"domain": {"new.example"}, "confirm": {"yes"}})
	wantStatus(t, "remove", resp, http.StatusSeeOther)
	resp, _ = u.get(t, u.Admin, "/admin/domains/new.example")
	wantStatus(t, "removed domain's page", resp, http.StatusNotFound)
}

func TestAdminUsersPages(t *testing.T) {
	u := newTestUI(t)
	form := "/admin/users"
	resp, body := u.post(t, u.Admin, form, form, url.Values{"address": {"not an address"}, "password": {testPassword}})
	wantStatus(t, "bad address", resp, http.StatusBadRequest)
	wantContains(t, "bad address", body, `data-field="address"`, `value="not an address"`)
	resp, _ = u.post(t, u.Admin, form, form, url.Values{"address": {"new@example.org"}, "password": {testPassword}})
	wantStatus(t, "create", resp, http.StatusSeeOther)
	_, body = u.get(t, u.Admin, form)
	wantContains(t, "list", body, `href="/admin/users/new@example.org"`, `<strong class="admin-flag">admin</strong>`)

	page := "/admin/users/new@example.org"
	for _, step := range []struct {
		values url.Values
		status int
		field  string
	}{
		{url.Values{"action": {"password"}, "password": {"short"}}, http.StatusBadRequest, "password"},
		{url.Values{"action": {"password"}, "password": {"another good one"}}, http.StatusSeeOther, ""},
		{url.Values{"action": {"quota"}, "quota": {"lots"}}, http.StatusBadRequest, "quota"},
		{url.Values{"action": {"quota"}, "quota": {"100"}}, http.StatusSeeOther, ""},
		{url.Values{"action": {"admin"}, "admin": {"on"}}, http.StatusSeeOther, ""},
		{url.Values{"action": {"send-as-add"}, "send_as": {"@@"}}, http.StatusBadRequest, "send_as"},
		{url.Values{"action": {"send-as-add"}, "send_as": {"@example.org"}}, http.StatusSeeOther, ""},
		{url.Values{"action": {"limits"}, "per_hour": {"-3"}, "per_day": {""}}, http.StatusBadRequest, "per_hour"},
		{url.Values{"action": {"limits"}, "per_hour": {"50"}, "per_day": {"default"}}, http.StatusSeeOther, ""},
	} {
		resp, body := u.post(t, u.Admin, page, page, step.values)
		wantStatus(t, step.values.Encode(), resp, step.status)
		if step.field != "" {
			wantContains(t, step.values.Encode(), body, `data-field="`+step.field+`"`)
		}
	}
	if _, err := u.auth.Login(t.Context(), "imap", "new@example.org", "another good one", ip("127.0.0.1")); err != nil {
		t.Fatalf("the set password: %v", err)
	}
	_, body = u.get(t, u.Admin, page)
	wantContains(t, "user page", body, "quota 100.0 MiB", "An administrator.", "<td>@example.org</td>", "50 recipients per hour, default per day")

	resp, body = u.post(t, u.Admin, page, page, url.Values{"action": {"app-password-add"}, "name": {`<b>"phone</b>`}})
	wantStatus(t, "app password", resp, http.StatusOK)
	m := regexpNew.FindStringSubmatch(body)
	if m == nil {
		t.Fatalf("no new app password shown:\n%s", body)
	}
	wantContains(t, "app password name", body, "&lt;b&gt;&#34;phone&lt;/b&gt;")
	if _, err := u.auth.Login(t.Context(), "imap", "new@example.org", m[1], ip("127.0.0.1")); err != nil {
		t.Fatalf("app password: %v", err)
	}
	_, body = u.get(t, u.Admin, page)
	if strings.Contains(body, m[1]) {
		t.Fatal("the app password is shown again")
	}

	self := "/admin/users/" + adminAddress
	resp, body = u.post(t, u.Admin, self, self, url.Values{"action": {"admin"}, "admin": {"off"}})
	wantStatus(t, "revoke own flag", resp, http.StatusBadRequest)
	wantContains(t, "revoke own flag", body, `data-field="admin"`)
	resp, _ = u.post(t, u.Admin, form, "/admin/users/remove", url.Values{"address": {"new@example.org"}})
	wantStatus(t, "remove unconfirmed", resp, http.StatusBadRequest)
	resp, _ = u.post(t, u.Admin, form, "/admin/users/remove", url.Values{"address": {"new@example.org"}, "confirm": {"yes"}})
	wantStatus(t, "remove", resp, http.StatusSeeOther)
	resp, _ = u.get(t, u.Admin, page)
	wantStatus(t, "removed user's page", resp, http.StatusNotFound)
}

func TestAdminAliasesPage(t *testing.T) {
	u := newTestUI(t)
	form := "/admin/aliases"
	resp, body := u.post(t, u.Admin, form, form, url.Values{"alias": {"team@example.org"}, "targets": {`x"><script>alert(1)</script>`}})
	wantStatus(t, "bad target", resp, http.StatusBadRequest)
	wantContains(t, "bad target", body, `data-field="targets"`, `value="x&#34;&gt;&lt;script&gt;alert(1)&lt;/script&gt;"`)
	if strings.Contains(body, "<script>") {
		t.Fatalf("markup not escaped:\n%s", body)
	}
	resp, _ = u.post(t, u.Admin, form, form, url.Values{"alias": {"team@example.org"}, "targets": {userAddress + ", " + adminAddress}})
	wantStatus(t, "add", resp, http.StatusSeeOther)
	_, body = u.get(t, u.Admin, form)
	wantContains(t, "list", body, "<td>team@example.org</td><td>"+userAddress+", "+adminAddress+"</td>")
	resp, _ = u.post(t, u.Admin, form, form+"/remove", url.Values{"alias": {"team@example.org"}, "confirm": {"yes"}})
	wantStatus(t, "remove", resp, http.StatusSeeOther)
	if list, _ := u.ops.ListAliases(t.Context()); len(list) != 0 {
		t.Fatalf("aliases after remove: %v", list)
	}
}

func TestAdminSpamPage(t *testing.T) {
	u := newTestUI(t)
	form := "/admin/spam?account=" + userAddress
	resp, body := u.post(t, u.Admin, form, "/admin/spam", url.Values{"account": {userAddress}, "list": {"block"}, "entry": {"<b>x"}})
	wantStatus(t, "bad entry", resp, http.StatusBadRequest)
	wantContains(t, "bad entry", body, `data-field="entry"`, "&lt;b&gt;x")
	resp, _ = u.post(t, u.Admin, form, "/admin/spam", url.Values{"account": {userAddress}, "list": {"block"}, "entry": {"@spam.example"}})
	wantStatus(t, "add", resp, http.StatusSeeOther)
	_, body = u.get(t, u.Admin, form)
	wantContains(t, "lists", body, "<td>block</td><td>@spam.example</td>")
	resp, body = u.post(t, u.Admin, form, "/admin/spam/explain", url.Values{"account": {userAddress},
		"message": {"From: a@spam.example\nTo: user@example.org\nSubject: hi\n\nhello\n"}})
	wantStatus(t, "explain", resp, http.StatusOK)
	wantContains(t, "explain", body, `id="explanation"`, "block_list")
	resp, _ = u.post(t, u.Admin, form, "/admin/spam", url.Values{"account": {userAddress}, "list": {"block"},
		"entry": {"@spam.example"}, "action": {"remove"}})
	wantStatus(t, "remove", resp, http.StatusSeeOther)
	if l, _ := u.ops.SpamList(t.Context(), userAddress, true); len(l) != 0 {
		t.Fatalf("block list after remove: %v", l)
	}
}

// An admin, in chromium, logs in through the form, creates a user on /admin/users, sees it
// listed, and the new user logs in.
func TestBrowserAdminCreatesUser(t *testing.T) {
	u := newTestUI(t)
	b := browser.New(t)
	logIn := func(addr, password string) {
		t.Helper()
		b.Do("log in as "+addr, chromedp.Navigate(u.srv.URL+"/login"),
			chromedp.SendKeys(chromedp.ID("address"), addr), chromedp.SendKeys(chromedp.ID("password"), password),
			chromedp.Click(chromedp.ID("login")), chromedp.WaitVisible(chromedp.ID("logins")))
	}
	logIn(adminAddress, testPassword)
	b.Do("create a user", chromedp.Navigate(u.srv.URL+"/admin/users"),
		chromedp.SendKeys(`#create-user #address`, "carol@example.org"),
		chromedp.SendKeys(`#create-user #password`, "carol's passphrase"),
		chromedp.Click(chromedp.ID("create")),
		chromedp.WaitVisible(`#users a[href="/admin/users/carol@example.org"]`))
	if list := b.Text("#users"); !strings.Contains(list, "carol@example.org") {
		t.Fatalf("users list %q", list)
	}
	// The users page has an #address field too: wait for the login form's button.
	b.Do("log out", chromedp.Click(chromedp.CSS("form.logout button")), chromedp.WaitVisible(chromedp.ID("login")))
	logIn("carol@example.org", "carol's passphrase")
	if h1 := b.Text("#account-address"); h1 != "carol@example.org" {
		t.Fatalf("account page's heading %q", h1)
	}
}
