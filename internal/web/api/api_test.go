package api

import (
	"bytes"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"posthorn/internal/campaign"
	"posthorn/internal/store"
)

func TestCampaignRoutes(t *testing.T) {
	e := newAPIEnv(t)
	c := e.draftCampaign()
	var list struct{ Campaigns []campaignView }
	e.decode(e.call("GET", "/api/v1/campaigns", nil, http.StatusOK), &list)
	if len(list.Campaigns) != 1 || list.Campaigns[0].ID != c.ID || list.Campaigns[0].Status != "draft" ||
		list.Campaigns[0].From != `"News" <news@example.org>` {
		t.Fatalf("campaigns = %+v", list)
	}
	var got campaignView
	e.decode(e.call("GET", fmt.Sprintf("/api/v1/campaigns/%d", c.ID), nil, http.StatusOK), &got)
	if got.Name != "June" || len(got.ListIDs) != 1 {
		t.Errorf("campaign = %+v", got)
	}
	var started struct {
		campaignView
		Recipients int64
	}
	e.decode(e.call("POST", fmt.Sprintf("/api/v1/campaigns/%d/start", c.ID), nil, http.StatusOK), &started)
	if started.Status != "running" || started.Recipients != 2 || started.StartedAt == nil {
		t.Errorf("started = %+v", started)
	}
	for _, step := range []struct{ action, status string }{{"pause", "paused"}, {"resume", "running"}, {"cancel", "cancelled"}} {
		e.decode(e.call("POST", fmt.Sprintf("/api/v1/campaigns/%d/%s", c.ID, step.action), nil, http.StatusOK), &got)
		if got.Status != step.status {
			t.Errorf("after %s: %s", step.action, got.Status)
		}
	}
	// A cancelled campaign cannot be resumed: the operation's refusal, with its field.
	e.wantError("resume cancelled", e.do("POST", fmt.Sprintf("/api/v1/campaigns/%d/resume", c.ID), e.admin, "", nil),
		http.StatusBadRequest, "invalid", "status")

	// The stats are byte for byte the CLI's JSON.
	r := e.call("GET", fmt.Sprintf("/api/v1/campaigns/%d/stats", c.ID), nil, http.StatusOK)
	st, err := e.svc.Stats(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	var want bytes.Buffer
	if err := campaign.WriteStatsJSON(&want, st); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(r.body, want.Bytes()) {
		t.Errorf("stats:\n%s\nwant:\n%s", r.body, want.Bytes())
	}

	for _, path := range []string{"/api/v1/campaigns/999", "/api/v1/campaigns/999/stats"} {
		e.wantError(path, e.do("GET", path, e.admin, "", nil), http.StatusNotFound, "not_found", "campaign")
	}
	e.wantError("start unknown", e.do("POST", "/api/v1/campaigns/999/start", e.admin, "", nil), http.StatusNotFound, "not_found", "campaign")
	e.wantError("bad id", e.do("GET", "/api/v1/campaigns/x", e.admin, "", nil), http.StatusBadRequest, "invalid", "id")
}

func TestListRoutes(t *testing.T) {
	e := newAPIEnv(t)
	var l listView
	e.decode(e.call("POST", "/api/v1/lists", map[string]any{"name": "news", "description": "Monthly", "opt_in": "double"},
		http.StatusCreated), &l)
	if l.ID == 0 || l.Name != "news" || l.OptIn != "double" {
		t.Fatalf("list = %+v", l)
	}
	e.wantError("duplicate list", e.do("POST", "/api/v1/lists", e.admin, "application/json", strings.NewReader(`{"name":"news"}`)),
		http.StatusConflict, "exists", "list")
	e.wantError("bad opt-in", e.do("POST", "/api/v1/lists", e.admin, "application/json", strings.NewReader(`{"name":"x","opt_in":"triple"}`)),
		http.StatusBadRequest, "invalid", "opt_in")

	path := fmt.Sprintf("/api/v1/lists/%d/subscribers", l.ID)
	var sub subscriberView
	e.decode(e.call("POST", path, map[string]any{"address": "Carol@Example.NET", "name": "Carol",
		"attributes": map[string]any{"city": "Lyon"}, "consent_text": "Yes please", "tracking": true}, http.StatusCreated), &sub)
	if sub.Address != "carol@example.net" || sub.Attributes["city"] != "Lyon" || sub.Subscription == nil {
		t.Fatalf("subscriber = %+v", sub)
	}
	if s := sub.Subscription; s.Status != "unconfirmed" || s.Consent.Source != "api" || s.Consent.IP != "127.0.0.0" ||
		s.Consent.Text != "Yes please" || !s.Consent.Tracking || s.ListID != l.ID {
		t.Errorf("subscription = %+v", s)
	}
	e.wantError("bad address", e.do("POST", path, e.admin, "application/json", strings.NewReader(`{"address":"nope"}`)),
		http.StatusBadRequest, "invalid", "address")
	e.wantError("bad attribute", e.do("POST", path, e.admin, "application/json",
		strings.NewReader(`{"address":"d@example.net","attributes":{"1x":1}}`)), http.StatusBadRequest, "invalid", "attributes")
	e.wantError("unknown list", e.do("POST", "/api/v1/lists/999/subscribers", e.admin, "application/json",
		strings.NewReader(`{"address":"d@example.net"}`)), http.StatusNotFound, "not_found", "id")
	for i := range 4 {
		e.call("POST", path, map[string]any{"address": fmt.Sprintf("s%d@example.net", i), "confirmed": true}, http.StatusCreated)
	}

	var lists struct{ Lists []listView }
	e.decode(e.call("GET", "/api/v1/lists", nil, http.StatusOK), &lists)
	if len(lists.Lists) != 1 || lists.Lists[0].Counts != (listCounts{Confirmed: 4, Unconfirmed: 1}) {
		t.Errorf("lists = %+v", lists)
	}

	// Pages of 2 in id order, the last without next_after.
	var seen []string
	after := int64(0)
	for page := 0; ; page++ {
		var p struct {
			Subscribers []subscriberView
			NextAfter   int64 `json:"next_after"`
		}
		e.decode(e.call("GET", fmt.Sprintf("%s?after=%d&limit=2", path, after), nil, http.StatusOK), &p)
		for _, s := range p.Subscribers {
			seen = append(seen, s.Address)
		}
		if p.NextAfter == 0 || page > 5 {
			break
		}
		after = p.NextAfter
	}
	if strings.Join(seen, " ") != "carol@example.net s0@example.net s1@example.net s2@example.net s3@example.net" {
		t.Errorf("pages = %v", seen)
	}
	e.wantError("bad limit", e.do("GET", path+"?limit=5000", e.admin, "", nil), http.StatusBadRequest, "invalid", "limit")
	e.wantError("bad after", e.do("GET", path+"?after=x", e.admin, "", nil), http.StatusBadRequest, "invalid", "after")
	e.wantError("unknown list", e.do("GET", "/api/v1/lists/999/subscribers", e.admin, "", nil), http.StatusNotFound, "not_found", "id")
}

func TestSuppressionRoutes(t *testing.T) {
	e := newAPIEnv(t)
	expires := time.Now().Add(48 * time.Hour).UTC().Truncate(time.Second)
	var sup suppressionView
	e.decode(e.call("POST", "/api/v1/suppressions", map[string]any{"address": "x@Example.NET", "reason": "complaint",
		"expires_at": expires}, http.StatusCreated), &sup)
	if sup.Address != "x@example.net" || sup.Reason != "complaint" || sup.Source != "api" || sup.CreatedAt.IsZero() ||
		sup.ExpiresAt == nil || !sup.ExpiresAt.Equal(expires) {
		t.Errorf("suppression = %+v", sup)
	}
	e.wantError("bad reason", e.do("POST", "/api/v1/suppressions", e.admin, "application/json",
		strings.NewReader(`{"address":"y@example.net","reason":"boredom"}`)), http.StatusBadRequest, "invalid", "reason")
	e.wantError("past expiry", e.do("POST", "/api/v1/suppressions", e.admin, "application/json",
		strings.NewReader(`{"address":"y@example.net","expires_at":"2001-01-01T00:00:00Z"}`)), http.StatusBadRequest, "invalid", "expires")

	r := e.do("POST", "/api/v1/suppressions/import?reason=hard_bounce&source=old-mta", e.admin, "text/csv",
		strings.NewReader("# from the old server\na@example.net\nnot an address\n\nb@example.net\n"))
	var rep importView
	e.decode(r, &rep)
	if r.status != http.StatusOK || rep.Rows != 3 || rep.Imported != 2 || rep.Rejects != 1 || len(rep.Rejected) != 1 ||
		rep.Rejected[0].Line != 3 || rep.Rejected[0].Reason != campaign.ReasonBadAddress {
		t.Errorf("import = %d %+v", r.status, rep)
	}
	e.wantError("import as JSON", e.do("POST", "/api/v1/suppressions/import", e.admin, "application/json", strings.NewReader(`[]`)),
		http.StatusUnsupportedMediaType, codeMediaType, "")

	var page struct {
		Suppressions []suppressionView
		NextAfter    string `json:"next_after"`
	}
	e.decode(e.call("GET", "/api/v1/suppressions?limit=2", nil, http.StatusOK), &page)
	if len(page.Suppressions) != 2 || page.Suppressions[0].Address != "a@example.net" || page.Suppressions[0].Reason != "hard_bounce" ||
		page.Suppressions[0].Source != "old-mta" || page.NextAfter != "b@example.net" {
		t.Errorf("page = %+v", page)
	}
	after := page.NextAfter
	page.Suppressions, page.NextAfter = nil, ""
	e.decode(e.call("GET", "/api/v1/suppressions?after="+after, nil, http.StatusOK), &page)
	if len(page.Suppressions) != 1 || page.Suppressions[0].Address != "x@example.net" || page.NextAfter != "" {
		t.Errorf("second page = %+v", page)
	}

	e.call("DELETE", "/api/v1/suppressions/x@example.net", nil, http.StatusNoContent)
	e.wantError("delete again", e.do("DELETE", "/api/v1/suppressions/x@example.net", e.admin, "", nil),
		http.StatusNotFound, "not_found", "address")
	if _, ok, err := e.svc.IsSuppressed(t.Context(), "x@example.net"); err != nil || ok {
		t.Errorf("still suppressed: %v %v", ok, err)
	}
}

func TestAuthentication(t *testing.T) {
	e := newAPIEnv(t)
	r := e.do("GET", "/api/v1/lists", "", "", nil)
	e.wantError("no token", r, http.StatusUnauthorized, "unauthorized", "")
	if got := r.header.Get("WWW-Authenticate"); got != `Bearer realm="posthorn"` {
		t.Errorf("WWW-Authenticate = %q", got)
	}
	for _, bad := range []string{"nonsense", e.admin + "x", "ph_999_" + strings.SplitN(e.admin, "_", 3)[2]} {
		r := e.do("GET", "/api/v1/lists", bad, "", nil)
		e.wantError("bad token "+bad, r, http.StatusUnauthorized, "unauthorized", "token")
		if got := r.header.Get("WWW-Authenticate"); !strings.Contains(got, `error="invalid_token"`) {
			t.Errorf("WWW-Authenticate = %q", got)
		}
	}
	// An account token may not use an admin route.
	r = e.do("GET", "/api/v1/lists", e.account, "", nil)
	e.wantError("account token", r, http.StatusForbidden, codeForbidden, "")
	if got := r.header.Get("WWW-Authenticate"); !strings.Contains(got, `error="insufficient_scope"`) {
		t.Errorf("WWW-Authenticate = %q", got)
	}
	// The scheme is case-insensitive (RFC 9110 §11.1).
	req, _ := http.NewRequestWithContext(t.Context(), "GET", e.srv.URL+"/api/v1/lists", nil)
	req.Header.Set("Authorization", "bearer "+e.admin)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("lower-case scheme: %d", resp.StatusCode)
	}
	// A revoked token is refused at once.
	list, err := e.tokens.List(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if err := e.tokens.Revoke(t.Context(), list[0].ID); err != nil {
		t.Fatal(err)
	}
	e.wantError("revoked token", e.do("GET", "/api/v1/lists", e.admin, "", nil), http.StatusUnauthorized, "unauthorized", "token")
	// The OpenAPI document needs none.
	if r := e.do("GET", "/api/v1/openapi.json", "", "", nil); r.status != http.StatusOK || !bytes.Equal(r.body, openAPIDocument) {
		t.Errorf("openapi.json: %d", r.status)
	}
}

func TestScopes(t *testing.T) {
	for _, tc := range []struct {
		scope store.APITokenScope
		need  access
		want  bool
	}{
		{store.ScopeAdmin, adminOnly, true}, {store.ScopeAccount, adminOnly, false},
		{store.ScopeAdmin, anyToken, true}, {store.ScopeAccount, anyToken, true},
		{"", adminOnly, false}, {"", anyToken, false}, {store.ScopeAccount, public, true},
	} {
		if got := allows(tc.scope, tc.need); got != tc.want {
			t.Errorf("allows(%q, %d) = %v", tc.scope, tc.need, got)
		}
	}
}

func TestThrottle(t *testing.T) {
	e := newAPIEnv(t)
	for i := range 5 {
		e.wantError(fmt.Sprint("bad token ", i), e.do("GET", "/api/v1/lists", "ph_1_wrong", "", nil),
			http.StatusUnauthorized, "unauthorized", "token")
	}
	// Over the limit, even the right token waits for the window's end.
	r := e.do("GET", "/api/v1/lists", e.admin, "", nil)
	e.wantError("throttled", r, http.StatusTooManyRequests, codeTooManyRequests, "")
	if got := r.header.Get("Retry-After"); got != "900" {
		t.Errorf("Retry-After = %q, want 900", got)
	}
	e.advance(10 * time.Minute)
	if got := e.do("GET", "/api/v1/lists", e.admin, "", nil).header.Get("Retry-After"); got != "300" {
		t.Errorf("Retry-After after 10 minutes = %q", got)
	}
	e.advance(5 * time.Minute)
	e.call("GET", "/api/v1/lists", nil, http.StatusOK)
}

func TestErrors(t *testing.T) {
	e := newAPIEnv(t)
	post := func(body string) response {
		return e.do("POST", "/api/v1/lists", e.admin, "application/json", strings.NewReader(body))
	}
	e.wantError("empty name", post(`{"name":""}`), http.StatusBadRequest, "invalid", "list")
	e.wantError("malformed", post(`{"name":`), http.StatusBadRequest, "invalid", "")
	e.wantError("not JSON", post(`name=x`), http.StatusBadRequest, "invalid", "")
	e.wantError("empty body", post(``), http.StatusBadRequest, "invalid", "")
	e.wantError("two values", post(`{"name":"a"} {}`), http.StatusBadRequest, "invalid", "")
	e.wantError("unknown field", post(`{"name":"a","colour":"red"}`), http.StatusBadRequest, "invalid", "colour")
	e.wantError("wrong type", post(`{"name":42}`), http.StatusBadRequest, "invalid", "name")
	e.wantError("form body", e.do("POST", "/api/v1/lists", e.admin, "application/x-www-form-urlencoded", strings.NewReader("name=x")),
		http.StatusUnsupportedMediaType, codeMediaType, "")
	big := `{"name":"a","description":"` + strings.Repeat("x", MaxBody) + `"}`
	e.wantError("too large", post(big), http.StatusRequestEntityTooLarge, codeTooLarge, "")

	r := e.do("DELETE", "/api/v1/lists", e.admin, "", nil)
	e.wantError("wrong method", r, http.StatusMethodNotAllowed, codeMethodNotAllowed, "")
	if allow := r.header.Get("Allow"); !strings.Contains(allow, "GET") || !strings.Contains(allow, "POST") {
		t.Errorf("Allow = %q", allow)
	}
	e.wantError("unknown route", e.do("GET", "/api/v1/nothing", e.admin, "", nil), http.StatusNotFound, "not_found", "")
	e.wantError("unknown route without token", e.do("GET", "/api/v1/", "", "", nil), http.StatusNotFound, "not_found", "")
}
