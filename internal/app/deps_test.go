package app

import (
	"bytes"
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// protocols are the packages of the listeners' sessions (the protocols layer of
// docs/architecture.md).
var protocols = []string{
	"posthorn/internal/smtpserver",
	"posthorn/internal/imapserver",
	"posthorn/internal/pop3server",
	"posthorn/internal/web",
}

// dependencyRules are the rules of docs/architecture.md ("Dependency rules") that the
// compiler does not keep: no package of from, nor a package below one of them, may import
// forbidden or a package below it, directly or through others. Test files do not count.
var dependencyRules = []struct {
	from      []string
	forbidden string
	why       string
}{
	{[]string{"posthorn/internal/auth"}, "posthorn/internal/store",
		"the mechanisms of authentication work on values; package credentials gives them the accounts"},
	{protocols, "posthorn/internal/store/sqlite",
		"sessions see the store through its interfaces; internal/app picks the backend"},
	{protocols, "posthorn/internal/blob",
		"sessions read bodies through internal/bodystore and write new ones through internal/delivery"},
	{protocols, "posthorn/internal/bodystore/pgbody",
		"sessions read bodies through internal/bodystore and write new ones through internal/delivery"},
	{[]string{"posthorn/internal/importer"}, "posthorn/internal/store/sqlite",
		"an import stores messages through internal/delivery and the store's interfaces, as IMAP APPEND does"},
	{[]string{"posthorn/internal/importer"}, "posthorn/internal/blob",
		"an import writes bodies through internal/delivery only"},
	{[]string{"posthorn/internal/gdpr"}, "posthorn/internal/store/sqlite",
		"personal data is found and erased through store.GDPRStore, which every backend implements"},
}

// TestDependencyRules lists the packages of every rule with go list, which reports each one's
// transitive imports without those of its tests, and fails for every forbidden one found.
func TestDependencyRules(t *testing.T) {
	var patterns []string
	for _, r := range dependencyRules {
		for _, p := range r.from {
			patterns = append(patterns, p, p+"/...")
		}
		// Listed too, so that a rule naming a package that no longer exists fails instead of
		// holding for nothing.
		patterns = append(patterns, r.forbidden)
	}
	deps := listDeps(t, patterns)
	for _, r := range dependencyRules {
		if _, ok := deps[r.forbidden]; !ok {
			t.Errorf("rule against %s: no such package", r.forbidden)
		}
		for _, from := range r.from {
			if _, ok := deps[from]; !ok {
				t.Errorf("rule for %s: no such package", from)
			}
		}
		for pkg, imports := range deps {
			if !slices.ContainsFunc(r.from, func(from string) bool { return within(pkg, from) }) {
				continue
			}
			for _, dep := range imports {
				if within(dep, r.forbidden) {
					t.Errorf("%s depends on %s (%s)", pkg, dep, r.why)
				}
			}
		}
	}
}

// listDeps returns, for every package matching patterns, its transitive imports outside the
// standard library, test files aside.
func listDeps(t *testing.T, patterns []string) map[string][]string {
	t.Helper()
	args := append([]string{"list", "-f", "{{.ImportPath}}{{range .Deps}} {{.}}{{end}}"}, patterns...)
	cmd := exec.Command("go", args...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		t.Fatalf("go list: %v\n%s", err, stderr.String())
	}
	deps := map[string][]string{}
	for line := range strings.Lines(string(out)) {
		fields := strings.Fields(line)
		if len(fields) == 0 {
			continue
		}
		deps[fields[0]] = slices.DeleteFunc(fields[1:], func(dep string) bool { return !strings.HasPrefix(dep, "posthorn/") })
	}
	return deps
}

// within reports whether pkg is parent or a package below it.
func within(pkg, parent string) bool {
	return pkg == parent || strings.HasPrefix(pkg, parent+"/")
}

// TestWithin guards the prefix match the rules rely on: internal/store must not catch
// internal/storefoo.
func TestWithin(t *testing.T) {
	for _, tc := range []struct {
		pkg, parent string
		want        bool
	}{
		{"posthorn/internal/store", "posthorn/internal/store", true},
		{"posthorn/internal/store/sqlite", "posthorn/internal/store", true},
		{"posthorn/internal/storetest", "posthorn/internal/store", false},
		{"posthorn/internal/imapserver/wire", "posthorn/internal/imapserver", true},
	} {
		if got := within(tc.pkg, tc.parent); got != tc.want {
			t.Errorf("within(%q, %q) = %v, want %v", tc.pkg, tc.parent, got, tc.want)
		}
	}
}
