package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"

	"posthorn/internal/config"
)

// The web UI is on by default: the http listener serves the login page, and the account pages
// send a stranger there; with http.ui off, neither exists.
func TestWebUIMounted(t *testing.T) {
	_, listening := startEverything(t)
	resp, err := http.Get("http://" + listening.HTTP + "/login")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), `name="password"`) {
		t.Fatalf("GET /login: %s\n%s", resp.Status, body)
	}
	if resp.Header.Get("Content-Security-Policy") == "" {
		t.Error("no Content-Security-Policy")
	}
	// The campaign pages are wired to the campaign service: a stranger is sent to log in.
	noRedirect := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for _, path := range []string{"/admin/", "/admin/campaigns", "/admin/campaigns/1"} {
		resp, err := noRedirect.Get("http://" + listening.HTTP + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/login" {
			t.Errorf("GET %s: %s to %q, want 303 to /login", path, resp.Status, resp.Header.Get("Location"))
		}
	}

	cfg := config.Default()
	cfg.Hostname = "mx.test.example"
	cfg.DataDir = t.TempDir()
	cfg.Listen = config.Listen{HTTP: "127.0.0.1:0"}
	cfg.HTTP.UI = false
	if err := cfg.Validate(); err != nil {
		t.Fatal(err)
	}
	s, off, err := Start(context.Background(), cfg, slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := s.Shutdown(); err != nil {
			t.Error(err)
		}
	})
	resp, err = http.Get("http://" + off.HTTP + "/login")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound {
		t.Fatalf("GET /login with the UI off: %s", resp.Status)
	}
}
