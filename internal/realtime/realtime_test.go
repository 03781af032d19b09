package realtime

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/httpapi"
)

// checkSeqs fails unless frames carry seqs from..from+len-1 in order.
func checkSeqs(t *testing.T, who string, frames []Frame, from int64) {
	t.Helper()
	for i, f := range frames {
		if f.Seq != from+int64(i) {
			t.Fatalf("%s: frame %d has seq %d, want %d", who, i, f.Seq, from+int64(i))
		}
	}
}

func TestTwoVisitorsTwoAgentsChat(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b.open(t), Options{})
		alice, aliceTok := e.agent("alice", parley.RoleAgent)
		_, leadTok := e.agent("lead", parley.RoleTeamLead)
		_, v1Tok, conv1 := e.visitor("v1", alice.ID)
		_, v2Tok, conv2 := e.visitor("v2", "")

		a, lead := e.dial(aliceTok), e.dial(leadTok)
		v1, v2 := e.dial(v1Tok), e.dial(v2Tok)
		for _, c := range []struct {
			cl   *wsClient
			conv string
		}{{a, conv1.ID}, {a, conv2.ID}, {lead, conv1.ID}, {lead, conv2.ID}, {v1, conv1.ID}, {v2, conv2.ID}} {
			c.cl.resume(c.conv, 0)
			if f := c.cl.expect(TypeResumed); f.ConversationID != c.conv || *f.LastSeq != 0 {
				t.Fatalf("resumed %+v", f)
			}
		}

		const n = 10
		for i := 0; i < n; i++ {
			v1.send(Frame{Type: TypeSend, ConversationID: conv1.ID, ClientMessageID: fmt.Sprintf("v1-%d", i), Content: fmt.Sprintf("hello %d", i)})
			v2.send(Frame{Type: TypeSend, ConversationID: conv2.ID, ClientMessageID: fmt.Sprintf("v2-%d", i), Content: fmt.Sprintf("hi %d", i)})
		}
		for _, c := range []*wsClient{a, lead} {
			got := c.messagesOf(map[string]int{conv1.ID: n, conv2.ID: n})
			checkSeqs(t, "agent conv1", got[conv1.ID], 1)
			checkSeqs(t, "agent conv2", got[conv2.ID], 1)
			if m := got[conv1.ID][3]; m.Content != "hello 3" || m.SenderType != "customer" {
				t.Fatalf("message %+v", m)
			}
		}
		for i := 0; i < n; i++ {
			ack := v1.expect(TypeAck)
			if ack.ClientMessageID != fmt.Sprintf("v1-%d", i) || ack.Seq != int64(i+1) || ack.MessageID == "" || ack.Duplicate {
				t.Fatalf("ack %+v", ack)
			}
		}

		// Agents reply; a note reaches agents only.
		a.send(Frame{Type: TypeSend, ConversationID: conv1.ID, ClientMessageID: "a-1", Content: "How can I help?"})
		a.send(Frame{Type: TypeSend, ConversationID: conv1.ID, ClientMessageID: "a-2", Content: "VIP customer", Note: true})
		a.send(Frame{Type: TypeSend, ConversationID: conv1.ID, ClientMessageID: "a-3", Content: "Still there?"})
		lead.send(Frame{Type: TypeSend, ConversationID: conv2.ID, ClientMessageID: "l-1", Content: "Hello v2"})

		got := v1.messages(conv1.ID, 2)
		if got[0].Seq != n+1 || got[0].Content != "How can I help?" || got[1].Seq != n+3 || got[1].Content != "Still there?" {
			t.Fatalf("visitor 1 got %+v", got)
		}
		lg := lead.messagesOf(map[string]int{conv1.ID: 3, conv2.ID: 1})[conv1.ID]
		checkSeqs(t, "lead conv1", lg, n+1)
		if lg[1].Kind != "note" {
			t.Fatalf("lead got %+v, want the note", lg[1])
		}
		// Visitor 2 gets its own messages, then the lead's reply.
		if g := v2.messages(conv2.ID, n+1)[n:]; g[0].Content != "Hello v2" || g[0].Seq != n+1 {
			t.Fatalf("visitor 2 got %+v", g)
		}
		// Visitor 2 never saw anything of conversation 1.
		for len(v2.frames) > 0 {
			if f := <-v2.frames; f.ConversationID == conv1.ID {
				t.Fatalf("visitor 2 got %+v", f)
			}
		}
	})
}

