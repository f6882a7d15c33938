package sqlite

import (
	"strings"
	"testing"

	"posthorn/internal/store"
	"posthorn/internal/store/storetest"
)

func TestAuditConformance(t *testing.T) {
	storetest.RunAudit(t, func(t *testing.T) storetest.AuditBackend {
		s, _ := openTemp(t)
		return s
	})
}

// TestAuditAppendOnly checks that the database itself refuses to delete an entry or to
// change its time or action, whatever SQL is used.
func TestAuditAppendOnly(t *testing.T) {
	s, _ := openTemp(t)
	e, err := s.AppendAudit(t.Context(), store.AuditEntry{ActorKind: "cli", Actor: "root", Action: "domain.add", Target: "example.org"})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DELETE FROM audit_log WHERE id = ?`,
		`UPDATE audit_log SET action = 'domain.remove' WHERE id = ?`,
		`UPDATE audit_log SET time = 0 WHERE id = ?`,
		`UPDATE audit_log SET actor_kind = 'web' WHERE id = ?`,
	} {
		_, err := s.write.ExecContext(t.Context(), q, e.ID)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want the append-only refusal", q, err)
		}
	}
	got, err := s.ListAudit(t.Context(), store.AuditFilter{})
	if err != nil || len(got) != 1 || got[0] != e {
		t.Fatalf("after refused changes: %+v, %v", got, err)
	}
}
