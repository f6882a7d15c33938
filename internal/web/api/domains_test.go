package api

import (
	"net/http"
	"strings"
	"testing"
)

func TestDomainRoutes(t *testing.T) {
	e := newAPIEnv(t)
	var created domainDetailView
	e.decode(e.call("POST", "/api/v1/domains", map[string]any{"name": "Example.COM"}, http.StatusCreated), &created)
	if created.Name != "example.com" || created.CreatedAt.IsZero() || len(created.DKIMKeys) == 0 {
		t.Fatalf("created = %+v", created)
	}
	for _, k := range created.DKIMKeys {
		if !strings.HasSuffix(k.Record, "._domainkey.example.com") || !strings.HasPrefix(k.Value, "v=DKIM1;") {
			t.Errorf("dkim key = %+v", k)
		}
	}
	// The records are those of `posthorn domain dns`: admin.DNSRecords with the API's setup.
	want, err := e.ops.DNSRecords(t.Context(), "example.com", e.apiDNS)
	if err != nil {
		t.Fatal(err)
	}
	if len(created.DNSRecords) != len(want) {
		t.Fatalf("%d records, want %d", len(created.DNSRecords), len(want))
	}
	for i, rec := range want {
		if created.DNSRecords[i] != viewDNSRecord(rec) {
			t.Errorf("record %d = %+v, want %+v", i, created.DNSRecords[i], rec)
		}
	}
	types := map[string]bool{}
	for _, rec := range created.DNSRecords {
		types[rec.Type+" "+rec.Name] = true
	}
	for _, w := range []string{"MX example.com.", "TXT _dmarc.example.com.", "SRV _submissions._tcp.example.com.", "CNAME mta-sts.example.com."} {
		if !types[w] {
			t.Errorf("no record %s", w)
		}
	}

	var got domainDetailView
	e.decode(e.call("GET", "/api/v1/domains/example.com", nil, http.StatusOK), &got)
	if got.Name != "example.com" || len(got.DKIMKeys) != len(created.DKIMKeys) || got.DKIMKeys[0].Value != created.DKIMKeys[0].Value {
		t.Errorf("get = %+v", got)
	}
	var list struct{ Domains []domainView }
	e.decode(e.call("GET", "/api/v1/domains", nil, http.StatusOK), &list)
	if len(list.Domains) != 2 || list.Domains[0].Name != "example.com" || list.Domains[1].Name != "example.org" {
		t.Errorf("domains = %+v", list)
	}

	e.wantError("duplicate", e.do("POST", "/api/v1/domains", e.admin, "application/json", strings.NewReader(`{"name":"example.com"}`)),
		http.StatusConflict, "exists", "domain")
	e.wantError("bad name", e.do("POST", "/api/v1/domains", e.admin, "application/json", strings.NewReader(`{"name":"not a domain"}`)),
		http.StatusBadRequest, "invalid", "domain")
	e.wantError("unknown", e.do("GET", "/api/v1/domains/example.net", e.admin, "", nil), http.StatusNotFound, "not_found", "domain")
	e.wantError("in use", e.do("DELETE", "/api/v1/domains/example.org", e.admin, "", nil), http.StatusConflict, "in_use", "domain")
	e.call("DELETE", "/api/v1/domains/example.com", nil, http.StatusNoContent)
	e.wantError("deleted", e.do("DELETE", "/api/v1/domains/example.com", e.admin, "", nil), http.StatusNotFound, "not_found", "domain")
	e.wantError("account token", e.do("GET", "/api/v1/domains", e.account, "", nil), http.StatusForbidden, codeForbidden, "")
}

func TestAliasRoutes(t *testing.T) {
	e := newAPIEnv(t)
	var al aliasView
	e.decode(e.call("POST", "/api/v1/aliases", map[string]any{"address": "Info@example.org",
		"targets": []string{"alice@example.org", "Bob@example.org"}}, http.StatusCreated), &al)
	if al.Address != "info@example.org" || strings.Join(al.Targets, " ") != "alice@example.org bob@example.org" {
		t.Fatalf("alias = %+v", al)
	}
	e.call("POST", "/api/v1/aliases", map[string]any{"address": "@example.org", "targets": []string{"alice@example.org"}}, http.StatusCreated)
	var list struct{ Aliases []aliasView }
	e.decode(e.call("GET", "/api/v1/aliases", nil, http.StatusOK), &list)
	if len(list.Aliases) != 2 {
		t.Errorf("aliases = %+v", list)
	}
	post := func(body string) response {
		return e.do("POST", "/api/v1/aliases", e.admin, "application/json", strings.NewReader(body))
	}
	e.wantError("duplicate", post(`{"address":"info@example.org","targets":["alice@example.org"]}`), http.StatusConflict, "exists", "alias")
	e.wantError("an account's address", post(`{"address":"alice@example.org","targets":["bob@example.org"]}`), http.StatusConflict, "exists", "alias")
	e.wantError("no targets", post(`{"address":"x@example.org","targets":[]}`), http.StatusBadRequest, "invalid", "targets")
	e.wantError("bad target", post(`{"address":"x@example.org","targets":["nope"]}`), http.StatusBadRequest, "invalid", "targets")
	e.wantError("remote target", post(`{"address":"x@example.org","targets":["z@example.net"]}`), http.StatusNotFound, "not_found", "targets")
	e.wantError("foreign domain", post(`{"address":"x@example.net","targets":["alice@example.org"]}`), http.StatusNotFound, "not_found", "alias")

	e.call("DELETE", "/api/v1/aliases/@example.org", nil, http.StatusNoContent)
	e.call("DELETE", "/api/v1/aliases/info@example.org", nil, http.StatusNoContent)
	e.wantError("deleted", e.do("DELETE", "/api/v1/aliases/info@example.org", e.admin, "", nil), http.StatusNotFound, "not_found", "alias")
	e.wantError("account token", e.do("POST", "/api/v1/aliases", e.account, "application/json",
		strings.NewReader(`{"address":"y@example.org","targets":["alice@example.org"]}`)), http.StatusForbidden, codeForbidden, "")
}
