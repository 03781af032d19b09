package realtime

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/jackc/pgx/v5"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/desk"
	"github.com/parleychat/parley/internal/httpapi"
	"github.com/parleychat/parley/internal/memory"
	"github.com/parleychat/parley/internal/postgres"
	"github.com/parleychat/parley/internal/sqlite"
)

// backend opens the same database again and again (a restart reopens it).
type backend struct {
	name string
	open func(t *testing.T) parley.Store
}

type migrator interface {
	parley.Store
	Migrate(ctx context.Context) error
}

// backends returns SQLite, and PostgreSQL when PARLEY_TEST_POSTGRES_URL is set.
func backends(t *testing.T) []backend {
	t.Helper()
	dir := t.TempDir()
	bs := []backend{{name: "sqlite", open: func(t *testing.T) parley.Store { return sqliteStore(t, dir) }}}
	if base := os.Getenv("PARLEY_TEST_POSTGRES_URL"); base != "" {
		var schemaURL string
		bs = append(bs, backend{name: "postgres", open: func(t *testing.T) parley.Store {
			if schemaURL == "" {
				schemaURL = freshSchema(t, base)
			}
			s, err := postgres.Open(context.Background(), schemaURL, postgres.Options{})
			if err != nil {
				t.Fatal(err)
			}
			return migrated(t, s)
		}})
	}
	return bs
}

// sqliteStore opens and migrates a SQLite store in dir.
func sqliteStore(t *testing.T, dir string) parley.Store {
	t.Helper()
	s, err := sqlite.Open(context.Background(), filepath.Join(dir, "db"), sqlite.Options{})
	if err != nil {
		t.Fatal(err)
	}
	return migrated(t, s)
}

