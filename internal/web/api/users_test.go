package api

import (
	"net/http"
	"strings"
	"testing"

	"posthorn/internal/auth"
)

func TestUserRoutes(t *testing.T) {
	e := newAPIEnv(t)
	var u userView
	e.decode(e.call("POST", "/api/v1/users", map[string]any{"address": "Carol@example.org", "password": "a long enough passphrase"},
		http.StatusCreated), &u)
	if u.Address != "carol@example.org" || u.CreatedAt.IsZero() {
		t.Fatalf("user = %+v", u)
	}
	post := func(body string) response {
		return e.do("POST", "/api/v1/users", e.admin, "application/json", strings.NewReader(body))
	}
	e.wantError("duplicate", post(`{"address":"carol@example.org","password":"a long enough passphrase"}`), http.StatusConflict, "exists", "address")
	e.wantError("weak password", post(`{"address":"dave@example.org","password":"x"}`), http.StatusBadRequest, "invalid", "password")
	e.wantError("bad address", post(`{"address":"dave","password":"a long enough passphrase"}`), http.StatusBadRequest, "invalid", "address")
	e.wantError("foreign domain", post(`{"address":"dave@example.net","password":"a long enough passphrase"}`), http.StatusNotFound, "not_found", "domain")

	var list struct{ Users []userView }
	e.decode(e.call("GET", "/api/v1/users?domain=example.org", nil, http.StatusOK), &list)
	if len(list.Users) != 3 {
		t.Errorf("users = %+v", list)
	}
	e.wantError("bad domain", e.do("GET", "/api/v1/users?domain=a%20b", e.admin, "", nil), http.StatusBadRequest, "invalid", "domain")
	e.decode(e.call("GET", "/api/v1/users/carol@example.org", nil, http.StatusOK), &u)
	e.wantError("unknown", e.do("GET", "/api/v1/users/nobody@example.org", e.admin, "", nil), http.StatusNotFound, "not_found", "address")

	// The new password works, the old one no longer does.
	e.call("PUT", "/api/v1/users/carol@example.org/password", map[string]any{"password": "another long passphrase"}, http.StatusNoContent)
	acc, err := e.Store.GetAccount(t.Context(), "carol@example.org")
	if err != nil {
		t.Fatal(err)
	}
	if ok, err := auth.CheckPassword(acc.PasswordHash, "another long passphrase"); !ok || err != nil {
		t.Errorf("new password: %v %v", ok, err)
	}
	e.wantError("weak new password", e.do("PUT", "/api/v1/users/carol@example.org/password", e.admin, "application/json",
		strings.NewReader(`{"password":"x"}`)), http.StatusBadRequest, "invalid", "password")

	var q quotaView
	e.decode(e.call("PUT", "/api/v1/users/carol@example.org/quota", map[string]any{"quota_bytes": 1 << 20}, http.StatusOK), &q)
	if q.QuotaBytes != 1<<20 || q.Address != "carol@example.org" {
		t.Errorf("quota = %+v", q)
	}
	e.decode(e.call("GET", "/api/v1/users/carol@example.org/quota", nil, http.StatusOK), &q)
	if q.QuotaBytes != 1<<20 || q.UsedBytes != 0 {
		t.Errorf("quota = %+v", q)
	}
	e.wantError("negative quota", e.do("PUT", "/api/v1/users/carol@example.org/quota", e.admin, "application/json",
		strings.NewReader(`{"quota_bytes":-5}`)), http.StatusBadRequest, "invalid", "quota")
	e.wantError("missing quota", e.do("PUT", "/api/v1/users/carol@example.org/quota", e.admin, "application/json",
		strings.NewReader(`{}`)), http.StatusBadRequest, "invalid", "quota_bytes")

	e.call("DELETE", "/api/v1/users/carol@example.org", nil, http.StatusNoContent)
	e.wantError("deleted", e.do("DELETE", "/api/v1/users/carol@example.org", e.admin, "", nil), http.StatusNotFound, "not_found", "address")
	e.wantError("account token", e.do("GET", "/api/v1/users", e.account, "", nil), http.StatusForbidden, codeForbidden, "")
}

