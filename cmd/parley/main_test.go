package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	neturl "net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

func TestLoadConfig(t *testing.T) {
	tests := []struct {
		name    string
		env     map[string]string
		args    []string
		check   func(t *testing.T, c Config)
		wantErr string
	}{
		{name: "defaults", check: func(t *testing.T, c Config) {
			if c.Addr != ":8080" || c.DataDir != "./data" || c.DatabaseURL != "" || c.isPostgres() {
				t.Errorf("defaults: %+v", c)
			}
			if got := c.sqlitePath(); got != filepath.Join("data", "parley.db") {
				t.Errorf("sqlite path %q", got)
			}
		}},
		{name: "environment over defaults", env: map[string]string{"PARLEY_ADDR": "127.0.0.1:9000", "PARLEY_DATA_DIR": "/tmp/x"},
			check: func(t *testing.T, c Config) {
				if c.Addr != "127.0.0.1:9000" || c.DataDir != "/tmp/x" {
					t.Errorf("env not applied: %+v", c)
				}
			}},
		{name: "flags over environment", env: map[string]string{"PARLEY_ADDR": "127.0.0.1:9000"}, args: []string{"-addr", "127.0.0.1:9001"},
			check: func(t *testing.T, c Config) {
				if c.Addr != "127.0.0.1:9001" {
					t.Errorf("flag not applied: %q", c.Addr)
				}
			}},
		{name: "postgres url", env: map[string]string{"PARLEY_DATABASE_URL": "postgres://u@h/db"},
			check: func(t *testing.T, c Config) {
				if !c.isPostgres() {
					t.Error("postgres:// not recognised")
				}
			}},
		{name: "trusted proxies", env: map[string]string{"PARLEY_TRUSTED_PROXIES": "10.0.0.0/8, 127.0.0.1,::1"},
			check: func(t *testing.T, c Config) {
				if len(c.proxies) != 3 || c.proxies[1].Bits() != 32 || c.proxies[2].Bits() != 128 {
					t.Errorf("proxies %v", c.proxies)
				}
			}},
		{name: "allowed origins", env: map[string]string{"PARLEY_ALLOWED_ORIGINS": "https://app.example.com, *.example.org"},
			check: func(t *testing.T, c Config) {
				if len(c.allowedOrigins) != 2 || c.allowedOrigins[1] != "*.example.org" {
					t.Errorf("origins %q", c.allowedOrigins)
				}
			}},
		{name: "bad origin pattern", env: map[string]string{"PARLEY_ALLOWED_ORIGINS": "[x"}, wantErr: "allowed origin"},
		{name: "nats with postgres", env: map[string]string{"PARLEY_NATS_URL": "nats://127.0.0.1:4222", "PARLEY_DATABASE_URL": "postgres://u@h/db"},
			check: func(t *testing.T, c Config) {
				if c.NATSURL != "nats://127.0.0.1:4222" || c.NATSPrefix != "parley" {
					t.Errorf("nats %q prefix %q", c.NATSURL, c.NATSPrefix)
				}
			}},
		{name: "nats needs postgres", env: map[string]string{"PARLEY_NATS_URL": "nats://127.0.0.1:4222"}, wantErr: "shared PostgreSQL"},
		{name: "bad nats url", env: map[string]string{"PARLEY_NATS_URL": "http://x", "PARLEY_DATABASE_URL": "postgres://u@h/db"}, wantErr: "nats://"},
		{name: "bad proxy", env: map[string]string{"PARLEY_TRUSTED_PROXIES": "nope"}, wantErr: "trusted proxy"},
		{name: "bad synchronous", env: map[string]string{"PARLEY_SQLITE_SYNCHRONOUS": "OFF"}, wantErr: "synchronous"},
		{name: "bad log level", args: []string{"-log-level", "loud"}, wantErr: "log level"},
		{name: "short admin password", env: map[string]string{"PARLEY_ADMIN_PASSWORD": "short"}, wantErr: "at least 10"},
		{name: "bad duration", env: map[string]string{"PARLEY_SHUTDOWN_TIMEOUT": "soon"}, wantErr: "PARLEY_SHUTDOWN_TIMEOUT"},
		{name: "stray argument", args: []string{"extra"}, wantErr: "unexpected argument"},
		{name: "file defaults", check: func(t *testing.T, c Config) {
			l := c.fileLimits()
			if c.Blobs != "disk" || l.MaxBytes != 25<<20 || l.VisitorQuota != 100<<20 || l.MaxPixels != 40_000_000 {
				t.Errorf("file defaults: %+v %+v", c, l)
			}
		}},
		{name: "file limits from the environment", env: map[string]string{"PARLEY_MAX_UPLOAD_BYTES": "1000", "PARLEY_VISITOR_QUOTA_BYTES": "0",
			"PARLEY_MAX_IMAGE_PIXELS": "99"}, args: []string{"-max-upload-bytes", "2000"},
			check: func(t *testing.T, c Config) {
				l := c.fileLimits()
				if l.MaxBytes != 2000 || l.VisitorQuota >= 0 || l.MaxPixels != 99 {
					t.Errorf("file limits %+v", l)
				}
			}},
		{name: "postgres blobs", env: map[string]string{"PARLEY_BLOBS": "postgres", "PARLEY_DATABASE_URL": "postgres://u@h/db"},
			check: func(t *testing.T, c Config) {
				if c.Blobs != "postgres" {
					t.Errorf("blobs %q", c.Blobs)
				}
			}},
		{name: "postgres blobs on sqlite", env: map[string]string{"PARLEY_BLOBS": "postgres"}, wantErr: "needs a postgres://"},
		{name: "bad blobs", args: []string{"-blobs", "s3"}, wantErr: "blobs must be disk or postgres"},
		{name: "bad upload size", env: map[string]string{"PARLEY_MAX_UPLOAD_BYTES": "25MB"}, wantErr: "PARLEY_MAX_UPLOAD_BYTES"},
		{name: "negative quota", env: map[string]string{"PARLEY_VISITOR_QUOTA_BYTES": "-1"}, wantErr: "quota"},
		{name: "workflow defaults", check: func(t *testing.T, c Config) {
			if c.AutoAssign != "on" || c.RequeueOnOffline != "on" || c.OfflineGrace != time.Minute {
				t.Errorf("workflow defaults: %q %q %v", c.AutoAssign, c.RequeueOnOffline, c.OfflineGrace)
			}
		}},
		{name: "workflow switches", env: map[string]string{"PARLEY_AUTO_ASSIGN": "off", "PARLEY_OFFLINE_GRACE": "2m"},
			args: []string{"-requeue-on-offline", "off"}, check: func(t *testing.T, c Config) {
				if c.AutoAssign != "off" || c.RequeueOnOffline != "off" || c.OfflineGrace != 2*time.Minute {
					t.Errorf("workflow switches: %q %q %v", c.AutoAssign, c.RequeueOnOffline, c.OfflineGrace)
				}
			}},
		{name: "bad auto assign", env: map[string]string{"PARLEY_AUTO_ASSIGN": "yes"}, wantErr: "PARLEY_AUTO_ASSIGN must be on or off"},
		{name: "bad requeue", args: []string{"-requeue-on-offline", "maybe"}, wantErr: "PARLEY_REQUEUE_ON_OFFLINE must be on or off"},
		{name: "bad offline grace", env: map[string]string{"PARLEY_OFFLINE_GRACE": "later"}, wantErr: "PARLEY_OFFLINE_GRACE"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := loadConfig("parley serve", tt.args, env(tt.env))
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want one containing %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			tt.check(t, c)
		})
	}
}

