package realtime

import (
	"bytes"
	"encoding/json"
	"net/http"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/desk"
	"github.com/parleychat/parley/internal/httpapi"
)

// rest is one REST call on the env's server: body is sent as JSON and the
// answer decoded into out (when not nil); it fails the test unless the
// status is want.
type rest struct {
	bearer string
	cookie string
	csrf   string
}

func (e *env) call(c rest, method, path string, body, out any, want int) *http.Response {
	e.t.Helper()
	var rd bytes.Buffer
	if body != nil {
		json.NewEncoder(&rd).Encode(body)
	}
	req, err := http.NewRequest(method, e.hs.URL+path, &rd)
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	if c.bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.bearer)
	}
	if c.cookie != "" {
		req.AddCookie(&http.Cookie{Name: httpapi.SessionCookie, Value: c.cookie})
		req.Header.Set("X-CSRF-Token", c.csrf)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != want {
		var b bytes.Buffer
		b.ReadFrom(resp.Body)
		e.t.Fatalf("%s %s: %d %s, want %d", method, path, resp.StatusCode, b.String(), want)
	}
	if out != nil {
		if err := json.NewDecoder(resp.Body).Decode(out); err != nil {
			e.t.Fatalf("%s %s: %v", method, path, err)
		}
	}
	return resp
}

// login signs in over REST and returns the session cookie and CSRF token.
func (e *env) login(email, password string) rest {
	e.t.Helper()
	var out struct {
		CSRFToken string `json:"csrfToken"`
	}
	resp := e.call(rest{}, "POST", "/api/auth/login", map[string]string{"email": email, "password": password}, &out, http.StatusOK)
	for _, ck := range resp.Cookies() {
		if ck.Name == httpapi.SessionCookie {
			return rest{cookie: ck.Value, csrf: out.CSRFToken}
		}
	}
	e.t.Fatal("login set no session cookie")
	return rest{}
}

// dialCookie opens a socket with a session cookie, as the dashboard does.
func (e *env) dialCookie(cookie string) *wsClient {
	e.t.Helper()
	c, err := e.tryDial("", &websocket.DialOptions{HTTPHeader: http.Header{
		"Cookie": {httpapi.SessionCookie + "=" + cookie}, "Origin": {e.hs.URL}}})
	if err != nil {
		e.t.Fatal(err)
	}
	if f := c.next(); f.Type != TypeReady {
		e.t.Fatalf("first frame %+v, want ready", f)
	}
	return c
}

// alive checks that c is still open and answering.
func (c *wsClient) alive(ref string) {
	c.t.Helper()
	c.send(Frame{Type: TypePing, Ref: ref})
	if f := c.expect(TypePong); f.Ref != ref {
		c.t.Fatalf("pong %+v", f)
	}
}

