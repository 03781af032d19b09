package httpapi_test

import (
	"context"

	"github.com/parleychat/parley"
)

// The matrix cases of the workflow routes (routes_workflow.go).
func init() {
	for k, b := range workflowBuilders {
		builders[k] = b
	}
}

// online makes a user available for chats.
func (e *env) online(key string) {
	e.t.Helper()
	u, err := e.store.UpdateUser(context.Background(), e.users[key].ID, parley.UserUpdate{Availability: ptr(parley.Online)})
	if err != nil {
		e.t.Fatal(err)
	}
	e.users[key] = u
}

// sop stores a document written by the team lead.
func (e *env) sop(title string) *parley.SOPDocument {
	e.t.Helper()
	d := &parley.SOPDocument{Title: title, Body: "# " + title, Tags: []string{"matrix"},
		CreatedBy: e.users["team_lead"].ID, UpdatedBy: e.users["team_lead"].ID}
	if err := e.store.CreateSOP(context.Background(), d); err != nil {
		e.t.Fatal(err)
	}
	return d
}

// quickReply stores a reply: owner "" is shared.
func (e *env) quickReply(owner string) *parley.QuickReply {
	e.t.Helper()
	q := &parley.QuickReply{OwnerID: owner, Shortcut: "qr-" + parley.NewID()[28:], Text: "Hello {{customer.name}}"}
	if err := e.store.CreateQuickReply(context.Background(), q); err != nil {
		e.t.Fatal(err)
	}
	return q
}

// quickReplyFor names, per matrix side, agent_assigned's own reply (own),
// a shared one (foreign) or none (missing).
func (e *env) quickReplyFor(fx *fixture, id ids) string {
	switch id.conv {
	case fx.convA.ID:
		return e.quickReply(e.users["agent_assigned"].ID).ID
	case fx.convB.ID:
		return e.quickReply("").ID
	}
	return parley.NewID()
}

func (e *env) closeConversation(id string) {
	e.t.Helper()
	if _, err := e.store.UpdateConversation(context.Background(), id, parley.ConversationUpdate{Status: ptr(parley.StatusClosed)}); err != nil {
		e.t.Fatal(err)
	}
}

var workflowBuilders = map[string]builder{
	"GET /api/conversations/{id}/transfers": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/conversations/"+id.conv+"/transfers", nil)
	}},
	"POST /api/conversations/{id}/rating": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		e.closeConversation(fx.convA.ID)
		e.closeConversation(fx.convB.ID)
		return jsonCall("/api/conversations/"+id.conv+"/rating", map[string]any{"score": 5, "comment": "Thanks!"})
	}},
	"GET /api/conversations/{id}/rating": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/conversations/"+id.conv+"/rating", nil)
	}},
	"GET /api/conversations/{id}/sops": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/conversations/"+id.conv+"/sops", nil)
	}},
	"PUT /api/conversations/{id}/sops/{sopId}": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/conversations/"+id.conv+"/sops/"+e.sop("Pin me").ID, nil)
	}},
	"DELETE /api/conversations/{id}/sops/{sopId}": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		d := e.sop("Unpin me")
		for _, c := range []string{fx.convA.ID, fx.convB.ID} {
			if err := e.store.PinSOP(context.Background(), c, d.ID, e.users["team_lead"].ID); err != nil {
				e.t.Fatal(err)
			}
		}
		return jsonCall("/api/conversations/"+id.conv+"/sops/"+d.ID, nil)
	}},
	"GET /api/quick-replies": {build: func(e *env, fx *fixture, a string, id ids) call { return jsonCall("/api/quick-replies", nil) }},
	"POST /api/quick-replies": {build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/quick-replies", map[string]any{"shortcut": "hi-" + parley.NewID()[28:], "text": "Hi {{customer.name}}!"})
	}},
	"PATCH /api/quick-replies/{id}": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/quick-replies/"+e.quickReplyFor(fx, id), map[string]string{"text": "Changed"})
	}},
	"DELETE /api/quick-replies/{id}": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/quick-replies/"+e.quickReplyFor(fx, id), nil)
	}},
	"POST /api/quick-replies/{id}/expand": {sided: true, build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/quick-replies/"+e.quickReply("").ID+"/expand", map[string]string{"conversationId": id.conv})
	}},
	"GET /api/sops": {build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/sops?q=refund&tag=billing", nil)
	}},
	"POST /api/sops": {build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/sops", map[string]any{"title": "Refunds", "body": "# Refunds", "tags": []string{"billing"}})
	}},
	"GET /api/sops/{id}": {build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/sops/"+e.sop("Read me").ID, nil)
	}},
	"PATCH /api/sops/{id}": {build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/sops/"+e.sop("Edit me").ID, map[string]any{"body": "New body", "expectVersion": 1})
	}},
	"DELETE /api/sops/{id}": {build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/sops/"+e.sop("Delete me").ID, nil)
	}},
	"GET /api/sops/{id}/versions": {build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/sops/"+e.sop("History").ID+"/versions", nil)
	}},
	"GET /api/reports/summary": {build: func(e *env, fx *fixture, a string, id ids) call {
		return jsonCall("/api/reports/summary?from=2025-01-01T00:00:00Z&to=2025-01-02T00:00:00Z", nil)
	}},
}