// syncBuffer is written by the server goroutine and read by the test.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

var urlRE = regexp.MustCompile(`running at (http://\S+)`)

// startServe runs `parley serve` in-process on a loopback port and returns
// its base URL, what it printed, and a function that stops it (as SIGTERM
// does) and returns serve's error.
func startServe(t *testing.T, vars map[string]string) (string, *syncBuffer, func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	out := &syncBuffer{}
	done := make(chan error, 1)
	go func() { done <- run(ctx, []string{"serve", "-addr", "127.0.0.1:0"}, env(vars), out, io.Discard) }()
	deadline := time.Now().Add(30 * time.Second)
	for time.Now().Before(deadline) {
		if m := urlRE.FindStringSubmatch(out.String()); m != nil {
			var once sync.Once
			var err error
			stop := func() error {
				once.Do(func() { cancel(); err = <-done })
				return err
			}
			t.Cleanup(func() { _ = stop() })
			return m[1], out, stop
		}
		select {
		case err := <-done:
			cancel()
			t.Fatalf("serve exited early: %v\n%s", err, out.String())
		case <-time.After(20 * time.Millisecond):
		}
	}
	cancel()
	t.Fatalf("serve did not start:\n%s", out.String())
	return "", nil, nil
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func TestServeSQLite(t *testing.T) {
	dir := t.TempDir()
	vars := map[string]string{"PARLEY_DATA_DIR": dir}
	base, out, stop := startServe(t, vars)

	if code, body := get(t, base+"/healthz"); code != 200 {
		t.Fatalf("/healthz = %d %s", code, body)
	}
	if code, body := get(t, base+"/readyz"); code != 200 {
		t.Fatalf("/readyz = %d %s", code, body)
	}
	if _, err := os.Stat(filepath.Join(dir, "parley.db")); err != nil {
		t.Fatalf("database file not created: %v", err)
	}
	pw, err := os.ReadFile(filepath.Join(dir, initialPasswordFile))
	if err != nil {
		t.Fatalf("generated password not saved: %v", err)
	}
	if !strings.Contains(out.String(), "admin login: admin@localhost / "+strings.TrimSpace(string(pw))) {
		t.Fatalf("admin login not printed:\n%s", out.String())
	}
	if len(strings.TrimSpace(string(pw))) < 16 {
		t.Fatalf("generated password too weak: %q", pw)
	}
	if err := stop(); err != nil {
		t.Fatalf("graceful stop returned %v", err)
	}
	if _, err := http.Get(base + "/healthz"); err == nil {
		t.Fatal("server still answers after shutdown")
	}

	// A second start on the same data keeps the admin and shows the saved login.
	_, out2, stop2 := startServe(t, vars)
	if !strings.Contains(out2.String(), strings.TrimSpace(string(pw))) {
		t.Fatalf("second start did not show the saved login:\n%s", out2.String())
	}
	if err := stop2(); err != nil {
		t.Fatal(err)
	}
}

func TestServeConfiguredAdmin(t *testing.T) {
	dir := t.TempDir()
	_, out, _ := startServe(t, map[string]string{"PARLEY_DATA_DIR": dir,
		"PARLEY_ADMIN_EMAIL": "boss@example.com", "PARLEY_ADMIN_PASSWORD": "a long enough secret"})
	if !strings.Contains(out.String(), "boss@example.com") {
		t.Fatalf("configured admin not printed:\n%s", out.String())
	}
	if strings.Contains(out.String(), "a long enough secret") {
		t.Fatal("a configured password must not be printed")
	}
	if _, err := os.Stat(filepath.Join(dir, initialPasswordFile)); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("no password file expected for a configured password: %v", err)
	}
}

