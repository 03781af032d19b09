package httpapi_test

import (
	"bytes"
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/desk"
)

// setUser changes a user in the store (availability, max chats) as an
// admin's earlier change would have.
func (e *env) setUser(key string, up parley.UserUpdate) *parley.User {
	e.t.Helper()
	u, err := e.store.UpdateUser(context.Background(), e.users[key].ID, up)
	if err != nil {
		e.t.Fatal(err)
	}
	e.users[key] = u
	return u
}

type convJSON struct {
	ID         string  `json:"id"`
	Status     string  `json:"status"`
	AssigneeID *string `json:"assigneeId"`
}

func (c convJSON) assignee() string {
	if c.AssigneeID == nil {
		return ""
	}
	return *c.AssigneeID
}

func TestConcurrentClaims(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		keys := []string{"agent_assigned", "agent_unassigned", "agent_c", "senior_agent", "team_lead"}
		creds := map[string]cred{}
		for _, k := range keys {
			creds[k] = e.session(e.users[k])
		}
		for round := range 4 {
			cust, _ := e.visitor()
			c := e.conversation(cust, parley.StatusWaiting, "")
			var wg sync.WaitGroup
			results := make([]resp, len(keys))
			start := make(chan struct{})
			for i, k := range keys {
				wg.Go(func() {
					<-start
					results[i] = e.do("POST", "/api/conversations/"+c.ID+"/claim", creds[k], nil)
				})
			}
			close(start)
			wg.Wait()
			won := ""
			for i, r := range results {
				switch {
				case r.status == 200:
					if won != "" {
						t.Fatalf("round %d: %s and %s both won the claim", round, won, keys[i])
					}
					won = keys[i]
				case r.status == 409 && r.code() == "conflict":
				case r.status == 404 && e.users[keys[i]].Role == parley.RoleAgent:
					// A plain agent whose request came after the winner's
					// commit no longer sees the conversation: as for any
					// conversation out of their sight, 404.
				default:
					t.Errorf("round %d: %s: %d %s, want 200 or 409", round, keys[i], r.status, r.body)
				}
			}
			if won == "" {
				t.Fatalf("round %d: nobody won the claim", round)
			}
			stored, err := e.store.GetConversation(context.Background(), c.ID)
			if err != nil || stored.AssigneeID != e.users[won].ID || stored.Status != parley.StatusActive {
				t.Errorf("round %d: stored %+v %v, want it active and %s's", round, stored, err, won)
			}
		}
		// A full agent cannot claim.
		full := e.session(e.setUser("admin", parley.UserUpdate{MaxChats: ptr(1)}))
		cust, _ := e.visitor()
		c1 := e.conversation(cust, parley.StatusWaiting, "")
		want(t, e.do("POST", "/api/conversations/"+c1.ID+"/claim", full, nil), 200, "first claim")
		cust2, _ := e.visitor()
		c2 := e.conversation(cust2, parley.StatusWaiting, "")
		r := e.do("POST", "/api/conversations/"+c2.ID+"/claim", full, nil)
		if r.status != 409 || !strings.Contains(string(r.body), "maximum") {
			t.Errorf("claim over max chats: %d %s", r.status, r.body)
		}
	})
}