func TestRESTMessagesAndReadsReachSockets(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b.open(t), Options{})
		alice, aliceTok := e.agent("alice", parley.RoleAgent)
		vp, vTok, conv := e.visitor("v", alice.ID)
		a, v := e.dial(aliceTok), e.dial(vTok)
		for _, c := range []*wsClient{a, v} {
			c.resume(conv.ID, 0)
			c.expect(TypeResumed)
		}

		path := "/api/conversations/" + conv.ID + "/messages"
		e.call(rest{bearer: vTok}, "POST", path, map[string]string{"content": "over REST", "clientMessageId": "r1"}, nil, http.StatusCreated)
		if m := a.messages(conv.ID, 1)[0]; m.Seq != 1 || m.Content != "over REST" || m.SenderID != vp.ID || m.ClientMessageID != "r1" {
			t.Fatalf("agent got %+v", m)
		}
		if m := v.messages(conv.ID, 1)[0]; m.Seq != 1 {
			t.Fatalf("visitor got %+v", m)
		}
		// A retry over REST stores and publishes nothing.
		e.call(rest{bearer: vTok}, "POST", path, map[string]string{"content": "over REST", "clientMessageId": "r1"}, nil, http.StatusOK)
		e.call(rest{bearer: aliceTok}, "POST", path, map[string]string{"content": "answer"}, nil, http.StatusCreated)
		if m := v.messages(conv.ID, 1)[0]; m.Seq != 2 || m.Content != "answer" || m.SenderID != alice.ID {
			t.Fatalf("visitor got %+v, want the answer as seq 2", m)
		}
		// A note over REST reaches agents only.
		e.call(rest{bearer: aliceTok}, "POST", path, map[string]string{"content": "psst", "kind": "note"}, nil, http.StatusCreated)
		if m := a.messages(conv.ID, 2)[1]; m.Seq != 3 || m.Kind != "note" {
			t.Fatalf("agent got %+v, want the note", m)
		}
		e.call(rest{bearer: aliceTok}, "POST", "/api/conversations/"+conv.ID+"/read", map[string]int64{"seq": 1}, nil, http.StatusOK)
		if f := v.expect(TypeRead); f.From.ID != alice.ID || f.From.Type != "agent" || f.Seq != 1 {
			t.Fatalf("visitor got read %+v", f)
		}
		// The visitor saw no note, and nothing after the read.
		v.send(Frame{Type: TypePing, Ref: "p"})
		for f := v.next(); f.Type != TypePong; f = v.next() {
			if f.Type == TypeMessage {
				t.Fatalf("visitor got %+v", f)
			}
		}
		// A read on the socket is published by the desk, once.
		v.send(Frame{Type: TypeRead, ConversationID: conv.ID, Seq: 2})
		f := a.expect(TypeRead)
		if f.From.ID == alice.ID { // alice's own read over REST, first
			f = a.expect(TypeRead)
		}
		if f.From.ID != vp.ID || f.Seq != 2 {
			t.Fatalf("agent got read %+v", f)
		}
		a.send(Frame{Type: TypePing, Ref: "p"})
		for f := a.next(); f.Type != TypePong; f = a.next() {
			if f.Type == TypeRead || f.Type == TypeMessage {
				t.Fatalf("agent got a second event %+v", f)
			}
		}
	})
}

func TestVisitorConversationReachesInbox(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b.open(t), Options{})
		_, aliceTok := e.agent("alice", parley.RoleAgent)
		a := e.dial(aliceTok)
		a.send(Frame{Type: TypeSubscribe, Inbox: true, Ref: "inbox"})
		a.expect(TypeResumed)

		var visitor struct {
			VisitorID string `json:"visitorId"`
			Token     string `json:"token"`
		}
		e.call(rest{}, "POST", "/api/visitors", map[string]string{"name": "Ada"}, &visitor, http.StatusCreated)
		var conv struct {
			ID string `json:"id"`
		}
		e.call(rest{bearer: visitor.Token}, "POST", "/api/conversations", map[string]any{}, &conv, http.StatusCreated)
		f := a.expect(TypeConversation)
		if f.Change != desk.ChangeCreated || f.ConversationID != conv.ID || f.Conversation == nil ||
			f.Conversation.CustomerID != visitor.VisitorID || f.Conversation.Status != "waiting" {
			t.Fatalf("inbox got %+v", f)
		}
		// Starting again returns the open conversation and announces nothing.
		e.call(rest{bearer: visitor.Token}, "POST", "/api/conversations", map[string]any{}, nil, http.StatusOK)

		// The visitor's first message shows in the inbox; the agent's reply
		// claims the conversation, which the inbox hears of too.
		v := e.dial(visitor.Token)
		v.send(Frame{Type: TypeSend, ConversationID: conv.ID, ClientMessageID: "1", Content: "help"})
		v.expect(TypeAck)
		if f := a.expect(TypeActivity); f.ConversationID != conv.ID || f.Seq != 1 || f.Preview != "help" {
			t.Fatalf("inbox got %+v", f)
		}
		a.send(Frame{Type: TypeSend, ConversationID: conv.ID, ClientMessageID: "a", Content: "hi"})
		if f := a.expect(TypeConversation); f.Change != desk.ChangeClaimed || f.Conversation.Status != "active" {
			t.Fatalf("inbox got %+v, want the claim", f)
		}
		if f := a.expect(TypeAck); f.Seq != 2 {
			t.Fatalf("ack %+v", f)
		}
	})
}

