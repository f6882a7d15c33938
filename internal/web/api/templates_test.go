package api

import (
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"posthorn/internal/campaign"
	"posthorn/internal/store"
)

// TestTemplateRoutes: a template made by the API is listed, shown, replaced and used by a
// campaign the API creates, which the campaign service (what `posthorn campaign show`
// reads) has with the template's content; removing the template leaves the campaign its copy.
func TestTemplateRoutes(t *testing.T) {
	e := newAPIEnv(t)
	if _, err := e.svc.CreateList(t.Context(), campaign.ListInput{Name: "news"}); err != nil {
		t.Fatal(err)
	}
	var tpl templateView
	e.decode(e.call("POST", "/api/v1/templates", map[string]any{"name": "monthly", "subject": "News of {{.Name}}",
		"html": "<p>Hello {{.Name}}</p>"}, http.StatusCreated), &tpl)
	if tpl.ID == 0 || tpl.Name != "monthly" || tpl.Subject != "News of {{.Name}}" || tpl.CreatedAt.IsZero() {
		t.Fatalf("template = %+v", tpl)
	}
	post := func(path, body string) response {
		return e.do("POST", path, e.admin, "application/json", strings.NewReader(body))
	}
	e.wantError("duplicate", post("/api/v1/templates", `{"name":"monthly","subject":"x","text":"y"}`), http.StatusConflict, "exists", "template")
	e.wantError("no subject", post("/api/v1/templates", `{"name":"other","text":"y"}`), http.StatusBadRequest, "invalid", "subject")
	e.wantError("no body", post("/api/v1/templates", `{"name":"other","subject":"x"}`), http.StatusBadRequest, "invalid", "html")
	e.wantError("bad syntax", post("/api/v1/templates", `{"name":"other","subject":"x {{","text":"y"}`), http.StatusBadRequest, "invalid", "subject")
	e.wantError("unknown field", post("/api/v1/templates", `{"name":"other","subjekt":"x"}`), http.StatusBadRequest, "invalid", "subjekt")

	var replaced templateView
	e.decode(e.call("PUT", "/api/v1/templates/monthly", map[string]any{"subject": "June news", "html": "<p>June</p>",
		"text": "June"}, http.StatusOK), &replaced)
	if replaced.ID != tpl.ID || replaced.Subject != "June news" || replaced.Text != "June" {
		t.Errorf("replaced = %+v", replaced)
	}
	e.wantError("rename", e.do("PUT", "/api/v1/templates/monthly", e.admin, "application/json",
		strings.NewReader(`{"name":"weekly","subject":"x","text":"y"}`)), http.StatusBadRequest, "invalid", "name")
	e.wantError("put unknown", e.do("PUT", "/api/v1/templates/nope", e.admin, "application/json",
		strings.NewReader(`{"subject":"x","text":"y"}`)), http.StatusNotFound, "not_found", "template")
	var shown templateView
	e.decode(e.call("GET", "/api/v1/templates/monthly", nil, http.StatusOK), &shown)
	if shown != replaced {
		t.Errorf("shown = %+v, want %+v", shown, replaced)
	}
	var list struct{ Templates []templateView }
	e.decode(e.call("GET", "/api/v1/templates", nil, http.StatusOK), &list)
	if len(list.Templates) != 1 || list.Templates[0].Name != "monthly" {
		t.Errorf("templates = %+v", list)
	}

	// A campaign from the template, by the API; the service has the template's content.
	var c campaignView
	e.decode(e.call("POST", "/api/v1/campaigns", map[string]any{"name": "June", "from": "News <news@example.org>",
		"lists": []string{"news"}, "template": "monthly", "rate_per_minute": 60}, http.StatusCreated), &c)
	if c.ID == 0 || c.Status != "draft" || c.Subject != "June news" || c.TemplateID != tpl.ID || !c.Tracking || c.RatePerMinute != 60 {
		t.Fatalf("campaign = %+v", c)
	}
	got, err := e.svc.Campaign(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	lists, err := e.svc.ListNames(t.Context(), got)
	if err != nil {
		t.Fatal(err)
	}
	if got.Subject != "June news" || got.HTML != "<p>June</p>" || got.Text != "June" || got.From != `"News" <news@example.org>` &&
		got.From != "News <news@example.org>" || strings.Join(lists, ",") != "news" {
		t.Errorf("stored campaign = %+v, lists %v", got, lists)
	}
	e.call("DELETE", "/api/v1/templates/monthly", nil, http.StatusNoContent)
	e.wantError("deleted", e.do("GET", "/api/v1/templates/monthly", e.admin, "", nil), http.StatusNotFound, "not_found", "template")
	e.wantError("delete again", e.do("DELETE", "/api/v1/templates/monthly", e.admin, "", nil), http.StatusNotFound, "not_found", "template")
	if kept, err := e.svc.Campaign(t.Context(), c.ID); err != nil || kept.Subject != "June news" {
		t.Errorf("campaign after the template's removal = %+v, %v", kept, err)
	}

	e.wantError("account token", e.do("GET", "/api/v1/templates", e.account, "", nil), http.StatusForbidden, codeForbidden, "")
	e.wantError("no token", e.do("POST", "/api/v1/templates", "", "application/json", strings.NewReader(`{}`)),
		http.StatusUnauthorized, codeUnauthorized, "")
}

// TestCampaignCreateTestSchedule: POST /api/v1/campaigns makes a draft with its own content,
// refusing bad input by field; a test send queues one message per address and tells of the
// suppressed; scheduling makes the draft scheduled at the time given, once.
func TestCampaignCreateTestSchedule(t *testing.T) {
	e := newAPIEnv(t)
	if _, err := e.svc.CreateList(t.Context(), campaign.ListInput{Name: "news"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.SaveSubscriber(t.Context(), campaign.SubscriberInput{Address: "a@example.net", List: "news"}); err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Suppress(t.Context(), campaign.SuppressionInput{Address: "gone@remote.example", Reason: store.SuppressComplaint}); err != nil {
		t.Fatal(err)
	}
	post := func(path, body string) response {
		return e.do("POST", path, e.admin, "application/json", strings.NewReader(body))
	}
	e.wantError("bad from", post("/api/v1/campaigns", `{"name":"x","from":"nobody","lists":["news"],"subject":"s","text":"t"}`),
		http.StatusBadRequest, "invalid", "from")
	e.wantError("no name", post("/api/v1/campaigns", `{"from":"news@example.org","lists":["news"],"subject":"s","text":"t"}`),
		http.StatusBadRequest, "invalid", "name")
	e.wantError("unknown list", post("/api/v1/campaigns", `{"name":"x","from":"news@example.org","lists":["nope"],"subject":"s","text":"t"}`),
		http.StatusNotFound, "not_found", "list")
	e.wantError("unknown template", post("/api/v1/campaigns", `{"name":"x","from":"news@example.org","lists":["news"],"template":"nope"}`),
		http.StatusNotFound, "not_found", "template")
	e.wantError("rate type", post("/api/v1/campaigns", `{"name":"x","from":"news@example.org","lists":["news"],"rate_per_minute":"fast"}`),
		http.StatusBadRequest, "invalid", "rate_per_minute")

	var c campaignView
	e.decode(e.call("POST", "/api/v1/campaigns", map[string]any{"name": "July", "from": "news@example.org",
		"lists": []string{"news"}, "subject": "July", "text": "Hello in July", "tracking": false, "anonymous": true},
		http.StatusCreated), &c)
	if c.Status != "draft" || c.Tracking || !c.Anonymous || c.Subject != "July" || len(c.ListIDs) != 1 {
		t.Fatalf("campaign = %+v", c)
	}
	id := strconv.FormatInt(c.ID, 10)

	queued := func() []store.QueuedMessage {
		q, err := e.Store.(store.QueueStore).ListQueue(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		return q
	}
	var tested struct{ Results []testResultView }
	e.decode(e.call("POST", "/api/v1/campaigns/"+id+"/test", map[string]any{"addresses": []string{"ann@remote.example",
		"gone@remote.example"}}, http.StatusOK), &tested)
	if len(tested.Results) != 2 || tested.Results[0] != (testResultView{Address: "ann@remote.example", Sent: true}) ||
		tested.Results[1].Sent || !strings.Contains(tested.Results[1].Reason, "suppressed") {
		t.Fatalf("test = %+v", tested)
	}
	if q := queued(); len(q) != 1 || q[0].Recipient != "ann@remote.example" {
		t.Errorf("queue after the test = %+v", q)
	}
	e.wantError("no addresses", post("/api/v1/campaigns/"+id+"/test", `{"addresses":[]}`), http.StatusBadRequest, "invalid", "addresses")
	e.wantError("bad address", post("/api/v1/campaigns/"+id+"/test", `{"addresses":["nope"]}`), http.StatusBadRequest, "invalid", "address")
	e.wantError("test unknown", post("/api/v1/campaigns/999/test", `{"addresses":["ann@remote.example"]}`), http.StatusNotFound, "not_found", "campaign")

	e.wantError("bad at", post("/api/v1/campaigns/"+id+"/schedule", `{"at":"tomorrow"}`), http.StatusBadRequest, "invalid", "at")
	e.wantError("schedule unknown", post("/api/v1/campaigns/999/schedule", `{"at":"2026-07-01T09:00:00Z"}`), http.StatusNotFound, "not_found", "campaign")
	var sched campaignView
	e.decode(e.call("POST", "/api/v1/campaigns/"+id+"/schedule", map[string]any{"at": "2026-07-01T11:00:00+02:00"}, http.StatusOK), &sched)
	want := time.Date(2026, 7, 1, 9, 0, 0, 0, time.UTC)
	if sched.Status != "scheduled" || sched.ScheduledAt == nil || !sched.ScheduledAt.Equal(want) {
		t.Fatalf("scheduled = %+v", sched)
	}
	if got, err := e.svc.Campaign(t.Context(), c.ID); err != nil || got.Status != store.CampaignScheduled || !got.ScheduledAt.Equal(want) {
		t.Errorf("stored = %+v, %v", got, err)
	}
	e.wantError("schedule twice", post("/api/v1/campaigns/"+id+"/schedule", `{"at":"2026-07-02T09:00:00Z"}`), http.StatusBadRequest, "invalid", "status")
	e.wantError("account token", e.do("POST", "/api/v1/campaigns/"+id+"/test", e.account, "application/json",
		strings.NewReader(`{"addresses":["ann@remote.example"]}`)), http.StatusForbidden, codeForbidden, "")
}

// TestCampaignUpdateDelete: PUT /api/v1/campaigns/{id} replaces a draft, which the service
// then has; a started campaign is neither changed (400, status) nor deleted (409) until
// cancelled; DELETE removes it.
func TestCampaignUpdateDelete(t *testing.T) {
	e := newAPIEnv(t)
	c := e.draftCampaign()
	id := strconv.FormatInt(c.ID, 10)
	body := map[string]any{"name": "June, again", "from": "news@example.org", "lists": []string{"news"},
		"subject": "Hello again", "text": "Once more", "rate_per_minute": 5}
	var up campaignView
	e.decode(e.call("PUT", "/api/v1/campaigns/"+id, body, http.StatusOK), &up)
	if up.ID != c.ID || up.Name != "June, again" || up.Subject != "Hello again" || up.RatePerMinute != 5 || up.Status != "draft" {
		t.Fatalf("updated = %+v", up)
	}
	if got, err := e.svc.Campaign(t.Context(), c.ID); err != nil || got.Text != "Once more" || got.HTML != "" {
		t.Errorf("stored = %+v, %v", got, err)
	}
	put := func(path, b string) response {
		return e.do("PUT", path, e.admin, "application/json", strings.NewReader(b))
	}
	e.wantError("bad from", put("/api/v1/campaigns/"+id, `{"name":"x","from":"x@example.net","lists":["news"],"subject":"s","text":"t"}`),
		http.StatusBadRequest, "invalid", "from")
	e.wantError("unknown", put("/api/v1/campaigns/999", `{"name":"x","from":"news@example.org","lists":["news"],"subject":"s","text":"t"}`),
		http.StatusNotFound, "not_found", "campaign")

	e.call("POST", "/api/v1/campaigns/"+id+"/start", nil, http.StatusOK)
	e.wantError("update started", put("/api/v1/campaigns/"+id, `{"name":"x","from":"news@example.org","lists":["news"],"subject":"s","text":"t"}`),
		http.StatusBadRequest, "invalid", "status")
	e.wantError("delete started", e.do("DELETE", "/api/v1/campaigns/"+id, e.admin, "", nil), http.StatusConflict, "in_use", "status")
	e.call("POST", "/api/v1/campaigns/"+id+"/cancel", nil, http.StatusOK)
	e.call("DELETE", "/api/v1/campaigns/"+id, nil, http.StatusNoContent)
	e.wantError("deleted", e.do("GET", "/api/v1/campaigns/"+id, e.admin, "", nil), http.StatusNotFound, "not_found", "campaign")
	if cs, err := e.svc.Campaigns(t.Context()); err != nil || len(cs) != 0 {
		t.Errorf("campaigns = %+v, %v", cs, err)
	}
	e.wantError("account token", e.do("DELETE", "/api/v1/campaigns/"+id, e.account, "", nil), http.StatusForbidden, codeForbidden, "")
}
