package httpapi_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/netip"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/fstest"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/geoip"
	"github.com/parleychat/parley/internal/geoip/geoiptest"
	"github.com/parleychat/parley/web"
)

type widgetConfig struct {
	Title               string          `json:"title"`
	Greeting            string          `json:"greeting"`
	Color               string          `json:"color"`
	Position            string          `json:"position"`
	PreChatForm         string          `json:"preChatForm"`
	Online              bool            `json:"online"`
	AgentsOnline        bool            `json:"agentsOnline"`
	WithinBusinessHours bool            `json:"withinBusinessHours"`
	BusinessHours       json.RawMessage `json:"businessHours"`
	NextOpenAt          *string         `json:"nextOpenAt"`
	OfflineMessage      string          `json:"offlineMessage"`
}

func (e *env) widgetConfig(t *testing.T) widgetConfig {
	t.Helper()
	r := e.do("GET", "/api/widget/config", cred{}, nil)
	want(t, r, 200, "widget config")
	var keys map[string]json.RawMessage
	r.json(t, &keys)
	for _, k := range []string{"title", "greeting", "color", "position", "preChatForm", "online", "agentsOnline",
		"withinBusinessHours", "businessHours", "nextOpenAt", "offlineMessage"} {
		if _, ok := keys[k]; !ok {
			t.Errorf("widget config lacks %q: %s", k, r.body)
		}
	}
	if len(keys) != 11 {
		t.Errorf("widget config has %d keys, want 11: %s", len(keys), r.body)
	}
	var c widgetConfig
	r.json(t, &c)
	return c
}

func TestWidgetConfig(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		r := e.do("GET", "/api/widget/config", cred{}, nil)
		if r.header.Get("Cache-Control") != "no-cache" || r.header.Get("Access-Control-Allow-Origin") != "*" {
			t.Errorf("headers: Cache-Control %q, Access-Control-Allow-Origin %q", r.header.Get("Cache-Control"), r.header.Get("Access-Control-Allow-Origin"))
		}
		c := e.widgetConfig(t)
		if c.Title != "Chat with us" || c.Greeting != "Hi! How can we help?" || c.Color != "#2563eb" || c.Position != "right" ||
			c.PreChatForm != "optional" || string(c.BusinessHours) != "null" || c.NextOpenAt != nil || c.OfflineMessage != "" {
			t.Errorf("defaults: %+v", c)
		}
		if c.Online || c.AgentsOnline || !c.WithinBusinessHours {
			t.Errorf("nobody is online, no hours: %+v", c)
		}
		want(t, e.do("GET", "/api/widget/config?x=1", cred{}, nil), 400, "unknown parameter")

		// A disabled admin set online does not count.
		ctx := context.Background()
		if _, err := e.store.UpdateUser(ctx, e.users["disabled"].ID, parley.UserUpdate{Availability: ptr(parley.Online)}); err != nil {
			t.Fatal(err)
		}
		if c := e.widgetConfig(t); c.AgentsOnline {
			t.Error("a disabled agent counts as online")
		}
		agent := e.session(e.users["agent_unassigned"])
		want(t, e.do("PATCH", "/api/auth/me", agent, map[string]string{"availability": "online"}), 200, "going online")
		if c := e.widgetConfig(t); !c.Online || !c.AgentsOnline || !c.WithinBusinessHours {
			t.Errorf("an agent is online: %+v", c)
		}

		admin := e.session(e.users["admin"])
		setHours := func(h any) {
			t.Helper()
			want(t, e.do("PATCH", "/api/settings", admin, map[string]any{"businessHours": h}), 200, "setting hours")
		}
		// Open around the clock.
		all := map[string]any{}
		for _, d := range []string{"mon", "tue", "wed", "thu", "fri", "sat", "sun"} {
			all[d] = []map[string]string{{"from": "00:00", "to": "24:00"}}
		}
		setHours(map[string]any{"timeZone": "Pacific/Auckland", "days": all})
		if c := e.widgetConfig(t); !c.Online || !c.WithinBusinessHours || c.NextOpenAt != nil {
			t.Errorf("open around the clock: %+v", c)
		}
		// Open one hour on the weekday two days ahead: closed now, and the
		// next opening is that day at 10:00 UTC.
		ahead := time.Now().UTC().Add(48 * time.Hour)
		day := strings.ToLower(ahead.Weekday().String()[:3])
		setHours(map[string]any{"timeZone": "UTC", "days": map[string]any{day: []map[string]string{{"from": "10:00", "to": "11:00"}}}})
		c = e.widgetConfig(t)
		wantNext := time.Date(ahead.Year(), ahead.Month(), ahead.Day(), 10, 0, 0, 0, time.UTC).Format(time.RFC3339)
		if c.Online || !c.AgentsOnline || c.WithinBusinessHours || c.NextOpenAt == nil || *c.NextOpenAt != wantNext {
			t.Errorf("closed until %s: %+v (next %v)", wantNext, c, deref(c.NextOpenAt))
		}
		var bh struct {
			TimeZone string                         `json:"timeZone"`
			Days     map[string][]map[string]string `json:"days"`
		}
		json.Unmarshal(c.BusinessHours, &bh)
		if bh.TimeZone != "UTC" || len(bh.Days) != 7 || len(bh.Days[day]) != 1 || bh.Days[day][0]["from"] != "10:00" {
			t.Errorf("business hours shown as %s", c.BusinessHours)
		}
		// Closed every day: never opens.
		setHours(map[string]any{"timeZone": "Europe/Paris", "days": map[string]any{}})
		if c := e.widgetConfig(t); c.Online || c.WithinBusinessHours || c.NextOpenAt != nil {
			t.Errorf("closed all week: %+v", c)
		}
		setHours(nil)
		if c := e.widgetConfig(t); !c.Online || string(c.BusinessHours) != "null" {
			t.Errorf("hours removed: %+v", c)
		}
	})
}

