package api

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"posthorn/internal/admin"
	"posthorn/internal/campaign"
	"posthorn/internal/config"
	"posthorn/internal/gdpr"
	"posthorn/internal/mailauth"
	"posthorn/internal/mailtrace"
	"posthorn/internal/retention"
	"posthorn/internal/store"
	"posthorn/internal/testutil/mailenv"
	"posthorn/internal/wellknown"
)

// apiEnv is an API over a real store, served by httptest, with an admin and an account token.
type apiEnv struct {
	*mailenv.Env
	t       *testing.T
	srv     *httptest.Server
	svc     *campaign.Service
	tokens  *admin.Tokens
	ops     *admin.Admin
	apiDNS  admin.DNSSetup // the API's DNS setup
	admin   string         // an admin token
	account string         // alice@'s account token
	mu      sync.Mutex
	clock   time.Time
}

func newAPIEnv(t *testing.T) *apiEnv {
	t.Helper()
	e := &apiEnv{Env: mailenv.NewWithPasswordHash(t, "mx.example.org", ""), t: t,
		clock: time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)}
	if _, err := mailauth.EnsureDKIMKeys(t.Context(), e.Store, "example.org", time.Now()); err != nil {
		t.Fatal(err)
	}
	e.svc = &campaign.Service{Store: e.Store}
	e.tokens = &admin.Tokens{Store: e.Store}
	var err error
	if e.admin, _, err = e.tokens.Create(t.Context(), admin.TokenInput{Name: "ops", Scope: store.ScopeAdmin}); err != nil {
		t.Fatal(err)
	}
	if e.account, _, err = e.tokens.Create(t.Context(), admin.TokenInput{Name: "app", Scope: store.ScopeAccount,
		Account: "alice@example.org"}); err != nil {
		t.Fatal(err)
	}
	e.apiDNS = admin.DNSSetup{Hostname: "mx.example.org", Listen: config.Listen{Submissions: ":465", IMAPS: ":993"},
		Policy: wellknown.MTASTSPolicy("enforce", []string{"mx.example.org"}, 24*time.Hour)}
	e.ops = &admin.Admin{Store: e.Store, Credentials: e.Store, Blobs: e.Blobs}
	outbox := &campaign.Outbox{Store: e.Store, Committer: e.Committer}
	a := New(Config{
		Tokens:    e.tokens,
		Campaigns: e.svc,
		Sender:    &campaign.Sender{Service: e.svc, Outbox: outbox, PublicURL: "https://news.example.org", Logger: e.Logger},
		Transactional: &campaign.Transactional{Service: e.svc, Outbox: outbox, Grants: e.Store,
			PublicURL: "https://news.example.org", Logger: e.Logger},
		Trace: &mailtrace.Tracer{Store: e.Store},
		GDPR:  &gdpr.Service{Store: e.Store, Bodies: e.Blobs, Accounts: e.ops},
		Retention: &retention.Service{Store: e.Store, Retention: e.Store.(store.RetentionStore), Bodies: e.Blobs.Bodies(),
			Rules: config.Retention{AllDays: 30}, Logger: e.Logger, Now: e.now},
		Admin:       e.ops,
		DNS:         e.apiDNS,
		Logger:      e.Logger,
		MaxFailures: 5,
		MaxMessage:  64 << 10,
		Now:         e.now,
	})
	mux := http.NewServeMux()
	a.Routes()(mux)
	e.srv = httptest.NewServer(mux)
	t.Cleanup(e.srv.Close)
	return e
}

func (e *apiEnv) now() time.Time {
	e.mu.Lock()
	defer e.mu.Unlock()
	return e.clock
}

func (e *apiEnv) advance(d time.Duration) {
	e.mu.Lock()
	e.clock = e.clock.Add(d)
	e.mu.Unlock()
}

// response is an answer read whole.
type response struct {
	status int
	header http.Header
	body   []byte
}

// do sends a request with token (none when ""), a body of contentType when body is not nil.
func (e *apiEnv) do(method, path, token, contentType string, body io.Reader) response {
	e.t.Helper()
	req, err := http.NewRequestWithContext(e.t.Context(), method, e.srv.URL+path, body)
	if err != nil {
		e.t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		e.t.Fatal(err)
	}
	return response{status: resp.StatusCode, header: resp.Header, body: b}
}

// call sends v as JSON (no body when v is nil) with the admin token and wants status.
func (e *apiEnv) call(method, path string, v any, status int) response {
	e.t.Helper()
	var body io.Reader
	ct := ""
	if v != nil {
		b, err := json.Marshal(v)
		if err != nil {
			e.t.Fatal(err)
		}
		body, ct = bytes.NewReader(b), "application/json"
	}
	r := e.do(method, path, e.admin, ct, body)
	if r.status != status {
		e.t.Fatalf("%s %s: status %d, want %d: %s", method, path, r.status, status, r.body)
	}
	if status != http.StatusNoContent && !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		e.t.Errorf("%s %s: Content-Type %q", method, path, r.header.Get("Content-Type"))
	}
	return r
}

// decode reads r's body into v.
func (e *apiEnv) decode(r response, v any) {
	e.t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		e.t.Fatalf("decode %s: %v", r.body, err)
	}
}

// wantError checks r is an error answer with status, code and field.
func (e *apiEnv) wantError(what string, r response, status int, code, field string) errorDetail {
	e.t.Helper()
	var b errorBody
	if err := json.Unmarshal(r.body, &b); err != nil {
		e.t.Fatalf("%s: not the error shape: %s", what, r.body)
	}
	var raw map[string]map[string]any
	_ = json.Unmarshal(r.body, &raw)
	if _, ok := raw["error"]["field"]; !ok {
		e.t.Errorf("%s: no field member: %s", what, r.body)
	}
	if r.status != status || b.Error.Code != code || b.Error.Field != field || b.Error.Message == "" {
		e.t.Errorf("%s: %d %+v, want %d %s field %q", what, r.status, b.Error, status, code, field)
	}
	if !strings.HasPrefix(r.header.Get("Content-Type"), "application/json") {
		e.t.Errorf("%s: Content-Type %q", what, r.header.Get("Content-Type"))
	}
	return b.Error
}

// draftCampaign makes a list with two subscribers and a draft campaign to it.
func (e *apiEnv) draftCampaign() store.Campaign {
	e.t.Helper()
	ctx := e.t.Context()
	if _, err := e.svc.CreateList(ctx, campaign.ListInput{Name: "news"}); err != nil {
		e.t.Fatal(err)
	}
	for _, addr := range []string{"a@example.net", "b@example.net"} {
		if _, err := e.svc.SaveSubscriber(ctx, campaign.SubscriberInput{Address: addr, List: "news"}); err != nil {
			e.t.Fatal(err)
		}
	}
	c, err := e.svc.CreateCampaign(ctx, campaign.CampaignInput{Name: "June", From: "News <news@example.org>",
		Subject: "Hello", HTML: `<p>Hi, <a href="https://example.com/a">read</a>.</p>`, Lists: []string{"news"}})
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}