func TestAutoAssignment(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{desk: desk.Options{AutoAssign: true, RequeueOnOffline: true}})
		ctx := context.Background()
		a := e.setUser("agent_assigned", parley.UserUpdate{Availability: ptr(parley.Online), MaxChats: ptr(2)})
		b := e.setUser("agent_unassigned", parley.UserUpdate{Availability: ptr(parley.Online), MaxChats: ptr(2)})
		admin := e.session(e.users["admin"])

		// Visitors start conversations at once: every one is assigned at
		// most once, nobody gets more than their maximum.
		const n = 12
		ids := make([]string, n)
		var wg sync.WaitGroup
		for i := range n {
			_, vis := e.visitor()
			wg.Go(func() {
				r := e.do("POST", "/api/conversations", vis, nil)
				if r.status != 201 {
					t.Errorf("start: %d %s", r.status, r.body)
					return
				}
				var c convJSON
				r.json(t, &c)
				ids[i] = c.ID
			})
		}
		wg.Wait()
		count := func() (per map[string]int, waiting []string) {
			per = map[string]int{}
			for _, id := range ids {
				var c convJSON
				e.do("GET", "/api/conversations/"+id, admin, nil).json(t, &c)
				if c.assignee() != "" && c.Status == "active" {
					per[c.assignee()]++
				} else if c.Status == "waiting" {
					waiting = append(waiting, id)
				}
			}
			return per, waiting
		}
		per, waiting := count()
		if per[a.ID] != 2 || per[b.ID] != 2 || len(waiting) != n-4 {
			t.Fatalf("after %d starts: %v assigned, %d waiting; want 2 each and %d waiting", n, per, len(waiting), n-4)
		}
		stored, _ := e.store.WaitingConversations(ctx, parley.MaxPageSize)
		if len(stored) != n-4 {
			t.Fatalf("the queue holds %d, want %d", len(stored), n-4)
		}
		oldest := stored[0]

		// A closes one: the longest waiting conversation goes to A.
		ca := e.session(a)
		p, err := e.store.ListConversations(ctx, parley.InboxFilter{AssigneeID: a.ID, Statuses: []parley.Status{parley.StatusActive}})
		if err != nil || len(p.Entries) != 2 {
			t.Fatalf("A's conversations: %v %v", p, err)
		}
		want(t, e.do("PATCH", "/api/conversations/"+p.Entries[0].Conversation.ID, ca, map[string]string{"status": "closed"}), 200, "close")
		var got convJSON
		e.do("GET", "/api/conversations/"+oldest, admin, nil).json(t, &got)
		if got.assignee() != a.ID {
			t.Errorf("after A closed one, the oldest waiting went to %q, want A", got.assignee())
		}

		// A goes offline: their chats return to the queue; B is full, so
		// they wait. C comes online with room for 3 and gets the 3 longest
		// waiting.
		want(t, e.do("PATCH", "/api/auth/me", ca, map[string]string{"availability": "offline"}), 200, "offline")
		per, waiting = count()
		if per[a.ID] != 0 || per[b.ID] != 2 || len(waiting) != n-3 {
			t.Fatalf("after A went offline: %v, %d waiting; want A none, B 2, %d waiting", per, len(waiting), n-3)
		}
		queue, _ := e.store.WaitingConversations(ctx, 3)
		c := e.setUser("agent_c", parley.UserUpdate{MaxChats: ptr(3)})
		want(t, e.do("PATCH", "/api/auth/me", e.session(c), map[string]string{"availability": "online"}), 200, "online")
		for _, id := range queue {
			e.do("GET", "/api/conversations/"+id, admin, nil).json(t, &got)
			if got.assignee() != c.ID {
				t.Errorf("after C came online, %s went to %q, want C", id, got.assignee())
			}
		}
		per, _ = count()
		if per[c.ID] != 3 {
			t.Errorf("C has %d, want 3", per[c.ID])
		}
	})
}

func TestAutoAssignmentOff(t *testing.T) {
	e := newEnv(t, openSQLite, envOptions{})
	e.setUser("agent_assigned", parley.UserUpdate{Availability: ptr(parley.Online)})
	_, vis := e.visitor()
	var c convJSON
	r := e.do("POST", "/api/conversations", vis, nil)
	want(t, r, 201, "start")
	r.json(t, &c)
	if c.Status != "waiting" || c.assignee() != "" {
		t.Errorf("with auto-assignment off, a new conversation is %s and %q's", c.Status, c.assignee())
	}
}