func deref(p *string) string {
	if p == nil {
		return "<nil>"
	}
	return *p
}

type settingsBody struct {
	Widget struct {
		Title       string `json:"title"`
		Greeting    string `json:"greeting"`
		Color       string `json:"color"`
		Position    string `json:"position"`
		PreChatForm string `json:"preChatForm"`
	} `json:"widget"`
	AllowedOrigins []string        `json:"allowedOrigins"`
	BusinessHours  json.RawMessage `json:"businessHours"`
	OfflineMessage string          `json:"offlineMessage"`
	Snippet        string          `json:"snippet"`
}

func TestSettingsAPI(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		lead, admin := e.session(e.users["team_lead"]), e.session(e.users["admin"])
		var s settingsBody
		r := e.do("GET", "/api/settings", lead, nil)
		want(t, r, 200, "GET settings as a team lead")
		r.json(t, &s)
		wantSnippet := `<script src="` + e.srv.URL + `/widget.js" async></script>`
		if s.Widget.Title != "Chat with us" || s.Widget.Color != "#2563eb" || s.AllowedOrigins == nil ||
			len(s.AllowedOrigins) != 0 || string(s.BusinessHours) != "null" || s.Snippet != wantSnippet {
			t.Errorf("defaults: %s", r.body)
		}

		full := map[string]any{
			"widget": map[string]any{"title": "Besoin d'aide ?", "greeting": "Bonjour 👋\nÉcrivez-nous.", "color": "#0F766E",
				"position": "left", "preChatForm": "required"},
			"allowedOrigins": []string{"https://shop.example.com", "http://localhost:3000", "https://SHOP.example.com"},
			"businessHours": map[string]any{"timeZone": "Europe/Paris", "days": map[string]any{
				"mon": []map[string]string{{"from": "13:00", "to": "18:00"}, {"from": "09:00", "to": "12:00"}},
				"fri": []map[string]string{{"from": "22:00", "to": "02:00"}},
			}},
			"offlineMessage": "Laissez-nous votre e-mail.",
			"snippet":        "<script>ignored</script>",
		}
		r = e.do("PATCH", "/api/settings", admin, full)
		want(t, r, 200, "PATCH settings")
		r.json(t, &s)
		if s.Widget.Title != "Besoin d'aide ?" || s.Widget.Color != "#0f766e" || s.Widget.Position != "left" ||
			s.Widget.PreChatForm != "required" || s.OfflineMessage != "Laissez-nous votre e-mail." || s.Snippet != wantSnippet ||
			!slices.Equal(s.AllowedOrigins, []string{"https://shop.example.com", "http://localhost:3000"}) {
			t.Errorf("after PATCH: %s", r.body)
		}
		var bh struct {
			TimeZone string                         `json:"timeZone"`
			Days     map[string][]map[string]string `json:"days"`
		}
		json.Unmarshal(s.BusinessHours, &bh)
		if bh.TimeZone != "Europe/Paris" || len(bh.Days["mon"]) != 2 || bh.Days["mon"][0]["from"] != "09:00" ||
			bh.Days["fri"][0]["to"] != "02:00" || len(bh.Days["sun"]) != 0 || bh.Days["sun"] == nil {
			t.Errorf("business hours: %s", s.BusinessHours)
		}
		r2 := e.do("GET", "/api/settings", lead, nil)
		want(t, r2, 200, "GET after PATCH")
		if string(r2.body) != string(r.body) {
			t.Errorf("GET differs from the PATCH answer:\n%s\n%s", r2.body, r.body)
		}
		// A subset changes only itself.
		r = e.do("PATCH", "/api/settings", admin, map[string]any{"widget": map[string]string{"color": "#111111"}})
		want(t, r, 200, "PATCH colour")
		r.json(t, &s)
		if s.Widget.Color != "#111111" || s.Widget.Title != "Besoin d'aide ?" || len(s.AllowedOrigins) != 2 || string(s.BusinessHours) == "null" {
			t.Errorf("after a colour change: %s", r.body)
		}
		r = e.do("PATCH", "/api/settings", admin, map[string]any{"businessHours": nil, "allowedOrigins": []string{}})
		want(t, r, 200, "PATCH clearing")
		r.json(t, &s)
		if string(s.BusinessHours) != "null" || len(s.AllowedOrigins) != 0 || s.Widget.Color != "#111111" {
			t.Errorf("after clearing: %s", r.body)
		}
		if c := e.widgetConfig(t); c.Color != "#111111" || c.Position != "left" || c.OfflineMessage != "Laissez-nous votre e-mail." {
			t.Errorf("the widget config does not follow the settings: %+v", c)
		}
		// A lead may read but not change; nor may a lead's token.
		want(t, e.do("PATCH", "/api/settings", lead, map[string]any{"offlineMessage": "x"}), 403, "PATCH as a lead")
		tok, _ := e.apiToken(e.users["admin"])
		want(t, e.do("PATCH", "/api/settings", cred{bearer: tok}, map[string]any{"offlineMessage": "by token"}), 200, "PATCH with an admin's token")
		noCSRF := admin
		noCSRF.noCSRF = true
		want(t, e.do("PATCH", "/api/settings", noCSRF, map[string]any{"offlineMessage": "x"}), 403, "PATCH without the CSRF token")
	})
}

