package httpapi_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/desk"
	"github.com/parleychat/parley/internal/httpapi"
	"github.com/parleychat/parley/internal/postgres"
	"github.com/parleychat/parley/internal/sqlite"
)

// backend opens a fresh, migrated store for one test.
type backend struct {
	name string
	open func(t testing.TB) parley.Store
}

var skipOnce sync.Once

// backends returns SQLite always and PostgreSQL when PARLEY_TEST_POSTGRES_URL is set.
func backends(t testing.TB) []backend {
	bs := []backend{{"sqlite", openSQLite}}
	if os.Getenv("PARLEY_TEST_POSTGRES_URL") != "" {
		bs = append(bs, backend{"postgres", openPostgres})
	} else {
		skipOnce.Do(func() {
			fmt.Fprintln(os.Stderr, "\n*** SKIP: PARLEY_TEST_POSTGRES_URL is not set: the API tests run on SQLite only ***")
		})
	}
	return bs
}

// eachStore runs fn as a subtest on every backend.
func eachStore(t *testing.T, fn func(t *testing.T, open func(testing.TB) parley.Store)) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { fn(t, b.open) })
	}
}

func openSQLite(t testing.TB) parley.Store {
	t.Helper()
	ctx := context.Background()
	s, err := sqlite.Open(ctx, filepath.Join(t.TempDir(), "parley.db"), sqlite.Options{})
	if err != nil {
		t.Fatalf("sqlite.Open: %v", err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

func openPostgres(t testing.TB) parley.Store {
	t.Helper()
	ctx := context.Background()
	base := os.Getenv("PARLEY_TEST_POSTGRES_URL")
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatalf("connecting to PostgreSQL: %v", err)
	}
	var b [6]byte
	rand.Read(b[:])
	schema := "httpapi_" + hex.EncodeToString(b[:])
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+schema); err != nil {
		t.Fatalf("CREATE SCHEMA: %v", err)
	}
	sep := "?"
	if strings.Contains(base, "?") {
		sep = "&"
	}
	s, err := postgres.Open(ctx, base+sep+"search_path="+schema, postgres.Options{})
	if err != nil {
		t.Fatalf("postgres.Open: %v", err)
	}
	t.Cleanup(func() {
		s.Close()
		conn.Exec(context.Background(), "DROP SCHEMA "+schema+" CASCADE")
		conn.Close(context.Background())
	})
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	return s
}

const password = "correct horse battery"

// env is a running server with one account per role.
type env struct {
	t      testing.TB
	store  parley.Store
	desk   *desk.Desk
	api    *httpapi.Server
	srv    *httptest.Server
	client *http.Client
	users  map[string]*parley.User // agent_assigned, agent_unassigned, agent_c, senior_agent, team_lead, admin, disabled
	blobs  parley.Blobs
	// blobCount counts what the blob store holds (files, or rows and chunks).
	blobCount func() int
	ws        http.Handler // the socket, when envOptions.realtime
}

type envOptions struct {
	proxies []netip.Prefix
	clock   func() time.Time // the rate limiters' clock; nil: time.Now
	// blobs picks the blob store: "" or "disk" (a temporary directory), or
	// "postgres" (the store's own database; PostgreSQL stores only).
	blobs string
	files desk.FileLimits
	// realtime, when set, serves the socket as cmd/parley wires it.
	realtime bool
	desk     desk.Options // the workflow switches (AutoAssign, ...)
	// For the widget tests: the UI handler, the public URL and a GeoIP locator.
	ui        http.Handler
	publicURL string
	locator   desk.Locator
}

func newEnv(t testing.TB, open func(testing.TB) parley.Store, o envOptions) *env {
	t.Helper()
	ctx := context.Background()
	st := open(t)
	e := &env{t: t, store: st}
	e.blobs = e.openBlobs(o.blobs)
	o.desk.Locator = o.locator
	d := e.newDesk(o)
	t.Cleanup(d.Close)
	created, _, err := d.Bootstrap(ctx, "admin@example.com", password)
	if err != nil || !created {
		t.Fatalf("Bootstrap: %v %v", created, err)
	}
	admin, err := st.GetUserByEmail(ctx, "admin@example.com")
	if err != nil {
		t.Fatal(err)
	}
	e.desk, e.users = d, map[string]*parley.User{"admin": admin}
	adminActor := desk.Actor{Kind: desk.Agent, User: admin}
	for _, u := range []struct {
		key  string
		role parley.Role
	}{
		{"agent_assigned", parley.RoleAgent}, {"agent_unassigned", parley.RoleAgent}, {"agent_c", parley.RoleAgent},
		{"senior_agent", parley.RoleSeniorAgent}, {"team_lead", parley.RoleTeamLead}, {"disabled", parley.RoleAdmin},
	} {
		nu, err := d.CreateUser(ctx, adminActor, desk.NewUser{Email: u.key + "@example.com", Name: u.key, Password: password, Role: u.role})
		if err != nil {
			t.Fatalf("CreateUser %s: %v", u.key, err)
		}
		e.users[u.key] = nu
	}
	dis, err := st.UpdateUser(ctx, e.users["disabled"].ID, parley.UserUpdate{Disabled: ptr(true)})
	if err != nil {
		t.Fatal(err)
	}
	e.users["disabled"] = dis
	e.api = httpapi.New(httpapi.Options{Desk: d, Store: st, Logger: slog.New(slog.DiscardHandler),
		TrustedProxies: o.proxies, Version: "test", Clock: o.clock, Realtime: e.ws, UI: o.ui, PublicURL: o.publicURL})
	e.srv = httptest.NewServer(e.api)
	e.client = &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: 64}, Timeout: 30 * time.Second}
	t.Cleanup(func() {
		e.srv.Close()
		e.api.Close()
	})
	return e
}