func TestTransferRulesAndHistory(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		fx := e.fixture()
		agent := e.session(e.users["agent_assigned"])
		lead := e.session(e.users["team_lead"])
		path := "/api/conversations/" + fx.convA.ID + "/transfer"
		to := e.users["agent_unassigned"]

		r := e.do("POST", path, agent, map[string]any{"toAgentId": to.ID, "reason": "billing"})
		if r.status != 409 || r.code() != "conflict" || !strings.Contains(string(r.body), "offline") {
			t.Errorf("transfer to an offline agent: %d %s", r.status, r.body)
		}
		want(t, e.do("POST", path, agent, map[string]any{"toAgentId": to.ID, "force": true}), 403, "force by an agent")
		want(t, e.do("POST", path, e.session(e.users["senior_agent"]), map[string]any{"toAgentId": to.ID, "force": true}), 403, "force by a senior agent")
		e.setUser("agent_unassigned", parley.UserUpdate{Availability: ptr(parley.Online), MaxChats: ptr(1)})
		other, _ := e.visitor()
		e.conversation(other, parley.StatusActive, to.ID) // now full
		r = e.do("POST", path, agent, map[string]any{"toAgentId": to.ID})
		if r.status != 409 || !strings.Contains(string(r.body), "maximum") {
			t.Errorf("transfer to a full agent: %d %s", r.status, r.body)
		}
		// A team lead forces it; then the agent hands it on to an online one.
		r = e.do("POST", path, lead, map[string]any{"toAgentId": to.ID, "reason": "VIP", "force": true})
		want(t, r, 200, "forced transfer")
		var c convJSON
		r.json(t, &c)
		if c.assignee() != to.ID {
			t.Fatalf("after the transfer: %+v", c)
		}
		e.setUser("agent_c", parley.UserUpdate{Availability: ptr(parley.Online)})
		want(t, e.do("POST", path, e.session(to), map[string]any{"toAgentId": e.users["agent_c"].ID, "reason": "shift ends"}), 200, "second transfer")

		// The history, with names; the visitor's timeline says who they talk to.
		hist := "/api/conversations/" + fx.convA.ID + "/transfers"
		want(t, e.do("GET", hist, fx.visA, nil), 403, "visitor reads transfers")
		var h struct {
			Transfers []struct {
				From   *struct{ ID, Name string } `json:"fromAgent"`
				To     *struct{ ID, Name string } `json:"toAgent"`
				By     *struct{ ID, Name string } `json:"by"`
				Reason string
			} `json:"transfers"`
		}
		r = e.do("GET", hist, agent, nil)
		want(t, r, 404, "the first agent no longer sees it")
		r = e.do("GET", hist, e.session(e.users["senior_agent"]), nil)
		want(t, r, 200, "history")
		r.json(t, &h)
		if len(h.Transfers) != 2 {
			t.Fatalf("history %s", r.body)
		}
		t0, t1 := h.Transfers[0], h.Transfers[1]
		if t0.From.Name != "agent_assigned" || t0.To.Name != "agent_unassigned" || t0.By.Name != "team_lead" || t0.Reason != "VIP" ||
			t1.From.Name != "agent_unassigned" || t1.To.Name != "agent_c" || t1.By.Name != "agent_unassigned" || t1.Reason != "shift ends" {
			t.Errorf("history %s", r.body)
		}
		var ms struct {
			Messages []struct{ Kind, Content string } `json:"messages"`
		}
		e.do("GET", "/api/conversations/"+fx.convA.ID+"/messages", fx.visA, nil).json(t, &ms)
		var lines []string
		for _, m := range ms.Messages {
			if m.Kind == "system" {
				lines = append(lines, m.Content)
			}
		}
		if strings.Join(lines, "|") != "You are now talking to agent_unassigned.|You are now talking to agent_c." {
			t.Errorf("the visitor's system lines: %q", lines)
		}
		if bytes.Contains(e.do("GET", "/api/conversations/"+fx.convA.ID+"/messages", fx.visA, nil).body, []byte("VIP")) {
			t.Error("the visitor sees a transfer reason")
		}
	})
}

