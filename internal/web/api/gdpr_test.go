package api

import (
	"archive/zip"
	"bytes"
	"io"
	"net/http"
	"strings"
	"testing"

	"posthorn/internal/store"
)

// TestGDPRRoutes checks the export (a zip naming the person), the dry run and the erasure of
// a subscriber through the API, and that bad requests name their field.
func TestGDPRRoutes(t *testing.T) {
	e := newAPIEnv(t)
	ctx := t.Context()
	list, err := e.svc.Store.CreateList(ctx, store.List{Name: "news", OptIn: store.OptInSingle})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.svc.Store.SubscribeToList(ctx, list.ID, []store.SubscribeRequest{{
		Subscriber: store.Subscriber{Address: "sub@example.net", Name: "Sub Scriber"}, Status: store.StatusConfirmed,
		Consent: store.Consent{Source: store.SourceAPI, Text: "yes please"}}}); err != nil {
		t.Fatal(err)
	}

	r := e.do("POST", "/api/v1/gdpr/export", e.admin, "application/json", strings.NewReader(`{"address":"Sub@example.net"}`))
	if r.status != http.StatusOK || r.header.Get("Content-Type") != "application/zip" {
		t.Fatalf("export: %d %s: %s", r.status, r.header.Get("Content-Type"), r.body)
	}
	z, err := zip.NewReader(bytes.NewReader(r.body), int64(len(r.body)))
	if err != nil {
		t.Fatal(err)
	}
	var sub string
	for _, f := range z.File {
		if f.Name == "subscriber.json" {
			rc, err := f.Open()
			if err != nil {
				t.Fatal(err)
			}
			b, err := io.ReadAll(rc)
			if err != nil {
				t.Fatal(err)
			}
			sub = string(b)
		}
	}
	if !strings.Contains(sub, "sub@example.net") || !strings.Contains(sub, "Sub Scriber") {
		t.Errorf("subscriber.json: %q", sub)
	}

	var dry erasureJSON
	e.decode(e.call("POST", "/api/v1/gdpr/erase", map[string]any{"address": "sub@example.net", "dry_run": true}, http.StatusOK), &dry)
	if !dry.DryRun || dry.Pseudonym != "" || count(dry, "subscriptions") != 1 {
		t.Errorf("dry run: %+v", dry)
	}
	if _, err := e.svc.Store.GetSubscriber(ctx, "sub@example.net"); err != nil {
		t.Errorf("after the dry run: %v", err)
	}
	var done erasureJSON
	e.decode(e.call("POST", "/api/v1/gdpr/erase", map[string]any{"address": "sub@example.net"}, http.StatusOK), &done)
	if done.DryRun || !strings.HasSuffix(done.Pseudonym, "@erased.invalid") || done.AuditID == 0 || count(done, "subscriber") != 1 {
		t.Errorf("erase: %+v", done)
	}
	if _, err := e.svc.Store.GetSubscriber(ctx, "sub@example.net"); err == nil {
		t.Error("the subscriber is still there")
	}

	e.wantError("erase again", e.do("POST", "/api/v1/gdpr/erase", e.admin, "application/json",
		strings.NewReader(`{"address":"sub@example.net"}`)), http.StatusNotFound, "not_found", "address")
	e.wantError("export of nobody", e.do("POST", "/api/v1/gdpr/export", e.admin, "application/json",
		strings.NewReader(`{"address":"nobody@example.net"}`)), http.StatusNotFound, "not_found", "address")
	e.wantError("no address", e.do("POST", "/api/v1/gdpr/erase", e.admin, "application/json",
		strings.NewReader(`{}`)), http.StatusBadRequest, "invalid", "address")
	e.wantError("bad address", e.do("POST", "/api/v1/gdpr/export", e.admin, "application/json",
		strings.NewReader(`{"address":"not an address"}`)), http.StatusBadRequest, "invalid", "address")
	e.wantError("unknown field", e.do("POST", "/api/v1/gdpr/erase", e.admin, "application/json",
		strings.NewReader(`{"address":"a@example.net","force":true}`)), http.StatusBadRequest, "invalid", "force")
	e.wantError("account token", e.do("POST", "/api/v1/gdpr/erase", e.account, "application/json",
		strings.NewReader(`{"address":"alice@example.org"}`)), http.StatusForbidden, codeForbidden, "")
}

func count(e erasureJSON, part string) int64 {
	for _, c := range e.Parts {
		if c.Part == part {
			return c.Count
		}
	}
	return -1
}
