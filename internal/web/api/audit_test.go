package api

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
)

// TestAuditRoute checks that an action through the API is in the audit log with its token as
// actor, that the filters and pages work, and that bad parameters name their field.
func TestAuditRoute(t *testing.T) {
	e := newAPIEnv(t)
	e.call("POST", "/api/v1/domains", map[string]string{"name": "audit.example"}, http.StatusCreated)
	e.call("DELETE", "/api/v1/domains/audit.example", nil, http.StatusNoContent)
	var page auditPage
	e.decode(e.call("GET", "/api/v1/audit?action=domain.&actor_kind=api", nil, http.StatusOK), &page)
	if len(page.Entries) != 2 || page.Entries[0].Action != "domain.add" || page.Entries[1].Action != "domain.remove" ||
		page.Entries[0].Target != "audit.example" || !strings.HasPrefix(page.Entries[0].Actor, "token ") ||
		!strings.Contains(page.Entries[0].Actor, "(ops)") || page.NextAfter != 0 {
		t.Fatalf("audit: %+v", page)
	}
	e.decode(e.call("GET", "/api/v1/audit?action=domain.&limit=1", nil, http.StatusOK), &page)
	if len(page.Entries) != 1 || page.NextAfter != page.Entries[0].ID {
		t.Fatalf("first page: %+v", page)
	}
	first := page.Entries[0].ID
	e.decode(e.call("GET", "/api/v1/audit?action=domain.&limit=1&after="+strconv.FormatInt(first, 10), nil, http.StatusOK), &page)
	if len(page.Entries) != 1 || page.Entries[0].Action != "domain.remove" {
		t.Fatalf("second page: %+v", page)
	}
	for _, tc := range []struct{ query, field string }{
		{"limit=0", "limit"}, {"limit=x", "limit"}, {"after=-1", "after"}, {"since=tomorrow", "since"},
		{"actor_kind=robot", "actor_kind"},
	} {
		e.wantError(tc.query, e.do("GET", "/api/v1/audit?"+tc.query, e.admin, "", nil), http.StatusBadRequest, "invalid", tc.field)
	}
	e.wantError("account token", e.do("GET", "/api/v1/audit", e.account, "", nil), http.StatusForbidden, codeForbidden, "")
	e.wantError("no token", e.do("GET", "/api/v1/audit", "", "", nil), http.StatusUnauthorized, codeUnauthorized, "")
}
