package audit_test

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"posthorn/internal/audit"
	"posthorn/internal/store"
	"posthorn/internal/store/sqlite"
)

func TestRecordActorAndExport(t *testing.T) {
	s, err := sqlite.Open(t.Context(), filepath.Join(t.TempDir(), "posthorn.db"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	log := audit.New(s)
	if err := log.Record(t.Context(), "queue.delete", "7", nil); err != nil {
		t.Fatal(err)
	}
	web := audit.WithActor(t.Context(), audit.Actor{Kind: audit.KindWeb, Name: "admin@example.org"})
	if err := log.Record(web, "user.quota", "alice@example.org", audit.Details{"quota_bytes": 1024, "by": "form"}); err != nil {
		t.Fatal(err)
	}
	got, err := log.List(t.Context(), store.AuditFilter{})
	if err != nil || len(got) != 2 {
		t.Fatalf("list: %+v, %v", got, err)
	}
	if got[0].ActorKind != audit.KindSystem || got[0].Actor != "" {
		t.Errorf("an action without actor recorded as %s:%s, want system", got[0].ActorKind, got[0].Actor)
	}
	if got[1].ActorKind != audit.KindWeb || got[1].Actor != "admin@example.org" || got[1].Details != `{"by":"form","quota_bytes":1024}` {
		t.Errorf("entry %+v", got[1])
	}
	// Export pages through the log: more entries than one page.
	for i := range 2100 {
		if err := log.Record(t.Context(), "spam.train", "", audit.Details{"n": i}); err != nil {
			t.Fatal(err)
		}
	}
	var buf bytes.Buffer
	n, err := log.Export(t.Context(), &buf, store.AuditFilter{Action: "spam."})
	if err != nil || n != 2100 {
		t.Fatalf("export: %d, %v", n, err)
	}
	lines := strings.Split(strings.TrimSpace(buf.String()), "\n")
	var last audit.Entry
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || len(lines) != 2100 || string(last.Details) != `{"n":2099}` {
		t.Errorf("%d lines, last %+v, %v", len(lines), last, err)
	}
}