func TestTransferReachesBothAgents(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b.open(t), Options{})
		alice, aliceTok := e.agent("alice", parley.RoleAgent)
		bob, bobTok := e.agent("bob", parley.RoleAgent)
		_, carolTok := e.agent("carol", parley.RoleAgent)
		_, seniorTok := e.agent("senior", parley.RoleSeniorAgent)
		_, vTok, conv := e.visitor("v", alice.ID)
		a, bb, carol, senior, v := e.dial(aliceTok), e.dial(bobTok), e.dial(carolTok), e.dial(seniorTok), e.dial(vTok)
		for _, c := range []*wsClient{a, bb, carol, senior} {
			c.send(Frame{Type: TypeSubscribe, Inbox: true, Ref: "inbox"})
			c.expect(TypeResumed)
		}
		for _, c := range []*wsClient{a, v} {
			c.resume(conv.ID, 0)
			c.expect(TypeResumed)
		}

		e.call(rest{bearer: aliceTok}, "POST", "/api/conversations/"+conv.ID+"/transfer",
			map[string]string{"toAgentId": bob.ID, "reason": "billing"}, nil, http.StatusOK)
		for who, c := range map[string]*wsClient{"bob": bb, "senior": senior} {
			f := c.expect(TypeConversation)
			if f.Change != desk.ChangeTransferred || f.ConversationID != conv.ID || f.Conversation.AssigneeID != bob.ID {
				t.Fatalf("%s got %+v", who, f)
			}
		}
		// Alice hears of it on her inbox, and her socket stops following
		// the conversation she can no longer see, as REST would refuse it.
		var told, dropped bool
		for !told || !dropped {
			switch f := a.next(); f.Type {
			case TypeConversation:
				if f.Change != desk.ChangeTransferred || f.Conversation.AssigneeID != bob.ID {
					t.Fatalf("alice got %+v", f)
				}
				told = true
			case TypeError:
				if f.Code != parley.ENOTFOUND || f.ConversationID != conv.ID {
					t.Fatalf("alice got %+v", f)
				}
				dropped = true
			}
		}
		// Carol, a plain agent, sees neither alice's nor bob's conversation:
		// her inbox hears nothing of it.
		carol.send(Frame{Type: TypePing, Ref: "p"})
		for f := carol.next(); f.Type != TypePong; f = carol.next() {
			if f.ConversationID == conv.ID {
				t.Fatalf("carol got %+v", f)
			}
		}
		// The line in the timeline reaches the conversation's sockets.
		if m := v.messages(conv.ID, 1)[0]; m.Seq != 1 || m.Kind != "system" || m.SenderType != "system" {
			t.Fatalf("visitor got %+v", m)
		}
		if f := v.expect(TypeConversation); f.Change != desk.ChangeTransferred || f.Conversation.AssigneeID != bob.ID {
			t.Fatalf("visitor got %+v", f)
		}
		// Bob now has it: he resumes and sees the line. The visitor's next
		// message shows in his and the senior's inbox, not in carol's.
		bb.resume(conv.ID, 0)
		if m := bb.messages(conv.ID, 1)[0]; m.Kind != "system" {
			t.Fatalf("bob got %+v", m)
		}
		v.send(Frame{Type: TypeSend, ConversationID: conv.ID, ClientMessageID: "1", Content: "hello bob"})
		v.expect(TypeAck)
		for who, c := range map[string]*wsClient{"bob": bb, "senior": senior} {
			if f := c.expect(TypeActivity); f.ConversationID != conv.ID || f.Preview != "hello bob" {
				t.Fatalf("%s got %+v", who, f)
			}
		}
		carol.send(Frame{Type: TypePing, Ref: "p2"})
		for f := carol.next(); f.Type != TypePong; f = carol.next() {
			if f.ConversationID == conv.ID {
				t.Fatalf("carol got %+v", f)
			}
		}
	})
}

