package storetest

import (
	"strings"
	"testing"
	"time"

	"posthorn/internal/store"
)

// AuditBackend is a store that keeps the audit log.
type AuditBackend interface {
	store.Store
	store.AuditStore
}

// RunAudit runs the conformance tests of the audit log; open returns a new, empty store. It
// pins down: an entry reads back as appended, in id order; each filter field selects; an
// action ending in "." selects the actions on one kind of object; AfterID and Limit page;
// pseudonymising replaces the personal string in actor, target and details whatever its case,
// and leaves every other entry alone.
func RunAudit(t *testing.T, open func(t *testing.T) AuditBackend) {
	for _, tc := range []struct {
		name string
		fn   func(*testing.T, AuditBackend)
	}{
		{"AppendList", testAuditAppendList},
		{"Filters", testAuditFilters},
		{"Pseudonymise", testAuditPseudonymise},
	} {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open(t)) })
	}
}

var auditBase = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

func appendAudit(t *testing.T, s AuditBackend, minutes int, kind, actor, action, target, details string) store.AuditEntry {
	t.Helper()
	e, err := s.AppendAudit(t.Context(), store.AuditEntry{Time: auditBase.Add(time.Duration(minutes) * time.Minute),
		ActorKind: kind, Actor: actor, Action: action, Target: target, Details: details})
	must(t, err)
	return e
}

func testAuditAppendList(t *testing.T, s AuditBackend) {
	a := appendAudit(t, s, 0, "cli", "root", "domain.add", "example.org", "")
	b := appendAudit(t, s, 1, "api", "token 3 (deploy)", "user.add", "alice@example.org", `{"quota":"1G"}`)
	if a.ID == 0 || b.ID <= a.ID {
		t.Fatalf("ids %d, %d: want ascending from 1", a.ID, b.ID)
	}
	got, err := s.ListAudit(t.Context(), store.AuditFilter{})
	must(t, err)
	if len(got) != 2 || got[0] != a || got[1] != b {
		t.Fatalf("list = %+v, want %+v and %+v", got, a, b)
	}
	if !got[1].Time.Equal(auditBase.Add(time.Minute)) || got[1].Details != `{"quota":"1G"}` {
		t.Fatalf("entry read back as %+v", got[1])
	}
	now, err := s.AppendAudit(t.Context(), store.AuditEntry{ActorKind: "system", Action: "retention.run"})
	must(t, err)
	if now.Time.IsZero() {
		t.Fatal("an entry without time got none")
	}
}

func testAuditFilters(t *testing.T, s AuditBackend) {
	appendAudit(t, s, 0, "cli", "root", "domain.add", "example.org", "")
	appendAudit(t, s, 10, "api", "token 1 (ops)", "user.add", "alice@example.org", "")
	appendAudit(t, s, 20, "web", "admin@example.org", "user.remove", "bob@example.org", "")
	appendAudit(t, s, 30, "cli", "root", "queue.delete", "42", "")
	ids := func(f store.AuditFilter) string {
		t.Helper()
		got, err := s.ListAudit(t.Context(), f)
		must(t, err)
		var out []string
		for _, e := range got {
			out = append(out, e.Action)
		}
		return strings.Join(out, ",")
	}
	for _, tc := range []struct {
		f    store.AuditFilter
		want string
	}{
		{store.AuditFilter{Since: auditBase.Add(10 * time.Minute)}, "user.add,user.remove,queue.delete"},
		{store.AuditFilter{Until: auditBase.Add(20 * time.Minute)}, "domain.add,user.add"},
		{store.AuditFilter{ActorKind: "cli"}, "domain.add,queue.delete"},
		{store.AuditFilter{Actor: "admin@example.org"}, "user.remove"},
		{store.AuditFilter{Action: "user."}, "user.add,user.remove"},
		{store.AuditFilter{Action: "user.add"}, "user.add"},
		{store.AuditFilter{Action: "user"}, ""},
		{store.AuditFilter{Target: "42"}, "queue.delete"},
		{store.AuditFilter{Limit: 2}, "domain.add,user.add"},
	} {
		if got := ids(tc.f); got != tc.want {
			t.Errorf("filter %+v: %q, want %q", tc.f, got, tc.want)
		}
	}
	first, err := s.ListAudit(t.Context(), store.AuditFilter{Limit: 2})
	must(t, err)
	if got := ids(store.AuditFilter{AfterID: first[1].ID}); got != "user.remove,queue.delete" {
		t.Errorf("after id %d: %q", first[1].ID, got)
	}
}

func testAuditPseudonymise(t *testing.T, s AuditBackend) {
	keep := appendAudit(t, s, 0, "cli", "root", "domain.add", "example.org", "")
	appendAudit(t, s, 1, "web", "Alice@Example.org", "user.password", "alice@example.org", `{"by":"ALICE@example.org"}`)
	appendAudit(t, s, 2, "cli", "root", "alias.add", "info@example.org", `{"targets":["alice@example.org","bob@example.org"]}`)
	n, err := s.PseudonymiseAudit(t.Context(), "alice@example.org", "erased:1f2e")
	must(t, err)
	if n != 2 {
		t.Fatalf("pseudonymised %d entries, want 2", n)
	}
	got, err := s.ListAudit(t.Context(), store.AuditFilter{})
	must(t, err)
	if got[0] != keep {
		t.Errorf("an entry without the address changed: %+v", got[0])
	}
	for _, e := range got {
		all := strings.ToLower(e.Actor + e.Target + e.Details)
		if strings.Contains(all, "alice") {
			t.Errorf("entry %d still names alice: %+v", e.ID, e)
		}
	}
	if got[1].Actor != "erased:1f2e" || got[1].Action != "user.password" || got[2].Details != `{"targets":["erased:1f2e","bob@example.org"]}` {
		t.Errorf("pseudonymised entries: %+v, %+v", got[1], got[2])
	}
}
