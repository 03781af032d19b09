package main

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/parleychat/parley/internal/geoip/geoiptest"
)

func TestLoadConfigPublicURLAndGeoIP(t *testing.T) {
	good := map[string]string{
		"https://chat.example.com":       "https://chat.example.com",
		"https://Chat.Example.com/":      "https://chat.example.com",
		"http://localhost:8080":          "http://localhost:8080",
		"https://chat.example.com:8443/": "https://chat.example.com:8443",
		"http://203.0.113.5":             "http://203.0.113.5",
	}
	for in, want := range good {
		c, err := loadConfig("parley serve", nil, env(map[string]string{"PARLEY_PUBLIC_URL": in}))
		if err != nil || c.publicOrigin != want {
			t.Errorf("PARLEY_PUBLIC_URL=%s: %q, %v; want %q", in, c.publicOrigin, err, want)
		}
	}
	for _, in := range []string{"chat.example.com", "ftp://chat.example.com", "https://", "https://chat.example.com/parley",
		"https://chat.example.com?x=1", "https://chat.example.com#x", "https://u:p@chat.example.com", "https://chat example.com",
		"https://chat.example.com\"><script>", "javascript:alert(1)"} {
		if _, err := loadConfig("parley serve", nil, env(map[string]string{"PARLEY_PUBLIC_URL": in})); err == nil || !strings.Contains(err.Error(), "public URL") {
			t.Errorf("PARLEY_PUBLIC_URL=%s: err %v, want a public URL error", in, err)
		}
	}
	c, err := loadConfig("parley serve", []string{"-public-url", "https://flag.example.com", "-geoip-db", "/x/country.mmdb"},
		env(map[string]string{"PARLEY_PUBLIC_URL": "https://env.example.com", "PARLEY_GEOIP_DB": "/y.mmdb"}))
	if err != nil || c.publicOrigin != "https://flag.example.com" || c.GeoIPDB != "/x/country.mmdb" {
		t.Errorf("flags over environment: %+v %v", c, err)
	}
	c, _ = loadConfig("parley serve", nil, env(map[string]string{"PARLEY_GEOIP_DB": "/y.mmdb"}))
	if c.GeoIPDB != "/y.mmdb" || c.publicOrigin != "" {
		t.Errorf("environment: %+v", c)
	}
}

func TestServeBadGeoIPDatabase(t *testing.T) {
	dir := t.TempDir()
	garbage := filepath.Join(dir, "garbage.mmdb")
	os.WriteFile(garbage, []byte(strings.Repeat("not an mmdb ", 200)), 0o600)
	for _, path := range []string{filepath.Join(dir, "missing.mmdb"), garbage} {
		err := run(context.Background(), []string{"serve", "-addr", "127.0.0.1:0"},
			env(map[string]string{"PARLEY_DATA_DIR": t.TempDir(), "PARLEY_GEOIP_DB": path}), io.Discard, io.Discard)
		if err == nil {
			t.Fatalf("serve started with PARLEY_GEOIP_DB=%s", path)
		}
		if exitCode(err) == 0 || !strings.Contains(err.Error(), "PARLEY_GEOIP_DB") || !strings.Contains(err.Error(), path) {
			t.Errorf("unclear error for PARLEY_GEOIP_DB=%s: %v", path, err)
		}
	}
}

// TestServeWidget starts the binary's server with a GeoIP database: a
// visitor gets a country, and the widget page and config are served.
func TestServeWidget(t *testing.T) {
	dir := t.TempDir()
	db := filepath.Join(dir, "country.mmdb")
	geoiptest.Write(t, db, geoiptest.Flat, geoiptest.Entry{Network: "2.16.0.0/13", Code: "FR"})
	base, _, _ := startServe(t, map[string]string{"PARLEY_DATA_DIR": dir, "PARLEY_GEOIP_DB": db,
		"PARLEY_TRUSTED_PROXIES": "127.0.0.1", "PARLEY_ADMIN_PASSWORD": "a long enough secret",
		"PARLEY_PUBLIC_URL": "https://chat.example.com"})
	do := func(method, path, token, cookie, csrf, body string, headers map[string]string) (int, map[string]any, http.Header) {
		t.Helper()
		req, _ := http.NewRequest(method, base+path, strings.NewReader(body))
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if cookie != "" {
			req.AddCookie(&http.Cookie{Name: "parley_session", Value: cookie})
			req.Header.Set("X-CSRF-Token", csrf)
		}
		for k, v := range headers {
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var v map[string]any
		json.NewDecoder(res.Body).Decode(&v)
		if path == "/api/auth/login" {
			for _, c := range res.Cookies() {
				v["cookie"] = c.Value
			}
		}
		return res.StatusCode, v, res.Header
	}
	st, v, _ := do("POST", "/api/visitors", "", "", "", `{"name":"Zoé"}`, map[string]string{"X-Forwarded-For": "2.16.4.4"})
	if st != 201 {
		t.Fatalf("POST /api/visitors: %d %v", st, v)
	}
	token, id := v["token"].(string), v["visitorId"].(string)
	st, login, _ := do("POST", "/api/auth/login", "", "", "", `{"email":"admin@localhost","password":"a long enough secret"}`, nil)
	if st != 200 {
		t.Fatalf("login: %d %v", st, login)
	}
	cookie, csrf := login["cookie"].(string), login["csrfToken"].(string)
	st, cust, _ := do("GET", "/api/customers/"+id, "", cookie, csrf, "", nil)
	loc, _ := cust["location"].(map[string]any)
	if st != 200 || loc["countryCode"] != "FR" || loc["country"] != "France" {
		t.Errorf("customer: %d %v", st, cust)
	}
	st, me, _ := do("GET", "/api/visitors/me", token, "", "", "", nil)
	if st != 200 || me["name"] != "Zoé" {
		t.Errorf("visitor: %d %v", st, me)
	}
	st, s, _ := do("GET", "/api/settings", "", cookie, csrf, "", nil)
	if st != 200 || s["snippet"] != `<script src="https://chat.example.com/widget.js" async></script>` {
		t.Errorf("settings: %d %v", st, s)
	}
	st, _, _ = do("PATCH", "/api/settings", "", cookie, csrf, `{"allowedOrigins":["https://shop.example.com"]}`, nil)
	if st != 200 {
		t.Errorf("PATCH settings: %d", st)
	}
	st, _, h := do("GET", "/widget", "", "", "", "", nil)
	if st != 200 || h.Get("Content-Security-Policy") != "frame-ancestors 'self' https://shop.example.com" {
		t.Errorf("/widget: %d %q", st, h.Get("Content-Security-Policy"))
	}
	if st, c, _ := do("GET", "/api/widget/config", "", "", "", "", nil); st != 200 || c["title"] != "Chat with us" || c["online"] != false {
		t.Errorf("widget config: %d %v", st, c)
	}
}