func TestEndedCredentialsCloseSockets(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b.open(t), Options{AuthTimeout: 300 * time.Millisecond})
		admin, _ := e.agent("admin", parley.RoleAdmin)
		const pw1, pw2 = "the first password", "the second password"
		u, err := e.desk.CreateUser(ctxT, admin.Actor.(desk.Actor), desk.NewUser{Email: "carol@example.com", Name: "carol", Password: pw1})
		if err != nil {
			t.Fatal(err)
		}
		tok, err := e.desk.CreateToken(ctxT, desk.Actor{Kind: desk.Agent, User: u}, "bot")
		if err != nil {
			t.Fatal(err)
		}
		s1, s2 := e.login(u.Email, pw1), e.login(u.Email, pw1)
		c1, c2, ct := e.dialCookie(s1.cookie), e.dialCookie(s2.cookie), e.dial(tok.Token)
		// A second node on the same broker: the news reaches it too.
		node2 := New(Options{Service: e.svc, Broker: e.broker})
		hs2 := newTestServer(t, node2)
		e2 := &env{t: t, ws: hs2}
		n2 := e2.dial(tok.Token)
		_, otherTok := e.agent("dave", parley.RoleAgent)
		other := e.dial(otherTok)

		// A new password over REST from session 1 ends every other socket.
		e.call(s1, "POST", "/api/auth/password", map[string]string{"currentPassword": pw1, "newPassword": pw2}, nil, http.StatusNoContent)
		for name, c := range map[string]*wsClient{"session 2": c2, "token": ct, "token on node 2": n2} {
			if code := c.closed(); code != CloseUnauthorized {
				t.Fatalf("%s: close %v, want 4401", name, code)
			}
		}
		c1.alive("s1")
		other.alive("other")
		// Session 2 is over: its cookie no longer opens a socket.
		c, err := e.tryDial("", &websocket.DialOptions{HTTPHeader: http.Header{
			"Cookie": {httpapi.SessionCookie + "=" + s2.cookie}, "Origin": {e.hs.URL}}})
		if err != nil {
			t.Fatal(err)
		}
		if code := c.closed(); code != CloseUnauthorized {
			t.Fatalf("ended session: close %v, want 4401", code)
		}

		// Revoking the token closes its sockets; signing out, the session's.
		ct = e.dial(tok.Token)
		e.call(s1, "DELETE", "/api/tokens/"+tok.ID, nil, nil, http.StatusNoContent)
		if code := ct.closed(); code != CloseUnauthorized {
			t.Fatalf("revoked token: close %v, want 4401", code)
		}
		c1.alive("s1 after revoke")
		e.call(s1, "POST", "/api/auth/logout", nil, nil, http.StatusNoContent)
		if code := c1.closed(); code != CloseUnauthorized {
			t.Fatalf("signed out: close %v, want 4401", code)
		}

		// Disabling the account closes the rest, wherever they are.
		s3 := e.login(u.Email, pw2)
		c3 := e.dialCookie(s3.cookie)
		if _, err := e.desk.UpdateUser(ctxT, admin.Actor.(desk.Actor), u.ID, desk.UserChange{Disabled: ptr(true)}); err != nil {
			t.Fatal(err)
		}
		if code := c3.closed(); code != CloseUnauthorized {
			t.Fatalf("disabled: close %v, want 4401", code)
		}
		other.alive("other at the end")
	})
}

func ptr[T any](v T) *T { return &v }
