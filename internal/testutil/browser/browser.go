// Package browser drives Debian's chromium, headless, through chromedp for the web UI's browser
// tests: a test logs in through the real forms and checks what a user sees, as a user's browser
// would show it (cookies, redirects, the Content-Security-Policy, forms without JavaScript).
//
// New starts one chromium per test with its own profile directory under t.TempDir() (so tests
// share no cookies) and returns a Browser bound to one tab; the browser stops when the test
// ends. The first chromedp.Run on a context starts the process and must not carry a deadline
// (the deadline would end the browser), so New runs an empty step first and Do gives every later
// batch of steps its own deadline: a test never hangs on a page that does not come.
//
// chromium is looked up as "chromium" on PATH (Debian's package; scripts/test-deps.sh installs
// it). When it is missing the test fails, naming the package to install: a browser test that
// quietly skips would hide that the UI was never driven.
//
// The sandbox is turned off when the tests run as root (containers, CI), because chromium
// refuses to start sandboxed as root; the pages are the test's own.
package browser

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// Program is the name of the browser binary looked up on PATH: Debian's chromium.
const Program = "chromium"

// StepTimeout is how long one Do may take before the test fails.
const StepTimeout = 30 * time.Second

// Browser is one headless chromium with one tab, for one test.
type Browser struct {
	t   testing.TB
	ctx context.Context // the tab's chromedp context
}

// Path returns the absolute path of chromium, failing the test with what to install when there
// is none.
func Path(t testing.TB) string {
	t.Helper()
	path, err := lookPath()
	if err != nil {
		t.Fatal(err)
	}
	return path
}

// lookPath finds chromium on PATH, or says what to install.
func lookPath() (string, error) {
	path, err := exec.LookPath(Program)
	if err != nil {
		return "", fmt.Errorf("the browser tests need %s (Debian package chromium; scripts/test-deps.sh installs it): %w", Program, err)
	}
	return path, nil
}

// New starts a headless chromium for the test and returns its tab. The browser's output goes to
// the test log; the browser stops, and its profile is removed, when the test ends.
func New(t testing.TB) *Browser {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(Path(t)),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.DisableGPU,
		// A fixed window size keeps screenshots and layout the same from run to run.
		chromedp.WindowSize(1280, 900),
	)
	if os.Geteuid() == 0 {
		opts = append(opts, chromedp.NoSandbox)
	}
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	tabCtx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithErrorf(t.Logf))
	t.Cleanup(func() {
		cancelTab()
		cancelAlloc()
	})
	// Start the browser now, without a deadline (see the package doc); a browser that does not
	// start fails the test here rather than in its first step.
	started := make(chan error, 1)
	go func() { started <- chromedp.Do(tabCtx) }()
	select {
	case err := <-started:
		if err != nil {
			t.Fatalf("start %s: %v", Program, err)
		}
	case <-time.After(StepTimeout):
		t.Fatalf("start %s: no browser after %v", Program, StepTimeout)
	}
	return &Browser{t: t, ctx: tabCtx}
}

// Context returns the tab's chromedp context, for chromedp.Run with actions that return a value;
// derive a deadline from it (context.WithTimeout) as Do does.
func (b *Browser) Context() context.Context { return b.ctx }

// Do runs steps in the tab, in order, within StepTimeout, and fails the test at the first error,
// naming what.
func (b *Browser) Do(what string, steps ...chromedp.Action[chromedp.Void]) {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, StepTimeout)
	defer cancel()
	if err := chromedp.Do(ctx, steps...); err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
}

// Text returns the visible text of the first element matching the CSS selector, waiting (within
// StepTimeout) for it to be visible.
func (b *Browser) Text(selector string) string {
	b.t.Helper()
	return run(b, "text of "+selector, chromedp.Text(chromedp.CSS(selector), chromedp.NodeVisible))
}

// Location returns the URL of the page the tab shows.
func (b *Browser) Location() string {
	b.t.Helper()
	return run(b, "location", chromedp.Location())
}

