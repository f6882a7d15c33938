package cli

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestImportMboxCommand: posthorn import mbox into a new account, then once more: the summary
// says what was copied and what was there already.
func TestImportMboxCommand(t *testing.T) {
	dir := t.TempDir()
	cfg := filepath.Join(dir, "posthorn.toml")
	if err := os.WriteFile(cfg, []byte("data_dir = \""+filepath.Join(dir, "data")+"\"\nhostname = \"mx.example.org\"\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	mbox := filepath.Join(dir, "mbox")
	text := "From a@example.net Mon Feb  2 03:04:05 2026\nSubject: one\n\n>From here\n\n" +
		"From b@example.net Mon Feb  2 03:04:06 2026\nSubject: two\n\nbody\n"
	if err := os.WriteFile(mbox, []byte(text), 0o600); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run(t, "-c", cfg, "domain", "add", "example.org"); code != 0 {
		t.Fatalf("domain add: %s %s", out, errOut)
	}
	var stdout, stderr strings.Builder
	if Main(t.Context(), []string{"-c", cfg, "user", "add", "alice@example.org", "--password-stdin"},
		strings.NewReader("correct horse battery\n"), &stdout, &stderr) != 0 {
		t.Fatalf("user add: %s %s", stdout.String(), stderr.String())
	}
	code, out, errOut := run(t, "-c", cfg, "import", "mbox", mbox, "--account", "alice@example.org", "--mailbox", "Old")
	if code != 0 || !strings.Contains(out, "2 copied, 0 skipped") {
		t.Fatalf("first import: %d %q %q", code, out, errOut)
	}
	code, out, errOut = run(t, "-c", cfg, "import", "mbox", mbox, "--account", "alice@example.org", "--mailbox", "Old")
	if code != 0 || !strings.Contains(out, "0 copied, 2 skipped (already there), 0 refused") {
		t.Fatalf("second import: %d %q %q", code, out, errOut)
	}
	if code, _, errOut = run(t, "-c", cfg, "import", "mbox", mbox); code == 0 || !strings.Contains(errOut, "--account is required") {
		t.Fatalf("without --account: %d %q", code, errOut)
	}
	if code, _, errOut = run(t, "-c", cfg, "import", "imap", "--host", "192.0.2.1", "--user", "u", "--password-stdin", "--tls", "--starttls", "--account", "alice@example.org"); code == 0 || !strings.Contains(errOut, "one of --tls") {
		t.Fatalf("two securities: %d %q", code, errOut)
	}
}