func TestAppPasswordRoutes(t *testing.T) {
	e := newAPIEnv(t)
	path := "/api/v1/users/alice@example.org/app-passwords"
	r := e.call("POST", path, map[string]any{"name": "phone"}, http.StatusCreated)
	var created newAppPasswordView
	e.decode(r, &created)
	if created.Name != "phone" || created.Password == "" || created.CreatedAt.IsZero() {
		t.Fatalf("created = %+v", created)
	}
	// The secret is in the 201 answer only.
	lr := e.call("GET", path, nil, http.StatusOK)
	if strings.Contains(string(lr.body), created.Password) || strings.Contains(string(lr.body), "password\"") {
		t.Errorf("listing shows the secret: %s", lr.body)
	}
	var list struct {
		AppPasswords []appPasswordView `json:"app_passwords"`
	}
	e.decode(lr, &list)
	if len(list.AppPasswords) != 1 || list.AppPasswords[0].Name != "phone" {
		t.Errorf("list = %+v", list)
	}
	e.wantError("duplicate", e.do("POST", path, e.admin, "application/json", strings.NewReader(`{"name":"phone"}`)),
		http.StatusConflict, "exists", "name")
	e.wantError("no name", e.do("POST", path, e.admin, "application/json", strings.NewReader(`{"name":""}`)),
		http.StatusBadRequest, "invalid", "name")
	e.wantError("unknown user", e.do("GET", "/api/v1/users/nobody@example.org/app-passwords", e.admin, "", nil),
		http.StatusNotFound, "not_found", "address")
	e.call("DELETE", path+"/phone", nil, http.StatusNoContent)
	e.wantError("deleted", e.do("DELETE", path+"/phone", e.admin, "", nil), http.StatusNotFound, "not_found", "name")
	e.wantError("account token", e.do("GET", path, e.account, "", nil), http.StatusForbidden, codeForbidden, "")
}

func TestSpamListRoutes(t *testing.T) {
	e := newAPIEnv(t)
	base := "/api/v1/users/alice@example.org/spam/"
	var l spamListView
	e.decode(e.call("POST", base+"block", map[string]any{"entry": "@Spam.example"}, http.StatusCreated), &l)
	if l.List != "block" || l.Account != "alice@example.org" || strings.Join(l.Entries, " ") != "@spam.example" {
		t.Fatalf("block list = %+v", l)
	}
	e.decode(e.call("POST", base+"allow", map[string]any{"entry": "friend@example.net"}, http.StatusCreated), &l)
	e.decode(e.call("GET", base+"allow", nil, http.StatusOK), &l)
	if l.List != "allow" || strings.Join(l.Entries, " ") != "friend@example.net" {
		t.Errorf("allow list = %+v", l)
	}
	e.wantError("on the other list", e.do("POST", base+"allow", e.admin, "application/json", strings.NewReader(`{"entry":"@spam.example"}`)),
		http.StatusConflict, "exists", "entry")
	e.wantError("bad entry", e.do("POST", base+"block", e.admin, "application/json", strings.NewReader(`{"entry":"not an address"}`)),
		http.StatusBadRequest, "invalid", "entry")
	e.wantError("unknown user", e.do("GET", "/api/v1/users/nobody@example.org/spam/block", e.admin, "", nil),
		http.StatusNotFound, "not_found", "address")
	e.call("DELETE", base+"block/@spam.example", nil, http.StatusNoContent)
	e.wantError("removed", e.do("DELETE", base+"block/@spam.example", e.admin, "", nil), http.StatusNotFound, "not_found", "entry")
	e.decode(e.call("GET", base+"block", nil, http.StatusOK), &l)
	if l.Entries == nil || len(l.Entries) != 0 {
		t.Errorf("empty block list = %+v", l)
	}
	e.wantError("account token", e.do("GET", base+"block", e.account, "", nil), http.StatusForbidden, codeForbidden, "")
}

func TestLegalHoldRoute(t *testing.T) {
	e := newAPIEnv(t)
	path := "/api/v1/users/Alice@example.org/legal-hold"
	var u userView
	e.decode(e.call("PUT", path, map[string]any{"hold": true}, http.StatusOK), &u)
	if u.Address != "alice@example.org" || !u.LegalHold {
		t.Fatalf("user after the hold = %+v", u)
	}
	e.decode(e.call("GET", "/api/v1/users/alice@example.org", nil, http.StatusOK), &u)
	if !u.LegalHold {
		t.Errorf("GET user = %+v, want the hold", u)
	}
	var list struct{ Users []userView }
	e.decode(e.call("GET", "/api/v1/users", nil, http.StatusOK), &list)
	for _, v := range list.Users {
		if v.LegalHold != (v.Address == "alice@example.org") {
			t.Errorf("listed %+v", v)
		}
	}
	e.decode(e.call("PUT", path, map[string]any{"hold": false}, http.StatusOK), &u)
	if u.LegalHold {
		t.Errorf("user after lifting the hold = %+v", u)
	}
	put := func(p, body string) response {
		return e.do("PUT", p, e.admin, "application/json", strings.NewReader(body))
	}
	e.wantError("missing hold", put(path, `{}`), http.StatusBadRequest, "invalid", "hold")
	e.wantError("wrong type", put(path, `{"hold":"yes"}`), http.StatusBadRequest, "invalid", "hold")
	e.wantError("unknown user", put("/api/v1/users/nobody@example.org/legal-hold", `{"hold":true}`), http.StatusNotFound, "not_found", "address")
	e.wantError("account token", e.do("PUT", path, e.account, "application/json", strings.NewReader(`{"hold":true}`)),
		http.StatusForbidden, codeForbidden, "")
}
