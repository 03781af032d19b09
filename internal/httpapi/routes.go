package httpapi

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/parleychat/parley/internal/desk"
)

type handler func(s *Server, w http.ResponseWriter, r *http.Request, a desk.Actor) error

// Route is one endpoint: its method and net/http pattern, its handler, and
// Access, its row of the authorization matrix (docs/roles.md), which the
// matrix test checks against a running server.
type Route struct {
	Method  string
	Pattern string
	Summary string
	// Public routes do not authenticate the caller at all.
	Public bool
	Access Access
	handle handler
}

// Actors are the columns of the authorization matrix: who calls.
var Actors = []string{
	"anonymous",        // no credentials
	"visitor_a",        // the visitor who owns the "own" resources
	"visitor_b",        // the visitor who owns the "foreign" resources
	"agent_assigned",   // an agent, assigned the own conversation
	"agent_unassigned", // an agent assigned nothing of either
	"senior_agent",
	"team_lead",
	"admin",
	"disabled", // a disabled admin whose session and token predate the disabling
}

// Access holds the expected status for each actor (in Actors order) on the
// "own" resource and on the "foreign" one. The own resources are visitor A's
// and assigned to agent_assigned (conversation, customer, user, token); the
// foreign ones are visitor B's and assigned to a third agent.
type Access [9][2]int

// row builds an Access from one cell per actor: "200" (same for own and
// foreign) or "200/404" (own/foreign).
func row(cells ...string) Access {
	if len(cells) != len(Actors) {
		panic(fmt.Sprintf("httpapi: matrix row with %d cells, want %d", len(cells), len(Actors)))
	}
	var a Access
	for i, c := range cells {
		own, foreign, ok := strings.Cut(c, "/")
		if !ok {
			foreign = own
		}
		var err1, err2 error
		a[i][0], err1 = strconv.Atoi(own)
		a[i][1], err2 = strconv.Atoi(foreign)
		if err1 != nil || err2 != nil {
			panic("httpapi: bad matrix cell " + c)
		}
	}
	return a
}

