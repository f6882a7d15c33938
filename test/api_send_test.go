package test

import (
	"encoding/json"
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestAPISend: an account token sends through the running server's POST /api/v1/send; the
// messages reach the sink through the queue, a retry with the Idempotency-Key answers the same
// send and sends nothing again, and a From of another account is refused with 403.
func TestAPISend(t *testing.T) {
	t.Parallel()
	sink := startCountingSink(t, 0)
	sink.mu.Lock()
	sink.open = true
	sink.mu.Unlock()
	s := NewServer(t, "[delivery]\nsmarthost = \""+sink.addr+"\"\n")
	s.Start()
	s.MustCLI("", "domain", "add", "example.org")
	s.MustCLI("alice password\n", "user", "add", "alice@example.org", "--password-stdin")
	token := regexp.MustCompile(`ph_\d+_[a-z2-7]{52}`).FindString(s.MustCLI("", "token", "create", "--account", "alice@example.org", "app"))
	if token == "" {
		t.Fatal("token create printed no token")
	}
	post := func(key string, body string) (int, map[string]any) {
		t.Helper()
		req, err := http.NewRequestWithContext(t.Context(), "POST", "http://"+s.HTTP+"/api/v1/send", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", key)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		raw, _ := io.ReadAll(resp.Body)
		var out map[string]any
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatalf("answer %d %s: %v", resp.StatusCode, raw, err)
		}
		return resp.StatusCode, out
	}
	body := `{"from": "Alice <alice@example.org>", "to": ["ann@remote.example", "bo@remote.example"],
		"subject": "Your code", "text": "Your code is {{attr \"code\"}}.", "data": {"code": "4711"}}`
	status, first := post("reset-1", body)
	if status != http.StatusCreated || first["replayed"] != false {
		t.Fatalf("send: %d %v", status, first)
	}
	waitUntil(t, 30*time.Second, "both messages at the sink", func() bool {
		distinct, _, _ := sink.counts()
		return distinct == 2
	})
	waitUntil(t, 10*time.Second, "an empty queue", func() bool {
		return strings.HasSuffix(s.MustCLI("", "queue", "list"), "0 queued\n")
	})
	status, again := post("reset-1", body)
	if status != http.StatusOK || again["replayed"] != true || again["id"] != first["id"] {
		t.Errorf("retry: %d %v, first %v", status, again, first)
	}
	if out := s.MustCLI("", "queue", "list"); !strings.HasSuffix(out, "0 queued\n") {
		t.Errorf("the retry queued mail:\n%s", out)
	}
	if distinct, total, _ := sink.counts(); distinct != 2 || total != 2 {
		t.Errorf("sink has %d messages, %d copies", distinct, total)
	}
	status, refused := post("other", `{"from": "postmaster@example.org", "to": ["ann@remote.example"], "subject": "x", "text": "y"}`)
	if e, _ := refused["error"].(map[string]any); status != http.StatusForbidden || e["field"] != "from" {
		t.Errorf("another's From: %d %v", status, refused)
	}
}
