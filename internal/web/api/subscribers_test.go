package api

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"posthorn/internal/store"
)

// TestListSubscriberRoutes: a CSV imported into a list by the API is in the list's counts and
// in its CSV export; a subscriber is shown with its subscriptions, created and replaced by
// PUT, unsubscribed from one list and deleted, each seen by the campaign service (what the
// subscriber commands read); a list deleted goes with its subscriptions.
func TestListSubscriberRoutes(t *testing.T) {
	e := newAPIEnv(t)
	var l listView
	e.decode(e.call("POST", "/api/v1/lists", map[string]any{"name": "news"}, http.StatusCreated), &l)
	id := strconv.FormatInt(l.ID, 10)
	csvBody := "email,name,city\nann@example.net,Ann,Paris\nnot-an-address,X,\nbob@example.net,Bob,Rome\n"
	imp := e.do("POST", "/api/v1/lists/"+id+"/import?consent_text=signed+up&tracking=true", e.admin, "text/csv", strings.NewReader(csvBody))
	var report importView
	e.decode(imp, &report)
	if imp.status != http.StatusOK || report.Rows != 3 || report.Imported != 2 || report.Rejects != 1 ||
		len(report.Rejected) != 1 || report.Rejected[0].Line != 3 {
		t.Fatalf("import = %d %s", imp.status, imp.body)
	}
	e.wantError("import as JSON", e.do("POST", "/api/v1/lists/"+id+"/import", e.admin, "application/json",
		strings.NewReader(`{}`)), http.StatusUnsupportedMediaType, codeMediaType, "")
	e.wantError("bad flag", e.do("POST", "/api/v1/lists/"+id+"/import?tracking=maybe", e.admin, "text/csv",
		strings.NewReader(csvBody)), http.StatusBadRequest, "invalid", "tracking")
	e.wantError("import unknown list", e.do("POST", "/api/v1/lists/999/import", e.admin, "text/csv",
		strings.NewReader(csvBody)), http.StatusNotFound, "not_found", "id")

	var shown listView
	e.decode(e.call("GET", "/api/v1/lists/"+id, nil, http.StatusOK), &shown)
	if shown.Name != "news" || shown.Counts.Confirmed != 2 {
		t.Errorf("list = %+v", shown)
	}
	e.wantError("bad id", e.do("GET", "/api/v1/lists/x", e.admin, "", nil), http.StatusBadRequest, "invalid", "id")
	e.wantError("unknown list", e.do("GET", "/api/v1/lists/999", e.admin, "", nil), http.StatusNotFound, "not_found", "id")

	exp := e.do("GET", "/api/v1/lists/"+id+"/export", e.admin, "", nil)
	if exp.status != http.StatusOK || !strings.HasPrefix(exp.header.Get("Content-Type"), "text/csv") ||
		string(exp.body) != "email,name,city\nann@example.net,Ann,Paris\nbob@example.net,Bob,Rome\n" {
		t.Errorf("export = %d %q %q", exp.status, exp.header.Get("Content-Type"), exp.body)
	}

	var ann subscriberDetailView
	e.decode(e.call("GET", "/api/v1/subscribers/Ann@example.net", nil, http.StatusOK), &ann)
	if ann.Address != "ann@example.net" || ann.Name != "Ann" || ann.Attributes["city"] != "Paris" || len(ann.Subscriptions) != 1 ||
		ann.Subscriptions[0].ListID != l.ID || ann.Subscriptions[0].Status != "confirmed" ||
		ann.Subscriptions[0].Consent.Text != "signed up" || !ann.Subscriptions[0].Consent.Tracking {
		t.Fatalf("ann = %+v", ann)
	}
	e.wantError("unknown subscriber", e.do("GET", "/api/v1/subscribers/zed@example.net", e.admin, "", nil), http.StatusNotFound, "not_found", "address")
	e.wantError("bad address", e.do("GET", "/api/v1/subscribers/nope", e.admin, "", nil), http.StatusBadRequest, "invalid", "address")

	// PUT replaces the name and attributes, and creates a subscriber (on no list).
	var put subscriberDetailView
	e.decode(e.call("PUT", "/api/v1/subscribers/ann@example.net", map[string]any{"name": "Ann B.", "attributes": map[string]any{"city": "Lyon"}},
		http.StatusOK), &put)
	if put.Name != "Ann B." || put.Attributes["city"] != "Lyon" || len(put.Subscriptions) != 1 {
		t.Errorf("put = %+v", put)
	}
	e.decode(e.call("PUT", "/api/v1/subscribers/carl@example.net", map[string]any{"name": "Carl"}, http.StatusCreated), &put)
	if put.Address != "carl@example.net" || len(put.Subscriptions) != 0 {
		t.Errorf("created = %+v", put)
	}
	if sub, subs, err := e.svc.Subscriber(t.Context(), "ann@example.net"); err != nil || sub.Name != "Ann B." || len(subs) != 1 {
		t.Errorf("service has %+v %+v, %v", sub, subs, err)
	}
	e.wantError("put bad address", e.do("PUT", "/api/v1/subscribers/nope", e.admin, "application/json", strings.NewReader(`{"name":"x"}`)),
		http.StatusBadRequest, "invalid", "address")

	// Unsubscribe from the list: the subscriber stays, its subscription says unsubscribed.
	e.call("DELETE", "/api/v1/lists/"+id+"/subscribers/ann@example.net", nil, http.StatusNoContent)
	e.call("DELETE", "/api/v1/lists/"+id+"/subscribers/ann@example.net", nil, http.StatusNoContent)
	if _, subs, err := e.svc.Subscriber(t.Context(), "ann@example.net"); err != nil || len(subs) != 1 ||
		subs[0].Status != store.StatusUnsubscribed || subs[0].Consent.Source != store.SourceAPI {
		t.Errorf("after unsubscribe: %+v, %v", subs, err)
	}
	e.wantError("not subscribed", e.do("DELETE", "/api/v1/lists/"+id+"/subscribers/carl@example.net", e.admin, "", nil),
		http.StatusNotFound, "not_found", "list")
	e.wantError("unsubscribe unknown", e.do("DELETE", "/api/v1/lists/"+id+"/subscribers/zed@example.net", e.admin, "", nil),
		http.StatusNotFound, "not_found", "address")

	e.call("DELETE", "/api/v1/subscribers/carl@example.net", nil, http.StatusNoContent)
	if _, _, err := e.svc.Subscriber(t.Context(), "carl@example.net"); err == nil {
		t.Error("carl is still a subscriber")
	}
	e.wantError("delete again", e.do("DELETE", "/api/v1/subscribers/carl@example.net", e.admin, "", nil), http.StatusNotFound, "not_found", "address")

	e.call("DELETE", "/api/v1/lists/"+id, nil, http.StatusNoContent)
	e.wantError("list deleted", e.do("DELETE", "/api/v1/lists/"+id, e.admin, "", nil), http.StatusNotFound, "not_found", "id")
	if lists, err := e.svc.Lists(t.Context()); err != nil || len(lists) != 0 {
		t.Errorf("lists = %+v, %v", lists, err)
	}
	if _, subs, err := e.svc.Subscriber(t.Context(), "bob@example.net"); err != nil || len(subs) != 0 {
		t.Errorf("bob after the list's deletion: %+v, %v", subs, err)
	}
	e.wantError("account token", e.do("GET", "/api/v1/subscribers/bob@example.net", e.account, "", nil), http.StatusForbidden, codeForbidden, "")
}