// Screenshot captures the tab's viewport, stores it as NAME.png in the test's artifact
// directory (ArtifactDir) and returns it decoded, to be checked (NonBlank).
func (b *Browser) Screenshot(name string) image.Image {
	b.t.Helper()
	return b.save(name, run(b, "screenshot "+name, chromedp.CaptureScreenshot()))
}

// ScreenshotOf captures the first element matching the CSS selector (scrolled into view,
// waited for within StepTimeout), stores it as NAME.png in the test's artifact directory and
// returns it decoded.
func (b *Browser) ScreenshotOf(selector, name string) image.Image {
	b.t.Helper()
	return b.save(name, run(b, "screenshot of "+selector, chromedp.Screenshot(chromedp.CSS(selector))))
}

// save writes a PNG screenshot as NAME.png into ArtifactDir, logs its path and decodes it.
func (b *Browser) save(name string, shot []byte) image.Image {
	b.t.Helper()
	path := filepath.Join(ArtifactDir(b.t), name+".png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		b.t.Fatalf("save screenshot: %v", err)
	}
	img, err := png.Decode(bytes.NewReader(shot))
	if err != nil {
		b.t.Fatalf("decode screenshot %s: %v", path, err)
	}
	b.t.Logf("screenshot %s", path)
	return img
}

// ArtifactsEnv names the directory where tests keep what they produce for people to look at
// (screenshots), each test in a directory of its own name.
const ArtifactsEnv = "POSTHORN_TEST_ARTIFACTS"

// ArtifactDir is the test's directory for artifacts: under $POSTHORN_TEST_ARTIFACTS when set
// (made if missing, kept after the test), else the test's own (testing.T.ArtifactDir: kept
// with go test -artifacts, removed with the test otherwise).
func ArtifactDir(t testing.TB) string {
	t.Helper()
	root := os.Getenv(ArtifactsEnv)
	if root == "" {
		return t.ArtifactDir()
	}
	dir := filepath.Join(root, strings.Map(func(r rune) rune {
		if r == '/' || r == '\\' || r == ':' || r == ' ' {
			return '_'
		}
		return r
	}, t.Name()))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatalf("artifact directory: %v", err)
	}
	return dir
}

// run runs one action that returns a value, within StepTimeout.
func run[T any](b *Browser, what string, a chromedp.Action[T]) T {
	b.t.Helper()
	ctx, cancel := context.WithTimeout(b.ctx, StepTimeout)
	defer cancel()
	v, err := chromedp.Run(ctx, a)
	if err != nil {
		b.t.Fatalf("%s: %v", what, err)
	}
	return v
}

// NonBlank reports how many distinct colours the area r of img has, and an error when it has
// fewer than minColours: a chart or a page that was not drawn is one flat colour.
func NonBlank(img image.Image, r image.Rectangle, minColours int) (int, error) {
	r = r.Intersect(img.Bounds())
	if r.Empty() {
		return 0, fmt.Errorf("area %v lies outside the image %v", r, img.Bounds())
	}
	seen := map[[4]uint32]bool{}
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, ca := img.At(x, y).RGBA()
			seen[[4]uint32{cr, cg, cb, ca}] = true
		}
	}
	if len(seen) < minColours {
		return len(seen), fmt.Errorf("area %v has %d colours, want at least %d: nothing is drawn there", r, len(seen), minColours)
	}
	return len(seen), nil
}

// CountNear counts the pixels of img whose colour is within tolerance of want in each of red,
// green and blue (8-bit): how much of a chart's bar colour a screenshot shows, say.
func CountNear(img image.Image, want color.Color, tolerance uint8) int {
	wr, wg, wb, _ := want.RGBA()
	near := func(a, b uint32) bool {
		a, b = a>>8, b>>8
		return max(a, b)-min(a, b) <= uint32(tolerance)
	}
	n := 0
	r := img.Bounds()
	for y := r.Min.Y; y < r.Max.Y; y++ {
		for x := r.Min.X; x < r.Max.X; x++ {
			cr, cg, cb, _ := img.At(x, y).RGBA()
			if near(cr, wr) && near(cg, wg) && near(cb, wb) {
				n++
			}
		}
	}
	return n
}
