package ui

import (
	"image"
	"image/color"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"posthorn/internal/auth"
	"posthorn/internal/store"
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

// browserLogIn logs addr in through the login form, with testPassword, and waits for the
// account page.
func (u *testUI) browserLogIn(b *browser.Browser, addr string) {
	b.Do("log in as "+addr,
		chromedp.Navigate(u.srv.URL+"/login"),
		chromedp.SendKeys(chromedp.ID("address"), addr),
		chromedp.SendKeys(chromedp.ID("password"), testPassword),
		chromedp.Click(chromedp.ID("login")),
		chromedp.WaitVisible(chromedp.ID("logins")),
	)
}

// A form whose CSRF token has been tampered with, submitted from the browser, is refused and
// changes nothing.
func TestBrowserForgedFormRefused(t *testing.T) {
	u := newTestUI(t)
	b := browser.New(t)
	u.browserLogIn(b, userAddress)
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

// An administrator, in chromium, opens the dashboard: the rejections chart is drawn, under
// the UI's Content-Security-Policy, with its first series' bars in their colour; the
// screenshot of the chart is kept as a test artifact (browser.ArtifactDir).
func TestBrowserDashboardChart(t *testing.T) {
	u := newTestUI(t)
	name := `<script>alert(1)</script>"'`
	u.addDashEvents(t, u.addCampaign(t, store.Campaign{Name: name, Subject: "<b>News</b>"}))
	b := browser.New(t)
	u.browserLogIn(b, adminAddress)
	b.Do("open the dashboard", chromedp.Navigate(u.srv.URL+"/admin/"),
		chromedp.WaitVisible(chromedp.CSS("#chart-rejections rect.bar")))
	img := b.ScreenshotOf("#chart-rejections", "dashboard-rejections")
	if sz := img.Bounds().Size(); sz.X < 300 || sz.Y < 100 {
		t.Fatalf("the chart is %v: not laid out", sz)
	}
	if n, err := browser.NonBlank(img, img.Bounds(), 8); err != nil {
		t.Errorf("rejections chart: %v", err)
	} else {
		t.Logf("the chart has %d colours", n)
	}
	// chartPalette[0] is the first reason's (unknown-user, 2 of 3) bar, [1] the second's.
	first := color.RGBA{R: 0x1f, G: 0x5f, B: 0xbf, A: 255}
	second := color.RGBA{R: 0xe8, G: 0x59, B: 0x0c, A: 255}
	// The bars are thin (one hour of 24): a bar and its legend swatch are some hundreds of
	// pixels; the first is twice the second's height.
	if n1, n2 := browser.CountNear(img, first, 10), browser.CountNear(img, second, 10); n1 < 150 || n2 < 100 || n1 <= n2 {
		t.Errorf("pixels of the first reason's colour %d, of the second's %d", n1, n2)
	}
	// The whole page, for people to look at.
	if _, err := browser.NonBlank(b.Screenshot("dashboard"), image.Rect(0, 0, 1280, 900), 16); err != nil {
		t.Errorf("dashboard page: %v", err)
	}

	// The campaign's page shows its hostile name and subject as text, and draws its opens.
	b.Do("open the campaign", chromedp.Navigate(u.srv.URL+"/admin/campaigns"),
		chromedp.Click(chromedp.CSS(`#campaigns a[href="/admin/campaigns/1"]`)),
		chromedp.WaitVisible(chromedp.CSS("#chart-opens rect.bar")))
	if got := b.Text("#campaign-name"); got != name {
		t.Errorf("campaign name shown as %q, want %q", got, name)
	}
	if got := b.Text("#campaign-subject"); got != "<b>News</b>" {
		t.Errorf("subject shown as %q", got)
	}
	b.Screenshot("campaign")
	opens := b.ScreenshotOf("#chart-opens", "campaign-opens")
	// One open by a person (first colour), two by machines (second colour) above it.
	if n1, n2 := browser.CountNear(opens, first, 10), browser.CountNear(opens, second, 10); n1 < 150 || n2 < 150 || n2 <= n1 {
		t.Errorf("opens chart: %d pixels of people's colour, %d of machines'", n1, n2)
	}
}