func TestCutSocketResumesWithNothingLostOrRepeated(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b.open(t), Options{})
		alice, aliceTok := e.agent("alice", parley.RoleAgent)
		vp, _, conv := e.visitor("v", alice.ID)

		a := e.dial(aliceTok)
		a.resume(conv.ID, 0)
		a.expect(TypeResumed)

		// Messages come in over the service (as REST sends them) the whole
		// time, while the agent's socket is cut and resumed twice.
		const total = 300
		var wg sync.WaitGroup
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < total; i++ {
				if _, _, err := e.svc.Send(ctxT, vp, SendInput{ConversationID: conv.ID, ClientMessageID: fmt.Sprint(i), Content: fmt.Sprint("m", i)}); err != nil {
					t.Error(err)
					return
				}
			}
		}()

		var held []Frame
		held = append(held, a.messages(conv.ID, 20)...)
		for cut := 0; cut < 2; cut++ {
			a.conn.CloseNow()
			<-a.done
			// Whatever the client had read before the cut is what it holds.
			for len(a.frames) > 0 {
				if f := <-a.frames; f.Type == TypeMessage {
					held = append(held, f)
				}
			}
			a = e.dial(aliceTok)
			a.resume(conv.ID, held[len(held)-1].Seq)
			held = append(held, a.messages(conv.ID, 30)...)
		}
		wg.Wait()
		held = append(held, a.messages(conv.ID, total-len(held))...)
		checkSeqs(t, "agent", held, 1)
		for i, f := range held {
			if f.Content != fmt.Sprint("m", i) {
				t.Fatalf("message %d is %q", i, f.Content)
			}
		}
		// Nothing more arrives: a ping is answered with no message before it.
		a.send(Frame{Type: TypePing, Ref: "p"})
		for {
			f := a.next()
			if f.Type == TypeMessage {
				t.Fatalf("extra message %+v", f)
			}
			if f.Type == TypePong {
				break
			}
		}
	})
}

func TestResumeAfterServerRestart(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		store := b.open(t)
		e := newEnv(t, store, Options{})
		alice, aliceTok := e.agent("alice", parley.RoleAgent)
		_, vTok, conv := e.visitor("v", alice.ID)
		v := e.dial(vTok)
		for i := 0; i < 5; i++ {
			v.send(Frame{Type: TypeSend, ConversationID: conv.ID, ClientMessageID: fmt.Sprint(i), Content: fmt.Sprint("m", i)})
		}
		for i := 0; i < 5; i++ {
			v.expect(TypeAck)
		}
		e.stop()
		if c := v.closed(); c != websocket.StatusGoingAway {
			t.Fatalf("close %v, want 1001", c)
		}
		store.Close()

		e2 := newEnv(t, b.open(t), Options{})
		a := e2.dial(aliceTok)
		a.resume(conv.ID, 2)
		got := a.messages(conv.ID, 3)
		checkSeqs(t, "after restart", got, 3)
		if r := a.expect(TypeResumed); *r.LastSeq != 5 {
			t.Fatalf("resumed %+v", r)
		}
	})
}

func TestRetriedSendIsDeduplicated(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b.open(t), Options{})
		alice, aliceTok := e.agent("alice", parley.RoleAgent)
		_, vTok, conv := e.visitor("v", alice.ID)
		a := e.dial(aliceTok)
		a.resume(conv.ID, 0)
		a.expect(TypeResumed)

		v := e.dial(vTok)
		send := Frame{Type: TypeSend, Ref: "s1", ConversationID: conv.ID, ClientMessageID: "once", Content: "hello"}
		v.send(send)
		first := v.expect(TypeAck)
		v.send(send)
		second := v.expect(TypeAck)
		// and again after a reconnect
		v.conn.CloseNow()
		v = e.dial(vTok)
		v.send(send)
		third := v.expect(TypeAck)
		if first.Duplicate || !second.Duplicate || !third.Duplicate {
			t.Fatalf("duplicate flags %v %v %v", first.Duplicate, second.Duplicate, third.Duplicate)
		}
		for _, ack := range []Frame{second, third} {
			if ack.MessageID != first.MessageID || ack.Seq != first.Seq || !ack.CreatedAt.Equal(*first.CreatedAt) || ack.Ref != "s1" {
				t.Fatalf("ack %+v, want the original %+v", ack, first)
			}
		}
		msgs, err := e.store.ListMessages(ctxT, conv.ID, parley.MessageFilter{})
		if err != nil || len(msgs) != 1 {
			t.Fatalf("stored %d messages (%v), want 1", len(msgs), err)
		}
		a.messages(conv.ID, 1)
		v.send(Frame{Type: TypeSend, ConversationID: conv.ID, ClientMessageID: "next", Content: "next"})
		if m := a.messages(conv.ID, 1)[0]; m.Seq != 2 || m.Content != "next" {
			t.Fatalf("agent got %+v after the retries, want seq 2", m)
		}
	})
}

