package browser

import (
	"fmt"
	"html"
	"image"
	"image/color"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
)

// formServer serves a login-like form that posts to /done, which sets a cookie and shows the
// posted name, and a page with a drawn box (SVG) for the screenshot.
func formServer(t *testing.T) *httptest.Server {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><title>form</title><form method="post" action="/done">
<input name="who" id="who"><button id="go" type="submit">Go</button></form>`)
	})
	mux.HandleFunc("POST /done", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "seen", Value: "1", HttpOnly: true, SameSite: http.SameSiteLaxMode})
		http.Redirect(w, r, "/hello?who="+r.PostFormValue("who"), http.StatusSeeOther)
	})
	mux.HandleFunc("GET /hello", func(w http.ResponseWriter, r *http.Request) {
		if _, err := r.Cookie("seen"); err != nil {
			http.Error(w, "no cookie", http.StatusForbidden)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		fmt.Fprintf(w, `<!doctype html><title>hello</title><p id="greeting">hello %s</p>`, html.EscapeString(r.URL.Query().Get("who")))
	})
	mux.HandleFunc("GET /chart", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><body style="margin:0;background:#fff">
<svg width="400" height="200"><rect x="0" y="0" width="200" height="200" fill="#c00"/><rect x="200" y="0" width="200" height="200" fill="#00c"/></svg>`)
	})
	mux.HandleFunc("GET /blank", func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `<!doctype html><body style="margin:0;background:#fff">`)
	})
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func TestFormAndCookies(t *testing.T) {
	srv := formServer(t)
	b := New(t)
	b.Do("fill and send the form",
		chromedp.Navigate(srv.URL+"/"),
		chromedp.SendKeys(chromedp.CSS("#who"), "alice", chromedp.NodeVisible),
		chromedp.Click(chromedp.CSS("#go"), chromedp.NodeVisible),
		chromedp.WaitVisible(chromedp.CSS("#greeting")),
	)
	if got := b.Text("#greeting"); got != "hello alice" {
		t.Errorf("greeting = %q", got)
	}
	if loc := b.Location(); loc != srv.URL+"/hello?who=alice" {
		t.Errorf("location = %q", loc)
	}
}

func TestScreenshotNonBlank(t *testing.T) {
	srv := formServer(t)
	b := New(t)
	b.Do("open the chart", chromedp.Navigate(srv.URL+"/chart"), chromedp.WaitVisible(chromedp.CSS("svg")))
	img := b.Screenshot("chart")
	if n, err := NonBlank(img, image.Rect(0, 0, 400, 200), 2); err != nil {
		t.Errorf("chart: %v", err)
	} else if n > 50 {
		t.Errorf("chart area has %d colours, want the two boxes' (and their edge)", n)
	}
	b.Do("open a blank page", chromedp.Navigate(srv.URL+"/blank"))
	if _, err := NonBlank(b.Screenshot("blank"), image.Rect(0, 0, 400, 200), 2); err == nil {
		t.Error("a blank page passes NonBlank")
	}
}

// TestScreenshotOf: the picture of one element is that element, saved under the directory of
// POSTHORN_TEST_ARTIFACTS named after the test.
func TestScreenshotOf(t *testing.T) {
	root := t.TempDir()
	t.Setenv(ArtifactsEnv, root)
	srv := formServer(t)
	b := New(t)
	b.Do("open the chart", chromedp.Navigate(srv.URL+"/chart"), chromedp.WaitVisible(chromedp.CSS("svg")))
	img := b.ScreenshotOf("svg", "boxes")
	if got := img.Bounds().Size(); got != image.Pt(400, 200) {
		t.Errorf("element screenshot of %v, want 400x200", got)
	}
	red, blue := CountNear(img, color.RGBA{R: 0xcc, A: 255}, 8), CountNear(img, color.RGBA{B: 0xcc, A: 255}, 8)
	if red < 30000 || blue < 30000 {
		t.Errorf("%d red and %d blue pixels, want about 40000 each", red, blue)
	}
	if _, err := os.Stat(filepath.Join(root, "TestScreenshotOf", "boxes.png")); err != nil {
		t.Errorf("the screenshot is not under %s: %v", ArtifactsEnv, err)
	}
}

func TestArtifactDir(t *testing.T) {
	root := t.TempDir()
	t.Setenv(ArtifactsEnv, root)
	t.Run("a/b c", func(t *testing.T) {
		if dir := ArtifactDir(t); dir != filepath.Join(root, "TestArtifactDir_a_b_c") {
			t.Errorf("dir %s", dir)
		}
	})
	t.Setenv(ArtifactsEnv, "")
	if dir := ArtifactDir(t); dir == "" || strings.HasPrefix(dir, root) {
		t.Errorf("without %s: %q", ArtifactsEnv, dir)
	}
}

func TestNonBlankArea(t *testing.T) {
	img := image.NewRGBA(image.Rect(0, 0, 10, 10))
	if _, err := NonBlank(img, image.Rect(20, 20, 30, 30), 1); err == nil {
		t.Error("an area outside the image passes")
	}
	if n, err := NonBlank(img, img.Bounds(), 2); err == nil || n != 1 {
		t.Errorf("flat image: %d colours, %v", n, err)
	}
	img.Set(3, 3, color.RGBA{R: 255, A: 255})
	if n, err := NonBlank(img, img.Bounds(), 2); err != nil || n != 2 {
		t.Errorf("image with a dot: %d colours, %v", n, err)
	}
}

func TestMissingChromiumSaysWhatToInstall(t *testing.T) {
	t.Setenv("PATH", t.TempDir())
	_, err := lookPath()
	if err == nil || !strings.Contains(err.Error(), "Debian package chromium") || !strings.Contains(err.Error(), "scripts/test-deps.sh") {
		t.Errorf("lookPath without chromium: %v", err)
	}
}
