package ui

import (
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"posthorn/internal/auth"
	"posthorn/internal/testutil/browser"
)

// A user, in chromium, logs in through the form, turns on TOTP with a code computed from the
// secret the page shows, logs in again with a code, and with a recovery code, which works
// only once.
func TestBrowserLoginAndTOTP(t *testing.T) {
	u := newTestUI(t)
	b := browser.New(t)
	logIn := func(what string) {
		t.Helper()
		b.Do(what,
			chromedp.Navigate(u.srv.URL+"/login"),
			chromedp.SendKeys(chromedp.ID("address"), userAddress),
			chromedp.SendKeys(chromedp.ID("password"), testPassword),
			chromedp.Click(chromedp.ID("login")),
		)
	}
	logOut := func() {
		t.Helper()
		b.Do("log out", chromedp.Click(chromedp.CSS("form.logout button")), chromedp.WaitVisible(chromedp.ID("address")))
	}
	secondStep := func(what, code string) {
		t.Helper()
		b.Do(what, chromedp.WaitVisible(chromedp.ID("verify")), chromedp.SendKeys(chromedp.ID("code"), code),
			chromedp.Click(chromedp.ID("verify")))
	}

	logIn("log in with the password")
	b.Do("see the account page", chromedp.WaitVisible(chromedp.ID("logins")))
	if h1 := b.Text("#account-address"); h1 != userAddress {
		t.Fatalf("account page's heading %q", h1)
	}
	if state := b.Text("#totp-state"); state != "off" {
		t.Fatalf("TOTP state %q", state)
	}

	b.Do("begin TOTP", chromedp.Navigate(u.srv.URL+"/account/totp"), chromedp.Click(chromedp.ID("begin")),
		chromedp.WaitVisible(chromedp.ID("totp-secret")))
	key, err := auth.DecodeTOTPSecret(b.Text("#totp-secret"))
	if err != nil {
		t.Fatal(err)
	}
	b.Do("confirm TOTP", chromedp.SendKeys(chromedp.ID("code"), auth.TOTP(key, time.Now())),
		chromedp.Click(chromedp.ID("confirm")), chromedp.WaitVisible(chromedp.ID("recovery-codes")))
	codes := strings.Fields(b.Text("#recovery-codes"))
	if len(codes) != 10 {
		t.Fatalf("recovery codes %q", codes)
	}
	logOut()

	// The confirming code's step is used up; the next step's code is within the window.
	logIn("log in again")
	secondStep("TOTP code", auth.TOTP(key, time.Now().Add(auth.TOTPStep)))
	b.Do("see the account page after TOTP", chromedp.WaitVisible(chromedp.ID("logins")))
	if state := b.Text("#totp-state"); state != "on" {
		t.Fatalf("TOTP state %q", state)
	}
	logOut()

	logIn("log in for the recovery code")
	secondStep("recovery code", codes[0])
	b.Do("see the account page after the recovery code", chromedp.WaitVisible(chromedp.ID("logins")))
	logOut()

	logIn("log in for the recovery code again")
	secondStep("used recovery code", codes[0])
	b.Do("refused", chromedp.WaitVisible(chromedp.CSS("p.error")))
	if loc := b.Location(); !strings.HasSuffix(loc, "/login/totp") {
		t.Fatalf("after a used recovery code: at %s", loc)
	}
}

// A form whose CSRF token has been tampered with, submitted from the browser, is refused and
// changes nothing.
func TestBrowserForgedFormRefused(t *testing.T) {
	u := newTestUI(t)
	b := browser.New(t)
	b.Do("log in",
		chromedp.Navigate(u.srv.URL+"/login"),
		chromedp.SendKeys(chromedp.ID("address"), userAddress),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("logins")),
	)
	b.Do("submit a form with a forged token",
		chromedp.Navigate(u.srv.URL+"/account/app-passwords"),
		chromedp.SetAttributeValue(chromedp.CSS(`form[action="/account/app-passwords"] input[name="csrf"]`), "value", "forged"),
		chromedp.SendKeys(chromedp.ID("name"), "phone"),
		chromedp.Click(chromedp.ID("create")),
		chromedp.WaitVisible(chromedp.ID("forbidden")),
	)
	if list, err := u.ops.AppPasswords(t.Context(), userAddress); err != nil || len(list) != 0 {
		t.Fatalf("app passwords after a forged form: %v, %v", list, err)
	}
}