func TestTypingAndPresence(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		// A long interval makes the throttle's effect certain, not timed.
		e := newEnv(t, b.open(t), Options{TypingInterval: time.Hour})
		alice, aliceTok := e.agent("alice", parley.RoleAgent)
		vp, vTok, conv := e.visitor("v", alice.ID)

		a := e.dial(aliceTok)
		a.send(Frame{Type: TypeSubscribe, Inbox: true, Ref: "inbox"})
		a.expect(TypeResumed)
		a.resume(conv.ID, 0)
		a.expect(TypeResumed)

		v := e.dial(vTok)
		if p := a.expect(TypePresence); !p.Online || p.From.ID != vp.ID || p.From.Type != "customer" || p.ConversationID != "" {
			t.Fatalf("inbox presence %+v", p)
		}
		v.resume(conv.ID, 0)
		// The visitor learns who is there; the agent learns the visitor came.
		if p := v.expect(TypePresence); !p.Online || p.From.ID != alice.ID || p.ConversationID != conv.ID {
			t.Fatalf("visitor got presence %+v", p)
		}
		if p := a.expect(TypePresence); !p.Online || p.From.ID != vp.ID || p.ConversationID != conv.ID {
			t.Fatalf("agent got presence %+v", p)
		}
		v.expect(TypeResumed)

		v.send(Frame{Type: TypeTyping, ConversationID: conv.ID, State: TypingStart})
		v.send(Frame{Type: TypeTyping, ConversationID: conv.ID, State: TypingStart}) // throttled
		v.send(Frame{Type: TypeTyping, ConversationID: conv.ID, State: TypingStop})
		if f := a.expect(TypeTyping); f.State != TypingStart || f.From.ID != vp.ID {
			t.Fatalf("typing %+v", f)
		}
		if f := a.expect(TypeTyping); f.State != TypingStop {
			t.Fatalf("typing %+v, want the stop (the second start is throttled)", f)
		}
		a.send(Frame{Type: TypeTyping, ConversationID: conv.ID, State: TypingStart})
		if f := v.expect(TypeTyping); f.State != TypingStart || f.From.ID != alice.ID {
			t.Fatalf("visitor got typing %+v", f)
		}
		// The sender does not hear its own typing back.
		a.send(Frame{Type: TypePing, Ref: "p"})
		for f := a.next(); f.Type != TypePong; f = a.next() {
			if f.Type == TypeTyping {
				t.Fatalf("agent got its own typing %+v", f)
			}
		}

		v.conn.Close(websocket.StatusNormalClosure, "")
		if p := a.expect(TypePresence); p.Online || p.From.ID != vp.ID || p.LastSeen == nil {
			t.Fatalf("presence %+v, want offline", p)
		}
	})
}

func TestForeignConversationRefused(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b.open(t), Options{})
		alice, _ := e.agent("alice", parley.RoleAgent)
		_, bobTok := e.agent("bob", parley.RoleAgent)
		_, _, conv1 := e.visitor("v1", alice.ID)
		_, v2Tok, _ := e.visitor("v2", "")

		v2 := e.dial(v2Tok)
		bob := e.dial(bobTok)
		for _, c := range []*wsClient{v2, bob} {
			c.resume(conv1.ID, 0)
			if f := c.expect(TypeError); f.Code != parley.ENOTFOUND || f.Ref != "r-"+conv1.ID {
				t.Fatalf("resume foreign: %+v", f)
			}
			c.send(Frame{Type: TypeSubscribe, Ref: "s", ConversationID: conv1.ID})
			if f := c.expect(TypeError); f.Code != parley.ENOTFOUND {
				t.Fatalf("subscribe foreign: %+v", f)
			}
			c.send(Frame{Type: TypeSend, Ref: "x", ConversationID: conv1.ID, ClientMessageID: "x", Content: "intrude"})
			if f := c.expect(TypeError); f.Code != parley.ENOTFOUND || f.Ref != "x" || f.ClientMessageID != "x" {
				t.Fatalf("send foreign: %+v", f)
			}
			c.send(Frame{Type: TypeTyping, ConversationID: conv1.ID, State: TypingStart})
			if f := c.expect(TypeError); f.Code != parley.EINVALID {
				t.Fatalf("typing unsubscribed: %+v", f)
			}
		}
		v2.send(Frame{Type: TypeSubscribe, Ref: "i", Inbox: true})
		if f := v2.expect(TypeError); f.Code != parley.EFORBIDDEN {
			t.Fatalf("visitor inbox: %+v", f)
		}
		msgs, _ := e.store.ListMessages(ctxT, conv1.ID, parley.MessageFilter{})
		if len(msgs) != 0 {
			t.Fatalf("stored %d messages", len(msgs))
		}
	})
}