// Routes returns the route table.
func Routes() []Route {
	//                 anonymous visitor_a visitor_b  agent_assigned agent_unassigned senior  lead  admin disabled
	public := func(st string) Access { return row(st, st, st, st, st, st, st, st, st) }
	agentsOnly := func(st string) Access { return row("401", "403", "403", st, st, st, st, st, "401") }
	conversation := row("401", "200/404", "404/200", "200/404", "404", "200", "200", "200", "401")
	return append([]Route{
		{Method: "GET", Pattern: "/healthz", Summary: "Liveness (no database)", Public: true, Access: public("200"), handle: health},
		{Method: "GET", Pattern: "/readyz", Summary: "Readiness (database answers)", Public: true, Access: public("200"), handle: ready},
		{Method: "GET", Pattern: "/api/openapi.json", Summary: "This API's OpenAPI 3.1 description", Public: true, Access: public("200"), handle: openAPI},

		{Method: "POST", Pattern: "/api/auth/login", Summary: "Sign in; sets the session cookie", Public: true, Access: public("200"), handle: login},
		{Method: "POST", Pattern: "/api/auth/logout", Summary: "End the current session", Access: agentsOnly("204"), handle: logout},
		{Method: "GET", Pattern: "/api/auth/me", Summary: "The signed-in user", Access: agentsOnly("200"), handle: me},
		{Method: "PATCH", Pattern: "/api/auth/me", Summary: "Change own name or availability", Access: agentsOnly("200"), handle: updateMe},
		{Method: "POST", Pattern: "/api/auth/password", Summary: "Change own password", Access: agentsOnly("204"), handle: changePassword},

		{Method: "POST", Pattern: "/api/visitors", Summary: "Create a visitor identity for the widget", Public: true, Access: public("201"), handle: createVisitor},

		{Method: "POST", Pattern: "/api/conversations", Summary: "Start (or get) the visitor's open conversation",
			Access: row("401", "200", "200", "403", "403", "403", "403", "403", "401"), handle: startConversation},
		{Method: "GET", Pattern: "/api/conversations", Summary: "List conversations (a visitor may filter by their own customer id only)",
			Access: row("401", "200/404", "404/200", "200", "200", "200", "200", "200", "401"), handle: listConversations},
		{Method: "GET", Pattern: "/api/conversations/list", Summary: "The seed's inbox listing (adminId, status, limit)",
			Access: row("401", "403", "403", "200/403", "200/403", "200", "200", "200", "401"), handle: seedInbox},
		{Method: "GET", Pattern: "/api/conversations/{id}", Summary: "Get a conversation", Access: conversation, handle: getConversation},
		{Method: "PATCH", Pattern: "/api/conversations/{id}", Summary: "Close, reopen or requeue a conversation",
			Access: row("401", "403", "403", "200/404", "404", "200", "200", "200", "401"), handle: updateConversation},
		{Method: "DELETE", Pattern: "/api/conversations/{id}", Summary: "Delete a conversation",
			Access: row("401", "403", "403", "403", "403", "403", "403", "204", "401"), handle: deleteConversation},
		{Method: "POST", Pattern: "/api/conversations/{id}/claim", Summary: "Take a waiting conversation",
			Access: row("401", "403", "403", "200/404", "404", "409", "409", "409", "401"), handle: claimConversation},
		{Method: "POST", Pattern: "/api/conversations/{id}/assign", Summary: "Assign a conversation",
			Access: row("401", "403", "403", "403", "403", "403", "200", "200", "401"), handle: assignConversation},
		{Method: "POST", Pattern: "/api/conversations/{id}/transfer", Summary: "Transfer a conversation to another agent",
			Access: row("401", "403", "403", "200/404", "404", "200", "200", "200", "401"), handle: transferConversation},
		{Method: "POST", Pattern: "/api/conversations/{id}/read", Summary: "Mark read up to a seq", Access: conversation, handle: markRead},
		{Method: "GET", Pattern: "/api/conversations/{id}/messages", Summary: "Page through messages by seq", Access: conversation, handle: listMessages},
		{Method: "POST", Pattern: "/api/conversations/{id}/messages", Summary: "Send a message or note",
			Access: row("401", "201/404", "404/201", "201/404", "404", "403", "403", "403", "401"), handle: postMessage},
		{Method: "POST", Pattern: "/api/messages/send", Summary: "The seed's send endpoint",
			Access: row("401", "201/404", "404/201", "201/404", "404", "403", "403", "403", "401"), handle: seedSend},
		{Method: "POST", Pattern: "/api/files/upload", Summary: "Upload a file to a conversation (multipart; appends a file message)",
			Access: row("401", "201/404", "404/201", "201/404", "404", "403", "403", "403", "401"), handle: uploadFile},
		{Method: "GET", Pattern: "/api/files/{id}", Summary: "Download an attachment (Range supported)", Access: conversation, handle: downloadFile},
		{Method: "GET", Pattern: "/api/files/{id}/thumbnail", Summary: "An image attachment's thumbnail", Access: conversation, handle: downloadThumbnail},

		{Method: "GET", Pattern: "/api/customers", Summary: "List customers",
			Access: row("401", "403", "403", "403", "403", "200", "200", "200", "401"), handle: listCustomers},
		{Method: "GET", Pattern: "/api/customers/{id}", Summary: "Get a customer",
			Access: row("401", "200/404", "404/200", "200/404", "404", "200", "200", "200", "401"), handle: getCustomer},

		{Method: "GET", Pattern: "/api/users", Summary: "List agents", Access: agentsOnly("200"), handle: listUsers},
		{Method: "POST", Pattern: "/api/users", Summary: "Create an agent account",
			Access: row("401", "403", "403", "403", "403", "403", "403", "201", "401"), handle: createUser},
		{Method: "GET", Pattern: "/api/users/{id}", Summary: "Get an agent", Access: agentsOnly("200"), handle: getUser},
		{Method: "PATCH", Pattern: "/api/users/{id}", Summary: "Update an agent account (name, role, max chats, disabled, password)",
			Access: row("401", "403", "403", "403", "403", "403", "403", "200", "401"), handle: updateUser},

		{Method: "GET", Pattern: "/api/tokens", Summary: "List API tokens (own; all for admins)", Access: agentsOnly("200"), handle: listTokens},
		{Method: "POST", Pattern: "/api/tokens", Summary: "Create an API token (shown once)", Access: agentsOnly("201"), handle: createToken},
		{Method: "DELETE", Pattern: "/api/tokens/{id}", Summary: "Revoke an API token",
			Access: row("401", "403", "403", "204/404", "404", "404", "404", "204", "401"), handle: revokeToken},

		// Widget settings and the visitor's own profile.
		{Method: "GET", Pattern: "/api/widget/config", Summary: "The widget's look and whether someone can answer now",
			Public: true, Access: public("200"), handle: widgetConfig},
		{Method: "GET", Pattern: "/api/settings", Summary: "Widget settings, allowed origins, business hours, the snippet",
			Access: row("401", "403", "403", "403", "403", "403", "200", "200", "401"), handle: getSettings},
		{Method: "PATCH", Pattern: "/api/settings", Summary: "Change widget settings, allowed origins, business hours",
			Access: row("401", "403", "403", "403", "403", "403", "403", "200", "401"), handle: updateSettings},
		{Method: "GET", Pattern: "/api/visitors/me", Summary: "The calling visitor's profile",
			Access: row("401", "200", "200", "403", "403", "403", "403", "403", "401"), handle: getVisitorMe},
		{Method: "PATCH", Pattern: "/api/visitors/me", Summary: "Change the visitor's name, email or page context",
			Access: row("401", "200", "200", "403", "403", "403", "403", "403", "401"), handle: updateVisitorMe},
		{Method: "GET", Pattern: "/api/search", Summary: "Search messages, customers and conversation ids (ranked, with snippets)",
			Access: row("401", "403", "403", "200", "200", "200", "200", "200", "401"), handle: searchMessages},
		{Method: "GET", Pattern: "/api/conversations/{id}/export", Summary: "Download a conversation's transcript (pdf, csv or json)",
			Access: row("401", "200/404", "404/200", "403", "403", "403", "200", "200", "401"), handle: exportConversation},
		{Method: "GET", Pattern: "/api/exports/conversations", Summary: "Export the conversations of a date range (csv or json), streamed",
			Access: row("401", "403", "403", "403", "403", "403", "200", "200", "401"), handle: exportConversations},
	}, workflowRoutes(agentsOnly, conversation)...)
}
