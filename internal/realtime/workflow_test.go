package realtime

import (
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/desk"
	"github.com/parleychat/parley/internal/httpapi"
	"github.com/parleychat/parley/internal/memory"
)

// newWorkflowEnv is newEnv with the desk's workflow switches.
func newWorkflowEnv(t *testing.T, store parley.Store, dopts desk.Options) *env {
	t.Helper()
	broker := memory.NewBroker()
	dopts.Events = NewPublisher(broker)
	d := desk.New(store, dopts)
	svc := &gatedService{Service: NewDeskService(d, httpapi.SessionCookie)}
	srv := New(Options{Service: svc, Broker: broker})
	api := httpapi.New(httpapi.Options{Desk: d, Store: store})
	mux := http.NewServeMux()
	mux.Handle("/ws", srv)
	mux.Handle("/", api)
	hs := httptest.NewServer(mux)
	e := &env{t: t, store: store, desk: d, broker: broker, svc: svc, srv: srv, api: api, hs: hs,
		ws: "ws" + strings.TrimPrefix(hs.URL, "http") + "/ws"}
	t.Cleanup(func() {
		e.stop()
		d.Close()
	})
	return e
}

// TestTransferSeenLiveByAgentsAndVisitor: a team lead forces a transfer to
// an agent who is away; the conversation leaves the first agent's inbox and
// reaches the second's, and the visitor is told in plain words.
func TestTransferSeenLiveByAgentsAndVisitor(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b.open(t), Options{})
		alice, aliceTok := e.agent("Alice", parley.RoleAgent)
		bob, bobTok := e.agent("Bob", parley.RoleAgent)
		_, leadTok := e.agent("Lena", parley.RoleTeamLead)
		if _, err := e.store.UpdateUser(ctxT, bob.ID, parley.UserUpdate{Availability: ptr(parley.Away)}); err != nil {
			t.Fatal(err)
		}
		_, vTok, conv := e.visitor("Vera", alice.ID)
		a, bb, v := e.dial(aliceTok), e.dial(bobTok), e.dial(vTok)
		for _, c := range []*wsClient{a, bb} {
			c.send(Frame{Type: TypeSubscribe, Inbox: true, Ref: "inbox"})
			c.expect(TypeResumed)
		}
		a.resume(conv.ID, 0)
		a.expect(TypeResumed)
		v.resume(conv.ID, 0)
		v.expect(TypeResumed)

		path := "/api/conversations/" + conv.ID + "/transfer"
		// Bob is away: alice cannot hand it over, nor force it.
		e.call(rest{bearer: aliceTok}, "POST", path, map[string]any{"toAgentId": bob.ID, "reason": "billing"}, nil, http.StatusConflict)
		e.call(rest{bearer: aliceTok}, "POST", path, map[string]any{"toAgentId": bob.ID, "force": true}, nil, http.StatusForbidden)
		e.call(rest{bearer: leadTok}, "POST", path, map[string]any{"toAgentId": bob.ID, "reason": "billing", "force": true}, nil, http.StatusOK)

		// The visitor: the line in the timeline, then the new state.
		m := v.messages(conv.ID, 1)[0]
		if m.Kind != "system" || m.Content != "You are now talking to Bob." || strings.Contains(string(encode(&m)), "billing") {
			t.Fatalf("visitor got %+v", m)
		}
		if f := v.expect(TypeConversation); f.Change != desk.ChangeTransferred || f.Conversation.AssigneeID != bob.ID {
			t.Fatalf("visitor got %+v", f)
		}
		// Bob's inbox gains it; alice's loses it (and her socket stops
		// following it).
		if f := bb.expect(TypeConversation); f.Change != desk.ChangeTransferred || f.ConversationID != conv.ID || f.Conversation.AssigneeID != bob.ID {
			t.Fatalf("bob got %+v", f)
		}
		var told, dropped bool
		for !told || !dropped {
			switch f := a.next(); f.Type {
			case TypeConversation:
				told = f.Change == desk.ChangeTransferred && f.Conversation.AssigneeID == bob.ID
			case TypeError:
				dropped = f.Code == parley.ENOTFOUND && f.ConversationID == conv.ID
			}
		}
		// The history names everyone.
		var h struct {
			Transfers []struct {
				From   struct{ Name string } `json:"fromAgent"`
				To     struct{ Name string } `json:"toAgent"`
				By     struct{ Name string } `json:"by"`
				Reason string
			} `json:"transfers"`
		}
		e.call(rest{bearer: bobTok}, "GET", "/api/conversations/"+conv.ID+"/transfers", nil, &h, http.StatusOK)
		if len(h.Transfers) != 1 || h.Transfers[0].From.Name != "Alice" || h.Transfers[0].To.Name != "Bob" ||
			h.Transfers[0].By.Name != "Lena" || h.Transfers[0].Reason != "billing" {
			t.Fatalf("history %+v", h)
		}
		e.call(rest{bearer: vTok}, "GET", "/api/conversations/"+conv.ID+"/transfers", nil, nil, http.StatusForbidden)
	})
}