func TestAuthentication(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b.open(t), Options{AuthTimeout: 300 * time.Millisecond, AllowedOrigins: []string{"https://dash.example.com"}})
		alice, _ := e.agent("alice", parley.RoleAgent)
		vp, vTok, _ := e.visitor("v", "")

		// A token in the URL is refused before any upgrade.
		resp, err := http.Get(e.hs.URL + "/ws?token=" + vTok)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Fatalf("token in URL: %d", resp.StatusCode)
		}
		// A bad bearer token is refused with 401 before the upgrade.
		if _, err := e.tryDial("pv_nonsense", nil); err == nil || !strings.Contains(err.Error(), "401") {
			t.Fatalf("bad bearer: %v", err)
		}

		// The token in the first frame.
		c, err := e.tryDial("", nil)
		if err != nil {
			t.Fatal(err)
		}
		c.send(Frame{Type: TypeAuth, Token: vTok})
		if f := c.next(); f.Type != TypeReady || f.Principal.ID != vp.ID || f.Version != Version {
			t.Fatalf("ready %+v", f)
		}
		// The token in a subprotocol.
		c, err = e.tryDial("", &websocket.DialOptions{Subprotocols: []string{tokenProtocolPrefix + vTok}})
		if err != nil {
			t.Fatal(err)
		}
		if f := c.next(); f.Type != TypeReady || f.Principal.ID != vp.ID {
			t.Fatalf("ready %+v", f)
		}
		if c.conn.Subprotocol() != Version {
			t.Fatalf("subprotocol %q", c.conn.Subprotocol())
		}
		// A wrong token in the first frame, or none in time: 4401.
		c, _ = e.tryDial("", nil)
		c.send(Frame{Type: TypeAuth, Token: "pv_wrong"})
		if code := c.closed(); code != CloseUnauthorized {
			t.Fatalf("bad auth frame: close %v", code)
		}
		c, _ = e.tryDial("", nil)
		if code := c.closed(); code != CloseUnauthorized {
			t.Fatalf("no auth frame: close %v", code)
		}

		// The session cookie counts only from an allowed origin.
		sessTok := newToken("ps_")
		now := parley.Now()
		if err := e.store.CreateSession(ctxT, &parley.Session{UserID: alice.ID, TokenHash: hashToken(sessTok),
			CSRFToken: "c", IdleExpiresAt: now.Add(time.Hour), ExpiresAt: now.Add(time.Hour)}); err != nil {
			t.Fatal(err)
		}
		cookie := httpapi.SessionCookie + "=" + sessTok
		for _, o := range []string{"https://dash.example.com", e.hs.URL} {
			c, err = e.tryDial("", &websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {cookie}, "Origin": {o}}})
			if err != nil {
				t.Fatal(err)
			}
			if f := c.next(); f.Type != TypeReady || f.Principal.ID != alice.ID {
				t.Fatalf("cookie from %s: %+v", o, f)
			}
		}
		c, err = e.tryDial("", &websocket.DialOptions{HTTPHeader: http.Header{"Cookie": {cookie}, "Origin": {"https://evil.example.net"}}})
		if err != nil {
			t.Fatal(err)
		}
		if code := c.closed(); code != CloseUnauthorized {
			t.Fatalf("cookie from a foreign origin: close %v, want 4401", code)
		}
	})
}

