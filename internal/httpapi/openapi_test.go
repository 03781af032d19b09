package httpapi_test

import (
	"encoding/json"
	"os"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/httpapi"
)

// TestOpenAPICoversRoutes fails when a registered route is missing from
// openapi.json, or the file describes a route that is not registered.
func TestOpenAPICoversRoutes(t *testing.T) {
	b, err := os.ReadFile("openapi.json")
	if err != nil {
		t.Fatal(err)
	}
	var doc struct {
		OpenAPI string                                `json:"openapi"`
		Paths   map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(b, &doc); err != nil {
		t.Fatalf("openapi.json: %v", err)
	}
	if !strings.HasPrefix(doc.OpenAPI, "3.1") {
		t.Errorf("openapi %q, want 3.1.x", doc.OpenAPI)
	}
	registered := map[string]bool{}
	for _, rt := range httpapi.Routes() {
		key := strings.ToLower(rt.Method) + " " + rt.Pattern
		registered[key] = true
		if _, ok := doc.Paths[rt.Pattern][strings.ToLower(rt.Method)]; !ok {
			t.Errorf("%s %s is registered but missing from openapi.json", rt.Method, rt.Pattern)
		}
	}
	for p, ops := range doc.Paths {
		for m := range ops {
			if !registered[m+" "+p] {
				t.Errorf("openapi.json describes %s %s, which is not registered", strings.ToUpper(m), p)
			}
		}
	}
}

func TestOpenAPIServed(t *testing.T) {
	e := newEnv(t, openSQLite, envOptions{})
	r := e.do("GET", "/api/openapi.json", cred{}, nil)
	want(t, r, 200, "openapi.json")
	file, _ := os.ReadFile("openapi.json")
	if string(r.body) != string(file) {
		t.Error("the served document differs from openapi.json")
	}
	want(t, e.do("GET", "/healthz", cred{}, nil), 200, "healthz")
	want(t, e.do("GET", "/readyz", cred{}, nil), 200, "readyz")
	e.store.Close()
	r = e.do("GET", "/readyz", cred{}, nil)
	if r.status != 503 || r.code() != "unavailable" {
		t.Errorf("readyz with the database closed: %d %s", r.status, r.body)
	}
	want(t, e.do("GET", "/healthz", cred{}, nil), 200, "healthz without a database")
	want(t, e.do("GET", "/api/nope", cred{}, nil), 404, "unknown API path")
}