func TestQuickReplies(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		fx := e.fixture()
		ctx := context.Background()
		if _, err := e.store.UpdateCustomer(ctx, fx.custA.ID, parley.CustomerUpdate{Name: ptr("Ada {{agent.name}}"), Email: ptr("ada@example.com")}); err != nil {
			t.Fatal(err)
		}
		agent := e.session(e.users["agent_assigned"])
		lead := e.session(e.users["team_lead"])
		other := e.session(e.users["agent_unassigned"])
		var mine, shared struct {
			ID     string `json:"id"`
			Shared bool   `json:"shared"`
		}
		r := e.do("POST", "/api/quick-replies", agent, map[string]any{"shortcut": "hello",
			"text": "Hi {{customer.name}} ({{ customer.email }}), {{agent.name}} here on {{conversation.id}}. {{order.id}} {{unclosed"})
		want(t, r, 201, "personal reply")
		r.json(t, &mine)
		want(t, e.do("POST", "/api/quick-replies", agent, map[string]any{"shortcut": "hello", "text": "again"}), 409, "same shortcut")
		want(t, e.do("POST", "/api/quick-replies", agent, map[string]any{"shortcut": "two words", "text": "x"}), 400, "shortcut with a space")
		want(t, e.do("POST", "/api/quick-replies", agent, map[string]any{"shortcut": "team", "text": "x", "shared": true}), 403, "shared by an agent")
		r = e.do("POST", "/api/quick-replies", lead, map[string]any{"shortcut": "hello", "text": "Welcome, {{customer.name}}!", "shared": true})
		want(t, r, 201, "shared reply")
		r.json(t, &shared)
		if !shared.Shared || mine.Shared {
			t.Errorf("shared flags: %v %v", shared.Shared, mine.Shared)
		}
		var list struct {
			QuickReplies []struct{ ID string } `json:"quickReplies"`
		}
		e.do("GET", "/api/quick-replies", agent, nil).json(t, &list)
		if len(list.QuickReplies) != 2 {
			t.Errorf("agent lists %d replies, want theirs and the shared one", len(list.QuickReplies))
		}
		e.do("GET", "/api/quick-replies", other, nil).json(t, &list)
		if len(list.QuickReplies) != 1 || list.QuickReplies[0].ID != shared.ID {
			t.Errorf("another agent lists %+v, want the shared one only", list.QuickReplies)
		}

		// Expansion: known variables filled once, values never expanded,
		// unknown ones and stray braces left as written.
		var x struct{ Text string }
		r = e.do("POST", "/api/quick-replies/"+mine.ID+"/expand", agent, map[string]string{"conversationId": fx.convA.ID})
		want(t, r, 200, "expand")
		r.json(t, &x)
		wantText := fmt.Sprintf("Hi Ada {{agent.name}} (ada@example.com), agent_assigned here on %s. {{order.id}} {{unclosed", fx.convA.ID)
		if x.Text != wantText {
			t.Errorf("expanded %q\n want %q", x.Text, wantText)
		}
		want(t, e.do("POST", "/api/quick-replies/"+mine.ID+"/expand", other, map[string]string{"conversationId": fx.convA.ID}), 404, "another's reply")
		want(t, e.do("POST", "/api/quick-replies/"+shared.ID+"/expand", other, map[string]string{"conversationId": fx.convA.ID}), 404, "a conversation not seen")

		// Changes: own by the owner; shared by leads only.
		want(t, e.do("PATCH", "/api/quick-replies/"+mine.ID, agent, map[string]string{"text": "Hello!"}), 200, "own change")
		want(t, e.do("PATCH", "/api/quick-replies/"+mine.ID, other, map[string]string{"text": "Mine now"}), 404, "another's change")
		want(t, e.do("PATCH", "/api/quick-replies/"+shared.ID, agent, map[string]string{"text": "x"}), 403, "agent changes a shared reply")
		want(t, e.do("PATCH", "/api/quick-replies/"+shared.ID, lead, map[string]string{"shortcut": "welcome"}), 200, "lead changes a shared reply")
		want(t, e.do("PATCH", "/api/quick-replies/"+shared.ID, lead, map[string]string{"shortcut": "bad shortcut"}), 400, "bad shortcut")
		want(t, e.do("DELETE", "/api/quick-replies/"+shared.ID, agent, nil), 403, "agent deletes a shared reply")
		want(t, e.do("DELETE", "/api/quick-replies/"+mine.ID, agent, nil), 204, "own delete")
		want(t, e.do("DELETE", "/api/quick-replies/"+mine.ID, agent, nil), 404, "deleted")
	})
}