func TestMalformedFramesAndFloods(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b.open(t), Options{MaxFrameBytes: 4096, FrameRate: 5, FrameBurst: 20, MaxStrikes: 10})
		_, vTok, conv := e.visitor("v", "")

		v := e.dial(vTok)
		cases := []struct {
			typ  websocket.MessageType
			body string
		}{
			{websocket.MessageText, "not json"},
			{websocket.MessageText, "[1,2]"},
			{websocket.MessageText, `{"noType":1}`},
			{websocket.MessageText, `{"type":"teleport"}`},
			{websocket.MessageBinary, `{"type":"ping"}`},
			{websocket.MessageText, `{"type":"resume","conversationId":"` + conv.ID + `"}`},
			{websocket.MessageText, `{"type":"send","conversationId":"` + conv.ID + `","clientMessageId":"a","content":""}`},
			{websocket.MessageText, `{"type":"send","conversationId":"nope","content":"x"}`},
			{websocket.MessageText, `{"type":"typing","conversationId":"` + conv.ID + `","state":"dancing"}`},
		}
		for _, c := range cases {
			v.raw(c.typ, []byte(c.body))
			f := v.expect(TypeError)
			if f.Code != parley.EINVALID && f.Code != parley.ENOTFOUND {
				t.Fatalf("%s: %+v", c.body, f)
			}
		}
		v.send(Frame{Type: TypePing, Ref: "alive"})
		if f := v.expect(TypePong); f.Ref != "alive" {
			t.Fatalf("pong %+v", f)
		}

		// An oversized frame closes with 1009.
		big := e.dial(vTok)
		big.raw(websocket.MessageText, []byte(`{"type":"send","content":"`+strings.Repeat("x", 5000)+`"}`))
		if code := big.closed(); code != websocket.StatusMessageTooBig {
			t.Fatalf("oversized: close %v", code)
		}

		// A flood is answered with rate_limited, then closed with 1008.
		flood := e.dial(vTok)
		for i := 0; i < 200; i++ {
			b, _ := jsonFrame(Frame{Type: TypePing})
			if err := flood.conn.Write(ctxT, websocket.MessageText, b); err != nil {
				break
			}
		}
		if code := flood.closed(); code != websocket.StatusPolicyViolation {
			t.Fatalf("flood: close %v, want 1008", code)
		}
		limited := false
		for len(flood.frames) > 0 {
			if f := <-flood.frames; f.Type == TypeError && f.Code == parley.ERATELIMITED {
				limited = true
			}
		}
		if !limited {
			t.Fatal("flood got no rate_limited error")
		}

		// The first socket survived all of it.
		v.send(Frame{Type: TypeSend, ConversationID: conv.ID, ClientMessageID: "ok", Content: "still here"})
		if f := v.expect(TypeAck); f.Seq != 1 {
			t.Fatalf("ack %+v", f)
		}
	})
}

func TestShutdownAcksInFlightThenCloses1001(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b.open(t), Options{})
		_, vTok, conv := e.visitor("v", "")
		v := e.dial(vTok)

		gate := make(chan struct{})
		e.svc.mu.Lock()
		e.svc.gate, e.svc.entered = gate, make(chan struct{}, 1)
		e.svc.mu.Unlock()
		v.send(Frame{Type: TypeSend, ConversationID: conv.ID, ClientMessageID: "inflight", Content: "last words"})
		<-e.svc.entered

		done := make(chan error, 1)
		go func() {
			ctx, cancel := context.WithTimeout(ctxT, 30*time.Second)
			defer cancel()
			done <- e.srv.Shutdown(ctx)
		}()
		// New sockets are refused while draining.
		for !e.srv.draining.Load() {
			time.Sleep(time.Millisecond)
		}
		if _, err := e.tryDial(vTok, nil); err == nil {
			t.Fatal("a socket opened during shutdown")
		}
		close(gate)
		if f := v.expect(TypeAck); f.ClientMessageID != "inflight" || f.Seq != 1 {
			t.Fatalf("ack %+v", f)
		}
		if code := v.closed(); code != websocket.StatusGoingAway {
			t.Fatalf("close %v, want 1001", code)
		}
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	})
}