// TestSettingsBadInput: every malformed or out-of-bounds PATCH is 400
// invalid (never a 500) and changes nothing.
func TestSettingsBadInput(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		admin := e.session(e.users["admin"])
		want(t, e.do("PATCH", "/api/settings", admin, map[string]any{"widget": map[string]string{"title": "Before"}}), 200, "first save")
		before := e.do("GET", "/api/settings", admin, nil)
		hours := func(days string) string {
			return `{"businessHours":{"timeZone":"Europe/Paris","days":` + days + `}}`
		}
		bad := []struct{ name, body string }{
			{"not JSON", `{"widget":`},
			{"an array", `[]`},
			{"a string", `"x"`},
			{"trailing data", `{} {}`},
			{"unknown field", `{"theme":"dark"}`},
			{"unknown widget field", `{"widget":{"font":"Comic Sans"}}`},
			{"widget not an object", `{"widget":"blue"}`},
			{"title a number", `{"widget":{"title":5}}`},
			{"title null object", `{"widget":{"title":{}}}`},
			{"empty title", `{"widget":{"title":""}}`},
			{"blank title", `{"widget":{"title":"  "}}`},
			{"long title", `{"widget":{"title":"` + strings.Repeat("t", 81) + `"}}`},
			{"two-line title", `{"widget":{"title":"a\nb"}}`},
			{"NUL in title", `{"widget":{"title":"a\u0000b"}}`},
			{"long greeting", `{"widget":{"greeting":"` + strings.Repeat("g", 501) + `"}}`},
			{"short colour", `{"widget":{"color":"#fff"}}`},
			{"colour name", `{"widget":{"color":"red"}}`},
			{"colour without #", `{"widget":{"color":"2563eb"}}`},
			{"colour with CSS", `{"widget":{"color":"#fff;background:url(x)"}}`},
			{"colour a number", `{"widget":{"color":255}}`},
			{"position", `{"widget":{"position":"top"}}`},
			{"pre-chat", `{"widget":{"preChatForm":"yes"}}`},
			{"pre-chat true", `{"widget":{"preChatForm":true}}`},
			{"origins a string", `{"allowedOrigins":"https://shop.example.com"}`},
			{"origins numbers", `{"allowedOrigins":[1,2]}`},
			{"http origin", `{"allowedOrigins":["http://shop.example.com"]}`},
			{"javascript origin", `{"allowedOrigins":["javascript:alert(1)"]}`},
			{"origin with path", `{"allowedOrigins":["https://shop.example.com/embed"]}`},
			{"origin with slash", `{"allowedOrigins":["https://shop.example.com/"]}`},
			{"wildcard origin", `{"allowedOrigins":["https://*.example.com"]}`},
			{"origin with spaces", `{"allowedOrigins":[" https://shop.example.com"]}`},
			{"origin with CSP", `{"allowedOrigins":["https://a.example; script-src *"]}`},
			{"origin with credentials", `{"allowedOrigins":["https://u:p@shop.example.com"]}`},
			{"bare host", `{"allowedOrigins":["shop.example.com"]}`},
			{"long origin", `{"allowedOrigins":["https://` + strings.Repeat("a", 300) + `.example"]}`},
			{"too many origins", `{"allowedOrigins":[` + manyOrigins(51) + `]}`},
			{"hours a string", `{"businessHours":"9-5"}`},
			{"hours an array", `{"businessHours":[]}`},
			{"no time zone", `{"businessHours":{"days":{}}}`},
			{"time zone a number", `{"businessHours":{"timeZone":1}}`},
			{"unknown time zone", `{"businessHours":{"timeZone":"Europe/Atlantis","days":{}}}`},
			{"Local time zone", `{"businessHours":{"timeZone":"Local","days":{}}}`},
			{"path time zone", `{"businessHours":{"timeZone":"../../../../etc/passwd","days":{}}}`},
			{"empty time zone", `{"businessHours":{"timeZone":"","days":{}}}`},
			{"unknown hours field", `{"businessHours":{"timeZone":"UTC","open":true}}`},
			{"days an array", hours(`[]`)},
			{"unknown day", hours(`{"monday":[{"from":"09:00","to":"17:00"}]}`)},
			{"day a string", hours(`{"mon":"09:00-17:00"}`)},
			{"range numbers", hours(`{"mon":[{"from":9,"to":17}]}`)},
			{"range short", hours(`{"mon":[{"from":"9:00","to":"17:00"}]}`)},
			{"range missing to", hours(`{"mon":[{"from":"09:00"}]}`)},
			{"range unknown field", hours(`{"mon":[{"from":"09:00","to":"17:00","note":"x"}]}`)},
			{"range 25:00", hours(`{"mon":[{"from":"09:00","to":"25:00"}]}`)},
			{"range from 24:00", hours(`{"mon":[{"from":"24:00","to":"02:00"}]}`)},
			{"empty range", hours(`{"mon":[{"from":"09:00","to":"09:00"}]}`)},
			{"overlapping ranges", hours(`{"mon":[{"from":"09:00","to":"12:00"},{"from":"11:30","to":"14:00"}]}`)},
			{"overlap across midnight", hours(`{"mon":[{"from":"22:00","to":"03:00"}],"tue":[{"from":"02:00","to":"05:00"}]}`)},
			{"overlap across the week", hours(`{"sat":[{"from":"22:00","to":"03:00"}],"sun":[{"from":"01:00","to":"05:00"}]}`)},
			{"too many ranges", hours(`{"mon":[` + manyRanges(7) + `]}`)},
			{"offline message a list", `{"offlineMessage":["a"]}`},
			{"long offline message", `{"offlineMessage":"` + strings.Repeat("o", 1001) + `"}`},
			{"control character", `{"offlineMessage":"\u001b[31m"}`},
		}
		for _, b := range bad {
			r := e.doRaw("PATCH", "/api/settings", admin, []byte(b.body), "application/json")
			if r.status != 400 || r.code() != "invalid" {
				t.Errorf("%s: %d %s, want 400 invalid", b.name, r.status, r.body)
			}
		}
		r := e.doRaw("PATCH", "/api/settings", admin, []byte(`{"widget":{"title":"x"}}`), "text/plain")
		if r.status != 400 || r.code() != "invalid" {
			t.Errorf("text/plain body: %d %s", r.status, r.body)
		}
		r = e.doRaw("PATCH", "/api/settings", admin, []byte(`{"offlineMessage":"`+strings.Repeat("o", 2<<20)+`"}`), "application/json")
		if r.status != 413 || r.code() != "too_large" {
			t.Errorf("a 2 MiB body: %d %s", r.status, r.body)
		}
		after := e.do("GET", "/api/settings", admin, nil)
		if string(after.body) != string(before.body) {
			t.Errorf("refused updates changed the settings:\n%s\n%s", before.body, after.body)
		}
	})
}