func TestSOPDocuments(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		fx := e.fixture()
		agent := e.session(e.users["agent_assigned"])
		lead := e.session(e.users["team_lead"])
		admin := e.session(e.users["admin"])
		var d struct {
			ID      string   `json:"id"`
			Version int      `json:"version"`
			Body    *string  `json:"body"`
			Tags    []string `json:"tags"`
		}
		want(t, e.do("POST", "/api/sops", agent, map[string]any{"title": "x"}), 403, "agent writes")
		want(t, e.do("POST", "/api/sops", lead, map[string]any{"title": "  "}), 400, "blank title")
		r := e.do("POST", "/api/sops", lead, map[string]any{"title": "Refunds", "body": "# Refunds\n<script>alert(1)</script>",
			"tags": []string{"billing", " billing ", ""}})
		want(t, r, 201, "create")
		r.json(t, &d)
		if d.Version != 1 || len(d.Tags) != 1 {
			t.Errorf("created %s", r.body)
		}
		id := d.ID
		want(t, e.do("PATCH", "/api/sops/"+id, lead, map[string]any{"body": "v2"}), 400, "no expectVersion")
		want(t, e.do("PATCH", "/api/sops/"+id, agent, map[string]any{"body": "v2", "expectVersion": 1}), 403, "agent edits")
		want(t, e.do("PATCH", "/api/sops/"+id, lead, map[string]any{"body": "v2", "expectVersion": 1}), 200, "edit")
		r = e.do("PATCH", "/api/sops/"+id, admin, map[string]any{"body": "lost", "expectVersion": 1})
		if r.status != 409 || !strings.Contains(string(r.body), "version 2") {
			t.Errorf("stale edit: %d %s", r.status, r.body)
		}
		want(t, e.do("PATCH", "/api/sops/"+id, admin, map[string]any{"title": "Refunds and returns", "expectVersion": 2}), 200, "admin edit")
		var vs struct {
			Versions []struct {
				Version   int
				Title     string
				Body      string
				ChangedBy string
			} `json:"versions"`
		}
		r = e.do("GET", "/api/sops/"+id+"/versions", agent, nil)
		want(t, r, 200, "versions")
		r.json(t, &vs)
		if len(vs.Versions) != 3 || vs.Versions[0].ChangedBy != e.users["admin"].ID || vs.Versions[1].Body != "v2" ||
			vs.Versions[2].ChangedBy != e.users["team_lead"].ID || !strings.Contains(vs.Versions[2].Body, "<script>") {
			t.Errorf("versions %s", r.body)
		}
		// Search: by title, body or tag; lists leave bodies out.
		for q, n := range map[string]int{"?q=RETURNS": 1, "?q=v2": 1, "?tag=billing": 1, "?tag=bill": 0, "?q=nothing": 0, "": 1} {
			var l struct {
				SOPs []struct {
					ID   string
					Body *string
				} `json:"sops"`
			}
			r := e.do("GET", "/api/sops"+q, agent, nil)
			want(t, r, 200, "search "+q)
			r.json(t, &l)
			if len(l.SOPs) != n || n == 1 && l.SOPs[0].Body != nil {
				t.Errorf("search %q: %s", q, r.body)
			}
		}
		want(t, e.do("GET", "/api/sops?q="+strings.Repeat("x", 201), agent, nil), 400, "long search")
		want(t, e.do("GET", "/api/sops?limit=0", agent, nil), 400, "bad limit")
		want(t, e.do("GET", "/api/sops/"+parley.NewID(), agent, nil), 404, "missing document")

		// Pins on a conversation the agent sees.
		pin := "/api/conversations/" + fx.convA.ID + "/sops/" + id
		want(t, e.do("PUT", pin, agent, nil), 204, "pin")
		want(t, e.do("PUT", pin, agent, nil), 204, "pin again")
		want(t, e.do("PUT", "/api/conversations/"+fx.convA.ID+"/sops/"+parley.NewID(), agent, nil), 404, "pin a missing document")
		want(t, e.do("PUT", "/api/conversations/"+fx.convB.ID+"/sops/"+id, agent, nil), 404, "pin on a conversation not seen")
		var pins struct {
			SOPs []struct {
				SOP      struct{ ID string } `json:"sop"`
				PinnedBy string              `json:"pinnedBy"`
			} `json:"sops"`
		}
		r = e.do("GET", "/api/conversations/"+fx.convA.ID+"/sops", agent, nil)
		r.json(t, &pins)
		if len(pins.SOPs) != 1 || pins.SOPs[0].SOP.ID != id || pins.SOPs[0].PinnedBy != e.users["agent_assigned"].ID {
			t.Errorf("pins %s", r.body)
		}
		want(t, e.do("GET", "/api/conversations/"+fx.convA.ID+"/sops", fx.visA, nil), 403, "visitor reads pins")
		want(t, e.do("DELETE", pin, agent, nil), 204, "unpin")
		want(t, e.do("DELETE", pin, agent, nil), 404, "unpin again")
		want(t, e.do("DELETE", "/api/sops/"+id, agent, nil), 403, "agent deletes")
		want(t, e.do("DELETE", "/api/sops/"+id, lead, nil), 204, "delete")
		want(t, e.do("GET", "/api/sops/"+id+"/versions", agent, nil), 404, "versions of a deleted document")
	})
}