// TestSlowConsumerIsDroppedWithoutStallingOthers: a socket that stops
// reading is closed once its queue overflows, while the others in the
// conversation get everything; an agent's socket is held to the agents'
// bound, a visitor's to the visitors'.
func TestSlowConsumerIsDroppedWithoutStallingOthers(t *testing.T) {
	for _, tc := range []struct {
		name    string
		opts    Options
		visitor bool // the slow socket is the visitor's, not a second of the agent's
		dropped bool
	}{
		{"an agent past the agents' bound", Options{QueueSize: 100000, AgentQueueSize: 16}, false, true},
		{"an agent within the agents' bound", Options{QueueSize: 16, AgentQueueSize: 100000}, false, false},
		{"a visitor past the visitors' bound", Options{QueueSize: 16, AgentQueueSize: 100000}, true, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			forEachBackend(t, func(t *testing.T, b backend) {
				e := newEnv(t, b.open(t), tc.opts)
				alice, aliceTok := e.agent("alice", parley.RoleAgent)
				vp, vTok, conv := e.visitor("v", alice.ID)

				fast := e.dial(aliceTok)
				slowTok := aliceTok
				if tc.visitor {
					slowTok = vTok
				}
				slow := e.dial(slowTok)
				for _, c := range []*wsClient{fast, slow} {
					c.resume(conv.ID, 0)
					c.expect(TypeResumed)
				}
				// The slow client stops reading; frames pile up in the
				// kernel's buffers, then in its queue.
				pause := make(chan struct{})
				slow.pause(pause)

				const total = 600
				content := strings.Repeat("z", 9000)
				// The agent sends (or, for the visitor's case, the visitor
				// does, the agent's socket being the fast one), waiting for
				// the fast client every few messages, well within its queue,
				// so only the slow one can fall behind, however busy the
				// machine is.
				sender := vp
				if tc.visitor {
					sender = alice
				}
				const window = 8
				var got []Frame
				for i := 0; i < total; i++ {
					if _, _, err := e.svc.Send(ctxT, sender, SendInput{ConversationID: conv.ID, ClientMessageID: fmt.Sprint(i), Content: content}); err != nil {
						t.Fatal(err)
					}
					if (i+1)%window == 0 || i == total-1 {
						got = append(got, fast.messages(conv.ID, i+1-len(got))...)
					}
				}
				checkSeqs(t, "fast agent", got, 1)

				close(pause)
				if !tc.dropped {
					checkSeqs(t, "slow agent", slow.messages(conv.ID, total), 1)
					return
				}
				code := slow.closed()
				n := 0
				for len(slow.frames) > 0 {
					if f := <-slow.frames; f.Type == TypeMessage {
						n++
					}
				}
				if n >= total {
					t.Fatalf("slow client got all %d messages", n)
				}
				// The close frame may be lost with the buffers the server gave up on.
				if code != websocket.StatusTryAgainLater && code != -1 {
					t.Fatalf("slow client closed with %v", code)
				}
			})
		})
	}
}

func jsonFrame(f Frame) ([]byte, error) { return encode(&f), nil }

// Concurrent senders publish after their commits in any order; every
// subscriber still gets each message once, in seq order.
func TestConcurrentSendersDeliverInOrder(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b.open(t), Options{})
		alice, aliceTok := e.agent("alice", parley.RoleAgent)
		lead, _ := e.agent("lead", parley.RoleTeamLead)
		vp, vTok, conv := e.visitor("v", alice.ID)
		a, v := e.dial(aliceTok), e.dial(vTok)
		for _, c := range []*wsClient{a, v} {
			c.resume(conv.ID, 0)
			c.expect(TypeResumed)
		}
		// The lead writes notes (replying is the assignee's), alice
		// replies and writes notes, the visitor writes.
		const each = 60
		var wg sync.WaitGroup
		for i, p := range []Principal{vp, alice, lead} {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for j := 0; j < each; j++ {
					note := p.ID == lead.ID || (p.ID == alice.ID && j%2 == 0)
					if _, _, err := e.svc.Send(ctxT, p, SendInput{ConversationID: conv.ID, ClientMessageID: fmt.Sprint(i, "-", j), Content: "x", Note: note}); err != nil {
						t.Error(err)
						return
					}
				}
			}()
		}
		wg.Wait()
		checkSeqs(t, "agent", a.messages(conv.ID, 3*each), 1)
		// The visitor sees everything but the notes, in seq order.
		got := v.messages(conv.ID, 3*each-each-each/2)
		for i := 1; i < len(got); i++ {
			if got[i].Seq <= got[i-1].Seq || got[i].Kind == "note" {
				t.Fatalf("visitor frame %d: %+v after seq %d", i, got[i], got[i-1].Seq)
			}
		}
	})
}
