package api

import (
	"net/http"
	"strconv"
	"strings"
	"testing"

	"posthorn/internal/admin"
	"posthorn/internal/store"
)

// TestTokenRoutes: GET /api/v1/tokens lists the tokens as `token list` does, without
// secrets; DELETE /api/v1/tokens/{id} revokes one, whose next request is 401.
func TestTokenRoutes(t *testing.T) {
	e := newAPIEnv(t)
	spare, tok, err := e.tokens.Create(t.Context(), admin.TokenInput{Name: "spare", Scope: store.ScopeAdmin})
	if err != nil {
		t.Fatal(err)
	}
	r := e.call("GET", "/api/v1/tokens", nil, http.StatusOK)
	var list struct{ Tokens []tokenView }
	e.decode(r, &list)
	if len(list.Tokens) != 3 || list.Tokens[0].Name != "ops" || list.Tokens[0].Scope != "admin" || list.Tokens[0].LastUsedAt == nil ||
		list.Tokens[1].Scope != "account" || list.Tokens[1].Account != "alice@example.org" || list.Tokens[2].ID != tok.ID ||
		list.Tokens[2].RevokedAt != nil {
		t.Fatalf("tokens = %+v", list.Tokens)
	}
	if strings.Contains(string(r.body), "ph_") || strings.Contains(strings.ToLower(string(r.body)), "hash") {
		t.Errorf("the listing shows a secret: %s", r.body)
	}
	e.do("GET", "/api/v1/domains", spare, "", nil) // in use before
	e.call("DELETE", "/api/v1/tokens/"+strconv.FormatInt(tok.ID, 10), nil, http.StatusNoContent)
	e.wantError("revoked", e.do("GET", "/api/v1/domains", spare, "", nil), http.StatusUnauthorized, codeUnauthorized, "token")
	list.Tokens = nil
	e.decode(e.call("GET", "/api/v1/tokens", nil, http.StatusOK), &list)
	if len(list.Tokens) != 3 || list.Tokens[2].RevokedAt == nil {
		t.Errorf("after revoking: %+v", list.Tokens)
	}
	e.wantError("unknown", e.do("DELETE", "/api/v1/tokens/999", e.admin, "", nil), http.StatusNotFound, "not_found", "id")
	e.wantError("bad id", e.do("DELETE", "/api/v1/tokens/x", e.admin, "", nil), http.StatusBadRequest, "invalid", "id")
	e.wantError("account token", e.do("GET", "/api/v1/tokens", e.account, "", nil), http.StatusForbidden, codeForbidden, "")
}
