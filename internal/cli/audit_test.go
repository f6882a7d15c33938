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

// TestAuditRecordsCLICampaignActions: bulk mail's commands are in the audit log with the
// operating system user as actor, and a template's content is not.
func TestAuditRecordsCLICampaignActions(t *testing.T) {
	cfg := traceData(t)
	html := filepath.Join(t.TempDir(), "body.html")
	if err := os.WriteFile(html, []byte(`<p>Secret offer for {{.Name}}</p>`), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, args := range [][]string{
		{"domain", "add", "example.org"},
		{"list", "create", "news"},
		{"subscriber", "add", "alice@example.net", "--list", "news"},
		{"suppression", "add", "bob@example.net"},
		{"suppression", "remove", "bob@example.net"},
		{"template", "add", "june", "--subject", "June", "--html", html},
		{"campaign", "create", "june", "--from", "news@example.org", "--list", "news", "--template", "june"},
		{"campaign", "cancel", "1"},
	} {
		if code, _, errOut := run(t, append([]string{"-c", cfg}, args...)...); code != 0 {
			t.Fatalf("%v: exit %d: %s", args, code, errOut)
		}
	}
	// A refused command records nothing.
	if code, _, _ := run(t, "-c", cfg, "campaign", "pause", "1"); code == 0 {
		t.Fatal("pause of a cancelled campaign succeeded")
	}
	code, out, errOut := run(t, "-c", cfg, "audit", "list", "--action", "campaign.")
	if code != 0 {
		t.Fatalf("audit list: exit %d: %s", code, errOut)
	}
	actor := cliActor().Name
	if !strings.Contains(out, "cli:"+actor) || !strings.Contains(out, "campaign.create") || !strings.Contains(out, "campaign.cancel") ||
		strings.Contains(out, "campaign.pause") {
		t.Errorf("audit list --action campaign.:\n%s", out)
	}

	file := filepath.Join(t.TempDir(), "audit.jsonl")
	if code, _, errOut := run(t, "-c", cfg, "audit", "export", file); code != 0 {
		t.Fatalf("export: exit %d: %s", code, errOut)
	}
	data, err := os.ReadFile(file)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, line := range strings.Split(strings.TrimSpace(string(data)), "\n") {
		var e audit.Entry
		if err := json.Unmarshal([]byte(line), &e); err != nil {
			t.Fatalf("%v: %q", err, line)
		}
		if e.ActorKind != audit.KindCLI || e.Actor != actor {
			t.Errorf("entry %+v: want actor cli:%s", e, actor)
		}
		if strings.Contains(string(e.Details), "Secret offer") {
			t.Errorf("entry %s holds the template's content: %s", e.Action, e.Details)
		}
		if e.Action != "domain.add" && e.Action != "user.add" {
			got = append(got, e.Action+" "+e.Target+" "+string(e.Details))
		}
	}
	want := []string{
		`list.create news {"opt_in":"single"}`,
		`subscriber.save alice@example.net {"list":"news","source":"cli","status":"confirmed"}`,
		`suppression.add bob@example.net {"reason":"manual","source":"cli"}`,
		`suppression.remove bob@example.net `,
		`template.create june `,
		`campaign.create 1 {"from":"news@example.org","lists":["news"],"name":"june","template":"june"}`,
		`campaign.cancel 1 {"status":"cancelled"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("campaign entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}
