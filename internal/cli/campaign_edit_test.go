package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCampaignUpdateDelete: "campaign update" replaces a draft as "campaign show" then shows
// it, refuses a bad sender by name; "campaign delete" removes it, and an unknown id is an
// error.
func TestCampaignUpdateDelete(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "posthorn.toml")
	if err := os.WriteFile(cfg, []byte("data_dir = \""+filepath.Join(dir, "data")+"\"\nhostname = \"mx.example.org\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	html := filepath.Join(dir, "body.html")
	if err := os.WriteFile(html, []byte(`<p>Hello {{.Name}}</p>`), 0o600); err != nil {
		t.Fatal(err)
	}
	mustRun := func(args ...string) string {
		t.Helper()
		code, out, errOut := run(t, append([]string{"-c", cfg}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		return out
	}
	mustRun("domain", "add", "example.org")
	mustRun("list", "create", "news")
	mustRun("list", "create", "other")
	mustRun("campaign", "create", "june", "--from", "news@example.org", "--list", "news", "--subject", "June", "--html", html)
	if out := mustRun("campaign", "update", "1", "july", "--from", "News <news@example.org>", "--list", "news", "--list", "other",
		"--subject", "July", "--html", html, "--rate", "30", "--no-tracking"); out != "updated campaign 1 july (draft)\n" {
		t.Errorf("update: %q", out)
	}
	show := mustRun("campaign", "show", "1")
	for _, want := range []string{"campaign 1 july: draft", "lists: news, other", "subject: July", "rate: 30 per minute, tracking: off"} {
		if !strings.Contains(show, want) {
			t.Errorf("show lacks %q:\n%s", want, show)
		}
	}
	if code, _, errOut := run(t, "-c", cfg, "campaign", "update", "1", "july", "--from", "news@example.net", "--list", "news",
		"--subject", "x", "--html", html); code == 0 || !strings.Contains(errOut, "not a local domain") {
		t.Errorf("update with a foreign sender: exit %d, %q", code, errOut)
	}
	if out := mustRun("campaign", "delete", "1"); out != "deleted campaign 1\n" {
		t.Errorf("delete: %q", out)
	}
	if out := mustRun("campaign", "list"); out != "" {
		t.Errorf("list after delete: %q", out)
	}
	if code, _, errOut := run(t, "-c", cfg, "campaign", "delete", "1"); code == 0 || !strings.Contains(errOut, "unknown campaign 1") {
		t.Errorf("delete again: exit %d, %q", code, errOut)
	}
}
