package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"posthorn/internal/audit"
)

// TestAuditRecordsCLIActions checks that admin commands are recorded in the audit log with
// the operating system user as actor, and that audit list filters and audit export writes
// one JSON object per entry.
func TestAuditRecordsCLIActions(t *testing.T) {
	cfg := traceData(t)
	for _, args := range [][]string{
		{"domain", "add", "example.net"},
		{"alias", "add", "info@example.net", "alice@example.net"},
		{"domain", "add", "bad domain"},
	} {
		run(t, append([]string{"-c", cfg}, args...)...)
	}
	var stdout, stderr strings.Builder
	if code := Main(t.Context(), []string{"-c", cfg, "user", "add", "alice@example.net", "--password-stdin"},
		strings.NewReader("correct horse battery staple\n"), &stdout, &stderr); code != 0 {
		t.Fatalf("user add: %s", stderr.String())
	}
	run(t, "-c", cfg, "alias", "add", "info@example.net", "alice@example.net")
	code, out, errOut := run(t, "-c", cfg, "audit", "list", "--action", "domain.")
	if code != 0 {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	actor := cliActor().Name
	if !strings.Contains(out, "cli:"+actor) || !strings.Contains(out, "domain.add") || !strings.Contains(out, "example.net") ||
		strings.Contains(out, "bad domain") || strings.Contains(out, "alias.add") {
		t.Errorf("audit list --action domain.:\n%s", out)
	}
	file := filepath.Join(t.TempDir(), "audit.jsonl")
	if code, _, errOut := run(t, "-c", cfg, "audit", "export", file); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e audit.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		if e.ActorKind != audit.KindCLI || e.Actor != actor {
			t.Errorf("entry %+v: want actor cli:%s", e, actor)
		}
		actions = append(actions, e.Action+" "+e.Target)
	}
	if got := strings.Join(actions, ", "); !strings.Contains(got, "domain.add example.net") ||
		!strings.Contains(got, "alias.add info@example.net") {
		t.Errorf("exported actions: %s", got)
	}
	if code, _, errOut := run(t, "-c", cfg, "audit", "list", "--actor-kind", "nobody"); code == 0 || !strings.Contains(errOut, "--actor-kind") {
		t.Errorf("bad --actor-kind: exit %d, %q", code, errOut)
	}
}