func TestRatings(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		fx := e.fixture()
		agent := e.session(e.users["agent_assigned"])
		path := "/api/conversations/" + fx.convA.ID + "/rating"
		r := e.do("POST", path, fx.visA, map[string]any{"score": 5})
		if r.status != 409 || !strings.Contains(string(r.body), "closed") {
			t.Errorf("rating an open conversation: %d %s", r.status, r.body)
		}
		// Closing reaches the visitor as the conversation's status; then
		// they rate once.
		want(t, e.do("PATCH", "/api/conversations/"+fx.convA.ID, agent, map[string]string{"status": "closed"}), 200, "close")
		for _, bad := range []map[string]any{{"score": 0}, {"score": 6}, {}, {"score": "5"}, {"score": 3, "comment": strings.Repeat("x", 2001)}} {
			want(t, e.do("POST", path, fx.visA, bad), 400, fmt.Sprintf("rating %v", bad))
		}
		want(t, e.do("POST", path, agent, map[string]any{"score": 1}), 403, "agent rates")
		want(t, e.do("POST", path, fx.visB, map[string]any{"score": 1}), 404, "another visitor rates")
		want(t, e.do("POST", path, fx.visA, map[string]any{"score": 4, "comment": "  Helpful, thanks  "}), 201, "rate")
		r = e.do("POST", path, fx.visA, map[string]any{"score": 1})
		if r.status != 409 || r.code() != "conflict" {
			t.Errorf("second rating: %d %s", r.status, r.body)
		}
		var got struct {
			Rating *struct {
				Score   int
				Comment string
			} `json:"rating"`
		}
		r = e.do("GET", path, agent, nil)
		want(t, r, 200, "agent reads the rating")
		r.json(t, &got)
		if got.Rating == nil || got.Rating.Score != 4 || got.Rating.Comment != "Helpful, thanks" {
			t.Errorf("rating %s", r.body)
		}
		r = e.do("GET", "/api/conversations/"+fx.convB.ID+"/rating", e.session(e.users["senior_agent"]), nil)
		want(t, r, 200, "no rating")
		if !bytes.Contains(r.body, []byte(`"rating":null`)) {
			t.Errorf("unrated: %s", r.body)
		}
	})
}

func TestReportSummary(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		lead := e.session(e.users["team_lead"])
		fx := e.fixture()
		agent := e.session(e.users["agent_assigned"])
		want(t, e.do("POST", "/api/conversations/"+fx.convA.ID+"/messages", agent, map[string]string{"content": "Hello!"}), 201, "reply")
		want(t, e.do("PATCH", "/api/conversations/"+fx.convA.ID, agent, map[string]string{"status": "closed"}), 200, "close")
		want(t, e.do("POST", "/api/conversations/"+fx.convA.ID+"/rating", fx.visA, map[string]any{"score": 5}), 201, "rate")
		now := parley.Now()
		from := now.Add(-2 * 3600e9).Format("2006-01-02T15:04:05Z")
		to := now.Add(3600e9).Format("2006-01-02T15:04:05Z")
		var rep struct {
			Bucket  string
			Overall struct {
				Started, Closed int
				FirstResponse   struct{ Count int }
				Resolution      struct {
					Count         int
					MedianSeconds float64
				}
				Satisfaction struct {
					Count        int
					Average      float64
					Distribution []int
				}
			}
			Agents []struct {
				AgentID string
				Name    string
				Closed  int
			}
			Queue []struct{ Waiting int }
		}
		r := e.do("GET", "/api/reports/summary?from="+from+"&to="+to, lead, nil)
		want(t, r, 200, "report")
		r.json(t, &rep)
		o := rep.Overall
		if rep.Bucket != "hour" || o.Started != 2 || o.Closed != 1 || o.FirstResponse.Count != 1 || o.Resolution.Count != 1 ||
			o.Satisfaction.Count != 1 || o.Satisfaction.Average != 5 || len(o.Satisfaction.Distribution) != 5 || len(rep.Queue) != 3 {
			t.Errorf("report %s", r.body)
		}
		found := false
		for _, a := range rep.Agents {
			if a.AgentID == e.users["agent_assigned"].ID {
				found = a.Name == "agent_assigned" && a.Closed == 1
			}
		}
		if !found {
			t.Errorf("agent missing from %s", r.body)
		}
		r = e.do("GET", "/api/reports/summary?from="+from+"&to="+to+"&bucket=day", lead, nil)
		want(t, r, 200, "daily")
		for _, q := range []string{
			"", "?from=" + from, "?to=" + to, "?from=yesterday&to=" + to, "?from=" + to + "&to=" + from,
			"?from=2024-01-01T00:00:00Z&to=2025-01-02T00:00:00Z", "?from=" + from + "&to=" + to + "&bucket=minute",
			"?from=" + from + "&to=" + to + "&agent=me",
		} {
			r := e.do("GET", "/api/reports/summary"+q, lead, nil)
			if r.status != 400 || r.code() != "invalid" {
				t.Errorf("GET /api/reports/summary%s: %d %s, want 400", q, r.status, r.body)
			}
		}
		want(t, e.do("GET", "/api/reports/summary?from=2024-01-01T00:00:00Z&to=2025-01-01T00:00:00Z", lead, nil), 200, "366 days")
		want(t, e.do("GET", "/api/reports/summary?from="+from+"&to="+to, e.session(e.users["senior_agent"]), nil), 403, "senior agent")
	})
}

