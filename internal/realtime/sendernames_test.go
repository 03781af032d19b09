package realtime

import (
	"net/http"
	"testing"

	"github.com/parleychat/parley"
)

// Agents' messages name their author, live and on resume, over the socket
// and REST, as the account is named now; customers' and system messages
// carry no name.
func TestMessagesCarrySenderName(t *testing.T) {
	forEachBackend(t, func(t *testing.T, b backend) {
		e := newEnv(t, b.open(t), Options{})
		alice, aliceTok := e.agent("alice", parley.RoleAgent)
		bob, bobTok := e.agent("bob", parley.RoleTeamLead)
		_, vTok, conv := e.visitor("Vera", alice.ID)
		a, v := e.dial(aliceTok), e.dial(vTok)
		for _, c := range []*wsClient{a, v} {
			c.resume(conv.ID, 0)
			c.expect(TypeResumed)
		}

		v.send(Frame{Type: TypeSend, ConversationID: conv.ID, ClientMessageID: "c1", Content: "hello"})
		live := v.messages(conv.ID, 1)
		a.send(Frame{Type: TypeSend, ConversationID: conv.ID, ClientMessageID: "a1", Content: "hi, I'm Alice"})
		live = append(live, v.messages(conv.ID, 1)...)
		if live[0].SenderName != "" || live[1].SenderName != "alice" {
			t.Fatalf("live frames name %q and %q, want \"\" and alice", live[0].SenderName, live[1].SenderName)
		}
		// Over REST, a note and a transfer's system line.
		path := "/api/conversations/" + conv.ID
		e.call(rest{bearer: bobTok}, "POST", path+"/messages", map[string]string{"content": "note from Bob", "kind": "note"}, nil, http.StatusCreated)
		if m := a.messages(conv.ID, 3)[2]; m.SenderName != "bob" || m.Kind != "note" {
			t.Fatalf("the note's frame: %+v", m)
		}
		e.call(rest{bearer: bobTok}, "POST", path+"/transfer", map[string]any{"toAgentId": bob.ID, "force": true}, nil, http.StatusOK)
		if m := v.messages(conv.ID, 1)[0]; m.SenderType != "system" || m.SenderName != "" {
			t.Fatalf("the transfer's line: %+v", m)
		}
		e.call(rest{bearer: bobTok}, "POST", path+"/messages", map[string]string{"content": "Bob here"}, nil, http.StatusCreated)

		// Alice is renamed: what is read now carries her new name.
		if _, err := e.store.UpdateUser(ctxT, alice.ID, parley.UserUpdate{Name: ptrTo("Alice M.")}); err != nil {
			t.Fatal(err)
		}
		want := map[int64]string{1: "", 2: "Alice M.", 4: "", 5: "bob"}
		v2 := e.dial(vTok)
		v2.resume(conv.ID, 0)
		for _, m := range v2.messages(conv.ID, 4) {
			if name, ok := want[m.Seq]; !ok || m.SenderName != name {
				t.Errorf("resumed seq %d (%s) names %q, want %q", m.Seq, m.SenderType, m.SenderName, want[m.Seq])
			}
		}
		var page struct {
			Messages []struct {
				Seq        int64  `json:"seq"`
				SenderName string `json:"senderName"`
			} `json:"messages"`
		}
		e.call(rest{bearer: bobTok}, "GET", path+"/messages", nil, &page, http.StatusOK)
		want[3] = "bob"
		if len(page.Messages) != 5 {
			t.Fatalf("REST page has %d messages, want 5", len(page.Messages))
		}
		for _, m := range page.Messages {
			if m.SenderName != want[m.Seq] {
				t.Errorf("REST seq %d names %q, want %q", m.Seq, m.SenderName, want[m.Seq])
			}
		}

		// A deleted account's messages keep no name.
		if err := e.store.DeleteUser(ctxT, alice.ID); err != nil {
			t.Fatal(err)
		}
		page.Messages = nil
		e.call(rest{bearer: vTok}, "GET", path+"/messages", nil, &page, http.StatusOK)
		if page.Messages[1].Seq != 2 || page.Messages[1].SenderName != "" {
			t.Errorf("a deleted agent's message: %+v", page.Messages[1])
		}
	})
}

func ptrTo[T any](v T) *T { return &v }