func ptr[T any](v T) *T { return &v }

// cred is how a test request authenticates.
type cred struct {
	bearer  string
	cookie  string
	csrf    string
	noCSRF  bool
	headers map[string]string
}

// session mints a session for u directly in the store, as a login would.
func (e *env) session(u *parley.User) cred {
	e.t.Helper()
	var b [32]byte
	rand.Read(b[:])
	tok := desk.SessionTokenPrefix + b64(b[:])
	rand.Read(b[:])
	csrf := b64(b[:])
	now := parley.Now()
	s := &parley.Session{UserID: u.ID, TokenHash: desk.HashToken(tok), CSRFToken: csrf,
		IdleExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(2 * time.Hour)}
	if err := e.store.CreateSession(context.Background(), s); err != nil {
		e.t.Fatalf("CreateSession: %v", err)
	}
	return cred{cookie: tok, csrf: csrf}
}

// apiToken mints an API token for u directly in the store.
func (e *env) apiToken(u *parley.User) (string, *parley.APIToken) {
	e.t.Helper()
	var b [32]byte
	rand.Read(b[:])
	tok := desk.APITokenPrefix + b64(b[:])
	t := &parley.APIToken{UserID: u.ID, Name: "test", TokenHash: desk.HashToken(tok)}
	if err := e.store.CreateAPIToken(context.Background(), t); err != nil {
		e.t.Fatalf("CreateAPIToken: %v", err)
	}
	return tok, t
}

// visitor creates a visitor and returns it with its bearer credentials.
func (e *env) visitor() (*parley.Customer, cred) {
	e.t.Helper()
	v, err := e.desk.CreateVisitor(context.Background(), desk.VisitorInfo{Name: "Visitor", IP: "198.51.100.1"})
	if err != nil {
		e.t.Fatalf("CreateVisitor: %v", err)
	}
	return v.Customer, cred{bearer: v.Token}
}

// conversation stores a conversation of cust with one customer message.
func (e *env) conversation(cust *parley.Customer, status parley.Status, assignee string) *parley.Conversation {
	e.t.Helper()
	ctx := context.Background()
	c := &parley.Conversation{Status: status, CustomerID: cust.ID, AssigneeID: assignee}
	if err := e.store.CreateConversation(ctx, c); err != nil {
		e.t.Fatalf("CreateConversation: %v", err)
	}
	m := &parley.Message{ConversationID: c.ID, SenderID: cust.ID, SenderType: parley.SenderCustomer, Kind: parley.KindText, Content: "hello"}
	if _, err := e.store.AppendMessage(ctx, m); err != nil {
		e.t.Fatalf("AppendMessage: %v", err)
	}
	c, err := e.store.GetConversation(ctx, c.ID)
	if err != nil {
		e.t.Fatal(err)
	}
	return c
}

func b64(b []byte) string { return base64.RawURLEncoding.EncodeToString(b) }

// resp is a response read whole.
type resp struct {
	status int
	body   []byte
	header http.Header
}

func (r resp) json(t testing.TB, v any) {
	t.Helper()
	if err := json.Unmarshal(r.body, v); err != nil {
		t.Fatalf("decoding %s: %v", r.body, err)
	}
}

func (r resp) code() string {
	var b struct {
		Error struct{ Code string } `json:"error"`
	}
	json.Unmarshal(r.body, &b)
	return b.Error.Code
}

// do sends a request; body is JSON-encoded unless it is []byte (sent as is
// with contentType).
func (e *env) do(method, path string, c cred, body any) resp {
	e.t.Helper()
	return e.doRaw(method, path, c, body, "application/json")
}

func (e *env) doRaw(method, path string, c cred, body any, contentType string) resp {
	e.t.Helper()
	var rd io.Reader
	switch b := body.(type) {
	case nil:
	case []byte:
		rd = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			e.t.Fatal(err)
		}
		rd = bytes.NewReader(j)
	}
	req, err := http.NewRequest(method, e.srv.URL+path, rd)
	if err != nil {
		e.t.Fatal(err)
	}
	if rd != nil {
		req.Header.Set("Content-Type", contentType)
	}
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: httpapi.SessionCookie, Value: c.cookie})
		if !c.noCSRF {
			req.Header.Set("X-CSRF-Token", c.csrf)
		}
	}
	for k, v := range c.headers {
		req.Header.Set(k, v)
	}
	res, err := e.client.Do(req)
	if err != nil {
		e.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		e.t.Fatalf("%s %s: reading: %v", method, path, err)
	}
	return resp{status: res.StatusCode, body: b, header: res.Header}
}

// want fails unless r has status.
func want(t testing.TB, r resp, status int, what string) {
	t.Helper()
	if r.status != status {
		t.Fatalf("%s: status %d, want %d; body %s", what, r.status, status, r.body)
	}
}