func manyOrigins(n int) string {
	var b []string
	for i := range n {
		b = append(b, fmt.Sprintf(`"https://site%d.example"`, i))
	}
	return strings.Join(b, ",")
}

func manyRanges(n int) string {
	var b []string
	for i := range n {
		b = append(b, fmt.Sprintf(`{"from":"%02d:00","to":"%02d:30"}`, i, i))
	}
	return strings.Join(b, ",")
}

// TestSettingsSnippetOrigin: the snippet names PARLEY_PUBLIC_URL when set,
// else the request's host and scheme, believing forwarded ones only from a
// trusted proxy.
func TestSettingsSnippetOrigin(t *testing.T) {
	snippet := func(t *testing.T, e *env, c cred) string {
		t.Helper()
		var s settingsBody
		r := e.do("GET", "/api/settings", c, nil)
		want(t, r, 200, "GET settings")
		r.json(t, &s)
		return s.Snippet
	}
	t.Run("configured", func(t *testing.T) {
		e := newEnv(t, openSQLite, envOptions{publicURL: "https://chat.example.com/"})
		if got := snippet(t, e, e.session(e.users["admin"])); got != `<script src="https://chat.example.com/widget.js" async></script>` {
			t.Errorf("snippet %s", got)
		}
	})
	t.Run("behind a trusted proxy", func(t *testing.T) {
		e := newEnv(t, openSQLite, envOptions{proxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
		c := e.session(e.users["admin"])
		c.headers = map[string]string{"X-Forwarded-Host": "evil.example, chat.example.org", "X-Forwarded-Proto": "https"}
		if got := snippet(t, e, c); got != `<script src="https://chat.example.org/widget.js" async></script>` {
			t.Errorf("snippet %s", got)
		}
	})
	t.Run("untrusted forwarding headers", func(t *testing.T) {
		e := newEnv(t, openSQLite, envOptions{})
		c := e.session(e.users["admin"])
		c.headers = map[string]string{"X-Forwarded-Host": "evil.example", "X-Forwarded-Proto": "https"}
		if got := snippet(t, e, c); got != `<script src="`+e.srv.URL+`/widget.js" async></script>` {
			t.Errorf("snippet %s", got)
		}
	})
	t.Run("a host that is no host name", func(t *testing.T) {
		e := newEnv(t, openSQLite, envOptions{})
		c := e.session(e.users["admin"])
		// net/http's client refuses such a Host, so write the request by hand.
		conn, err := net.Dial("tcp", strings.TrimPrefix(e.srv.URL, "http://"))
		if err != nil {
			t.Fatal(err)
		}
		defer conn.Close()
		fmt.Fprintf(conn, "GET /api/settings HTTP/1.1\r\nHost: a_b!c'd\r\nCookie: parley_session=%s\r\nConnection: close\r\n\r\n", c.cookie)
		res, err := http.ReadResponse(bufio.NewReader(conn), nil)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body struct {
			Error struct{ Code string } `json:"error"`
		}
		json.NewDecoder(res.Body).Decode(&body)
		if res.StatusCode != 400 || body.Error.Code != "invalid" {
			t.Errorf("status %d, code %q", res.StatusCode, body.Error.Code)
		}
	})
}

// TestWidgetFrameAncestors serves the UI and checks the /widget page's
// Content-Security-Policy as the allowed origins change.
func TestWidgetFrameAncestors(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		ui := web.Handler(fstest.MapFS{
			"admin.html":  {Data: []byte("<!doctype html><title>Parley</title>")},
			"widget.html": {Data: []byte("<!doctype html><title>Chat</title>")},
			"widget.js":   {Data: []byte("/* loader */")},
		})
		e := newEnv(t, open, envOptions{ui: ui})
		// csp returns the frame-ancestors policy of a page: the UI adds its
		// own policy (which lets no one else frame the dashboard) beside it.
		csp := func(method, path string) (int, string) {
			t.Helper()
			r := e.doRaw(method, path, cred{}, nil, "")
			for _, v := range r.header.Values("Content-Security-Policy") {
				if strings.HasPrefix(v, "frame-ancestors ") {
					return r.status, v
				}
			}
			return r.status, ""
		}
		for _, p := range []string{"/widget", "/widget/"} {
			if st, got := csp("GET", p); st != 200 || got != "frame-ancestors *" {
				t.Errorf("GET %s on a fresh install: %d %q", p, st, got)
			}
		}
		if st, got := csp("HEAD", "/widget"); st != 200 || got != "frame-ancestors *" {
			t.Errorf("HEAD /widget: %d %q", st, got)
		}
		for _, p := range []string{"/admin", "/", "/widget.js", "/widgets"} {
			if _, got := csp("GET", p); got != "" {
				t.Errorf("GET %s has a Content-Security-Policy %q", p, got)
			}
		}
		admin := e.session(e.users["admin"])
		want(t, e.do("PATCH", "/api/settings", admin, map[string]any{
			"allowedOrigins": []string{"https://shop.example.com", "http://localhost:3000"}}), 200, "setting origins")
		if _, got := csp("GET", "/widget"); got != "frame-ancestors 'self' https://shop.example.com http://localhost:3000" {
			t.Errorf("with origins: %q", got)
		}
		want(t, e.do("PATCH", "/api/settings", admin, map[string]any{"allowedOrigins": []string{}}), 200, "clearing origins")
		if _, got := csp("GET", "/widget"); got != "frame-ancestors *" {
			t.Errorf("origins cleared: %q", got)
		}
		// Without the database the page still loads, framed by itself only.
		e.store.Close()
		if st, got := csp("GET", "/widget"); st != 200 || got != "frame-ancestors 'self'" {
			t.Errorf("without a database: %d %q", st, got)
		}
	})
}

