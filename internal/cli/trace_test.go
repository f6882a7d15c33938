package cli

import (
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"posthorn/internal/app"
	"posthorn/internal/config"
	"posthorn/internal/mailtrace"
	"posthorn/internal/store"
)

// traceData writes a configuration whose data directory's mail log has one received message
// and its remote delivery, and returns the configuration's path.
func traceData(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "posthorn.toml")
	if err := os.WriteFile(path, []byte("data_dir = \""+filepath.Join(dir, "data")+"\"\nhostname = \"mx.example.org\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cfg, err := config.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	d, err := app.OpenData(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	at := time.Now().Add(-time.Hour).UTC().Truncate(time.Second)
	err = d.Store.(store.MailEventStore).AddMailEvents(t.Context(), []store.MailEvent{
		{Time: at, Event: "received", BlobID: "b1", MsgID: "m1@example.net", From: "bob@example.org",
			Rcpt: "alice@example.org,carol@example.com", Result: "queued", Code: "250 2.0.0", Remote: "192.0.2.1",
			Size: 99, Mailboxes: []store.MailEventMailbox{{Account: "alice@example.org", Mailbox: "INBOX"}}},
		{Time: at.Add(time.Second), Event: "delivered", BlobID: "b1", From: "bob@example.org", Rcpt: "carol@example.com",
			Result: "delivered", Code: "250", Remote: "mx.example.com", Size: 99},
	})
	if err := errors.Join(err, d.Close()); err != nil {
		t.Fatal(err)
	}
	return path
}

// run runs the command line and returns its status, standard output and error.
func run(t *testing.T, args ...string) (int, string, string) {
	t.Helper()
	var stdout, stderr strings.Builder
	code := Main(context.Background(), args, strings.NewReader(""), &stdout, &stderr)
	return code, stdout.String(), stderr.String()
}

func TestTraceSearch(t *testing.T) {
	cfg := traceData(t)
	code, out, errOut := run(t, "-c", cfg, "trace", "search", "--to", "carol@EXAMPLE.com", "--since", "2h")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 4 || !strings.HasPrefix(lines[0], "ID") || !strings.Contains(lines[1], "delivered") ||
		!strings.Contains(lines[2], "received") || !strings.Contains(lines[2], "b1") || lines[3] != "2 events" {
		t.Errorf("output:\n%s", out)
	}
	code, out, errOut = run(t, "-c", cfg, "trace", "search", "--limit", "1", "--json")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	var found mailtrace.Found
	if err := json.Unmarshal([]byte(out), &found); err != nil {
		t.Fatalf("%v: %s", err, out)
	}
	if len(found.Events) != 1 || found.Events[0].Event != "delivered" || found.Next != found.Events[0].ID {
		t.Errorf("JSON %+v", found)
	}
}

func TestTraceShow(t *testing.T) {
	cfg := traceData(t)
	for _, ref := range []string{"b1", "<m1@example.net>"} {
		code, out, errOut := run(t, "-c", cfg, "trace", "show", ref)
		if code != 0 {
			t.Fatalf("exit %d: %s", code, errOut)
		}
		for _, want := range []string{"received from bob@example.org", "stored", "delivered to alice@example.org, mailbox INBOX",
			"queued", "delivered to carol@example.com at mx.example.com: 250"} {
			if !strings.Contains(out, want) {
				t.Errorf("trace show %s lacks %q:\n%s", ref, want, out)
			}
		}
	}
	code, out, _ := run(t, "-c", cfg, "trace", "show", "b1", "--json")
	var traced mailtrace.Traced
	if err := json.Unmarshal([]byte(out), &traced); code != 0 || err != nil || len(traced.Steps) != 4 {
		t.Errorf("exit %d, %v: %s", code, err, out)
	}
}

// Every refusal is one line on standard error and exit status 1.
func TestTraceErrors(t *testing.T) {
	cfg := traceData(t)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"search", "--from", "bob"}, `posthorn: invalid address "bob": want local@domain`},
		{[]string{"search", "--since", "soon"}, `posthorn: since "soon": want an RFC 3339 time (2026-06-01T09:00:00Z) or a duration before now (24h, 7d)`},
		{[]string{"search", "--since", "1h", "--until", "2h"}, "posthorn: until "},
		{[]string{"search", "--limit", "5000"}, "posthorn: limit 5000: want 1 to 1000"},
		{[]string{"show", "nope"}, `posthorn: no message "nope" in the mail log`},
		{[]string{"show"}, "posthorn: posthorn trace show: want one message id (as trace search shows it) or Message-ID"},
	} {
		code, out, errOut := run(t, append([]string{"-c", cfg, "trace"}, tc.args...)...)
		if code != 1 || out != "" || strings.Count(errOut, "\n") != 1 || !strings.HasPrefix(errOut, tc.want) {
			t.Errorf("%q: exit %d, stdout %q, stderr %q; want one line %q", tc.args, code, out, errOut, tc.want)
		}
	}
}
