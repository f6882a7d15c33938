package api

import (
	"net/http"
	"strings"
	"testing"
)

func TestSendAsRoutes(t *testing.T) {
	e := newAPIEnv(t)
	path := "/api/v1/users/alice@example.org/send-as"
	var v sendAsView
	e.decode(e.call("POST", path, map[string]any{"send_as": "@Shop.example"}, http.StatusCreated), &v)
	if v.Account != "alice@example.org" || strings.Join(v.SendAs, " ") != "@shop.example" {
		t.Fatalf("send-as = %+v", v)
	}
	e.wantError("duplicate", e.do("POST", path, e.admin, "application/json", strings.NewReader(`{"send_as":"@shop.example"}`)),
		http.StatusConflict, "exists", "send_as")
	e.wantError("bad address", e.do("POST", path, e.admin, "application/json", strings.NewReader(`{"send_as":"nope"}`)),
		http.StatusBadRequest, "invalid", "send_as")
	e.call("DELETE", path+"/@shop.example", nil, http.StatusNoContent)
	e.wantError("removed", e.do("DELETE", path+"/@shop.example", e.admin, "", nil), http.StatusNotFound, "not_found", "send_as")
	e.decode(e.call("GET", path, nil, http.StatusOK), &v)
	if v.SendAs == nil || len(v.SendAs) != 0 {
		t.Errorf("empty send-as = %+v", v)
	}
	e.wantError("unknown user", e.do("GET", "/api/v1/users/nobody@example.org/send-as", e.admin, "", nil),
		http.StatusNotFound, "not_found", "address")
	e.wantError("account token", e.do("GET", path, e.account, "", nil), http.StatusForbidden, codeForbidden, "")
}

func TestSendLimitRoutes(t *testing.T) {
	e := newAPIEnv(t)
	path := "/api/v1/users/alice@example.org/send-limits"
	var l sendLimitsView
	e.decode(e.call("PUT", path, map[string]any{"per_hour": 50, "per_day": -1}, http.StatusOK), &l)
	if l != (sendLimitsView{PerHour: 50, PerDay: -1}) {
		t.Errorf("limits = %+v", l)
	}
	e.decode(e.call("GET", path, nil, http.StatusOK), &l)
	if l != (sendLimitsView{PerHour: 50, PerDay: -1}) {
		t.Errorf("limits = %+v", l)
	}
	put := func(body string) response {
		return e.do("PUT", path, e.admin, "application/json", strings.NewReader(body))
	}
	e.wantError("negative", put(`{"per_hour":-7,"per_day":0}`), http.StatusBadRequest, "invalid", "per_hour")
	e.wantError("missing", put(`{"per_hour":1}`), http.StatusBadRequest, "invalid", "per_day")
	e.wantError("unknown user", e.do("GET", "/api/v1/users/nobody@example.org/send-limits", e.admin, "", nil),
		http.StatusNotFound, "not_found", "address")
}