// TestAutoAssignmentReachesInbox: a new conversation is given to the
// online agent at once, and their inbox hears it.
func TestAutoAssignmentReachesInbox(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newWorkflowEnv(t, b.open(t), desk.Options{AutoAssign: true})
		alice, aliceTok := e.agent("Alice", parley.RoleAgent)
		a := e.dial(aliceTok)
		a.send(Frame{Type: TypeSubscribe, Inbox: true, Ref: "inbox"})
		a.expect(TypeResumed)
		var visitor struct{ Token string }
		e.call(rest{}, "POST", "/api/visitors", map[string]string{"name": "Ada"}, &visitor, http.StatusCreated)
		var conv struct {
			ID         string
			Status     string
			AssigneeID string
		}
		e.call(rest{bearer: visitor.Token}, "POST", "/api/conversations", map[string]any{}, &conv, http.StatusCreated)
		if conv.Status != "active" || conv.AssigneeID != alice.ID {
			t.Fatalf("the new conversation is %+v, want it alice's", conv)
		}
		if f := a.expect(TypeConversation); f.Change != desk.ChangeCreated {
			t.Fatalf("inbox got %+v, want created first", f)
		}
		if f := a.expect(TypeConversation); f.Change != desk.ChangeAutoAssigned || f.Conversation.AssigneeID != alice.ID {
			t.Fatalf("inbox got %+v, want the assignment", f)
		}
	})
}

// TestDisconnectedAgentGoesOffline: an agent whose last socket closes and
// stays closed past the grace period is set offline, and their chats go to
// another online agent; one who comes back in time keeps theirs.
func TestDisconnectedAgentGoesOffline(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		const grace = 300 * time.Millisecond
		e := newWorkflowEnv(t, b.open(t), desk.Options{AutoAssign: true, RequeueOnOffline: true, OfflineGrace: grace})
		alice, aliceTok := e.agent("Alice", parley.RoleAgent)
		bob, bobTok := e.agent("Bob", parley.RoleAgent)
		_, _, conv := e.visitor("Vera", alice.ID)
		bb := e.dial(bobTok)
		bb.send(Frame{Type: TypeSubscribe, Inbox: true, Ref: "inbox"})
		bb.expect(TypeResumed)

		// Back within the grace period: nothing changes.
		a := e.dial(aliceTok)
		a.conn.CloseNow()
		a = e.dial(aliceTok)
		time.Sleep(2 * grace)
		if u, _ := e.store.GetUser(ctxT, alice.ID); u.Availability != parley.Online {
			t.Fatalf("alice came back in time but is %s", u.Availability)
		}
		// Gone for good: her conversation returns to the queue and goes
		// to bob, whose inbox hears both.
		a.conn.CloseNow()
		if f := bb.expect(TypeConversation); f.ConversationID != conv.ID || f.Change != desk.ChangeStatus || f.Conversation.Status != "waiting" {
			t.Fatalf("bob got %+v, want the conversation back in the queue", f)
		}
		if f := bb.expect(TypeConversation); f.ConversationID != conv.ID || f.Change != desk.ChangeAutoAssigned || f.Conversation.AssigneeID != bob.ID {
			t.Fatalf("bob got %+v, want it offered to him", f)
		}
		if u, _ := e.store.GetUser(ctxT, alice.ID); u.Availability != parley.Offline {
			t.Errorf("alice is %s, want offline", u.Availability)
		}
	})
}

// TestNotesNeverReachVisitorSockets: a visitor resuming from the start and
// following live gets every message but the notes, and the conversation
// frames they get carry no note preview.
func TestNotesNeverReachVisitorSockets(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b.open(t), Options{})
		alice, aliceTok := e.agent("Alice", parley.RoleAgent)
		_, vTok, conv := e.visitor("Vera", alice.ID)
		path := "/api/conversations/" + conv.ID + "/messages"
		e.call(rest{bearer: aliceTok}, "POST", path, map[string]string{"content": "secret one", "kind": "note"}, nil, http.StatusCreated)
		e.call(rest{bearer: aliceTok}, "POST", path, map[string]string{"content": "Hello Vera"}, nil, http.StatusCreated)
		e.call(rest{bearer: aliceTok}, "POST", path, map[string]string{"content": "secret two", "kind": "note"}, nil, http.StatusCreated)
		v := e.dial(vTok)
		v.resume(conv.ID, 0)
		if m := v.messages(conv.ID, 1)[0]; m.Seq != 2 || m.Content != "Hello Vera" {
			t.Fatalf("visitor resumed with %+v", m)
		}
		if f := v.expect(TypeResumed); *f.LastSeq < 2 {
			t.Fatalf("resumed at %d, want at least the message delivered", *f.LastSeq)
		}
		a := e.dial(aliceTok)
		a.send(Frame{Type: TypeSend, ConversationID: conv.ID, ClientMessageID: "n", Content: "secret three", Note: true})
		a.expect(TypeAck)
		e.call(rest{bearer: aliceTok}, "PATCH", "/api/conversations/"+conv.ID, map[string]string{"status": "closed"}, nil, http.StatusOK)
		f := v.expect(TypeConversation)
		if f.Change != desk.ChangeStatus || f.Conversation.Status != "closed" || f.Conversation.LastMessagePreview != "Hello Vera" {
			t.Fatalf("visitor got %+v", f)
		}
		v.send(Frame{Type: TypePing, Ref: "p"})
		for f := v.next(); f.Type != TypePong; f = v.next() {
			if strings.Contains(f.Content, "secret") || f.Kind == "note" {
				t.Fatalf("visitor got a note: %+v", f)
			}
		}
	})
}
