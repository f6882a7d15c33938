package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"
)

// openAPI is the part of the document the tests read.
type openAPI struct {
	OpenAPI string                                `json:"openapi"`
	Paths   map[string]map[string]json.RawMessage `json:"paths"`
}

func TestOpenAPIIsValid(t *testing.T) {
	var doc openAPI
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1.") {
		t.Errorf("openapi = %q, want 3.1.x", doc.OpenAPI)
	}
	var full map[string]any
	if err := json.Unmarshal(openAPIDocument, &full); err != nil {
		t.Fatal(err)
	}
	comps, _ := full["components"].(map[string]any)
	schemas, _ := comps["schemas"].(map[string]any)
	schemes, _ := comps["securitySchemes"].(map[string]any)
	if schemas["Error"] == nil || schemes["bearerToken"] == nil {
		t.Error("openapi.json lacks the Error schema or the bearer security scheme")
	}
	// Every $ref names a schema that exists.
	for _, ref := range strings.Split(string(openAPIDocument), `"$ref": "#/components/schemas/`)[1:] {
		name := ref[:strings.IndexByte(ref, '"')]
		if schemas[name] == nil {
			t.Errorf("$ref to missing schema %s", name)
		}
	}
}

// TestOpenAPIMatchesRoutes compares the route table (what New registers) with the document's
// paths and methods, both ways.
func TestOpenAPIMatchesRoutes(t *testing.T) {
	var doc openAPI
	if err := json.Unmarshal(openAPIDocument, &doc); err != nil {
		t.Fatal(err)
	}
	var documented, routed []string
	for path, ops := range doc.Paths {
		for method := range ops {
			if method == "parameters" {
				continue
			}
			documented = append(documented, strings.ToUpper(method)+" "+path)
		}
	}
	for _, rt := range routeTable() {
		routed = append(routed, rt.method+" "+rt.path)
	}
	slices.Sort(documented)
	slices.Sort(routed)
	for _, r := range routed {
		if !slices.Contains(documented, r) {
			t.Errorf("route %s is not in openapi.json", r)
		}
	}
	for _, d := range documented {
		if !slices.Contains(routed, d) {
			t.Errorf("openapi.json documents %s, which is no route", d)
		}
	}
}

// TestRoutesRegistered asks the server every route of the table without a token: each is
// found (401 for those that want one, 200 for the public one), none is 404 or 405.
func TestRoutesRegistered(t *testing.T) {
	e := newAPIEnv(t)
	for _, rt := range routeTable() {
		path := samplePath(rt.path)
		r := e.do(rt.method, path, "", "", nil)
		want := http.StatusUnauthorized
		if rt.access == public {
			want = http.StatusOK
		}
		if r.status != want {
			t.Errorf("%s %s: %d, want %d", rt.method, path, r.status, want)
		}
	}
}

// TestAdminRoutesRefuseAccountTokens asks every admin route with an account token: each is
// 403 insufficient_scope, before its handler runs.
func TestAdminRoutesRefuseAccountTokens(t *testing.T) {
	e := newAPIEnv(t)
	for _, rt := range routeTable() {
		if rt.access != adminOnly {
			continue
		}
		path := samplePath(rt.path)
		r := e.do(rt.method, path, e.account, "", nil)
		if r.status != http.StatusForbidden || !strings.Contains(r.header.Get("WWW-Authenticate"), "insufficient_scope") {
			t.Errorf("%s %s with an account token: %d %s", rt.method, path, r.status, r.body)
		}
	}
}

// samplePath is a route's path with a value for each of its parameters.
func samplePath(path string) string {
	return strings.NewReplacer("{id}", "1", "{address}", "a@example.net", "{name}", "x", "{entry}", "@example.net",
		"{send_as}", "x@example.org").Replace(path)
}