func TestServeCorruptDatabase(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "parley.db"), bytes.Repeat([]byte("not a database "), 400), 0o600); err != nil {
		t.Fatal(err)
	}
	err := run(context.Background(), []string{"serve", "-addr", "127.0.0.1:0"}, env(map[string]string{"PARLEY_DATA_DIR": dir}), io.Discard, io.Discard)
	if err == nil {
		t.Fatal("serve started on a corrupt database")
	}
	if exitCode(err) == 0 || !strings.Contains(err.Error(), "parley.db") {
		t.Fatalf("unclear error for a corrupt database: %v", err)
	}
}

func TestServeUnreachablePostgres(t *testing.T) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	err := run(ctx, []string{"serve", "-addr", "127.0.0.1:0"}, env(map[string]string{
		"PARLEY_DATA_DIR":     t.TempDir(),
		"PARLEY_DATABASE_URL": "postgres://parley:secret@127.0.0.1:1/parley?sslmode=disable&connect_timeout=2",
	}), io.Discard, io.Discard)
	if err == nil {
		t.Fatal("serve started without a database")
	}
	if parley.ErrorCode(err) != parley.EUNAVAILABLE {
		t.Errorf("code = %q, want unavailable (%v)", parley.ErrorCode(err), err)
	}
	if strings.Contains(err.Error(), "secret") {
		t.Errorf("the error leaks the password: %v", err)
	}
}