func migrated(t *testing.T, s migrator) parley.Store {
	t.Helper()
	if err := s.Migrate(context.Background()); err != nil {
		s.Close()
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

func freshSchema(t *testing.T, base string) string {
	t.Helper()
	var b [6]byte
	rand.Read(b[:])
	schema := "parley_rt_" + hex.EncodeToString(b[:])
	ctx := context.Background()
	conn, err := pgx.Connect(ctx, base)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(ctx)
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
	u, _ := url.Parse(base)
	q := u.Query()
	q.Set("search_path", schema)
	u.RawQuery = q.Encode()
	return u.String()
}

// forEachBackend runs fn as a subtest on every backend.
func forEachBackend(t *testing.T, fn func(t *testing.T, b backend)) {
	for _, b := range backends(t) {
		t.Run(b.name, func(t *testing.T) { fn(t, b) })
	}
}

// env is a real server on a loopback port over a real store, wired as
// cmd/parley wires it: one desk publishing its events to the broker, the
// REST API and the socket on one mux.
type env struct {
	t      *testing.T
	store  parley.Store
	desk   *desk.Desk
	broker *memory.Broker
	svc    *gatedService
	srv    *Server
	api    *httpapi.Server
	hs     *httptest.Server
	ws     string
}

func newEnv(t *testing.T, store parley.Store, opts Options) *env {
	t.Helper()
	broker := memory.NewBroker()
	d := desk.New(store, desk.Options{Events: NewPublisher(broker)})
	svc := &gatedService{Service: NewDeskService(d, httpapi.SessionCookie)}
	opts.Service, opts.Broker = svc, broker
	srv := New(opts)
	api := httpapi.New(httpapi.Options{Desk: d, Store: store})
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	mux.Handle("/", api)
	hs := httptest.NewServer(mux)
	e := &env{t: t, store: store, desk: d, broker: broker, svc: svc, srv: srv, api: api, hs: hs,
		ws: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"}
	t.Cleanup(e.stop)
	return e
}

func (e *env) stop() {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	e.srv.Shutdown(ctx)
	e.hs.Close()
	e.api.Close()
}

var ctxT = context.Background()

func (e *env) agent(name string, role parley.Role) (Principal, string) {
	e.t.Helper()
	u := &parley.User{Email: name + "@example.com", Name: name, PasswordHash: "x", Role: role, Availability: parley.Online}
	if err := e.store.CreateUser(ctxT, u); err != nil {
		e.t.Fatal(err)
	}
	tok := newToken("pt_")
	if err := e.store.CreateAPIToken(ctxT, &parley.APIToken{UserID: u.ID, Name: "test", TokenHash: hashToken(tok)}); err != nil {
		e.t.Fatal(err)
	}
	return e.principal(tok), tok
}

// visitor creates a customer with an open conversation, optionally assigned.
func (e *env) visitor(name, assignee string) (Principal, string, *parley.Conversation) {
	e.t.Helper()
	tok := newToken("pv_")
	c := &parley.Customer{TokenHash: hashToken(tok), Name: name}
	if err := e.store.CreateCustomer(ctxT, c); err != nil {
		e.t.Fatal(err)
	}
	conv := &parley.Conversation{Status: parley.StatusWaiting, CustomerID: c.ID}
	if assignee != "" {
		conv.Status, conv.AssigneeID = parley.StatusActive, assignee
	}
	if err := e.store.CreateConversation(ctxT, conv); err != nil {
		e.t.Fatal(err)
	}
	return e.principal(tok), tok, conv
}

// wsClient is a test client: a goroutine reads frames into a channel.
type wsClient struct {
	t      *testing.T
	conn   *websocket.Conn
	frames chan Frame
	done   chan struct{}
	err    error // why reading stopped; read after done is closed
	paused atomic.Pointer[chan struct{}]
}

// pause stops reading (after the frame being read, if any) until ch closes.
func (c *wsClient) pause(ch chan struct{}) { c.paused.Store(&ch) }

func (e *env) dial(token string) *wsClient {
	e.t.Helper()
	c, err := e.tryDial(token, nil)
	if err != nil {
		e.t.Fatal(err)
	}
	if f := c.next(); f.Type != TypeReady {
		e.t.Fatalf("first frame %+v, want ready", f)
	}
	return c
}

func (e *env) tryDial(token string, opts *websocket.DialOptions) (*wsClient, error) {
	if opts == nil {
		opts = &websocket.DialOptions{}
	}
	opts.Subprotocols = append(opts.Subprotocols, Version)
	if token != "" {
		opts.HTTPHeader = http.Header{"Authorization": {"Bearer " + token}}
	}
	ctx, cancel := context.WithTimeout(ctxT, 10*time.Second)
	defer cancel()
	conn, _, err := websocket.Dial(ctx, e.ws, opts)
	if err != nil {
		return nil, err
	}
	conn.SetReadLimit(1 << 20)
	c := &wsClient{t: e.t, conn: conn, frames: make(chan Frame, 10000), done: make(chan struct{})}
	go c.read()
	e.t.Cleanup(func() { conn.CloseNow() })
	return c, nil
}

func (c *wsClient) read() {
	defer close(c.done)
	for {
		if p := c.paused.Load(); p != nil {
			<-*p
		}
		_, b, err := c.conn.Read(context.Background())
		if err != nil {
			c.err = err
			return
		}
		var f Frame
		if err := json.Unmarshal(b, &f); err != nil {
			c.err = err
			return
		}
		c.frames <- f
	}
}

// wait bounds how long a test waits for a frame that must come; it only
// keeps a broken build from hanging, it measures nothing.
const wait = 15 * time.Second

func (c *wsClient) next() Frame {
	c.t.Helper()
	select {
	case f := <-c.frames:
		return f
	case <-c.done:
		select {
		case f := <-c.frames:
			return f
		default:
		}
		c.t.Fatalf("connection ended: %v", c.err)
	case <-time.After(wait):
		c.t.Fatal("no frame came")
	}
	return Frame{}
}

// expect skips frames of other types (presence, activity...) until one of typ.
func (c *wsClient) expect(typ string) Frame {
	c.t.Helper()
	for {
		if f := c.next(); f.Type == typ {
			return f
		}
	}
}

// closed waits for the connection to end and returns its close status.
func (c *wsClient) closed() websocket.StatusCode {
	c.t.Helper()
	select {
	case <-c.done:
	case <-time.After(wait):
		c.t.Fatal("connection not closed")
	}
	return websocket.CloseStatus(c.err)
}

func (c *wsClient) send(f Frame) {
	c.t.Helper()
	b, _ := json.Marshal(f)
	c.raw(websocket.MessageText, b)
}

func (c *wsClient) raw(typ websocket.MessageType, b []byte) {
	c.t.Helper()
	ctx, cancel := context.WithTimeout(ctxT, wait)
	defer cancel()
	if err := c.conn.Write(ctx, typ, b); err != nil && !errors.Is(err, context.Canceled) {
		c.t.Fatalf("write: %v", err)
	}
}

func (c *wsClient) resume(conv string, last int64) Frame {
	c.t.Helper()
	c.send(Frame{Type: TypeResume, Ref: "r-" + conv, ConversationID: conv, LastSeq: &last})
	return Frame{}
}

// collect reads message frames of conv (skipping other types) until it holds
// n, failing on an error frame.
func (c *wsClient) messages(conv string, n int) []Frame {
	c.t.Helper()
	var out []Frame
	for len(out) < n {
		f := c.next()
		switch {
		case f.Type == TypeError:
			c.t.Fatalf("error frame %+v", f)
		case f.Type == TypeMessage && f.ConversationID == conv:
			out = append(out, f)
		}
	}
	return out
}

func i64(v int64) *int64 { return &v }

// messagesOf reads message frames until it holds want[conv] of each
// conversation, failing on an error frame or a message beyond the count.
func (c *wsClient) messagesOf(want map[string]int) map[string][]Frame {
	c.t.Helper()
	out := map[string][]Frame{}
	missing := 0
	for _, n := range want {
		missing += n
	}
	for missing > 0 {
		f := c.next()
		switch {
		case f.Type == TypeError:
			c.t.Fatalf("error frame %+v", f)
		case f.Type == TypeMessage:
			if len(out[f.ConversationID]) >= want[f.ConversationID] {
				c.t.Fatalf("unexpected message %+v", f)
			}
			out[f.ConversationID] = append(out[f.ConversationID], f)
			missing--
		}
	}
	return out
}

// newTestServer serves srv at /ws on another loopback port (another node)
// and returns its socket URL.
func newTestServer(t *testing.T, srv *Server) string {
	t.Helper()
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	hs := httptest.NewServer(mux)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		srv.Shutdown(ctx)
		hs.Close()
	})
	return "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"
}
