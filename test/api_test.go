package test

import (
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
)

// TestAPIToken: a token made by `posthorn token create --admin` works against the running
// server, whose campaign stats are byte for byte those of `posthorn campaign stats ID --json`,
// and `posthorn token revoke` makes it 401 at once.
func TestAPIToken(t *testing.T) {
	t.Parallel()
	s := NewServer(t, "[campaign]\npublic_url = \"https://news.example.org\"\n")
	s.Start()
	s.MustCLI("", "domain", "add", "example.org")
	s.MustCLI("", "list", "create", "news")
	s.MustCLI("", "subscriber", "add", "ann@remote.example", "--list", "news")
	text := filepath.Join(s.Dir, "june.txt")
	if err := os.WriteFile(text, []byte("Hello {{.Name}}\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	s.MustCLI("", "campaign", "create", "june", "--from", "news@example.org", "--list", "news", "--subject", "Hi", "--text", text)

	out := s.MustCLI("", "token", "create", "--admin", "deploy")
	token := regexp.MustCompile(`ph_(\d+)_[a-z2-7]{52}`).FindStringSubmatch(out)
	if token == nil || !strings.Contains(out, "cannot be shown again") {
		t.Fatalf("token create printed:\n%s", out)
	}
	get := func(path, bearer string) (int, string) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), "GET", "http://"+s.HTTP+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}
	status, body := get("/api/v1/campaigns/1/stats", token[0])
	cli := s.MustCLI("", "campaign", "stats", "1", "--json")
	if status != http.StatusOK || body != cli {
		t.Fatalf("GET stats: %d\n%s\nwant the CLI's:\n%s", status, body, cli)
	}
	if status, body := get("/api/v1/openapi.json", ""); status != http.StatusOK || !json.Valid([]byte(body)) {
		t.Errorf("openapi.json: %d", status)
	}
	if status, _ := get("/api/v1/campaigns", ""); status != http.StatusUnauthorized {
		t.Errorf("without a token: %d", status)
	}

	if out := s.MustCLI("", "token", "list"); !strings.Contains(out, token[1]+" deploy (admin)") || strings.Contains(out, "last used never") {
		t.Errorf("token list:\n%s", out)
	}
	s.MustCLI("", "token", "revoke", token[1])
	status, body = get("/api/v1/campaigns/1/stats", token[0])
	var e struct {
		Error struct{ Code string }
	}
	if status != http.StatusUnauthorized || json.Unmarshal([]byte(body), &e) != nil || e.Error.Code != "unauthorized" {
		t.Errorf("revoked token: %d %s", status, body)
	}
}
