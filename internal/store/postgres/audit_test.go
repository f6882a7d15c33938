package postgres

import (
	"strings"
	"testing"

	"posthorn/internal/store"
	"posthorn/internal/store/storetest"
)

func TestAuditConformance(t *testing.T) {
	storetest.RunAudit(t, func(t *testing.T) storetest.AuditBackend {
		return openStore(t)
	})
}

// TestAuditAppendOnly checks that the database itself refuses to delete an entry, to empty
// the table or to change an entry's id, time, actor kind or action, whatever SQL is used;
// rewriting the personal fields is allowed.
func TestAuditAppendOnly(t *testing.T) {
	s := openStore(t)
	e, err := s.AppendAudit(t.Context(), store.AuditEntry{ActorKind: "cli", Actor: "root", Action: "domain.add", Target: "example.org"})
	if err != nil {
		t.Fatal(err)
	}
	for _, q := range []string{
		`DELETE FROM audit_log WHERE id = $1`,
		`UPDATE audit_log SET action = 'domain.remove' WHERE id = $1`,
		`UPDATE audit_log SET time = 0 WHERE id = $1`,
		`UPDATE audit_log SET actor_kind = 'web' WHERE id = $1`,
		`UPDATE audit_log SET id = id + 1 WHERE id = $1`,
		`TRUNCATE audit_log`,
	} {
		var args []any
		if strings.Contains(q, "$1") {
			args = []any{e.ID}
		}
		_, err := s.pool.Exec(t.Context(), q, args...)
		if err == nil || !strings.Contains(err.Error(), "append-only") {
			t.Errorf("%s: err = %v, want the append-only refusal", q, err)
		}
	}
	got, err := s.ListAudit(t.Context(), store.AuditFilter{})
	if err != nil || len(got) != 1 || got[0] != e {
		t.Fatalf("after refused changes: %+v, %v", got, err)
	}
	if _, err := s.pool.Exec(t.Context(), `UPDATE audit_log SET actor = 'someone', action = action WHERE id = $1`, e.ID); err != nil {
		t.Errorf("rewrite of the actor: %v", err)
	}
}
