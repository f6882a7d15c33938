package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"posthorn/internal/app"
	"posthorn/internal/config"
	"posthorn/internal/delivery"
	"posthorn/internal/store"
)

// retentionData writes a configuration with the [retention] rules given and returns its path.
func retentionData(t *testing.T, rules string) string {
	t.Helper()
	dir := t.TempDir()
	path := filepath.Join(dir, "posthorn.toml")
	text := "data_dir = \"" + filepath.Join(dir, "data") + "\"\nhostname = \"mx.example.org\"\n[retention]\n" + rules
	if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// deliverOld stores a message dated days ago in a mailbox of each address.
func deliverOld(t *testing.T, cfgPath, mailbox string, days int, addrs ...string) {
	t.Helper()
	cfg, err := config.Load(cfgPath)
	if err != nil {
		t.Fatal(err)
	}
	d, err := app.OpenData(t.Context(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	c := delivery.New(d.Store, d.Blobs.Bodies(), slog.New(slog.DiscardHandler))
	at := time.Now().Add(-time.Duration(days) * 24 * time.Hour)
	for _, addr := range addrs {
		acc, err := d.Store.GetAccount(t.Context(), addr)
		if err != nil {
			t.Fatal(err)
		}
		draft, err := c.NewDraft(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(draft, "Subject: old\r\n\r\nold\r\n")
		_, err = draft.Commit(t.Context(), delivery.Message{InternalDate: at, Targets: []store.Target{{AccountID: acc.ID, Mailbox: mailbox}}})
		draft.Abort()
		if err != nil {
			t.Fatal(err)
		}
	}
	err = d.Store.(store.MailEventStore).AddMailEvents(t.Context(), []store.MailEvent{
		{Time: at, Event: "received", MsgID: "old@example.net", From: "x@example.net", Rcpt: "alice@example.org"}})
	c.Close()
	if err := errors.Join(err, d.Close()); err != nil {
		t.Fatal(err)
	}
}

func TestRetentionRunAndLegalHold(t *testing.T) {
	cfg := retentionData(t, "junk_days = 30\nmail_log_days = 30\n")
	mustRun := func(args ...string) string {
		t.Helper()
		code, out, errOut := run(t, append([]string{"-c", cfg}, args...)...)
		if code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
		return out
	}
	mustRun("domain", "add", "example.org")
	for _, addr := range []string{"alice@example.org", "carol@example.org"} {
		var stdout, stderr strings.Builder
		if code := Main(t.Context(), []string{"-c", cfg, "user", "add", addr, "--password-stdin"},
			strings.NewReader("correct horse battery staple\n"), &stdout, &stderr); code != 0 {
			t.Fatalf("user add: %s", stderr.String())
		}
	}
	deliverOld(t, cfg, "Junk", 40, "alice@example.org", "carol@example.org")

	if out := mustRun("user", "hold", "carol@example.org", "on"); !strings.HasPrefix(out, "carol@example.org is under legal hold since ") {
		t.Errorf("user hold on: %q", out)
	}
	if out := mustRun("user", "hold", "alice@example.org"); out != "alice@example.org is not under legal hold\n" {
		t.Errorf("user hold: %q", out)
	}
	if out := mustRun("user", "list"); out != "alice@example.org\ncarol@example.org (legal hold)\n" {
		t.Errorf("user list:\n%s", out)
	}
	if out := mustRun("user", "show", "carol@example.org"); !strings.Contains(out, "legal hold: since ") ||
		!strings.Contains(out, "used:       0.0 MiB in 1 messages") {
		t.Errorf("user show:\n%s", out)
	}

	out := mustRun("retention", "run", "--dry-run")
	want := "alice@example.org Junk: would remove 1 messages older than 30 days\n" +
		"would remove 1 messages, 1 mail log events, 0 tracking events, 0 login sources, 0 web logins\n" +
		"skipped 1 accounts under legal hold\n"
	if out != want {
		t.Errorf("retention run --dry-run:\n%s\nwant:\n%s", out, want)
	}
	if out := mustRun("user", "quota", "alice@example.org"); !strings.Contains(out, "by 1 messages") {
		t.Errorf("after the dry run: %s", out)
	}
	out = mustRun("retention", "run")
	if !strings.Contains(out, "alice@example.org Junk: removed 1 messages older than 30 days\n") ||
		!strings.Contains(out, "removed 1 messages, 1 mail log events") {
		t.Errorf("retention run:\n%s", out)
	}
	if out := mustRun("user", "quota", "alice@example.org"); !strings.Contains(out, "by 0 messages") {
		t.Errorf("alice after the run: %s", out)
	}
	if out := mustRun("user", "quota", "carol@example.org"); !strings.Contains(out, "by 1 messages") {
		t.Errorf("carol (held) after the run: %s", out)
	}
	out = mustRun("audit", "list", "--action", "retention.")
	if strings.Count(out, "retention.run") != 1 || !strings.Contains(out, `"messages":1`) {
		t.Errorf("audit list --action retention.:\n%s", out)
	}
	if out := mustRun("audit", "list", "--action", "user.legal_hold"); !strings.Contains(out, "carol@example.org") {
		t.Errorf("audit of the hold:\n%s", out)
	}

	mustRun("user", "legal-hold", "carol@example.org", "off")
	if out := mustRun("user", "list"); out != "alice@example.org\ncarol@example.org\n" {
		t.Errorf("user list after lifting the hold:\n%s", out)
	}
	if out := mustRun("retention", "run"); !strings.Contains(out, "carol@example.org Junk: removed 1 messages") {
		t.Errorf("run after lifting the hold:\n%s", out)
	}

	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"user", "hold", "carol@example.org", "maybe"}, `want on or off, not "maybe"`},
		{[]string{"user", "hold", "nobody@example.org", "on"}, "unknown user nobody@example.org"},
		{[]string{"user", "hold"}, "want an address"},
		{[]string{"retention", "run", "extra"}, "unknown command"},
	} {
		if code, _, errOut := run(t, append([]string{"-c", cfg}, tc.args...)...); code == 0 || !strings.Contains(errOut, tc.want) {
			t.Errorf("%v: exit %d, %q; want an error with %q", tc.args, code, errOut, tc.want)
		}
	}
	bad := retentionData(t, "junk_days = -1\n")
	if code, _, errOut := run(t, "-c", bad, "retention", "run"); code == 0 || !strings.Contains(errOut, "key retention.junk_days") {
		t.Errorf("bad rule: exit %d, %q", code, errOut)
	}
}
