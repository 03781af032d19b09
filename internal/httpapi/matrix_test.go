package httpapi_test

import (
	"bytes"
	"net/http"
	"strings"
	"testing"

	"github.com/parleychat/parley"
	"github.com/parleychat/parley/internal/httpapi"
)

// fixture is a fresh set of resources for one matrix case. The "own" side
// belongs to visitor A and is assigned to agent_assigned; the "foreign" side
// belongs to visitor B and is assigned to agent_c, who is no column.
type fixture struct {
	custA, custB *parley.Customer
	visA, visB   cred
	convA, convB *parley.Conversation
	tokA, tokC   *parley.APIToken
}

func (e *env) fixture() *fixture {
	fx := &fixture{}
	fx.custA, fx.visA = e.visitor()
	fx.custB, fx.visB = e.visitor()
	fx.convA = e.conversation(fx.custA, parley.StatusActive, e.users["agent_assigned"].ID)
	fx.convB = e.conversation(fx.custB, parley.StatusActive, e.users["agent_c"].ID)
	_, fx.tokA = e.apiToken(e.users["agent_assigned"])
	_, fx.tokC = e.apiToken(e.users["agent_c"])
	return fx
}

// credFor authenticates as one matrix column.
func (e *env) credFor(fx *fixture, actor string) cred {
	switch actor {
	case "anonymous":
		return cred{}
	case "visitor_a":
		return fx.visA
	case "visitor_b":
		return fx.visB
	}
	return e.session(e.users[actor])
}

const (
	own = iota
	foreign
	missing
)

// ids are the resources a request names.
type ids struct{ conv, customer, user, token, adminID string }

func (e *env) target(fx *fixture, actor string, side int) ids {
	switch side {
	case own:
		admin := e.users["agent_assigned"].ID
		if u, ok := e.users[actor]; ok {
			admin = u.ID
		}
		return ids{fx.convA.ID, fx.custA.ID, e.users["agent_assigned"].ID, fx.tokA.ID, admin}
	case foreign:
		return ids{fx.convB.ID, fx.custB.ID, e.users["agent_c"].ID, fx.tokC.ID, e.users["agent_c"].ID}
	}
	return ids{parley.NewID(), parley.NewID(), parley.NewID(), parley.NewID(), parley.NewID()}
}

// call is the request a matrix case makes.
type call struct {
	path        string
	body        any
	contentType string
}

// builder makes the request for a route; sided builders name a resource,
// so the case runs on both sides and the missing-id comparison applies.
type builder struct {
	sided bool
	build func(e *env, fx *fixture, actor string, id ids) call
}

func jsonCall(path string, body any) call {
	return call{path: path, body: body, contentType: "application/json"}
}

