package api

import (
	"bytes"
	"encoding/json"
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

// TestAuditRecordsCampaignActions: bulk mail's operations through the API are in the audit log
// with the token as actor; those made without an interface (here the test's own calls of the
// service) are the system's.
func TestAuditRecordsCampaignActions(t *testing.T) {
	e := newAPIEnv(t)
	c := e.draftCampaign()
	id := strconv.FormatInt(c.ID, 10)
	e.call("POST", "/api/v1/lists", map[string]string{"name": "weekly"}, http.StatusCreated)
	e.call("POST", "/api/v1/suppressions", map[string]string{"address": "bob@example.net"}, http.StatusCreated)
	e.call("DELETE", "/api/v1/suppressions/bob@example.net", nil, http.StatusNoContent)
	e.call("POST", "/api/v1/campaigns/"+id+"/start", nil, http.StatusOK)
	e.call("POST", "/api/v1/campaigns/"+id+"/pause", nil, http.StatusOK)
	e.call("POST", "/api/v1/campaigns/"+id+"/resume", nil, http.StatusOK)
	e.call("POST", "/api/v1/campaigns/"+id+"/cancel", nil, http.StatusOK)

	var page auditPage
	e.decode(e.call("GET", "/api/v1/audit?actor_kind=api", nil, http.StatusOK), &page)
	var got []string
	for _, en := range page.Entries {
		if !strings.HasPrefix(en.Actor, "token ") || !strings.Contains(en.Actor, "(ops)") {
			t.Errorf("entry %s: actor %q, want the ops token", en.Action, en.Actor)
		}
		var details bytes.Buffer
		if len(en.Details) > 0 {
			if err := json.Compact(&details, en.Details); err != nil {
				t.Fatal(err)
			}
		}
		got = append(got, en.Action+" "+en.Target+" "+details.String())
	}
	want := []string{
		`list.create weekly {"opt_in":"single"}`,
		`suppression.add bob@example.net {"reason":"manual","source":"api"}`,
		`suppression.remove bob@example.net `,
		`campaign.start ` + id + ` {"recipients":2}`,
		`campaign.pause ` + id + ` {"status":"paused"}`,
		`campaign.resume ` + id + ` {"status":"running"}`,
		`campaign.cancel ` + id + ` {"status":"cancelled"}`,
	}
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("API entries:\n%s\nwant:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}

	e.decode(e.call("GET", "/api/v1/audit?actor_kind=system&action=campaign.create", nil, http.StatusOK), &page)
	if len(page.Entries) != 1 || page.Entries[0].Target != id || page.Entries[0].Actor != "" {
		t.Errorf("the campaign created without an interface: %+v", page.Entries)
	}
}