type visitorBody struct {
	VisitorID string `json:"visitorId"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	FirstSeen string `json:"firstSeen"`
	LastSeen  string `json:"lastSeen"`
}

type customerBody struct {
	ID        string `json:"id"`
	Name      string `json:"name"`
	Email     string `json:"email"`
	UserAgent string `json:"userAgent"`
	IP        string `json:"ip"`
	Device    struct {
		Browser        string `json:"browser"`
		BrowserVersion string `json:"browserVersion"`
		OS             string `json:"os"`
		OSVersion      string `json:"osVersion"`
		Type           string `json:"type"`
	} `json:"device"`
	Location *struct {
		CountryCode string `json:"countryCode"`
		Country     string `json:"country"`
	} `json:"location"`
	Context *struct {
		PageURL   string `json:"pageUrl"`
		PageTitle string `json:"pageTitle"`
		Referrer  string `json:"referrer"`
		Language  string `json:"language"`
		TimeZone  string `json:"timeZone"`
	} `json:"context"`
	Metadata map[string]any `json:"metadata"`
}

const iPhoneUA = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_4_1 like Mac OS X) AppleWebKit/605.1.15 (KHTML, like Gecko) Version/17.4.1 Mobile/15E148 Safari/604.1"

// newVisitor creates a visitor through the API, with headers.
func (e *env) newVisitor(t *testing.T, headers map[string]string, body any) cred {
	t.Helper()
	r := e.do("POST", "/api/visitors", cred{headers: headers}, body)
	want(t, r, 201, "POST /api/visitors")
	var v struct{ Token string }
	r.json(t, &v)
	return cred{bearer: v.Token}
}

func (e *env) customer(t *testing.T, id string) customerBody {
	t.Helper()
	r := e.do("GET", "/api/customers/"+id, e.session(e.users["senior_agent"]), nil)
	want(t, r, 200, "GET customer")
	var c customerBody
	r.json(t, &c)
	return c
}

func TestVisitorsMe(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		vis := e.newVisitor(t, map[string]string{"User-Agent": iPhoneUA}, map[string]any{"name": "Ada", "metadata": map[string]any{"plan": "pro"}})
		r := e.do("GET", "/api/visitors/me", vis, nil)
		want(t, r, 200, "GET me")
		var keys map[string]any
		r.json(t, &keys)
		if len(keys) != 5 {
			t.Errorf("visitor has keys %v, want visitorId, name, email, firstSeen, lastSeen", keys)
		}
		var me visitorBody
		r.json(t, &me)
		if me.Name != "Ada" || me.Email != "" || !parley.ValidID(me.VisitorID) || me.FirstSeen == "" {
			t.Errorf("me: %s", r.body)
		}
		c := e.customer(t, me.VisitorID)
		if c.Device.Browser != "Safari" || c.Device.BrowserVersion != "17.4.1" || c.Device.OS != "iOS" || c.Device.OSVersion != "17.4.1" || c.Device.Type != "mobile" {
			t.Errorf("device %+v", c.Device)
		}
		if c.Location != nil || c.Context != nil {
			t.Errorf("without GeoIP or context: location %+v, context %+v", c.Location, c.Context)
		}

		ctxBody := map[string]string{"pageUrl": "https://shop.example.com/pricing?plan=pro", "pageTitle": "Pricing | Shop",
			"referrer": "https://www.google.com/", "language": "fr-FR", "timeZone": "Europe/Paris"}
		r = e.do("PATCH", "/api/visitors/me", vis, map[string]any{"name": "  Ada Lovelace ", "email": " Ada@Example.COM", "context": ctxBody})
		want(t, r, 200, "PATCH me")
		r.json(t, &me)
		if me.Name != "Ada Lovelace" || me.Email != "ada@example.com" {
			t.Errorf("after PATCH: %s", r.body)
		}
		c = e.customer(t, me.VisitorID)
		if c.Context == nil || c.Context.PageURL != ctxBody["pageUrl"] || c.Context.PageTitle != "Pricing | Shop" ||
			c.Context.Referrer != ctxBody["referrer"] || c.Context.Language != "fr-FR" || c.Context.TimeZone != "Europe/Paris" {
			t.Errorf("context %+v", c.Context)
		}
		if c.Metadata["plan"] != "pro" || c.Metadata["context"] != nil {
			t.Errorf("metadata %v", c.Metadata)
		}
		if c.Name != "Ada Lovelace" || c.Email != "ada@example.com" {
			t.Errorf("customer %s <%s>", c.Name, c.Email)
		}
		// A later PATCH with only an email keeps the rest; a new context replaces the old one whole.
		want(t, e.do("PATCH", "/api/visitors/me", vis, map[string]any{"email": "ada@example.org"}), 200, "PATCH email")
		want(t, e.do("PATCH", "/api/visitors/me", vis, map[string]any{"context": map[string]string{"pageUrl": "http://localhost:3000/"}}), 200, "PATCH context")
		c = e.customer(t, me.VisitorID)
		if c.Name != "Ada Lovelace" || c.Email != "ada@example.org" || c.Context.PageURL != "http://localhost:3000/" || c.Context.Language != "" {
			t.Errorf("after partial updates: %+v %+v", c, c.Context)
		}
		// An empty email removes it.
		want(t, e.do("PATCH", "/api/visitors/me", vis, map[string]any{"email": ""}), 200, "PATCH no email")
		if c := e.customer(t, me.VisitorID); c.Email != "" {
			t.Errorf("email %q after removing it", c.Email)
		}
		// A new browser: the user agent follows.
		vis.headers = map[string]string{"User-Agent": "Mozilla/5.0 (Windows NT 10.0; Win64; x64; rv:125.0) Gecko/20100101 Firefox/125.0"}
		want(t, e.do("PATCH", "/api/visitors/me", vis, map[string]any{}), 200, "PATCH from another browser")
		if c := e.customer(t, me.VisitorID); c.Device.Browser != "Firefox" || c.Device.Type != "desktop" || c.Device.OS != "Windows" {
			t.Errorf("device after a new user agent: %+v", c.Device)
		}
	})
}

func TestVisitorsMeBadInput(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		vis := e.newVisitor(t, nil, map[string]any{"name": "Before"})
		want(t, e.do("PATCH", "/api/visitors/me", vis, map[string]any{"email": "before@example.com",
			"context": map[string]string{"pageUrl": "https://before.example/"}}), 200, "first PATCH")
		var me visitorBody
		e.do("GET", "/api/visitors/me", vis, nil).json(t, &me)
		before := e.customer(t, me.VisitorID)
		ctx := func(field, value string) string { return `{"context":{"` + field + `":` + value + `}}` }
		bad := []struct{ name, body string }{
			{"not JSON", `{"name":`},
			{"empty body", ``},
			{"unknown field", `{"phone":"123"}`},
			{"name a number", `{"name":5}`},
			{"name an object", `{"name":{"$gt":""}}`},
			{"long name", `{"name":"` + strings.Repeat("n", 201) + `"}`},
			{"name with a newline", `{"name":"Ada\nX-Admin: yes"}`},
			{"name with NUL", `{"name":"Ada\u0000"}`},
			{"email a number", `{"email":1}`},
			{"bad email", `{"email":"not an address"}`},
			{"email without domain", `{"email":"ada@"}`},
			{"long email", `{"email":"` + strings.Repeat("a", 250) + `@example.com"}`},
			{"context a string", `{"context":"https://x.example"}`},
			{"unknown context field", ctx("ip", `"1.2.3.4"`)},
			{"javascript page", ctx("pageUrl", `"javascript:alert(1)"`)},
			{"JavaScript page", ctx("pageUrl", `"JaVaScRiPt:alert(document.cookie)"`)},
			{"javascript referrer", ctx("referrer", `"javascript:void(0)"`)},
			{"data page", ctx("pageUrl", `"data:text/html,<script>alert(1)</script>"`)},
			{"vbscript page", ctx("pageUrl", `"vbscript:msgbox(1)"`)},
			{"relative page", ctx("pageUrl", `"/pricing"`)},
			{"page a number", ctx("pageUrl", `42`)},
			{"page with spaces", ctx("pageUrl", `"https://shop.example.com/a b"`)},
			{"long page", ctx("pageUrl", `"https://shop.example.com/`+strings.Repeat("p", 2048)+`"`)},
			{"long title", ctx("pageTitle", `"`+strings.Repeat("t", 301)+`"`)},
			{"title with control", ctx("pageTitle", `"a\u0007b"`)},
			{"bad language", ctx("language", `"<script>"`)},
			{"language a list", ctx("language", `["en"]`)},
			{"bad time zone", ctx("timeZone", `"Moon/Base"`)},
			{"time zone path", ctx("timeZone", `"../../etc/passwd"`)},
		}
		for _, b := range bad {
			r := e.doRaw("PATCH", "/api/visitors/me", vis, []byte(b.body), "application/json")
			if r.status != 400 || r.code() != "invalid" {
				t.Errorf("%s: %d %s, want 400 invalid", b.name, r.status, r.body)
			}
		}
		after := e.customer(t, me.VisitorID)
		a, _ := json.Marshal(after)
		b, _ := json.Marshal(before)
		if before.Context == nil || string(a) != string(b) {
			t.Errorf("refused updates changed the visitor:\n%+v\n%+v", before, after)
		}
	})
}

// TestVisitorLocation runs with a GeoIP database of each layout: the
// country is found when the visitor is created and again when their
// address changes.
func TestVisitorLocation(t *testing.T) {
	for _, layout := range []struct {
		name string
		l    geoiptest.Layout
	}{{"maxmind", geoiptest.MaxMind}, {"flat", geoiptest.Flat}} {
		t.Run(layout.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "country.mmdb")
			geoiptest.Write(t, path, layout.l,
				geoiptest.Entry{Network: "81.2.69.0/24", Code: "GB", Name: "United Kingdom"},
				geoiptest.Entry{Network: "2.16.0.0/13", Code: "FR", Name: "France"},
				geoiptest.Entry{Network: "2a02:8420::/32", Code: "DE", Name: "Germany"})
			db, err := geoip.Open(path)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { db.Close() })
			eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
				e := newEnv(t, open, envOptions{locator: db, proxies: []netip.Prefix{netip.MustParsePrefix("127.0.0.0/8")}})
				from := func(ip string) map[string]string { return map[string]string{"X-Forwarded-For": ip} }
				vis := e.newVisitor(t, from("81.2.69.142"), nil)
				var me visitorBody
				e.do("GET", "/api/visitors/me", vis, nil).json(t, &me)
				c := e.customer(t, me.VisitorID)
				if c.IP != "81.2.69.142" || c.Location == nil || c.Location.CountryCode != "GB" || c.Location.Country != "United Kingdom" {
					t.Errorf("at creation: ip %s, location %+v", c.IP, c.Location)
				}
				for _, step := range []struct{ ip, code, country string }{
					{"2.16.3.4", "FR", "France"},
					{"2a02:8420::1", "DE", "Germany"},
					{"8.8.8.8", "", ""},
					{"81.2.69.1", "GB", "United Kingdom"},
				} {
					vis.headers = from(step.ip)
					want(t, e.do("PATCH", "/api/visitors/me", vis, map[string]any{"context": map[string]string{"language": "en"}}), 200, "PATCH from "+step.ip)
					c := e.customer(t, me.VisitorID)
					switch {
					case step.code == "" && c.Location != nil:
						t.Errorf("from %s: location %+v, want none", step.ip, c.Location)
					case step.code != "" && (c.Location == nil || c.Location.CountryCode != step.code || c.Location.Country != step.country):
						t.Errorf("from %s: location %+v, want %s %s", step.ip, c.Location, step.code, step.country)
					}
					if c.IP != step.ip {
						t.Errorf("ip %s, want %s", c.IP, step.ip)
					}
				}
				local := e.newVisitor(t, nil, nil) // from 127.0.0.1
				e.do("GET", "/api/visitors/me", local, nil).json(t, &me)
				if c := e.customer(t, me.VisitorID); c.Location != nil {
					t.Errorf("a loopback visitor has location %+v", c.Location)
				}
			})
		})
	}
}

type inboxBody struct {
	Conversations []map[string]any `json:"conversations"`
	TotalCount    int              `json:"totalCount"`
}

func TestConversationsByCustomer(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		ctx := context.Background()
		custA, visA := e.visitor()
		custB, visB := e.visitor()
		if _, err := e.store.UpdateCustomer(ctx, custA.ID, parley.CustomerUpdate{Name: ptr("Ada"), Email: ptr("ada@example.com")}); err != nil {
			t.Fatal(err)
		}
		closedA := e.conversation(custA, parley.StatusClosed, e.users["agent_c"].ID)
		waitingA := e.conversation(custA, parley.StatusWaiting, "")
		activeB := e.conversation(custB, parley.StatusActive, e.users["agent_assigned"].ID)
		list := func(c cred, q string) (int, inboxBody, resp) {
			t.Helper()
			r := e.do("GET", "/api/conversations"+q, c, nil)
			var b inboxBody
			if r.status == 200 {
				r.json(t, &b)
			}
			return r.status, b, r
		}
		ids := func(b inboxBody) []string {
			var out []string
			for _, c := range b.Conversations {
				out = append(out, c["id"].(string))
			}
			slices.Sort(out)
			return out
		}
		sorted := func(s ...string) []string { slices.Sort(s); return s }

		// Visitors: their own id only.
		st, b, _ := list(visA, "?customer="+custA.ID)
		if st != 200 || !slices.Equal(ids(b), sorted(closedA.ID, waitingA.ID)) {
			t.Errorf("visitor A, own id: %d %v", st, ids(b))
		}
		for _, c := range b.Conversations {
			if _, ok := c["customerName"]; ok {
				t.Errorf("a visitor's list carries customerName: %v", c)
			}
		}
		st, _, r404 := list(visA, "?customer="+custB.ID)
		_, _, rMissing := list(visA, "?customer="+parley.NewID())
		_, _, rGarbage := list(visA, "?customer=nope")
		if st != 404 || string(r404.body) != string(rMissing.body) || string(rGarbage.body) != string(rMissing.body) {
			t.Errorf("visitor A, another id: %d %s / %s / %s", st, r404.body, rMissing.body, rGarbage.body)
		}
		if st, b, _ := list(visB, "?customer="+custB.ID); st != 200 || !slices.Equal(ids(b), []string{activeB.ID}) {
			t.Errorf("visitor B: %d %v", st, ids(b))
		}

		// Agents: within what their role sees.
		agent := e.session(e.users["agent_unassigned"])
		if st, b, _ := list(agent, "?customer="+custA.ID); st != 200 || !slices.Equal(ids(b), []string{waitingA.ID}) || b.TotalCount != 1 {
			t.Errorf("agent, customer A: %d %v total %d", st, ids(b), b.TotalCount)
		}
		if st, b, _ := list(agent, "?customer="+custB.ID); st != 200 || len(b.Conversations) != 0 {
			t.Errorf("agent, customer B (assigned to someone else): %d %v", st, ids(b))
		}
		assigned := e.session(e.users["agent_assigned"])
		if st, b, _ := list(assigned, "?customer="+custB.ID); st != 200 || !slices.Equal(ids(b), []string{activeB.ID}) {
			t.Errorf("assigned agent, customer B: %d %v", st, ids(b))
		}
		senior := e.session(e.users["senior_agent"])
		st, b, _ = list(senior, "?customer="+custA.ID)
		if st != 200 || !slices.Equal(ids(b), sorted(closedA.ID, waitingA.ID)) || b.TotalCount != 2 {
			t.Errorf("senior agent, customer A: %d %v", st, ids(b))
		}
		for _, c := range b.Conversations {
			if c["customerName"] != "Ada" || c["customerEmail"] != "ada@example.com" {
				t.Errorf("an agent's row lacks the customer: %v", c)
			}
		}
		if st, b, _ := list(senior, "?customer="+custA.ID+"&status=closed"); st != 200 || !slices.Equal(ids(b), []string{closedA.ID}) {
			t.Errorf("senior agent, customer A closed: %d %v", st, ids(b))
		}
		if st, b, _ := list(senior, "?customer="+parley.NewID()); st != 200 || len(b.Conversations) != 0 {
			t.Errorf("senior agent, unknown customer: %d %v", st, ids(b))
		}
		if st, _, r := list(senior, "?customer=nope"); st != 400 || r.code() != "invalid" {
			t.Errorf("senior agent, malformed customer: %d %s", st, r.body)
		}
		if st, _, _ := list(senior, "?customer="+custA.ID+"&customer="+custB.ID); st != 400 {
			t.Errorf("repeated customer: %d", st)
		}
		// Every agent listing carries the customer, the seed's too.
		r := e.do("GET", "/api/conversations/list?adminId="+e.users["senior_agent"].ID, senior, nil)
		want(t, r, 200, "seed inbox")
		var all inboxBody
		r.json(t, &all)
		for _, c := range all.Conversations {
			if _, ok := c["customerName"]; !ok {
				t.Errorf("seed inbox row without customerName: %v", c)
			}
			if _, ok := c["customerEmail"]; !ok {
				t.Errorf("seed inbox row without customerEmail: %v", c)
			}
		}
	})
}