var builders = map[string]builder{
	"GET /healthz":          {build: func(e *env, fx *fixture, a string, id ids) call { return jsonCall("/healthz", nil) }},
	"GET /readyz":           {build: func(e *env, fx *fixture, a string, id ids) call { return jsonCall("/readyz", nil) }},
	"GET /api/openapi.json": {build: func(e *env, fx *fixture, a string, id ids) call { return jsonCall("/api/openapi.json", nil) }},
	"POST /api/auth/login": {build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/auth/login", map[string]string{"email": "agent_assigned@example.com", "password": password})
	}},
	"POST /api/auth/logout": {build: func(e *env, fx *fixture, a string, id ids) call { return jsonCall("/api/auth/logout", nil) }},
	"GET /api/auth/me":      {build: func(e *env, fx *fixture, a string, id ids) call { return jsonCall("/api/auth/me", nil) }},
	"PATCH /api/auth/me": {build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/auth/me", map[string]string{"availability": "away"})
	}},
	"POST /api/auth/password": {build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/auth/password", map[string]string{"currentPassword": password, "newPassword": password})
	}},
	"POST /api/visitors": {build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/visitors", map[string]string{"name": "New"})
	}},
	"POST /api/conversations": {build: func(e *env, fx *fixture, a string, id ids) call { return jsonCall("/api/conversations", nil) }},
	"GET /api/conversations": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/conversations?status=active&customer="+id.customer, nil)
	}},
	"GET /api/conversations/list": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/conversations/list?adminId="+id.adminID+"&limit=10", nil)
	}},
	"GET /api/conversations/{id}": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/conversations/"+id.conv, nil)
	}},
	"PATCH /api/conversations/{id}": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/conversations/"+id.conv, map[string]string{"status": "closed"})
	}},
	"DELETE /api/conversations/{id}": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/conversations/"+id.conv, nil)
	}},
	"POST /api/conversations/{id}/claim": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/conversations/"+id.conv+"/claim", nil)
	}},
	"POST /api/conversations/{id}/assign": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/conversations/"+id.conv+"/assign", map[string]string{"assigneeId": e.users["agent_unassigned"].ID})
	}},
	"POST /api/conversations/{id}/transfer": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		e.online("agent_unassigned") // a transfer goes to an agent who takes chats
		return jsonCall("/api/conversations/"+id.conv+"/transfer", map[string]string{"toAgentId": e.users["agent_unassigned"].ID, "reason": "shift ends"})
	}},
	"POST /api/conversations/{id}/read": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/conversations/"+id.conv+"/read", map[string]int{"seq": 1})
	}},
	"GET /api/conversations/{id}/messages": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/conversations/"+id.conv+"/messages?after=0", nil)
	}},
	"POST /api/conversations/{id}/messages": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/conversations/"+id.conv+"/messages", map[string]string{"content": "hi there"})
	}},
	"POST /api/messages/send": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		st := "admin"
		if strings.HasPrefix(a, "visitor") {
			st = "customer"
		}
		return jsonCall("/api/messages/send", map[string]string{"conversationId": id.conv, "senderType": st,
			"message": "hi there", "timestamp": "2025-01-02T03:04:05Z"})
	}},
	"POST /api/files/upload": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		body, ct := form{conv: id.conv, fileType: "image", name: "a.png", data: pngFile(e.t, 2, 2)}.encode(e.t)
		return call{path: "/api/files/upload", body: body, contentType: ct}
	}},
	"GET /api/files/{id}": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/files/"+e.fileIn(fx, id.conv), nil)
	}},
	"GET /api/files/{id}/thumbnail": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/files/"+e.fileIn(fx, id.conv)+"/thumbnail", nil)
	}},
	"GET /api/customers": {build: func(e *env, fx *fixture, a string, id ids) call { return jsonCall("/api/customers?limit=5", nil) }},
	"GET /api/customers/{id}": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/customers/"+id.customer, nil)
	}},
	"GET /api/users": {build: func(e *env, fx *fixture, a string, id ids) call { return jsonCall("/api/users", nil) }},
	"POST /api/users": {build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/users", map[string]any{"email": "new-" + parley.NewID()[28:] + "@example.com", "name": "New", "password": password, "role": "agent"})
	}},
	"GET /api/users/{id}": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call { return jsonCall("/api/users/"+id.user, nil) }},
	"PATCH /api/users/{id}": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/users/"+id.user, map[string]string{"name": "Renamed"})
	}},
	"GET /api/tokens": {build: func(e *env, fx *fixture, a string, id ids) call { return jsonCall("/api/tokens", nil) }},
	"POST /api/tokens": {build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/tokens", map[string]string{"name": "ci"})
	}},
	"DELETE /api/tokens/{id}": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/tokens/"+id.token, nil)
	}},

	"GET /api/widget/config": {build: func(e *env, fx *fixture, a string, id ids) call { return jsonCall("/api/widget/config", nil) }},
	"GET /api/settings":      {build: func(e *env, fx *fixture, a string, id ids) call { return jsonCall("/api/settings", nil) }},
	"PATCH /api/settings": {build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/settings", map[string]any{"widget": map[string]string{"title": "Talk to us"}})
	}},
	"GET /api/visitors/me": {build: func(e *env, fx *fixture, a string, id ids) call { return jsonCall("/api/visitors/me", nil) }},
	"PATCH /api/visitors/me": {build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/visitors/me", map[string]any{"name": "Ada", "context": map[string]string{"pageUrl": "https://shop.example.com/"}})
	}},
	"GET /api/search": {build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/search?q=hello&limit=5", nil)
	}},
	"GET /api/conversations/{id}/export": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/conversations/"+id.conv+"/export?format=json", nil)
	}},
	"GET /api/exports/conversations": {build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/exports/conversations?format=json&from=2020-01-01", nil)
	}},
}

// TestAuthorizationMatrix calls every route as every actor on the own and
// the foreign resource and checks the status the route table promises. A
// 404 must be byte-identical to the answer for an id that does not exist,
// and no denial may echo the resource's ids.
func TestAuthorizationMatrix(t *testing.T) {
	for _, rt := range httpapi.Routes() {
		if _, ok := builders[rt.Method+" "+rt.Pattern]; !ok {
			t.Errorf("route %s %s has no matrix case: add one to builders", rt.Method, rt.Pattern)
		}
	}
	if t.Failed() {
		return
	}
	eachStore(t, func(t *testing.T, open func(testing.TB) parley.Store) {
		e := newEnv(t, open, envOptions{})
		for _, rt := range httpapi.Routes() {
			b := builders[rt.Method+" "+rt.Pattern]
			for ai, actor := range httpapi.Actors {
				sides := []int{own}
				if b.sided {
					sides = []int{own, foreign}
				}
				for _, side := range sides {
					fx := e.fixture()
					c := e.credFor(fx, actor)
					id := e.target(fx, actor, side)
					call := b.build(e, fx, actor, id)
					r := e.doRaw(rt.Method, call.path, c, call.body, call.contentType)
					wantStatus := rt.Access[ai][side]
					name := rt.Method + " " + rt.Pattern + " as " + actor + " on " + [...]string{"own", "foreign"}[side]
					if r.status != wantStatus {
						t.Errorf("%s: status %d, want %d; body %s", name, r.status, wantStatus, r.body)
						continue
					}
					if r.status >= 400 && b.sided {
						for _, v := range []string{id.conv, id.customer, id.token} {
							if bytes.Contains(r.body, []byte(v)) {
								t.Errorf("%s: the denial names the resource: %s", name, r.body)
							}
						}
					}
					if r.status == http.StatusNotFound && b.sided {
						fx2 := e.fixture()
						c2 := e.credFor(fx2, actor)
						call2 := b.build(e, fx2, actor, e.target(fx2, actor, missing))
						r2 := e.doRaw(rt.Method, call2.path, c2, call2.body, call2.contentType)
						if r2.status != r.status || !bytes.Equal(r2.body, r.body) {
							t.Errorf("%s: the denial differs from a missing id's:\n  hidden:  %d %s\n  missing: %d %s", name, r.status, r.body, r2.status, r2.body)
						}
					}
				}
			}
		}
	})
}
