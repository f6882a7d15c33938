package cli

import (
	"archive/zip"
	"bytes"
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"posthorn/internal/app"
	"posthorn/internal/testutil/gdprtest"
)

// gdprData is traceData's configuration, whose mail log names alice@example.org and bob, with
// alice an account.
func gdprData(t *testing.T) (cfgPath, dataDir string) {
	t.Helper()
	cfgPath = traceData(t)
	run(t, "-c", cfgPath, "domain", "add", "example.org")
	var stdout, stderr strings.Builder
	if code := Main(t.Context(), []string{"-c", cfgPath, "user", "add", "alice@example.org", "--password-stdin"},
		strings.NewReader("correct horse battery staple\n"), &stdout, &stderr); code != 0 {
		t.Fatalf("user add: %s", stderr.String())
	}
	return cfgPath, filepath.Join(filepath.Dir(cfgPath), "data")
}

func TestGDPRExportCommand(t *testing.T) {
	cfg, _ := gdprData(t)
	file := filepath.Join(t.TempDir(), "alice.zip")
	code, out, errOut := run(t, "-c", cfg, "gdpr", "export", "Alice@example.org", file)
	if code != 0 || !strings.Contains(out, "exported alice@example.org to "+file) {
		t.Fatalf("export: exit %d: %s%s", code, out, errOut)
	}
	z, err := zip.OpenReader(file)
	if err != nil {
		t.Fatal(err)
	}
	defer z.Close()
	var idx struct {
		Address string   `json:"address"`
		Kinds   []string `json:"kinds"`
		Parts   []struct {
			Part  string `json:"part"`
			Count int64  `json:"count"`
		} `json:"parts"`
	}
	f, err := z.Open("index.json")
	if err != nil {
		t.Fatal(err)
	}
	b, err := io.ReadAll(f)
	if err != nil {
		t.Fatal(err)
	}
	if err := json.Unmarshal(b, &idx); err != nil || idx.Address != "alice@example.org" ||
		strings.Join(idx.Kinds, ",") != "account,correspondent" {
		t.Fatalf("index.json: %v\n%s", err, b)
	}
	if _, err := os.Stat(file + ".partial"); !os.IsNotExist(err) {
		t.Errorf("%s.partial left behind: %v", file, err)
	}
	if code, _, errOut := run(t, "-c", cfg, "gdpr", "export", "alice@example.org", file); code == 0 ||
		!strings.Contains(errOut, "exists already") {
		t.Errorf("export over a file: exit %d, %q", code, errOut)
	}
	if code, _, errOut := run(t, "-c", cfg, "gdpr", "export", "alice@example.org"); code == 0 ||
		!strings.Contains(errOut, "want ADDRESS FILE") {
		t.Errorf("export without FILE: exit %d, %q", code, errOut)
	}
}

func TestGDPREraseCommand(t *testing.T) {
	cfg, data := gdprData(t)
	for _, tc := range []struct{ addr, want string }{
		{"nobody@example.org", "nothing is held about nobody@example.org"},
		{"not an address", "not an address"},
	} {
		if code, _, errOut := run(t, "-c", cfg, "gdpr", "erase", tc.addr); code != 1 || !strings.Contains(errOut, tc.want) {
			t.Errorf("erase %q: exit %d, %q", tc.addr, code, errOut)
		}
	}

	db := app.DatabaseFile(data)
	before, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	code, out, errOut := run(t, "-c", cfg, "gdpr", "erase", "alice@example.org", "--dry-run")
	if code != 0 || !strings.Contains(out, "would erase alice@example.org") || !strings.Contains(out, "mail_log") ||
		!strings.Contains(out, "dry run: nothing changed") {
		t.Fatalf("dry run: exit %d: %s%s", code, out, errOut)
	}
	after, err := os.ReadFile(db)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(before, after) {
		t.Error("a dry run changed the database file")
	}

	code, out, errOut = run(t, "-c", cfg, "gdpr", "erase", "alice@example.org")
	if code != 0 || !strings.Contains(out, "erased alice@example.org") || !strings.Contains(out, "pseudonym in the mail log and audit log: ") ||
		!strings.Contains(out, "@erased.invalid") {
		t.Fatalf("erase: exit %d: %s%s", code, out, errOut)
	}
	if files := gdprtest.FilesHolding(t, data, "alice@example.org"); len(files) > 0 {
		t.Errorf("after erasure alice is in %v", files)
	}
	code, out, _ = run(t, "-c", cfg, "audit", "list", "--action", "gdpr.erase")
	if code != 0 || !strings.Contains(out, "gdpr.erase") || !strings.Contains(out, "@erased.invalid") {
		t.Errorf("audit list: %s", out)
	}
	code, out, _ = run(t, "-c", cfg, "trace", "search", "--from", "bob@example.org")
	if code != 0 || !strings.Contains(out, "2 events") || !strings.Contains(out, "@erased.invalid,carol@example.com") {
		t.Errorf("the mail log after erasure: %s", out)
	}
}
