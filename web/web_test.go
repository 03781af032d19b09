package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"
)

func TestHandler(t *testing.T) {
	built := fstest.MapFS{
		"admin.html":          {Data: []byte("<html>admin</html>")},
		"widget.html":         {Data: []byte("<html>widget</html>")},
		"widget.js":           {Data: []byte("(()=>{})();")},
		"assets/app-1a2b.js":  {Data: []byte("console.log(1)")},
		"assets/app-1a2b.css": {Data: []byte("body{}")},
		"favicon.svg":         {Data: []byte("<svg/>")},
	}
	placeholder := fstest.MapFS{"index.html": {Data: []byte("<html>placeholder</html>")}}

	cases := []struct {
		name, method, path string
		fsys               fstest.MapFS
		status             int
		body               string // substring
		headers            map[string]string
	}{
		{"loader", "GET", "/widget.js", built, 200, "(()=>{})();", map[string]string{
			"Content-Type": "text/javascript; charset=utf-8", "Cache-Control": "public, max-age=300", "Cross-Origin-Resource-Policy": "cross-origin"}},
		{"widget page", "GET", "/widget", built, 200, "widget", map[string]string{
			"Content-Type": "text/html; charset=utf-8", "Cache-Control": "no-cache", "X-Frame-Options": ""}},
		{"dashboard", "GET", "/admin", built, 200, "admin", map[string]string{"Cache-Control": "no-cache", "X-Frame-Options": "SAMEORIGIN"}},
		{"dashboard deep link", "GET", "/admin/chat/0b6a3c9e-1d2f-4c1a-9a8e-123456789abc", built, 200, "admin", nil},
		{"dashboard login", "GET", "/admin/login", built, 200, "admin", nil},
		{"hashed asset", "GET", "/assets/app-1a2b.js", built, 200, "console.log", map[string]string{"Cache-Control": "public, max-age=31536000, immutable"}},
		{"missing asset", "GET", "/assets/nope.js", built, 404, "", nil},
		{"entry file by name", "GET", "/widget.html", built, 404, "", nil},
		{"admin file by name", "GET", "/admin.html", built, 404, "", nil},
		{"top-level file", "GET", "/favicon.svg", built, 200, "<svg/>", nil},
		{"unknown", "GET", "/nothing", built, 404, "", nil},
		{"root", "GET", "/", built, 302, "", map[string]string{"Location": "/admin"}},
		{"head", "HEAD", "/widget", built, 200, "", nil},
		{"post", "POST", "/widget", built, 405, "", map[string]string{"Allow": "GET, HEAD"}},
		{"placeholder dashboard", "GET", "/admin", placeholder, 200, "placeholder", nil},
		{"placeholder widget", "GET", "/widget", placeholder, 200, "placeholder", nil},
		{"placeholder loader", "GET", "/widget.js", placeholder, 404, "", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			Handler(tc.fsys).ServeHTTP(rec, httptest.NewRequest(tc.method, tc.path, nil))
			res := rec.Result()
			body, _ := io.ReadAll(res.Body)
			if res.StatusCode != tc.status {
				t.Fatalf("status %d, want %d (body %q)", res.StatusCode, tc.status, body)
			}
			if tc.body != "" && !strings.Contains(string(body), tc.body) {
				t.Errorf("body %q lacks %q", body, tc.body)
			}
			for k, v := range tc.headers {
				if got := res.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
			}
			if res.Header.Get("X-Content-Type-Options") != "nosniff" && tc.status != 405 {
				t.Errorf("no nosniff")
			}
		})
	}
}

// The pages carry a policy that runs only their own scripts, and the
// dashboard may not be framed by other sites.
func TestPagePolicies(t *testing.T) {
	fsys := fstest.MapFS{"admin.html": {Data: []byte("a")}, "widget.html": {Data: []byte("w")}}
	for path, want := range map[string]string{"/widget": "script-src 'self'", "/admin/x": "frame-ancestors 'self'"} {
		rec := httptest.NewRecorder()
		Handler(fsys).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, path, nil))
		if csp := rec.Header().Get("Content-Security-Policy"); !strings.Contains(csp, want) {
			t.Errorf("%s: CSP %q lacks %q", path, csp, want)
		}
	}
	rec := httptest.NewRecorder()
	Handler(fsys).ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/widget", nil))
	if strings.Contains(rec.Header().Get("Content-Security-Policy"), "frame-ancestors") {
		t.Errorf("the widget page must stay embeddable by the allowed sites")
	}
}