// notesStore is a real store that forgets to leave notes out: the desk
// must still keep them from visitors.
type notesStore struct{ parley.Store }

func (s notesStore) ListMessages(ctx context.Context, id string, f parley.MessageFilter) ([]*parley.Message, error) {
	f.ExcludeNotes = false
	return s.Store.ListMessages(ctx, id, f)
}

func TestNotesNeverReachVisitors(t *testing.T) {
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, func(tb testing.TB) parley.Store { return notesStore{open(tb)} }, envOptions{})
		fx := e.fixture()
		agent := e.session(e.users["agent_assigned"])
		const secret = "internal: refund approved by finance"
		want(t, e.do("POST", "/api/conversations/"+fx.convA.ID+"/messages", agent, map[string]string{"content": secret, "kind": "note"}), 201, "note")
		// The seed endpoint writes text only: a note cannot be smuggled in.
		r := e.do("POST", "/api/messages/send", agent, map[string]string{"conversationId": fx.convA.ID, "senderType": "admin",
			"message": "visible answer", "timestamp": "2025-01-02T03:04:05Z"})
		want(t, r, 201, "seed send")
		want(t, e.do("POST", "/api/conversations/"+fx.convA.ID+"/messages", agent, map[string]string{"content": secret + " 2", "kind": "note"}), 201, "note after")
		for _, path := range []string{
			"/api/conversations/" + fx.convA.ID + "/messages",
			"/api/conversations/" + fx.convA.ID + "/messages?after=1",
			"/api/conversations/" + fx.convA.ID + "/messages?before=10&limit=5",
			"/api/conversations/" + fx.convA.ID,
			"/api/conversations",
			"/api/conversations?status=active",
		} {
			r := e.do("GET", path, fx.visA, nil)
			want(t, r, 200, "visitor GET "+path)
			if bytes.Contains(r.body, []byte("internal:")) || bytes.Contains(r.body, []byte(`"note"`)) {
				t.Errorf("GET %s gives the visitor a note: %s", path, r.body)
			}
		}
		var c struct {
			LastMessagePreview string `json:"lastMessagePreview"`
			LastSeq            int64  `json:"lastSeq"`
		}
		e.do("GET", "/api/conversations/"+fx.convA.ID, fx.visA, nil).json(t, &c)
		if c.LastMessagePreview != "visible answer" {
			t.Errorf("the visitor's preview is %q, want the last message they may see", c.LastMessagePreview)
		}
		// Agents see every note, through the same store.
		r = e.do("GET", "/api/conversations/"+fx.convA.ID+"/messages", agent, nil)
		if bytes.Count(r.body, []byte("internal:")) != 2 {
			t.Errorf("the agent does not see both notes: %s", r.body)
		}
		// An agent's unread count counts customer messages only.
		var inbox struct {
			Conversations []struct {
				ID     string
				Unread int
			}
		}
		e.do("GET", "/api/conversations?status=active&assignee=me", agent, nil).json(t, &inbox)
		for _, cv := range inbox.Conversations {
			if cv.ID == fx.convA.ID && cv.Unread != 1 {
				t.Errorf("unread %d, want the customer's one message", cv.Unread)
			}
		}
		// The desk itself, as every transport uses it.
		ms, err := e.desk.ListMessages(context.Background(), desk.Actor{Kind: desk.Visitor, Customer: fx.custA}, fx.convA.ID, desk.MessageQuery{})
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			if m.Kind == parley.KindNote {
				t.Errorf("desk.ListMessages gives a visitor note %d", m.Seq)
			}
		}
		if len(ms) != 2 {
			t.Errorf("the visitor gets %d messages, want the greeting and the answer", len(ms))
		}
	})
}
