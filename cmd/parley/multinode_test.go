package main

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/cookiejar"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley/internal/nats/natstest"
	"github.com/parleychat/parley/internal/postgres/pgtest"
)

// TestTwoNodes runs two `parley serve` nodes on one PostgreSQL database and
// one NATS server, the way a production deployment behind a load balancer
// does, and checks that a conversation works with the visitor on one node
// and the agent on the other: the new conversation reaches the agent's
// inbox, messages and typing cross both ways, and a sign-out on one node
// closes the agent's socket on the other.
func TestTwoNodes(t *testing.T) {
	db := pgtest.FreshSchema(t)
	ns := natstest.Server(t)
	const email, password = "lead@example.com", "a long lead password"
	vars := map[string]string{
		"PARLEY_DATA_DIR":       t.TempDir(),
		"PARLEY_DATABASE_URL":   db,
		"PARLEY_NATS_URL":       ns.ClientURL(),
		"PARLEY_ADMIN_EMAIL":    email,
		"PARLEY_ADMIN_PASSWORD": password,
	}
	nodeA, _, _ := startServe(t, vars)
	nodeB, _, _ := startServe(t, vars)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()

	// The agent signs in on node B and follows the inbox there.
	jar, _ := cookiejar.New(nil)
	agentHTTP := &http.Client{Jar: jar}
	var login struct {
		CSRFToken string `json:"csrfToken"`
	}
	call(t, agentHTTP, "POST", nodeB+"/api/auth/login", "", "", `{"email":"`+email+`","password":"`+password+`"}`, &login)
	agent := dial(ctx, t, nodeB, &websocket.DialOptions{HTTPClient: agentHTTP})
	agent.expect("ready")
	agent.send(`{"type":"subscribe","inbox":true,"ref":"inbox"}`)
	agent.expect("resumed")

	// The visitor arrives on node A.
	var visitor struct {
		Token string `json:"token"`
	}
	call(t, http.DefaultClient, "POST", nodeA+"/api/visitors", "", "", `{"name":"Ada"}`, &visitor)
	var conv struct {
		ID string `json:"id"`
	}
	call(t, http.DefaultClient, "POST", nodeA+"/api/conversations", visitor.Token, "", `{}`, &conv)
	if f := agent.expect("conversation"); f["change"] != "created" || f["conversationId"] != conv.ID {
		t.Fatalf("node B's inbox heard %v", f)
	}

	vis := dial(ctx, t, nodeA, &websocket.DialOptions{Subprotocols: []string{"parley.v1", "parley.auth." + visitor.Token}})
	vis.expect("ready")
	vis.send(`{"type":"resume","conversationId":"` + conv.ID + `","lastSeq":0}`)
	vis.expect("resumed")
	agent.send(`{"type":"resume","conversationId":"` + conv.ID + `","lastSeq":0}`)
	agent.expect("resumed")

	vis.send(`{"type":"send","conversationId":"` + conv.ID + `","clientMessageId":"v1","content":"Hello from node A"}`)
	vis.expect("ack")
	if m := agent.expectMessage(1); m["content"] != "Hello from node A" {
		t.Fatalf("agent on node B got %v", m)
	}

	vis.send(`{"type":"typing","conversationId":"` + conv.ID + `","state":"start"}`)
	if f := agent.expect("typing"); f["state"] != "start" {
		t.Fatalf("typing on node B: %v", f)
	}

	agent.send(`{"type":"send","conversationId":"` + conv.ID + `","clientMessageId":"a1","content":"Hi Ada, from node B"}`)
	agent.expect("ack")
	if m := vis.expectMessage(2); m["content"] != "Hi Ada, from node B" {
		t.Fatalf("visitor on node A got %v", m)
	}

	// Signing out through node A ends the session everywhere: the socket
	// opened with it on node B closes with 4401.
	call(t, agentHTTP, "POST", nodeA+"/api/auth/logout", "", login.CSRFToken, `{}`, nil)
	if code := agent.closed(); code != 4401 {
		t.Fatalf("agent socket on node B closed with %d after sign-out on node A, want 4401", code)
	}
}

// call makes a JSON request and decodes the answer into out, failing the
// test on a status of 300 or more. The session cookie travels in c's jar.
func call(t *testing.T, c *http.Client, method, url, bearer, csrf, body string, out any) {
	t.Helper()
	req, _ := http.NewRequest(method, url, strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	if bearer != "" {
		req.Header.Set("Authorization", "Bearer "+bearer)
	}
	if csrf != "" {
		req.Header.Set("X-CSRF-Token", csrf)
	}
	resp, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		var e map[string]any
		json.NewDecoder(resp.Body).Decode(&e)
		t.Fatalf("%s %s: %d %v", method, url, resp.StatusCode, e)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			t.Fatalf("%s %s: %v", method, url, err)
		}
	}
}

type socket struct {
	t    *testing.T
	ctx  context.Context
	conn *websocket.Conn
}

func dial(ctx context.Context, t *testing.T, base string, opts *websocket.DialOptions) *socket {
	t.Helper()
	if len(opts.Subprotocols) == 0 {
		opts.Subprotocols = []string{"parley.v1"}
	}
	c, _, err := websocket.Dial(ctx, "ws"+strings.TrimPrefix(base, "http")+"/ws", opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { c.CloseNow() })
	return &socket{t: t, ctx: ctx, conn: c}
}

func (s *socket) send(frame string) {
	s.t.Helper()
	if err := s.conn.Write(s.ctx, websocket.MessageText, []byte(frame)); err != nil {
		s.t.Fatal(err)
	}
}

// expect reads frames until one of type typ, failing on an error frame.
func (s *socket) expect(typ string) map[string]any {
	s.t.Helper()
	for {
		_, b, err := s.conn.Read(s.ctx)
		if err != nil {
			s.t.Fatalf("waiting for %s: %v", typ, err)
		}
		var f map[string]any
		if err := json.Unmarshal(b, &f); err != nil {
			s.t.Fatalf("frame %q: %v", b, err)
		}
		if f["type"] == typ {
			return f
		}
		if f["type"] == "error" {
			s.t.Fatalf("waiting for %s: error frame %v", typ, f)
		}
	}
}

// expectMessage reads until the message with seq arrives (a sender also
// receives its own messages), failing on a later one.
func (s *socket) expectMessage(seq int64) map[string]any {
	s.t.Helper()
	for {
		m := s.expect("message")
		got, _ := m["seq"].(float64)
		switch {
		case int64(got) == seq:
			return m
		case int64(got) > seq:
			s.t.Fatalf("waiting for seq %d, got %v", seq, m)
		}
	}
}

// closed reads until the socket closes and returns the close code.
func (s *socket) closed() websocket.StatusCode {
	for {
		if _, _, err := s.conn.Read(s.ctx); err != nil {
			return websocket.CloseStatus(err)
		}
	}
}