func TestMigrateAndVersion(t *testing.T) {
	dir := t.TempDir()
	var out bytes.Buffer
	if err := run(context.Background(), []string{"migrate"}, env(map[string]string{"PARLEY_DATA_DIR": dir}), &out, io.Discard); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "schema version") {
		t.Fatalf("migrate printed %q", out.String())
	}
	out.Reset()
	if err := run(context.Background(), []string{"version"}, env(nil), &out, io.Discard); err != nil || !strings.HasPrefix(out.String(), "parley ") {
		t.Fatalf("version: %v %q", err, out.String())
	}
	if err := run(context.Background(), nil, env(nil), io.Discard, io.Discard); exitCode(err) != 2 {
		t.Fatalf("no command: %v", err)
	}
	if err := run(context.Background(), []string{"frobnicate"}, env(nil), io.Discard, io.Discard); err == nil {
		t.Fatal("unknown command accepted")
	}
}

// TestServeSocket checks that `parley serve` wires the socket to the same
// desk as REST: a visitor's message sent on /ws is acked, shows over REST,
// and a stop closes the socket with 1001.
func TestServeSocket(t *testing.T) {
	base, _, stop := startServe(t, map[string]string{"PARLEY_DATA_DIR": t.TempDir()})
	post := func(path, token string, body string) map[string]any {
		t.Helper()
		req, _ := http.NewRequest("POST", base+path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		var v map[string]any
		if err := json.NewDecoder(resp.Body).Decode(&v); err != nil || resp.StatusCode >= 300 {
			t.Fatalf("POST %s: %d %v %v", path, resp.StatusCode, v, err)
		}
		return v
	}
	visitor := post("/api/visitors", "", `{"name":"Ada"}`)
	token := visitor["token"].(string)
	conv := post("/api/conversations", token, `{}`)
	convID := conv["id"].(string)

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	wsURL := "ws" + strings.TrimPrefix(base, "http") + "/ws"
	c, _, err := websocket.Dial(ctx, wsURL, &websocket.DialOptions{Subprotocols: []string{"parley.v1", "parley.auth." + token}})
	if err != nil {
		t.Fatal(err)
	}
	defer c.CloseNow()
	read := func(typ string) map[string]any {
		t.Helper()
		for {
			_, b, err := c.Read(ctx)
			if err != nil {
				t.Fatalf("waiting for %s: %v", typ, err)
			}
			var f map[string]any
			json.Unmarshal(b, &f)
			if f["type"] == typ {
				return f
			}
		}
	}
	read("ready")
	c.Write(ctx, websocket.MessageText, []byte(`{"type":"send","conversationId":"`+convID+`","clientMessageId":"m1","content":"hello from the socket"}`))
	if ack := read("ack"); ack["seq"] != float64(1) {
		t.Fatalf("ack %v", ack)
	}

	req, _ := http.NewRequest("GET", base+"/api/conversations/"+convID+"/messages", nil)
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if !strings.Contains(string(b), "hello from the socket") {
		t.Fatalf("message sent on the socket not listed over REST: %s", b)
	}

	done := make(chan error, 1)
	go func() { done <- stop() }()
	for {
		if _, _, err = c.Read(ctx); err != nil {
			break
		}
	}
	if got := websocket.CloseStatus(err); got != websocket.StatusGoingAway {
		t.Fatalf("socket closed with %v (%v), want 1001", got, err)
	}
	if err := <-done; err != nil {
		t.Fatal(err)
	}
}

// TestServeFiles uploads and downloads through the binary's own wiring, on
// disk in the data dir and, with PostgreSQL, in the database.
func TestServeFiles(t *testing.T) {
	cases := []map[string]string{{}}
	if u := os.Getenv("PARLEY_TEST_POSTGRES_URL"); u != "" {
		cases = append(cases, map[string]string{"PARLEY_DATABASE_URL": freshPostgres(t, u), "PARLEY_BLOBS": "postgres"})
	}
	for _, vars := range cases {
		dir := t.TempDir()
		vars["PARLEY_DATA_DIR"] = dir
		base, out, _ := startServe(t, vars)
		var v struct{ Token string }
		postJSON(t, base+"/api/visitors", "", `{}`, 201, &v)
		var c struct{ ID string }
		postJSON(t, base+"/api/conversations", v.Token, `{}`, 201, &c)

		var body bytes.Buffer
		body.WriteString("--X\r\nContent-Disposition: form-data; name=\"conversationId\"\r\n\r\n" + c.ID +
			"\r\n--X\r\nContent-Disposition: form-data; name=\"fileType\"\r\n\r\ndocument" +
			"\r\n--X\r\nContent-Disposition: form-data; name=\"file\"; filename=\"notes.txt\"\r\n\r\nhello, files\n\r\n--X--\r\n")
		req, _ := http.NewRequest("POST", base+"/api/files/upload", &body)
		req.Header.Set("Content-Type", "multipart/form-data; boundary=X")
		req.Header.Set("Authorization", "Bearer "+v.Token)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var up struct{ FileURL string }
		json.NewDecoder(resp.Body).Decode(&up)
		resp.Body.Close()
		if resp.StatusCode != 201 || up.FileURL == "" {
			t.Fatalf("upload: %d %+v\n%s", resp.StatusCode, up, out.String())
		}
		req, _ = http.NewRequest("GET", base+up.FileURL, nil)
		req.Header.Set("Authorization", "Bearer "+v.Token)
		resp, err = http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 200 || string(b) != "hello, files\n" {
			t.Fatalf("download: %d %q", resp.StatusCode, b)
		}
		_, statErr := os.Stat(filepath.Join(dir, "files"))
		if vars["PARLEY_BLOBS"] == "postgres" {
			if statErr == nil {
				t.Error("with PARLEY_BLOBS=postgres, files were written to the data dir")
			}
		} else if statErr != nil {
			t.Errorf("no files directory in the data dir: %v", statErr)
		}
	}
}

func postJSON(t *testing.T, url, token, body string, want int, out any) {
	t.Helper()
	req, _ := http.NewRequest("POST", url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		b, _ := io.ReadAll(resp.Body)
		t.Fatalf("POST %s: %d %s", url, resp.StatusCode, b)
	}
	json.NewDecoder(resp.Body).Decode(out)
}

// freshPostgres creates a schema on the test server, dropped when t ends,
// and returns a URL whose connections use it.
func freshPostgres(t *testing.T, base string) string {
	t.Helper()
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
	schema := "parley_cmd_" + strings.ReplaceAll(parley.NewID()[24:], "-", "")
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		conn, err := pgx.Connect(ctx, base)
		if err != nil {
			return
		}
		defer conn.Close(ctx)
		conn.Exec(ctx, "DROP SCHEMA "+schema+" CASCADE")
	})
	u, err := neturl.Parse(base)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}
